//! [`Client`]: the handle users keep. It owns the transport, the retry
//! policy and budget, the shared rate-limit state and the clock, and runs
//! every call through the retry loop.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing::Instrument;

use crate::clock::Timer;
use crate::error::Result;
use crate::model::RateLimit;
use crate::rate::{Gate, Pacer, RateState};
use crate::retry::{RetryBudget, RetryContext, RetryPolicy};
use crate::transport::{Operation, PageAnswer, Transport};

/// A client for the DigitalOcean snapshot listings.
///
/// Cheap to clone (one reference count), `Send + Sync`; clones share the
/// connection pool, the retry budget and the rate-limit state. Build one
/// with [`Client::builder`] or [`Client::from_env`] and keep it.
///
/// ```no_run
/// # async fn run() -> digitalocean_snapshots::Result<()> {
/// use digitalocean_snapshots::Client;
///
/// let client = Client::from_env()?;
/// let page = client.list_snapshots().per_page(50).send().await?;
/// println!("{} of {} snapshots", page.items.len(), page.total);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    transport: Transport,
    token_origin: &'static str,
    base_url: String,
    user_agent: String,
    policy: RetryPolicy,
    budget: RetryBudget,
    rate: Arc<RateState>,
    pacer: Pacer,
    /// Requests in flight at once, learned from refusals.
    gate: Gate,
    timer: Arc<dyn Timer>,
}

/// What [`ClientBuilder::build`](crate::ClientBuilder::build) hands over,
/// every value checked.
pub(crate) struct ClientParts {
    pub(crate) transport: Transport,
    pub(crate) token_origin: &'static str,
    pub(crate) base_url: String,
    pub(crate) user_agent: String,
    pub(crate) policy: RetryPolicy,
    pub(crate) budget: u32,
    pub(crate) rate: Arc<RateState>,
    pub(crate) pace: (u32, Duration),
    pub(crate) timer: Arc<dyn Timer>,
}

/// Per-call settings that override the client's.
#[derive(Clone, Debug, Default)]
pub(crate) struct CallOptions {
    pub(crate) policy: Option<RetryPolicy>,
    /// The deadline of the walk this call belongs to.
    pub(crate) deadline: Option<Instant>,
}

/// Shows the token's origin only.
struct Redacted(&'static str);

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<redacted, from {}>", self.0)
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base_url)
            .field("user_agent", &self.inner.user_agent)
            .field("token", &Redacted(self.inner.token_origin))
            .field("retry_policy", &self.inner.policy)
            .field("retry_budget", &self.inner.budget.remaining())
            .field("rate_limit", &self.inner.rate.get())
            .finish()
    }
}

impl Client {
    pub(crate) fn from_parts(parts: ClientParts) -> Self {
        Self {
            inner: Arc::new(Inner {
                transport: parts.transport,
                token_origin: parts.token_origin,
                base_url: parts.base_url,
                user_agent: parts.user_agent,
                policy: parts.policy,
                budget: RetryBudget::new(parts.budget),
                rate: parts.rate,
                pacer: Pacer::new(parts.pace.0, parts.pace.1),
                gate: Gate::default(),
                timer: parts.timer,
            }),
        }
    }

    /// The base URL requests go to, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The `User-Agent` sent with every request.
    pub fn user_agent(&self) -> &str {
        &self.inner.user_agent
    }

    /// Which setting the token came from (`DIGITALOCEAN_ACCESS_TOKEN`,
    /// `DIGITALOCEAN_TOKEN` or `ClientBuilder::token`); never the token.
    pub fn token_source(&self) -> &'static str {
        self.inner.token_origin
    }

    /// The client progenitor generated, already authenticated and
    /// configured like this one: an escape hatch for what the typed layer
    /// does not cover (feature `raw-client`). It does not validate input,
    /// retry or page, and its types follow progenitor and `reqwest` rather
    /// than this crate's semver promises.
    #[cfg(feature = "raw-client")]
    #[cfg_attr(docsrs, doc(cfg(feature = "raw-client")))]
    pub fn raw(&self) -> &crate::transport::RawClient {
        self.inner.transport.raw()
    }

    /// The latest rate-limit headers seen by this client or any of its
    /// clones, from any response (errors included); `None` before the first
    /// response or when a proxy strips them.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        self.inner.rate.get()
    }

    /// The retry policy of calls that do not set their own.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.policy
    }

    /// Tokens left in the retry budget shared by this client's clones
    /// (a retry costs 5, or 10 after a timeout; a first-attempt success
    /// gives 1 back, a successful retry its cost).
    pub fn retry_budget_remaining(&self) -> u32 {
        self.inner.budget.remaining()
    }

    pub(crate) fn timer(&self) -> &dyn Timer {
        self.inner.timer.as_ref()
    }

    /// Requests this client and its clones could start now without
    /// waiting for the per-minute pace.
    pub(crate) fn pace_room(&self) -> usize {
        self.inner.pacer.room(self.inner.timer.now())
    }

    /// Requests this client and its clones may have in flight at once,
    /// as learned from refusals (`usize::MAX` when none lately).
    pub(crate) fn gate_limit(&self) -> usize {
        self.inner.gate.limit(self.inner.timer.now())
    }

    /// Attempts by this client and its clones that met a 429, a 5xx or a
    /// transport failure so far.
    pub(crate) fn troubled(&self) -> u64 {
        self.inner.budget.troubled()
    }

    /// Counts an attempt that met trouble, as the retry loop does (for
    /// model servers that bypass it).
    #[cfg(test)]
    pub(crate) fn note_trouble(&self) {
        self.inner.budget.note_trouble();
    }

    /// Runs one call through the retry loop: each attempt is `attempt` on
    /// the transport (which records the rate limit every answer reports,
    /// errors included, for all clones).
    ///
    /// The call is a `tracing` span named after the operation, with
    /// OpenTelemetry's HTTP client fields (`http.request.method`,
    /// `url.path`, `url.template`, and `error.type` when it fails); each
    /// attempt is a span inside it (see `retry.rs`). Never the token, never
    /// a query.
    pub(crate) async fn execute<'a, T, F, Fut>(
        &'a self,
        op: &'static Operation,
        path: &str,
        call: &CallOptions,
        attempt: F,
    ) -> Result<PageAnswer<T>>
    where
        F: Fn(&'a Transport) -> Fut,
        Fut: Future<Output = Result<PageAnswer<T>>>,
    {
        let context = RetryContext {
            policy: call.policy.as_ref().unwrap_or(&self.inner.policy),
            budget: &self.inner.budget,
            rate: &self.inner.rate,
            pacer: &self.inner.pacer,
            gate: &self.inner.gate,
            timer: self.inner.timer.as_ref(),
            deadline: call.deadline,
            operation: op.name,
        };
        let template = op.name.trim_start_matches("GET ");
        let span = tracing::info_span!(
            "call",
            otel.name = op.name,
            otel.kind = "client",
            http.request.method = "GET",
            url.path = path,
            url.template = template,
            error.type = tracing::field::Empty,
        );
        let result = context
            .run(|| attempt(&self.inner.transport))
            .instrument(span.clone())
            .await;
        if let Err(error) = &result {
            span.record("error.type", error.otel_type().as_ref());
        }
        result
    }
}
