//! Scenario `soak`: N clients hold WebSocket sessions for a long run of mixed traffic, and the
//! run checks what must hold however long a server stays up.
//!
//! Each client takes part in two group conversations (of about ten). It sends in them with a
//! `client_msg_id` every `send_period`, and with each send it types, marks messages read or
//! leaves a conversation until its next connection; one client in ten uploads a file and sends
//! it now and then. Every
//! `reconnect` (staggered) it drops its socket and reconnects, rejoining each conversation with
//! `since_seq` set to the last seq it holds without a gap, and resends what was unacknowledged
//! with the same `client_msg_id`. At the end, after a last reconnect, it checks:
//! - gapless: it holds every seq from 1 to the conversation's `last_seq`;
//! - exactly once: no seq arrived twice on one connection, and a resend was answered with the
//!   seq of the original;
//! - no `error` frame, no unexpected close, no truncated replay.
//!
//! Meanwhile the server's RSS and open file descriptors are sampled every `sample_every`: after
//! the warm-up, the mean of the last ten minutes must be within 5% of the mean of the first ten
//! (a third of the samples each in short runs). The spawned server's log must have no `ERROR`.

mod client;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::server::{create_conversation, register_users, rss_kib};
use client::{Client, Run, Tally, client_task};

/// Sizes and times of a soak run.
pub struct SoakArgs {
    /// Clients (one user and one connection each).
    pub clients: usize,
    /// How long the traffic runs.
    pub duration: Duration,
    /// Time between a client's sends.
    pub send_period: Duration,
    /// Time between a client's reconnects.
    pub reconnect: Duration,
    /// Time between samples of the server's RSS and descriptors.
    pub sample_every: Duration,
    /// Samples before this are not compared.
    pub warmup: Duration,
    /// The compared windows' length.
    pub window: Duration,
}

/// A sample of the server.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Sample {
    pub at_s: f64,
    pub rss_kib: u64,
    pub fds: u64,
}

/// What a soak run found.
#[derive(Debug, Serialize)]
pub struct SoakReport {
    pub clients: usize,
    pub conversations: usize,
    pub duration_s: f64,
    pub sent: u64,
    pub acked: u64,
    pub delivered: u64,
    pub uploads: u64,
    pub reconnects: u64,
    pub rejoins: u64,
    pub lost: u64,
    pub duplicated: u64,
    pub resend_mismatches: u64,
    pub error_frames: u64,
    pub unexpected_closes: u64,
    pub truncated_replays: u64,
    pub server_log_errors: Option<u64>,
    pub rss_growth: Option<f64>,
    pub fd_growth: Option<f64>,
    pub samples: Vec<Sample>,
    /// Every check held (memory and descriptors only over runs of 20 minutes or more).
    pub passed: bool,
}

fn open_fds(pid: u32) -> Option<u64> {
    Some(std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count() as u64)
}

/// Growth of the mean of `value` over the last window against the first window after the
/// warm-up, as a fraction (0.05 is 5%).
fn growth(samples: &[Sample], args: &SoakArgs, value: impl Fn(&Sample) -> u64) -> Option<f64> {
    let total = samples.last()?.at_s;
    let warm = args.warmup.as_secs_f64();
    let window = args.window.as_secs_f64();
    let mean = |from: f64, to: f64| {
        let picked: Vec<u64> = samples
            .iter()
            .filter(|s| s.at_s >= from && s.at_s < to)
            .map(&value)
            .collect();
        (!picked.is_empty()).then(|| picked.iter().sum::<u64>() as f64 / picked.len() as f64)
    };
    let first = mean(warm, warm + window)?;
    let last = mean(total - window, total + 1.0)?;
    (first > 0.0).then(|| (last - first) / first)
}

/// Runs the soak against `base` (the server's pid, when known, for its samples).
pub async fn run(
    base: &str,
    pid: Option<u32>,
    log_errors: Option<&std::sync::atomic::AtomicU64>,
    args: SoakArgs,
) -> anyhow::Result<SoakReport> {
    let args = Rc::new(args);
    let users = register_users(base, args.clients, "s").await?;
    let groups = (args.clients / 10).max(1);
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); groups];
    for i in 0..args.clients {
        members[i % groups].push(i);
        members[(i / 10 + i + 1) % groups].push(i);
    }
    let mut conversations = Vec::new();
    let mut of_client: Vec<Vec<i64>> = vec![Vec::new(); args.clients];
    for group in &mut members {
        group.sort_unstable();
        group.dedup();
        let ids: Vec<i64> = group.iter().map(|&i| users[i].1).collect();
        let id = create_conversation(base, &users[group[0]].0, &ids).await?;
        conversations.push(id);
        for &i in group.iter() {
            of_client[i].push(id);
        }
    }
    let started = Instant::now();
    let run = Rc::new(Run {
        base: base.to_string(),
        stop_sending: started + args.duration,
        args: args.clone(),
        done: Cell::new(0),
        tally: RefCell::new(Tally::default()),
    });
    let local = tokio::task::LocalSet::new();
    let samples = local
        .run_until(async {
            let mut tasks = Vec::new();
            for (i, (token, _)) in users.into_iter().enumerate() {
                let client = Client {
                    index: i,
                    token,
                    conversations: std::mem::take(&mut of_client[i]),
                    held: HashMap::new(),
                    pending: HashMap::new(),
                    acked_ids: HashMap::new(),
                    counter: 0,
                };
                tasks.push(tokio::task::spawn_local(client_task(client, run.clone())));
            }
            let mut samples = Vec::new();
            let mut every = tokio::time::interval(args.sample_every);
            while Instant::now() < run.stop_sending {
                every.tick().await;
                if let Some(pid) = pid
                    && let (Some(rss_kib), Some(fds)) = (rss_kib(pid), open_fds(pid))
                {
                    samples.push(Sample {
                        at_s: started.elapsed().as_secs_f64(),
                        rss_kib,
                        fds,
                    });
                }
            }
            for task in tasks {
                task.await??;
            }
            Ok::<_, anyhow::Error>(samples)
        })
        .await?;
    let tally = run.tally.replace(Tally::default());
    let server_log_errors = log_errors.map(|e| e.load(std::sync::atomic::Ordering::Relaxed));
    let rss_growth = growth(&samples, &args, |s| s.rss_kib);
    let fd_growth = growth(&samples, &args, |s| s.fds);
    let long = args.duration >= Duration::from_secs(20 * 60);
    let flat = |g: Option<f64>| !long || g.is_some_and(|g| g.abs() <= 0.05);
    let passed = tally.lost == 0
        && tally.duplicated == 0
        && tally.resend_mismatches == 0
        && tally.error_frames == 0
        && tally.unexpected_closes == 0
        && tally.truncated_replays == 0
        && server_log_errors.unwrap_or(0) == 0
        && flat(rss_growth)
        && flat(fd_growth);
    Ok(SoakReport {
        clients: args.clients,
        conversations: conversations.len(),
        duration_s: args.duration.as_secs_f64(),
        sent: tally.sent,
        acked: tally.acked,
        delivered: tally.delivered,
        uploads: tally.uploads,
        reconnects: tally.reconnects,
        rejoins: tally.rejoins,
        lost: tally.lost,
        duplicated: tally.duplicated,
        resend_mismatches: tally.resend_mismatches,
        error_frames: tally.error_frames,
        unexpected_closes: tally.unexpected_closes,
        truncated_replays: tally.truncated_replays,
        server_log_errors,
        rss_growth,
        fd_growth,
        samples,
        passed,
    })
}

/// Prints the run's one-line summary.
pub fn print(report: &SoakReport) {
    let pct = |g: Option<f64>| g.map_or("-".into(), |g| format!("{:+.1}%", g * 100.0));
    println!(
        "soak    {} clients in {} conversations for {:.0} s: sent {}, acked {}, delivered {}, uploads {}, reconnects {}, leaves {}; lost {}, duplicated {}, resend mismatches {}, error frames {}, unexpected closes {}, truncated replays {}, server log errors {}; RSS {} and fds {} (last window against the first); {}",
        report.clients,
        report.conversations,
        report.duration_s,
        report.sent,
        report.acked,
        report.delivered,
        report.uploads,
        report.reconnects,
        report.rejoins,
        report.lost,
        report.duplicated,
        report.resend_mismatches,
        report.error_frames,
        report.unexpected_closes,
        report.truncated_replays,
        report
            .server_log_errors
            .map_or("-".into(), |n| n.to_string()),
        pct(report.rss_growth),
        pct(report.fd_growth),
        if report.passed { "PASSED" } else { "FAILED" },
    );
}
