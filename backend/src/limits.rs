//! How many terminal sessions run: per user, in total, and how fast a user may start new ones.
//!
//! A session holds a [`SessionPermit`] for its whole life; dropping it (however the session
//! ends) gives the slot back. Every map here is bounded by the number of users with a running
//! session or a start within the last minute, and entries go as soon as neither holds.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::AppError;

/// The limits, from flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionLimits {
    /// Sessions at once, all users together.
    pub total: usize,
    /// Sessions at once, per user.
    pub per_user: usize,
    /// New sessions per user in any 60 s.
    pub new_per_minute: usize,
}

impl Default for SessionLimits {
    fn default() -> Self {
        SessionLimits {
            total: 1000,
            per_user: 20,
            new_per_minute: 30,
        }
    }
}

const WINDOW: Duration = Duration::from_secs(60);

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    running: HashMap<String, usize>,
    starts: HashMap<String, VecDeque<Instant>>,
}

/// Admits sessions within the limits.
#[derive(Debug)]
pub struct Limiter {
    limits: SessionLimits,
    counts: Mutex<Counts>,
}

/// A running session's slot; dropping it frees the slot.
#[derive(Debug)]
pub struct SessionPermit {
    limiter: Arc<Limiter>,
    user: String,
}

impl Limiter {
    /// A limiter enforcing `limits`.
    pub fn new(limits: SessionLimits) -> Arc<Limiter> {
        Arc::new(Limiter {
            limits,
            counts: Mutex::default(),
        })
    }

    /// Admits one more session for `user`, or says which limit stands in the way.
    pub fn admit(self: &Arc<Self>, user: &str) -> Result<SessionPermit, AppError> {
        self.admit_at(user, Instant::now())
    }

    fn admit_at(self: &Arc<Self>, user: &str, now: Instant) -> Result<SessionPermit, AppError> {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let limits = &self.limits;
        if counts.total >= limits.total {
            return Err(AppError::too_many(format!(
                "the server runs its maximum of {} sessions; try again later",
                limits.total
            )));
        }
        let running = counts.running.get(user).copied().unwrap_or(0);
        if running >= limits.per_user {
            return Err(AppError::too_many(format!(
                "you have {running} terminals open, the most one person may; close one first"
            )));
        }
        let starts = counts.starts.entry(user.to_owned()).or_default();
        while starts
            .front()
            .is_some_and(|t| now.duration_since(*t) >= WINDOW)
        {
            starts.pop_front();
        }
        if starts.len() >= limits.new_per_minute {
            let wait = WINDOW.saturating_sub(now.duration_since(starts[0]));
            return Err(AppError::too_many(format!(
                "you opened {} terminals within a minute; try again in {} s",
                starts.len(),
                wait.as_secs().max(1)
            )));
        }
        starts.push_back(now);
        counts.total += 1;
        *counts.running.entry(user.to_owned()).or_default() += 1;
        Ok(SessionPermit {
            limiter: Arc::clone(self),
            user: user.to_owned(),
        })
    }

    /// Sessions running now.
    pub fn running(&self) -> usize {
        self.counts.lock().unwrap_or_else(|e| e.into_inner()).total
    }

    fn release(&self, user: &str) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        counts.total = counts.total.saturating_sub(1);
        if let Some(n) = counts.running.get_mut(user) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                counts.running.remove(user);
            }
        }
        // Forget start times that can no longer count, so idle users leave no trace.
        let now = Instant::now();
        counts.starts.retain(|_, starts| {
            starts
                .back()
                .is_some_and(|t| now.duration_since(*t) < WINDOW)
        });
    }
}

impl Drop for SessionPermit {
    fn drop(&mut self) {
        self.limiter.release(&self.user);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use webshell_protocol::ErrorKind;

    fn limiter(total: usize, per_user: usize, new_per_minute: usize) -> Arc<Limiter> {
        Limiter::new(SessionLimits {
            total,
            per_user,
            new_per_minute,
        })
    }

    #[test]
    fn per_user_sessions_are_capped_and_freed_when_a_session_ends() {
        let l = limiter(10, 2, 10);
        let a = l.admit("alice").unwrap();
        let _b = l.admit("alice").unwrap();
        let refused = l.admit("alice").unwrap_err();
        assert_eq!(refused.kind, ErrorKind::TooMany);
        assert!(
            refused.message.contains("close one first"),
            "{}",
            refused.message
        );
        assert!(l.admit("bob").is_ok(), "other users are not affected");
        drop(a);
        assert!(l.admit("alice").is_ok());
    }

    #[test]
    fn the_total_is_capped_across_users() {
        let l = limiter(2, 5, 10);
        let _a = l.admit("a").unwrap();
        let _b = l.admit("b").unwrap();
        let refused = l.admit("c").unwrap_err();
        assert!(
            refused.message.contains("maximum of 2"),
            "{}",
            refused.message
        );
        assert_eq!(l.running(), 2);
    }

    #[test]
    fn new_sessions_per_minute_are_capped_in_a_sliding_window() {
        let l = limiter(10, 10, 2);
        let t0 = Instant::now();
        drop(l.admit_at("alice", t0).unwrap());
        drop(l.admit_at("alice", t0 + Duration::from_secs(1)).unwrap());
        let refused = l
            .admit_at("alice", t0 + Duration::from_secs(30))
            .unwrap_err();
        assert!(
            refused.message.contains("try again in 30 s"),
            "{}",
            refused.message
        );
        assert!(l.admit_at("alice", t0 + Duration::from_secs(60)).is_ok());
    }

    #[test]
    fn users_without_sessions_or_recent_starts_leave_no_entries() {
        let l = limiter(10, 10, 10);
        let long_ago = Instant::now() - Duration::from_secs(120);
        drop(l.admit_at("alice", long_ago).unwrap());
        let counts = l.counts.lock().unwrap();
        assert!(counts.running.is_empty());
        assert!(counts.starts.is_empty());
    }
}
