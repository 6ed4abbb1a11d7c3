//! The one policy for a poisoned lock.
//!
//! Every `Mutex` in this crate guards a value that each critical section
//! reads, or changes in a single step with no invariant spanning two
//! statements (a counter, the freshest rate-limit report, a queue of send
//! times, a walk's summary). A panic elsewhere while one was held cannot
//! leave it half-written, so a poisoned lock is used as it is: the panic
//! that poisoned it has already reached its own caller, and refusing the
//! value here would turn one bug into a second failure in an unrelated
//! request.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks `mutex`, taking the value as it is if a panic poisoned it.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
