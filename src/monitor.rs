//! Prometheus metrics (`GET /metrics`, the text exposition format 0.0.4,
//! <https://prometheus.io/docs/instrumenting/exposition_formats/>), recorded with the `metrics`
//! crate and rendered by `metrics-exporter-prometheus`.
//!
//! Counters and histograms are recorded where things happen; the hot paths (a delivery, its
//! bytes) hold their handle in a static, so recording is one atomic add. Gauges of state
//! (sessions, rooms, queued bytes) are read at scrape time from the actors that hold it
//! ([`Gauges`]), so they cost nothing between scrapes. Names follow Prometheus' conventions
//! (<https://prometheus.io/docs/practices/naming/>): `parlor_` prefix, base units, `_total` on
//! counters. Each node reports its own.

use std::sync::{LazyLock, OnceLock};

use metrics::{
    Counter, Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram,
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// `parlor_messages_stored_total`: messages stored (retries' duplicates not counted).
pub const MESSAGES_STORED: &str = "parlor_messages_stored_total";
/// `parlor_deliveries_total`: events written to WebSocket sessions (a broadcast to n sessions
/// counts n).
pub const DELIVERIES: &str = "parlor_deliveries_total";
/// `parlor_ws_bytes_out_total`: bytes of WebSocket frames' payloads written to sessions.
pub const BYTES_OUT: &str = "parlor_ws_bytes_out_total";
/// `parlor_slow_consumer_closes_total`: sessions closed with 4008 (their outbox overflowed).
pub const SLOW_CONSUMER_CLOSES: &str = "parlor_slow_consumer_closes_total";
/// `parlor_commit_batch_size`: writes per group-commit batch (histogram).
pub const COMMIT_BATCH_SIZE: &str = "parlor_commit_batch_size";
/// `parlor_commit_seconds`: a group-commit batch's time from leaving its queue to its answer
/// (histogram, seconds).
pub const COMMIT_SECONDS: &str = "parlor_commit_seconds";
/// `parlor_rate_limited_total{kind}`: requests and commands refused by a rate limit.
pub const RATE_LIMITED: &str = "parlor_rate_limited_total";
/// `parlor_http_requests_total{method,route,status}`: HTTP requests answered, by route
/// pattern (`unmatched` for none).
pub const HTTP_REQUESTS: &str = "parlor_http_requests_total";
/// `parlor_http_request_duration_seconds{method,route}` (histogram, seconds).
pub const HTTP_SECONDS: &str = "parlor_http_request_duration_seconds";
/// `parlor_upload_bytes_total`: bytes of uploaded files stored.
pub const UPLOAD_BYTES: &str = "parlor_upload_bytes_total";
/// `parlor_thumbnails_total{result="made"|"skipped"}`: images given a thumbnail, or too large
/// to decode for one.
pub const THUMBNAILS: &str = "parlor_thumbnails_total";
/// `parlor_http_connections_open`: open TCP connections of the HTTP server.
pub const CONNECTIONS_OPEN: &str = "parlor_http_connections_open";
/// `parlor_sessions_open`: live WebSocket sessions.
pub const SESSIONS_OPEN: &str = "parlor_sessions_open";
/// `parlor_users_online`: users with at least one live session on this node.
pub const USERS_ONLINE: &str = "parlor_users_online";
/// `parlor_rooms_live`: conversations with a running room on this node.
pub const ROOMS_LIVE: &str = "parlor_rooms_live";
/// `parlor_outbox_queued_bytes`: bytes of events queued for sessions and not yet written,
/// summed over the sessions.
pub const OUTBOX_QUEUED: &str = "parlor_outbox_queued_bytes";
/// `parlor_outbox_queued_bytes_max`: the fullest session's queued bytes.
pub const OUTBOX_QUEUED_MAX: &str = "parlor_outbox_queued_bytes_max";
/// `parlor_uptime_seconds`: seconds since this node started.
pub const UPTIME: &str = "parlor_uptime_seconds";

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The handle of every delivery (see [`delivered`]).
static DELIVERY_COUNTER: LazyLock<Counter> = LazyLock::new(|| counter!(DELIVERIES));
/// The handle of every frame's bytes (see [`delivered`]).
static BYTES_COUNTER: LazyLock<Counter> = LazyLock::new(|| counter!(BYTES_OUT));

/// Installs the process-wide recorder (once; later calls answer the same handle). `None` when
/// another recorder was installed first, and then nothing is recorded here. Called at start,
/// before the first session, so the hot paths' static handles bind to it.
pub fn install() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let seconds = [
                0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                10.0,
            ];
            let sizes = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(COMMIT_SECONDS.into()), &seconds)
                .and_then(|b| {
                    b.set_buckets_for_metric(Matcher::Full(HTTP_SECONDS.into()), &seconds)
                })
                .and_then(|b| {
                    b.set_buckets_for_metric(Matcher::Full(COMMIT_BATCH_SIZE.into()), &sizes)
                })
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            describe();
            // Exposed from the start at 0, so a rate over them has a first sample.
            for name in [MESSAGES_STORED, SLOW_CONSUMER_CLOSES, UPLOAD_BYTES] {
                counter!(name).increment(0);
            }
            LazyLock::force(&DELIVERY_COUNTER);
            LazyLock::force(&BYTES_COUNTER);
            Some(handle)
        })
        .as_ref()
}

fn describe() {
    describe_counter!(MESSAGES_STORED, "Messages stored");
    describe_counter!(DELIVERIES, "Events written to WebSocket sessions");
    describe_counter!(
        BYTES_OUT,
        Unit::Bytes,
        "WebSocket payload bytes written to sessions"
    );
    describe_counter!(
        SLOW_CONSUMER_CLOSES,
        "Sessions closed as slow consumers (4008)"
    );
    describe_histogram!(COMMIT_BATCH_SIZE, "Writes per group-commit batch");
    describe_histogram!(COMMIT_SECONDS, Unit::Seconds, "Group-commit batch latency");
    describe_counter!(
        RATE_LIMITED,
        "Requests and commands refused by a rate limit"
    );
    describe_counter!(HTTP_REQUESTS, "HTTP requests answered");
    describe_histogram!(HTTP_SECONDS, Unit::Seconds, "HTTP request duration");
    describe_counter!(UPLOAD_BYTES, Unit::Bytes, "Uploaded bytes stored");
    describe_counter!(THUMBNAILS, "Image thumbnails made or skipped");
    describe_gauge!(CONNECTIONS_OPEN, "Open HTTP connections");
    describe_gauge!(SESSIONS_OPEN, "Live WebSocket sessions");
    describe_gauge!(USERS_ONLINE, "Users with a live session on this node");
    describe_gauge!(ROOMS_LIVE, "Conversations with a running room");
    describe_gauge!(
        OUTBOX_QUEUED,
        Unit::Bytes,
        "Event bytes queued for sessions"
    );
    describe_gauge!(
        OUTBOX_QUEUED_MAX,
        Unit::Bytes,
        "The fullest session's queued bytes"
    );
    describe_gauge!(UPTIME, Unit::Seconds, "Seconds since this node started");
}

/// A frame of `bytes` written to a session; `event` when it is a delivery (a room's or
/// presence's event), not an answer to the client's own command.
#[inline]
pub fn delivered(bytes: usize, event: bool) {
    if event {
        DELIVERY_COUNTER.increment(1);
    }
    BYTES_COUNTER.increment(bytes as u64);
}

/// A session closed as a slow consumer.
pub fn slow_consumer_closed() {
    counter!(SLOW_CONSUMER_CLOSES).increment(1);
}

/// `n` messages stored.
pub fn messages_stored(n: u64) {
    counter!(MESSAGES_STORED).increment(n);
}

/// A group-commit batch of `size` writes answered after `elapsed`.
pub fn committed(size: usize, elapsed: std::time::Duration) {
    #[allow(clippy::cast_precision_loss)] // batch sizes are small
    histogram!(COMMIT_BATCH_SIZE).record(size as f64);
    histogram!(COMMIT_SECONDS).record(elapsed.as_secs_f64());
}

/// A refusal by the rate limit `kind` (`api`, `login`, `send`, `frames`, ...); called by
/// [`crate::error::AppError::rate_limited`], where every refusal is built.
pub fn rate_limited(kind: &'static str) {
    counter!(RATE_LIMITED, "kind" => kind).increment(1);
}

/// An HTTP request to `route` (its pattern) answered `status` after `elapsed`.
pub fn http_request(method: &str, route: String, status: u16, elapsed: std::time::Duration) {
    let method = method.to_owned();
    histogram!(HTTP_SECONDS, "method" => method.clone(), "route" => route.clone())
        .record(elapsed.as_secs_f64());
    counter!(HTTP_REQUESTS, "method" => method, "route" => route, "status" => status.to_string())
        .increment(1);
}

/// An upload of `bytes` stored; `thumbnail`: `Some(true)` an image given a thumbnail,
/// `Some(false)` one too large for it, `None` not an image.
pub fn upload_stored(bytes: u64, thumbnail: Option<bool>) {
    counter!(UPLOAD_BYTES).increment(bytes);
    if let Some(made) = thumbnail {
        let result = if made { "made" } else { "skipped" };
        counter!(THUMBNAILS, "result" => result).increment(1);
    }
}

/// An open HTTP connection: counted while it lives (kept in the connection's extensions).
pub struct ConnectionGuard;

impl ConnectionGuard {
    /// Counts a new connection.
    pub fn open() -> Self {
        gauge!(CONNECTIONS_OPEN).increment(1.0);
        Self
    }
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        gauge!(CONNECTIONS_OPEN).decrement(1.0);
    }
}

/// How often recorded histogram samples are folded into their buckets between scrapes.
pub const UPKEEP_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);

/// Folds the histogram samples recorded since the last upkeep into their buckets every
/// [`UPKEEP_INTERVAL`], for as long as the actix system runs. The exporter keeps each sample
/// until then, so without it a node nobody scrapes would hold every commit's and request's
/// timing (found by the 30-minute soak, docs/BENCHMARKS.md).
pub fn spawn_upkeep(handle: PrometheusHandle) {
    actix::spawn(async move {
        let mut every = tokio::time::interval(UPKEEP_INTERVAL);
        loop {
            every.tick().await;
            handle.run_upkeep();
        }
    });
}

/// The state read at scrape time.
#[derive(Debug, Clone, Copy, Default)]
pub struct Gauges {
    /// Live WebSocket sessions.
    pub sessions: usize,
    /// Users with a live session.
    pub users: usize,
    /// Running rooms.
    pub rooms: usize,
    /// Queued event bytes over all sessions.
    pub queued_bytes: usize,
    /// The fullest session's queued bytes.
    pub queued_bytes_max: usize,
    /// Seconds since start.
    pub uptime_s: u64,
}

/// The exposition text: `gauges` set, then everything recorded so far.
pub fn render(handle: &PrometheusHandle, gauges: &Gauges) -> String {
    #[allow(clippy::cast_precision_loss)] // counts far below 2^52
    {
        gauge!(SESSIONS_OPEN).set(gauges.sessions as f64);
        gauge!(USERS_ONLINE).set(gauges.users as f64);
        gauge!(ROOMS_LIVE).set(gauges.rooms as f64);
        gauge!(OUTBOX_QUEUED).set(gauges.queued_bytes as f64);
        gauge!(OUTBOX_QUEUED_MAX).set(gauges.queued_bytes_max as f64);
        gauge!(UPTIME).set(gauges.uptime_s as f64);
    }
    handle.run_upkeep();
    handle.render()
}
