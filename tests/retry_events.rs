//! Every retry is a `tracing` event. Alone in its binary: a thread-local
//! subscriber in a binary whose other tests emit the same events from
//! other threads can miss them (tracing caches each callsite's interest).

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::TOKEN;
use digitalocean_snapshots::{Client, RetryPolicy, Timer};

/// Collects what a `tracing` subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Waits nothing, so the test does not sleep through the backoff.
#[derive(Debug)]
struct Instant;

impl Timer for Instant {
    fn now(&self) -> std::time::Instant {
        std::time::Instant::now()
    }
    fn sleep(
        &self,
        _: Duration,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
        Box::pin(std::future::ready(()))
    }
}

#[test]
fn every_retry_is_a_tracing_event_with_attempt_reason_and_wait() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let server = common::twice_unavailable_then_empty().await;
        let client = Client::builder()
            .token(TOKEN)
            .base_url(server.base_url())
            .retry_policy(RetryPolicy::default().jitter(false))
            .timer(Instant)
            .build()
            .unwrap();
        client.list_snapshots().send().await.unwrap();
    });

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let retries: Vec<&str> = log.lines().filter(|l| l.contains("retrying")).collect();
    assert_eq!(retries.len(), 2, "{log}");
    assert!(
        retries[0].contains("attempt=1") && retries[0].contains("wait_ms=500"),
        "{log}"
    );
    assert!(
        retries[1].contains("attempt=2") && retries[1].contains("wait_ms=1000"),
        "{log}"
    );
    assert!(
        retries
            .iter()
            .all(|l| l.contains("server error") && l.contains("status=503")),
        "{log}"
    );
    assert!(!log.contains(TOKEN), "the token is never logged");
}
