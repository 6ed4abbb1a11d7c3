//! Helpers for the sandbox's tests: an HTTP getter and the fragment's
//! schemas as JSON Schema validators.
#![allow(dead_code)]

use std::sync::OnceLock;

use serde_json::Value;

/// One answer, read whole.
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub fn http() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(reqwest::Client::new)
}

/// GET `base + path` with `Authorization: Bearer <token>` when given.
pub async fn get(base: &str, path: &str, token: Option<&str>) -> Answer {
    let mut request = http().get(format!("{base}{path}"));
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.text().await.unwrap_or_default();
    Answer {
        status,
        headers,
        body,
    }
}

/// Validates `instance` against the fragment's schema `name`.
#[cfg(feature = "spec")]
pub fn validate(name: &str, instance: &Value) -> Result<(), String> {
    digitalocean_sandbox::spec::validate(name, instance).map_err(|errors| errors.join("; "))
}

/// The response schema of each endpoint.
pub const SNAPSHOT_LIST: &str = "snapshot_list";
pub const DROPLET_LIST: &str = "droplet_snapshot_list";
pub const ERROR: &str = "error";

/// Every page of a listing, read along its `next` links from
/// `base + first`; panics on an answer that is not a `200`.
pub async fn read_pages(base: &str, first: &str, token: Option<&str>) -> Vec<Answer> {
    let mut pages = Vec::new();
    let mut url = format!("{base}{first}");
    while pages.len() < 10_000 {
        let answer = get(&url, "", token).await;
        assert_eq!(answer.status, 200, "{url}: {}", answer.body);
        let next = answer.json()["links"]["pages"]["next"]
            .as_str()
            .map(str::to_owned);
        pages.push(answer);
        match next {
            Some(next) => url = next,
            None => return pages,
        }
    }
    panic!("more than 10,000 pages from {base}{first}")
}

/// Every item of a listing, read page by page along its `next` links.
pub async fn read_all(base: &str, first: &str, token: Option<&str>) -> Vec<Value> {
    let mut items = Vec::new();
    for page in read_pages(base, first, token).await {
        if let Some(listed) = page.json()["snapshots"].as_array() {
            items.extend(listed.iter().cloned());
        }
    }
    items
}
