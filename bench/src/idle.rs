//! Scenario `idle`: hold N WebSocket connections open (answering the server's pings) for a
//! while, and report the server's resident memory per connection (VmRSS from /proc) and whether
//! every connection stayed up.

use std::time::Duration;

use futures_util::StreamExt;
use serde::Serialize;

use crate::server::{register_users, rss_kib};

/// What an idle run found.
#[derive(Debug, Serialize)]
pub struct IdleReport {
    pub connections: usize,
    pub held_s: f64,
    pub stayed_connected: usize,
    pub server_rss_before_kib: Option<u64>,
    pub server_rss_after_kib: Option<u64>,
    pub server_rss_per_connection_kib: Option<f64>,
}

/// Opens `connections` sessions (over a few users), holds them for `hold`, reports memory.
pub async fn run(
    base: &str,
    pid: Option<u32>,
    connections: usize,
    hold: Duration,
) -> anyhow::Result<IdleReport> {
    let users = register_users(base, connections.clamp(1, 50), "i").await?;
    let ws_base = base.replacen("http", "ws", 1);
    let before = pid.and_then(rss_kib);
    let local = tokio::task::LocalSet::new();
    let (stayed, after) = local
        .run_until(async move {
            // Each socket reads from the moment it is open, so the library answers the
            // server's pings while later connections are still being made: a connect phase
            // longer than `realtime.client_timeout_s` would otherwise lose the first ones.
            // A task ends `true` when told to stop with its socket still open.
            let (stop_tx, stop) = tokio::sync::watch::channel(false);
            let mut tasks = Vec::with_capacity(connections);
            for i in 0..connections {
                let url = format!("{ws_base}/api/v1/ws?token={}", users[i % users.len()].0);
                let (mut ws, _) = crate::server::connect(url).await?;
                let mut stop = stop.clone();
                tasks.push(tokio::task::spawn_local(async move {
                    loop {
                        tokio::select! {
                            item = ws.next() => match item {
                                Some(Ok(_)) => continue,
                                _ => return false,
                            },
                            _ = stop.wait_for(|stop| *stop) => return true,
                        }
                    }
                }));
                if i % 500 == 499 {
                    tokio::time::sleep(Duration::from_millis(20)).await; // paced
                }
            }
            // The hold starts once every connection is open.
            tokio::time::sleep(hold.saturating_sub(Duration::from_millis(200))).await;
            let after = pid.and_then(rss_kib);
            stop_tx.send_replace(true);
            let mut stayed = 0;
            for task in tasks {
                if task.await? {
                    stayed += 1;
                }
            }
            Ok::<_, anyhow::Error>((stayed, after))
        })
        .await?;
    Ok(IdleReport {
        connections,
        held_s: hold.as_secs_f64(),
        stayed_connected: stayed,
        server_rss_before_kib: before,
        server_rss_after_kib: after,
        server_rss_per_connection_kib: before
            .zip(after)
            .map(|(b, a)| (a.saturating_sub(b)) as f64 / connections.max(1) as f64),
    })
}
