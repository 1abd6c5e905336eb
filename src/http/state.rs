//! [`AppState`]: what the HTTP handlers share, built once by `startup`. Only handlers see it;
//! actors get their own narrow dependency structs.

use std::sync::Arc;

use actix::prelude::*;

use crate::actors::db_writer::DbWriter;
use crate::actors::presence::PresenceRegistry;
use crate::actors::room_registry::RoomRegistry;
use crate::actors::session::SessionDeps;
use crate::api::DownloadLinks;
use crate::auth::JwtKeys;
use crate::config::Settings;
use crate::db::Database;
use crate::error::AppError;
use crate::http::client_ip::TrustedProxies;
use crate::http::limits::ApiLimits;
use crate::http::tickets::WsTickets;
use crate::uploads::image::DecodeSlots;

/// Shared state of every handler.
pub struct AppState {
    /// The loaded configuration.
    pub settings: Arc<Settings>,
    /// Pools.
    pub db: Database,
    /// The DbWriter pool.
    pub writer: Addr<DbWriter>,
    /// Finds room actors.
    pub rooms: Addr<RoomRegistry>,
    /// Who is online; ends a user's sessions.
    pub presence: Addr<PresenceRegistry>,
    /// What each new WebSocket session gets.
    pub session: Arc<SessionDeps>,
    /// Access token keys.
    pub jwt: JwtKeys,
    /// Signs download links.
    pub links: DownloadLinks,
    /// A bcrypt hash checked when a login names an unknown user, so that answer takes as long as
    /// a wrong password.
    pub dummy_hash: String,
    /// REST and upgrade rate limiters.
    pub limits: ApiLimits,
    /// Outstanding WebSocket tickets.
    pub tickets: WsTickets,
    /// Bounds concurrent image decodes.
    pub images: DecodeSlots,
    /// Whose `X-Forwarded-For` is believed.
    pub proxies: TrustedProxies,
    /// The other nodes, in cluster mode.
    pub cluster: Option<crate::cluster::Cluster>,
    /// Every project's overrides of the configuration.
    pub projects: Arc<crate::project_settings::ProjectSettingsRegistry>,
    /// Signs and checks anonymous widget visitors' tokens.
    pub visitors: crate::auth::visitor::VisitorTokens,
    /// What this node has done lately (the admin dashboard).
    pub stats: Arc<crate::stats::NodeStats>,
    /// The Prometheus recorder's handle (`GET /metrics`); `None` with `metrics.enabled = false`.
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// Queues account mail; hashes the codes it carries.
    pub email: crate::email::AccountEmail,
}

impl AppState {
    /// Runs `write` on the database writer and answers its result. A row the write needed and
    /// did not find ([`DbError::NotFound`]) answers `not_found` naming `what` ("label", "API
    /// key"); a writer that is gone answers `unavailable`; other database errors answer as
    /// [`AppError`]'s conversion says.
    ///
    /// [`DbError::NotFound`]: crate::db::DbError::NotFound
    pub async fn write<M, T>(&self, write: M, what: &'static str) -> Result<T, AppError>
    where
        M: Message<Result = Result<T, crate::db::DbError>> + Send + 'static,
        T: Send + 'static,
        DbWriter: Handler<M>,
    {
        self.writer
            .send(write)
            .await?
            .map_err(AppError::db_naming(what))
    }
}
