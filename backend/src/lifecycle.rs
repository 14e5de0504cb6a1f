//! The server's life after start: serving, then draining when the orchestrator asks it to stop.
//!
//! On SIGTERM (a rollout, a node drain) the order is the one a Service needs:
//! 1. `/readyz` fails and new terminal sessions are refused (503, close 1001), so endpoints
//!    stop routing here;
//! 2. every running session is told in a close frame (1001, "the server is shutting down") and
//!    its remote process is ended, so the person can reconnect to another replica at once
//!    rather than find a dead shell later;
//! 3. the server waits up to the drain period for those sessions to finish closing, then stops
//!    serving and exits 0.
//!
//! Sessions run on the socket's upgrade task, not one of ours, so they are counted here with a
//! [`TaskTracker`] rather than joined.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tokio_util::task::task_tracker::TrackedFuture;

/// Whether the server is draining, and the sessions it waits for.
#[derive(Debug, Default)]
pub struct Lifecycle {
    draining: AtomicBool,
    stop_sessions: CancellationToken,
    sessions: TaskTracker,
}

impl Lifecycle {
    /// A server that is serving.
    pub fn new() -> Lifecycle {
        Lifecycle::default()
    }

    /// True once a drain started: readiness fails and new sessions are refused.
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }

    /// Resolves when running sessions must end because the server is shutting down.
    pub fn session_stop(&self) -> CancellationToken {
        self.stop_sessions.clone()
    }

    /// Runs a session, counted until it ends.
    pub fn track<F: Future>(&self, session: F) -> TrackedFuture<F> {
        self.sessions.track_future(session)
    }

    /// Sessions running now.
    pub fn running_sessions(&self) -> usize {
        self.sessions.len()
    }

    /// Starts the drain (steps 1 and 2 above).
    pub fn begin_drain(&self) {
        if !self.draining.swap(true, Ordering::AcqRel) {
            tracing::info!(
                sessions = self.sessions.len(),
                "shutting down: readiness fails, new sessions are refused, running ones are told"
            );
        }
        self.stop_sessions.cancel();
    }

    /// Waits until every session has ended, at most `limit`; says whether they all did.
    pub async fn sessions_ended(&self, limit: Duration) -> bool {
        self.sessions.close();
        tokio::time::timeout(limit, self.sessions.wait())
            .await
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_drain_fails_readiness_stops_sessions_and_waits_for_them() {
        let life = std::sync::Arc::new(Lifecycle::new());
        assert!(!life.is_draining());
        let stop = life.session_stop();
        let session = tokio::spawn(life.track(async move {
            stop.cancelled().await;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }));
        tokio::task::yield_now().await;
        assert_eq!(life.running_sessions(), 1);
        life.begin_drain();
        assert!(life.is_draining());
        assert!(life.sessions_ended(Duration::from_secs(5)).await);
        session.await.unwrap();
        assert_eq!(life.running_sessions(), 0);
    }

    #[tokio::test]
    async fn a_session_that_does_not_end_is_given_up_on_after_the_limit() {
        let life = Lifecycle::new();
        let _stuck = tokio::spawn(life.track(std::future::pending::<()>()));
        life.begin_drain();
        assert!(!life.sessions_ended(Duration::from_millis(50)).await);
    }
}
