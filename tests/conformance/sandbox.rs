//! Every kind of answer of the fake server against the fragment.

use super::*;

#[tokio::test]
async fn every_answer_of_the_fake_server_validates_against_the_fragment() {
    let sandbox = Sandbox::builder()
        .snapshots(450)
        .droplet(3164444, 7, 3)
        .extra_fields(true)
        .rate_limits(RateLimits {
            per_minute: 40,
            ..RateLimits::default()
        })
        .start()
        .await
        .unwrap();
    let faulty = Sandbox::builder()
        .faults(Faults {
            error_500: 1.0,
            ..Faults::default()
        })
        .start()
        .await
        .unwrap();
    let token = sandbox.token().unwrap();
    let http = reqwest::Client::new();
    let cases: Vec<(&Sandbox, &str, Option<&str>, u16, &str)> = vec![
        (
            &sandbox,
            "/v2/snapshots",
            Some(token),
            200,
            spec::SNAPSHOT_LIST,
        ),
        (
            &sandbox,
            "/v2/snapshots?per_page=200&page=3",
            Some(token),
            200,
            spec::SNAPSHOT_LIST,
        ),
        (
            &sandbox,
            "/v2/snapshots?per_page=200&page=9",
            Some(token),
            200,
            spec::SNAPSHOT_LIST,
        ),
        (
            &sandbox,
            "/v2/snapshots?resource_type=volume&per_page=7",
            Some(token),
            200,
            spec::SNAPSHOT_LIST,
        ),
        (
            &sandbox,
            "/v2/droplets/3164444/snapshots?per_page=4",
            Some(token),
            200,
            spec::DROPLET_SNAPSHOT_LIST,
        ),
        (
            &sandbox,
            "/v2/droplets/3164444/snapshots?per_page=4&page=3",
            Some(token),
            200,
            spec::DROPLET_SNAPSHOT_LIST,
        ),
        (&sandbox, "/v2/snapshots", None, 401, spec::ERROR),
        (
            &sandbox,
            "/v2/droplets/1/snapshots",
            Some(token),
            404,
            spec::ERROR,
        ),
        (
            &sandbox,
            "/v2/snapshots?per_page=201",
            Some(token),
            400,
            spec::ERROR,
        ),
        (&faulty, "/v2/snapshots", Some(token), 500, spec::ERROR),
    ];
    for (server, path, bearer, status, schema_name) in &cases {
        let mut request = http.get(format!("{}{path}", server.base_url()));
        if let Some(bearer) = bearer {
            request = request.bearer_auth(bearer);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), *status, "{path}");
        let body: Value = response.json().await.unwrap();
        if let Err(errors) = spec::validate(schema_name, &body) {
            panic!("{path}: {errors:?}");
        }
    }
    // Past the per-minute budget: a 429 with its body.
    let mut limited = None;
    for _ in 0..50 {
        let response = http
            .get(format!("{}/v2/snapshots", sandbox.base_url()))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        if response.status() == 429 {
            limited = Some(response.json::<Value>().await.unwrap());
            break;
        }
    }
    let limited = limited.expect("the per-minute budget runs out");
    spec::validate(spec::ERROR, &limited).unwrap();
    println!("fake server vs schema: {} answers", cases.len() + 1);
}
