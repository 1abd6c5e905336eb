//! `parlor-bench`: a load generator for Parlor over real WebSocket connections.
//!
//! Scenarios: `ack` (see `ack.rs`), `fanout` (see `fanout.rs`), `knee` (see `knee.rs`), `idle` (see
//! `idle.rs`), and `all` (all four in turn, each on a fresh server when spawning); `search`
//! (see `search.rs`) runs on its own, as it fills a database first. `--short` runs a few seconds each
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

mod ack;
mod fanout;
mod idle;
mod knee;
mod search;
mod search_fill;
mod server;
mod soak;

use server::{Server, server_pid, spawn_nodes};

use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;
use clap::Parser;
use serde::Serialize;

/// Command line.
#[derive(Debug, Parser)]
#[command(
    name = "parlor-bench",
    about = "Ack throughput and latency of a Parlor server"
)]
struct Args {
    /// Scenario: `ack`, `fanout`, `knee`, `idle`, `all` (those four) or `search`.
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
    /// knee: milliseconds between one sender's messages and the next sender's (0: the four
    /// send at the same moments; 250 spreads them evenly over each second).
    #[arg(long, default_value_t = 0)]
    knee_stagger_ms: u64,
    /// idle: connections to hold.
    #[arg(long, default_value_t = 1000)]
    connections: usize,
    /// idle: seconds to hold them.
    #[arg(long, default_value_t = 60.0)]
    hold_s: f64,
    /// Target an already running server (fanout: several nodes of one cluster, comma-separated;
    /// members are spread over them).
    #[arg(long, conflicts_with = "spawn", value_delimiter = ',')]
    url: Vec<String>,
    /// Start this `parlor` binary on a temporary database.
    #[arg(long)]
    spawn: Option<PathBuf>,
    /// fanout: spawn this many nodes of one cluster (needs `--database-url postgres://...`)
    /// and spread the members over them.
    #[arg(long, default_value_t = 1)]
    nodes: usize,
    /// The Redis of spawned cluster nodes (`--nodes` above 1).
    #[arg(long, default_value = "redis://127.0.0.1:6379")]
    redis_url: String,
    /// Pin the spawned server to this CPU (taskset).
    #[arg(long)]
    server_cpu: Option<u32>,
    /// Group commit off (`database.group_commit_max_batch = 1`) on the spawned server.
    #[arg(long)]
    no_batching: bool,
    /// `database.url` of the spawned server (default: SQLite in a temporary folder). A
    /// PostgreSQL database should be empty: the run registers users in it.
    #[arg(long)]
    database_url: Option<String>,
    /// Concurrent senders (one connection each).
    #[arg(long, default_value_t = 50)]
    senders: usize,
    /// Conversations the senders are spread over.
    #[arg(long, default_value_t = 10)]
    conversations: usize,
    /// ack: each sender in a conversation of their own (`--conversations` = `--senders`), so a
    /// batch spans as many conversations as it holds messages.
    #[arg(long)]
    own_conversations: bool,
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
    /// search: messages to store.
    #[arg(long, default_value_t = 1_000_000)]
    messages: usize,
    /// search: searches per role (member, admin).
    #[arg(long, default_value_t = 1000)]
    searches: usize,
    /// search: conversations the messages are spread over.
    #[arg(long, default_value_t = 1000)]
    search_conversations: usize,
    /// search: users the conversations are made of (each conversation has three).
    #[arg(long, default_value_t = 20)]
    search_users: usize,
    /// soak: clients (one connection each).
    #[arg(long, default_value_t = 500)]
    soak_clients: usize,
    /// soak: seconds between a client's sends.
    #[arg(long, default_value_t = 5.0)]
    soak_send_s: f64,
    /// soak: seconds between a client's reconnects.
    #[arg(long, default_value_t = 180.0)]
    soak_reconnect_s: f64,
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

/// The search scenario against `server`, whose database is `--database-url` or else the
/// spawned server's SQLite file.
async fn run_search(args: &Args, server: &Server) -> anyhow::Result<search::SearchReport> {
    let sqlite = server
        ._dir
        .as_ref()
        .map(|dir| format!("sqlite://{}", dir.path().join("data/parlor.db").display()));
    let Some(database_url) = args.database_url.clone().or(sqlite) else {
        bail!("search against --url needs --database-url (it fills the database first)");
    };
    let sizes = search::SearchArgs {
        database_url,
        messages: args.messages,
        searches: args.searches,
        conversations: args.search_conversations,
        users: args.search_users,
    };
    search::run(&server.base, &sizes).await
}

/// The soak scenario against `server` (its pid, when known, for RSS and descriptors).
async fn run_soak(
    args: &Args,
    server: &Server,
    pid: Option<u32>,
) -> anyhow::Result<soak::SoakReport> {
    let long = args.duration_s >= 20.0 * 60.0;
    let sizes = soak::SoakArgs {
        clients: args.soak_clients,
        duration: Duration::from_secs_f64(args.duration_s),
        send_period: Duration::from_secs_f64(args.soak_send_s),
        reconnect: Duration::from_secs_f64(args.soak_reconnect_s),
        // A sample a minute and ten-minute windows after five minutes of warm-up in a long
        // run; in a short one, a sample every half second and thirds of the run.
        sample_every: Duration::from_secs_f64(if long { 60.0 } else { 0.5 }),
        warmup: Duration::from_secs_f64(if long { 300.0 } else { args.duration_s / 6.0 }),
        window: Duration::from_secs_f64(if long { 600.0 } else { args.duration_s / 3.0 }),
    };
    soak::run(&server.base, pid, server.log_errors.as_deref(), sizes).await
}

fn main() -> anyhow::Result<()> {
    let mut args = Args::parse();
    if args.short {
        (args.duration_s, args.warmup_s) = (2.0, 0.5);
        (args.senders, args.conversations, args.window) = (4, 2, 4);
        (args.rooms, args.members, args.rate) = (4, 4, 5.0);
        (args.connections, args.hold_s) = (50, 2.0);
        (args.knee_steps, args.knee_step_s) = (vec![5, 10], 1.5);
        (args.messages, args.searches) = (5_000, 40);
        (args.search_conversations, args.search_users) = (20, 6);
        (args.soak_clients, args.soak_send_s, args.soak_reconnect_s) = (30, 0.25, 2.5);
        if args.scenario == "soak" {
            args.duration_s = 8.0;
        }
    }
    if args.own_conversations {
        args.conversations = args.senders;
    }
    // Many connections need many file descriptors: lift the soft limit to the hard one.
    if let Ok((_, hard)) = rlimit::getrlimit(rlimit::Resource::NOFILE) {
        let _ = rlimit::setrlimit(rlimit::Resource::NOFILE, hard, hard);
    }
    let scenarios: Vec<&str> = match args.scenario.as_str() {
        "all" => vec!["fanout", "knee", "idle", "ack"],
        one @ ("ack" | "fanout" | "idle" | "knee" | "search" | "soak") => vec![one],
        other => bail!("unknown scenario {other:?}: ack, fanout, knee, idle, all, search or soak"),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut results = serde_json::Map::new();
    if (args.nodes > 1 || args.url.len() > 1) && scenarios != ["fanout"] {
        bail!("several nodes are for the fanout scenario");
    }
    for scenario in scenarios {
        let servers: Vec<Server> = match (args.url.is_empty(), &args.spawn) {
            (false, _) => args
                .url
                .iter()
                .map(|url| Server {
                    child: None,
                    base: url.trim_end_matches('/').to_string(),
                    _dir: None,
                    log_errors: None,
                })
                .collect(),
            (true, Some(path)) => spawn_nodes(&args, path)?,
            (true, None) => bail!("give --url or --spawn"),
        };
        let server = &servers[0];
        let pid = server_pid(server);
        let value = match scenario {
            "ack" => {
                let report = runtime.block_on(ack::run(&args, server))?;
                ack::print_ack(&report);
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
                let bases: Vec<String> = servers.iter().map(|s| s.base.clone()).collect();
                let pids: Vec<u32> = servers.iter().filter_map(server_pid).collect();
                let report = runtime.block_on(fanout::run(&bases, &pids, &fan))?;
                if let Some(cross) = &report.cross_node_latency_ms {
                    println!(
                        "fanout  {} nodes: cross-node deliveries p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms",
                        report.nodes, cross.p50, cross.p99, cross.p999, cross.max
                    );
                }
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
            "soak" => {
                let report = runtime.block_on(run_soak(&args, server, pid))?;
                soak::print(&report);
                let passed = report.passed;
                let value = serde_json::to_value(report)?;
                if !passed {
                    if let Some(path) = &args.json {
                        std::fs::write(path, serde_json::to_string_pretty(&value)?)?;
                    }
                    bail!("the soak failed its checks");
                }
                value
            }
            "search" => {
                let report = runtime.block_on(run_search(&args, server))?;
                search::print(&report);
                serde_json::to_value(report)?
            }
            "knee" => {
                let step = Duration::from_secs_f64(args.knee_step_s);
                let stagger = Duration::from_millis(args.knee_stagger_ms);
                let report = runtime.block_on(knee::run(
                    &server.base,
                    pid,
                    &args.knee_steps,
                    step,
                    stagger,
                ))?;
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
        drop(servers);
    }
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&results)?)?;
    }
    Ok(())
}
