//! The proxy a builder was told to use, and its check; a proxy's
//! password is never shown.

use std::fmt;

use crate::error::{Error, Result};
use crate::transport::{ProxySetting, proxy_shown};

/// The proxy a builder was told to use, checked by `build`.
#[derive(Clone)]
pub(super) enum ProxyChoice {
    Environment,
    Url(String),
    Off,
}

impl fmt::Debug for ProxyChoice {
    /// Never the proxy's password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Environment => f.write_str("from the environment"),
            Self::Off => f.write_str("none"),
            Self::Url(url) => match url::Url::parse(url) {
                Ok(url) => f.write_str(&proxy_shown(&url)),
                Err(_) => f.write_str("<a URL that does not parse>"),
            },
        }
    }
}

/// A proxy the transport can use: an absolute `http(s)` URL with a host.
/// The message never echoes the URL (it may hold a password).
pub(super) fn check_proxy(choice: &ProxyChoice) -> Result<ProxySetting> {
    let url = match choice {
        ProxyChoice::Environment => return Ok(ProxySetting::Environment),
        ProxyChoice::Off => return Ok(ProxySetting::Off),
        ProxyChoice::Url(url) => url,
    };
    let parsed = url::Url::parse(url.trim())
        .map_err(|e| Error::config(format!("the proxy URL does not parse: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(Error::config(format!(
            "the proxy {} is not an http(s) URL with a host",
            proxy_shown(&parsed)
        )));
    }
    Ok(ProxySetting::Url(parsed))
}
