//! Every kind of answer the sandbox gives validates against the schemas of
//! `openapi/snapshots.yaml`, except the faults that exist to break them,
//! which are listed (and checked to break them) at the end.

mod common;

use common::{DROPLET_LIST, ERROR, SNAPSHOT_LIST, get, validate};
use digitalocean_sandbox::{DEFAULT_TOKEN, Faults, Order, Position, RateLimits, Sandbox};

const TOKEN: Option<&str> = Some(DEFAULT_TOKEN);

fn assert_valid(schema: &str, what: &str, answer: &common::Answer) {
    if let Err(errors) = validate(schema, &answer.json()) {
        panic!("{what}: {errors}\nbody: {}", answer.body);
    }
}

#[tokio::test]
async fn listing_pages_validate_first_middle_last_past_the_end_and_filtered() {
    let sandbox = Sandbox::builder()
        .snapshots(450)
        .droplet(3164444, 7, 3)
        .start()
        .await
        .unwrap();
    let base = sandbox.base_url();
    for query in [
        "",
        "?per_page=200",
        "?page=2&per_page=200",
        "?page=3&per_page=200",
        "?page=99&per_page=200",
        "?resource_type=droplet&per_page=50",
        "?resource_type=volume&page=2&per_page=1",
    ] {
        let answer = get(base, &format!("/v2/snapshots{query}"), TOKEN).await;
        assert_eq!(answer.status, 200, "{query}");
        assert_valid(SNAPSHOT_LIST, query, &answer);
    }
    for query in ["", "?per_page=3", "?page=4&per_page=3", "?page=9"] {
        let answer = get(
            base,
            &format!("/v2/droplets/3164444/snapshots{query}"),
            TOKEN,
        )
        .await;
        assert_eq!(answer.status, 200, "{query}");
        assert_valid(DROPLET_LIST, query, &answer);
    }
    let empty = Sandbox::builder().snapshots(0).start().await.unwrap();
    let answer = get(empty.base_url(), "/v2/snapshots", TOKEN).await;
    assert_valid(SNAPSHOT_LIST, "empty account", &answer);
}

#[tokio::test]
async fn error_answers_validate_against_the_error_schema() {
    let sandbox = Sandbox::builder()
        .rate_limits(RateLimits {
            per_minute: 1,
            ..RateLimits::default()
        })
        .faults(Faults {
            error_500: 1.0,
            ..Faults::default()
        })
        .start()
        .await
        .unwrap();
    let plain = Sandbox::builder().start().await.unwrap();
    let cases = [
        (get(plain.base_url(), "/v2/snapshots", None).await, 401),
        (
            get(plain.base_url(), "/v2/snapshots", Some("wrong")).await,
            401,
        ),
        (
            get(plain.base_url(), "/v2/droplets/1/snapshots", TOKEN).await,
            404,
        ),
        (
            get(plain.base_url(), "/v2/snapshots?per_page=0", TOKEN).await,
            400,
        ),
        (
            get(plain.base_url(), "/v2/snapshots?page=abc", TOKEN).await,
            400,
        ),
        (
            get(plain.base_url(), "/v2/snapshots?resource_type=image", TOKEN).await,
            400,
        ),
        (get(sandbox.base_url(), "/v2/snapshots", TOKEN).await, 500),
        (get(sandbox.base_url(), "/v2/snapshots", TOKEN).await, 429),
    ];
    for (answer, status) in &cases {
        assert_eq!(answer.status, *status, "{}", answer.body);
        assert_valid(ERROR, &format!("HTTP {status}"), answer);
        for header in ["ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"] {
            assert!(
                answer.header(header).is_some(),
                "HTTP {status} lacks {header}"
            );
        }
    }
    assert!(cases[7].0.header("retry-after").is_some());
}

#[tokio::test]
async fn extra_fields_still_validate() {
    let sandbox = Sandbox::builder()
        .snapshots(50)
        .extra_fields(true)
        .droplet(5, 2, 2)
        .start()
        .await
        .unwrap();
    let answer = get(sandbox.base_url(), "/v2/snapshots?per_page=200", TOKEN).await;
    assert!(answer.body.contains("x_sandbox_future_field"));
    assert_valid(SNAPSHOT_LIST, "extra fields", &answer);
    let answer = get(sandbox.base_url(), "/v2/droplets/5/snapshots", TOKEN).await;
    assert_valid(DROPLET_LIST, "extra fields", &answer);
}

/// Every order, late snapshots and sizes of 0 are answers the schema
/// allows.
#[tokio::test]
async fn every_order_and_the_new_snapshot_faults_still_validate() {
    for order in [
        Order::Realistic,
        Order::CreatedAt,
        Order::IdString,
        Order::Random,
    ] {
        let sandbox = Sandbox::builder()
            .snapshots(120)
            .droplet(5, 6, 3)
            .order(order)
            .faults(Faults {
                late_snapshots: Some(std::time::Duration::from_secs(600)),
                growing_sizes: 2,
                ..Faults::rotating(2, Position::Random)
            })
            .start()
            .await
            .unwrap();
        let mut zero = false;
        for _ in 0..4 {
            let answer = get(sandbox.base_url(), "/v2/snapshots?per_page=200", TOKEN).await;
            assert_valid(SNAPSHOT_LIST, &format!("{order:?}"), &answer);
            zero |= answer.body.contains("\"size_gigabytes\":0,");
            let answer = get(sandbox.base_url(), "/v2/droplets/5/snapshots", TOKEN).await;
            assert_valid(DROPLET_LIST, &format!("{order:?}"), &answer);
        }
        assert!(zero, "{order:?}: a size of 0 was served");
    }
}

/// The faults that are meant to break the schema, and how:
/// - `unknown_values`: enum values the spec does not list yet;
/// - `error_502`: an HTML body;
/// - `error_503`: an empty body;
/// - `truncated`: half a JSON document, then the connection is aborted.
#[tokio::test]
async fn schema_breaking_faults_do_break_it() {
    let sandbox = Sandbox::builder()
        .snapshots(50)
        .unknown_values(1.0)
        .droplet(5, 1, 0)
        .start()
        .await
        .unwrap();
    let answer = get(sandbox.base_url(), "/v2/snapshots?per_page=200", TOKEN).await;
    let errors = validate(SNAPSHOT_LIST, &answer.json()).unwrap_err();
    assert!(errors.contains("resource_type"), "{errors}");
    let answer = get(sandbox.base_url(), "/v2/droplets/5/snapshots", TOKEN).await;
    assert!(
        validate(DROPLET_LIST, &answer.json())
            .unwrap_err()
            .contains("type")
    );

    let html = Sandbox::builder()
        .faults(Faults {
            error_502: 1.0,
            ..Faults::default()
        })
        .start()
        .await
        .unwrap();
    let answer = get(html.base_url(), "/v2/snapshots", TOKEN).await;
    assert_eq!(answer.status, 502);
    assert!(answer.body.starts_with("<html>"));
    assert_eq!(answer.header("content-type"), Some("text/html"));

    let empty = Sandbox::builder()
        .faults(Faults {
            error_503: 1.0,
            ..Faults::default()
        })
        .start()
        .await
        .unwrap();
    let answer = get(empty.base_url(), "/v2/snapshots", TOKEN).await;
    assert_eq!((answer.status, answer.body.as_str()), (503, ""));

    let cut = Sandbox::builder()
        .faults(Faults {
            truncated: 1.0,
            ..Faults::default()
        })
        .start()
        .await
        .unwrap();
    let response = common::http()
        .get(format!("{}/v2/snapshots?per_page=200", cut.base_url()))
        .bearer_auth(DEFAULT_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.bytes().await.is_err(), "the body is cut off");
}

#[tokio::test]
async fn chosen_snapshots_as_the_api_shows_them_and_the_gateway_429_validate() {
    let droplet_item = |id: u64, kind: &str| {
        serde_json::json!({
            "id": id, "name": format!("web-01-{id}"), "created_at": "2020-07-28T16:47:44Z",
            "regions": ["nyc3"], "min_disk_size": 25, "size_gigabytes": 2.34, "type": kind,
        })
    };
    let sandbox = Sandbox::builder()
        .snapshots(30)
        .with_snapshots([serde_json::json!({
            "id": "6372321", "name": "web-01", "created_at": "2020-07-28T16:47:44Z",
            "regions": ["nyc3"], "resource_id": "200776916", "resource_type": "droplet",
            "min_disk_size": 25, "size_gigabytes": 2.34, "tags": null,
        })])
        .with_droplet_snapshots(
            3164444,
            [droplet_item(1, "snapshot"), droplet_item(2, "backup")],
        )
        .start()
        .await
        .unwrap();
    let answer = get(sandbox.base_url(), "/v2/snapshots?per_page=200", TOKEN).await;
    assert_eq!(answer.json()["meta"]["total"], 32);
    assert_valid(SNAPSHOT_LIST, "chosen and mirrored", &answer);
    let answer = get(sandbox.base_url(), "/v2/droplets/3164444/snapshots", TOKEN).await;
    assert_valid(DROPLET_LIST, "chosen droplet snapshots", &answer);

    let gateway = Sandbox::builder()
        .faults(Faults {
            in_flight_limit: Some(0),
            ..Faults::default()
        })
        .start()
        .await
        .unwrap();
    let answer = get(gateway.base_url(), "/v2/snapshots", TOKEN).await;
    assert_eq!(answer.status, 429);
    assert_valid(ERROR, "the gateway's 429", &answer);
}
