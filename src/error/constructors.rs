//! Building [`Error`] values: the constructors the crate uses, public so
//! that code handling this crate's errors can be tested without a server.

use std::time::Duration;

use super::{BodyLimit, Error, ErrorKind, Repr};
use crate::model::RateLimit;

impl Error {
    /// An [`ErrorKind::InvalidInput`] error: `field` was rejected before
    /// anything was sent, for `reason`.
    ///
    /// This and the constructors below exist so that code handling this
    /// crate's errors can be tested without a server; the crate itself
    /// builds the same values. [`ApiError::new`](crate::ApiError::new) and [`DecodeError::new`](crate::DecodeError::new)
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

    /// An error for a success body that broke a read limit (see
    /// [`Error::is_body_limit`]).
    pub(crate) fn body_limit(limit: BodyLimit) -> Self {
        Self::new(Repr::BodyLimit(limit))
    }
}
