//! Prometheus metrics, served at `/metrics` on the operations listener (`--ops-listen`).
//!
//! Session counts, endings and durations are counted from the same events the audit log
//! records ([`crate::audit`] calls in here), so the two can never disagree; bytes are counted
//! live by the session's pumps ([`ByteCounters`]), so a long session shows its traffic while it
//! runs; Kubernetes API latency is timed around every call ([`crate::upstream`]).
//!
//! Label values come from fixed sets (causes, error kinds, methods), never from user input, so
//! the number of series is bounded.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

/// The content type of [`Metrics::render`].
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CauseLabel {
    cause: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DirectionLabel {
    direction: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    method: &'static str,
    /// `2xx`, `4xx`, `5xx`, `1xx` (an exec's protocol switch) or `error` (no answer).
    outcome: &'static str,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn apiserver_buckets() -> Histogram {
    // 2.5 ms to about 10 s.
    Histogram::new(exponential_buckets(0.0025, 2.0, 13))
}

/// Live byte counters of terminal sessions; cheap to clone (shared atomics).
#[derive(Clone, Debug, Default)]
pub struct ByteCounters {
    /// Bytes from browsers to processes (stdin).
    pub to_process: Counter,
    /// Bytes from processes to browsers (output).
    pub to_browser: Counter,
}

/// Every metric the server reports.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    sessions_active: Gauge,
    sessions_started: Counter,
    sessions_ended: Family<CauseLabel, Counter>,
    session_duration: Histogram,
    exec_errors: Family<KindLabel, Counter>,
    refused: Family<CauseLabel, Counter>,
    apiserver_calls: HistogramFamily<CallLabels>,
    bytes: ByteCounters,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// A fresh set of metrics with its own registry.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("webshell");
        let sessions_active = Gauge::default();
        registry.register(
            "sessions_active",
            "Terminal sessions running now",
            sessions_active.clone(),
        );
        let sessions_started = Counter::default();
        registry.register(
            "sessions_started",
            "Terminal sessions started",
            sessions_started.clone(),
        );
        let sessions_ended = Family::<CauseLabel, Counter>::default();
        registry.register(
            "sessions_ended",
            "Terminal sessions ended, by cause (exited, browser_gone, exec_failed, idle, \
             max_duration, stalled, no_size, protocol_error, shutdown)",
            sessions_ended.clone(),
        );
        // 1 s to about 18 h.
        let session_duration = Histogram::new(exponential_buckets(1.0, 3.0, 12));
        registry.register_with_unit(
            "session_duration",
            "How long terminal sessions lasted",
            Unit::Seconds,
            session_duration.clone(),
        );
        let exec_errors = Family::<KindLabel, Counter>::default();
        registry.register(
            "exec_errors",
            "Sessions whose exec failed, by error kind (Forbidden, NotFound, NoShell, …)",
            exec_errors.clone(),
        );
        let refused = Family::<CauseLabel, Counter>::default();
        registry.register(
            "requests_refused",
            "Requests refused, by cause (auth, origin, host, limit, forbidden, proxy-headers, \
             shutdown)",
            refused.clone(),
        );
        let apiserver_calls: HistogramFamily<CallLabels> =
            Family::new_with_constructor(apiserver_buckets);
        registry.register_with_unit(
            "apiserver_request_duration",
            "Time to the Kubernetes API server's response headers, by method and outcome",
            Unit::Seconds,
            apiserver_calls.clone(),
        );
        let bytes_family = Family::<DirectionLabel, Counter>::default();
        registry.register(
            "session_bytes",
            "Terminal payload bytes, by direction (to_process, to_browser)",
            bytes_family.clone(),
        );
        // Two fixed series, fetched once: the pumps then add with one atomic each. One
        // statement each: the family's read guard must be gone before the next insert.
        let to_process = bytes_family
            .get_or_create(&DirectionLabel {
                direction: "to_process",
            })
            .clone();
        let to_browser = bytes_family
            .get_or_create(&DirectionLabel {
                direction: "to_browser",
            })
            .clone();
        let bytes = ByteCounters {
            to_process,
            to_browser,
        };
        Metrics {
            registry,
            sessions_active,
            sessions_started,
            sessions_ended,
            session_duration,
            exec_errors,
            refused,
            apiserver_calls,
            bytes,
        }
    }

    /// The text exposition (OpenMetrics).
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }

    /// The byte counters sessions add to.
    pub fn bytes(&self) -> ByteCounters {
        self.bytes.clone()
    }

    /// A session started.
    pub fn session_started(&self) {
        self.sessions_started.inc();
        self.sessions_active.inc();
    }

    /// A session ended after `lasted`; `cause` names how, `exec_error` the failure's kind.
    pub fn session_ended(
        &self,
        cause: &'static str,
        exec_error: Option<&'static str>,
        lasted: Duration,
    ) {
        self.sessions_active.dec();
        self.sessions_ended
            .get_or_create(&CauseLabel { cause })
            .inc();
        self.session_duration.observe(lasted.as_secs_f64());
        if let Some(kind) = exec_error {
            self.exec_errors.get_or_create(&KindLabel { kind }).inc();
        }
    }

    /// A request was refused for `cause`.
    pub fn refused(&self, cause: &'static str) {
        self.refused.get_or_create(&CauseLabel { cause }).inc();
    }

    /// A Kubernetes API call answered (`status`) or failed (`None`) after `took`.
    pub fn apiserver_call(&self, method: &http::Method, status: Option<u16>, took: Duration) {
        let method = match *method {
            http::Method::GET => "GET",
            http::Method::POST => "POST",
            http::Method::PUT => "PUT",
            http::Method::PATCH => "PATCH",
            http::Method::DELETE => "DELETE",
            _ => "other",
        };
        let outcome = match status {
            None => "error",
            Some(100..=199) => "1xx",
            Some(200..=299) => "2xx",
            Some(300..=399) => "3xx",
            Some(400..=499) => "4xx",
            Some(_) => "5xx",
        };
        self.apiserver_calls
            .get_or_create(&CallLabels { method, outcome })
            .observe(took.as_secs_f64());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
        text.lines().find(|l| l.starts_with(prefix))
    }

    #[test]
    fn sessions_are_counted_from_start_to_end_with_their_cause() {
        let m = Metrics::new();
        m.session_started();
        m.session_started();
        m.session_ended("exec_failed", Some("Forbidden"), Duration::from_secs(2));
        let text = m.render();
        assert_eq!(
            line(&text, "webshell_sessions_active "),
            Some("webshell_sessions_active 1")
        );
        assert_eq!(
            line(&text, "webshell_sessions_started_total "),
            Some("webshell_sessions_started_total 2")
        );
        assert!(text.contains("webshell_sessions_ended_total{cause=\"exec_failed\"} 1"));
        assert!(text.contains("webshell_exec_errors_total{kind=\"Forbidden\"} 1"));
        assert!(text.contains("webshell_session_duration_seconds_count 1"));
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn bytes_refusals_and_api_calls_have_their_series() {
        let m = Metrics::new();
        m.bytes().to_process.inc_by(5);
        m.bytes().to_browser.inc_by(7);
        m.refused("origin");
        m.apiserver_call(&http::Method::GET, Some(200), Duration::from_millis(3));
        m.apiserver_call(&http::Method::POST, None, Duration::from_secs(15));
        let text = m.render();
        assert!(text.contains("webshell_session_bytes_total{direction=\"to_process\"} 5"));
        assert!(text.contains("webshell_session_bytes_total{direction=\"to_browser\"} 7"));
        assert!(text.contains("webshell_requests_refused_total{cause=\"origin\"} 1"));
        assert!(text.contains(
            "webshell_apiserver_request_duration_seconds_count{method=\"GET\",outcome=\"2xx\"} 1"
        ));
        assert!(text.contains(
            "webshell_apiserver_request_duration_seconds_count{method=\"POST\",outcome=\"error\"} 1"
        ));
    }
}
