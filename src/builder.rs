//! [`ClientBuilder`]: the settings of a [`Client`], read from code or the
//! environment and checked before anything is sent.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

mod checks;
mod env;
mod proxy;

use crate::client::{Client, ClientParts};
use crate::clock::{Timer, TokioTimer};
use crate::error::{Error, Result};
use crate::rate::RateState;
use crate::retry::{DEFAULT_RETRY_BUDGET, RetryPolicy};
use crate::transport::{BodyLimits, Certificate, HttpSettings, Transport};
use checks::{check_base_url, check_pace, check_token};
use proxy::{ProxyChoice, check_proxy};

/// The production API.
pub(crate) const DEFAULT_BASE_URL: &str = "https://api.digitalocean.com";
/// The default overall timeout of one request (connect, send, read the body).
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The default timeout of the connect phase.
pub(crate) const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The default pace: DigitalOcean's 250 requests a minute per token.
pub(crate) const DEFAULT_PACE: (u32, Duration) = (250, Duration::from_secs(60));
/// The default limit on a success body, after decompression.
pub(crate) const DEFAULT_MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;
/// The default longest wait for the next piece of a body.
pub(crate) const DEFAULT_READ_IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// Environment variables read for the token, in order.
pub(crate) const TOKEN_ENV_VARS: [&str; 2] = ["DIGITALOCEAN_ACCESS_TOKEN", "DIGITALOCEAN_TOKEN"];
/// Environment variable read for the base URL (the name the Terraform
/// provider and Packer use).
pub(crate) const API_URL_ENV_VAR: &str = "DIGITALOCEAN_API_URL";

/// The token and where it came from, for error messages: `Debug` never
/// shows the token itself.
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
///
/// # Configuration
///
/// Configured in code (each default is on its setter):
///
/// ```no_run
/// use std::time::Duration;
/// use digitalocean_snapshots::{Client, RetryPolicy};
///
/// # fn main() -> digitalocean_snapshots::Result<()> {
/// let client = Client::builder()
///     .token(std::env::var("MY_TOKEN").unwrap_or_default())
///     .base_url("https://api.digitalocean.com")   // the default
///     .timeout(Duration::from_secs(30))
///     .connect_timeout(Duration::from_secs(10))
///     .user_agent("backup-audit/1.0")
///     .retry_policy(RetryPolicy::default().max_attempts(6).deadline(Duration::from_secs(120)))
///     .build()?;
/// # let _ = client; Ok(()) }
/// ```
///
/// # The environment
///
/// [`ClientBuilder::from_env()`](Self::from_env) starts from the environment
/// and lets you change the rest. It reads what DigitalOcean's own tools read:
///
/// | variable | sets |
/// |---|---|
/// | `DIGITALOCEAN_ACCESS_TOKEN`, else `DIGITALOCEAN_TOKEN` | the token |
/// | `DIGITALOCEAN_API_URL` | the base URL |
/// | `DIGITALOCEAN_HTTP_RETRY_MAX` | retries after the first attempt (0: none) |
/// | `DIGITALOCEAN_HTTP_RETRY_WAIT_MIN`, `_MAX` | seconds: the backoff's base and cap |
/// | `DIGITALOCEAN_REQUESTS_PER_SECOND` | the client-side pace (0: off; `0.5` is one request every 2 s) |
///
/// The retry and pacing variables follow doctl and the Terraform provider,
/// so settings made for them apply here too. Empty variables count as unset;
/// a value that does not parse (or a minimum above the maximum) is a
/// `Config` error from `build()` that names the variable. Code wins: a
/// setter called after `from_env` ([`retry_policy`](Self::retry_policy),
/// [`pace`](Self::pace)) replaces what a variable set.
///
/// # Certificates, proxies, the clock
///
/// [`add_root_certificate_pem`](Self::add_root_certificate_pem) /
/// [`_der`](Self::add_root_certificate_der) trust a proxy's or a test
/// server's certificate; [`allow_insecure_http(true)`](Self::allow_insecure_http)
/// permits plain HTTP to a remote host (loopback is always allowed).
/// Proxies: by default the environment decides (`HTTPS_PROXY`, `HTTP_PROXY`,
/// `ALL_PROXY`, `NO_PROXY`, the system's settings);
/// [`proxy("http://user:pass@host:3128")`](Self::proxy) sends every request
/// through one, [`no_proxy()`](Self::no_proxy) connects directly. The API is
/// HTTPS, so a proxy sees `CONNECT api.digitalocean.com:443` and never the
/// token (a test runs a tunnelling proxy to check it); a proxy's password is
/// never shown in `Debug` or errors. [`timer(...)`](Self::timer) replaces
/// the one clock the client uses: backoff and rate-limit waits (`sleep`),
/// the bound on a running request at a deadline (`sleep_until`), deadlines
/// (`now`) and the hourly reset (`wall_clock`), for tests that must not
/// wait.
///
/// # A careful client
///
/// HTTPS (rustls by default; extra roots through the builder), finite timeouts
/// (30 s per request, 10 s to connect), redirects reported rather than
/// followed, a user agent naming the crate, gzip asked for and decoded. The
/// token is checked when the client is built, sent only as
/// `Authorization: Bearer`, marked sensitive, refused over plain `http://`
/// to a non-loopback host unless allowed, and never shown by `Debug` or
/// `Display`; a body or header that echoes it is redacted whole before any
/// excerpt is cut, and, for a token of 24 characters or more (a
/// DigitalOcean token has 71), no 8 consecutive characters of it survive in
/// an error (a shorter one is redacted whole only, so ordinary words that
/// share a piece with it stay whole).
///
/// # Bounded reads
///
/// A success body is read through two limits (defaults in brackets): its
/// size after decompression, [`max_response_bytes`](Self::max_response_bytes)
/// [8 MiB, about 160 full pages], and the wait for its next piece,
/// [`read_idle_timeout`](Self::read_idle_timeout) [10 s]. Breaking either
/// ends the call at once with a typed error that names the limit
/// ([`ErrorKind::ResponseTooLarge`](crate::ErrorKind::ResponseTooLarge), or
/// a timeout; [`error.is_body_limit()`](crate::Error::is_body_limit)), never
/// retried; memory stays within the limit plus a small constant, and a zip
/// bomb is an error, not an out-of-memory (a server streaming an endless
/// body: `ResponseTooLarge` at 8 MiB, the process at 17.8 MiB resident).
/// Error bodies are read up to 64 KiB.
///
/// # Durations
///
/// Every `Duration` the API takes accepts its whole range: 0 and 1 ns give
/// timeouts and typed errors, `Duration::MAX` (or `u64::MAX` seconds) means
/// no limit for timeouts, deadlines, waits and backoff; the one refusal is a
/// pacing window of 0 or longer than a day, a `Config` error from `build()`.
/// The report's `--deadline` takes `18446744073709551615s`.
#[derive(Clone)]
#[must_use = "a builder does nothing until `build()` is called"]
pub struct ClientBuilder {
    token: Option<Token>,
    base_url: String,
    timeout: Duration,
    connect_timeout: Duration,
    limits: BodyLimits,
    pace: (u32, Duration),
    user_agent: Option<String>,
    root_certificates: Vec<Certificate>,
    /// `None` until a setter chose: the environment's proxy.
    proxy: ProxyChoice,
    allow_insecure_http: bool,
    env_error: Option<String>,
    /// A retry or pacing variable that does not parse (reported by
    /// `build`, before anything else).
    env_invalid: Option<String>,
    retry_policy: RetryPolicy,
    retry_budget: u32,
    timer: Arc<dyn Timer>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("token", &self.token)
            .field("base_url", &self.base_url)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("max_response_bytes", &self.limits.max_bytes)
            .field("read_idle_timeout", &self.limits.idle)
            .field("pace", &self.pace)
            .field("user_agent", &self.user_agent)
            .field("root_certificates", &self.root_certificates.len())
            .field("proxy", &self.proxy)
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
            limits: BodyLimits {
                max_bytes: DEFAULT_MAX_RESPONSE_BYTES,
                idle: DEFAULT_READ_IDLE_TIMEOUT,
            },
            pace: DEFAULT_PACE,
            user_agent: None,
            root_certificates: Vec::new(),
            proxy: ProxyChoice::Environment,
            allow_insecure_http: false,
            env_error: None,
            env_invalid: None,
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

    /// A builder with the defaults that reads the token from
    /// `DIGITALOCEAN_ACCESS_TOKEN` (else `DIGITALOCEAN_TOKEN`), the base
    /// URL from `DIGITALOCEAN_API_URL`, and DigitalOcean's retry and pacing
    /// conventions (shared by doctl and the Terraform provider):
    /// `DIGITALOCEAN_HTTP_RETRY_MAX` (retries; 0 turns them off),
    /// `DIGITALOCEAN_HTTP_RETRY_WAIT_MIN` / `_MAX` (seconds: the backoff's
    /// base and cap) and `DIGITALOCEAN_REQUESTS_PER_SECOND` (the pace; 0
    /// turns it off). Empty variables count as unset. A setter called
    /// afterwards wins over a variable. A missing token, or a variable
    /// that does not parse, is a [`Config`](crate::ErrorKind::Config)
    /// error from [`build`](Self::build) naming it.
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
        match env::read(&lookup) {
            Ok(conventions) => builder.apply(conventions),
            Err(reason) => {
                builder.env_invalid = Some(reason);
                builder
            }
        }
    }

    /// What DigitalOcean's retry and pacing variables set.
    fn apply(mut self, conventions: env::Conventions) -> Self {
        let mut policy = self.retry_policy.clone();
        if let Some(attempts) = conventions.attempts {
            policy = policy.max_attempts(attempts);
        }
        if conventions.wait_min.is_some() || conventions.wait_max.is_some() {
            let base = conventions.wait_min.unwrap_or(policy.base());
            let cap = conventions.wait_max.unwrap_or(policy.cap().max(base));
            policy = policy.backoff(base, cap);
        }
        self.retry_policy = policy;
        if let Some(pace) = conventions.pace {
            self.pace = pace;
        }
        self
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

    /// At most `requests` requests in any window of `per`, across the
    /// client's clones: a request that would go past it waits instead of
    /// drawing a 429. Default 250 per minute, DigitalOcean's limit per
    /// token; `pace(0, ...)` turns pacing off (a proxy that counts
    /// differently, or a fake server with a shorter window). A window of
    /// 0 or longer than a day is a [`Config`](crate::ErrorKind::Config)
    /// error from [`build`](Self::build).
    pub fn pace(mut self, requests: u32, per: Duration) -> Self {
        self.pace = (requests, per);
        self
    }

    /// The most bytes a success body may have, after decompression.
    /// Default 8 MiB: a full page of 200 snapshots is about 50 KB. A larger
    /// body stops being read at the limit and the call fails with
    /// [`ErrorKind::ResponseTooLarge`](crate::ErrorKind::ResponseTooLarge),
    /// not retried; memory stays within the limit plus a small constant.
    pub fn max_response_bytes(mut self, bytes: usize) -> Self {
        self.limits.max_bytes = bytes;
        self
    }

    /// The longest wait for the next piece of a success body once it has
    /// started. Default 10 s. A body that stalls longer fails the call
    /// with a timeout ([`Error::is_body_limit`]), not retried, instead of
    /// holding it until the overall [`timeout`](Self::timeout).
    pub fn read_idle_timeout(mut self, timeout: Duration) -> Self {
        self.limits.idle = timeout;
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

    /// Sends every request through this proxy (`http://` or `https://`,
    /// credentials in the URL if it needs them: `http://user:pass@host:3128`),
    /// whatever the environment says. Requests to the API are HTTPS, so the
    /// proxy sees where they go (`CONNECT api.digitalocean.com:443`), never
    /// the token. Its password is never shown (`Debug`, errors).
    ///
    /// By default the environment decides (`HTTPS_PROXY`, `HTTP_PROXY`,
    /// `ALL_PROXY`, `NO_PROXY`, and the system's settings where it has
    /// them); [`no_proxy`](Self::no_proxy) ignores it. A URL that does not
    /// parse, or of another scheme, is a
    /// [`Config`](crate::ErrorKind::Config) error from
    /// [`build`](Self::build).
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.proxy = ProxyChoice::Url(url.into());
        self
    }

    /// Connects directly, ignoring any proxy the environment or the system
    /// names.
    pub fn no_proxy(mut self) -> Self {
        self.proxy = ProxyChoice::Off;
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
        if let Some(reason) = self.env_invalid {
            return Err(Error::config(reason));
        }
        let token = match (self.token, self.env_error) {
            (Some(token), _) => token,
            (None, Some(reason)) => return Err(Error::config(reason)),
            (None, None) => {
                return Err(Error::config(
                    "no access token: call ClientBuilder::token or ClientBuilder::from_env",
                ));
            }
        };
        check_token(&token)?;
        check_pace(self.pace)?;
        let base_url = check_base_url(&self.base_url, self.allow_insecure_http)?;
        let user_agent = self.user_agent.unwrap_or_else(|| {
            format!(
                "{}/{} (+{})",
                env!("CARGO_PKG_NAME"),
                env!("CARGO_PKG_VERSION"),
                env!("CARGO_PKG_REPOSITORY")
            )
        });
        let proxy = check_proxy(&self.proxy)?;
        let rate = Arc::new(RateState::default());
        let transport = Transport::new(&HttpSettings {
            base_url: &base_url,
            token: &token.secret,
            token_origin: token.origin,
            user_agent: &user_agent,
            timeout: self.timeout,
            connect_timeout: self.connect_timeout,
            root_certificates: &self.root_certificates,
            proxy: &proxy,
            limits: self.limits,
            timer: Arc::clone(&self.timer),
            rate: Arc::clone(&rate),
        })?;
        Ok(Client::from_parts(ClientParts {
            transport,
            token_origin: token.origin,
            base_url,
            user_agent,
            policy: self.retry_policy,
            budget: self.retry_budget,
            rate,
            pace: self.pace,
            timer: self.timer,
        }))
    }
}

/// The client's constructors live with its builder: the handle does not
/// know how it is built.
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
}

#[cfg(test)]
mod tests;
