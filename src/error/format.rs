//! How an [`Error`] shows: `Display` (the server's message, the limit
//! broken, where a walk stopped) and a `Debug` that never shows the token.

use std::fmt;

use super::{BodyLimit, Error, ErrorKind, Repr};

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.inner.operation, self.inner.droplet_id) {
            (Some(operation), Some(id)) if operation.contains("{droplet_id}") => {
                write!(
                    f,
                    "{}: ",
                    operation.replace("{droplet_id}", &id.to_string())
                )?;
            }
            (Some(operation), _) => write!(f, "{operation}: ")?,
            (None, _) => {}
        }
        match &self.inner.repr {
            Repr::InvalidInput { field, reason } => write!(f, "invalid `{field}`: {reason}")?,
            Repr::Config { reason, .. } => write!(f, "invalid client configuration: {reason}")?,
            Repr::Api(api) => fmt::Display::fmt(api, f)?,
            Repr::Decode(decode) => fmt::Display::fmt(decode, f)?,
            Repr::Transport { kind, source } => transport(f, *kind, source.as_ref())?,
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
            Repr::BodyLimit(BodyLimit::TooLarge { max }) => write!(
                f,
                "the response body is larger than the client's limit of {max} bytes (max_response_bytes); the rest was not read"
            )?,
            Repr::BodyLimit(BodyLimit::Stalled { idle, read }) => write!(
                f,
                "the response body stalled: no byte for {:.1}s after {read} bytes (read_idle_timeout)",
                idle.as_secs_f64()
            )?,
        }
        if let Some(attempts) = self.inner.attempts.filter(|a| *a > 1) {
            write!(f, " (gave up after {attempts} attempts)")?;
        }
        if let Some(note) = &self.inner.note {
            write!(f, " ({note})")?;
        }
        match self.inner.walk {
            // Nothing was read: there is nothing to resume from.
            Some(walk) if walk.items_delivered == 0 => {
                write!(f, " (no item was delivered before this)")?;
            }
            Some(walk) => write!(
                f,
                " ({} items were delivered before this; resume from page {})",
                walk.items_delivered, walk.resume_page
            )?,
            None => {}
        }
        Ok(())
    }
}

/// A transport failure and its causes: reqwest's own message is terse,
/// the root cause is the useful part.
fn transport(
    f: &mut fmt::Formatter<'_>,
    kind: ErrorKind,
    source: &(dyn std::error::Error + Send + Sync),
) -> fmt::Result {
    let what = match kind {
        ErrorKind::Timeout => "timed out",
        ErrorKind::Connect => "could not connect",
        _ => "transport error",
    };
    write!(f, "{what}: {source}")?;
    let mut cause = source.source();
    while let Some(inner) = cause {
        write!(f, ": {inner}")?;
        cause = inner.source();
    }
    Ok(())
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Error");
        s.field("kind", &self.kind());
        if let Some(operation) = self.inner.operation {
            s.field("operation", &operation);
        }
        if let Some(droplet_id) = self.inner.droplet_id {
            s.field("droplet_id", &droplet_id);
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
            Repr::BodyLimit(limit) => s.field("limit", limit),
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
