//! What an answer's headers and error body say: the rate limit, the
//! error's id, message and request id, and how long to wait.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::{self, HeaderMap};

use crate::clock;
use crate::error::ApiError;
use crate::model::RateLimit;

/// What a success answer's headers say that the walk and the client use.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct AnswerHeaders {
    /// The three `ratelimit-*` headers, when all are there.
    pub(crate) rate_limit: Option<RateLimit>,
    /// `Date`: the server's clock when it answered (second resolution),
    /// the clock `created_at` comes from.
    pub(crate) date: Option<DateTime<Utc>>,
}

impl AnswerHeaders {
    pub(super) fn of(headers: &HeaderMap) -> Self {
        Self {
            rate_limit: rate_limit(headers),
            date: http_date(headers.get(header::DATE)),
        }
    }
}

/// An HTTP-date (`Wed, 21 Oct 2026 07:28:00 GMT`), as `Date` and
/// `Retry-After` carry it.
fn http_date(value: Option<&reqwest::header::HeaderValue>) -> Option<DateTime<Utc>> {
    let value = value?.to_str().ok()?.trim();
    Some(
        DateTime::parse_from_rfc2822(value)
            .ok()?
            .with_timezone(&Utc),
    )
}

/// Reads the three `ratelimit-*` headers; `None` unless all three are
/// present and well-formed.
pub(super) fn rate_limit(headers: &HeaderMap) -> Option<RateLimit> {
    let number =
        |name: &str| -> Option<u64> { headers.get(name)?.to_str().ok()?.trim().parse().ok() };
    let reset = i64::try_from(number("ratelimit-reset")?).ok()?;
    Some(RateLimit::new(
        number("ratelimit-limit")?,
        number("ratelimit-remaining")?,
        chrono::DateTime::from_timestamp(reset, 0)?,
    ))
}

/// Builds an [`ApiError`] from an error response read whole (or up to
/// the limit): DigitalOcean's JSON body when there is one, else an
/// excerpt of what came.
pub(super) fn api_error(
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
    now: DateTime<Utc>,
) -> ApiError {
    #[derive(serde::Deserialize)]
    struct Body {
        id: Option<String>,
        message: Option<String>,
        request_id: Option<String>,
    }
    let mut api = ApiError::new(status);
    let parsed = serde_json::from_slice::<Body>(body)
        .ok()
        .filter(|b| b.id.is_some() || b.message.is_some());
    let mut request_id = None;
    match parsed {
        Some(b) => {
            if let Some(code) = b.id {
                api = api.with_code(code);
            }
            if let Some(message) = b.message {
                api = api.with_message(message);
            }
            request_id = b.request_id;
        }
        None if body.trim_ascii().is_empty() => {}
        None => api = api.with_body_excerpt(body.trim_ascii()),
    }
    let request_id = request_id.or_else(|| {
        headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    });
    if let Some(id) = request_id {
        api = api.with_request_id(id);
    }
    if let Some(rate) = rate_limit(headers) {
        api = api.with_rate_limit(rate);
    }
    if let Some(wait) = retry_after(headers, now) {
        api = api.with_retry_after(wait);
    }
    api
}

/// `retry-after` in either form RFC 9110 allows: seconds, or an
/// HTTP-date (a date already past is no wait).
fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let raw = headers.get(header::RETRY_AFTER)?;
    if let Ok(seconds) = raw.to_str().ok()?.trim().parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = http_date(Some(raw))?;
    Some(clock::until(now, date).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // tests stand in for a clock
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            if let Ok(value) = HeaderValue::from_str(value) {
                map.insert(*name, value);
            }
        }
        map
    }

    fn api_error_now(status: u16, headers: &HeaderMap, body: &[u8]) -> ApiError {
        api_error(status, headers, body, Utc::now())
    }

    #[test]
    fn retry_after_is_seconds_or_an_http_date() {
        let now = DateTime::parse_from_rfc2822("Wed, 21 Oct 2026 07:28:00 GMT")
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or_default();
        let wait = |value: &str| retry_after(&headers(&[("retry-after", value)]), now);
        assert_eq!(wait("120"), Some(Duration::from_secs(120)));
        assert_eq!(
            wait("Wed, 21 Oct 2026 07:28:30 GMT"),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            wait("Wed, 21 Oct 2026 07:00:00 GMT"),
            Some(Duration::ZERO),
            "past"
        );
        assert_eq!(wait("soon"), None);
    }

    #[test]
    fn rate_limit_needs_all_three_headers() {
        let all = headers(&[
            ("ratelimit-limit", "5000"),
            ("ratelimit-remaining", "4816"),
            ("ratelimit-reset", "1444931833"),
        ]);
        let rate = rate_limit(&all).expect("all three");
        assert_eq!((rate.limit, rate.remaining), (5000, 4816));
        assert_eq!(rate.reset.timestamp(), 1_444_931_833);
        let two = headers(&[("ratelimit-limit", "5000"), ("ratelimit-remaining", "1")]);
        assert_eq!(rate_limit(&two), None);
    }

    #[test]
    fn an_api_error_takes_the_json_body_else_an_excerpt() {
        let json = br#"{"id":"not_found","message":"gone","request_id":"r-1"}"#;
        let api = api_error_now(404, &headers(&[("retry-after", "3")]), json);
        assert_eq!(api.code(), Some("not_found"));
        assert_eq!(api.message(), Some("gone"));
        assert_eq!(api.request_id(), Some("r-1"));
        assert_eq!(api.retry_after(), Some(Duration::from_secs(3)));
        assert_eq!(api.body_excerpt(), None);

        let html = api_error_now(
            502,
            &headers(&[("x-request-id", "r-2")]),
            b"<html>bad</html>",
        );
        assert_eq!(html.body_excerpt(), Some("<html>bad</html>"));
        assert_eq!(html.request_id(), Some("r-2"));
        assert_eq!(
            api_error_now(503, &HeaderMap::new(), b"  ").body_excerpt(),
            None
        );
    }
}
