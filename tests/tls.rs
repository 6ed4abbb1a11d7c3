//! HTTPS works (progenitor-client turns reqwest's TLS off; this crate turns
//! rustls back on), and extra roots added through the builder are trusted.

mod common;

use std::sync::Arc;

use common::TOKEN;
use digitalocean_snapshots::Client;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::{self, pki_types::PrivateKeyDer, pki_types::PrivatePkcs8KeyDer};

const BODY: &str = r#"{"snapshots":[],"links":{},"meta":{"total":0}}"#;

/// A one-route HTTPS server with a fresh self-signed certificate for
/// `localhost`. Returns its port, the certificate (PEM), and a task that
/// yields the request head it saw.
async fn tls_server() -> (u16, String, tokio::task::JoinHandle<Option<String>>) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let pem = certified.cert.pem();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    // ring, named: with the SDK's rustls on, aws-lc is there too, and
    // rustls will not choose between two providers.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.ok()?;
        let mut tls = acceptor.accept(socket).await.ok()?;
        let mut head = Vec::new();
        let mut buf = [0u8; 4096];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = tls.read(&mut buf).await.ok()?;
            if n == 0 {
                return None;
            }
            head.extend_from_slice(&buf[..n]);
        }
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{BODY}",
            BODY.len()
        );
        tls.write_all(response.as_bytes()).await.ok()?;
        tls.shutdown().await.ok()?;
        Some(String::from_utf8_lossy(&head).into_owned())
    });
    (port, pem, task)
}

#[tokio::test]
async fn https_to_a_server_with_a_root_added_through_the_builder() {
    let (port, pem, server) = tls_server().await;
    let client = Client::builder()
        .token(TOKEN)
        .base_url(format!("https://localhost:{port}"))
        .add_root_certificate_pem(pem)
        .build()
        .unwrap();
    let page = client.list_snapshots().send().await.expect("HTTPS request");
    assert_eq!(page.total, 0);
    let head = server.await.unwrap().expect("the server saw a request");
    assert!(head.starts_with("GET /v2/snapshots "), "{head}");
    assert!(head.to_ascii_lowercase().contains(&format!(
        "authorization: bearer {}",
        TOKEN.to_ascii_lowercase()
    )));
}

#[tokio::test]
async fn https_to_an_untrusted_certificate_fails_as_a_transport_error() {
    let (port, _pem, server) = tls_server().await;
    let client = Client::builder()
        .token(TOKEN)
        .base_url(format!("https://localhost:{port}"))
        .retry_policy(digitalocean_snapshots::RetryPolicy::none())
        .build()
        .unwrap();
    let error = client.list_snapshots().send().await.unwrap_err();
    assert!(error.is_transport(), "{error}");
    assert!(!error.to_string().contains(TOKEN));
    assert_eq!(server.await.unwrap(), None, "no request was read");
}

#[test]
fn a_certificate_that_does_not_parse_is_a_config_error() {
    let error = Client::builder()
        .token(TOKEN)
        .add_root_certificate_pem("not a certificate")
        .build()
        .unwrap_err();
    assert!(error.is_config(), "{error}");
    let error = Client::builder()
        .token(TOKEN)
        .add_root_certificate_der(vec![1, 2, 3])
        .build()
        .unwrap_err();
    assert!(error.is_config(), "{error}");
}

/// A CONNECT proxy on loopback: tunnels one connection to where it is
/// asked, and yields the request head it saw (what a proxy can read of an
/// HTTPS request).
async fn tunnel_proxy() -> (u16, tokio::task::JoinHandle<Option<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let (mut client, _) = listener.accept().await.ok()?;
        let mut head = Vec::new();
        let mut buf = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            let n = client.read(&mut buf).await.ok()?;
            if n == 0 {
                return None;
            }
            head.push(buf[0]);
        }
        let head = String::from_utf8_lossy(&head).into_owned();
        let target = head
            .split_whitespace()
            .nth(1)?
            .replace("localhost", "127.0.0.1");
        let mut upstream = tokio::net::TcpStream::connect(target).await.ok()?;
        client
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .await
            .ok()?;
        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
        Some(head)
    });
    (port, task)
}

#[tokio::test]
async fn through_a_proxy_the_token_reaches_the_api_only() {
    let (port, pem, server) = tls_server().await;
    let (proxy_port, proxy) = tunnel_proxy().await;
    let builder = Client::builder()
        .token(TOKEN)
        .base_url(format!("https://localhost:{port}"))
        .add_root_certificate_pem(pem)
        .proxy(format!("http://squid:proxy-secret@127.0.0.1:{proxy_port}"));
    assert!(
        !format!("{builder:?}").contains("proxy-secret"),
        "{builder:?}"
    );
    let client = builder.build().unwrap();
    let page = client
        .list_snapshots()
        .send()
        .await
        .expect("through the proxy");
    assert_eq!(page.total, 0);
    let seen_by_proxy = proxy.await.unwrap().expect("the proxy was used");
    assert!(
        seen_by_proxy.starts_with(&format!("CONNECT localhost:{port} ")),
        "{seen_by_proxy}"
    );
    let lower = seen_by_proxy.to_ascii_lowercase();
    assert!(
        lower.contains("proxy-authorization: basic"),
        "{seen_by_proxy}"
    );
    assert!(!seen_by_proxy.contains(TOKEN), "the proxy saw the token");
    assert!(!lower.contains("\r\nauthorization:"), "{seen_by_proxy}");
    let seen_by_api = server.await.unwrap().expect("the API was reached");
    assert!(
        seen_by_api.contains(&format!("Bearer {TOKEN}")),
        "{seen_by_api}"
    );
}

#[tokio::test]
async fn a_proxy_that_refuses_is_a_transport_error_without_its_password() {
    // A port nothing listens on.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_port = closed.local_addr().unwrap().port();
    drop(closed);
    let client = Client::builder()
        .token(TOKEN)
        .base_url("https://localhost:9")
        .retry_policy(digitalocean_snapshots::RetryPolicy::none())
        .proxy(format!("http://squid:proxy-secret@127.0.0.1:{proxy_port}"))
        .build()
        .unwrap();
    let error = client.list_snapshots().send().await.unwrap_err();
    assert!(
        error.is_connect() || error.is_transport(),
        "{:?}: {error}",
        error.kind()
    );
    for shown in [error.to_string(), format!("{error:?}")] {
        assert!(
            !shown.contains("proxy-secret") && !shown.contains(TOKEN),
            "{shown}"
        );
    }
}

#[test]
fn a_proxy_url_that_cannot_be_used_is_a_config_error_that_does_not_echo_it() {
    for url in [
        "not a url with a pass:word",
        "ftp://user:pass-word@proxy:21",
        "http://",
    ] {
        let error = Client::builder()
            .token(TOKEN)
            .proxy(url)
            .build()
            .unwrap_err();
        assert!(error.is_config(), "{url}: {error}");
        assert!(
            !error.to_string().contains("pass-word") && !error.to_string().contains("pass:word"),
            "{error}"
        );
    }
    // Turning the environment's proxy off builds.
    Client::builder().token(TOKEN).no_proxy().build().unwrap();
}
