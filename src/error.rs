//! The crate's one error type.
//!
//! [`Error`] keeps its representation private and answers questions instead:
//! [`Error::kind`] for a `match`, predicates such as
//! [`Error::is_not_found`] or [`Error::is_rate_limited`] for the common
//! branches, and accessors for what DigitalOcean said ([`Error::code`],
//! [`Error::message`], [`Error::request_id`], [`Error::retry_after`]).
//! `Display` always carries the server's message.

use std::fmt;
use std::time::Duration;

use crate::model::RateLimit;

/// A `Result` whose error is this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The broad class of an [`Error`], for a `match`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A parameter was out of range or otherwise invalid; nothing was sent.
    InvalidInput,
    /// The client could not be built: missing or malformed token, bad base
    /// URL, unusable certificate.
    Config,
    /// The server answered with an error status (4xx, 5xx or an unexpected
    /// status); see [`Error::api`].
    Api,
    /// The server answered with a success status but a body that does not
    /// match the API description.
    Decode,
    /// The request or the response did not complete within the timeout.
    Timeout,
    /// No connection could be made to the server.
    Connect,
    /// Another transport failure: connection reset, TLS failure, a body cut
    /// short.
    Transport,
    /// A listing did not add up: the count of items seen disagrees with the
    /// server's `meta.total` (in strict mode), or the listing kept growing
    /// past the page ceiling.
    Inconsistent,
    /// The request was not sent: the hourly rate limit is spent and its
    /// reset is further away than the retry policy's maximum wait (see
    /// [`Error::retry_after`] and [`Error::rate_limit`]).
    RateLimited,
}

/// An error from this crate. `Send + Sync + 'static`, cheap to move (one
/// pointer), and never shows the access token.
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    repr: Repr,
    /// The operation that failed, e.g. `GET /v2/snapshots`.
    operation: Option<&'static str>,
    /// Where a walk over a listing stopped, when the error ended one.
    walk: Option<WalkPosition>,
    /// Attempts made (0 when nothing was sent).
    attempts: Option<u32>,
    /// Why retrying stopped early, when it did.
    note: Option<String>,
}

#[derive(Clone, Copy, Debug)]
struct WalkPosition {
    items_delivered: u64,
    resume_page: u64,
}

enum Repr {
    InvalidInput {
        field: &'static str,
        reason: String,
    },
    Config {
        reason: String,
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    Api(ApiError),
    Decode(DecodeError),
    Transport {
        kind: ErrorKind,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    Inconsistent {
        reason: String,
    },
    RateLimitSpent {
        rate: RateLimit,
        wait: Duration,
    },
    Deadline {
        elapsed: Duration,
    },
}

/// What the server said when it answered with an error status.
///
/// DigitalOcean's error body is `{"id", "message", "request_id"}`; a gateway
/// may answer with HTML or nothing at all instead, in which case the status
/// is still here and [`ApiError::body_excerpt`] shows what came.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiError {
    status: u16,
    code: Option<String>,
    message: Option<String>,
    request_id: Option<String>,
    body_excerpt: Option<String>,
    rate_limit: Option<RateLimit>,
    retry_after: Option<Duration>,
    required_scope: Option<&'static str>,
    token_source: Option<&'static str>,
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
    status: u16,
    path: String,
    message: String,
    body_excerpt: String,
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

impl Error {
    fn new(repr: Repr) -> Self {
        Self {
            inner: Box::new(Inner {
                repr,
                operation: None,
                walk: None,
                attempts: None,
                note: None,
            }),
        }
    }

    /// An [`ErrorKind::InvalidInput`] error: `field` was rejected before
    /// anything was sent, for `reason`.
    ///
    /// This and the constructors below exist so that code handling this
    /// crate's errors can be tested without a server; the crate itself
    /// builds the same values. [`ApiError::new`] and [`DecodeError::new`]
    /// (through `From`) cover [`ErrorKind::Api`] and [`ErrorKind::Decode`].
    ///
    /// ```
    /// use digitalocean_snapshots::{Error, ErrorKind};
    ///
    /// let error = Error::invalid_input("per_page", "0 is out of range");
    /// assert_eq!(error.kind(), ErrorKind::InvalidInput);
    /// assert_eq!(error.invalid_field(), Some("per_page"));
    /// assert!(Error::timeout("read timed out").is_timeout());
    /// ```
    pub fn invalid_input(field: &'static str, reason: impl Into<String>) -> Self {
        Self::new(Repr::InvalidInput {
            field,
            reason: reason.into(),
        })
    }

    /// An [`ErrorKind::Config`] error: the client could not be built.
    pub fn config(reason: impl Into<String>) -> Self {
        Self::new(Repr::Config {
            reason: reason.into(),
            source: None,
        })
    }

    pub(crate) fn config_with_source(
        reason: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::new(Repr::Config {
            reason: reason.into(),
            source: Some(Box::new(source)),
        })
    }

    /// An [`ErrorKind::Timeout`] error caused by `source`.
    pub fn timeout(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::io(ErrorKind::Timeout, source.into())
    }

    /// An [`ErrorKind::Connect`] error caused by `source`.
    pub fn connect(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::io(ErrorKind::Connect, source.into())
    }

    /// An [`ErrorKind::Transport`] error caused by `source` (a connection
    /// reset, a body cut short, a TLS failure).
    pub fn transport(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::io(ErrorKind::Transport, source.into())
    }

    fn io(kind: ErrorKind, source: Box<dyn std::error::Error + Send + Sync>) -> Self {
        Self::new(Repr::Transport { kind, source })
    }

    /// An [`ErrorKind::Inconsistent`] error: a listing did not add up.
    pub fn inconsistent(reason: impl Into<String>) -> Self {
        Self::new(Repr::Inconsistent {
            reason: reason.into(),
        })
    }

    /// An [`ErrorKind::RateLimited`] error: nothing was sent because the
    /// hourly budget `rate` is spent and refills in `wait`.
    pub fn rate_limited(rate: RateLimit, wait: Duration) -> Self {
        Self::new(Repr::RateLimitSpent { rate, wait })
    }

    /// An [`ErrorKind::Timeout`] error for which [`Error::is_deadline`]
    /// holds: the call's overall deadline passed after `elapsed`.
    pub fn deadline(elapsed: Duration) -> Self {
        Self::new(Repr::Deadline { elapsed })
    }

    pub(crate) fn with_attempts(mut self, attempts: u32) -> Self {
        self.inner.attempts = Some(attempts);
        self
    }

    pub(crate) fn with_note(mut self, note: impl Into<String>) -> Self {
        self.inner.note = Some(note.into());
        self
    }

    /// Records where the walk this error ended stood.
    pub(crate) fn with_walk_position(mut self, items_delivered: u64, resume_page: u64) -> Self {
        self.inner.walk = Some(WalkPosition {
            items_delivered,
            resume_page,
        });
        self
    }

    pub(crate) fn with_operation(mut self, operation: &'static str) -> Self {
        self.inner.operation = Some(operation);
        self
    }

    /// The broad class of the error.
    pub fn kind(&self) -> ErrorKind {
        match &self.inner.repr {
            Repr::InvalidInput { .. } => ErrorKind::InvalidInput,
            Repr::Config { .. } => ErrorKind::Config,
            Repr::Api(_) => ErrorKind::Api,
            Repr::Decode(_) => ErrorKind::Decode,
            Repr::Transport { kind, .. } => *kind,
            Repr::Inconsistent { .. } => ErrorKind::Inconsistent,
            Repr::RateLimitSpent { .. } => ErrorKind::RateLimited,
            Repr::Deadline { .. } => ErrorKind::Timeout,
        }
    }

    /// How many attempts the failed call made (retries included); `0` when
    /// nothing was sent, `None` for errors outside a call.
    pub fn attempts(&self) -> Option<u32> {
        self.inner.attempts
    }

    /// The call's overall deadline passed (a [`ErrorKind::Timeout`]).
    pub fn is_deadline(&self) -> bool {
        matches!(self.inner.repr, Repr::Deadline { .. })
    }

    /// For an error that ended a walk over a listing: how many items had
    /// been delivered before it.
    pub fn items_delivered(&self) -> Option<u64> {
        self.inner.walk.map(|w| w.items_delivered)
    }

    /// For an error that ended a walk over a listing: the page to start a
    /// new walk from (with `.page(n)`) to pick up where this one stopped.
    /// Every page before it was delivered whole.
    pub fn resume_page(&self) -> Option<u64> {
        self.inner.walk.map(|w| w.resume_page)
    }

    /// The operation that failed, e.g. `GET /v2/snapshots`; `None` for
    /// errors raised while building the client.
    pub fn operation(&self) -> Option<&'static str> {
        self.inner.operation
    }

    /// The server's error answer, when there was one.
    pub fn api(&self) -> Option<&ApiError> {
        match &self.inner.repr {
            Repr::Api(api) => Some(api),
            _ => None,
        }
    }

    /// The details of a body that failed to decode, when that is the error.
    pub fn decode_error(&self) -> Option<&DecodeError> {
        match &self.inner.repr {
            Repr::Decode(decode) => Some(decode),
            _ => None,
        }
    }

    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match &self.inner.repr {
            Repr::Api(api) => Some(api.status),
            Repr::Decode(decode) => Some(decode.status),
            _ => None,
        }
    }

    /// DigitalOcean's error id (`not_found`, `unauthorized`, ...).
    pub fn code(&self) -> Option<&str> {
        self.api().and_then(ApiError::code)
    }

    /// The server's error message.
    pub fn message(&self) -> Option<&str> {
        self.api().and_then(ApiError::message)
    }

    /// The request id of a failed request, to quote to DigitalOcean.
    pub fn request_id(&self) -> Option<&str> {
        self.api().and_then(ApiError::request_id)
    }

    /// How long the server asked to wait (`retry-after`), when it did; for
    /// [`ErrorKind::RateLimited`], the time until the budget refills.
    pub fn retry_after(&self) -> Option<Duration> {
        match &self.inner.repr {
            Repr::RateLimitSpent { wait, .. } => Some(*wait),
            _ => self.api().and_then(ApiError::retry_after),
        }
    }

    /// The rate-limit headers of the error response; for
    /// [`ErrorKind::RateLimited`], the state that stopped the request.
    pub fn rate_limit(&self) -> Option<&RateLimit> {
        match &self.inner.repr {
            Repr::RateLimitSpent { rate, .. } => Some(rate),
            _ => self.api().and_then(ApiError::rate_limit),
        }
    }

    /// The parameter that was rejected before sending, for
    /// [`ErrorKind::InvalidInput`].
    pub fn invalid_field(&self) -> Option<&'static str> {
        match &self.inner.repr {
            Repr::InvalidInput { field, .. } => Some(field),
            _ => None,
        }
    }

    /// A parameter was rejected before anything was sent.
    pub fn is_invalid_input(&self) -> bool {
        self.kind() == ErrorKind::InvalidInput
    }

    /// The client could not be built.
    pub fn is_config(&self) -> bool {
        self.kind() == ErrorKind::Config
    }

    /// The server answered 404 (for example: no droplet with that id).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// The server rejected the token (401).
    pub fn is_unauthorized(&self) -> bool {
        self.status() == Some(401)
    }

    /// The token lacks the permission (403).
    pub fn is_forbidden(&self) -> bool {
        self.status() == Some(403)
    }

    /// The rate limit was hit: the server answered 429, or the client did
    /// not send the request because the hourly budget is spent.
    pub fn is_rate_limited(&self) -> bool {
        self.status() == Some(429) || self.kind() == ErrorKind::RateLimited
    }

    /// The server failed (5xx).
    pub fn is_server_error(&self) -> bool {
        matches!(self.status(), Some(500..=599))
    }

    /// A success response had a body that does not match the API.
    pub fn is_decode(&self) -> bool {
        self.kind() == ErrorKind::Decode
    }

    /// The request timed out.
    pub fn is_timeout(&self) -> bool {
        self.kind() == ErrorKind::Timeout
    }

    /// No connection could be made.
    pub fn is_connect(&self) -> bool {
        self.kind() == ErrorKind::Connect
    }

    /// Any transport failure: timeout, connect or other.
    pub fn is_transport(&self) -> bool {
        matches!(
            self.kind(),
            ErrorKind::Timeout | ErrorKind::Connect | ErrorKind::Transport
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(operation) = self.inner.operation {
            write!(f, "{operation}: ")?;
        }
        match &self.inner.repr {
            Repr::InvalidInput { field, reason } => write!(f, "invalid `{field}`: {reason}")?,
            Repr::Config { reason, .. } => write!(f, "invalid client configuration: {reason}")?,
            Repr::Api(api) => fmt::Display::fmt(api, f)?,
            Repr::Decode(decode) => fmt::Display::fmt(decode, f)?,
            Repr::Transport { kind, source } => {
                let what = match kind {
                    ErrorKind::Timeout => "timed out",
                    ErrorKind::Connect => "could not connect",
                    _ => "transport error",
                };
                write!(f, "{what}: {source}")?;
                // reqwest's own message is terse; the root cause is the useful part.
                let mut cause = std::error::Error::source(source.as_ref());
                while let Some(inner) = cause {
                    write!(f, ": {inner}")?;
                    cause = inner.source();
                }
            }
            Repr::Inconsistent { reason } => write!(f, "the listing does not add up: {reason}")?,
            Repr::RateLimitSpent { rate, wait } => write!(
                f,
                "not sent: no requests left of the {} allowed per hour; the budget refills at {} (in {}s)",
                rate.limit,
                rate.reset,
                wait.as_secs()
            )?,
            Repr::Deadline { elapsed } => write!(
                f,
                "the call's deadline passed after {:.1}s",
                elapsed.as_secs_f64()
            )?,
        }
        if let Some(attempts) = self.inner.attempts.filter(|a| *a > 1) {
            write!(f, " (gave up after {attempts} attempts)")?;
        }
        if let Some(note) = &self.inner.note {
            write!(f, " ({note})")?;
        }
        if let Some(walk) = self.inner.walk {
            write!(
                f,
                " ({} items were delivered before this; resume from page {})",
                walk.items_delivered, walk.resume_page
            )?;
        }
        Ok(())
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}", self.status)?;
        if let Some(code) = &self.code {
            write!(f, " {code}")?;
        }
        match (&self.message, &self.body_excerpt) {
            (Some(message), _) => write!(f, ": {message}")?,
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
            write!(f, " [request id {id}]")?;
        }
        Ok(())
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot decode the HTTP {} response at `{}`: {}; body starts with: {}",
            self.status, self.path, self.message, self.body_excerpt
        )
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Error");
        s.field("kind", &self.kind());
        if let Some(operation) = self.inner.operation {
            s.field("operation", &operation);
        }
        match &self.inner.repr {
            Repr::InvalidInput { field, reason } => s.field("field", field).field("reason", reason),
            Repr::Config { reason, source } => s.field("reason", reason).field("source", source),
            Repr::Api(api) => s.field("api", api),
            Repr::Decode(decode) => s.field("decode", decode),
            Repr::Transport { source, .. } => s.field("source", source),
            Repr::Inconsistent { reason } => s.field("reason", reason),
            Repr::RateLimitSpent { rate, wait } => s.field("rate_limit", rate).field("wait", wait),
            Repr::Deadline { elapsed } => s.field("elapsed", elapsed),
        };
        if let Some(attempts) = self.inner.attempts {
            s.field("attempts", &attempts);
        }
        if let Some(note) = &self.inner.note {
            s.field("note", note);
        }
        if let Some(walk) = self.inner.walk {
            s.field("items_delivered", &walk.items_delivered)
                .field("resume_page", &walk.resume_page);
        }
        s.finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.inner.repr {
            Repr::Config {
                source: Some(source),
                ..
            } => Some(source.as_ref()),
            Repr::Transport { source, .. } => Some(source.as_ref()),
            _ => None,
        }
    }
}

/// At most this many characters of a body go into an error.
const EXCERPT_CHARS: usize = 200;

/// A short, printable start of a body for an error message.
pub(crate) fn excerpt(body: &[u8]) -> String {
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

impl From<ApiError> for Error {
    fn from(api: ApiError) -> Self {
        Self::new(Repr::Api(api))
    }
}

impl From<DecodeError> for Error {
    fn from(decode: DecodeError) -> Self {
        Self::new(Repr::Decode(decode))
    }
}

/// The standard reason phrase of the statuses this API answers with.
fn canonical_reason(status: u16) -> Option<&'static str> {
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

/// Removes every occurrence of `secret` from what an error will show, in
/// case a misbehaving server echoes the request's headers back.
pub(crate) fn scrub(error: &mut Error, secret: &str) {
    if secret.is_empty() {
        return;
    }
    let clean = |text: &mut String| {
        if text.contains(secret) {
            *text = text.replace(secret, "<redacted>");
        }
    };
    match &mut error.inner.repr {
        Repr::Api(api) => {
            for text in [
                &mut api.code,
                &mut api.message,
                &mut api.request_id,
                &mut api.body_excerpt,
            ]
            .into_iter()
            .flatten()
            {
                clean(text);
            }
        }
        Repr::Decode(decode) => {
            clean(&mut decode.body_excerpt);
            clean(&mut decode.message);
        }
        _ => {}
    }
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

    #[test]
    fn error_is_send_sync_static_and_small() {
        fn assert_traits<T: std::error::Error + Send + Sync + 'static>() {}
        assert_traits::<Error>();
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
    }
}
