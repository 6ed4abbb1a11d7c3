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
    let config = rustls::ServerConfig::builder()
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
