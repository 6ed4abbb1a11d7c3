//! The HTTP side: routing, authentication, rate limits, faults, rendering.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::Response;
use axum::routing::get;
use futures_util::StreamExt;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::data::{Item, Kind};
use crate::{RecordedRequest, Shared, StatsInner};

pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    stopped: oneshot::Receiver<()>,
) -> std::io::Result<()> {
    let app = Router::new()
        .route("/v2/snapshots", get(account))
        .route("/v2/droplets/{droplet_id}/snapshots", get(droplet))
        .fallback(unknown)
        .with_state(shared);
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = stopped.await;
        })
        .await
}

enum Route {
    Account,
    Droplet(String),
    Unknown,
}

async fn account(State(shared): State<Arc<Shared>>, uri: Uri, headers: HeaderMap) -> Response {
    handle(shared, Route::Account, uri, headers).await
}

async fn droplet(
    State(shared): State<Arc<Shared>>,
    Path(droplet_id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    handle(shared, Route::Droplet(droplet_id), uri, headers).await
}

async fn unknown(State(shared): State<Arc<Shared>>, uri: Uri, headers: HeaderMap) -> Response {
    handle(shared, Route::Unknown, uri, headers).await
}

/// Counts a request in flight for as long as it lives, even when the
/// client goes away and the handler is dropped.
struct InFlight<'a>(&'a StatsInner);

impl<'a> InFlight<'a> {
    fn enter(stats: &'a StatsInner) -> Self {
        let now = stats.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        stats.max_in_flight.fetch_max(now, Ordering::SeqCst);
        Self(stats)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn handle(shared: Arc<Shared>, route: Route, uri: Uri, headers: HeaderMap) -> Response {
    let stats = &shared.stats;
    let seq = stats.requests.fetch_add(1, Ordering::SeqCst) + 1;
    let _in_flight = InFlight::enter(stats);
    // Faults are drawn from (seed, seq): the same request sequence meets
    // the same faults.
    let mut rng = ChaCha8Rng::seed_from_u64(shared.seed ^ seq.wrapping_mul(0x9E37_79B9_7F4A_7C15));

    let faults = &shared.faults;
    let delay = faults.latency + faults.jitter.mul_f64(rng.random::<f64>());
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }

    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .filter(|t| !t.is_empty());
    let authorized = match (&shared.token, bearer) {
        (Some(required), Some(given)) => required == given,
        (None, Some(_)) => true,
        (_, None) => false,
    };
    let query = uri.query().unwrap_or("").to_owned();
    let mut response = if authorized {
        let key = bearer.unwrap_or_default();
        match charge(&shared, key) {
            Ok(rate) => {
                let mut response = route_request(&shared, &route, &query, &mut rng, seq);
                rate.apply(response.headers_mut());
                response
            }
            Err((rate, retry_after)) => {
                let mut response = too_many_requests(&mut rng, retry_after);
                rate.apply(response.headers_mut());
                response
            }
        }
    } else {
        let mut response = error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Unable to authenticate you.",
            &mut rng,
        );
        peek(&shared, bearer.unwrap_or("anonymous")).apply(response.headers_mut());
        response
    };
    if response.status() == StatusCode::OK
        && faults.truncated > 0.0
        && rng.random_bool(faults.truncated.clamp(0.0, 1.0))
    {
        response = truncate(response).await;
    }
    stats.record(RecordedRequest {
        seq,
        path: uri.path().to_owned(),
        query,
        authorized: bearer.is_some(),
        status: response.status().as_u16(),
    });
    response
}

fn route_request(
    shared: &Shared,
    route: &Route,
    query: &str,
    rng: &mut ChaCha8Rng,
    seq: u64,
) -> Response {
    let faults = &shared.faults;
    if let Some(k) = faults.every_kth_429.filter(|k| *k > 0)
        && seq.is_multiple_of(k)
    {
        return too_many_requests(rng, faults.retry_after_secs.max(1));
    }
    let draw = rng.random::<f64>();
    if draw < faults.error_500 {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "Unexpected server-side error",
            rng,
        );
    }
    if draw < faults.error_500 + faults.error_502 {
        return gateway_page();
    }
    if draw < faults.error_500 + faults.error_502 + faults.error_503 {
        return empty(StatusCode::SERVICE_UNAVAILABLE);
    }

    match route {
        Route::Unknown => error(
            StatusCode::NOT_FOUND,
            "not_found",
            "The resource you were accessing could not be found.",
            rng,
        ),
        Route::Droplet(raw_id) => {
            let params = match Params::parse(query, false) {
                Ok(params) => params,
                Err(message) => {
                    return error(StatusCode::BAD_REQUEST, "bad_request", &message, rng);
                }
            };
            let Ok(data) = shared.data.read() else {
                return empty(StatusCode::INTERNAL_SERVER_ERROR);
            };
            let items = raw_id
                .parse::<u64>()
                .ok()
                .and_then(|id| data.droplets.get(&id));
            let Some(items) = items else {
                return error(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    "The resource you were accessing could not be found.",
                    rng,
                );
            };
            let path = format!("/v2/droplets/{raw_id}/snapshots");
            let body = render_page(shared, &path, &params, items.iter(), items.len());
            json(StatusCode::OK, body)
        }
        Route::Account => {
            let params = match Params::parse(query, true) {
                Ok(params) => params,
                Err(message) => {
                    return error(StatusCode::BAD_REQUEST, "bad_request", &message, rng);
                }
            };
            let body = {
                let Ok(data) = shared.data.read() else {
                    return empty(StatusCode::INTERNAL_SERVER_ERROR);
                };
                let wanted = params.kind;
                let matching = |item: &&Item| wanted.is_none_or(|w| item.kind == w);
                let total = match wanted {
                    None => data.account.len(),
                    Some(_) => data.account.iter().filter(matching).count(),
                };
                render_page(
                    shared,
                    "/v2/snapshots",
                    &params,
                    data.account.iter().filter(matching),
                    total,
                )
            };
            if (faults.drift_insert > 0 || faults.drift_delete > 0)
                && let Ok(mut data) = shared.data.write()
            {
                data.drift(faults.drift_insert, faults.drift_delete);
            }
            json(StatusCode::OK, body)
        }
    }
}

/// The query of a listing, checked as the API checks it.
struct Params {
    page: u64,
    per_page: u64,
    kind: Option<Kind>,
    resource_type: Option<String>,
}

impl Params {
    fn parse(query: &str, account: bool) -> Result<Self, String> {
        let mut params = Params {
            page: 1,
            per_page: 20,
            kind: None,
            resource_type: None,
        };
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            match name.as_ref() {
                "page" => {
                    params.page = value
                        .parse::<u64>()
                        .ok()
                        .filter(|p| *p >= 1)
                        .ok_or_else(|| format!("page must be an integer >= 1, got `{value}`"))?;
                }
                "per_page" => {
                    params.per_page = value
                        .parse::<u64>()
                        .ok()
                        .filter(|p| (1..=200).contains(p))
                        .ok_or_else(|| {
                            format!("per_page must be an integer from 1 to 200, got `{value}`")
                        })?;
                }
                "resource_type" if account => {
                    let kind = parse_kind(&value)
                        .filter(|k| *k != Kind::Other)
                        .ok_or_else(|| {
                            format!("resource_type must be one of droplet, volume, got `{value}`")
                        })?;
                    params.kind = Some(kind);
                    params.resource_type = Some(value.into_owned());
                }
                // Unknown parameters are ignored, as the API does.
                _ => {}
            }
        }
        Ok(params)
    }
}

pub(crate) fn parse_kind(value: &str) -> Option<Kind> {
    match value {
        "droplet" => Some(Kind::Droplet),
        "volume" => Some(Kind::Volume),
        "" => None,
        _ => Some(Kind::Other),
    }
}

/// Renders one page: the items are pre-rendered, so this is copying.
fn render_page<'a>(
    shared: &Shared,
    path: &str,
    params: &Params,
    items: impl Iterator<Item = &'a Item>,
    total: usize,
) -> String {
    let per_page = params.per_page;
    let skip = params.page.saturating_sub(1).saturating_mul(per_page);
    let skip = usize::try_from(skip).unwrap_or(usize::MAX);
    let mut body = String::with_capacity(64 * 1024);
    body.push_str("{\"snapshots\":[");
    for (i, item) in items.skip(skip).take(per_page as usize).enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(&item.json);
    }
    body.push_str("],\"links\":");
    let last = (total as u64).div_ceil(per_page).max(1);
    let link = |base: &str, page: u64| {
        let mut url = format!("{base}{path}?page={page}&per_page={per_page}");
        if let Some(resource_type) = &params.resource_type {
            let _ = write!(url, "&resource_type={resource_type}");
        }
        format!("{url:?}")
    };
    let mut pages: Vec<(&str, String)> = Vec::new();
    let base = shared.base_url.as_str();
    if params.page > 1 {
        pages.push(("first", link(base, 1)));
        pages.push(("prev", link(base, (params.page - 1).min(last))));
    }
    if params.page < last {
        let next_base = shared.faults.foreign_next_link.as_deref().unwrap_or(base);
        pages.push(("last", link(base, last)));
        pages.push(("next", link(next_base, params.page + 1)));
    }
    if pages.is_empty() {
        body.push_str("{}");
    } else {
        body.push_str("{\"pages\":{");
        for (i, (name, url)) in pages.iter().enumerate() {
            if i > 0 {
                body.push(',');
            }
            let _ = write!(body, "\"{name}\":{url}");
        }
        body.push_str("}}");
    }
    let _ = write!(body, ",\"meta\":{{\"total\":{total}}}}}");
    body
}

fn json(status: StatusCode, body: String) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

fn empty(status: StatusCode) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    response
}

fn request_id(rng: &mut ChaCha8Rng) -> String {
    let bytes: [u8; 16] = rng.random();
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string()
}

fn error(status: StatusCode, id: &str, message: &str, rng: &mut ChaCha8Rng) -> Response {
    let body = serde_json::json!({
        "id": id,
        "message": message,
        "request_id": request_id(rng),
    });
    json(status, body.to_string())
}

fn too_many_requests(rng: &mut ChaCha8Rng, retry_after: u64) -> Response {
    let mut response = error(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_requests",
        "API Rate limit exceeded.",
        rng,
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    response
}

fn gateway_page() -> Response {
    const PAGE: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>sandbox-gateway</center>\r\n</body>\r\n</html>\r\n";
    let mut response = Response::new(Body::from(PAGE));
    *response.status_mut() = StatusCode::BAD_GATEWAY;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
    response
}

/// Sends half the body, then aborts the connection.
async fn truncate(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let half = bytes.slice(..bytes.len() / 2);
    // The pause lets the head and the first half reach the client before
    // the connection is aborted, as when a proxy dies mid-body.
    let abort = async {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "sandbox: truncated body",
        ))
    };
    let chunks = futures_util::stream::iter([Ok::<_, std::io::Error>(half)])
        .chain(futures_util::stream::once(abort));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from_stream(chunks))
}

/// One token's rate-limit windows.
#[derive(Debug)]
pub(crate) struct Budget {
    hour_start: Instant,
    hour_used: u64,
    minute_start: Instant,
    minute_used: u64,
}

/// The rate-limit headers of one answer.
struct RateHeaders {
    limit: u64,
    remaining: u64,
    reset: u64,
}

impl RateHeaders {
    fn apply(&self, headers: &mut HeaderMap) {
        headers.insert("ratelimit-limit", HeaderValue::from(self.limit));
        headers.insert("ratelimit-remaining", HeaderValue::from(self.remaining));
        headers.insert("ratelimit-reset", HeaderValue::from(self.reset));
    }
}

fn roll(budget: &mut Budget, shared: &Shared, now: Instant) {
    let limits = &shared.rate_limits;
    if now.duration_since(budget.hour_start) >= limits.hour {
        budget.hour_start = now;
        budget.hour_used = 0;
    }
    if now.duration_since(budget.minute_start) >= limits.minute {
        budget.minute_start = now;
        budget.minute_used = 0;
    }
}

fn headers_for(budget: &Budget, shared: &Shared, now: Instant) -> RateHeaders {
    let limits = &shared.rate_limits;
    let until_reset = (budget.hour_start + limits.hour).saturating_duration_since(now);
    let reset = SystemTime::now()
        .checked_add(until_reset)
        .unwrap_or_else(SystemTime::now)
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() + u64::from(d.subsec_nanos() > 0))
        .unwrap_or(0);
    RateHeaders {
        limit: limits.per_hour,
        remaining: limits.per_hour.saturating_sub(budget.hour_used),
        reset,
    }
}

fn new_budget(now: Instant) -> Budget {
    Budget {
        hour_start: now,
        hour_used: 0,
        minute_start: now,
        minute_used: 0,
    }
}

/// Spends one request of `key`'s budget; on refusal, says how many seconds
/// to wait.
fn charge(shared: &Shared, key: &str) -> Result<RateHeaders, (RateHeaders, u64)> {
    let now = Instant::now();
    let limits = &shared.rate_limits;
    let Ok(mut budgets) = shared.budgets.lock() else {
        return Ok(RateHeaders {
            limit: limits.per_hour,
            remaining: limits.per_hour,
            reset: 0,
        });
    };
    let budget = budgets
        .entry(key.to_owned())
        .or_insert_with(|| new_budget(now));
    roll(budget, shared, now);
    let wait = |until: Instant| {
        until
            .saturating_duration_since(now)
            .as_secs_f64()
            .ceil()
            .max(1.0) as u64
    };
    if budget.hour_used >= limits.per_hour {
        let retry = wait(budget.hour_start + limits.hour);
        return Err((headers_for(budget, shared, now), retry));
    }
    if budget.minute_used >= limits.per_minute {
        let retry = wait(budget.minute_start + limits.minute);
        return Err((headers_for(budget, shared, now), retry));
    }
    budget.hour_used += 1;
    budget.minute_used += 1;
    Ok(headers_for(budget, shared, now))
}

/// The headers of `key`'s budget, without spending it.
fn peek(shared: &Shared, key: &str) -> RateHeaders {
    let now = Instant::now();
    let mut budgets = match shared.budgets.lock() {
        Ok(budgets) => budgets,
        Err(poisoned) => poisoned.into_inner(),
    };
    let budget = budgets
        .entry(key.to_owned())
        .or_insert_with(|| new_budget(now));
    roll(budget, shared, now);
    headers_for(budget, shared, now)
}
