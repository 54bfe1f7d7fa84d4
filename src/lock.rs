//! Locks that survive a panic elsewhere.
//!
//! What steward keeps behind a mutex (the engine, counters, cooldowns, the rules in force)
//! stays usable after a holder panicked mid-update: at worst one event's state is half
//! applied. Carrying on beats taking the whole bot down with a second panic.

use std::sync::{Mutex, MutexGuard};

/// Locks `mutex`, taking the data over from a holder that panicked.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
