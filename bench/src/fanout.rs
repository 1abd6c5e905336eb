//! Scenario `fanout`: R conversations of M members each; every member sends at a fixed rate and
//! receives everyone else's messages. Reports delivered messages per second, delivery latency
//! (the send time travels in the content, one clock in the generator), and every lost or
//! duplicated delivery, checked against the acknowledged sends after a drain period.
//!
//! With several nodes (`--nodes N` or `--url A,B`), member `i` of the run connects to node
//! `i mod N`, so each conversation's members are spread over every node; deliveries from a
//! sender on another node are also reported on their own (`cross_node_latency_ms`), and the
//! server CPU is the sum of the nodes'.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde::Serialize;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use crate::server::{cpu_seconds, create_conversation, register_users};

/// Fan-out settings.
pub struct FanoutArgs {
    /// Conversations.
    pub rooms: usize,
    /// Members per conversation.
    pub members: usize,
    /// Messages per second per member.
    pub rate: f64,
    /// Measured time.
    pub duration: Duration,
    /// Warm-up before measuring.
    pub warmup: Duration,
}

/// What a fan-out run found.
#[derive(Debug, Serialize)]
pub struct FanoutReport {
    pub nodes: usize,
    pub rooms: usize,
    pub members: usize,
    pub rate_per_member: f64,
    pub sent_per_s: f64,
    pub delivered_per_s: f64,
    pub delivery_latency_ms: crate::Latency,
    /// Deliveries whose sender was on another node (several nodes only).
    pub cross_node_latency_ms: Option<crate::Latency>,
    /// Deliveries of acknowledged sends that a member had not read when the drain period (2 s
    /// after the window) ended: lost, or still queued in a server that had fallen behind (the
    /// soak, which drains fully, tells the two apart).
    pub lost: u64,
    pub duplicated: u64,
    pub errors: u64,
    pub server_cpu_us_per_delivery: Option<f64>,
    pub server_cpu_utilization: Option<f64>,
    pub generator_cpu_utilization: f64,
}

struct MemberResult {
    room: usize,
    index: u32,
    acked: HashSet<u32>,
    received: HashMap<u32, HashSet<u32>>,
    duplicated: u64,
    delivered_in_window: u64,
    sent_in_window: u64,
    errors: u64,
    histogram: Histogram<u64>,
    /// Deliveries from a sender on another node.
    cross: Histogram<u64>,
}

/// Which node each member of the run is on: member `i` (across rooms) on node `i mod nodes`.
#[derive(Clone, Copy)]
struct Placement {
    nodes: usize,
    members: usize,
}

impl Placement {
    fn node(self, room: usize, index: u32) -> usize {
        (room * self.members + index as usize) % self.nodes.max(1)
    }
}

/// Reads `t<micros>s<sender>n<counter>` out of a `message:new` frame without a JSON parse.
pub(crate) fn stamp(text: &str) -> Option<(u64, u32, u32)> {
    let start = text.find("\"content\":\"t")? + "\"content\":\"t".len();
    let rest = &text[start..];
    let s = rest.find('s')?;
    let n = rest.find('n')?;
    let end = rest.find('"')?;
    Some((
        rest[..s].parse().ok()?,
        rest[s + 1..n].parse().ok()?,
        rest[n + 1..end].parse().ok()?,
    ))
}

/// When the measurement starts: set once every member has joined.
pub(crate) struct Start {
    joined: std::cell::Cell<usize>,
    go: tokio::sync::watch::Receiver<Option<Schedule>>,
}

/// The common clock of a run.
#[derive(Clone, Copy)]
pub(crate) struct Schedule {
    epoch: Instant,
    window: (Instant, Instant),
    stop_sending: Instant,
    stop: Instant,
}

/// When a member sends: every `period`, starting at `slot` (a fraction of the period).
#[derive(Clone, Copy)]
struct Cadence {
    period: Duration,
    slot: f64,
}

/// Where a member sits: its room (by position in the run), the room's conversation id, and its
/// index among the room's members.
#[derive(Clone, Copy)]
struct Seat {
    room: usize,
    conversation: i64,
    index: u32,
}

async fn member(
    ws_base: String,
    token: String,
    seat: Seat,
    cadence: Cadence,
    placement: Placement,
    start: std::rc::Rc<Start>,
) -> anyhow::Result<MemberResult> {
    let Seat {
        room,
        conversation,
        index,
    } = seat;
    let own_node = placement.node(room, index);
    let Cadence { period, slot } = cadence;
    let url = format!("{ws_base}/api/v1/ws?token={token}");
    let (mut ws, _) = crate::server::connect(url).await?;
    ws.send(Message::text(
        json!({"type": "conversation:join", "ref": "join", "data": {"conversation_id": conversation}}).to_string(),
    ))
    .await?;
    // Wait for the join's ack, then for everyone else's: events before a join are not promised.
    while let Some(frame) = ws.next().await {
        if let Message::Text(text) = frame?
            && text.contains("\"ref\":\"join\"")
        {
            break;
        }
    }
    start.joined.set(start.joined.get() + 1);
    let mut go = start.go.clone();
    let schedule = loop {
        if let Some(schedule) = *go.borrow_and_update() {
            break schedule;
        }
        go.changed().await?;
    };
    let Schedule {
        epoch,
        window,
        stop_sending,
        stop,
    } = schedule;
    let mut result = MemberResult {
        room,
        index,
        acked: HashSet::new(),
        received: HashMap::new(),
        duplicated: 0,
        delivered_in_window: 0,
        sent_in_window: 0,
        errors: 0,
        histogram: Histogram::new_with_bounds(1, 60_000_000, 3)?,
        cross: Histogram::new_with_bounds(1, 60_000_000, 3)?,
    };
    // Spread all senders' first sends evenly over the period, so the load is steady rather than
    // a burst per tick (every room's member 0 at once, then every member 1, ...).
    let phase = period.mul_f64(slot);
    let mut tick = tokio::time::interval_at((epoch + phase).into(), period);
    let mut counter = 0u32;
    loop {
        tokio::select! {
            _ = tick.tick(), if Instant::now() < stop_sending => {
                counter += 1;
                let now = Instant::now();
                let micros = now.duration_since(epoch).as_micros() as u64;
                if now >= window.0 && now < window.1 {
                    result.sent_in_window += 1;
                }
                let frame = json!({"type": "message:send", "ref": counter.to_string(),
                    "data": {"conversation_id": conversation, "content": format!("t{micros}s{index}n{counter}")}});
                ws.send(Message::text(frame.to_string())).await?;
            }
            frame = tokio::time::timeout_at(stop.into(), ws.next()) => {
                let Ok(Some(frame)) = frame else { break };
                let Message::Text(text) = frame? else { continue };
                if text.starts_with("{\"type\":\"message:new\"") {
                    let Some((sent, sender, n)) = stamp(&text) else { continue };
                    if !result.received.entry(sender).or_default().insert(n) {
                        result.duplicated += 1;
                    }
                    let sent_at = epoch + Duration::from_micros(sent);
                    if sent_at >= window.0 && sent_at < window.1 {
                        result.delivered_in_window += 1;
                        let latency = Instant::now().duration_since(sent_at).as_micros().max(1) as u64;
                        result.histogram.record(latency.min(60_000_000))?;
                        if placement.node(room, sender) != own_node {
                            result.cross.record(latency.min(60_000_000))?;
                        }
                    }
                } else if text.starts_with("{\"type\":\"ack\"") {
                    if let Some(n) = text.split("\"ref\":\"").nth(1).and_then(|r| r.split('"').next()).and_then(|r| r.parse().ok()) {
                        result.acked.insert(n);
                    }
                } else if text.starts_with("{\"type\":\"error\"") {
                    result.errors += 1;
                }
            }
        }
    }
    let _ = ws.close(None).await;
    Ok(result)
}

/// Where in the send period sender `i` of `total` starts, in [0, 1): evenly spaced, in an order
/// that interleaves conversations (bit-reversed), so neighbours in time are far apart in index.
pub(crate) fn spread(i: usize, total: usize) -> f64 {
    if total <= 1 {
        return 0.0;
    }
    let bits = usize::BITS - (total - 1).leading_zeros();
    let reversed = i.reverse_bits() >> (usize::BITS - bits);
    reversed as f64 / f64::from(1u32 << bits)
}

/// Runs the scenario against the nodes at `bases` (one or more, sharing a database); `pids` are
/// the servers' when known, for CPU time.
pub async fn run(
    bases: &[String],
    pids: &[u32],
    args: &FanoutArgs,
) -> anyhow::Result<FanoutReport> {
    let base = bases.first().map(String::as_str).unwrap_or_default();
    let placement = Placement {
        nodes: bases.len().max(1),
        members: args.members,
    };
    let cpu = |pids: &[u32]| -> Option<f64> {
        (!pids.is_empty())
            .then(|| pids.iter().map(|p| cpu_seconds(*p)).sum::<Option<f64>>())
            .flatten()
    };
    let users = register_users(base, args.rooms * args.members, "f").await?;
    let mut rooms = Vec::new();
    for chunk in users.chunks(args.members) {
        let ids: Vec<i64> = chunk.iter().map(|(_, id)| *id).collect();
        rooms.push(create_conversation(base, &chunk[0].0, &ids).await?);
    }
    let ws_bases: Vec<String> = bases.iter().map(|b| b.replacen("http", "ws", 1)).collect();
    let period = Duration::from_secs_f64(1.0 / args.rate.max(0.001));
    let (go_tx, go_rx) = tokio::sync::watch::channel(None);
    let start = std::rc::Rc::new(Start {
        joined: std::cell::Cell::new(0),
        go: go_rx,
    });
    let total = users.len();
    let local = tokio::task::LocalSet::new();
    let (results, server_cpu, generator_cpu) = local
        .run_until(async move {
            let mut tasks = Vec::new();
            for (i, (token, _)) in users.into_iter().enumerate() {
                let room = i / args.members;
                let index = (i % args.members) as u32;
                let task = member(
                    ws_bases[placement.node(room, index)].clone(),
                    token,
                    Seat {
                        room,
                        conversation: rooms[room],
                        index,
                    },
                    Cadence {
                        period,
                        slot: spread(i, total),
                    },
                    placement,
                    start.clone(),
                );
                tasks.push(tokio::task::spawn_local(task));
                if i % 200 == 199 {
                    tokio::time::sleep(Duration::from_millis(5)).await; // paced
                }
            }
            while start.joined.get() < total {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let epoch = Instant::now();
            let measure_from = epoch + args.warmup;
            let measure_until = measure_from + args.duration;
            let schedule = Schedule {
                epoch,
                window: (measure_from, measure_until),
                stop_sending: measure_until,
                stop: measure_until + Duration::from_secs(2),
            };
            let _ = go_tx.send(Some(schedule));
            tokio::time::sleep_until(measure_from.into()).await;
            let server_before = cpu(pids);
            let generator_before = cpu_seconds(std::process::id()).unwrap_or(0.0);
            tokio::time::sleep_until(measure_until.into()).await;
            let server_cpu = cpu(pids).zip(server_before).map(|(a, b)| a - b);
            let generator_cpu = cpu_seconds(std::process::id()).unwrap_or(0.0) - generator_before;
            let mut results = Vec::new();
            for task in tasks {
                results.push(task.await??);
            }
            Ok::<_, anyhow::Error>((results, server_cpu, generator_cpu))
        })
        .await?;

    let mut histogram = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let mut cross = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let (mut delivered, mut sent, mut duplicated, mut errors, mut lost) =
        (0u64, 0u64, 0u64, 0u64, 0u64);
    let mut acked_by: HashMap<(usize, u32), &HashSet<u32>> = HashMap::new();
    for result in &results {
        acked_by.insert((result.room, result.index), &result.acked);
    }
    for result in &results {
        histogram.add(&result.histogram)?;
        cross.add(&result.cross)?;
        delivered += result.delivered_in_window;
        sent += result.sent_in_window;
        duplicated += result.duplicated;
        errors += result.errors;
        for ((room, sender), acked) in &acked_by {
            if *room != result.room || *sender == result.index {
                continue;
            }
            let got = result.received.get(sender);
            lost += acked
                .iter()
                .filter(|n| !got.is_some_and(|g| g.contains(n)))
                .count() as u64;
        }
    }
    let seconds = args.duration.as_secs_f64();
    let latency = |h: &Histogram<u64>| crate::Latency {
        p50: h.value_at_quantile(0.5) as f64 / 1000.0,
        p99: h.value_at_quantile(0.99) as f64 / 1000.0,
        p999: h.value_at_quantile(0.999) as f64 / 1000.0,
        max: h.max() as f64 / 1000.0,
    };
    Ok(FanoutReport {
        nodes: placement.nodes,
        rooms: args.rooms,
        members: args.members,
        rate_per_member: args.rate,
        sent_per_s: sent as f64 / seconds,
        delivered_per_s: delivered as f64 / seconds,
        delivery_latency_ms: latency(&histogram),
        cross_node_latency_ms: (placement.nodes > 1).then(|| latency(&cross)),
        lost,
        duplicated,
        errors,
        server_cpu_us_per_delivery: server_cpu
            .filter(|_| delivered > 0)
            .map(|c| c * 1e6 / delivered as f64),
        server_cpu_utilization: server_cpu.map(|c| c / seconds),
        generator_cpu_utilization: generator_cpu / seconds,
    })
}
