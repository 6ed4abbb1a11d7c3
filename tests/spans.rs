//! Every call and every attempt is a `tracing` span with OpenTelemetry's
//! HTTP client field names, inside the walk's page span; never the token.
//! Alone in its binary: the subscriber is global.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use common::TOKEN;
use digitalocean_snapshots::{Client, RetryPolicy};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

#[derive(Clone, Debug, Default)]
struct Span {
    name: String,
    parent: Option<String>,
    fields: BTreeMap<String, String>,
}

/// Records every span: its name, its parent's name, its fields.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<(u64, Span)>>>);

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(
            field.name().to_owned(),
            format!("{value:?}").trim_matches('"').to_owned(),
        );
    }
}

impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Recorder {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut span = Span {
            name: attrs.metadata().name().to_owned(),
            parent: ctx
                .span(id)
                .and_then(|s| s.parent())
                .map(|p| p.name().to_owned()),
            ..Span::default()
        };
        attrs.record(&mut Fields(&mut span.fields));
        self.0.lock().unwrap().push((id.into_u64(), span));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _: Context<'_, S>) {
        let mut spans = self.0.lock().unwrap();
        if let Some((_, span)) = spans.iter_mut().rev().find(|(i, _)| *i == id.into_u64()) {
            values.record(&mut Fields(&mut span.fields));
        }
    }
}

#[test]
fn calls_and_attempts_are_spans_with_opentelemetrys_http_fields() {
    let recorder = Recorder::default();
    let subscriber = tracing_subscriber::registry().with(recorder.clone());
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
            .retry_policy(RetryPolicy::default().backoff(
                std::time::Duration::from_millis(1),
                std::time::Duration::from_millis(2),
            ))
            .build()
            .unwrap();
        client.list_snapshots().collect_all().await.unwrap();
    });

    let spans: Vec<Span> = recorder
        .0
        .lock()
        .unwrap()
        .iter()
        .map(|(_, s)| s.clone())
        .collect();
    let calls: Vec<&Span> = spans.iter().filter(|s| s.name == "call").collect();
    assert_eq!(calls.len(), 1, "{spans:#?}");
    let call = calls[0];
    assert_eq!(
        call.parent.as_deref(),
        Some("page"),
        "inside the walk's page span"
    );
    for (field, value) in [
        ("otel.name", "GET /v2/snapshots"),
        ("otel.kind", "client"),
        ("http.request.method", "GET"),
        ("url.path", "/v2/snapshots"),
        ("url.template", "/v2/snapshots"),
    ] {
        assert_eq!(
            call.fields.get(field).map(String::as_str),
            Some(value),
            "{call:#?}"
        );
    }
    assert!(
        !call.fields.contains_key("error.type"),
        "the call succeeded: {call:#?}"
    );

    let attempts: Vec<&Span> = spans.iter().filter(|s| s.name == "attempt").collect();
    let seen: Vec<(Option<&str>, Option<&str>, Option<&str>)> = attempts
        .iter()
        .map(|a| {
            (
                a.fields
                    .get("http.request.resend_count")
                    .map(String::as_str),
                a.fields
                    .get("http.response.status_code")
                    .map(String::as_str),
                a.fields.get("error.type").map(String::as_str),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (None, Some("503"), Some("503")),
            (Some("1"), Some("503"), Some("503")),
            (Some("2"), Some("200"), None),
        ]
    );
    assert!(attempts.iter().all(|a| a.parent.as_deref() == Some("call")));
    for span in &spans {
        for value in span.fields.values() {
            assert!(!value.contains(TOKEN), "the token in a span: {span:#?}");
        }
    }
}
