//! The crate's one error type.
//!
//! [`Error`] keeps its representation private and answers questions instead:
//! [`Error::kind`] for a `match`, predicates such as
//! [`Error::is_not_found`] or [`Error::is_rate_limited`] for the common
//! branches, and accessors for what DigitalOcean said ([`Error::code`],
//! [`Error::message`], [`Error::request_id`], [`Error::retry_after`]).
//! `Display` always carries the server's message.
//!
//! # What an error says
//!
//! `Error` is `Send + Sync + 'static`, one pointer wide, with
//! [`kind()`](Error::kind) and predicates ([`is_not_found()`](Error::is_not_found),
//! [`is_unauthorized()`](Error::is_unauthorized),
//! [`is_rate_limited()`](Error::is_rate_limited),
//! [`is_timeout()`](Error::is_timeout), [`is_connect()`](Error::is_connect),
//! [`is_decode()`](Error::is_decode), ...) and what the server said
//! ([`status()`](Error::status), [`code()`](Error::code),
//! [`message()`](Error::message), [`request_id()`](Error::request_id),
//! [`retry_after()`](Error::retry_after), [`rate_limit()`](Error::rate_limit)),
//! which operation failed and for which droplet
//! ([`operation()`](Error::operation), [`droplet_id()`](Error::droplet_id):
//! `Display` names the droplet's id in the path),
//! and [`is_retryable()`](Error::is_retryable): whether the failure is worth
//! retrying (after `retry_after()` when the server said), exactly what the
//! client's own retry loop retries ([the rules](crate::retry)). A 401 says
//! where the token came from and which scope the endpoint needs; an HTML or
//! empty body from a gateway is still an API error with its status; a body
//! that does not decode names the JSON path that failed
//! (`snapshots[3].size_gigabytes`).
//!
//! - Every error that ends a walk after items were delivered says how many
//!   and the page to resume from ([`items_delivered()`](Error::items_delivered),
//!   [`resume_page()`](Error::resume_page), and in its `Display`), whatever
//!   the cause: 401, 403, 404, a deadline, a body that does not decode, a
//!   transport failure, a limit. The report says the same in its own words,
//!   with the `--page` to run again with. An error that ends a walk because
//!   it did not add up ([`ErrorKind::Inconsistent`]) says what did not, and
//!   [`walk_summary()`](Error::walk_summary) how far the walk got (the
//!   [`walk`](crate::walk) module says when that happens).
//! - Server text (`message`, `id`, `request_id`, decode errors) is shown on
//!   one line of at most 300 characters, with a note of how much was cut, in
//!   `Display` and so in every log line; the accessors keep it whole.
//! - The token is never shown: a body or header that echoes it is redacted
//!   whole before any excerpt is cut (see
//!   [`ClientBuilder`](crate::ClientBuilder)).
//!
//! # Checks before sending
//!
//! `droplet_id >= 1`, `page >= 1`, `1 <= per_page <= 200`, a known
//! `resource_type`, `1 <= concurrency <= 64`: a violation is
//! [`ErrorKind::InvalidInput`] naming the field and the allowed range, and no
//! request is made.
//!
//! # Testing your error handling
//!
//! Every [`ErrorKind`] of `Error` can be built without a server, the way the
//! crate builds it:
//!
//! ```
//! use std::time::Duration;
//! use digitalocean_snapshots::{ApiError, DecodeError, Error, ErrorKind};
//!
//! let not_found = Error::from(ApiError::new(404).with_code("not_found").with_message("gone"));
//! assert!(not_found.is_not_found());
//! let throttled = Error::from(ApiError::new(429).with_retry_after(Duration::from_secs(3)));
//! assert_eq!(throttled.retry_after(), Some(Duration::from_secs(3)));
//! let bad_body = Error::from(DecodeError::new(200, "snapshots[3].size_gigabytes", "expected f64", "{...}"));
//! assert_eq!(bad_body.kind(), ErrorKind::Decode);
//! assert!(Error::timeout("read timed out").is_timeout());
//! assert!(Error::inconsistent("total moved").kind() == ErrorKind::Inconsistent);
//! ```
//!
//! To see the client meet the failures themselves, the fake server
//! `digitalocean-sandbox` injects them on demand (its `Faults`: latency,
//! 500/502/503 answers with JSON, HTML or empty bodies, truncated bodies,
//! periodic 429s, a revoked token, droplets deleted mid-listing, a listing
//! that changes between pages); the README's "Testing your code" shows one.

use std::time::Duration;

use crate::model::{RateLimit, WalkSummary};

mod constructors;
mod format;
mod response;

pub use response::{ApiError, DecodeError};

/// Server text as an error shows it: one line, at most 300 characters,
/// with a note of how much was cut.
pub(crate) fn shown(text: &str) -> String {
    response::Shown(text).to_string()
}

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
    /// A listing did not add up: it kept changing while it was read and
    /// no count between two looks was met, the server's pages contradicted its own
    /// `meta.total`, it repeated itself, or the walk reached its ceiling
    /// of requests. [`Error::walk_summary`] says how far it got.
    Inconsistent,
    /// A success response's body was larger than the client's limit
    /// ([`ClientBuilder::max_response_bytes`](crate::ClientBuilder::max_response_bytes));
    /// the rest was not read, and the request is not retried.
    ResponseTooLarge,
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
    /// The droplet whose listing failed, when it was one.
    droplet_id: Option<u64>,
    /// Where a walk over a listing stopped, when the error ended one.
    walk: Option<WalkPosition>,
    /// How the walk this error ended had gone.
    summary: Option<WalkSummary>,
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
    /// A success body broke a read limit: its size, or the wait between
    /// two pieces of it.
    BodyLimit(BodyLimit),
}

/// Which read limit a success body broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BodyLimit {
    /// More than `max` bytes (after decompression); `read` were read.
    TooLarge { max: usize },
    /// No byte for `idle` after `read` bytes.
    Stalled { idle: Duration, read: usize },
}

impl Error {
    fn new(repr: Repr) -> Self {
        Self {
            inner: Box::new(Inner {
                repr,
                operation: None,
                droplet_id: None,
                walk: None,
                summary: None,
                attempts: None,
                note: None,
            }),
        }
    }

    /// OpenTelemetry's `error.type`: the status code of an error answer,
    /// else the kind in snake case (low cardinality, no server text).
    pub(crate) fn otel_type(&self) -> std::borrow::Cow<'static, str> {
        if let Some(status) = self.status() {
            return status.to_string().into();
        }
        match self.kind() {
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::Config => "config",
            ErrorKind::Api => "api",
            ErrorKind::Decode => "decode",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Connect => "connect",
            ErrorKind::Transport => "transport",
            ErrorKind::Inconsistent => "inconsistent",
            ErrorKind::ResponseTooLarge => "response_too_large",
            ErrorKind::RateLimited => "rate_limited",
        }
        .into()
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

    /// Records how the walk this error ended had gone.
    pub(crate) fn with_walk_summary(mut self, summary: WalkSummary) -> Self {
        self.inner.summary = Some(summary);
        self
    }

    pub(crate) fn with_operation(mut self, operation: &'static str) -> Self {
        self.inner.operation = Some(operation);
        self
    }

    /// Records the droplet whose listing failed.
    pub(crate) fn with_droplet_id(mut self, droplet_id: u64) -> Self {
        self.inner.droplet_id = Some(droplet_id);
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
            Repr::BodyLimit(BodyLimit::TooLarge { .. }) => ErrorKind::ResponseTooLarge,
            Repr::BodyLimit(BodyLimit::Stalled { .. }) => ErrorKind::Timeout,
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

    /// A success body broke a read limit: larger than
    /// [`max_response_bytes`](crate::ClientBuilder::max_response_bytes)
    /// ([`ErrorKind::ResponseTooLarge`]), or silent for longer than
    /// [`read_idle_timeout`](crate::ClientBuilder::read_idle_timeout) (an
    /// [`ErrorKind::Timeout`]). Never retried: the same server would
    /// likely do it again.
    pub fn is_body_limit(&self) -> bool {
        matches!(self.inner.repr, Repr::BodyLimit(_))
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

    /// For an error that ended a walk over a listing: how the walk had
    /// gone, e.g. for an [`ErrorKind::Inconsistent`] listing how many
    /// passes it made and what it recovered.
    pub fn walk_summary(&self) -> Option<&WalkSummary> {
        self.inner.summary.as_ref()
    }

    /// The operation that failed, e.g. `GET /v2/snapshots`; `None` for
    /// errors raised while building the client.
    pub fn operation(&self) -> Option<&'static str> {
        self.inner.operation
    }

    /// The droplet whose listing failed (`GET
    /// /v2/droplets/{droplet_id}/snapshots`), once its id was checked;
    /// `Display` names it in the path.
    pub fn droplet_id(&self) -> Option<u64> {
        self.inner.droplet_id
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

    /// Whether the failure is worth retrying, after
    /// [`retry_after`](Self::retry_after) when the server (or the spent
    /// hourly budget) says how long: a 429; a 500, 502, 503 or 504; a
    /// timeout, a refused connection or a body cut short; the client's own
    /// [`ErrorKind::RateLimited`]. Not: bad input or configuration, 401,
    /// 403, 404 and other 4xx, a body that does not decode or is over the
    /// size limit, the call's deadline, a listing that did not add up (a
    /// new walk may, the same request will not).
    ///
    /// The client's retry loop retries exactly these (but
    /// [`ErrorKind::RateLimited`], which it raises instead of waiting
    /// longer than its policy allows); an error it returns with
    /// `is_retryable()` true is one it gave up on: its policy's attempts,
    /// maximum wait, budget or deadline ran out
    /// ([`attempts`](Self::attempts) says how many it made).
    pub fn is_retryable(&self) -> bool {
        match self.kind() {
            ErrorKind::Api => matches!(self.status(), Some(429 | 500 | 502 | 503 | 504)),
            ErrorKind::Timeout | ErrorKind::Connect | ErrorKind::Transport => {
                !self.is_deadline() && !self.is_body_limit()
            }
            ErrorKind::RateLimited => true,
            _ => false,
        }
    }

    /// Any transport failure: timeout, connect or other.
    pub fn is_transport(&self) -> bool {
        matches!(
            self.kind(),
            ErrorKind::Timeout | ErrorKind::Connect | ErrorKind::Transport
        )
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

/// Removes every piece of `secret` (8 characters or more) from what an
/// error will show, in case a misbehaving server echoes the request's
/// headers back (see `redact.rs`).
pub(crate) fn scrub(error: &mut Error, secret: &str) {
    let clean = |text: &mut String| {
        if let Some(redacted) = crate::redact::redact_text(text, secret) {
            *text = redacted;
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
            clean(&mut decode.path);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_send_sync_static_and_small() {
        fn assert_traits<T: std::error::Error + Send + Sync + 'static>() {}
        assert_traits::<Error>();
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
    }
}
