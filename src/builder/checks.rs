//! The checks `build` makes before anything is sent: the token's shape,
//! the base URL, the pace.

use std::time::Duration;

use super::Token;
use crate::error::{Error, Result};

/// The longest pacing window: a day. A longer one would let a client send
/// its `requests` and then wait for longer than any program runs.
const MAX_PACE_WINDOW: Duration = Duration::from_secs(24 * 60 * 60);

/// A pace the pacer can keep: a window of at most a day (unless pacing is
/// off), never zero.
pub(super) fn check_pace((requests, per): (u32, Duration)) -> Result<()> {
    if requests > 0 && (per.is_zero() || per > MAX_PACE_WINDOW) {
        return Err(Error::config(format!(
            "pace({requests}, {per:?}): the window must be more than 0 and at most a day; pace(0, ..) turns pacing off"
        )));
    }
    Ok(())
}

/// The token's own shape; the transport makes the header of it.
pub(super) fn check_token(token: &Token) -> Result<()> {
    let origin = token.origin;
    let secret = &token.secret;
    if secret.is_empty() {
        return Err(Error::config(format!(
            "the access token from {origin} is empty"
        )));
    }
    if let Some(position) = secret.chars().position(char::is_whitespace) {
        return Err(Error::config(format!(
            "the access token from {origin} contains whitespace at character {} (a stray newline or space?)",
            position + 1
        )));
    }
    if let Some(position) = secret.chars().position(|c| !c.is_ascii_graphic()) {
        return Err(Error::config(format!(
            "the access token from {origin} contains a character that cannot be sent in a header at character {}",
            position + 1
        )));
    }
    Ok(())
}

pub(super) fn check_base_url(raw: &str, allow_insecure_http: bool) -> Result<String> {
    let url = url::Url::parse(raw.trim())
        .map_err(|e| Error::config(format!("the base URL `{raw}` is not a URL: {e}")))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(Error::config(format!(
            "the base URL `{raw}` must use https (or http to a local server)"
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::config(
            "the base URL must not carry credentials: the token is the only credential",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::config(format!(
            "the base URL `{raw}` must not have a query or fragment"
        )));
    }
    let Some(host) = url.host() else {
        return Err(Error::config(format!("the base URL `{raw}` has no host")));
    };
    let loopback = match host {
        url::Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    };
    if url.scheme() == "http" && !loopback && !allow_insecure_http {
        return Err(Error::config(format!(
            "refusing to send the access token over plain http to `{}`: use https, or allow it with ClientBuilder::allow_insecure_http(true)",
            url.host_str().unwrap_or_default()
        )));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}
