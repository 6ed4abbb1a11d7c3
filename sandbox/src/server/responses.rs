//! The answers the sandbox gives, rendered with serde: pages of a listing,
//! DigitalOcean's error body, a gateway's HTML page, an empty answer, and
//! a body cut off mid-way.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use futures_util::StreamExt;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use serde_json::value::RawValue;

use crate::data::{Item, uuid};

/// One page of a listing, in the order DigitalOcean sends its keys.
#[derive(Serialize)]
struct PageBody<'a> {
    snapshots: Vec<&'a RawValue>,
    links: Links,
    meta: Meta,
}

/// `links`: `{}` on a lone page, else `{"pages": {...}}`.
#[derive(Default, Serialize)]
struct Links {
    #[serde(skip_serializing_if = "Option::is_none")]
    pages: Option<LinkPages>,
}

#[derive(Default, Serialize)]
struct LinkPages {
    #[serde(skip_serializing_if = "Option::is_none")]
    first: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prev: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next: Option<String>,
}

#[derive(Serialize)]
struct Meta {
    /// Signed, as upstream allows (a fault may send a negative one).
    total: i64,
}

/// Where a page sits in its listing, for its links.
pub(super) struct PagePosition<'a> {
    /// The sandbox's own base URL.
    pub(super) base_url: &'a str,
    /// The base URL of the `next` link (another host, as a fault).
    pub(super) next_base_url: &'a str,
    pub(super) path: &'a str,
    pub(super) page: u64,
    pub(super) per_page: u64,
    /// The filter, repeated in every link.
    pub(super) resource_type: Option<&'a str>,
}

impl PagePosition<'_> {
    fn link(&self, base: &str, page: u64) -> String {
        let mut url = format!("{base}{}?page={page}&per_page={}", self.path, self.per_page);
        if let Some(resource_type) = self.resource_type {
            url.push_str("&resource_type=");
            url.push_str(resource_type);
        }
        url
    }

    fn links(&self, total: i64) -> Links {
        let last = u64::try_from(total)
            .unwrap_or(0)
            .div_ceil(self.per_page)
            .max(1);
        let mut pages = LinkPages::default();
        if self.page > 1 {
            pages.first = Some(self.link(self.base_url, 1));
            pages.prev = Some(self.link(self.base_url, (self.page - 1).min(last)));
        }
        if self.page < last {
            pages.last = Some(self.link(self.base_url, last));
            pages.next = Some(self.link(self.next_base_url, self.page + 1));
        }
        let any = pages.first.is_some() || pages.last.is_some();
        Links {
            pages: any.then_some(pages),
        }
    }
}

/// Renders one page holding `items`, at `position`, with `meta.total`
/// saying `total`. The items are pre-rendered JSON, so this is copying.
pub(super) fn page(position: &PagePosition<'_>, items: &[&Item], total: i64) -> Response {
    let body = PageBody {
        snapshots: items.iter().map(|item| &*item.json).collect(),
        links: position.links(total),
        meta: Meta { total },
    };
    match serde_json::to_string(&body) {
        Ok(text) => json(StatusCode::OK, text),
        Err(_) => empty(StatusCode::INTERNAL_SERVER_ERROR),
    }
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

pub(super) fn empty(status: StatusCode) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    response
}

pub(super) fn error(status: StatusCode, id: &str, message: &str, rng: &mut ChaCha8Rng) -> Response {
    let body = serde_json::json!({
        "id": id,
        "message": message,
        "request_id": uuid(rng),
    });
    json(status, body.to_string())
}

pub(super) fn too_many_requests(rng: &mut ChaCha8Rng, retry_after: u64) -> Response {
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

/// The gateway's `429` to a request over the in-flight limit: the rate
/// limit's body and `Retry-After: 1`, with its own message.
pub(super) fn too_many_in_flight(rng: &mut ChaCha8Rng, limit: usize) -> Response {
    let mut response = error(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_requests",
        &format!("Too many requests in flight (at most {limit} at once)."),
        rng,
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(1u64));
    response
}

pub(super) fn gateway_page() -> Response {
    const PAGE: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>sandbox-gateway</center>\r\n</body>\r\n</html>\r\n";
    let mut response = Response::new(Body::from(PAGE));
    *response.status_mut() = StatusCode::BAD_GATEWAY;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
    response
}

/// Sends half the body, then aborts the connection.
pub(super) async fn truncate(response: Response) -> Response {
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

/// A `200` whose body never ends: the start of a page, then one item
/// over and over (rendered once), until the client goes away.
pub(super) fn endless(item: Option<&Item>) -> Response {
    let item = item.map_or_else(
        || bytes::Bytes::from_static(b"{\"id\":\"0\"},"),
        |item| bytes::Bytes::from(format!("{},", item.json.get())),
    );
    let head = futures_util::stream::once(async {
        Ok::<_, std::io::Error>(bytes::Bytes::from_static(b"{\"snapshots\":["))
    });
    let rest = futures_util::stream::repeat(item).map(Ok);
    let mut response = Response::new(Body::from_stream(head.chain(rest)));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

/// Sends the first `bytes` of the body, then nothing more until the
/// client goes away.
pub(super) async fn stall_after(response: Response, bytes: usize) -> Response {
    let (mut parts, body) = response.into_parts();
    let whole = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let start = whole.slice(..bytes.min(whole.len()));
    let chunks = futures_util::stream::once(async { Ok::<_, std::io::Error>(start) })
        .chain(futures_util::stream::pending());
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from_stream(chunks))
}

/// The response with its body gzip-compressed.
pub(super) async fn gzip(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let whole = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let compressed = compress(&whole);
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    Response::from_parts(parts, Body::from(compressed))
}

/// A `200` whose gzip body inflates to `size` bytes of JSON whitespace
/// inside an array: small on the wire, huge once decoded.
pub(super) fn gzip_bomb(size: usize) -> Response {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let block = vec![b' '; 64 * 1024];
    let mut written = 0;
    let _ = std::io::Write::write_all(&mut encoder, b"{\"snapshots\":[");
    while written < size {
        let n = block.len().min(size - written);
        if std::io::Write::write_all(&mut encoder, &block[..n]).is_err() {
            break;
        }
        written += n;
    }
    let _ = std::io::Write::write_all(&mut encoder, b"],\"meta\":{\"total\":0}}");
    let compressed = encoder.finish().unwrap_or_default();
    let mut response = json(StatusCode::OK, String::new());
    *response.body_mut() = Body::from(compressed);
    response
        .headers_mut()
        .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    response
}

fn compress(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    if std::io::Write::write_all(&mut encoder, bytes).is_err() {
        return Vec::new();
    }
    encoder.finish().unwrap_or_default()
}
