//! `parlor-bench`: a load generator for Parlor over real WebSocket connections.
//!
//! Scenarios: `ack` (below), `fanout` (see `fanout.rs`), `knee` (see `knee.rs`), `idle` (see
//! `idle.rs`), and `all` (all four in turn, each on a fresh server when spawning). `--short` runs a few seconds each
//! with small sizes: the test command runs it as a smoke test so the harness never rots.
//!
//! Scenario `ack`: S senders (one user and one connection each, spread over C conversations)
//! each keep a window of W `message:send` frames in flight; every acknowledgement is timed
//! from the moment its frame was written (one clock, in the generator). After a warm-up, it
//! reports acknowledged (= committed) messages per second, ack latency percentiles, the
//! server's CPU time per acknowledged message (from /proc/PID/stat) and the generator's own CPU
//! time, so a run where the generator was the bottleneck is visible.
//!
//! The server is either started by the tool (`--spawn PATH`, on a temporary database, pinned
//! with `taskset` when `--server-cpu` is given) or already running (`--url`). Pin the tool
//! itself with `taskset -c N parlor-bench ...`. See docs/BENCHMARKS.md for the commands.

mod fanout;
mod idle;
mod knee;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde::Serialize;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

/// Command line.
#[derive(Debug, Parser)]
#[command(
    name = "parlor-bench",
    about = "Ack throughput and latency of a Parlor server"
)]
struct Args {
    /// Scenario: `ack`, `fanout`, `knee`, `idle` or `all`.
    #[arg(default_value = "ack")]
    scenario: String,
    /// A few seconds per scenario, small sizes (smoke test).
    #[arg(long)]
    short: bool,
    /// fanout: conversations.
    #[arg(long, default_value_t = 100)]
    rooms: usize,
    /// fanout: members per conversation.
    #[arg(long, default_value_t = 20)]
    members: usize,
    /// fanout: messages per second per member.
    #[arg(long, default_value_t = 1.0)]
    rate: f64,
    /// knee: member counts to try, ascending.
    #[arg(long, value_delimiter = ',', default_values_t = vec![500, 1000, 2000, 4000, 8000, 12000, 16000, 19000])]
    knee_steps: Vec<usize>,
    /// knee: seconds per step.
    #[arg(long, default_value_t = 10.0)]
    knee_step_s: f64,
    /// idle: connections to hold.
    #[arg(long, default_value_t = 1000)]
    connections: usize,
    /// idle: seconds to hold them.
    #[arg(long, default_value_t = 60.0)]
    hold_s: f64,
    /// Target an already running server.
    #[arg(long, conflicts_with = "spawn")]
    url: Option<String>,
    /// Start this `parlor` binary on a temporary database.
    #[arg(long)]
    spawn: Option<PathBuf>,
    /// Pin the spawned server to this CPU (taskset).
    #[arg(long)]
    server_cpu: Option<u32>,
    /// Group commit off (`database.group_commit_max_batch = 1`) on the spawned server.
    #[arg(long)]
    no_batching: bool,
    /// Concurrent senders (one connection each).
    #[arg(long, default_value_t = 50)]
    senders: usize,
    /// Conversations the senders are spread over.
    #[arg(long, default_value_t = 10)]
    conversations: usize,
    /// Sends each sender keeps in flight.
    #[arg(long, default_value_t = 16)]
    window: usize,
    /// Measured seconds.
    #[arg(long, default_value_t = 10.0)]
    duration_s: f64,
    /// Warm-up seconds before measuring.
    #[arg(long, default_value_t = 2.0)]
    warmup_s: f64,
    /// Give every send a `client_msg_id` (as real clients do; costs an idempotency lookup).
    #[arg(long)]
    client_msg_id: bool,
    /// Write the results as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// What a run found.
#[derive(Debug, Serialize)]
struct Report {
    scenario: String,
    batching: bool,
    senders: usize,
    conversations: usize,
    window: usize,
    client_msg_id: bool,
    duration_s: f64,
    acked: u64,
    acked_per_s: f64,
    errors: u64,
    ack_latency_ms: Latency,
    server_cpu_us_per_ack: Option<f64>,
    server_cpu_utilization: Option<f64>,
    generator_cpu_utilization: f64,
}

#[derive(Debug, Serialize)]
pub(crate) struct Latency {
    p50: f64,
    p99: f64,
    p999: f64,
    max: f64,
}

struct Server {
    child: Option<Child>,
    base: String,
    _dir: Option<tempfile::TempDir>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn spawn_server(args: &Args, path: &PathBuf) -> anyhow::Result<Server> {
    use std::io::BufRead;
    let dir = tempfile::tempdir()?;
    // The server runs in the temporary folder: resolve a relative path first.
    let path = &std::fs::canonicalize(path).with_context(|| format!("{}", path.display()))?;
    let mut command = match args.server_cpu {
        Some(cpu) => {
            let mut c = Command::new("taskset");
            c.args(["-c", &cpu.to_string()]).arg(path);
            c
        }
        None => Command::new(path),
    };
    let batch = if args.no_batching { "1" } else { "256" };
    let mut child = command
        .current_dir(dir.path())
        .env("PARLOR__SERVER__BIND", "127.0.0.1:0")
        .env("PARLOR__SERVER__WORKERS", "1")
        .env("PARLOR__AUTH__BCRYPT_COST", "4")
        .env("PARLOR__DATABASE__GROUP_COMMIT_MAX_BATCH", batch)
        .env("PARLOR__LIMITS__MESSAGES_PER_WINDOW", "1000000000")
        .env("PARLOR__LIMITS__API_REQUESTS_PER_MINUTE", "1000000")
        .env("PARLOR__LIMITS__AUTH_ATTEMPTS_PER_IP_PER_MINUTE", "1000000")
        .env("PARLOR__LIMITS__MAX_PARTICIPANTS", "100000")
        // Every generator connection comes from 127.0.0.1, and a sender keeps up to its window
        // of sends in flight at thousands per second: lift the per-IP, per-user and
        // per-session caps that protect a real deployment.
        .env("PARLOR__LIMITS__WS_UPGRADES_PER_IP_PER_MINUTE", "100000000")
        .env("PARLOR__LIMITS__CONVERSATIONS_PER_HOUR", "100000000")
        .env("PARLOR__REALTIME__COMMANDS_PER_SECOND", "1000000")
        .env("PARLOR__REALTIME__COMMANDS_BURST", "1000000")
        .env("PARLOR__REALTIME__MAX_IN_FLIGHT", "1000000")
        .env("PARLOR__REALTIME__MAX_SESSIONS_PER_USER", "1000000")
        // The knee's conversation is created with all 19,000 participant ids in one body.
        .env("PARLOR__LIMITS__JSON_BODY_MAX_BYTES", "1048576")
        .env("RUST_LOG", "warn,parlor::startup=info")
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", path.display()))?;
    let stderr = child.stderr.take().context("server stderr")?;
    let mut lines = std::io::BufReader::new(stderr).lines();
    let address = loop {
        let Some(line) = lines.next() else {
            bail!("the server exited before listening");
        };
        if let Some(rest) = line?.split("listening on http://").nth(1) {
            break rest
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string();
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    Ok(Server {
        child: Some(child),
        base: format!("http://{address}"),
        _dir: Some(dir),
    })
}

/// Opens a WebSocket with TCP_NODELAY, like a browser: without it the generator's small frames
/// wait on Nagle's algorithm and the latencies measure the client, not the server.
pub(crate) async fn connect(
    url: String,
) -> Result<
    (
        tokio_tungstenite::WebSocketStream<
            tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
        >,
        tokio_tungstenite::tungstenite::handshake::client::Response,
    ),
    tokio_tungstenite::tungstenite::Error,
> {
    // tungstenite's default 128 KiB read buffer per connection would put gigabytes in the
    // generator at 19,000 connections; frames here are a few hundred bytes.
    let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .read_buffer_size(8 * 1024);
    tokio_tungstenite::connect_async_with_config(url, Some(config), true).await
}

/// Resident memory of a process, in KiB (VmRSS in /proc/PID/status).
pub(crate) fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Registers `n` users named `<prefix><run>u<i>`; returns (access token, id) pairs.
pub(crate) async fn register_users(
    base: &str,
    n: usize,
    prefix: &str,
) -> anyhow::Result<Vec<(String, i64)>> {
    let http = reqwest::Client::new();
    let run = std::process::id();
    let mut users = Vec::with_capacity(n);
    for i in 0..n {
        let name = format!("{prefix}{run}u{i}");
        let body = json!({"email": format!("{name}@bench.test"), "username": name, "password": "bench-password"});
        let response: Value = http
            .post(format!("{base}/api/v1/auth/register"))
            .json(&body)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let token = response["access_token"]
            .as_str()
            .context("token")?
            .to_string();
        users.push((token, response["user"]["id"].as_i64().context("id")?));
    }
    Ok(users)
}

/// Creates a conversation of `ids` as the holder of `token`; returns its id.
pub(crate) async fn create_conversation(
    base: &str,
    token: &str,
    ids: &[i64],
) -> anyhow::Result<i64> {
    let conversation: Value = reqwest::Client::new()
        .post(format!("{base}/api/v1/conversations"))
        .bearer_auth(token)
        .json(&json!({"participant_ids": ids}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    conversation["id"].as_i64().context("conversation id")
}

/// utime + stime of a process, in seconds (/proc/PID/stat fields 14 and 15).
pub(crate) fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0) // USER_HZ is 100 on Linux
}

/// The pid of the actual server (the child of `taskset` execs into it, so it is the same pid).
fn server_pid(server: &Server) -> Option<u32> {
    server.child.as_ref().map(Child::id)
}

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
    let (mut ws, _) = crate::connect(url).await?;
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

fn main() -> anyhow::Result<()> {
    let mut args = Args::parse();
    if args.short {
        (args.duration_s, args.warmup_s) = (2.0, 0.5);
        (args.senders, args.conversations, args.window) = (4, 2, 4);
        (args.rooms, args.members, args.rate) = (4, 4, 5.0);
        (args.connections, args.hold_s) = (50, 2.0);
        (args.knee_steps, args.knee_step_s) = (vec![5, 10], 1.5);
    }
    // Many connections need many file descriptors: lift the soft limit to the hard one.
    if let Ok((_, hard)) = rlimit::getrlimit(rlimit::Resource::NOFILE) {
        let _ = rlimit::setrlimit(rlimit::Resource::NOFILE, hard, hard);
    }
    let scenarios: Vec<&str> = match args.scenario.as_str() {
        "all" => vec!["fanout", "knee", "idle", "ack"],
        one @ ("ack" | "fanout" | "idle" | "knee") => vec![one],
        other => bail!("unknown scenario {other:?}: ack, fanout, knee, idle or all"),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut results = serde_json::Map::new();
    for scenario in scenarios {
        let server = match (&args.url, &args.spawn) {
            (Some(url), _) => Server {
                child: None,
                base: url.trim_end_matches('/').to_string(),
                _dir: None,
            },
            (None, Some(path)) => spawn_server(&args, path)?,
            (None, None) => bail!("give --url or --spawn"),
        };
        let pid = server_pid(&server);
        let value = match scenario {
            "ack" => {
                let report = runtime.block_on(run(&args, &server))?;
                print_ack(&report);
                serde_json::to_value(report)?
            }
            "fanout" => {
                let fan = fanout::FanoutArgs {
                    rooms: args.rooms,
                    members: args.members,
                    rate: args.rate,
                    duration: Duration::from_secs_f64(args.duration_s),
                    warmup: Duration::from_secs_f64(args.warmup_s),
                };
                let report = runtime.block_on(fanout::run(&server.base, pid, &fan))?;
                println!(
                    "fanout  {} x {} at {}/s each: {:.0} sent/s, {:.0} delivered/s, p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms, lost {}, duplicated {}, errors {}, server {} µs/delivery ({}), generator {:.0}%",
                    report.rooms,
                    report.members,
                    report.rate_per_member,
                    report.sent_per_s,
                    report.delivered_per_s,
                    report.delivery_latency_ms.p50,
                    report.delivery_latency_ms.p99,
                    report.delivery_latency_ms.p999,
                    report.delivery_latency_ms.max,
                    report.lost,
                    report.duplicated,
                    report.errors,
                    report
                        .server_cpu_us_per_delivery
                        .map_or("-".into(), |v| format!("{v:.2}")),
                    report
                        .server_cpu_utilization
                        .map_or("-".into(), |v| format!("{:.0}% cpu", v * 100.0)),
                    report.generator_cpu_utilization * 100.0,
                );
                serde_json::to_value(report)?
            }
            "knee" => {
                let step = Duration::from_secs_f64(args.knee_step_s);
                let report =
                    runtime.block_on(knee::run(&server.base, pid, &args.knee_steps, step))?;
                println!(
                    "knee    largest member count with p95 <= 500 ms: {}",
                    report.knee_members.map_or("none".into(), |m| m.to_string())
                );
                serde_json::to_value(report)?
            }
            _ => {
                let hold = Duration::from_secs_f64(args.hold_s);
                let report =
                    runtime.block_on(idle::run(&server.base, pid, args.connections, hold))?;
                println!(
                    "idle    {} connections held {:.0} s: {} stayed connected, server RSS {} -> {} KiB, {} KiB per connection",
                    report.connections,
                    report.held_s,
                    report.stayed_connected,
                    report
                        .server_rss_before_kib
                        .map_or("-".into(), |v| v.to_string()),
                    report
                        .server_rss_after_kib
                        .map_or("-".into(), |v| v.to_string()),
                    report
                        .server_rss_per_connection_kib
                        .map_or("-".into(), |v| format!("{v:.2}")),
                );
                serde_json::to_value(report)?
            }
        };
        results.insert(scenario.to_string(), value);
        drop(server);
    }
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&results)?)?;
    }
    Ok(())
}

fn print_ack(report: &Report) {
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

async fn run(args: &Args, server: &Server) -> anyhow::Result<Report> {
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
