//! The report (`cargo run --example snapshots`), run as a user runs it,
//! against sandboxes that break it on purpose: names and regions made to
//! attack a terminal or a spreadsheet, a listing that does not add up, a
//! server that stalls, rate-limited requests with `-v`, bad arguments.

mod common;

use common::report;
use std::time::{Duration, Instant};

use digitalocean_sandbox::{Faults, RateLimits, Sandbox, SandboxBuilder, TotalReport};

async fn sandbox(builder: SandboxBuilder) -> Sandbox {
    builder
        .rate_limits(RateLimits::unlimited())
        .start()
        .await
        .expect("sandbox")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Characters that must never reach a terminal raw.
fn assert_terminal_safe(what: &str, out: &str) {
    for bad in ['\u{1b}', '\r', '\0', '\u{202e}', '\u{2028}'] {
        assert!(
            !out.contains(bad),
            "{what}: raw {:?} reached the output:\n{out}",
            bad
        );
    }
}

#[tokio::test]
async fn hostile_names_reach_the_terminal_escaped_and_the_spreadsheet_defused() {
    let sandbox = sandbox(Sandbox::builder().snapshots(40).hostile_names(true)).await;

    let table = report(&sandbox, &[]).await;
    assert_eq!(table.status.code(), Some(0), "{}", text(&table.stderr));
    let stdout = text(&table.stdout);
    assert_terminal_safe("table", &stdout);
    assert_terminal_safe("stderr", &text(&table.stderr));
    assert!(
        stdout.contains("\\u{1b}"),
        "escaped, not dropped:\n{stdout}"
    );
    assert!(stdout.contains("40 snapshots"), "{stdout}");
    // The forged summary line inside a name stays inside its row.
    let forged = stdout
        .lines()
        .filter(|l| l.starts_with("forged: 0 snapshots"))
        .count();
    assert_eq!(forged, 0, "{stdout}");

    let csv = report(&sandbox, &["--format", "csv"]).await;
    assert_eq!(csv.status.code(), Some(0), "{}", text(&csv.stderr));
    let csv = text(&csv.stdout);
    for formula in ["=HYPERLINK", "+cmd|"] {
        for (at, _) in csv.match_indices(formula) {
            let before = csv[..at].chars().last();
            assert_eq!(before, Some('\''), "a live formula in the CSV:\n{csv}");
        }
    }
}

#[tokio::test]
async fn a_listing_that_does_not_add_up_prints_what_was_read_warns_and_exits_3() {
    let sandbox = sandbox(Sandbox::builder().snapshots(600).faults(Faults {
        total: TotalReport::HalvedAfterPage(1),
        ..Faults::default()
    }))
    .await;
    for mode in [&[][..], &["--no-strict"][..]] {
        let out = report(&sandbox, mode).await;
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{mode:?}: {stderr}");
        assert!(stderr.contains("warning:"), "{mode:?}: {stderr}");
        assert!(
            text(&out.stdout).lines().count() > 200,
            "{mode:?}: what was read is printed"
        );
    }
}

#[tokio::test]
async fn a_stalled_server_ends_the_run_at_the_deadline_with_exit_1() {
    let sandbox = sandbox(Sandbox::builder().snapshots(50).faults(Faults {
        stall_body_after: Some(20),
        ..Faults::default()
    }))
    .await;
    let started = Instant::now();
    let out = report(&sandbox, &["--deadline", "2s"]).await;
    let took = started.elapsed();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("error:") || stderr.contains("\nerror:"),
        "{stderr}"
    );
    assert!(took < Duration::from_secs(8), "took {took:?}: {stderr}");
}

#[tokio::test]
async fn verbose_shows_the_retries_and_quiet_shows_none() {
    // Every third request is a 429 (retry-after 1 s): retries always
    // happen and always succeed, whatever the order of requests.
    let sandbox = sandbox(Sandbox::builder().snapshots(1_000).faults(Faults {
        every_kth_429: Some(3),
        ..Faults::default()
    }))
    .await;
    let loud = report(&sandbox, &["-v", "--format", "jsonl"]).await;
    let stderr = text(&loud.stderr);
    assert_eq!(loud.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("retrying"), "{stderr}");
    assert!(stderr.contains("status=429"), "{stderr}");
    // Each call and attempt as it closes, with OpenTelemetry's fields.
    for field in [
        "http.request.method=\"GET\"",
        "url.path=\"/v2/snapshots\"",
        "http.response.status_code=429",
        "http.request.resend_count=1",
        "error.type=\"429\"",
    ] {
        assert!(stderr.contains(field), "{field} not in:\n{stderr}");
    }
    assert!(
        !stderr.contains(sandbox.token().unwrap()),
        "the token in the log"
    );
    assert_eq!(text(&loud.stdout).lines().count(), 1_000);

    let quiet = report(&sandbox, &["--format", "jsonl"]).await;
    assert_eq!(quiet.status.code(), Some(0));
    assert!(!text(&quiet.stderr).contains("retrying"));
}

#[tokio::test]
async fn bad_arguments_exit_2_before_any_request() {
    let sandbox = sandbox(Sandbox::builder().snapshots(5)).await;
    for args in [
        &["--limit", "0"][..],
        &["--deadline", "0s"],
        &["--droplet", "1", "--resource-type", "volume"],
        &["--older-than", "soon"],
    ] {
        let out = report(&sandbox, args).await;
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    assert_eq!(sandbox.stats().requests, 0);
}

#[tokio::test]
async fn a_token_revoked_mid_walk_says_what_was_read_and_how_to_resume() {
    let sandbox = sandbox(Sandbox::builder().snapshots(1_000).faults(Faults {
        revoke_token_after: Some(2),
        ..Faults::default()
    }))
    .await;
    let out = report(&sandbox, &["--concurrency", "1", "--format", "jsonl"]).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(text(&out.stdout).lines().count(), 400, "two pages printed");
    assert!(stderr.contains("was rejected"), "{stderr}");
    assert!(
        stderr.contains("400 snapshots were read before this")
            && stderr.contains("run again with --page 3"),
        "{stderr}"
    );
    // Resuming from there reads the rest (with a token that works again).
    let fresh = sandbox_fresh(1_000).await;
    let rest = report(&fresh, &["--page", "3", "--format", "jsonl"]).await;
    assert_eq!(rest.status.code(), Some(0), "{}", text(&rest.stderr));
    assert_eq!(text(&rest.stdout).lines().count(), 600);
}

#[tokio::test]
async fn a_droplet_destroyed_mid_walk_says_what_was_read_and_how_to_resume() {
    let sandbox = sandbox(
        Sandbox::builder()
            .snapshots(10)
            .droplet(7, 300, 200)
            .faults(Faults {
                droplets_gone_after: Some(1),
                ..Faults::default()
            }),
    )
    .await;
    let out = report(
        &sandbox,
        &["--droplet", "7", "--concurrency", "1", "--format", "jsonl"],
    )
    .await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("droplet 7 disappeared during the listing")
            && stderr.contains("200 of its snapshots were read"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("there is no droplet 7 on this account"),
        "{stderr}"
    );
    assert!(
        stderr.contains("200 snapshots were read before this") && stderr.contains("--page 2"),
        "{stderr}"
    );
    // A droplet that was never there is still said so.
    let out = report(&sandbox, &["--droplet", "8", "--format", "jsonl"]).await;
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("there is no droplet 8 on this account"),
        "{stderr}"
    );
    assert!(!stderr.contains("resume"), "{stderr}");
}

#[tokio::test]
async fn a_deadline_at_the_top_of_its_range_means_no_deadline() {
    let sandbox = sandbox(Sandbox::builder().snapshots(300)).await;
    for deadline in [
        "18446744073709551615s",
        "2562047788015215h",
        "307445734561825860m",
    ] {
        let out = report(&sandbox, &["--deadline", deadline, "--format", "jsonl"]).await;
        assert_eq!(
            out.status.code(),
            Some(0),
            "--deadline {deadline}: {}",
            text(&out.stderr)
        );
        assert_eq!(text(&out.stdout).lines().count(), 300);
    }
    let out = report(&sandbox, &["--deadline", "18446744073709551616s"]).await;
    assert_eq!(out.status.code(), Some(2), "out of range is a usage error");
}

async fn sandbox_fresh(snapshots: usize) -> Sandbox {
    sandbox(Sandbox::builder().snapshots(snapshots)).await
}

#[tokio::test]
async fn a_server_that_ignores_the_filter_never_passes_for_the_volume_listing() {
    let sandbox = sandbox(Sandbox::builder().snapshots(500).faults(Faults {
        ignore_resource_type: true,
        ..Faults::default()
    }))
    .await;
    let out = report(
        &sandbox,
        &["--resource-type", "volume", "--format", "jsonl"],
    )
    .await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("ignored the filter"), "{stderr}");
    for row in text(&out.stdout).lines() {
        assert!(
            row.contains("\"resource_type\":\"volume\""),
            "a foreign row: {row}"
        );
    }
}

/// DigitalOcean's own example answer for `GET /v2/snapshots` (a droplet
/// snapshot from 2020 listed before a volume snapshot from 2019), served
/// for every page: the report prints both, no warning, exit 0.
#[tokio::test]
async fn digitaloceans_own_example_answer_is_printed_whole_with_exit_0() {
    let server = httpmock::MockServer::start_async().await;
    let body = include_str!("fixtures/seed_all_snapshots.json");
    server
        .mock_async(|when, then| {
            when.path("/v2/snapshots");
            then.status(200)
                .header("content-type", "application/json")
                .body(body);
        })
        .await;
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_snapshots"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("DIGITALOCEAN_ACCESS_TOKEN", "example-token")
        .env("DIGITALOCEAN_API_URL", server.base_url())
        .kill_on_drop(true)
        .output()
        .await
        .expect("the report runs");
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("web-01-1595954862243"), "{stdout}");
    assert!(stdout.contains("pvc-01-1595954862243"), "{stdout}");
    assert!(stdout.contains("2 snapshots"), "{stdout}");
    assert!(!stderr.contains("warning"), "{stderr}");
    assert!(!stdout.contains("warning"), "{stdout}");
}

/// A 600-snapshot account whose page 3 (of 200) fails with `answer`,
/// pages 1 and 2 whole, as httpmock serves them (the walk reads one page
/// at a time with `--concurrency 1`).
async fn failing_on_page_3(
    answer: impl Fn(httpmock::Then) -> httpmock::Then + Send + Sync + 'static,
) -> httpmock::MockServer {
    let server = httpmock::MockServer::start_async().await;
    for page in 1..=2u64 {
        let items: Vec<serde_json::Value> = (0..200)
            .map(|i| {
                let id = (page - 1) * 200 + i + 1;
                serde_json::json!({
                    "id": id.to_string(), "name": format!("nightly-{id}"),
                    "created_at": "2026-11-01T00:00:00Z", "regions": ["nyc3"],
                    "resource_id": "7", "resource_type": "droplet",
                    "min_disk_size": 25, "size_gigabytes": 1.5, "tags": []
                })
            })
            .collect();
        let body = serde_json::json!({"snapshots": items, "links": {}, "meta": {"total": 600}});
        server
            .mock_async(move |when, then| {
                when.path("/v2/snapshots")
                    .query_param("page", page.to_string());
                then.status(200)
                    .header("content-type", "application/json")
                    .body(body.to_string());
            })
            .await;
    }
    server
        .mock_async(move |when, then| {
            when.path("/v2/snapshots").query_param("page", "3");
            answer(then);
        })
        .await;
    server
}

/// Issue 28: every error that can end a walk after snapshots were
/// printed says what happened and where to resume (exit 1): a 403, a 429
/// whose wait is longer than the client may wait, 500s past the retries,
/// a page that does not come before the deadline. (401 and 404 have
/// their own tests above.)
#[tokio::test]
async fn every_error_mid_walk_says_what_happened_and_where_to_resume() {
    type Answer = Box<dyn Fn(httpmock::Then) -> httpmock::Then + Send + Sync>;
    let cases: Vec<(&str, Answer, &[&str], &[&str])> = vec![
        (
            "403",
            Box::new(|then| {
                then.status(403).header("content-type", "application/json").body(
                    r#"{"id":"forbidden","message":"You do not have access for the attempted action."}"#,
                )
            }),
            &[],
            &["403", "do not have access"],
        ),
        (
            "429 for an hour",
            Box::new(|then| {
                then.status(429)
                    .header("content-type", "application/json")
                    .header("retry-after", "3600")
                    .body(r#"{"id":"too_many_requests","message":"API Rate limit exceeded."}"#)
            }),
            &[],
            &["429", "3600"],
        ),
        (
            "500 every time",
            Box::new(|then| {
                then.status(500)
                    .header("content-type", "application/json")
                    .body(r#"{"id":"server_error","message":"Unexpected server-side error"}"#)
            }),
            &[],
            &["500", "attempts"],
        ),
        (
            "a page that never comes",
            Box::new(|then| then.status(200).delay(Duration::from_secs(30)).body("{}")),
            &["--deadline", "3s"],
            &["deadline"],
        ),
    ];
    for (case, answer, extra, says) in cases {
        let server = failing_on_page_3(answer).await;
        let mut args = vec!["--concurrency", "1", "--format", "jsonl"];
        args.extend_from_slice(extra);
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_snapshots"))
            .args(&args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env(
                "DIGITALOCEAN_ACCESS_TOKEN",
                "dop_v1_a_token_for_the_report_test",
            )
            .env("DIGITALOCEAN_API_URL", server.base_url())
            .kill_on_drop(true)
            .output()
            .await
            .expect("the report runs");
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{case}: {stderr}");
        assert_eq!(
            text(&out.stdout).lines().count(),
            400,
            "{case}: two pages printed"
        );
        for word in says {
            assert!(stderr.contains(word), "{case}: no {word:?} in {stderr}");
        }
        assert!(
            stderr.contains("400 snapshots were read before this")
                && stderr.contains("run again with --page 3"),
            "{case}: {stderr}"
        );
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(
            lines.len(),
            2,
            "{case}: the error, then how to resume: {stderr}"
        );
        assert!(lines[0].starts_with("error: ") && lines[1].starts_with("the listing above"));
    }
}

/// A volume's nightly snapshots, one a day at 03:00 for `days` days up
/// to yesterday, and a manual one beside them.
fn nightly_volume(
    now: chrono::DateTime<chrono::Utc>,
    days: i64,
) -> Vec<digitalocean_snapshots::Snapshot> {
    use digitalocean_snapshots::{ResourceType, Snapshot};
    let yesterday = (now - chrono::TimeDelta::days(1))
        .date_naive()
        .and_hms_opt(3, 0, 0)
        .expect("03:00")
        .and_utc();
    let mut snapshots: Vec<Snapshot> = (0..days)
        .map(|d| {
            Snapshot::new(
                format!("vol-snap-{d:03}"),
                yesterday - chrono::TimeDelta::days(d),
            )
            .with_name(format!("nightly-{d:03}"))
            .with_resource(ResourceType::Volume, "vol-1")
            .with_regions(["nyc3"])
            .with_size_gigabytes(10.0)
        })
        .collect();
    snapshots.push(
        Snapshot::new("manual-1", yesterday - chrono::TimeDelta::days(days + 30))
            .with_name("before-upgrade")
            .with_resource(ResourceType::Volume, "vol-1")
            .with_size_gigabytes(25.0),
    );
    snapshots
}

/// Issue 29: `--keep-last 3 --keep-daily 7` prints a plan whose every
/// decision names its rule; `--only delete --format ids` prints just the
/// ids, the ones the plan deletes; the name scope leaves the manual
/// snapshot alone; jsonl and csv carry the decision.
#[tokio::test]
async fn a_plan_names_the_rule_of_every_decision_and_prints_the_ids_it_deletes() {
    let now = chrono::Utc::now();
    let sandbox = sandbox(
        Sandbox::builder()
            .snapshots(0)
            .with_snapshots(nightly_volume(now, 20))
            .now(now),
    )
    .await;

    let out = report(&sandbox, &["--keep-last", "3", "--keep-daily", "7"]).await;
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let rows: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("KEEP") || l.starts_with("DELETE"))
        .collect();
    assert_eq!(rows.len(), 21, "{stdout}");
    for row in &rows {
        let why_named = [
            "keep-last",
            "daily",
            "newest of its group",
            "no rule kept it",
        ]
        .iter()
        .any(|rule| row.ends_with(rule) || row.contains(&format!("{rule},")));
        assert!(why_named, "a decision without its rule: {row}");
    }
    // 7 days kept (3 of them also keep-last), 13 nightlies and the manual
    // one deleted: 13 x 10 + 25 GB.
    assert_eq!(
        rows.iter().filter(|r| r.starts_with("KEEP")).count(),
        7,
        "{stdout}"
    );
    assert!(
        stdout.contains("plan: keep 7, delete 14 (155.00 GB freed)"),
        "{stdout}"
    );

    let ids = report(
        &sandbox,
        &[
            "--keep-last",
            "3",
            "--keep-daily",
            "7",
            "--only",
            "delete",
            "--format",
            "ids",
        ],
    )
    .await;
    assert_eq!(ids.status.code(), Some(0), "{}", text(&ids.stderr));
    let mut deleted: Vec<String> = text(&ids.stdout).lines().map(str::to_owned).collect();
    deleted.sort();
    let mut expected: Vec<String> = (7..20).map(|d| format!("vol-snap-{d:03}")).collect();
    expected.push("manual-1".to_owned());
    expected.sort();
    assert_eq!(deleted, expected, "just the ids, those the plan deletes");

    // Only the nightly job's snapshots: the manual one is out of scope.
    let scoped = report(
        &sandbox,
        &[
            "--keep-last",
            "3",
            "--name",
            "nightly-*",
            "--only",
            "delete",
            "--format",
            "ids",
        ],
    )
    .await;
    let scoped = text(&scoped.stdout);
    assert_eq!(scoped.lines().count(), 17, "{scoped}");
    assert!(!scoped.contains("manual-1"), "{scoped}");

    let jsonl = report(&sandbox, &["--keep-last", "3", "--format", "jsonl"]).await;
    let decisions: Vec<serde_json::Value> = text(&jsonl.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(decisions.len(), 21);
    assert!(decisions.iter().all(|d| {
        let action = d["action"].as_str().unwrap_or_default();
        let reasons = d["reasons"].as_array().map_or(0, Vec::len);
        d["id"].is_string()
            && ((action == "keep" && reasons > 0) || (action == "delete" && reasons == 0))
    }));
    let csv = report(&sandbox, &["--keep-last", "3", "--format", "csv"]).await;
    let csv = text(&csv.stdout);
    assert!(csv.starts_with("action,why,id,name,"), "{csv}");
    assert_eq!(
        csv.lines()
            .filter(|l| l.starts_with("delete,no rule kept it,"))
            .count(),
        18
    );
}

/// Issue 29: a listing that changes while it is read, past what the walk
/// can prove, gives no plan: the warning, exit 3, nothing on stdout. And
/// the options that would plan over part of a listing are refused before
/// any request (exit 2).
#[tokio::test]
async fn no_plan_from_a_listing_that_does_not_add_up_or_from_part_of_one() {
    let sandbox = sandbox(
        Sandbox::builder()
            .snapshots(1_000)
            .faults(Faults::rotating(5, digitalocean_sandbox::Position::Random)),
    )
    .await;
    let out = report(
        &sandbox,
        &["--keep-last", "1", "--only", "delete", "--format", "ids"],
    )
    .await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("no plan was made"), "{stderr}");
    assert_eq!(
        text(&out.stdout),
        "",
        "not one id of a plan that was not made"
    );

    let fresh = sandbox_fresh(300).await;
    for partial in [
        &["--limit", "10"][..],
        &["--page", "2"][..],
        &["--older-than", "30d"][..],
        &["--no-strict"][..],
    ] {
        let mut args = vec!["--keep-last", "3"];
        args.extend_from_slice(partial);
        let out = report(&fresh, &args).await;
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{partial:?}: {stderr}");
        assert!(
            stderr.contains("needs the whole listing"),
            "{partial:?}: {stderr}"
        );
    }
    assert_eq!(fresh.stats().requests, 0, "refused before any request");
}

/// Issue 29: a listing that changed while the report read. Snapshots
/// created meanwhile (a job making them): the walk proves it after a
/// later look and the plan is made over all of it. Snapshots deleted
/// meanwhile (another retention job): no plan, since a deleted snapshot
/// would keep the place of one the plan deletes; the warning, exit 3,
/// nothing on stdout.
#[tokio::test]
async fn a_listing_that_changed_gives_a_plan_only_when_nothing_it_listed_was_deleted() {
    let growing = sandbox(Sandbox::builder().snapshots(1_000).faults(Faults {
        changes_stop_after: Some(4),
        ..Faults::inserting(5, digitalocean_sandbox::Position::Random)
    }))
    .await;
    let out = report(&growing, &["--keep-last", "2", "--format", "jsonl"]).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("changed while it was read"), "{stderr}");
    let decisions: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let ids: std::collections::HashSet<&str> =
        decisions.iter().filter_map(|d| d["id"].as_str()).collect();
    assert_eq!(ids.len(), decisions.len(), "each snapshot decided once");
    let now = growing.snapshot_ids(None);
    assert_eq!(ids.len(), now.len(), "{stderr}");
    assert!(now.iter().all(|id| ids.contains(id.as_str())));
    assert!(stderr.contains("plan: keep"), "{stderr}");

    let pruned = sandbox(Sandbox::builder().snapshots(1_000).faults(Faults {
        changes_stop_after: Some(4),
        ..Faults::rotating(5, digitalocean_sandbox::Position::Random)
    }))
    .await;
    let out = report(
        &pruned,
        &["--keep-last", "2", "--only", "delete", "--format", "ids"],
    )
    .await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("deleted while the walk read") && stderr.contains("no plan was made"),
        "{stderr}"
    );
    assert_eq!(text(&out.stdout), "", "not one id");
}
