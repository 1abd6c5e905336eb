//! Scenario `knee`: one conversation, four senders at one message per second each; members are
//! added in steps, and each step measures delivery latency to every member. The run stops at the
//! first step whose p95 exceeds 500 ms; the knee is the largest member count below it.
//!
//! By default the four send at the same moments each second (as four clients started together
//! do); `--knee-stagger-ms 250` spreads them over the second instead.
//!
//! Each delivery is also split at the server's commit: the message's `created_at`, stamped inside
//! the commit transaction on the same machine's clock, placed on the generator's timeline.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde::Serialize;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use crate::server::{cpu_seconds, create_conversation, register_users};

/// One step's figures.
#[derive(Debug, Serialize)]
pub struct Step {
    pub members: usize,
    pub delivered: u64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    /// p95 of the time from the send to the server's commit (the message's `created_at`).
    pub p95_to_commit_ms: f64,
    /// p95 of the time from the server's commit to the member reading the frame.
    pub p95_commit_to_read_ms: f64,
    pub server_cpu_us_per_delivery: Option<f64>,
    /// Share of one core the server used during the step.
    pub server_cpu_utilization: Option<f64>,
    /// Share of one core the load generator used during the step: near 1.0, the generator, not
    /// the server, bounds the latencies.
    pub generator_cpu_utilization: f64,
}

/// What a knee run found.
#[derive(Debug, Serialize)]
pub struct KneeReport {
    pub steps: Vec<Step>,
    /// Largest member count served with p95 ≤ 500 ms.
    pub knee_members: Option<usize>,
}

struct Shared {
    epoch: Instant,
    /// `epoch` on the wall clock, in microseconds since 1970: places the server's `created_at`
    /// (same machine, same clock) on the generator's timeline.
    epoch_unix_us: i64,
    to_commit: RefCell<Histogram<u64>>,
    commit_to_read: RefCell<Histogram<u64>>,
    step_start_us: Cell<u64>,
    histogram: RefCell<Histogram<u64>>,
    stop: Cell<bool>,
    joined: Cell<usize>,
    /// Members that could not connect after their retries.
    failed: Cell<usize>,
}

async fn receiver(url: String, conversation: i64, shared: Rc<Shared>) -> anyhow::Result<()> {
    // One that never gets through fails the run instead of stalling it.
    let mut ws = match crate::server::connect_retrying(url).await {
        Ok(ws) => ws,
        Err(err) => {
            shared.failed.set(shared.failed.get() + 1);
            return Err(err.into());
        }
    };
    let join =
        json!({"type": "conversation:join", "ref": "j", "data": {"conversation_id": conversation}});
    ws.send(Message::text(join.to_string())).await?;
    // No timer per frame: the run aborts this task when it is over.
    while let Some(frame) = ws.next().await {
        let Message::Text(text) = frame? else {
            continue;
        };
        if text.starts_with("{\"type\":\"ack\"") {
            shared.joined.set(shared.joined.get() + 1);
        } else if text.starts_with("{\"type\":\"message:new\"") {
            let Some((sent, _, _)) = crate::fanout::stamp(&text) else {
                continue;
            };
            if sent >= shared.step_start_us.get() {
                let now = shared.epoch.elapsed().as_micros() as u64;
                let _ = shared
                    .histogram
                    .borrow_mut()
                    .record(now.saturating_sub(sent).max(1));
                if let Some(committed) = created_at_us(&text) {
                    let committed = (committed - shared.epoch_unix_us).max(0) as u64;
                    let _ = shared
                        .to_commit
                        .borrow_mut()
                        .record(committed.saturating_sub(sent).max(1));
                    let _ = shared
                        .commit_to_read
                        .borrow_mut()
                        .record(now.saturating_sub(committed).max(1));
                }
            }
        }
    }
    Ok(())
}

/// The `created_at` of a `message:new` frame, in microseconds since 1970.
fn created_at_us(text: &str) -> Option<i64> {
    let start = text.find("\"created_at\":\"")? + "\"created_at\":\"".len();
    let end = start + text[start..].find('"')?;
    let at = chrono::DateTime::parse_from_rfc3339(&text[start..end]).ok()?;
    Some(at.timestamp_micros())
}

async fn sender(
    url: String,
    conversation: i64,
    index: usize,
    first: tokio::time::Instant,
    shared: Rc<Shared>,
) -> anyhow::Result<()> {
    let (mut ws, _) = crate::server::connect(url).await?;
    let mut tick = tokio::time::interval_at(first, Duration::from_secs(1));
    let mut n = 0u64;
    while !shared.stop.get() {
        tick.tick().await;
        n += 1;
        let micros = shared.epoch.elapsed().as_micros() as u64;
        let frame = json!({"type": "message:send", "data": {"conversation_id": conversation,
            "content": format!("t{micros}s{index}n{n}")}});
        ws.send(Message::text(frame.to_string())).await?;
        // Drain acks and echoes without blocking the next tick.
        while let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(1), ws.next()).await {}
    }
    Ok(())
}

/// Runs the steps (member counts, ascending) for `step` each.
pub async fn run(
    base: &str,
    pid: Option<u32>,
    steps: &[usize],
    step: Duration,
    stagger: Duration,
) -> anyhow::Result<KneeReport> {
    let max = steps.iter().copied().max().unwrap_or(0).max(4);
    let users = register_users(base, max, "k").await?;
    let ids: Vec<i64> = users.iter().map(|(_, id)| *id).collect();
    let conversation = create_conversation(base, &users[0].0, &ids).await?;
    let ws_base = base.replacen("http", "ws", 1);
    let unix_now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as i64)
    };
    let shared = Rc::new(Shared {
        epoch: Instant::now(),
        epoch_unix_us: unix_now(),
        to_commit: RefCell::new(Histogram::new_with_bounds(1, 600_000_000, 3)?),
        commit_to_read: RefCell::new(Histogram::new_with_bounds(1, 600_000_000, 3)?),
        step_start_us: Cell::new(u64::MAX),
        histogram: RefCell::new(Histogram::new_with_bounds(1, 600_000_000, 3)?),
        stop: Cell::new(false),
        joined: Cell::new(0),
        failed: Cell::new(0),
    });
    let local = tokio::task::LocalSet::new();
    let steps = steps.to_vec();
    let report = local
        .run_until(async move {
            let url = |token: &str| format!("{ws_base}/api/v1/ws?token={token}");
            let mut tasks = Vec::new();
            let start = tokio::time::Instant::now() + Duration::from_secs(1);
            for (index, (token, _)) in users.iter().take(4).enumerate() {
                let first = start + stagger * index as u32;
                tasks.push(tokio::task::spawn_local(sender(url(token), conversation, index, first, shared.clone())));
            }
            let mut connected = 0;
            let mut results = Vec::new();
            let mut knee = None;
            for members in steps {
                while connected < members {
                    let task = receiver(url(&users[connected].0), conversation, shared.clone());
                    tasks.push(tokio::task::spawn_local(task));
                    connected += 1;
                    if connected % 200 == 0 {
                        tokio::time::sleep(Duration::from_millis(10)).await; // paced
                    }
                }
                let deadline = Instant::now() + Duration::from_secs(120);
                while shared.joined.get() < connected {
                    if Instant::now() > deadline {
                        anyhow::bail!("{} of {connected} members joined within 120 s", shared.joined.get());
                    }
                    if shared.failed.get() > 0 {
                        anyhow::bail!("{} of {connected} members could not connect", shared.failed.get());
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
                eprintln!("knee    {members} members joined; measuring for {:.0} s", step.as_secs_f64());
                shared.histogram.borrow_mut().reset();
                shared.to_commit.borrow_mut().reset();
                shared.commit_to_read.borrow_mut().reset();
                shared.step_start_us.set(shared.epoch.elapsed().as_micros() as u64);
                let cpu_before = pid.and_then(cpu_seconds);
                let generator_before = cpu_seconds(std::process::id()).unwrap_or(0.0);
                tokio::time::sleep(step).await;
                let cpu = pid.and_then(cpu_seconds).zip(cpu_before).map(|(a, b)| a - b);
                let generator_cpu = cpu_seconds(std::process::id()).unwrap_or(0.0) - generator_before;
                let h = shared.histogram.borrow();
                let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
                let delivered = h.len();
                let p95 = |h: &RefCell<Histogram<u64>>| h.borrow().value_at_quantile(0.95) as f64 / 1000.0;
                let result = Step {
                    members,
                    delivered,
                    p50_ms: ms(0.5),
                    p95_ms: ms(0.95),
                    p99_ms: ms(0.99),
                    p95_to_commit_ms: p95(&shared.to_commit),
                    p95_commit_to_read_ms: p95(&shared.commit_to_read),
                    server_cpu_us_per_delivery: cpu.filter(|_| delivered > 0).map(|c| c * 1e6 / delivered as f64),
                    server_cpu_utilization: cpu.map(|c| c / step.as_secs_f64()),
                    generator_cpu_utilization: generator_cpu / step.as_secs_f64(),
                };
                let server = result.server_cpu_utilization.map_or("-".into(), |u| format!("{:.0}%", u * 100.0));
                println!("knee    {members} members: {delivered} deliveries, p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms (p95 send to commit {:.1} ms, commit to read {:.1} ms), server {server} cpu, generator {:.0}%",
                    result.p50_ms, result.p95_ms, result.p99_ms, result.p95_to_commit_ms, result.p95_commit_to_read_ms, result.generator_cpu_utilization * 100.0);
                let over = result.p95_ms > 500.0 || delivered == 0;
                results.push(result);
                if over {
                    break;
                }
                knee = Some(members);
            }
            shared.stop.set(true);
            for task in &tasks[4..] {
                task.abort();
            }
            for task in tasks {
                let _ = task.await;
            }
            Ok::<_, anyhow::Error>(KneeReport { steps: results, knee_members: knee })
        })
        .await?;
    Ok(report)
}
