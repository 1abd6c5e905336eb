//! `SessionActor`: one per WebSocket connection.
//!
//! State: the authenticated user and the expiry of the access token the session runs on; the
//! addresses of the rooms it has talked to, joined or not (so its frames reach each room in
//! the order sent, and each hears of its stop); its command budget (`realtime.commands_per_second`)
//! and the commands in flight; heartbeat bookkeeping. Receives text frames from the browser
//! (parsed into [`ClientCommand`](crate::protocol::ClientCommand)s and forwarded as typed
//! messages to room actors, `commands.rs`). Rooms and the presence registry do not message it
//! per event: they push frames into its [`Outbox`], which the connection drains
//! (`actors/wire.rs`). Never touches the database.
//!
//! Started by the `/api/v1/ws` handler ([`SessionActor::start`]) after authentication and
//! admission; runs as its own task beside the connection, which it learns has ended from its
//! inbound stream or from [`SessionSignal::Gone`]. Stops when the client closes; with 1007 on a
//! text frame that is not UTF-8 (RFC 6455 §8.1), 1002 on another protocol error, 1009 on a frame
//! over `realtime.max_frame_bytes`, 1008 when the client keeps flooding past its command budget;
//! with 1001 when the client is silent for `realtime.client_timeout_s`, or on
//! [`SessionSignal::Shutdown`] once its in-flight commands are answered; with 4001 when its
//! access token expires without an in-band `auth:refresh`, or [`SessionSignal::End`] with the
//! code the auth layer chose (4001 signed out everywhere, 4003 role changed or account
//! disabled); with 4008 when it reads too slowly. On stop it leaves its rooms and unregisters
//! from presence.

mod commands;
mod extras;
#[cfg(test)]
mod layout_tests;
mod routing;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_http::ws;
use actix_web::error::PayloadError;
use bytes::Bytes;
use futures_util::Stream;
use governor::clock::MonotonicClock;
use governor::middleware::NoOpMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};

use crate::actors::presence::{Connect, Disconnect, PresenceRegistry};
use crate::actors::room::{Leave, RoomActor};
use crate::actors::room_registry::RoomRegistry;
use crate::actors::wire::{Inbound, InboundError, Incoming, WireBody};
use crate::actors::{Frame, Outbox, SessionSignal};
use crate::api::UserView;
use crate::auth::{AuthUser, JwtKeys};
use crate::config::Settings;
use crate::domain::{ConversationId, SessionId};
use crate::protocol::{self, ServerFrame, Welcome};

/// Close code for a session whose client read too slowly (its outbox overflowed): private-use
/// range (RFC 6455 §7.4.2), as 3008 `slow` is Centrifugo's. docs/PROTOCOL.md §5.7.
pub const SLOW_CONSUMER: u16 = 4008;

/// Why a session ends now: its close code and reason (docs/PROTOCOL.md §5.7); sent to it as
/// [`SessionSignal::End`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndSession {
    /// The close code.
    pub code: u16,
    /// The close reason.
    pub reason: &'static str,
    /// Only a session whose token is on the deny list ends (a user token was revoked; the
    /// user's other sessions go on).
    pub if_revoked: bool,
}

impl EndSession {
    /// 4001: the access token expired and was not renewed in band.
    pub const TOKEN_EXPIRED: Self = Self {
        code: 4001,
        reason: "token expired",
        if_revoked: false,
    };
    /// 4001: the user signed out everywhere, or a stolen refresh token was detected.
    pub const SIGNED_OUT: Self = Self {
        code: 4001,
        reason: "signed out",
        if_revoked: false,
    };
    /// 4003: an admin changed the user's role or disabled the account.
    pub const ACCOUNT_CHANGED: Self = Self {
        code: 4003,
        reason: "account changed",
        if_revoked: false,
    };
    /// 4003: the session's user token was revoked through the server API.
    pub const TOKEN_REVOKED: Self = Self {
        code: 4003,
        reason: "token revoked",
        if_revoked: true,
    };
}

/// The settings a session uses.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// `realtime.heartbeat_interval_s`.
    pub heartbeat_interval: Duration,
    /// `realtime.client_timeout_s`.
    pub client_timeout: Duration,
    /// `realtime.max_queued_bytes`.
    pub max_queued_bytes: usize,
    /// `realtime.max_frame_bytes`.
    pub max_frame_bytes: usize,
    /// `limits.message_max_chars`.
    pub message_max_chars: usize,
    /// `realtime.commands_per_second` with `realtime.commands_burst`.
    pub command_quota: Quota,
    /// `realtime.max_in_flight`.
    pub max_in_flight: usize,
}

impl SessionConfig {
    /// The session's part of the configuration.
    pub fn new(settings: &Settings) -> Self {
        let realtime = &settings.realtime;
        let rate = std::num::NonZeroU32::new(realtime.commands_per_second)
            .unwrap_or(std::num::NonZeroU32::MIN);
        let burst =
            std::num::NonZeroU32::new(realtime.commands_burst).unwrap_or(std::num::NonZeroU32::MIN);
        Self {
            heartbeat_interval: realtime.heartbeat_interval(),
            client_timeout: realtime.client_timeout(),
            max_queued_bytes: realtime.max_queued_bytes,
            max_frame_bytes: realtime.max_frame_bytes,
            message_max_chars: settings.limits.message_max_chars,
            command_quota: Quota::per_second(rate).allow_burst(burst),
            max_in_flight: realtime.max_in_flight,
        }
    }
}

/// A session's frame budget: governor's GCRA on the standard library's monotonic clock, whose
/// limiter is 40 bytes against the default (quanta) clock's 72; a session holds two.
type CommandLimiter = RateLimiter<NotKeyed, InMemoryState, MonotonicClock, NoOpMiddleware<Instant>>;

/// What a session needs from the outside world: one for the whole server, shared by every
/// session through an `Arc` (a session that cloned it would keep two actix addresses of its
/// own, each an allocation, for its whole life).
pub struct SessionDeps {
    /// Finds rooms.
    pub rooms: Addr<RoomRegistry>,
    /// Who is online.
    pub presence: Addr<PresenceRegistry>,
    /// Checks the tokens of `auth:refresh`.
    pub jwt: JwtKeys,
    /// Limits and timeouts.
    pub config: SessionConfig,
}

/// The session actor.
pub struct SessionActor {
    id: SessionId,
    /// Who, and until when: the access token the session runs on (renewed by `auth:refresh`).
    auth: AuthUser,
    deps: Arc<SessionDeps>,
    /// Room addresses this session has used, so its frames reach each room in order. Only
    /// conversations the user may act in stay: an address that answered `not_found` or
    /// `forbidden` is dropped, and `conversation:leave` never adds one.
    rooms: HashMap<ConversationId, Addr<RoomActor>>,
    last_heard: Instant,
    unregistered: bool,
    /// Commands sent on and not yet answered; at most `realtime.max_in_flight`.
    in_flight: usize,
    /// Set by [`SessionSignal::Shutdown`]: no new commands; close with 1001 once `in_flight` is 0.
    draining: bool,
    /// The bounded queue everything the session sends goes through: rooms' and presence's
    /// events, answers, heartbeats, the close.
    outbox: Outbox,
    /// Frames per second (`realtime.commands_per_second`, `realtime.commands_burst`).
    commands: CommandLimiter,
    /// Frames refused by `commands`, on the same quota: once it runs dry too, the client is
    /// flooding (twice its budget, sustained) and the session closes with 1008.
    refusals: CommandLimiter,
    /// When the next heartbeat is due: a ping, or the close if the client fell silent.
    next_heartbeat: Instant,
    /// The one timer: for the next heartbeat or the token's expiry, whichever is first.
    timer: Option<SpawnHandle>,
}

impl SessionActor {
    /// Starts the session of an authenticated user, admitted by presence as `id`, reading the
    /// client's frames from `inbound` (the upgrade request's body); returns the body of the
    /// upgrade response.
    pub fn start<S>(
        id: SessionId,
        auth: AuthUser,
        user: UserView,
        deps: Arc<SessionDeps>,
        inbound: S,
    ) -> WireBody
    where
        S: Stream<Item = Result<Bytes, PayloadError>> + Unpin + 'static,
    {
        let mut ctx = Context::new();
        let (outbox, body) = Outbox::new(ctx.address().recipient(), deps.config.max_queued_bytes);
        // The first frame, queued here so that the session need not keep the user's profile.
        outbox.answer(Frame::text(&protocol::encode(&ServerFrame::Welcome {
            data: Welcome {
                user,
                session_id: id,
                token_expires_at: auth.expires_at(),
            },
        })));
        ctx.add_stream(Inbound::new(inbound, deps.config.max_frame_bytes));
        let (quota, heartbeat) = (deps.config.command_quota, deps.config.heartbeat_interval);
        ctx.run(Self {
            id,
            auth,
            deps,
            rooms: HashMap::new(),
            last_heard: Instant::now(),
            unregistered: false,
            in_flight: 0,
            draining: false,
            outbox,
            commands: RateLimiter::direct_with_clock(quota, MonotonicClock),
            refusals: RateLimiter::direct_with_clock(quota, MonotonicClock),
            next_heartbeat: Instant::now() + heartbeat,
            timer: None,
        });
        body
    }

    fn unregister(&mut self) {
        if std::mem::replace(&mut self.unregistered, true) {
            return;
        }
        // Every room this session touched: joined ones drop its recipient, the others end any
        // typing indicator it started.
        for room in self.rooms.values() {
            room.do_send(Leave {
                session_id: self.id,
            });
        }
        self.deps.presence.do_send(Disconnect {
            user_id: self.auth.id,
            session_id: self.id,
        });
    }

    /// Leaves everything and closes the socket with `code` and `reason`.
    /// A slow consumer's queued frames are dropped; otherwise they are written first.
    fn end(&mut self, code: ws::CloseCode, reason: &str, ctx: &mut Context<Self>) {
        self.unregister();
        let close = Frame::close(Some(ws::CloseReason {
            code,
            description: (!reason.is_empty()).then(|| reason.to_string()),
        }));
        let slow = code == ws::CloseCode::Other(SLOW_CONSUMER);
        self.outbox.close(Some(close), slow);
        ctx.stop();
    }

    /// (Re)arms the session's one timer for whichever comes first: its next heartbeat or the
    /// expiry of its access token. One timer rather than an interval and a timeout, because
    /// each actix timer is an allocation (a boxed future holding a tokio `Sleep`) that even an
    /// idle session keeps for its whole life.
    fn arm_timer(&mut self, ctx: &mut Context<Self>) {
        if let Some(handle) = self.timer.take() {
            ctx.cancel_future(handle);
        }
        let expiry = self
            .auth
            .expires_at()
            .signed_duration_since(chrono::Utc::now())
            .to_std()
            .unwrap_or(Duration::ZERO);
        let heartbeat = self
            .next_heartbeat
            .saturating_duration_since(Instant::now());
        self.timer = Some(ctx.run_later(expiry.min(heartbeat), Self::on_timer));
    }

    /// The timer fired: ends the session if its token expired (4001) or its client has been
    /// silent for `realtime.client_timeout_s` (1001); pings it when a heartbeat is due.
    fn on_timer(&mut self, ctx: &mut Context<Self>) {
        self.timer = None;
        if self.auth.expires_at() <= chrono::Utc::now() {
            tracing::debug!(session_id = %self.id, "access token expired");
            let end = EndSession::TOKEN_EXPIRED;
            return self.end(ws::CloseCode::Other(end.code), end.reason, ctx);
        }
        let now = Instant::now();
        if now >= self.next_heartbeat {
            if now.duration_since(self.last_heard) > self.deps.config.client_timeout {
                tracing::debug!(session_id = %self.id, "client timed out");
                return self.end(ws::CloseCode::Away, "", ctx);
            }
            self.outbox.answer(Frame::ping());
            self.next_heartbeat = now + self.deps.config.heartbeat_interval;
        }
        self.arm_timer(ctx);
    }

    /// While draining, closes with 1001 once nothing is in flight.
    fn close_if_drained(&mut self, ctx: &mut Context<Self>) {
        if self.draining && self.in_flight == 0 {
            self.end(ws::CloseCode::Away, "server shutting down", ctx);
        }
    }
}

impl Actor for SessionActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        tracing::debug!(session_id = %self.id, user_id = %self.auth.id, "session started");
        self.deps.presence.do_send(Connect {
            user_id: self.auth.id,
            session_id: self.id,
            outbox: self.outbox.clone(),
        });
        self.arm_timer(ctx);
    }

    fn stopping(&mut self, _: &mut Self::Context) -> Running {
        self.unregister();
        // Whatever is queued is still written; then the connection ends.
        self.outbox.close(None, false);
        Running::Stop
    }
}

impl Handler<SessionSignal> for SessionActor {
    type Result = ();

    fn handle(&mut self, signal: SessionSignal, ctx: &mut Self::Context) {
        match signal {
            SessionSignal::Overflowed if !self.unregistered => {
                tracing::info!(session_id = %self.id, "slow consumer: outgoing queue full, closing");
                crate::monitor::slow_consumer_closed();
                self.end(ws::CloseCode::Other(SLOW_CONSUMER), "slow consumer", ctx);
            }
            SessionSignal::Overflowed => {}
            SessionSignal::Gone => ctx.stop(),
            SessionSignal::Shutdown => {
                self.draining = true;
                self.close_if_drained(ctx);
            }
            SessionSignal::End(end) => {
                let revoked = |id| self.deps.jwt.revoked().is_revoked(id);
                if end.if_revoked && !self.auth.token_id.is_some_and(revoked) {
                    return;
                }
                tracing::info!(session_id = %self.id, user_id = %self.auth.id, code = end.code, "session ended");
                self.end(ws::CloseCode::Other(end.code), end.reason, ctx);
            }
        }
    }
}

impl StreamHandler<Result<Incoming, InboundError>> for SessionActor {
    fn handle(&mut self, item: Result<Incoming, InboundError>, ctx: &mut Self::Context) {
        let incoming = match item {
            Ok(incoming) => incoming,
            Err(err) => {
                tracing::debug!(session_id = %self.id, error = %err, "inbound frame refused");
                let (code, reason) = match err {
                    InboundError::TooLarge => (ws::CloseCode::Size, err.to_string()),
                    InboundError::NotUtf8 => (ws::CloseCode::Invalid, err.to_string()),
                    InboundError::Protocol(_) => (ws::CloseCode::Protocol, String::new()),
                    InboundError::Connection(_) => return ctx.stop(),
                };
                return self.end(code, &reason, ctx);
            }
        };
        self.last_heard = Instant::now();
        match incoming {
            Incoming::Text(text) => self.handle_text(&text, ctx),
            Incoming::Ping(payload) => self.outbox.answer(Frame::pong(&payload)),
            Incoming::Pong => {}
            Incoming::Unsupported => self.handle_binary(ctx),
            Incoming::Close(reason) => {
                // Echo the client's close (RFC 6455 §5.5.1) behind what is queued.
                self.unregister();
                self.outbox.close(Some(Frame::close(reason)), false);
                ctx.stop();
            }
        }
    }
}
