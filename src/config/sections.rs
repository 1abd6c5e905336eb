//! The sections of the configuration, each with its defaults (mirrored by the shipped
//! `config.toml`).

use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;

use super::secs;

/// `[server]`
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSettings {
    /// Address to listen on, `host:port`; port 0 picks a free port (the start log says which).
    pub bind: String,
    /// Origins allowed to open a WebSocket. Entries are exact origins (`https://chat.example.com`),
    /// an origin with a wildcard port (`http://localhost:*`), or `self` (the origin the request was
    /// addressed to, from its `Host` header). Requests without an `Origin` header are allowed.
    pub allowed_origins: Vec<String>,
    /// Worker threads for HTTP; 0 means one per CPU core.
    pub workers: usize,
    /// Length of the kernel's queue of connections not yet accepted (`listen(2)`'s backlog;
    /// Linux caps it at `net.core.somaxconn`), 1 to 65535. When many clients connect at once,
    /// as after a restart, a short queue drops their handshakes and each waits for its
    /// retransmission (1 s, then 3 s, …). Rust's standard library listens with 128.
    pub backlog: u16,
    /// On SIGTERM or Ctrl-C, how long sessions and requests get to finish, in seconds.
    pub shutdown_timeout_s: u64,
    /// A connection whose peer has acknowledged none of the data sent to it for this many
    /// seconds is closed by the kernel (`TCP_USER_TIMEOUT`, RFC 5482; Linux). A client that
    /// stops reading altogether, or vanishes, then stops holding its socket, its kernel send
    /// buffer (up to 4 MiB) and its session. A slow reader that still takes some data is not
    /// affected. 0 keeps the kernel's behaviour: retransmissions for about 15 minutes, and a
    /// zero receive window probed for ever.
    pub stall_timeout_s: u64,
    /// Reverse proxies whose `X-Forwarded-For` is believed: IP addresses or CIDR blocks
    /// (`10.0.0.0/8`, `::1`). A request from one of them is counted against the last address
    /// of its `X-Forwarded-For` that is not itself a trusted proxy. Empty (the default): the
    /// header is ignored and the TCP peer is the client.
    pub trusted_proxies: Vec<String>,
    /// A folder to read the web side's files from on every request (`{dir}/static/...`,
    /// `{dir}/clients/js/...`) instead of the copies built into the binary: for working on
    /// the console, the widget or the client without rebuilding. Unset (the default): the
    /// built-in files.
    pub assets_dir: Option<String>,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            allowed_origins: vec![
                "self".into(),
                "http://localhost:*".into(),
                "http://127.0.0.1:*".into(),
            ],
            workers: 0,
            backlog: 4096,
            shutdown_timeout_s: 10,
            stall_timeout_s: 30,
            trusted_proxies: Vec::new(),
            assets_dir: None,
        }
    }
}

/// `[uploads]`
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UploadSettings {
    /// Folder for uploaded files (created if missing).
    pub dir: PathBuf,
    /// Largest accepted file, in bytes; larger uploads get 413 and leave nothing behind.
    pub max_bytes: u64,
    /// Media types accepted, as decided from the content's magic bytes (415 otherwise).
    pub allowed_types: Vec<String>,
    /// Uploads per minute per user.
    pub uploads_per_minute: u32,
    /// Images with more pixels than this (width × height, read from the header) are stored
    /// without a thumbnail, never decoded: a decompression bomb costs nothing.
    pub max_image_pixels: u64,
    /// Total bytes of uploads one user may keep; past it an upload is refused with 413
    /// `quota_exceeded`.
    pub quota_bytes_per_user: u64,
    /// Uploads never attached to a message are deleted this many hours after they were
    /// uploaded (fractions allowed), with the files nothing else references.
    pub unattached_ttl_h: f64,
    /// How often the sweep of unattached uploads runs, in seconds.
    pub sweep_interval_s: f64,
    /// Lifetime of the signed download links in attachment views, in seconds.
    pub download_url_ttl_s: u64,
}

impl UploadSettings {
    /// `unattached_ttl_h` as a duration.
    pub fn unattached_ttl(&self) -> Duration {
        secs(self.unattached_ttl_h * 3600.0)
    }
    /// `sweep_interval_s` as a duration.
    pub fn sweep_interval(&self) -> Duration {
        secs(self.sweep_interval_s)
    }
}

impl Default for UploadSettings {
    fn default() -> Self {
        Self {
            dir: PathBuf::from("uploads"),
            max_bytes: 10 * 1024 * 1024,
            allowed_types: [
                "image/png",
                "image/jpeg",
                "image/gif",
                "image/webp",
                "application/pdf",
                "text/plain",
            ]
            .iter()
            .map(|t| (*t).to_string())
            .collect(),
            uploads_per_minute: 20,
            max_image_pixels: 40_000_000,
            quota_bytes_per_user: 1 << 30,
            unattached_ttl_h: 24.0,
            sweep_interval_s: 600.0,
            download_url_ttl_s: 3600,
        }
    }
}

/// `[auth]`
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    /// HMAC secret for access tokens (HS256). Empty: a random secret is generated on first start
    /// and kept in `jwt_secret` next to the SQLite database, so tokens survive restarts.
    pub jwt_secret: SecretString,
    /// Lifetime of an access token (JWT), in seconds.
    pub access_token_ttl_s: u64,
    /// Lifetime of a refresh token, in seconds.
    pub refresh_token_ttl_s: u64,
    /// Lifetime of a user token minted by the server API when the call gives no `ttl_s`, in
    /// seconds.
    pub user_token_ttl_s: u64,
    /// Longest `ttl_s` a server API call may ask for a user token, in seconds.
    pub user_token_max_ttl_s: u64,
    /// bcrypt work factor (4..=31). 12 follows the OWASP Password Storage Cheat Sheet's floor of 10
    /// with headroom; tests use 4.
    pub bcrypt_cost: u32,
    /// Self-registration creates the account unverified and mails a 6-digit code; login answers
    /// 403 `email_unverified` until `POST /api/v1/auth/verify-email` (a project may override it).
    pub require_email_verification: bool,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            jwt_secret: SecretString::from(String::new()),
            access_token_ttl_s: 900,
            refresh_token_ttl_s: 604_800,
            user_token_ttl_s: 86_400,
            user_token_max_ttl_s: 2_592_000,
            bcrypt_cost: 12,
            require_email_verification: false,
        }
    }
}

/// `[cluster]`: several Parlor nodes on one PostgreSQL database and one Redis
/// (docs/SCALING.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterSettings {
    /// `redis://HOST:PORT[/DB]` of the Redis the nodes share; empty: a single node (nothing
    /// leaves the process).
    pub redis_url: String,
    /// What every Redis key and channel of this deployment starts with, so that several
    /// deployments (or test runs) can share one Redis.
    pub redis_prefix: String,
    /// How long a node holds back an event whose predecessors have not arrived before it reads
    /// them from the database, in milliseconds.
    pub gap_fill_ms: u64,
    /// A node that stops refreshing its presence is taken for dead this many seconds later at
    /// most, and its users go offline (fractions allowed).
    pub presence_ttl_s: f64,
}

impl ClusterSettings {
    /// Whether clustering is on.
    pub fn enabled(&self) -> bool {
        !self.redis_url.trim().is_empty()
    }

    /// `gap_fill_ms` as a duration.
    pub fn gap_fill(&self) -> Duration {
        Duration::from_millis(self.gap_fill_ms)
    }

    /// `presence_ttl_s` as a duration.
    pub fn presence_ttl(&self) -> Duration {
        secs(self.presence_ttl_s)
    }
}

impl Default for ClusterSettings {
    fn default() -> Self {
        Self {
            redis_url: String::new(),
            redis_prefix: "parlor".into(),
            gap_fill_ms: 200,
            presence_ttl_s: 15.0,
        }
    }
}

/// `[realtime]`
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RealtimeSettings {
    /// The server pings each session this often, in seconds (fractions allowed).
    pub heartbeat_interval_s: f64,
    /// A session that sends nothing (not even a pong) for this long is dropped, in seconds.
    pub client_timeout_s: f64,
    /// A `typing:start` not refreshed within this many seconds ends with a server-sent
    /// `typing:stop`.
    pub typing_timeout_s: f64,
    /// Largest accepted WebSocket frame, in bytes; larger closes the session with code 1009.
    pub max_frame_bytes: usize,
    /// Bytes of live events a session may have waiting to be written before it is closed as a
    /// slow consumer (code 4008; see [`crate::actors::Outbox`]).
    pub max_queued_bytes: usize,
    /// Presence (`user:status`) flows only through conversations of at most this many
    /// participants; larger ones carry none (pushing it there is O(members²)).
    pub presence_max_participants: u32,
    /// A conversation's room actor with no joined session stops after this many idle seconds.
    pub room_idle_s: f64,
    /// Frames one session may send per second, sustained; past it a frame gets an `error`
    /// `rate_limited`, and a session that keeps flooding is closed with 1008.
    pub commands_per_second: u32,
    /// Frames one session may send in a burst above `commands_per_second`.
    pub commands_burst: u32,
    /// Commands of one session being carried out at once (sent on, not yet answered); past it a
    /// frame gets an `error` `rate_limited`.
    pub max_in_flight: usize,
    /// Most messages a `conversation:join` replays; past it only the newest are replayed and the
    /// ack says `truncated`.
    pub max_replay: u32,
    /// WebSocket sessions one user may have open at once; another is refused with 429
    /// `too_many_sessions`.
    pub max_sessions_per_user: usize,
    /// A user's `typing:start` is broadcast at most once per this many seconds per
    /// conversation.
    pub typing_broadcast_interval_s: f64,
}

impl Default for RealtimeSettings {
    fn default() -> Self {
        Self {
            heartbeat_interval_s: 10.0,
            client_timeout_s: 30.0,
            typing_timeout_s: 6.0,
            max_frame_bytes: 65_536,
            max_queued_bytes: 1_048_576,
            presence_max_participants: 250,
            room_idle_s: 60.0,
            commands_per_second: 20,
            commands_burst: 40,
            max_in_flight: 128,
            max_replay: 1000,
            max_sessions_per_user: 10,
            typing_broadcast_interval_s: 2.0,
        }
    }
}

impl RealtimeSettings {
    /// `heartbeat_interval_s` as a duration.
    pub fn heartbeat_interval(&self) -> Duration {
        secs(self.heartbeat_interval_s)
    }
    /// `client_timeout_s` as a duration.
    pub fn client_timeout(&self) -> Duration {
        secs(self.client_timeout_s)
    }
    /// `typing_timeout_s` as a duration.
    pub fn typing_timeout(&self) -> Duration {
        secs(self.typing_timeout_s)
    }
    /// `room_idle_s` as a duration.
    pub fn room_idle(&self) -> Duration {
        secs(self.room_idle_s)
    }
    /// `typing_broadcast_interval_s` as a duration.
    pub fn typing_broadcast_interval(&self) -> Duration {
        secs(self.typing_broadcast_interval_s)
    }
}

/// `[limits]`
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitSettings {
    /// Longest message content, in Unicode scalar values (chars).
    pub message_max_chars: usize,
    /// Sends one user may make in one conversation per window (burst).
    pub messages_per_window: u32,
    /// The send-rate window, in seconds.
    pub message_window_s: u64,
    /// Largest accepted JSON request body, in bytes (413 above it).
    pub json_body_max_bytes: usize,
    /// Most participants in one conversation other than a channel (the creator included).
    pub max_participants: usize,
    /// Most participants (followers and staff) in one channel.
    pub max_followers: usize,
    /// REST requests per minute per user (per IP when anonymous); 429 past it.
    pub api_requests_per_minute: u32,
    /// Register, login and refresh requests per minute per IP.
    pub auth_attempts_per_ip_per_minute: u32,
    /// Login attempts per minute for one account (email or username).
    pub login_attempts_per_account_per_minute: u32,
    /// WebSocket upgrades per minute per client IP (IPv6 counted per /64).
    pub ws_upgrades_per_ip_per_minute: u32,
    /// Conversations one user may create per hour.
    pub conversations_per_hour: u32,
    /// User directory searches (`GET /api/v1/users`) one user may make per minute.
    pub user_searches_per_minute: u32,
    /// Invite codes one user may try to accept per minute (codes cannot be guessed by trying).
    pub invite_accepts_per_minute: u32,
    /// Verification resends and password reset requests per hour for one address, whether it
    /// has an account or not (mail flooding).
    pub account_emails_per_address_per_hour: u32,
    /// Message searches (`GET /api/v1/search/messages`) one user may make per minute.
    pub message_searches_per_minute: u32,
}

impl Default for LimitSettings {
    fn default() -> Self {
        Self {
            message_max_chars: 4000,
            messages_per_window: 5,
            message_window_s: 10,
            json_body_max_bytes: 65_536,
            max_participants: 1000,
            max_followers: 100_000,
            api_requests_per_minute: 100,
            auth_attempts_per_ip_per_minute: 20,
            login_attempts_per_account_per_minute: 5,
            ws_upgrades_per_ip_per_minute: 60,
            conversations_per_hour: 60,
            user_searches_per_minute: 30,
            invite_accepts_per_minute: 10,
            account_emails_per_address_per_hour: 5,
            message_searches_per_minute: 30,
        }
    }
}
