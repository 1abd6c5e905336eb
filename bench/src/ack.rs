//! Scenario `ack`: S senders (one user and one connection each, spread over C conversations)
//! each keep a window of W `message:send` frames in flight; every acknowledgement is timed from
//! the moment its frame was written.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::bail;
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::server::{
    Server, connect, cpu_seconds, create_conversation, register_users, server_pid,
};
use crate::{Args, Latency, Report};

struct Sender {
    token: String,
    conversation: i64,
}

async fn setup(base: &str, args: &Args) -> anyhow::Result<Vec<Sender>> {
    let users = register_users(base, args.senders, "b").await?;
    let groups = args.conversations.clamp(1, args.senders.max(1));
    let mut senders = Vec::new();
    for group in 0..groups {
        let members: Vec<&(String, i64)> = users.iter().skip(group).step_by(groups).collect();
        let Some(first) = members.first() else {
            continue;
        };
        let ids: Vec<i64> = members.iter().map(|(_, id)| *id).collect();
        let conversation = create_conversation(base, &first.0, &ids).await?;
        for (token, _) in members {
            senders.push(Sender {
                token: token.clone(),
                conversation,
            });
        }
    }
    Ok(senders)
}

#[derive(Default)]
struct SenderResult {
    histogram: Option<Histogram<u64>>,
    acked: u64,
    errors: u64,
}

async fn run_sender(
    ws_base: String,
    sender: Sender,
    window: usize,
    keyed: bool,
    measure_from: Instant,
    measure_until: Instant,
) -> anyhow::Result<SenderResult> {
    let url = format!("{ws_base}/api/v1/ws?token={}", sender.token);
    let (mut ws, _) = connect(url).await?;
    let mut histogram = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let mut in_flight: HashMap<u64, Instant> = HashMap::new();
    let (mut next, mut acked, mut errors) = (0u64, 0u64, 0u64);
    let tag = &sender.token[sender.token.len().saturating_sub(12)..];
    let frame = |n: u64| {
        let mut data = json!({"conversation_id": sender.conversation, "content": format!("bench message {n}")});
        if keyed {
            data["client_msg_id"] = json!(format!("{tag}-{n}"));
        }
        json!({"type": "message:send", "ref": n.to_string(), "data": data}).to_string()
    };
    while in_flight.len() < window {
        next += 1;
        in_flight.insert(next, Instant::now());
        ws.send(Message::text(frame(next))).await?;
    }
    while Instant::now() < measure_until {
        let Ok(Some(message)) = tokio::time::timeout(Duration::from_secs(5), ws.next()).await
        else {
            bail!("no frame for 5 s");
        };
        let Message::Text(text) = message? else {
            continue;
        };
        let reply: Value = serde_json::from_str(&text)?;
        let Some(reference) = reply["ref"].as_str().and_then(|r| r.parse::<u64>().ok()) else {
            continue; // welcome, presence
        };
        let Some(sent_at) = in_flight.remove(&reference) else {
            continue;
        };
        let now = Instant::now();
        if now >= measure_from {
            if reply["type"] == "ack" {
                acked += 1;
                histogram.record(now.duration_since(sent_at).as_micros().max(1) as u64)?;
            } else {
                errors += 1;
            }
        }
        next += 1;
        in_flight.insert(next, Instant::now());
        ws.send(Message::text(frame(next))).await?;
    }
    let _ = ws.close(None).await;
    Ok(SenderResult {
        histogram: Some(histogram),
        acked,
        errors,
    })
}

pub(crate) fn print_ack(report: &Report) {
    println!(
        "{:<8} {:>5} {:>8} {:>7} {:>6} {:>12} {:>9} {:>9} {:>9} {:>10} {:>9} {:>9}",
        "batching",
        "keyed",
        "senders",
        "convs",
        "window",
        "acked/s",
        "p50 ms",
        "p99 ms",
        "p99.9 ms",
        "srv µs/ack",
        "srv cpu",
        "gen cpu"
    );
    println!(
        "{:<8} {:>5} {:>8} {:>7} {:>6} {:>12.0} {:>9.2} {:>9.2} {:>9.2} {:>10} {:>9} {:>9}",
        if report.batching { "on" } else { "off" },
        if report.client_msg_id { "yes" } else { "no" },
        report.senders,
        report.conversations,
        report.window,
        report.acked_per_s,
        report.ack_latency_ms.p50,
        report.ack_latency_ms.p99,
        report.ack_latency_ms.p999,
        report
            .server_cpu_us_per_ack
            .map_or("-".into(), |v| format!("{v:.1}")),
        report
            .server_cpu_utilization
            .map_or("-".into(), |v| format!("{:.0}%", v * 100.0)),
        format!("{:.0}%", report.generator_cpu_utilization * 100.0),
    );
    if report.errors > 0 {
        println!("errors: {}", report.errors);
    }
}

pub(crate) async fn run(args: &Args, server: &Server) -> anyhow::Result<Report> {
    let senders = setup(&server.base, args).await?;
    let ws_base = server.base.replacen("http", "ws", 1);
    let start = Instant::now();
    let warmup = Duration::from_secs_f64(args.warmup_s);
    let duration = Duration::from_secs_f64(args.duration_s);
    // Connections are opened before the clock starts (each task connects first).
    let measure_from = start + warmup + Duration::from_millis(500);
    let measure_until = measure_from + duration;
    let pid = server_pid(server);
    let (window, keyed) = (args.window, args.client_msg_id);
    let local = tokio::task::LocalSet::new();
    let (server_cpu, generator_cpu, results) = local
        .run_until(async move {
            let tasks: Vec<_> = senders
                .into_iter()
                .map(|sender| {
                    let task = run_sender(
                        ws_base.clone(),
                        sender,
                        window,
                        keyed,
                        measure_from,
                        measure_until,
                    );
                    tokio::task::spawn_local(task)
                })
                .collect();
            tokio::time::sleep_until(measure_from.into()).await;
            let server_before = pid.and_then(cpu_seconds);
            let generator_before = cpu_seconds(std::process::id()).unwrap_or(0.0);
            tokio::time::sleep_until(measure_until.into()).await;
            let server_after = pid.and_then(cpu_seconds);
            let generator_after = cpu_seconds(std::process::id()).unwrap_or(0.0);
            let mut results = Vec::new();
            for task in tasks {
                results.push(task.await??);
            }
            let server_cpu = server_before.zip(server_after).map(|(b, a)| a - b);
            Ok::<_, anyhow::Error>((server_cpu, generator_after - generator_before, results))
        })
        .await?;
    let mut histogram = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let (mut acked, mut errors) = (0, 0);
    for result in results {
        if let Some(h) = &result.histogram {
            histogram.add(h)?;
        }
        acked += result.acked;
        errors += result.errors;
    }
    let seconds = duration.as_secs_f64();
    let ms = |q: f64| histogram.value_at_quantile(q) as f64 / 1000.0;
    Ok(Report {
        scenario: args.scenario.clone(),
        batching: !args.no_batching,
        senders: args.senders,
        conversations: args.conversations,
        window: args.window,
        client_msg_id: args.client_msg_id,
        duration_s: seconds,
        acked,
        acked_per_s: acked as f64 / seconds,
        errors,
        ack_latency_ms: Latency {
            p50: ms(0.5),
            p99: ms(0.99),
            p999: ms(0.999),
            max: histogram.max() as f64 / 1000.0,
        },
        server_cpu_us_per_ack: server_cpu
            .filter(|_| acked > 0)
            .map(|cpu| cpu * 1e6 / acked as f64),
        server_cpu_utilization: server_cpu.map(|cpu| cpu / seconds),
        generator_cpu_utilization: generator_cpu / seconds,
    })
}
