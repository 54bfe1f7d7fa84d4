//! Operations: Prometheus metrics and a health check on `STEWARD_METRICS_ADDR`.
//!
//! `/metrics` counts events, verdicts per rule, actions and their outcomes, REST errors,
//! and the time from an event's arrival to the end of the actions it caused.
//! `/healthz` answers 200 when the gateway is connected and the database takes writes,
//! 503 otherwise.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::engine::event::{ChannelId, GuildId};
use crate::lock::lock;
use crate::moderation::{ExecError, ExecOutcome, Executor, Request};
use crate::store::Store;

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];

/// Counters by label set.
#[derive(Default)]
struct Counters(Mutex<BTreeMap<Vec<(&'static str, String)>, u64>>);

impl Counters {
    fn add(&self, labels: Vec<(&'static str, String)>) {
        let mut map = lock(&self.0);
        *map.entry(labels).or_default() += 1;
    }

    fn render(&self, name: &str, help: &str, out: &mut String) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
        let map = lock(&self.0);
        for (labels, value) in map.iter() {
            let labels: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
                .collect();
            let _ = writeln!(out, "{name}{{{}}} {value}", labels.join(","));
        }
    }
}

/// Everything the bot counts.
#[derive(Default)]
pub struct Metrics {
    events: Counters,
    settled: Counters,
    verdicts: Counters,
    actions: Counters,
    rest_errors: AtomicU64,
    latency_buckets: [AtomicU64; BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_micros: AtomicU64,
    gateway_connected: AtomicBool,
}

impl Metrics {
    /// One event of `kind` arrived.
    pub fn event(&self, kind: &str) {
        self.events.add(vec![("kind", kind.to_string())]);
    }

    /// An event of `kind` was handled to the end: verdicts carried out, answers posted.
    pub fn settled(&self, kind: &str) {
        self.settled.add(vec![("kind", kind.to_string())]);
    }

    /// A rule matched.
    pub fn verdict(&self, rule: &str) {
        self.verdicts.add(vec![("rule", rule.to_string())]);
    }

    /// The actions an event caused took `took` from its arrival.
    pub fn latency(&self, took: StdDuration) {
        let secs = took.as_secs_f64();
        for (bucket, bound) in self.latency_buckets.iter().zip(BUCKETS) {
            if secs <= bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.latency_sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    /// Whether the gateway is connected.
    pub fn set_connected(&self, connected: bool) {
        self.gateway_connected.store(connected, Ordering::Relaxed);
    }

    /// The Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.events
            .render("steward_events_total", "Gateway events received.", &mut out);
        self.settled.render(
            "steward_events_settled_total",
            "Gateway events handled to the end (actions carried out, answers posted).",
            &mut out,
        );
        self.verdicts
            .render("steward_verdicts_total", "Rule matches, by rule.", &mut out);
        self.actions.render(
            "steward_actions_total",
            "Actions carried out, by action and outcome.",
            &mut out,
        );
        let _ = writeln!(
            out,
            "# HELP steward_rest_errors_total Discord REST calls that failed after retries.\n\
             # TYPE steward_rest_errors_total counter\nsteward_rest_errors_total {}",
            self.rest_errors.load(Ordering::Relaxed)
        );
        let name = "steward_event_to_action_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} From an event's arrival to the end of its actions.\n# TYPE {name} histogram"
        );
        for (bucket, bound) in self.latency_buckets.iter().zip(BUCKETS) {
            let _ = writeln!(
                out,
                "{name}_bucket{{le=\"{bound}\"}} {}",
                bucket.load(Ordering::Relaxed)
            );
        }
        let count = self.latency_count.load(Ordering::Relaxed);
        let sum = self.latency_sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(
            out,
            "{name}_bucket{{le=\"+Inf\"}} {count}\n{name}_sum {sum}\n{name}_count {count}"
        );
        let _ = writeln!(
            out,
            "# HELP steward_gateway_connected Whether the gateway connection is up.\n\
             # TYPE steward_gateway_connected gauge\nsteward_gateway_connected {}",
            u8::from(self.gateway_connected.load(Ordering::Relaxed))
        );
        out
    }
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// An executor that counts what the one inside it does.
pub struct Metered<E> {
    inner: E,
    metrics: Arc<Metrics>,
}

impl<E> Metered<E> {
    /// Counts the requests `inner` carries out into `metrics`.
    pub fn new(inner: E, metrics: Arc<Metrics>) -> Self {
        Metered { inner, metrics }
    }

    /// The executor being counted.
    pub fn inner(&self) -> &E {
        &self.inner
    }
}

impl<E: Executor> Executor for Metered<E> {
    async fn slowmode_of(&self, channel: ChannelId) -> Result<u32, ExecError> {
        self.inner.slowmode_of(channel).await
    }

    async fn overwrites(
        &self,
        guild: GuildId,
        channels: &[ChannelId],
    ) -> Result<serde_json::Value, ExecError> {
        self.inner.overwrites(guild, channels).await
    }

    async fn execute(&self, request: &Request) -> Result<ExecOutcome, ExecError> {
        let result = self.inner.execute(request).await;
        let outcome = match &result {
            Ok(ExecOutcome::Done) => "done",
            Ok(ExecOutcome::Refused(_)) => "refused",
            Err(_) => {
                self.metrics.rest_errors.fetch_add(1, Ordering::Relaxed);
                "failed"
            }
        };
        self.metrics.actions.add(vec![
            ("action", request.name().to_string()),
            ("outcome", outcome.to_string()),
        ]);
        result
    }
}

/// Serves `/metrics` and `/healthz` on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, metrics: Arc<Metrics>, store: Store) {
    while let Ok((mut stream, _)) = listener.accept().await {
        let (metrics, store) = (metrics.clone(), store.clone());
        tokio::spawn(async move {
            let mut buf = [0u8; 1024];
            let Ok(n) = stream.read(&mut buf).await else {
                return;
            };
            let request = String::from_utf8_lossy(&buf[..n]);
            let path = request.split_whitespace().nth(1).unwrap_or("/");
            let (status, body) = match path {
                "/metrics" => ("200 OK", metrics.render()),
                "/healthz" => health(&metrics, &store).await,
                _ => ("404 Not Found", "not found\n".to_string()),
            };
            let response = format!(
                "HTTP/1.1 {status}\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes()).await;
        });
    }
}

async fn health(metrics: &Metrics, store: &Store) -> (&'static str, String) {
    let started = Instant::now();
    let gateway = metrics.gateway_connected.load(Ordering::Relaxed);
    let database = store.writable().await;
    let body = format!(
        "gateway: {}\ndatabase: {} ({} ms)\n",
        if gateway { "connected" } else { "disconnected" },
        if database { "writable" } else { "not writable" },
        started.elapsed().as_millis()
    );
    let status = if gateway && database {
        "200 OK"
    } else {
        "503 Service Unavailable"
    };
    (status, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_a_cumulative_histogram() {
        let m = Metrics::default();
        m.event("message");
        m.event("message");
        m.verdict("slurs");
        m.latency(StdDuration::from_millis(3));
        m.latency(StdDuration::from_millis(300));
        let text = m.render();
        assert!(
            text.contains("steward_events_total{kind=\"message\"} 2"),
            "{text}"
        );
        assert!(text.contains("steward_verdicts_total{rule=\"slurs\"} 1"));
        assert!(text.contains("steward_event_to_action_seconds_bucket{le=\"0.005\"} 1"));
        assert!(text.contains("steward_event_to_action_seconds_bucket{le=\"0.5\"} 2"));
        assert!(text.contains("steward_event_to_action_seconds_count 2"));
        assert!(text.contains("steward_gateway_connected 0"));
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
