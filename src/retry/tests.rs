//! Backoff, the budget and the policy's edges.

use super::*;

#[test]
fn backoff_doubles_up_to_the_cap_and_jitter_stays_below_the_ceiling() {
    let policy = RetryPolicy::default()
        .backoff(Duration::from_millis(500), Duration::from_secs(8))
        .jitter(false);
    let waits: Vec<u128> = (1..=7)
        .map(|n| policy.backoff_wait(n).as_millis())
        .collect();
    assert_eq!(waits, [500, 1000, 2000, 4000, 8000, 8000, 8000]);
    let jittered = policy.jitter(true);
    for n in 1..=7 {
        for _ in 0..100 {
            assert!(jittered.backoff_wait(n) <= jittered.ceiling(n));
        }
    }
    assert_eq!(
        RetryPolicy::default().ceiling(u32::MAX),
        Duration::from_secs(8)
    );
}

#[test]
fn the_budget_spends_refunds_and_never_exceeds_its_capacity() {
    let budget = RetryBudget::new(12);
    assert!(budget.try_spend(RETRY_COST));
    assert!(budget.try_spend(RETRY_COST));
    assert!(!budget.try_spend(RETRY_COST), "2 tokens left");
    budget.refund(100);
    assert_eq!(budget.remaining(), 12);
}

#[test]
fn only_a_429_without_digitaloceans_headers_is_a_gateways_refusal() {
    use crate::{ApiError, RateLimit};
    let rate = RateLimit::new(5000, 0, chrono::DateTime::UNIX_EPOCH);
    let gateway = Error::from(ApiError::new(429).with_retry_after(Duration::from_secs(1)));
    assert!(gateway_refusal(&gateway));
    let digitalocean = Error::from(ApiError::new(429).with_rate_limit(rate));
    assert!(!gateway_refusal(&digitalocean), "the pace answers it");
    assert!(!gateway_refusal(&Error::from(ApiError::new(503))));
    assert!(!gateway_refusal(&Error::timeout("read timed out")));
}
