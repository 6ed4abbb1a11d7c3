//! Reading bodies within limits: a success body by its size after
//! decompression and the wait between two pieces of it, an error body up
//! to a small size.

use std::time::Duration;

use reqwest::header;

use crate::clock::{self, Timer};
use crate::error::BodyLimit;

/// Limits on reading one success body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BodyLimits {
    /// The most bytes a body may have, after decompression.
    pub(crate) max_bytes: usize,
    /// The longest wait for the next piece of a body.
    pub(crate) idle: Duration,
}

/// Reads a success body within `limits`; returns a response holding the
/// body read (empty when a limit broke) and the limit broken, if any.
pub(super) async fn read_bounded(
    mut response: reqwest::Response,
    limits: BodyLimits,
    timer: &dyn Timer,
) -> reqwest::Result<(reqwest::Response, Option<BodyLimit>)> {
    let status = response.status();
    let version = response.version();
    let mut headers = response.headers().clone();
    // The body handed on is the decoded one, whole.
    headers.remove(header::CONTENT_LENGTH);
    headers.remove(header::CONTENT_ENCODING);
    let declared = response
        .content_length()
        .and_then(|n| usize::try_from(n).ok());
    let mut body = Vec::new();
    let mut broken = None;
    if declared.is_some_and(|n| n > limits.max_bytes) {
        broken = Some(BodyLimit::TooLarge {
            max: limits.max_bytes,
        });
    }
    while broken.is_none() {
        let next = match clock::deadline_after(timer.now(), limits.idle) {
            Some(deadline) => clock::before(timer, deadline, response.chunk()).await,
            // An idle limit beyond any instant: no limit.
            None => Some(response.chunk().await),
        };
        let Some(next) = next else {
            broken = Some(BodyLimit::Stalled {
                idle: limits.idle,
                read: body.len(),
            });
            break;
        };
        let Some(chunk) = next? else { break };
        if body.len() + chunk.len() > limits.max_bytes {
            broken = Some(BodyLimit::TooLarge {
                max: limits.max_bytes,
            });
            break;
        }
        body.extend_from_slice(&chunk);
    }
    if broken.is_some() {
        body = Vec::new();
    }
    let mut rebuilt = http::Response::new(body);
    *rebuilt.status_mut() = status;
    *rebuilt.version_mut() = version;
    *rebuilt.headers_mut() = headers;
    Ok((reqwest::Response::from(rebuilt), broken))
}

/// Reads an error body up to `limit` bytes; a body that breaks off still
/// leaves its start.
pub(super) async fn read_limited(mut response: reqwest::Response, limit: usize) -> Vec<u8> {
    let mut body = Vec::new();
    // A body that breaks off still leaves its status and start to report.
    while let Ok(Some(chunk)) = response.chunk().await {
        let take = chunk.len().min(limit - body.len());
        body.extend_from_slice(&chunk[..take]);
        if body.len() >= limit {
            break;
        }
    }
    body
}
