//! Builds the application: database, actors, HTTP server. Handlers get [`AppState`] (and the
//! JWT keys on their own, for the auth extractor) through `web::Data`; actors get their own
//! narrow dependency structs; there are no globals.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_web::dev::{Server, ServerHandle};
use actix_web::{App, HttpServer, web};

use crate::actors::commit_queue::CommitQueues;
use crate::actors::db_writer::{DbWriter, Flush, SweepUploads};
use crate::actors::presence::{CountSessions, PresenceDeps, PresenceRegistry, ShutdownAll};
use crate::actors::room::{RoomConfig, RoomDeps};
use crate::actors::room_registry::RoomRegistry;
use crate::actors::session::{SessionConfig, SessionDeps};
use crate::actors::start_roomy;
use crate::api::DownloadLinks;
use crate::auth::{JwtKeys, password};
use crate::cluster::{Cluster, Listeners};
use crate::config::Settings;
use crate::db::Database;
use crate::http::client_ip::TrustedProxies;
use crate::http::limits::ApiLimits;
use crate::http::tickets::WsTickets;
use crate::http::{self, AppState};
use crate::project_settings::ProjectSettingsRegistry;
use crate::uploads::image::DecodeSlots;

/// CORS for browser clients served from another origin (a front-end dev server, a widget):
/// the origins of `server.allowed_origins` and of every project's `allowed_origins`, bearer
/// tokens (no cookies), preflight cached for an hour.
fn cors(origins: Vec<String>, projects: Arc<ProjectSettingsRegistry>) -> actix_cors::Cors {
    actix_cors::Cors::default()
        .allowed_origin_fn(move |origin, head| {
            let host = head
                .headers()
                .get(actix_web::http::header::HOST)
                .and_then(|h| h.to_str().ok());
            let Ok(origin) = origin.to_str() else {
                return false;
            };
            // A project's own origins (its website's widget) are let through here; each
            // endpoint then holds the caller to their own project's list.
            http::ws::origin_allowed(origin, host, &origins)
                || projects.any(|settings| {
                    settings
                        .allowed_origins
                        .as_deref()
                        .is_some_and(|own| http::ws::origin_allowed(origin, host, own))
                })
        })
        .allowed_methods(["GET", "POST", "PATCH", "DELETE"])
        .allowed_headers([
            actix_web::http::header::AUTHORIZATION,
            actix_web::http::header::CONTENT_TYPE,
        ])
        .expose_headers([actix_web::http::header::RETRY_AFTER])
        .max_age(3600)
}

/// A built, bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
    /// `GET /metrics` on `metrics.listen`, when set.
    metrics_server: Option<Server>,
    presence: Addr<PresenceRegistry>,
    writer: Addr<DbWriter>,
    shutdown_timeout: Duration,
}

impl Application {
    /// Opens the database (migrating it), starts the actors and binds `server.bind`. Must be
    /// called inside an actix system.
    ///
    /// # Errors
    /// Database, secret or bind failures.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        settings.validate()?;
        let settings = Arc::new(settings);
        let db = Database::open(&settings.database)?;
        tracing::info!(
            backend = db.url.backend(),
            writers = db.writers,
            "database ready"
        );
        let cluster = if settings.cluster.enabled() {
            Some(Cluster::start(&settings.cluster)?)
        } else {
            None
        };
        std::fs::create_dir_all(&settings.uploads.dir).map_err(|e| {
            anyhow::anyhow!("cannot create {}: {e}", settings.uploads.dir.display())
        })?;
        let secret = crate::auth::secret::load_or_create(&settings.auth, &db.url.data_dir())?;
        let jwt = JwtKeys::new(&secret, settings.auth.access_token_ttl_s);
        crate::actors::presence::load_revoked(&db, &jwt).await?;
        let projects = Arc::new(crate::project_settings::ProjectSettingsRegistry::default());
        crate::actors::presence::load_project_settings(&db, &projects).await?;
        let links = DownloadLinks::new(&secret, settings.uploads.download_url_ttl_s);
        let cost = settings.auth.bcrypt_cost;
        let dummy_hash =
            password::blocking(move || password::hash("not-a-real-password", cost)).await??;

        let writer = DbWriter::start(db.write_pool.clone(), db.writers);
        let stats = Arc::new(crate::stats::NodeStats::new());
        let commit_queues = CommitQueues::new(
            writer.clone(),
            db.writers,
            settings.database.group_commit_max_batch,
            Duration::from_micros(settings.database.group_commit_max_wait_us),
            stats.clone(),
        );
        let room_config = Arc::new(RoomConfig::new(&settings));
        let presence = start_roomy(PresenceRegistry::new(PresenceDeps {
            cluster: cluster.clone(),
            db: db.clone(),
            writer: writer.clone(),
            presence_max_participants: settings.realtime.presence_max_participants,
            max_sessions_per_user: settings.realtime.max_sessions_per_user,
            jwt: jwt.clone(),
            projects: projects.clone(),
        }));
        let rooms = RoomRegistry::start(|on_stop| RoomDeps {
            cluster: cluster.clone(),
            db: db.clone(),
            writer: writer.clone(),
            commit_queues,
            config: room_config,
            links: links.clone(),
            on_stop,
            projects: projects.clone(),
            presence: presence.clone().recipient(),
        });
        let session = Arc::new(SessionDeps {
            rooms: rooms.clone(),
            presence: presence.clone(),
            jwt: jwt.clone(),
            config: SessionConfig::new(&settings),
        });

        let state = web::Data::new(AppState {
            settings: settings.clone(),
            db,
            writer: writer.clone(),
            rooms: rooms.clone(),
            presence: presence.clone(),
            session,
            jwt: jwt.clone(),
            links,
            dummy_hash,
            limits: ApiLimits::new(&settings.limits, &settings.uploads, cluster.clone()),
            tickets: WsTickets::default(),
            images: DecodeSlots::new(settings.uploads.max_image_pixels),
            proxies: TrustedProxies::new(&settings.server.trusted_proxies),
            cluster: cluster.clone(),
            projects: projects.clone(),
            visitors: crate::auth::visitor::VisitorTokens::new(&secret),
            stats,
            email: crate::email::AccountEmail::start(&settings.email, &secret)?,
            metrics: settings
                .metrics
                .enabled
                .then(crate::monitor::install)
                .flatten()
                .cloned(),
        });
        if let Some(cluster) = &cluster {
            cluster.listen(Listeners {
                global: vec![presence.clone().recipient(), rooms.clone().recipient()],
                recovered: vec![presence.clone().recipient(), rooms.clone().recipient()],
            });
        }
        spawn_housekeeping(&state);
        if let Some(handle) = &state.metrics {
            crate::monitor::spawn_upkeep(handle.clone());
        }
        crate::actors::desk::spawn_snooze_sweep(
            state.writer.clone(),
            state.rooms.clone(),
            state.settings.desk.snooze_sweep_interval(),
        );
        crate::email::writes::spawn_sweep(writer.clone());
        if settings.webhooks.enabled {
            crate::webhooks::worker::spawn(crate::webhooks::worker::WorkerDeps {
                db: state.db.clone(),
                writer: writer.clone(),
                presence: presence.clone(),
                settings: settings.webhooks.clone(),
            })?;
        }

        let listener = TcpListener::bind(&settings.server.bind)
            .map_err(|e| anyhow::anyhow!("cannot bind {}: {e}", settings.server.bind))?;
        // A second `listen` on a listening socket changes its backlog (std's is 128).
        socket2::SockRef::from(&listener)
            .listen(i32::from(settings.server.backlog))
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.server.bind))?;
        let address = listener.local_addr()?;
        state.email.bound_to(address);
        // Accepted sockets inherit it from the listener: set once, not per connection.
        set_stall_timeout(
            &listener,
            Duration::from_secs(settings.server.stall_timeout_s),
        );
        let json_limit = settings.limits.json_body_max_bytes;
        let origins = settings.server.allowed_origins.clone();
        let keys = web::Data::new(jwt);
        let cors_projects = projects.clone();
        let metrics_server = http::metrics::listener(&settings, &state)?;
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(keys.clone())
                .wrap(cors(origins.clone(), cors_projects.clone()))
                .wrap(tracing_actix_web::TracingLogger::<
                    crate::telemetry::RedactedRootSpan,
                >::new())
                .wrap(actix_web::middleware::from_fn(http::metrics::record))
                .configure(|cfg| http::routes(cfg, json_limit))
        })
        // Each connection is counted while it lives (`parlor_http_connections_open`).
        .on_connect(|_, extensions| {
            extensions.insert(crate::monitor::ConnectionGuard::open());
        })
        // Small frames go out at once: without TCP_NODELAY, Nagle's algorithm and delayed ACKs
        // hold them for up to ~40 ms.
        .tcp_nodelay(true)
        .listen(listener)?
        // Signals are handled by `run_until_stopped`, which closes sessions properly first.
        .disable_signals()
        .shutdown_timeout(settings.server.shutdown_timeout_s);
        if settings.server.workers > 0 {
            server = server.workers(settings.server.workers);
        }
        let server = server.run();
        tracing::info!(address = %address, "listening on http://{address}");
        Ok(Self {
            port: address.port(),
            server,
            metrics_server,
            presence,
            writer,
            shutdown_timeout: Duration::from_secs(settings.server.shutdown_timeout_s),
        })
    }

    /// The port actually bound (useful with port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle to stop the server.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Runs until the server stops: on SIGTERM or Ctrl-C it shuts down gracefully (see
    /// [`graceful_shutdown`]); [`ServerHandle::stop`] stops it at once.
    ///
    /// # Errors
    /// I/O errors of the server.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        let metrics = self.metrics_server.as_ref().map(Server::handle);
        if let Some(server) = self.metrics_server {
            actix::spawn(server);
        }
        let (presence, writer, timeout) = (self.presence, self.writer, self.shutdown_timeout);
        actix::spawn(async move {
            if wait_for_signal().await {
                graceful_shutdown(handle, presence, writer, timeout).await;
            }
        });
        let served = self.server.await;
        if let Some(metrics) = metrics {
            metrics.stop(true).await;
        }
        served
    }
}

/// Background chores: forget recovered rate-limit keys every minute; sweep unattached uploads
/// every `uploads.sweep_interval_s`.
fn spawn_housekeeping(state: &web::Data<AppState>) {
    let limits = state.clone();
    actix::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            limits.limits.forget_idle();
        }
    });
    let (writer, uploads) = (state.writer.clone(), state.settings.uploads.clone());
    actix::spawn(async move {
        let mut tick = tokio::time::interval(uploads.sweep_interval());
        loop {
            tick.tick().await;
            let ttl = chrono::TimeDelta::from_std(uploads.unattached_ttl())
                .unwrap_or(chrono::TimeDelta::MAX);
            let cutoff = crate::db::now()
                .checked_sub_signed(ttl)
                .unwrap_or(chrono::NaiveDateTime::MIN);
            let sweep = SweepUploads {
                root: uploads.dir.clone(),
                cutoff,
            };
            match writer.send(sweep).await {
                Ok(Ok(_)) => {}
                Ok(Err(err)) => tracing::warn!(error = ?err, "upload sweep failed"),
                // The writer is gone: the server is stopping.
                Err(_) => return,
            }
        }
    });
}

/// Waits for SIGTERM or SIGINT (Ctrl-C); false if signals cannot be watched.
async fn wait_for_signal() -> bool {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            return false;
        };
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM received"),
            _ = int.recv() => tracing::info!("SIGINT received"),
        }
        true
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.is_ok()
    }
}

/// Stops without losing an acknowledged message: stop accepting connections; tell every
/// WebSocket session to finish its in-flight commands (each is committed and acknowledged) and
/// close with 1001; wait for them (at most `timeout`); let in-flight REST requests finish; wait
/// for the writer to finish everything queued.
pub async fn graceful_shutdown(
    handle: ServerHandle,
    presence: Addr<PresenceRegistry>,
    writer: Addr<DbWriter>,
    timeout: Duration,
) {
    tracing::info!("shutting down: no new connections");
    handle.pause().await;
    let open = presence.send(ShutdownAll).await.unwrap_or(0);
    tracing::info!(sessions = open, "closing WebSocket sessions");
    let deadline = Instant::now() + timeout;
    while presence.send(CountSessions).await.unwrap_or(0) > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    handle.stop(true).await;
    let _ = writer.send(Flush).await;
    tracing::info!("shutdown complete");
}

/// Bounds how long the peers of `listener`'s connections may leave sent data unacknowledged
/// (`TCP_USER_TIMEOUT`, RFC 5482), zero-window probes included, so a client that stops reading
/// is disconnected by the kernel even while its session cannot run (the HTTP dispatcher stops
/// polling a response whose writes are blocked). Accepted sockets inherit the option from the
/// listener. `Duration::ZERO` leaves the kernel's default. A failure is logged and the server
/// runs without the bound.
#[cfg(any(target_os = "linux", target_os = "android", target_os = "fuchsia"))]
fn set_stall_timeout(listener: &TcpListener, timeout: Duration) {
    if timeout.is_zero() {
        return;
    }
    if let Err(err) = socket2::SockRef::from(listener).set_tcp_user_timeout(Some(timeout)) {
        tracing::warn!(error = %err, "cannot set TCP_USER_TIMEOUT; stalled clients keep their sockets");
    }
}

/// `TCP_USER_TIMEOUT` is Linux's; elsewhere the kernel's own timeouts apply.
#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "fuchsia")))]
fn set_stall_timeout(_listener: &TcpListener, _timeout: Duration) {}
