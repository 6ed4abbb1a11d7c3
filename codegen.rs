//! Generation of the raw client from the OpenAPI fragment, shared by
//! `build.rs` (which writes it to `$OUT_DIR`) and the regeneration tests
//! (which check that it is deterministic and up to date).
//!
//! See `build.rs` for the two adjustments made to what progenitor sees.

use std::fmt::Write as _;

/// Schemas that `src/model.rs` stands in for, by their name in the fragment.
pub const REPLACEMENTS: &[(&str, &str)] = &[
    ("droplet_snapshot", "crate::model::DropletSnapshot"),
    ("snapshot", "crate::model::Snapshot"),
    ("snapshot_type", "crate::model::SnapshotType"),
    ("resource_type", "crate::model::ResourceType"),
    ("page_links", "crate::model::PageLinks"),
];

/// Generates the client's source from the fragment's YAML text. Errors
/// say what in the fragment was rejected.
pub fn generate(yaml: &str) -> Result<String, String> {
    let spec: openapiv3::OpenAPI = serde_yaml_ng::from_str(yaml)
        .map_err(|e| format!("  it is not a valid OpenAPI 3.0 document: {e}"))?;
    check_shape(&spec)?;
    let spec = for_progenitor(spec);

    let mut settings = progenitor::GenerationSettings::default();
    // Builder calls: a new optional parameter upstream is a new setter, and
    // the transport's calls keep compiling.
    settings.with_interface(progenitor::InterfaceStyle::Builder);
    // The hand-written transport implements `progenitor_client::ClientHooks`
    // for the generated `Client` (src/transport.rs); a missing impl is one
    // clear compile error, and no path into the crate is written here.
    settings.with_hooks(progenitor::HooksMode::Expected);
    for (schema, rust_type) in REPLACEMENTS {
        settings.with_replacement(pascal_case(schema), rust_type, std::iter::empty());
    }

    // Progenitor panics on some shapes it does not support; report them as
    // what they are instead of a bare backtrace. The process-wide panic
    // hook is left alone (tests call this in parallel): the default hook
    // may print the panic's message once, then the message below says
    // what it means.
    let generated = std::panic::catch_unwind(move || {
        progenitor::Generator::new(&settings).generate_tokens(&spec)
    });
    let tokens = match generated {
        Ok(Ok(tokens)) => tokens,
        Ok(Err(e)) => return Err(format!("  progenitor rejected it: {e}")),
        Err(panic) => {
            let what = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)");
            return Err(format!(
                "  progenitor panicked on a shape it does not support: {what}"
            ));
        }
    };
    let file: syn::File = syn::parse2(tokens)
        .map_err(|e| format!("  progenitor produced code that does not parse: {e}"))?;
    // Progenitor's builder docs carry ```ignore snippets; as `text` they
    // are shown the same and are not counted as ignored doc tests.
    Ok(prettyplease::unparse(&file).replace("```ignore", "```text"))
}

/// Checks what the hand-written layer relies on, so that a fragment that
/// breaks it fails here with a precise message instead of later in rustc.
fn check_shape(spec: &openapiv3::OpenAPI) -> Result<(), String> {
    let mut problems = String::new();
    if !spec.openapi.starts_with("3.0.") {
        let _ = writeln!(
            problems,
            "  - `openapi: {}`: progenitor supports OpenAPI 3.0.x only",
            spec.openapi
        );
    }
    let expected = [
        (
            "/v2/droplets/{droplet_id}/snapshots",
            "droplets_list_snapshots",
        ),
        ("/v2/snapshots", "snapshots_list"),
    ];
    for (path, operation_id) in expected {
        let Some(item) = spec.paths.paths.get(path).and_then(|p| p.as_item()) else {
            let _ = writeln!(problems, "  - path `{path}` is missing");
            continue;
        };
        let Some(get) = &item.get else {
            let _ = writeln!(problems, "  - `GET {path}` is missing");
            continue;
        };
        if get.operation_id.as_deref() != Some(operation_id) {
            let _ = writeln!(
                problems,
                "  - `GET {path}` must have operationId `{operation_id}` (the client's method names come from it), found {:?}",
                get.operation_id
            );
        }
        let ok = get
            .responses
            .responses
            .get(&openapiv3::StatusCode::Code(200));
        if ok.is_none() {
            let _ = writeln!(problems, "  - `GET {path}` has no `200` response");
        }
    }
    let schemas = spec.components.as_ref().map(|c| &c.schemas);
    for (schema, _) in REPLACEMENTS {
        if !schemas.is_some_and(|s| s.contains_key(*schema)) {
            let _ = writeln!(
                problems,
                "  - `components.schemas.{schema}` is missing (src/model.rs stands in for it)"
            );
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Keeps only what progenitor should generate: 2xx responses (see the
/// module documentation for why).
fn for_progenitor(mut spec: openapiv3::OpenAPI) -> openapiv3::OpenAPI {
    for (_, item) in spec.paths.paths.iter_mut() {
        let openapiv3::ReferenceOr::Item(item) = item else {
            continue;
        };
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
        ];
        for operation in operations.into_iter().flatten() {
            operation.responses.default = None;
            operation
                .responses
                .responses
                .retain(|status, _| match status {
                    openapiv3::StatusCode::Code(code) => (200..300).contains(code),
                    openapiv3::StatusCode::Range(range) => *range == 2,
                });
        }
    }
    spec
}

fn pascal_case(snake: &str) -> String {
    snake
        .split('_')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}
