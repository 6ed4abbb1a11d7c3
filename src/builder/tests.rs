//! The builder's checks and the environment it reads.

use super::*;

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let pairs: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }
}

#[test]
fn from_env_prefers_access_token_then_token_and_reads_api_url() {
    let client = ClientBuilder::from_lookup(env(&[
        ("DIGITALOCEAN_ACCESS_TOKEN", "first"),
        ("DIGITALOCEAN_TOKEN", "second"),
        ("DIGITALOCEAN_API_URL", "http://127.0.0.1:9/"),
    ]))
    .build()
    .unwrap();
    assert_eq!(client.token_source(), "DIGITALOCEAN_ACCESS_TOKEN");
    assert_eq!(client.base_url(), "http://127.0.0.1:9");

    let client = ClientBuilder::from_lookup(env(&[
        ("DIGITALOCEAN_ACCESS_TOKEN", ""),
        ("DIGITALOCEAN_TOKEN", "second"),
    ]))
    .build()
    .unwrap();
    assert_eq!(client.token_source(), "DIGITALOCEAN_TOKEN");
    assert_eq!(client.base_url(), DEFAULT_BASE_URL);
}

#[test]
fn from_env_reads_the_token_itself_not_only_its_name() {
    let builder = ClientBuilder::from_lookup(env(&[("DIGITALOCEAN_TOKEN", "second")]));
    let token = builder.token.expect("a token");
    assert_eq!(
        (token.secret.as_str(), token.origin),
        ("second", "DIGITALOCEAN_TOKEN")
    );
}

#[test]
fn from_env_without_a_token_names_both_variables() {
    let err = ClientBuilder::from_lookup(env(&[])).build().unwrap_err();
    assert!(err.is_config());
    let text = err.to_string();
    assert!(
        text.contains("DIGITALOCEAN_ACCESS_TOKEN") && text.contains("DIGITALOCEAN_TOKEN"),
        "{text}"
    );
}

#[test]
fn base_url_rules() {
    assert_eq!(
        check_base_url("https://api.example.com/prefix/", false).unwrap(),
        "https://api.example.com/prefix"
    );
    assert_eq!(
        check_base_url("http://localhost:8080", false).unwrap(),
        "http://localhost:8080"
    );
    assert_eq!(
        check_base_url("http://[::1]:8080", false).unwrap(),
        "http://[::1]:8080"
    );
    assert_eq!(
        check_base_url("http://127.3.4.5", false).unwrap(),
        "http://127.3.4.5"
    );
    for bad in [
        "ftp://x",
        "not a url",
        "https://u:p@api.example.com",
        "https://a.example?x=1",
        "http://api.example.com",
    ] {
        assert!(check_base_url(bad, false).unwrap_err().is_config(), "{bad}");
    }
    assert!(check_base_url("http://api.example.com", true).is_ok());
}

#[test]
fn digitaloceans_retry_and_pace_variables_shape_the_client() {
    let client = ClientBuilder::from_lookup(env(&[
        ("DIGITALOCEAN_ACCESS_TOKEN", "dop_v1_abc"),
        ("DIGITALOCEAN_HTTP_RETRY_MAX", "2"),
        ("DIGITALOCEAN_HTTP_RETRY_WAIT_MIN", "1"),
        ("DIGITALOCEAN_HTTP_RETRY_WAIT_MAX", "30"),
        ("DIGITALOCEAN_REQUESTS_PER_SECOND", "0.5"),
    ]));
    assert_eq!(client.retry_policy.attempts(), 3);
    assert_eq!(client.retry_policy.base(), Duration::from_secs(1));
    assert_eq!(client.retry_policy.cap(), Duration::from_secs(30));
    assert_eq!(client.pace, (1, Duration::from_secs(2)));
    // Code wins over the environment.
    let client = client.retry_policy(RetryPolicy::none()).build().unwrap();
    assert_eq!(client.retry_policy().attempts(), 1);
}

#[test]
fn a_retry_variable_that_does_not_parse_is_a_config_error_naming_it() {
    let error = ClientBuilder::from_lookup(env(&[
        ("DIGITALOCEAN_ACCESS_TOKEN", "dop_v1_abc"),
        ("DIGITALOCEAN_HTTP_RETRY_WAIT_MAX", "soon"),
    ]))
    .build()
    .unwrap_err();
    assert!(error.is_config(), "{error}");
    assert!(
        error
            .to_string()
            .contains("DIGITALOCEAN_HTTP_RETRY_WAIT_MAX"),
        "{error}"
    );
}

/// A build without a TLS feature: an https:// API is a Config error from
/// `build`, never a failure on the first request; plain http still works.
#[cfg(not(any(feature = "rustls", feature = "native-tls")))]
#[test]
fn without_a_tls_backend_https_is_a_config_error() {
    let error = ClientBuilder::new()
        .token("dop_v1_abc")
        .build()
        .unwrap_err();
    assert!(error.is_config(), "{error}");
    assert!(error.to_string().contains("`rustls`"), "{error}");
    ClientBuilder::new()
        .token("dop_v1_abc")
        .base_url("http://127.0.0.1:9")
        .build()
        .expect("plain http needs no TLS");
}
