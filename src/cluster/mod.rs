//! Several Parlor nodes on one PostgreSQL database and one Redis (docs/SCALING.md).
//!
//! The database stays the authority: every message is stored, sequenced and acknowledged by
//! the node that received it, exactly as on a single node. Redis carries what the other nodes
//! need to keep their own sessions current, and is never trusted to keep anything:
//! - **fan-out**: each committed event is published once, on its conversation's channel, as an
//!   [`Envelope`](envelope::Envelope); a node subscribes to the channels of the conversations
//!   it has a room for and delivers to its own sessions, in version order
//!   ([`sequencer::Sequencer`]), reading from the database whatever is late or lost;
//! - **presence** ([`presence`]): which nodes have each user online, with a time to live the
//!   nodes keep refreshing, so a dead node's users go offline;
//! - **limits** ([`rate`]): the per-user send limit and the REST and sign-in limits, counted
//!   atomically in Redis so that a user on two nodes has one budget;
//! - **revocation**: ending a user's sessions reaches every node.
//!
//! When Redis goes away, a node keeps serving its own sessions and storing every message;
//! `/health` says `redis: down`. When it is back, the node resubscribes and registers its users
//! again; then on every node each room reads what it missed from the database and tells its
//! joined sessions to `resync` (rejoin with `since_seq`), and every session gets its contacts'
//! current status.
//!
//! All Redis I/O runs on a small runtime of its own (thread `parlor-redis`), so neither actix
//! workers nor the writers ever wait on it.

pub mod envelope;
pub mod presence;
pub mod rate;
pub mod sequencer;
mod tasks;

use tasks::{pinger, publisher, subscriber};

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use actix::prelude::*;
use futures_util::StreamExt;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::mpsc;

use crate::config::ClusterSettings;
use crate::domain::ConversationId;
use envelope::{Envelope, Event, Header, channel_conversation, global_channel};

/// How many events may wait to be published; past it they are dropped and counted, and the
/// other nodes read them from the database instead.
const PUBLISH_QUEUE: usize = 65_536;

/// Most events sent to Redis in one pipelined round trip.
const PUBLISH_BATCH: usize = 512;

/// How often the node checks that Redis answers.
const PING_INTERVAL: Duration = Duration::from_millis(500);

/// How long a Redis command may take before Redis counts as down.
const REDIS_TIMEOUT: Duration = Duration::from_secs(1);

/// Something for a room from the cluster.
#[derive(Message, Debug, Clone)]
#[rtype(result = "()")]
pub enum RemoteEvent {
    /// An event another node published on the room's conversation.
    Envelope(Arc<Envelope>),
    /// The room's channel is subscribed: anything published from now on arrives, so the room
    /// compares its state with the database once to cover what came before.
    Subscribed,
    /// A node came back from an outage: compare with the database, read what was missed, and
    /// tell the joined sessions to `resync` (the receipts and typing indicators of the outage
    /// cannot be read back).
    CatchUp,
}

/// An event for every node (presence, revocation, catch-up), from another node.
#[derive(Message, Debug, Clone)]
#[rtype(result = "()")]
pub struct GlobalEvent(pub Arc<Envelope>);

/// Redis is reachable again after an outage: this node's sessions may have missed events.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "()")]
pub struct Recovered;

/// Who hears of global events and of recoveries (the registries, set once at start).
#[derive(Clone)]
pub struct Listeners {
    /// Global events.
    pub global: Vec<Recipient<GlobalEvent>>,
    /// Recoveries.
    pub recovered: Vec<Recipient<Recovered>>,
}

/// A change to the subscriptions.
enum Subscription {
    Subscribe(ConversationId),
    Unsubscribe(ConversationId),
}

/// This node's handle on the cluster. Cheap to clone.
#[derive(Clone)]
pub struct Cluster {
    inner: Arc<Inner>,
}

struct Inner {
    node: String,
    /// `cluster.redis_prefix`: every key and channel starts with it.
    prefix: String,
    /// `{prefix}:global`.
    global: String,
    settings: ClusterSettings,
    runtime: Mutex<Option<tokio::runtime::Runtime>>,
    handle: tokio::runtime::Handle,
    commands: ConnectionManager,
    publish: mpsc::Sender<(String, Vec<u8>)>,
    subscriptions: mpsc::UnboundedSender<Subscription>,
    rooms: Mutex<HashMap<ConversationId, Recipient<RemoteEvent>>>,
    listeners: Mutex<Option<Listeners>>,
    /// The subscriber connection is up.
    subscribed: AtomicBool,
    /// The last ping was answered.
    answering: AtomicBool,
    /// Events that could not be published.
    lost: AtomicU64,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Dropping a runtime blocks; this may run on an actix thread, where that panics.
        if let Some(runtime) = self.runtime.lock().ok().and_then(|mut r| r.take()) {
            runtime.shutdown_background();
        }
    }
}

impl Cluster {
    /// Starts this node's Redis connections (`cluster.redis_url`). Redis need not be up yet: the
    /// node starts, reports `redis: down`, and keeps trying.
    ///
    /// # Errors
    /// A malformed URL, or no thread for the runtime.
    pub fn start(settings: &ClusterSettings) -> anyhow::Result<Self> {
        let client = redis::Client::open(settings.redis_url.trim())
            .map_err(|e| anyhow::anyhow!("cluster.redis_url: {e}"))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("parlor-redis")
            .enable_all()
            .build()?;
        let handle = runtime.handle().clone();
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(REDIS_TIMEOUT))
            .set_response_timeout(Some(REDIS_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let commands = {
            let _guard = runtime.enter();
            ConnectionManager::new_lazy_with_config(client.clone(), config)?
        };
        let (publish, published) = mpsc::channel(PUBLISH_QUEUE);
        let (subscriptions, changes) = mpsc::unbounded_channel();
        let node = uuid::Uuid::new_v4().simple().to_string();
        let prefix = settings.redis_prefix.clone();
        let inner = Arc::new(Inner {
            node,
            global: global_channel(&prefix),
            prefix,
            settings: settings.clone(),
            runtime: Mutex::new(Some(runtime)),
            handle: handle.clone(),
            commands: commands.clone(),
            publish,
            subscriptions,
            rooms: Mutex::new(HashMap::new()),
            listeners: Mutex::new(None),
            subscribed: AtomicBool::new(false),
            answering: AtomicBool::new(false),
            lost: AtomicU64::new(0),
        });
        handle.spawn(publisher(
            Arc::downgrade(&inner),
            published,
            commands.clone(),
        ));
        handle.spawn(subscriber(Arc::downgrade(&inner), client, changes));
        handle.spawn(pinger(Arc::downgrade(&inner), commands));
        tracing::info!(node = %inner.node, "cluster node started");
        Ok(Self { inner })
    }

    /// This node's id (random at each start).
    pub fn node(&self) -> &str {
        &self.inner.node
    }

    /// `cluster.redis_prefix`.
    pub fn prefix(&self) -> &str {
        &self.inner.prefix
    }

    /// The `[cluster]` settings.
    pub fn settings(&self) -> &ClusterSettings {
        &self.inner.settings
    }

    /// Whether Redis is reachable (the subscriber is connected and pings are answered).
    pub fn redis_up(&self) -> bool {
        self.inner.subscribed.load(Ordering::Relaxed)
            && self.inner.answering.load(Ordering::Relaxed)
    }

    /// Events that could not be published since the start.
    pub fn lost_events(&self) -> u64 {
        self.inner.lost.load(Ordering::Relaxed)
    }

    /// Sets who hears of global events and recoveries.
    pub fn listen(&self, listeners: Listeners) {
        if let Ok(mut slot) = self.inner.listeners.lock() {
            *slot = Some(listeners);
        }
    }

    /// Publishes an event on its conversation's channel, or on the global one.
    pub fn publish(&self, event: Event, frame: bytestring::ByteString) {
        let channel = match &event {
            Event::Message {
                conversation_id, ..
            }
            | Event::After {
                conversation_id, ..
            } => envelope::conversation_channel(&self.inner.prefix, *conversation_id),
            Event::Presence { .. }
            | Event::EndSessions { .. }
            | Event::TokensRevoked { .. }
            | Event::ProjectSettings { .. }
            | Event::Notify { .. }
            | Event::CatchUp => self.inner.global.clone(),
        };
        let envelope = Envelope {
            header: Header {
                node: self.inner.node.clone(),
                event,
            },
            frame,
        };
        if self
            .inner
            .publish
            .try_send((channel, envelope.encode()))
            .is_err()
        {
            self.inner.lost.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Delivers the events of `conversation` to `room` from now on.
    pub fn subscribe(&self, conversation: ConversationId, room: Recipient<RemoteEvent>) {
        if let Ok(mut rooms) = self.inner.rooms.lock() {
            rooms.insert(conversation, room);
        }
        let _ = self
            .inner
            .subscriptions
            .send(Subscription::Subscribe(conversation));
    }

    /// Stops delivering `conversation`'s events to `room` (if it is still the one subscribed).
    pub fn unsubscribe(&self, conversation: ConversationId, room: &Recipient<RemoteEvent>) {
        let removed = self.inner.rooms.lock().is_ok_and(|mut rooms| {
            if rooms.get(&conversation) == Some(room) {
                rooms.remove(&conversation);
                true
            } else {
                false
            }
        });
        if removed {
            let _ = self
                .inner
                .subscriptions
                .send(Subscription::Unsubscribe(conversation));
        }
    }

    /// A connection for commands, to use on the cluster's runtime.
    fn commands(&self) -> ConnectionManager {
        self.inner.commands.clone()
    }

    /// Runs `f` on the cluster's runtime with a command connection, within the Redis timeout;
    /// callable from any thread or runtime.
    ///
    /// # Errors
    /// Redis failed or did not answer in time.
    pub(crate) async fn run<T, F, Fut>(&self, f: F) -> Result<T, redis::RedisError>
    where
        T: Send + 'static,
        F: FnOnce(ConnectionManager) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Result<T, redis::RedisError>> + Send + 'static,
    {
        let conn = self.commands();
        let task = self
            .inner
            .handle
            .spawn(async move { tokio::time::timeout(REDIS_TIMEOUT, f(conn)).await });
        match task.await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(timeout_error()),
            Err(join) => Err(redis::RedisError::from((
                redis::ErrorKind::Io,
                "redis task failed",
                join.to_string(),
            ))),
        }
    }
}

fn timeout_error() -> redis::RedisError {
    redis::RedisError::from(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        "redis did not answer in time",
    ))
}

impl Inner {
    fn room(&self, conversation: ConversationId) -> Option<Recipient<RemoteEvent>> {
        self.rooms
            .lock()
            .ok()
            .and_then(|rooms| rooms.get(&conversation).cloned())
    }

    fn listeners(&self) -> Option<Listeners> {
        self.listeners.lock().ok().and_then(|l| l.clone())
    }

    fn dispatch(&self, channel: &str, payload: &[u8]) {
        let Some(envelope) = Envelope::decode(payload) else {
            tracing::debug!(channel, "ignored a message that is not a Parlor envelope");
            return;
        };
        if envelope.header.node == self.node {
            return;
        }
        let envelope = Arc::new(envelope);
        if let Some(conversation) = channel_conversation(&self.prefix, channel) {
            if let Some(room) = self.room(conversation) {
                room.do_send(RemoteEvent::Envelope(envelope));
            }
        } else if channel == self.global
            && let Some(listeners) = self.listeners()
        {
            for listener in &listeners.global {
                listener.do_send(GlobalEvent(envelope.clone()));
            }
        }
    }
}
