//! The only neighbour of the generated client.
//!
//! This module is the one place that names `crate::generated`,
//! `progenitor_client` and `reqwest`'s headers. It builds the HTTP client,
//! implements progenitor's [`ClientHooks`] for the generated client, runs
//! one call (one attempt: retries are the caller's), and turns its outcome
//! into crate types: a [`PageAnswer`] (the page's items, `meta`, `links`
//! and the [`RateLimit`](crate::RateLimit) of its headers),
//! or an [`Error`] (error bodies, `retry-after`, `x-request-id`, the
//! error-body limit, token scrubbing).
//!
//! Only 2xx responses are generated (see `build.rs`), so every error
//! status arrives here as progenitor's `UnexpectedResponse`, whole.

use std::cell::Cell;
use std::future::Future;
use std::num::NonZeroU64;
use std::sync::Arc;
use std::time::{Duration, Instant};

use progenitor_client::{ClientHooks, ClientInfo, OperationInfo, ResponseValue};
use reqwest::header::{self, HeaderMap, HeaderValue};
use serde::de::DeserializeOwned;

use crate::clock::Timer;
use crate::error::{self, BodyLimit, DecodeError, Error, Result};
use crate::generated::{self, types};
use crate::model::{DropletSnapshot, PageLinks, ResourceType, Snapshot};
use crate::rate::RateState;
use crate::redact;

mod answer;
mod body;

use answer::{AnswerHeaders, api_error};

pub(crate) use body::BodyLimits;
use body::{read_bounded, read_limited};

/// Error bodies are read up to this size; the rest is discarded.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// The generated client, as [`Client::raw`](crate::Client::raw) returns it.
#[cfg(feature = "raw-client")]
#[cfg_attr(docsrs, doc(cfg(feature = "raw-client")))]
pub type RawClient = generated::Client;

/// What the transport needs to know about an operation to report on it.
#[derive(Debug)]
pub(crate) struct Operation {
    /// Method and path template, as shown in errors and logs.
    pub(crate) name: &'static str,
    /// The OAuth scope the operation needs (named in a 401 or 403).
    pub(crate) scope: &'static str,
}

/// One page as the server sent it, in crate types: its body and what its
/// headers said.
#[derive(Debug)]
pub(crate) struct PageAnswer<T> {
    pub(crate) items: Vec<T>,
    /// `meta.total`, as the server sent it (signed, as upstream allows;
    /// checked when the page is made).
    pub(crate) total: i64,
    pub(crate) links: PageLinks,
    pub(crate) headers: AnswerHeaders,
}

/// A root certificate to trust besides the system's. (Without a TLS
/// backend nothing reads them: `build` refuses them.)
#[derive(Clone)]
#[cfg_attr(not(any(feature = "rustls", feature = "native-tls")), allow(dead_code))]
pub(crate) enum Certificate {
    Pem(Vec<u8>),
    Der(Vec<u8>),
}

/// What the HTTP client is built from; every value already checked.
pub(crate) struct HttpSettings<'a> {
    pub(crate) base_url: &'a str,
    pub(crate) token: &'a str,
    /// Where the token came from, for a 401's message.
    pub(crate) token_origin: &'static str,
    pub(crate) user_agent: &'a str,
    pub(crate) timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) root_certificates: &'a [Certificate],
    pub(crate) proxy: &'a ProxySetting,
    pub(crate) limits: BodyLimits,
    pub(crate) timer: Arc<dyn Timer>,
    pub(crate) rate: Arc<RateState>,
}

/// Which proxy requests go through.
#[derive(Clone, Debug)]
pub(crate) enum ProxySetting {
    /// What the environment (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`,
    /// `NO_PROXY`) or the system's settings say: reqwest's default.
    Environment,
    /// This proxy, for every request.
    Url(url::Url),
    /// None, whatever the environment says.
    Off,
}

/// The TLS backend the build has (`rustls` when both features are on)
/// and the extra roots trusted besides the system's.
#[cfg(any(feature = "rustls", feature = "native-tls"))]
fn with_tls(
    http: reqwest::ClientBuilder,
    settings: &HttpSettings<'_>,
) -> Result<reqwest::ClientBuilder> {
    let mut certificates = Vec::new();
    for (index, certificate) in settings.root_certificates.iter().enumerate() {
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
    #[cfg(feature = "rustls")]
    let http = http.tls_backend_rustls();
    #[cfg(all(feature = "native-tls", not(feature = "rustls")))]
    let http = http.tls_backend_native();
    Ok(http.tls_certs_merge(certificates))
}

/// A build without a TLS backend reaches plain `http://` servers only
/// (loopback fakes); anything that needs TLS is a `Config` error, never a
/// failure on the first request.
#[cfg(not(any(feature = "rustls", feature = "native-tls")))]
fn with_tls(
    http: reqwest::ClientBuilder,
    settings: &HttpSettings<'_>,
) -> Result<reqwest::ClientBuilder> {
    if settings.base_url.starts_with("https:") || !settings.root_certificates.is_empty() {
        return Err(Error::config(
            "this build of digitalocean-snapshots has no TLS backend: enable its `rustls` (the default) or `native-tls` feature to reach an https:// API",
        ));
    }
    Ok(http)
}

/// A proxy URL as shown: its password replaced, never shown.
pub(crate) fn proxy_shown(url: &url::Url) -> String {
    let mut shown = url.clone();
    if shown.password().is_some() {
        // A URL that has a password has a host: setting one cannot fail.
        let _ = shown.set_password(Some("***"));
    }
    shown.to_string()
}

/// The generated client, with what it needs to read bodies and report
/// errors.
pub(crate) struct Transport {
    raw: generated::Client,
    /// Kept only to scrub it from what a server echoes back.
    secret: String,
    token_origin: &'static str,
    limits: BodyLimits,
    timer: Arc<dyn Timer>,
    /// Where every answer's rate-limit report goes, freshest first.
    rate: Arc<RateState>,
}

/// What one call's hooks share with the transport: the limits in, the
/// limit a body broke out. Set for the duration of one generated call.
struct CallState {
    limits: BodyLimits,
    timer: Arc<dyn Timer>,
    broken: Cell<Option<BodyLimit>>,
    /// When the response's head arrived, to order rate-limit reports.
    arrived: Cell<Option<Instant>>,
}

tokio::task_local! {
    static CALL: CallState;
}

impl ClientHooks for generated::Client {
    /// Sends only what the API documents: progenitor adds an
    /// `api-version` header (from `info.version`) that DigitalOcean does
    /// not.
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        _info: &OperationInfo,
    ) -> std::result::Result<(), progenitor_client::Error<E>> {
        request.headers_mut().remove("api-version");
        Ok(())
    }

    /// Sends the request, then reads a success body through the call's
    /// limits (size after decompression, wait between pieces), so a
    /// hostile body never holds more than the limit in memory. A broken
    /// limit is recorded for the transport, which reports it whatever
    /// progenitor makes of the empty body handed on.
    async fn exec(
        &self,
        request: reqwest::Request,
        _info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        let response = self.client().execute(request).await?;
        let _ = CALL.try_with(|call| call.arrived.set(Some(call.timer.now())));
        if !response.status().is_success() {
            // Error bodies are read, to a smaller limit, by the transport.
            return Ok(response);
        }
        let Ok((limits, timer)) = CALL.try_with(|call| (call.limits, Arc::clone(&call.timer)))
        else {
            return Ok(response);
        };
        let (response, broken) = read_bounded(response, limits, timer.as_ref()).await?;
        if broken.is_some() {
            let _ = CALL.try_with(|call| call.broken.set(broken));
        }
        Ok(response)
    }
}

impl Transport {
    /// Builds the HTTP client: the token as a sensitive default header,
    /// timeouts, extra roots, no redirects.
    pub(crate) fn new(settings: &HttpSettings<'_>) -> Result<Self> {
        let origin = settings.token_origin;
        let mut authorization = HeaderValue::try_from(format!("Bearer {}", settings.token))
            .map_err(|_| {
                Error::config(format!(
                    "the access token from {origin} cannot be sent in a header"
                ))
            })?;
        // Keeps it out of reqwest's and http's Debug output and HTTP/2 tables.
        authorization.set_sensitive(true);
        let user_agent = HeaderValue::from_str(settings.user_agent).map_err(|_| {
            Error::config("the user agent contains a character that is not allowed in a header")
        })?;
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, authorization);
        let mut http = with_tls(reqwest::Client::builder(), settings)?;
        match settings.proxy {
            ProxySetting::Environment => {}
            ProxySetting::Off => http = http.no_proxy(),
            ProxySetting::Url(url) => {
                let proxy = reqwest::Proxy::all(url.as_str()).map_err(|_| {
                    Error::config(format!("the proxy {} cannot be used", proxy_shown(url)))
                })?;
                http = http.proxy(proxy);
            }
        }
        let http = http
            .default_headers(headers)
            .user_agent(user_agent)
            .timeout(settings.timeout)
            .connect_timeout(settings.connect_timeout)
            // The API does not redirect these reads; a redirect would be a
            // way to carry the token elsewhere. Report it instead.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::config_with_source("the HTTP client cannot be built", e))?;
        Ok(Self {
            raw: generated::Client::new_with_client(settings.base_url, http),
            secret: settings.token.to_owned(),
            token_origin: origin,
            limits: settings.limits,
            timer: Arc::clone(&settings.timer),
            rate: Arc::clone(&settings.rate),
        })
    }

    /// The generated client (feature `raw-client`).
    #[cfg(feature = "raw-client")]
    pub(crate) fn raw(&self) -> &RawClient {
        &self.raw
    }

    /// One attempt at a page of one droplet's snapshots.
    pub(crate) async fn droplet_snapshots(
        &self,
        op: &Operation,
        droplet_id: NonZeroU64,
        page: Option<NonZeroU64>,
        per_page: Option<NonZeroU64>,
    ) -> Result<PageAnswer<DropletSnapshot>> {
        // Progenitor's builder interface: a parameter upstream adds later
        // is one more optional setter, and this call still compiles.
        let mut call = self.raw.droplets_list_snapshots().droplet_id(droplet_id);
        if let Some(page) = page {
            call = call.page(page);
        }
        if let Some(per_page) = per_page {
            call = call.per_page(per_page);
        }
        let (body, headers) = self.bounded(op, call.send()).await?;
        Ok(page_answer(body.snapshots, body.meta, body.links, headers))
    }

    /// One attempt at a page of the account's snapshots.
    pub(crate) async fn snapshots(
        &self,
        op: &Operation,
        page: Option<NonZeroU64>,
        per_page: Option<NonZeroU64>,
        resource_type: Option<&ResourceType>,
    ) -> Result<PageAnswer<Snapshot>> {
        let mut call = self.raw.snapshots_list();
        if let Some(page) = page {
            call = call.page(page);
        }
        if let Some(per_page) = per_page {
            call = call.per_page(per_page);
        }
        if let Some(resource_type) = resource_type {
            call = call.resource_type(resource_type.clone());
        }
        let (body, headers) = self.bounded(op, call.send()).await?;
        Ok(page_answer(body.snapshots, body.meta, body.links, headers))
    }

    /// Runs one generated call with this transport's body limits, reports
    /// a broken limit before anything progenitor made of it, records the
    /// answer's rate limit and logs the outcome.
    async fn bounded<T: DeserializeOwned>(
        &self,
        op: &Operation,
        call: impl Future<Output = std::result::Result<ResponseValue<T>, progenitor_client::Error<()>>>,
    ) -> Result<(T, AnswerHeaders)> {
        let started = self.timer.now();
        let state = CallState {
            limits: self.limits,
            timer: Arc::clone(&self.timer),
            broken: Cell::new(None),
            arrived: Cell::new(None),
        };
        let (result, broken, arrived) = CALL
            .scope(state, async {
                let result = call.await;
                let (broken, arrived) = CALL.with(|call| (call.broken.take(), call.arrived.get()));
                (result, broken, arrived)
            })
            .await;
        let outcome = match broken {
            Some(limit) => Err(Error::body_limit(limit).with_operation(op.name)),
            None => self.finish(op, result).await,
        };
        let report = match &outcome {
            Ok((_, headers)) => headers.rate_limit.map(|r| (r, true)),
            Err(error) => error.rate_limit().map(|r| (*r, false)),
        };
        if let Some((rate, success)) = report {
            let at = arrived.unwrap_or_else(|| self.timer.now());
            self.rate.record(rate, at, success);
        }
        log_outcome(
            op,
            self.timer.now().saturating_duration_since(started),
            &outcome,
        );
        outcome
    }

    /// Turns the generated call's outcome into the decoded body and the
    /// rate limit its headers reported, or a typed error.
    async fn finish<T: DeserializeOwned>(
        &self,
        op: &Operation,
        result: std::result::Result<ResponseValue<T>, progenitor_client::Error<()>>,
    ) -> Result<(T, AnswerHeaders)> {
        match result {
            Ok(value) => {
                let headers = AnswerHeaders::of(value.headers());
                Ok((value.into_inner(), headers))
            }
            Err(error) => Err(self.convert_error::<T>(op, error).await),
        }
    }

    async fn convert_error<T: DeserializeOwned>(
        &self,
        op: &Operation,
        error: progenitor_client::Error<()>,
    ) -> Error {
        use progenitor_client::Error as Raw;
        let mut converted = match error {
            Raw::CommunicationError(e) | Raw::ResponseBodyError(e) | Raw::InvalidUpgrade(e) => {
                transport_error(e)
            }
            // Only a 200 has a documented body (see build.rs), so a payload
            // error is always a 200 whose body did not decode. Decode again
            // on this cold path to learn where.
            Raw::InvalidResponsePayload(body, e) => decode_error::<T>(200, &body, e, &self.secret),
            Raw::UnexpectedResponse(response) => {
                let status = response.status().as_u16();
                let headers = response.headers().clone();
                let body = read_limited(response, ERROR_BODY_LIMIT).await;
                // Whole, before any excerpt is cut from it.
                let body = redact::redact_body(&body, &self.secret);
                if (200..300).contains(&status) {
                    DecodeError::new(
                        status,
                        ".",
                        format!("unexpected success status {status}, expected 200"),
                        &body,
                    )
                    .into()
                } else {
                    let now = self.timer.wall_clock();
                    let mut api =
                        api_error(status, &headers, &body, now).with_required_scope(op.scope);
                    api.set_token_source(self.token_origin);
                    Error::from(api)
                }
            }
            // Only generated for documented error bodies, and none are.
            Raw::ErrorResponse(value) => {
                let now = self.timer.wall_clock();
                Error::from(api_error(
                    value.status().as_u16(),
                    value.headers(),
                    &[],
                    now,
                ))
            }
            Raw::InvalidRequest(reason) => Error::invalid_input("request", reason),
            Raw::Custom(reason) => Error::config(reason),
        };
        error::scrub(&mut converted, &self.secret);
        converted.with_operation(op.name)
    }
}

fn log_outcome<T>(op: &Operation, elapsed: Duration, result: &Result<T>) {
    let elapsed_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
    match result {
        Ok(_) => tracing::debug!(operation = op.name, elapsed_ms, "request succeeded"),
        Err(e) => tracing::debug!(
            operation = op.name,
            elapsed_ms,
            status = e.status(),
            kind = ?e.kind(),
            "request failed"
        ),
    }
}

fn page_answer<T>(
    items: Vec<T>,
    meta: types::Meta,
    links: Option<PageLinks>,
    headers: AnswerHeaders,
) -> PageAnswer<T> {
    PageAnswer {
        items,
        total: meta.total,
        links: links.unwrap_or_default(),
        headers,
    }
}

fn transport_error(source: reqwest::Error) -> Error {
    if source.is_timeout() {
        Error::timeout(source)
    } else if source.is_connect() {
        Error::connect(source)
    } else {
        Error::transport(source)
    }
}

/// A 200 whose body did not decode: where and why (decoded again on
/// this cold path), with an excerpt of the body the token was redacted
/// from.
fn decode_error<T: DeserializeOwned>(
    status: u16,
    body: &[u8],
    fallback: serde_json::Error,
    secret: &str,
) -> Error {
    let shown = redact::redact_body(body, secret);
    let mut de = serde_json::Deserializer::from_slice(body);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Err(e) => {
            let path = e.path().to_string();
            DecodeError::new(status, path, e.into_inner().to_string(), shown).into()
        }
        // The value decodes but something follows it.
        Ok(_) => DecodeError::new(status, ".", fallback.to_string(), shown).into(),
    }
}
