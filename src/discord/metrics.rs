//! Operations: Prometheus metrics and a health check on `STEWARD_METRICS_ADDR`.
//!
//! `/metrics` counts events, verdicts per rule, actions and their outcomes, REST errors,
//! and the time from an event's arrival to the end of the actions it caused.
//! `/healthz` answers 200 when the gateway is connected and the database takes writes,
//! 503 otherwise. It reads the last result of a probe that runs in the background, so it
//! answers at once even while the database is busy or gone.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower_http::timeout::TimeoutLayer;

use crate::engine::event::{ChannelId, GuildId, MessageId, UserId};
use crate::lock::lock;
use crate::moderation::{Delivery, ExecError, ExecOutcome, Executor, Post, Request};
use crate::store::Store;

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];

/// The content type of the OpenMetrics text format `prometheus-client` writes.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RuleLabel {
    rule: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActionLabels {
    action: String,
    outcome: &'static str,
}

/// Everything the bot counts, and the last word on the database's health.
pub struct Metrics {
    registry: Registry,
    events: Family<KindLabel, Counter>,
    settled: Family<KindLabel, Counter>,
    verdicts: Family<RuleLabel, Counter>,
    actions: Family<ActionLabels, Counter>,
    rest_errors: Counter,
    latency: Histogram,
    gateway_gauge: Gauge,
    gateway_connected: AtomicBool,
    database: Mutex<Option<Probe>>,
}

/// One check of the database: whether it took a write, and when that was known.
#[derive(Clone, Copy)]
struct Probe {
    writable: bool,
    at: Instant,
    took: StdDuration,
}

impl Default for Metrics {
    fn default() -> Self {
        let events = Family::<KindLabel, Counter>::default();
        let settled = Family::<KindLabel, Counter>::default();
        let verdicts = Family::<RuleLabel, Counter>::default();
        let actions = Family::<ActionLabels, Counter>::default();
        let rest_errors = Counter::default();
        let latency = Histogram::new(BUCKETS);
        let gateway_gauge = Gauge::default();
        let mut registry = Registry::default();
        registry.register("steward_events", "Gateway events received", events.clone());
        registry.register(
            "steward_events_settled",
            "Gateway events handled to the end (actions carried out, answers posted)",
            settled.clone(),
        );
        registry.register(
            "steward_verdicts",
            "Rule matches, by rule",
            verdicts.clone(),
        );
        registry.register(
            "steward_actions",
            "Actions carried out, by action and outcome",
            actions.clone(),
        );
        registry.register(
            "steward_rest_errors",
            "Discord REST calls that failed after retries",
            rest_errors.clone(),
        );
        registry.register(
            "steward_event_to_action_seconds",
            "From an event's arrival to the end of its actions",
            latency.clone(),
        );
        registry.register(
            "steward_gateway_connected",
            "Whether the gateway connection is up",
            gateway_gauge.clone(),
        );
        Metrics {
            registry,
            events,
            settled,
            verdicts,
            actions,
            rest_errors,
            latency,
            gateway_gauge,
            gateway_connected: AtomicBool::new(false),
            database: Mutex::new(None),
        }
    }
}

impl Metrics {
    /// One event of `kind` arrived.
    pub fn event(&self, kind: &str) {
        self.events.get_or_create(&kind_label(kind)).inc();
    }

    /// An event of `kind` was handled to the end: verdicts carried out, answers posted.
    pub fn settled(&self, kind: &str) {
        self.settled.get_or_create(&kind_label(kind)).inc();
    }

    /// A rule matched.
    pub fn verdict(&self, rule: &str) {
        let label = RuleLabel {
            rule: rule.to_string(),
        };
        self.verdicts.get_or_create(&label).inc();
    }

    /// The actions an event caused took `took` from its arrival.
    pub fn latency(&self, took: StdDuration) {
        self.latency.observe(took.as_secs_f64());
    }

    /// Whether the gateway is connected.
    pub fn set_connected(&self, connected: bool) {
        self.gateway_connected.store(connected, Ordering::Relaxed);
        self.gateway_gauge.set(i64::from(connected));
    }

    fn action(&self, action: &str, outcome: &'static str) {
        let labels = ActionLabels {
            action: action.to_string(),
            outcome,
        };
        self.actions.get_or_create(&labels).inc();
    }

    /// The OpenMetrics text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    fn record_probe(&self, probe: Probe) {
        *lock(&self.database) = Some(probe);
    }

    fn last_probe(&self) -> Option<Probe> {
        *lock(&self.database)
    }
}

fn kind_label(kind: &str) -> KindLabel {
    KindLabel {
        kind: kind.to_string(),
    }
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

    async fn refusal(&self, guild: GuildId, user: UserId) -> Result<Option<String>, ExecError> {
        self.inner.refusal(guild, user).await
    }

    async fn post(
        &self,
        guild: GuildId,
        channel: ChannelId,
        post: &Post,
    ) -> Result<MessageId, ExecError> {
        self.inner.post(guild, channel, post).await
    }

    async fn edit_post(
        &self,
        guild: GuildId,
        channel: ChannelId,
        message: MessageId,
        post: &Post,
    ) -> Result<(), ExecError> {
        self.inner.edit_post(guild, channel, message, post).await
    }

    async fn direct_message(&self, user: UserId, post: &Post) -> Result<Delivery, ExecError> {
        self.inner.direct_message(user, post).await
    }

    fn guild_name(&self, guild: GuildId) -> Option<String> {
        self.inner.guild_name(guild)
    }

    async fn execute(&self, request: &Request) -> Result<ExecOutcome, ExecError> {
        let result = self.inner.execute(request).await;
        let outcome = match &result {
            Ok(ExecOutcome::Done) => "done",
            Ok(ExecOutcome::Refused(_)) => "refused",
            Err(_) => {
                self.metrics.rest_errors.inc();
                "failed"
            }
        };
        self.metrics.action(request.name(), outcome);
        result
    }
}

/// How the metrics port protects itself from clients that hold connections open.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Connections served at once; one more is closed as soon as it is accepted.
    pub connections: usize,
    /// How long a client may take to send its request's headers.
    pub header_timeout: StdDuration,
    /// How long a request may take to be answered.
    pub request_timeout: StdDuration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            connections: 4096,
            header_timeout: StdDuration::from_secs(5),
            request_timeout: StdDuration::from_secs(10),
        }
    }
}

/// How often the database is probed, and how old a probe may be before `/healthz` stops
/// trusting it (a probe stuck that long is itself a sign of trouble).
const PROBE_EVERY: StdDuration = StdDuration::from_secs(2);
const PROBE_STALE: StdDuration = StdDuration::from_secs(6);

/// Serves `/metrics` and `/healthz` on `listener` until the task is dropped, and keeps the
/// database probe running beside it.
pub async fn serve(listener: TcpListener, metrics: Arc<Metrics>, store: Store, limits: Limits) {
    let probe = tokio::spawn(probe_database(metrics.clone(), store));
    let app = Router::new()
        .route("/metrics", get(metrics_page))
        .route("/healthz", get(health))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            limits.request_timeout,
        ))
        .with_state(metrics);
    let slots = Arc::new(Semaphore::new(limits.connections));
    while let Ok((stream, _)) = listener.accept().await {
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            drop(stream);
            continue;
        };
        let service = TowerToHyperService::new(app.clone());
        tokio::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout)
                .keep_alive(false)
                .serve_connection(TokioIo::new(stream), service);
            let _ = connection.await;
            drop(slot);
        });
    }
    probe.abort();
}

/// Checks every few seconds that the database takes a write, each check bounded in time.
async fn probe_database(metrics: Arc<Metrics>, store: Store) {
    let mut ticks = tokio::time::interval(PROBE_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let started = Instant::now();
        let writable = tokio::time::timeout(PROBE_STALE, store.writable())
            .await
            .unwrap_or(false);
        metrics.record_probe(Probe {
            writable,
            at: Instant::now(),
            took: started.elapsed(),
        });
    }
}

async fn metrics_page(State(metrics): State<Arc<Metrics>>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, OPENMETRICS)], metrics.render())
}

async fn health(State(metrics): State<Arc<Metrics>>) -> impl IntoResponse {
    let gateway = metrics.gateway_connected.load(Ordering::Relaxed);
    let probe = metrics.last_probe();
    let database = match probe {
        Some(p) if p.at.elapsed() > PROBE_STALE => "no answer".to_string(),
        Some(p) if p.writable => format!("writable ({} ms)", p.took.as_millis()),
        Some(p) => format!("not writable ({} ms)", p.took.as_millis()),
        None => "not checked yet".to_string(),
    };
    let healthy = gateway && probe.is_some_and(|p| p.writable && p.at.elapsed() <= PROBE_STALE);
    let body = format!(
        "gateway: {}\ndatabase: {database}\n",
        if gateway { "connected" } else { "disconnected" },
    );
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
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
        let m = Metrics::default();
        m.verdict("a\"b\\c\nd");
        let text = m.render();
        assert!(text.contains(r#"rule="a\"b\\c\nd""#), "{text}");
    }

    async fn serving(limits: Limits) -> (std::net::SocketAddr, Arc<Metrics>, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("steward.db");
        let store = Store::open(path.to_str().expect("utf-8 path"))
            .await
            .expect("store");
        store.migrate().await.expect("migrate");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let metrics = Arc::new(Metrics::default());
        tokio::spawn(serve(listener, metrics.clone(), store, limits));
        (addr, metrics, dir)
    }

    async fn ask(addr: std::net::SocketAddr, path: &str) -> std::io::Result<String> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(addr).await?;
        let request = format!("GET {path} HTTP/1.1\r\nHost: steward\r\n\r\n");
        stream.write_all(request.as_bytes()).await?;
        let mut response = String::new();
        stream.read_to_string(&mut response).await?;
        Ok(response)
    }

    #[tokio::test]
    async fn health_follows_the_gateway_and_the_database_probe() {
        let (addr, metrics, _dir) = serving(Limits::default()).await;
        let first = ask(addr, "/healthz").await.expect("answer");
        assert!(first.starts_with("HTTP/1.1 503"), "{first}");
        assert!(first.contains("gateway: disconnected"), "{first}");
        metrics.set_connected(true);
        let deadline = Instant::now() + StdDuration::from_secs(5);
        loop {
            let answer = ask(addr, "/healthz").await.expect("answer");
            if answer.starts_with("HTTP/1.1 200") {
                assert!(answer.contains("database: writable"), "{answer}");
                break;
            }
            assert!(Instant::now() < deadline, "never healthy: {answer}");
            tokio::time::sleep(StdDuration::from_millis(20)).await;
        }
        let page = ask(addr, "/metrics").await.expect("answer");
        assert!(page.contains("steward_gateway_connected 1"), "{page}");
        assert!(page.contains("application/openmetrics-text"), "{page}");
        let missing = ask(addr, "/nothing").await.expect("answer");
        assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
    }

    #[tokio::test]
    async fn a_silent_client_is_dropped_and_the_cap_turns_away_the_rest() {
        let limits = Limits {
            connections: 2,
            header_timeout: StdDuration::from_millis(200),
            request_timeout: StdDuration::from_secs(1),
        };
        let (addr, _metrics, _dir) = serving(limits).await;
        let mut silent = Vec::new();
        for _ in 0..2 {
            silent.push(tokio::net::TcpStream::connect(addr).await.expect("connect"));
        }
        // Both slots are held: a third connection is closed without an answer.
        tokio::time::sleep(StdDuration::from_millis(50)).await;
        let turned_away = ask(addr, "/healthz").await.unwrap_or_default();
        assert!(turned_away.is_empty(), "{turned_away}");
        // Once the silent clients time out, their slots serve again.
        for stream in &mut silent {
            use tokio::io::AsyncReadExt;
            let mut buf = Vec::new();
            let read =
                tokio::time::timeout(StdDuration::from_secs(2), stream.read_to_end(&mut buf));
            assert!(read.await.is_ok(), "a silent client was never dropped");
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
        let served = ask(addr, "/healthz").await.expect("answer");
        assert!(served.starts_with("HTTP/1.1 503"), "{served}");
    }
}
