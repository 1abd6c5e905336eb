//! The server under test (spawned on a temporary database, or already running) and the
//! helpers every scenario shares: connecting, registering users, reading /proc.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::Args;

pub(crate) struct Server {
    pub(crate) child: Option<Child>,
    pub(crate) base: String,
    pub(crate) _dir: Option<tempfile::TempDir>,
    /// Lines of the spawned server's log at level ERROR so far.
    pub(crate) log_errors: Option<std::sync::Arc<std::sync::atomic::AtomicU64>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// What makes a spawned server one node of a cluster: the Redis, a key prefix of the run's own
/// and the shared token secret.
pub(crate) struct ClusterNode {
    pub(crate) redis_url: String,
    pub(crate) prefix: String,
    pub(crate) secret: String,
}

pub(crate) fn spawn_server(
    args: &Args,
    path: &PathBuf,
    cluster: Option<&ClusterNode>,
) -> anyhow::Result<Server> {
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
    if let Some(url) = &args.database_url {
        command.env("PARLOR__DATABASE__URL", url);
    }
    if let Some(node) = cluster {
        command
            .env("PARLOR__CLUSTER__REDIS_URL", &node.redis_url)
            .env("PARLOR__CLUSTER__REDIS_PREFIX", &node.prefix)
            .env("PARLOR__AUTH__JWT_SECRET", &node.secret);
    }
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
        .env("PARLOR__LIMITS__MESSAGE_SEARCHES_PER_MINUTE", "100000000")
        .env("PARLOR__REALTIME__COMMANDS_PER_SECOND", "1000000")
        .env("PARLOR__REALTIME__COMMANDS_BURST", "1000000")
        .env("PARLOR__REALTIME__MAX_IN_FLIGHT", "1000000")
        .env("PARLOR__REALTIME__MAX_SESSIONS_PER_USER", "1000000")
        // The knee's conversation is created with all 19,000 participant ids in one body.
        .env("PARLOR__LIMITS__JSON_BODY_MAX_BYTES", "1048576")
        // The soak reconnects with the tokens it registered with, for as long as it runs; and
        // its few upload clients send more than a person would.
        .env("PARLOR__AUTH__ACCESS_TOKEN_TTL_S", "86400")
        .env("PARLOR__UPLOADS__UPLOADS_PER_MINUTE", "100000")
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
    let errors = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counted = errors.clone();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            if line.contains(" ERROR ") {
                counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                eprintln!("server: {line}");
            }
        }
    });
    Ok(Server {
        child: Some(child),
        base: format!("http://{address}"),
        _dir: Some(dir),
        log_errors: Some(errors),
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

/// [`connect`], tried again up to five times (after 0.2, 0.4, … 1 s) when it fails, as a client
/// would: during a burst of connects a full listen queue drops some handshakes. The last
/// attempt's error is returned.
pub(crate) async fn connect_retrying(
    url: String,
) -> Result<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    tokio_tungstenite::tungstenite::Error,
> {
    let mut attempt = 0;
    loop {
        match connect(url.clone()).await {
            Ok((ws, _)) => return Ok(ws),
            Err(_) if attempt < 5 => {
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(200 * attempt)).await;
            }
            Err(err) => return Err(err),
        }
    }
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

/// Starts `args.nodes` servers: one alone, or nodes of one cluster on `args.database_url`
/// (PostgreSQL) and `args.redis_url`.
pub(crate) fn spawn_nodes(args: &Args, path: &PathBuf) -> anyhow::Result<Vec<Server>> {
    if args.nodes <= 1 {
        return Ok(vec![spawn_server(args, path, None)?]);
    }
    if !args
        .database_url
        .as_deref()
        .is_some_and(|u| u.starts_with("postgres"))
    {
        bail!("--nodes needs --database-url postgres://... (the nodes share one database)");
    }
    let node = ClusterNode {
        redis_url: args.redis_url.clone(),
        prefix: format!("bench{}", std::process::id()),
        secret: format!(
            "bench-secret-{}-0123456789abcdef0123456789",
            std::process::id()
        ),
    };
    (0..args.nodes)
        .map(|_| spawn_server(args, path, Some(&node)))
        .collect()
}

/// The pid of the actual server (the child of `taskset` execs into it, so it is the same pid).
pub(crate) fn server_pid(server: &Server) -> Option<u32> {
    server.child.as_ref().map(Child::id)
}
