//! What a response said when it was an error: [`ApiError`] (an error
//! status) and [`DecodeError`] (a success status with a body that does not
//! match the API), and the excerpts of bodies they show.

use std::fmt;
use std::time::Duration;

use crate::model::RateLimit;

/// What the server said when it answered with an error status.
///
/// DigitalOcean's error body is `{"id", "message", "request_id"}`; a gateway
/// may answer with HTML or nothing at all instead, in which case the status
/// is still here and [`ApiError::body_excerpt`] shows what came.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiError {
    pub(super) status: u16,
    pub(super) code: Option<String>,
    pub(super) message: Option<String>,
    pub(super) request_id: Option<String>,
    pub(super) body_excerpt: Option<String>,
    pub(super) rate_limit: Option<RateLimit>,
    pub(super) retry_after: Option<Duration>,
    pub(super) required_scope: Option<&'static str>,
    pub(super) token_source: Option<&'static str>,
}

impl ApiError {
    /// An error answer with this status and nothing else; add what the
    /// server said with the `with_*` methods. For tests of code that
    /// handles this crate's errors: `Error::from(api_error)`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use digitalocean_snapshots::{ApiError, Error};
    ///
    /// let error = Error::from(
    ///     ApiError::new(429)
    ///         .with_code("too_many_requests")
    ///         .with_message("API Rate limit exceeded.")
    ///         .with_retry_after(Duration::from_secs(1)),
    /// );
    /// assert!(error.is_rate_limited());
    /// assert_eq!(error.code(), Some("too_many_requests"));
    /// ```
    pub fn new(status: u16) -> Self {
        Self {
            status,
            code: None,
            message: None,
            request_id: None,
            body_excerpt: None,
            rate_limit: None,
            retry_after: None,
            required_scope: None,
            token_source: None,
        }
    }

    /// DigitalOcean's error id (the body's `id`).
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }

    /// The server's message (the body's `message`).
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// The request id (the body's `request_id` or `x-request-id`).
    pub fn with_request_id(mut self, request_id: impl Into<String>) -> Self {
        self.request_id = Some(request_id.into());
        self
    }

    /// The start of a body that was not DigitalOcean's JSON error; cut to
    /// a short printable excerpt.
    pub fn with_body_excerpt(mut self, body: impl AsRef<[u8]>) -> Self {
        self.body_excerpt = Some(excerpt(body.as_ref()));
        self
    }

    /// The rate-limit headers of the answer.
    pub fn with_rate_limit(mut self, rate_limit: RateLimit) -> Self {
        self.rate_limit = Some(rate_limit);
        self
    }

    /// The answer's `retry-after`.
    pub fn with_retry_after(mut self, wait: Duration) -> Self {
        self.retry_after = Some(wait);
        self
    }

    /// The scope the operation needs, reported with a 401 or a 403.
    pub(crate) fn with_required_scope(mut self, scope: &'static str) -> Self {
        if self.status == 401 || self.status == 403 {
            self.required_scope = Some(scope);
        }
        self
    }

    pub(crate) fn set_token_source(&mut self, source: &'static str) {
        if self.status == 401 {
            self.token_source = Some(source);
        }
    }

    /// The HTTP status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// DigitalOcean's error id (`unauthorized`, `not_found`,
    /// `too_many_requests`, `server_error`, ...), when the body had one.
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    /// The server's message, when the body had one.
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// The request id to quote to DigitalOcean's support, when given.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// The start of a body that was not DigitalOcean's JSON error (an HTML
    /// page from a gateway, for instance); `None` when the body was the
    /// usual JSON or empty.
    pub fn body_excerpt(&self) -> Option<&str> {
        self.body_excerpt.as_deref()
    }

    /// The rate-limit headers of the error response, when all were present.
    pub fn rate_limit(&self) -> Option<&RateLimit> {
        self.rate_limit.as_ref()
    }

    /// The `retry-after` header of the response, when present.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// The OAuth scope the operation needs (reported with a 401).
    pub fn required_scope(&self) -> Option<&'static str> {
        self.required_scope
    }
}

/// A success response whose body did not match the API description.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DecodeError {
    pub(super) status: u16,
    pub(super) path: String,
    pub(super) message: String,
    pub(super) body_excerpt: String,
}

impl DecodeError {
    /// A decode failure at `path` (e.g. `snapshots[3].size_gigabytes`) of
    /// a response with `status`, for tests: `Error::from(decode_error)`.
    /// The body is cut to a short printable excerpt.
    pub fn new(
        status: u16,
        path: impl Into<String>,
        message: impl Into<String>,
        body: impl AsRef<[u8]>,
    ) -> Self {
        Self {
            status,
            path: path.into(),
            message: message.into(),
            body_excerpt: excerpt(body.as_ref()),
        }
    }

    /// The HTTP status of the response.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The JSON path of the first value that failed, e.g.
    /// `snapshots[3].size_gigabytes`; `.` when the document itself was bad.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What was wrong there, as the JSON decoder put it.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The start of the body, for the log.
    pub fn body_excerpt(&self) -> &str {
        &self.body_excerpt
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}", self.status)?;
        if let Some(code) = &self.code {
            write!(f, " {}", Shown(code))?;
        }
        match (&self.message, &self.body_excerpt) {
            (Some(message), _) => write!(f, ": {}", Shown(message))?,
            (None, Some(body)) => write!(f, " with a non-JSON body: {body}")?,
            (None, None) => {
                if let Some(reason) = canonical_reason(self.status) {
                    write!(f, " {reason}")?;
                }
                f.write_str(" (empty body)")?;
            }
        }
        if self.status == 401 {
            f.write_str(" (the access token")?;
            if let Some(source) = self.token_source {
                write!(f, " from {source}")?;
            }
            f.write_str(" was rejected: check that it is current")?;
            if let Some(scope) = self.required_scope {
                write!(f, " and has the `{scope}` scope")?;
            }
            f.write_str(")")?;
        }
        if let Some(wait) = self.retry_after {
            write!(f, " (retry after {}s)", wait.as_secs())?;
        } else if self.status == 429
            && let Some(rate) = &self.rate_limit
        {
            write!(f, " (hourly budget refills at {})", rate.reset)?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " [request id {}]", Shown(id))?;
        }
        Ok(())
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot decode the HTTP {} response at `{}`: {}; body starts with: {}",
            self.status,
            Shown(&self.path),
            Shown(&self.message),
            self.body_excerpt
        )
    }
}

/// At most this many characters of a server's text are shown (in
/// `Display`, and so in logs); the accessors keep it whole.
const SHOWN_CHARS: usize = 300;

/// Server text as shown: one line (control characters, line breaks
/// included, become spaces, runs of them one), at most [`SHOWN_CHARS`]
/// characters, with a note of how much was cut.
pub(super) struct Shown<'a>(pub(super) &'a str);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut shown = 0;
        let mut space = false;
        let mut chars = self.0.trim().chars();
        for c in chars.by_ref() {
            if c.is_control() || c.is_whitespace() {
                space = true;
                continue;
            }
            if shown == SHOWN_CHARS {
                // Count what is left, this one included.
                let rest = 1 + chars.count();
                return write!(f, "… ({rest} more characters)");
            }
            if space && shown > 0 {
                f.write_str(" ")?;
                shown += 1;
            }
            space = false;
            write!(f, "{c}")?;
            shown += 1;
        }
        Ok(())
    }
}

/// At most this many characters of a body go into an error.
const EXCERPT_CHARS: usize = 200;

/// A short, printable start of a body for an error message.
pub(super) fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(EXCERPT_CHARS * 4)]);
    let mut out: String = text
        .chars()
        .take(EXCERPT_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().count() > EXCERPT_CHARS || body.len() > EXCERPT_CHARS * 4 {
        out.push('…');
    }
    out
}

/// The standard reason phrase of the statuses this API answers with.
pub(super) fn canonical_reason(status: u16) -> Option<&'static str> {
    Some(match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Payload Too Large",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_is_short_printable_and_cut_on_a_char_boundary() {
        let body = "é\n".repeat(500);
        let e = excerpt(body.as_bytes());
        assert_eq!(e.chars().count(), EXCERPT_CHARS + 1);
        assert!(e.ends_with('…'));
        assert!(!e.contains('\n'));
    }
}
