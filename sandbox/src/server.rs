//! The HTTP side: routing, authentication, faults, and the two listings.
//! The answers are rendered in `responses`, the budgets kept in `rate`,
//! the shared state in `state`.

mod rate;
mod responses;
mod state;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::Response;
use axum::routing::get;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::sync::oneshot;

pub(crate) use rate::Budgets;
pub(crate) use state::{Shared, StatsInner};

use crate::RecordedRequest;
use crate::data::{Item, ResourceType};
use responses::PagePosition;

pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    stopped: oneshot::Receiver<()>,
) -> std::io::Result<()> {
    let app = Router::new()
        .route("/v2/snapshots", get(snapshots))
        .route(
            "/v2/droplets/{droplet_id}/snapshots",
            get(droplet_snapshots),
        )
        .fallback(unknown)
        .with_state(shared);
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = stopped.await;
        })
        .await
}

enum Route {
    Snapshots,
    DropletSnapshots(String),
    Unknown,
}

async fn snapshots(State(shared): State<Arc<Shared>>, uri: Uri, headers: HeaderMap) -> Response {
    handle(shared, Route::Snapshots, uri, headers).await
}

async fn droplet_snapshots(
    State(shared): State<Arc<Shared>>,
    Path(droplet_id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    handle(shared, Route::DropletSnapshots(droplet_id), uri, headers).await
}

async fn unknown(State(shared): State<Arc<Shared>>, uri: Uri, headers: HeaderMap) -> Response {
    handle(shared, Route::Unknown, uri, headers).await
}

/// Counts a request in flight for as long as it lives, even when the
/// client goes away and the handler is dropped.
struct InFlight<'a>(&'a StatsInner);

impl<'a> InFlight<'a> {
    /// Takes a slot, unless `limit` requests already hold one (then
    /// `None`: the gateway turns this one away).
    fn enter(stats: &'a StatsInner, limit: Option<usize>) -> Option<Self> {
        let before = stats
            .in_flight
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                limit.is_none_or(|limit| n < limit).then_some(n + 1)
            })
            .ok()?;
        stats.max_in_flight.fetch_max(before + 1, Ordering::SeqCst);
        Some(Self(stats))
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
    // Faults are drawn from (seed, seq): the same request sequence meets
    // the same faults.
    let mut rng = ChaCha8Rng::seed_from_u64(shared.seed ^ seq.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let faults = &shared.faults;
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .filter(|t| !t.is_empty());
    let query = uri.query().unwrap_or("").to_owned();
    let record = |status: StatusCode, query: String| {
        stats.record(RecordedRequest {
            seq,
            path: uri.path().to_owned(),
            query,
            authorized: bearer.is_some(),
            status: status.as_u16(),
        });
    };

    // The gateway in front: over its limit, a 429 at once.
    let Some(_in_flight) = InFlight::enter(stats, faults.in_flight_limit) else {
        let limit = faults.in_flight_limit.unwrap_or_default();
        let response = responses::too_many_in_flight(&mut rng, limit);
        record(response.status(), query);
        return response;
    };

    let delay = faults.latency + faults.jitter.mul_f64(rng.random::<f64>());
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }

    let mut response = authorized(&shared, &route, &query, bearer, &mut rng, seq);
    if response.status() == StatusCode::OK {
        response = body_faults(&shared, response, &headers, &mut rng).await;
    }
    record(response.status(), query);
    response
}

/// What the faults do to the body of a `200`: truncate it, stall it,
/// make it endless, compress it, or replace it with a zip bomb.
async fn body_faults(
    shared: &Shared,
    response: Response,
    headers: &HeaderMap,
    rng: &mut ChaCha8Rng,
) -> Response {
    let faults = &shared.faults;
    if let Some(size) = faults.gzip_bomb {
        return responses::gzip_bomb(size);
    }
    if faults.endless_body {
        let first = crate::sync::read(&shared.data).snapshots.first().cloned();
        return responses::endless(first.as_ref());
    }
    if let Some(bytes) = faults.stall_body_after {
        return responses::stall_after(response, bytes).await;
    }
    if faults.truncated > 0.0 && rng.random_bool(faults.truncated.clamp(0.0, 1.0)) {
        return responses::truncate(response).await;
    }
    let accepts_gzip = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
    if faults.gzip && accepts_gzip {
        return responses::gzip(response).await;
    }
    response
}

/// Checks the token and the rate limit, then answers; every answer
/// carries the token's `ratelimit-*` headers.
fn authorized(
    shared: &Shared,
    route: &Route,
    query: &str,
    bearer: Option<&str>,
    rng: &mut ChaCha8Rng,
    seq: u64,
) -> Response {
    let revoked = shared
        .faults
        .revoke_token_after
        .is_some_and(|after| seq > after);
    let allowed = !revoked
        && match (&shared.token, bearer) {
            (Some(required), Some(given)) => required == given,
            (None, Some(_)) => true,
            (_, None) => false,
        };
    let Some(key) = bearer.filter(|_| allowed) else {
        let mut response = responses::error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Unable to authenticate you.",
            rng,
        );
        shared
            .budgets
            .peek(bearer.unwrap_or("anonymous"))
            .apply(response.headers_mut());
        return response;
    };
    let (mut response, rate) = match shared.budgets.charge(key) {
        Ok(rate) => (route_request(shared, route, query, rng, seq), rate),
        Err((rate, retry_after)) => (responses::too_many_requests(rng, retry_after), rate),
    };
    rate.apply(response.headers_mut());
    if response.status() == StatusCode::TOO_MANY_REQUESTS {
        rate::conflicting_429(&shared.faults, response.headers_mut());
    }
    if shared.faults.strip_rate_limit_headers {
        let headers = response.headers_mut();
        for name in ["ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"] {
            headers.remove(name);
        }
    }
    response
}

fn route_request(
    shared: &Shared,
    route: &Route,
    query: &str,
    rng: &mut ChaCha8Rng,
    seq: u64,
) -> Response {
    if let Some(fault) = injected_fault(shared, rng, seq) {
        return fault;
    }
    match route {
        Route::Unknown => not_found(rng),
        Route::DropletSnapshots(_)
            if shared
                .faults
                .droplets_gone_after
                .is_some_and(|after| seq > after) =>
        {
            not_found(rng)
        }
        Route::DropletSnapshots(raw_id) => match Params::parse(query, false) {
            Ok(params) => droplet_page(shared, raw_id, &params, rng),
            Err(message) => responses::error(StatusCode::BAD_REQUEST, "bad_request", &message, rng),
        },
        Route::Snapshots => match Params::parse(query, true) {
            Ok(params) => snapshots_page(shared, &params, rng),
            Err(message) => responses::error(StatusCode::BAD_REQUEST, "bad_request", &message, rng),
        },
    }
}

/// A periodic 429 or a random 500/502/503, when the faults call for one.
fn injected_fault(shared: &Shared, rng: &mut ChaCha8Rng, seq: u64) -> Option<Response> {
    let faults = &shared.faults;
    if let Some(k) = faults.every_kth_429.filter(|k| *k > 0)
        && seq.is_multiple_of(k)
    {
        return Some(responses::too_many_requests(
            rng,
            faults.retry_after_secs.max(1),
        ));
    }
    if let Some(k) = faults.every_kth_503.filter(|k| *k > 0)
        && seq.is_multiple_of(k)
    {
        let mut response = responses::empty(StatusCode::SERVICE_UNAVAILABLE);
        if let Some(value) = faults
            .retry_after_503
            .as_deref()
            .and_then(|v| header::HeaderValue::from_str(v).ok())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return Some(response);
    }
    let draw = rng.random::<f64>();
    let kth_500 = faults
        .every_kth_500
        .is_some_and(|k| k > 0 && seq.is_multiple_of(k));
    if kth_500 || draw < faults.error_500 {
        let message = match faults.long_500_message {
            Some(chars) => stack_trace(chars),
            None => "Unexpected server-side error".to_owned(),
        };
        return Some(responses::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            &message,
            rng,
        ));
    }
    if draw < faults.error_500 + faults.error_502 {
        return Some(responses::gateway_page());
    }
    if draw < faults.error_500 + faults.error_502 + faults.error_503 {
        return Some(responses::empty(StatusCode::SERVICE_UNAVAILABLE));
    }
    None
}

/// A message of `chars` characters over many lines, as a server that
/// answers with its stack trace.
fn stack_trace(chars: usize) -> String {
    let mut message = String::from("panic: runtime error: invalid memory address\n");
    let mut frame = 0;
    while message.len() < chars {
        message.push_str(&format!(
            "goroutine 1 [running]:\n\tsnapshots.(*Lister).Page(0xc000{frame:04x})\n\t\t/src/snapshots/list.go:{}\n",
            100 + frame
        ));
        frame += 1;
    }
    message.truncate(chars);
    message
}

fn not_found(rng: &mut ChaCha8Rng) -> Response {
    responses::error(
        StatusCode::NOT_FOUND,
        "not_found",
        "The resource you were accessing could not be found.",
        rng,
    )
}

fn droplet_page(shared: &Shared, raw_id: &str, params: &Params, rng: &mut ChaCha8Rng) -> Response {
    let data = crate::sync::read(&shared.data);
    let items = raw_id
        .parse::<u64>()
        .ok()
        .and_then(|id| data.droplets.get(&id));
    let Some(items) = items else {
        return not_found(rng);
    };
    let path = format!("/v2/droplets/{raw_id}/snapshots");
    let position = params.position(shared, &path);
    let mut listed: Vec<&Item> = items.iter().collect();
    if shared.faults.unstable_batches {
        shuffle_batches(&mut listed, rng);
    }
    let window = window(listed.into_iter(), params.page, params.per_page);
    let total = i64::try_from(items.len()).unwrap_or(i64::MAX);
    let response = responses::page(&position, &window, total);
    drop(data);
    after_page(shared, raw_id.parse().ok(), false);
    response
}

/// The items of page `page` at `size` items a page.
fn window<'a>(items: impl Iterator<Item = &'a Item>, page: u64, size: u64) -> Vec<&'a Item> {
    let skip = page.saturating_sub(1).saturating_mul(size);
    let skip = usize::try_from(skip).unwrap_or(usize::MAX);
    let take = usize::try_from(size).unwrap_or(usize::MAX);
    items.skip(skip).take(take).collect()
}

/// A page of the account's snapshots, through the listing faults (cap,
/// holes, repeats, duplicates, a lying total), then drift.
fn snapshots_page(shared: &Shared, params: &Params, rng: &mut ChaCha8Rng) -> Response {
    let faults = &shared.faults;
    let response = {
        let data = crate::sync::read(&shared.data);
        let wanted = params
            .resource_type
            .filter(|_| !faults.ignore_resource_type);
        let matching = |item: &&Item| wanted.is_none_or(|w| item.resource_type == w);
        let truth = match wanted {
            None => data.snapshots.len(),
            Some(_) => data.snapshots.iter().filter(matching).count(),
        };
        let size = faults
            .page_cap
            .map_or(params.per_page, |cap| cap.clamp(1, params.per_page));
        let page = if faults.repeat_first_page {
            1
        } else {
            params.page
        };
        let mut items = if take_hole(shared, params.page) {
            Vec::new()
        } else if faults.unstable_batches {
            let mut listed: Vec<&Item> = data.snapshots.iter().filter(matching).collect();
            shuffle_batches(&mut listed, rng);
            window(listed.into_iter(), page, size)
        } else {
            window(data.snapshots.iter().filter(matching), page, size)
        };
        let repeats = faults.duplicates_in_page.min(items.len() / 2);
        for i in 0..repeats {
            let last = items.len() - 1 - i;
            items[last] = items[i];
        }
        let truth = i64::try_from(truth).unwrap_or(i64::MAX);
        let total = faults.total.report(truth, params.page);
        let position = params.position(shared, "/v2/snapshots");
        responses::page(&position, &items, total)
    };
    after_page(shared, None, true);
    response
}

/// Shuffles every run of snapshots that share a `created_at`: this
/// query's order of each batch.
fn shuffle_batches(listed: &mut [&Item], rng: &mut ChaCha8Rng) {
    let mut start = 0;
    while start < listed.len() {
        let at = &listed[start].created_at;
        let run = listed[start..]
            .iter()
            .take_while(|i| i.created_at == *at)
            .count();
        listed[start..start + run].shuffle(rng);
        start += run;
    }
}

/// What changes after a page served (of the account's listing, or of
/// `droplet`'s), when the faults call for it: late snapshots and grown
/// sizes come due, then drift (after the account's pages) and rotation.
fn after_page(shared: &Shared, droplet: Option<u64>, account: bool) {
    let faults = &shared.faults;
    let drift = account && (faults.drift_insert > 0 || faults.drift_delete > 0);
    let waits = faults.late_snapshots.is_some() || faults.growing_sizes > 0;
    if !(drift || waits || faults.rotate > 0) {
        return;
    }
    let mut data = crate::sync::write(&shared.data);
    let pages = data.page_served();
    // Changes after every k-th page only, and none after the last page
    // they are allowed for (a burst, then quiet).
    let every = faults.changes_every.max(1);
    let due =
        pages.is_multiple_of(every) && faults.changes_stop_after.is_none_or(|stop| pages <= stop);
    if drift && due {
        data.drift(faults, unix_now());
    }
    if faults.rotate > 0 && due {
        data.rotate(faults, unix_now(), droplet);
    }
}

/// The server's clock (the one hyper stamps `Date` with), in Unix
/// seconds: what new snapshots are stamped with.
fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Whether page `page` is a hole not served yet (and now served).
fn take_hole(shared: &Shared, page: u64) -> bool {
    let mut holes = crate::sync::lock(&shared.holes);
    match holes.iter().position(|h| *h == page) {
        Some(index) => {
            holes.remove(index);
            true
        }
        None => false,
    }
}

/// The query of a listing, checked as the API checks it.
struct Params {
    page: u64,
    per_page: u64,
    resource_type: Option<ResourceType>,
    /// The filter as given, repeated in the links.
    resource_type_text: Option<String>,
}

impl Params {
    fn parse(query: &str, filterable: bool) -> Result<Self, String> {
        let mut params = Params {
            page: 1,
            per_page: 20,
            resource_type: None,
            resource_type_text: None,
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
                "resource_type" if filterable => {
                    let resource_type = ResourceType::parse(&value)
                        .filter(|t| *t != ResourceType::Other)
                        .ok_or_else(|| {
                            format!("resource_type must be one of droplet, volume, got `{value}`")
                        })?;
                    params.resource_type = Some(resource_type);
                    params.resource_type_text = Some(value.into_owned());
                }
                // Unknown parameters are ignored, as the API does.
                _ => {}
            }
        }
        Ok(params)
    }

    fn position<'a>(&'a self, shared: &'a Shared, path: &'a str) -> PagePosition<'a> {
        PagePosition {
            base_url: &shared.base_url,
            next_base_url: shared
                .faults
                .foreign_next_link
                .as_deref()
                .unwrap_or(&shared.base_url),
            path,
            page: self.page,
            per_page: self.per_page,
            resource_type: self.resource_type_text.as_deref(),
        }
    }
}
