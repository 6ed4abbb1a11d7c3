//! Every kind of failed answer becomes the right typed error, with what the
//! server said in it.

mod common;

use std::time::Duration;

use common::{RATE_HEADERS, TOKEN, client};
use digitalocean_snapshots::{Client, ErrorKind};
use httpmock::MockServer;

async fn answer(
    status: u16,
    headers: &[(&str, &str)],
    body: &str,
) -> digitalocean_snapshots::Error {
    let server = MockServer::start_async().await;
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let body = body.to_owned();
    server
        .mock_async(move |when, then| {
            when.any_request();
            let mut then = then.status(status).body(body);
            for (name, value) in headers {
                then = then.header(name, value);
            }
        })
        .await;
    client(&server)
        .list_droplet_snapshots(42)
        .send()
        .await
        .expect_err("an error status")
}

#[tokio::test]
async fn digitalocean_error_bodies_become_api_errors_with_their_fields() {
    let cases = [
        (401, "unauthorized", "Unable to authenticate you."),
        (
            403,
            "forbidden",
            "You do not have access for the attempted action.",
        ),
        (
            404,
            "not_found",
            "The resource you requested could not be found.",
        ),
        (422, "unprocessable_entity", "per_page is out of range"),
        (429, "too_many_requests", "API Rate limit exceeded."),
        (500, "server_error", "Unexpected server-side error"),
    ];
    for (status, id, message) in cases {
        let body = format!(r#"{{"id":"{id}","message":"{message}","request_id":"req-{status}"}}"#);
        let error = answer(status, &RATE_HEADERS, &body).await;
        assert_eq!(error.kind(), ErrorKind::Api, "{error}");
        assert_eq!(error.status(), Some(status));
        assert_eq!(error.code(), Some(id));
        assert_eq!(error.message(), Some(message));
        assert_eq!(error.request_id(), Some(format!("req-{status}").as_str()));
        assert_eq!(error.rate_limit().map(|r| r.remaining), Some(4816));
        assert_eq!(
            error.operation(),
            Some("GET /v2/droplets/{droplet_id}/snapshots")
        );
        let text = error.to_string();
        assert!(
            text.starts_with("GET /v2/droplets/42/snapshots: "),
            "the droplet named, not the template: {text}"
        );
        assert_eq!(error.droplet_id(), Some(42));
        assert!(text.contains(message) && text.contains(id), "{text}");
        assert!(text.contains(&status.to_string()), "{text}");
        assert_eq!(error.is_not_found(), status == 404);
        assert_eq!(error.is_unauthorized(), status == 401);
        assert_eq!(error.is_forbidden(), status == 403);
        assert_eq!(error.is_rate_limited(), status == 429);
        assert_eq!(error.is_server_error(), status == 500);
        assert!(!error.is_transport() && !error.is_decode());
    }
}

#[tokio::test]
async fn unauthorized_says_the_token_was_rejected_where_it_came_from_and_the_scope() {
    let error = answer(
        401,
        &[],
        r#"{"id":"unauthorized","message":"Unable to authenticate you."}"#,
    )
    .await;
    let text = error.to_string();
    assert!(text.contains("token"), "{text}");
    assert!(text.contains("ClientBuilder::token"), "{text}");
    assert!(text.contains("droplet:read"), "{text}");
    assert_eq!(
        error.api().and_then(|a| a.required_scope()),
        Some("droplet:read")
    );

    let server = common::answering(401, common::UNAUTHORIZED).await;
    let error = client(&server).list_snapshots().send().await.unwrap_err();
    assert!(error.to_string().contains("snapshot:read"), "{error}");
}

#[tokio::test]
async fn rate_limited_error_carries_retry_after() {
    let mut headers = RATE_HEADERS.to_vec();
    headers[1].1 = "0";
    headers.push(("retry-after", "30"));
    let error = answer(
        429,
        &headers,
        r#"{"id":"too_many_requests","message":"API Rate limit exceeded."}"#,
    )
    .await;
    assert!(error.is_rate_limited());
    assert_eq!(error.retry_after(), Some(Duration::from_secs(30)));
    assert_eq!(error.rate_limit().map(|r| r.remaining), Some(0));
    assert!(error.to_string().contains("retry after 30s"), "{error}");
}

#[tokio::test]
async fn gateway_html_and_empty_bodies_still_give_api_errors_with_their_status() {
    let html = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>";
    let error = answer(502, &[("content-type", "text/html")], html).await;
    assert_eq!(error.kind(), ErrorKind::Api);
    assert_eq!(error.status(), Some(502));
    assert!(error.is_server_error());
    assert_eq!(error.code(), None);
    let api = error.api().unwrap();
    assert!(api.body_excerpt().unwrap().contains("502 Bad Gateway"));
    assert!(error.to_string().contains("non-JSON body"), "{error}");

    let error = answer(503, &[], "").await;
    assert_eq!(error.kind(), ErrorKind::Api);
    assert_eq!(error.status(), Some(503));
    assert_eq!(error.api().unwrap().body_excerpt(), None);
    assert!(error.to_string().contains("Service Unavailable"), "{error}");

    // JSON that is not DigitalOcean's error shape is shown, not lost.
    let error = answer(500, &[], r#"{"error":"boom"}"#).await;
    assert_eq!(error.status(), Some(500));
    assert!(error.to_string().contains("boom"), "{error}");
}

#[tokio::test]
async fn a_redirect_is_reported_not_followed() {
    let server = MockServer::start_async().await;
    let elsewhere = MockServer::start_async().await;
    let target = elsewhere
        .mock_async(|when, then| {
            when.any_request();
            then.status(200).body("{}");
        })
        .await;
    let location = elsewhere.url("/v2/snapshots");
    server
        .mock_async(move |when, then| {
            when.any_request();
            then.status(302).header("location", location);
        })
        .await;
    let error = client(&server).list_snapshots().send().await.unwrap_err();
    assert_eq!(error.status(), Some(302));
    assert_eq!(target.calls_async().await, 0);
}

#[tokio::test]
async fn a_body_that_echoes_the_token_does_not_carry_it_into_the_error() {
    let body = format!(r#"{{"id":"server_error","message":"bad header Bearer {TOKEN}"}}"#);
    let error = answer(500, &[], &body).await;
    assert!(!error.to_string().contains(TOKEN), "{error}");
    assert!(!format!("{error:?}").contains(TOKEN), "{error:?}");
    assert!(error.to_string().contains("<redacted>"), "{error}");

    let html = format!("<html>Authorization: Bearer {TOKEN}</html>");
    let error = answer(502, &[], &html).await;
    assert!(!error.to_string().contains(TOKEN), "{error}");
}

#[tokio::test]
async fn connection_refused_is_a_connect_error() {
    // Bind then drop a listener to get a port nobody listens on.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let client = Client::builder()
        .token(TOKEN)
        .base_url(format!("http://127.0.0.1:{port}"))
        .retry_policy(digitalocean_snapshots::RetryPolicy::none())
        .build()
        .unwrap();
    let error = client.list_snapshots().send().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Connect, "{error}");
    assert!(error.is_transport() && error.is_connect() && !error.is_timeout());
    assert!(std::error::Error::source(&error).is_some());
    assert!(error.to_string().contains("could not connect"), "{error}");
}

#[tokio::test]
async fn a_stalled_server_is_a_timeout_error() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.any_request();
            then.status(200).delay(Duration::from_secs(5)).body("{}");
        })
        .await;
    let client = Client::builder()
        .token(TOKEN)
        .base_url(server.base_url())
        .timeout(Duration::from_millis(200))
        .retry_policy(digitalocean_snapshots::RetryPolicy::none())
        .build()
        .unwrap();
    let error = client.list_snapshots().send().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Timeout, "{error}");
    assert!(error.is_timeout() && error.is_transport());
    assert!(error.to_string().contains("timed out"), "{error}");
}

/// `is_retryable()` for every kind of error the crate makes, built as a
/// user's test builds them.
#[test]
fn is_retryable_for_every_kind_of_error() {
    use digitalocean_snapshots::{ApiError, DecodeError, Error, RateLimit};
    let reset = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
    let cases: Vec<(&str, Error, bool)> = vec![
        (
            "invalid input",
            Error::invalid_input("per_page", "0 is out of range"),
            false,
        ),
        ("config", Error::config("no token"), false),
        (
            "decode",
            Error::from(DecodeError::new(
                200,
                "snapshots[0].id",
                "expected a string",
                "{}",
            )),
            false,
        ),
        ("timeout", Error::timeout("read timed out"), true),
        ("connect", Error::connect("connection refused"), true),
        ("transport", Error::transport("connection reset"), true),
        ("deadline", Error::deadline(Duration::from_secs(30)), false),
        (
            "inconsistent",
            Error::inconsistent("the listing did not settle"),
            false,
        ),
        (
            "rate limited (client side)",
            Error::rate_limited(RateLimit::new(5_000, 0, reset), Duration::from_secs(600)),
            true,
        ),
    ];
    for (what, error, retryable) in cases {
        assert_eq!(error.is_retryable(), retryable, "{what}: {error}");
    }
    for status in [
        400, 401, 403, 404, 409, 422, 429, 500, 501, 502, 503, 504, 505,
    ] {
        let error = Error::from(ApiError::new(status));
        let retryable = matches!(status, 429 | 500 | 502 | 503 | 504);
        assert_eq!(error.is_retryable(), retryable, "status {status}");
    }
}

/// The client's retry loop retries exactly what `is_retryable()` says:
/// for every status, a server that always answers it gets two requests
/// from a policy of two attempts when the error is retryable, one when it
/// is not; and the error the call ends with says the same. A body over
/// the size limit is neither retried nor retryable.
#[tokio::test]
async fn the_retry_loop_retries_what_is_retryable() {
    use digitalocean_snapshots::RetryPolicy;
    for status in [
        400u16, 401, 403, 404, 409, 422, 429, 500, 501, 502, 503, 504,
    ] {
        let server = MockServer::start_async().await;
        let mock = server
            .mock_async(|when, then| {
                when.path("/v2/snapshots");
                then.status(status)
                    .header("retry-after", "0")
                    .body(r#"{"id":"x","message":"no"}"#);
            })
            .await;
        let client = Client::builder()
            .token(TOKEN)
            .base_url(server.base_url())
            .retry_policy(
                RetryPolicy::default()
                    .max_attempts(2)
                    .backoff(Duration::from_millis(1), Duration::from_millis(2)),
            )
            .build()
            .expect("client");
        let error = client
            .list_snapshots()
            .send()
            .await
            .expect_err("an error status");
        let hits = mock.calls_async().await;
        assert_eq!(
            hits,
            if error.is_retryable() { 2 } else { 1 },
            "status {status}: {error}"
        );
    }
    let server = MockServer::start_async().await;
    let big = format!(
        r#"{{"snapshots":[],"meta":{{"total":0}},"pad":"{}"}}"#,
        "x".repeat(64 * 1024)
    );
    let mock = server
        .mock_async(|when, then| {
            when.path("/v2/snapshots");
            then.status(200).body(big);
        })
        .await;
    let client = Client::builder()
        .token(TOKEN)
        .base_url(server.base_url())
        .max_response_bytes(1024)
        .build()
        .expect("client");
    let error = client
        .list_snapshots()
        .send()
        .await
        .expect_err("over the limit");
    assert!(error.is_body_limit() && !error.is_retryable(), "{error}");
    assert_eq!(mock.calls_async().await, 1);
}

/// Review: a check before sending names the droplet too, once its id
/// passed; an id of 0 shows the template (there is no droplet to name).
#[tokio::test]
async fn checks_before_sending_name_the_droplet() {
    let client = Client::builder()
        .token(TOKEN)
        .base_url("http://127.0.0.1:9")
        .build()
        .expect("client");
    let error = client
        .list_droplet_snapshots(7)
        .page(0)
        .send()
        .await
        .unwrap_err();
    assert!(error.is_invalid_input(), "{error}");
    assert!(
        error
            .to_string()
            .starts_with("GET /v2/droplets/7/snapshots: "),
        "{error}"
    );
    let error = client.list_droplet_snapshots(0).send().await.unwrap_err();
    assert_eq!(error.droplet_id(), None, "{error}");
}
