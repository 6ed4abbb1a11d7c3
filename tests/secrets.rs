//! The access token: checked when the client is built, sent only as a
//! bearer header to the configured host, and never shown.

mod common;

use common::{TOKEN, client};
use digitalocean_snapshots::{Client, ClientBuilder, ErrorKind};
use httpmock::MockServer;

#[test]
fn malformed_tokens_are_config_errors_that_do_not_echo_the_token() {
    let cases = [
        ("", "empty"),
        ("  ", "whitespace"),
        ("dop_v1_abc\n", "whitespace"),
        ("dop v1", "whitespace"),
        ("dop_v1_\u{7f}x", "cannot be sent"),
        ("dop_v1_é", "cannot be sent"),
        ("dop_v1_\0", "cannot be sent"),
    ];
    for (token, says) in cases {
        let error = Client::new(token).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Config, "{token:?}");
        let text = error.to_string();
        assert!(text.contains(says), "{token:?}: {text}");
        if token.trim().len() > 3 {
            assert!(!text.contains(token.trim()), "{text}");
        }
    }
    let error = ClientBuilder::new().build().unwrap_err();
    assert!(
        error.is_config() && error.to_string().contains("no access token"),
        "{error}"
    );
}

#[test]
fn plain_http_to_a_remote_host_is_refused_unless_allowed() {
    let error = Client::builder()
        .token(TOKEN)
        .base_url("http://api.digitalocean.com")
        .build()
        .unwrap_err();
    assert!(error.is_config());
    assert!(error.to_string().contains("plain http"), "{error}");
    assert!(!error.to_string().contains(TOKEN));

    for local in [
        "http://127.0.0.1:8080",
        "http://localhost:1",
        "http://[::1]:9",
    ] {
        Client::builder()
            .token(TOKEN)
            .base_url(local)
            .build()
            .expect(local);
    }
    Client::builder()
        .token(TOKEN)
        .base_url("http://api.internal.example")
        .allow_insecure_http(true)
        .build()
        .expect("explicitly allowed");
}

#[test]
fn debug_and_display_never_show_the_token() {
    let builder = Client::builder()
        .token(TOKEN)
        .base_url("https://api.example.com");
    assert!(!format!("{builder:?}").contains(TOKEN), "{builder:?}");
    let client = builder.build().unwrap();
    #[allow(unused_mut)]
    let mut shown = vec![
        format!("{client:?}"),
        format!("{client:#?}"),
        format!("{:?}", client.list_snapshots()),
        format!("{:?}", client.list_droplet_snapshots(1)),
    ];
    shown.extend([
        format!("{:?}", client.raw()),
        format!("{:#?}", client.raw()),
    ]);
    for text in &shown {
        assert!(!text.contains(TOKEN), "{text}");
        assert!(!text.contains("SECRET"), "{text}");
    }
    assert!(shown[0].contains("redacted"), "{}", shown[0]);
}

#[tokio::test]
async fn errors_never_show_the_token() {
    let server = common::answering(401, common::UNAUTHORIZED).await;
    let error = client(&server).list_snapshots().send().await.unwrap_err();
    for text in [
        error.to_string(),
        format!("{error:?}"),
        format!("{error:#?}"),
    ] {
        assert!(!text.contains(TOKEN), "{text}");
    }
}

#[tokio::test]
async fn the_token_goes_only_as_a_capitalised_bearer_header() {
    let server = MockServer::start_async().await;
    let exact = server
        .mock_async(|when, then| {
            when.header("authorization", format!("Bearer {TOKEN}"))
                .query_param_missing("access_token")
                .query_param_missing("token");
            then.status(200).body(r#"{"meta":{"total":0}}"#);
        })
        .await;
    client(&server).list_snapshots().send().await.unwrap();
    exact.assert_calls_async(1).await;
}
