//! [`Client`] and [`ClientBuilder`]: configuration, authentication, and the
//! one place where a generated call's outcome becomes this crate's
//! [`Result`].

use std::fmt;
use std::future::Future;
use std::num::NonZeroU64;
use std::sync::Arc;
use std::time::{Duration, Instant};

use progenitor_client::ResponseValue;
use reqwest::header::{self, HeaderMap, HeaderValue};
use serde::de::DeserializeOwned;

use crate::error::{self, Error, Result};
use crate::generated;
use crate::model::RateLimit;
use crate::retry::{
    DEFAULT_RETRY_BUDGET, RateState, RetryBudget, RetryContext, RetryPolicy, Timer, TokioTimer,
};

/// The production API.
pub const DEFAULT_BASE_URL: &str = "https://api.digitalocean.com";
/// The largest page the API serves (`per_page` maximum).
pub const MAX_PER_PAGE: u64 = 200;
/// The page size the API uses when none is asked for.
pub const DEFAULT_PER_PAGE: u64 = 20;
/// The default overall timeout of one request (connect, send, read the body).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The default timeout of the connect phase.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Environment variables read for the token, in order.
pub const TOKEN_ENV_VARS: [&str; 2] = ["DIGITALOCEAN_ACCESS_TOKEN", "DIGITALOCEAN_TOKEN"];
/// Environment variable read for the base URL (the name the Terraform
/// provider and Packer use).
pub const API_URL_ENV_VAR: &str = "DIGITALOCEAN_API_URL";

/// Error bodies are read up to this size; the rest is discarded.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// What the typed layer needs to know about one generated operation.
#[derive(Debug)]
pub(crate) struct Operation {
    /// Method and path template, as shown in errors and logs.
    pub(crate) name: &'static str,
    /// The OAuth scope the operation needs.
    pub(crate) scope: &'static str,
}

pub(crate) const DROPLET_SNAPSHOTS: Operation = Operation {
    name: "GET /v2/droplets/{droplet_id}/snapshots",
    scope: "droplet:read",
};

pub(crate) const SNAPSHOTS: Operation = Operation {
    name: "GET /v2/snapshots",
    scope: "snapshot:read",
};

/// A client for the DigitalOcean snapshot listings.
///
/// Cheap to clone (one reference count), `Send + Sync`; clones share the
/// connection pool. Build one with [`Client::builder`] or
/// [`Client::from_env`] and keep it.
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
    raw: generated::Client,
    token: Token,
    base_url: String,
    user_agent: String,
    policy: RetryPolicy,
    budget: RetryBudget,
    rate: RateState,
    timer: Arc<dyn Timer>,
}

/// Per-call settings that override the client's.
#[derive(Clone, Debug, Default)]
pub(crate) struct Call {
    pub(crate) policy: Option<RetryPolicy>,
    /// The deadline of the walk this call belongs to.
    pub(crate) deadline: Option<Instant>,
}

/// Where the token came from, for error messages: never the token itself.
#[derive(Clone)]
struct Token {
    secret: String,
    origin: &'static str,
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<redacted, from {}>", self.origin)
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base_url)
            .field("user_agent", &self.inner.user_agent)
            .field("token", &self.inner.token)
            .field("retry_policy", &self.inner.policy)
            .field("retry_budget", &self.inner.budget.remaining())
            .field("rate_limit", &self.inner.rate.get())
            .finish()
    }
}

impl Client {
    /// A builder with the defaults: production base URL, 30 s request
    /// timeout, 10 s connect timeout, a user agent naming this crate.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// A client configured from the environment: the token from
    /// `DIGITALOCEAN_ACCESS_TOKEN` (else `DIGITALOCEAN_TOKEN`), the base URL
    /// from `DIGITALOCEAN_API_URL` when set.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) when no token is set
    /// or the token or URL is malformed.
    pub fn from_env() -> Result<Self> {
        ClientBuilder::from_env().build()
    }

    /// A client for the production API with this token and the defaults.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) when the token is
    /// empty or cannot be sent in a header.
    pub fn new(token: impl Into<String>) -> Result<Self> {
        ClientBuilder::new().token(token).build()
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
        self.inner.token.origin
    }

    /// The client progenitor generated, already authenticated and
    /// configured like this one: an escape hatch for what the typed layer
    /// does not cover. It does not validate input, retry or page, and its
    /// types follow progenitor and `reqwest` rather than this crate's
    /// semver promises.
    pub fn raw(&self) -> &generated::Client {
        &self.inner.raw
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

    /// Sends one request through the retry loop: every attempt goes through
    /// the generated call and [`Self::finish`].
    async fn execute<T, F, Fut>(
        &self,
        op: &Operation,
        call: &Call,
        mut send: F,
    ) -> Result<(T, Option<RateLimit>)>
    where
        T: DeserializeOwned,
        F: FnMut() -> Fut,
        Fut: Future<Output = std::result::Result<ResponseValue<T>, progenitor_client::Error<()>>>,
    {
        let context = RetryContext {
            policy: call.policy.as_ref().unwrap_or(&self.inner.policy),
            budget: &self.inner.budget,
            rate: &self.inner.rate,
            timer: self.inner.timer.as_ref(),
            deadline: call.deadline,
            operation: op.name,
        };
        context
            .run(|| {
                let sent = send();
                async move {
                    let started = Instant::now();
                    let result = sent.await;
                    self.finish(op, started, result).await
                }
            })
            .await
    }

    pub(crate) async fn droplet_snapshots_page(
        &self,
        droplet_id: u64,
        page: Option<u64>,
        per_page: Option<u64>,
        call: &Call,
    ) -> Result<(generated::types::DropletSnapshotList, Option<RateLimit>)> {
        let op = &DROPLET_SNAPSHOTS;
        let checked = check_droplet_id(droplet_id)
            .and_then(|id| Ok((id, check_page(page)?, check_per_page(per_page)?)));
        let (id, page, per_page) = checked.map_err(|e| e.with_operation(op.name))?;
        self.execute(op, call, || {
            self.inner.raw.droplets_list_snapshots(id, page, per_page)
        })
        .await
    }

    pub(crate) async fn snapshots_page(
        &self,
        page: Option<u64>,
        per_page: Option<u64>,
        resource_type: Option<&crate::ResourceType>,
        call: &Call,
    ) -> Result<(generated::types::SnapshotList, Option<RateLimit>)> {
        let op = &SNAPSHOTS;
        let checked = check_page(page).and_then(|page| {
            Ok((
                page,
                check_per_page(per_page)?,
                check_resource_type(resource_type)?,
            ))
        });
        let (page, per_page, resource_type) = checked.map_err(|e| e.with_operation(op.name))?;
        self.execute(op, call, || {
            self.inner.raw.snapshots_list(page, per_page, resource_type)
        })
        .await
    }

    /// Turns the generated call's outcome into this crate's result: the
    /// decoded body and the rate limit its headers reported, or a typed
    /// error. The rate limit is also recorded for every clone.
    async fn finish<T: DeserializeOwned>(
        &self,
        op: &Operation,
        started: Instant,
        result: std::result::Result<ResponseValue<T>, progenitor_client::Error<()>>,
    ) -> Result<(T, Option<RateLimit>)> {
        let outcome = match result {
            Ok(value) => {
                let rate = RateLimit::from_headers(value.headers());
                if let Some(rate) = rate {
                    self.inner.rate.record(rate);
                }
                Ok((value.into_inner(), rate))
            }
            Err(error) => {
                let error = self.convert_error::<T>(op, error).await;
                if let Some(rate) = error.rate_limit() {
                    self.inner.rate.record(*rate);
                }
                Err(error)
            }
        };
        let elapsed_ms = started.elapsed().as_millis() as u64;
        match &outcome {
            Ok(_) => tracing::debug!(operation = op.name, elapsed_ms, "request succeeded"),
            Err(e) => tracing::debug!(
                operation = op.name,
                elapsed_ms,
                status = e.status(),
                kind = ?e.kind(),
                "request failed"
            ),
        }
        outcome
    }

    async fn convert_error<T: DeserializeOwned>(
        &self,
        op: &Operation,
        error: progenitor_client::Error<()>,
    ) -> Error {
        use progenitor_client::Error as Raw;
        let mut converted = match error {
            Raw::CommunicationError(e) | Raw::ResponseBodyError(e) | Raw::InvalidUpgrade(e) => {
                Error::transport(e)
            }
            // Only a 200 has a documented body (see build.rs), so a payload
            // error is always a 200 whose body did not decode. Decode again
            // on this cold path to learn where.
            Raw::InvalidResponsePayload(body, e) => decode_error::<T>(200, &body, e),
            Raw::UnexpectedResponse(response) => {
                let status = response.status().as_u16();
                let headers = response.headers().clone();
                let body = read_limited(response, ERROR_BODY_LIMIT).await;
                if (200..300).contains(&status) {
                    Error::decode(
                        status,
                        ".".to_owned(),
                        format!("unexpected success status {status}, expected 200"),
                        &body,
                    )
                } else {
                    let mut api =
                        error::api_error_from_parts(status, &headers, &body, Some(op.scope));
                    api.set_token_source(self.inner.token.origin);
                    Error::from_api(api)
                }
            }
            Raw::ErrorResponse(value) => {
                let status = value.status().as_u16();
                Error::from_api(error::api_error_from_parts(
                    status,
                    value.headers(),
                    &[],
                    Some(op.scope),
                ))
            }
            Raw::InvalidRequest(reason) => Error::invalid_input("request", reason),
            Raw::Custom(reason) => Error::config(reason),
        };
        error::scrub(&mut converted, &self.inner.token.secret);
        converted.with_operation(op.name)
    }
}

/// Runs on every request the generated client builds (see `codegen.rs`):
/// sends only what the API documents.
pub(crate) fn prepare_request(request: &mut reqwest::Request) {
    request.headers_mut().remove("api-version");
}

fn decode_error<T: DeserializeOwned>(
    status: u16,
    body: &[u8],
    fallback: serde_json::Error,
) -> Error {
    let mut de = serde_json::Deserializer::from_slice(body);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Err(e) => {
            let path = e.path().to_string();
            Error::decode(status, path, e.into_inner().to_string(), body)
        }
        // The value decodes but something follows it.
        Ok(_) => Error::decode(status, ".".to_owned(), fallback.to_string(), body),
    }
}

async fn read_limited(mut response: reqwest::Response, limit: usize) -> Vec<u8> {
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

fn check_droplet_id(droplet_id: u64) -> Result<NonZeroU64> {
    NonZeroU64::new(droplet_id).ok_or_else(|| {
        Error::invalid_input(
            "droplet_id",
            "0 is not a droplet id: expected an integer >= 1",
        )
    })
}

fn check_page(page: Option<u64>) -> Result<Option<NonZeroU64>> {
    match page {
        None => Ok(None),
        Some(n) => NonZeroU64::new(n).map(Some).ok_or_else(|| {
            Error::invalid_input("page", "0 is out of range: pages are numbered from 1")
        }),
    }
}

fn check_per_page(per_page: Option<u64>) -> Result<Option<NonZeroU64>> {
    match per_page {
        None => Ok(None),
        Some(n @ 1..=MAX_PER_PAGE) => Ok(NonZeroU64::new(n)),
        Some(n) => Err(Error::invalid_input(
            "per_page",
            format!("{n} is out of range: expected 1..={MAX_PER_PAGE}"),
        )),
    }
}

fn check_resource_type(
    resource_type: Option<&crate::ResourceType>,
) -> Result<Option<&crate::ResourceType>> {
    match resource_type {
        Some(t) if !t.is_known() => Err(Error::invalid_input(
            "resource_type",
            format!(
                "`{t}` is not a resource type: expected one of {}",
                crate::ResourceType::KNOWN.join(", ")
            ),
        )),
        other => Ok(other),
    }
}

/// Builds a [`Client`]. Every setting has a default but the token.
///
/// ```
/// use std::time::Duration;
/// use digitalocean_snapshots::Client;
///
/// let client = Client::builder()
///     .token("dop_v1_example")
///     .timeout(Duration::from_secs(20))
///     .user_agent("backup-audit/1.2")
///     .build()?;
/// assert_eq!(client.base_url(), "https://api.digitalocean.com");
/// # Ok::<(), digitalocean_snapshots::Error>(())
/// ```
#[derive(Clone)]
#[must_use = "a builder does nothing until `build()` is called"]
pub struct ClientBuilder {
    token: Option<Token>,
    base_url: String,
    timeout: Duration,
    connect_timeout: Duration,
    user_agent: Option<String>,
    root_certificates: Vec<Certificate>,
    allow_insecure_http: bool,
    env_error: Option<String>,
    retry_policy: RetryPolicy,
    retry_budget: u32,
    timer: Arc<dyn Timer>,
}

#[derive(Clone)]
enum Certificate {
    Pem(Vec<u8>),
    Der(Vec<u8>),
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("token", &self.token)
            .field("base_url", &self.base_url)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("user_agent", &self.user_agent)
            .field("root_certificates", &self.root_certificates.len())
            .field("allow_insecure_http", &self.allow_insecure_http)
            .field("retry_policy", &self.retry_policy)
            .field("retry_budget", &self.retry_budget)
            .field("timer", &self.timer)
            .finish()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl ClientBuilder {
    /// A builder with the defaults and no token.
    pub fn new() -> Self {
        Self {
            token: None,
            base_url: DEFAULT_BASE_URL.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            user_agent: None,
            root_certificates: Vec::new(),
            allow_insecure_http: false,
            env_error: None,
            retry_policy: RetryPolicy::default(),
            retry_budget: DEFAULT_RETRY_BUDGET,
            timer: Arc::new(TokioTimer),
        }
    }

    /// The personal access token, sent as `Authorization: Bearer <token>`.
    /// It is checked by [`build`](Self::build).
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(Token {
            secret: token.into(),
            origin: "ClientBuilder::token",
        });
        self.env_error = None;
        self
    }

    /// A builder with the defaults that reads the token from `DIGITALOCEAN_ACCESS_TOKEN` (else
    /// `DIGITALOCEAN_TOKEN`) and, when `DIGITALOCEAN_API_URL` is set, the
    /// base URL. Empty variables count as unset. A missing token is
    /// reported by [`build`](Self::build).
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let mut builder = Self::new();
        let found = TOKEN_ENV_VARS
            .iter()
            .find_map(|name| lookup(name).filter(|v| !v.is_empty()).map(|v| (*name, v)));
        match found {
            Some((origin, secret)) => builder.token = Some(Token { secret, origin }),
            None => {
                builder.env_error = Some(format!(
                    "no access token: set {} (or {})",
                    TOKEN_ENV_VARS[0], TOKEN_ENV_VARS[1]
                ));
            }
        }
        if let Some(url) = lookup(API_URL_ENV_VAR).filter(|v| !v.is_empty()) {
            builder.base_url = url;
        }
        builder
    }

    /// The base URL, e.g. a fake server's `http://127.0.0.1:8080`. A path
    /// prefix is kept; a trailing slash is removed. Default:
    /// `https://api.digitalocean.com`.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// The overall timeout of one request, from connecting to reading the
    /// whole body. Default: 30 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The timeout of the connect phase (TCP and TLS). Default: 10 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Replaces the default `User-Agent`
    /// (`digitalocean-snapshots/<version>`). Name your program here.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Trusts the certificates of a PEM file (one or more) in addition to
    /// the system's roots: for a proxy or a test server.
    pub fn add_root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_certificates.push(Certificate::Pem(pem.into()));
        self
    }

    /// Trusts one DER-encoded certificate in addition to the system's roots.
    pub fn add_root_certificate_der(mut self, der: impl Into<Vec<u8>>) -> Self {
        self.root_certificates.push(Certificate::Der(der.into()));
        self
    }

    /// Allows sending the token over plain `http://` to a host that is not
    /// the loopback interface. Off by default: the token would cross the
    /// network in clear text. Loopback addresses (`localhost`, `127.0.0.0/8`,
    /// `::1`) are always allowed, for fake servers.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// How calls retry, unless a request sets its own policy. Default:
    /// [`RetryPolicy::default`]; [`RetryPolicy::none`] turns retries off.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry_policy = policy;
        self
    }

    /// The capacity of the retry budget shared by the client's clones.
    /// Default 500 tokens: 100 retries after 5xx answers with no success
    /// in between. 0 turns retries off.
    pub fn retry_budget(mut self, tokens: u32) -> Self {
        self.retry_budget = tokens;
        self
    }

    /// The clock and sleep that retries and rate-limit waits use. Default:
    /// tokio's. Tests can pass a timer that records waits and returns at
    /// once.
    pub fn timer(mut self, timer: impl Timer) -> Self {
        self.timer = Arc::new(timer);
        self
    }

    /// Checks every setting and builds the client. Sends nothing.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) when the token is
    /// missing, empty, contains whitespace or a character that cannot go in
    /// a header; when the base URL is not an absolute `http(s)` URL, carries
    /// credentials, a query or a fragment, or is plain `http` to a
    /// non-loopback host without [`allow_insecure_http`](Self::allow_insecure_http);
    /// when a certificate does not parse.
    pub fn build(self) -> Result<Client> {
        let token = match (self.token, self.env_error) {
            (Some(token), _) => token,
            (None, Some(reason)) => return Err(Error::config(reason)),
            (None, None) => {
                return Err(Error::config(
                    "no access token: call ClientBuilder::token or ClientBuilder::from_env",
                ));
            }
        };
        let authorization = check_token(&token)?;
        let base_url = check_base_url(&self.base_url, self.allow_insecure_http)?;
        let user_agent = self.user_agent.unwrap_or_else(|| {
            format!(
                "{}/{} (+{})",
                env!("CARGO_PKG_NAME"),
                env!("CARGO_PKG_VERSION"),
                env!("CARGO_PKG_REPOSITORY")
            )
        });
        let user_agent_value = HeaderValue::from_str(&user_agent).map_err(|_| {
            Error::config("the user agent contains a character that is not allowed in a header")
        })?;

        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, authorization);
        let mut certificates = Vec::new();
        for (index, certificate) in self.root_certificates.iter().enumerate() {
            let parsed = match certificate {
                Certificate::Pem(pem) => reqwest::Certificate::from_pem_bundle(pem),
                Certificate::Der(der) => reqwest::Certificate::from_der(der).map(|c| vec![c]),
            };
            let parsed = parsed.map_err(|e| {
                Error::config_with_source(format!("root certificate #{index} does not parse"), e)
            })?;
            if parsed.is_empty() {
                return Err(Error::config(format!(
                    "root certificate #{index} holds no PEM certificate"
                )));
            }
            certificates.extend(parsed);
        }
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(user_agent_value)
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            // The API does not redirect these reads; a redirect would be a
            // way to carry the token elsewhere. Report it instead.
            .redirect(reqwest::redirect::Policy::none())
            .tls_certs_merge(certificates)
            .build()
            .map_err(|e| Error::config_with_source("the HTTP client cannot be built", e))?;
        Ok(Client {
            inner: Arc::new(Inner {
                raw: generated::Client::new_with_client(&base_url, http),
                token,
                base_url,
                user_agent,
                policy: self.retry_policy,
                budget: RetryBudget::new(self.retry_budget),
                rate: RateState::default(),
                timer: self.timer,
            }),
        })
    }
}

fn check_token(token: &Token) -> Result<HeaderValue> {
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
    let mut value = HeaderValue::try_from(format!("Bearer {secret}")).map_err(|_| {
        Error::config(format!(
            "the access token from {origin} cannot be sent in a header"
        ))
    })?;
    // Keeps it out of reqwest's and http's Debug output and HTTP/2 tables.
    value.set_sensitive(true);
    Ok(value)
}

fn check_base_url(raw: &str, allow_insecure_http: bool) -> Result<String> {
    let url = reqwest::Url::parse(raw.trim())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn from_env_prefers_access_token_then_token_and_reads_api_url() {
        let client = ClientBuilder::from_lookup(env(&[
            ("DIGITALOCEAN_ACCESS_TOKEN", "first"),
            ("DIGITALOCEAN_TOKEN", "second"),
            ("DIGITALOCEAN_API_URL", "http://127.0.0.1:9/"),
        ]))
        .build()
        .unwrap();
        assert_eq!(client.token_source(), "DIGITALOCEAN_ACCESS_TOKEN");
        assert_eq!(client.inner.token.secret, "first");
        assert_eq!(client.base_url(), "http://127.0.0.1:9");

        let client = ClientBuilder::from_lookup(env(&[
            ("DIGITALOCEAN_ACCESS_TOKEN", ""),
            ("DIGITALOCEAN_TOKEN", "second"),
        ]))
        .build()
        .unwrap();
        assert_eq!(client.token_source(), "DIGITALOCEAN_TOKEN");
        assert_eq!(client.base_url(), DEFAULT_BASE_URL);
    }

    #[test]
    fn from_env_without_a_token_names_both_variables() {
        let err = ClientBuilder::from_lookup(env(&[])).build().unwrap_err();
        assert!(err.is_config());
        let text = err.to_string();
        assert!(
            text.contains("DIGITALOCEAN_ACCESS_TOKEN") && text.contains("DIGITALOCEAN_TOKEN"),
            "{text}"
        );
    }

    #[test]
    fn base_url_rules() {
        assert_eq!(
            check_base_url("https://api.example.com/prefix/", false).unwrap(),
            "https://api.example.com/prefix"
        );
        assert_eq!(
            check_base_url("http://localhost:8080", false).unwrap(),
            "http://localhost:8080"
        );
        assert_eq!(
            check_base_url("http://[::1]:8080", false).unwrap(),
            "http://[::1]:8080"
        );
        assert_eq!(
            check_base_url("http://127.3.4.5", false).unwrap(),
            "http://127.3.4.5"
        );
        for bad in [
            "ftp://x",
            "not a url",
            "https://u:p@api.example.com",
            "https://a.example?x=1",
            "http://api.example.com",
        ] {
            assert!(check_base_url(bad, false).unwrap_err().is_config(), "{bad}");
        }
        assert!(check_base_url("http://api.example.com", true).is_ok());
    }
}
