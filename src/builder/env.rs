//! DigitalOcean's own environment conventions for retries and pacing, as
//! doctl and the Terraform provider read them, so people who set them for
//! those tools get the same behaviour here.
//!
//! | variable | meaning | here |
//! |---|---|---|
//! | `DIGITALOCEAN_HTTP_RETRY_MAX` | retries after the first attempt; 0 turns them off | `RetryPolicy::max_attempts(n + 1)` |
//! | `DIGITALOCEAN_HTTP_RETRY_WAIT_MIN` | seconds, the shortest wait between retries | the backoff's base |
//! | `DIGITALOCEAN_HTTP_RETRY_WAIT_MAX` | seconds, the longest | the backoff's cap |
//! | `DIGITALOCEAN_REQUESTS_PER_SECOND` | a client-side rate; 0 turns it off | `ClientBuilder::pace` |
//!
//! Empty variables count as unset. A value that does not parse, or a
//! minimum above the maximum, is a `Config` error from `build()` naming
//! the variable. A setter called after `from_env` wins over a variable.

use std::time::Duration;

/// Retries after the first attempt.
pub(super) const RETRY_MAX: &str = "DIGITALOCEAN_HTTP_RETRY_MAX";
/// Seconds: the backoff's base.
pub(super) const RETRY_WAIT_MIN: &str = "DIGITALOCEAN_HTTP_RETRY_WAIT_MIN";
/// Seconds: the backoff's cap.
pub(super) const RETRY_WAIT_MAX: &str = "DIGITALOCEAN_HTTP_RETRY_WAIT_MAX";
/// A client-side rate, requests per second.
pub(super) const REQUESTS_PER_SECOND: &str = "DIGITALOCEAN_REQUESTS_PER_SECOND";

/// What the variables set; `None` where a variable is unset.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Conventions {
    pub(super) attempts: Option<u32>,
    pub(super) wait_min: Option<Duration>,
    pub(super) wait_max: Option<Duration>,
    /// `(requests, per)`, or `(0, ZERO)` for pacing off.
    pub(super) pace: Option<(u32, Duration)>,
}

/// Reads the four variables through `lookup`.
pub(super) fn read(lookup: &impl Fn(&str) -> Option<String>) -> Result<Conventions, String> {
    let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
    let mut conventions = Conventions::default();
    if let Some(value) = get(RETRY_MAX) {
        let retries: u32 = value.trim().parse().map_err(|_| {
            format!("{RETRY_MAX}={value:?}: expected a whole number of retries (0 turns them off)")
        })?;
        conventions.attempts = Some(retries.saturating_add(1));
    }
    conventions.wait_min = get(RETRY_WAIT_MIN)
        .map(|v| seconds(RETRY_WAIT_MIN, &v))
        .transpose()?;
    conventions.wait_max = get(RETRY_WAIT_MAX)
        .map(|v| seconds(RETRY_WAIT_MAX, &v))
        .transpose()?;
    if let (Some(min), Some(max)) = (conventions.wait_min, conventions.wait_max)
        && min > max
    {
        return Err(format!(
            "{RETRY_WAIT_MIN} ({}s) is above {RETRY_WAIT_MAX} ({}s)",
            min.as_secs_f64(),
            max.as_secs_f64()
        ));
    }
    if let Some(value) = get(REQUESTS_PER_SECOND) {
        let rate: f64 = value
            .trim()
            .parse()
            .ok()
            .filter(|r: &f64| r.is_finite() && *r >= 0.0)
            .ok_or_else(|| {
                format!("{REQUESTS_PER_SECOND}={value:?}: expected a number of requests a second, 0 or more (0 turns pacing off)")
            })?;
        conventions.pace = Some(pace(rate).ok_or_else(|| {
            format!("{REQUESTS_PER_SECOND}={value:?}: too slow a rate (under one request a day)")
        })?);
    }
    Ok(conventions)
}

/// A number of seconds, whole or not, 0 or more.
fn seconds(name: &str, value: &str) -> Result<Duration, String> {
    value
        .trim()
        .parse::<f64>()
        .ok()
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| format!("{name}={value:?}: expected a number of seconds, 0 or more"))
}

/// A rate in requests a second as a pace: 0 is off; a whole rate is that
/// many a second; below one, one request every `1 / rate` seconds;
/// otherwise ten seconds' worth, rounded.
fn pace(rate: f64) -> Option<(u32, Duration)> {
    if rate == 0.0 {
        return Some((0, Duration::ZERO));
    }
    if rate.fract() == 0.0 && rate <= f64::from(u32::MAX) {
        // Whole and in range: the cast is exact.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        return Some((rate as u32, Duration::from_secs(1)));
    }
    if rate < 1.0 {
        let per = Duration::try_from_secs_f64(1.0 / rate).ok()?;
        return (per <= Duration::from_secs(86_400)).then_some((1, per));
    }
    let per_ten = (rate * 10.0).round().min(f64::from(u32::MAX));
    // Rounded and clamped to u32 above.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Some((per_ten as u32, Duration::from_secs(10)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_from(pairs: &[(&str, &str)]) -> Result<Conventions, String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        read(&move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn the_four_variables_set_retries_backoff_and_pace() {
        let c = read_from(&[
            (RETRY_MAX, "2"),
            (RETRY_WAIT_MIN, "1"),
            (RETRY_WAIT_MAX, "30"),
            (REQUESTS_PER_SECOND, "4"),
        ])
        .unwrap();
        assert_eq!(c.attempts, Some(3));
        assert_eq!(c.wait_min, Some(Duration::from_secs(1)));
        assert_eq!(c.wait_max, Some(Duration::from_secs(30)));
        assert_eq!(c.pace, Some((4, Duration::from_secs(1))));
        assert_eq!(read_from(&[]).unwrap(), Conventions::default());
        assert_eq!(
            read_from(&[(RETRY_MAX, " ")]).unwrap(),
            Conventions::default()
        );
    }

    #[test]
    fn rates_and_retries_at_their_edges() {
        assert_eq!(read_from(&[(RETRY_MAX, "0")]).unwrap().attempts, Some(1));
        assert_eq!(
            read_from(&[(RETRY_MAX, "4294967295")]).unwrap().attempts,
            Some(u32::MAX)
        );
        assert_eq!(pace(0.0), Some((0, Duration::ZERO)));
        assert_eq!(pace(0.5), Some((1, Duration::from_secs(2))));
        assert_eq!(pace(2.5), Some((25, Duration::from_secs(10))));
        assert_eq!(pace(1e-9), None);
        assert_eq!(pace(1e300).map(|p| p.0), Some(u32::MAX));
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        for (name, value) in [
            (RETRY_MAX, "-1"),
            (RETRY_MAX, "three"),
            (RETRY_WAIT_MIN, "-0.5"),
            (RETRY_WAIT_MAX, "NaN"),
            (REQUESTS_PER_SECOND, "inf"),
            (REQUESTS_PER_SECOND, "-2"),
        ] {
            let error = read_from(&[(name, value)]).unwrap_err();
            assert!(error.contains(name), "{error}");
        }
        let error = read_from(&[(RETRY_WAIT_MIN, "10"), (RETRY_WAIT_MAX, "1")]).unwrap_err();
        assert!(
            error.contains(RETRY_WAIT_MIN) && error.contains(RETRY_WAIT_MAX),
            "{error}"
        );
    }
}
