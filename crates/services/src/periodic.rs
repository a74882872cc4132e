//! Work repeated on a timer inside a process until it stops: finer than the jobs'
//! schedules, which count in minutes.

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;

/// Runs `work` every `interval` (the first time right away if `now`) until `stop` turns
/// true. A late tick is delayed, never run twice to catch up.
pub async fn every<F, Fut>(
    interval: Duration,
    now: bool,
    mut stop: watch::Receiver<bool>,
    mut work: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    if !now {
        tick.tick().await;
    }
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            return;
        }
        work().await;
    }
}
