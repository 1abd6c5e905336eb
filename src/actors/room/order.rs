//! Delivery in order, from this node and from the others.
//!
//! Every change of the conversation (a stored message, an edit, a deletion) goes through the
//! room's [`Sequencer`] before its frames reach the sessions, whether it was committed here
//! (then published for the other nodes) or arrived from another node through Redis. On a single
//! node changes commit in version order and pass straight through. Across nodes they may arrive
//! out of order: a change whose predecessors are missing is held, and after
//! `cluster.gap_fill_ms` the room reads what is missing from the database ([`RoomActor::fill`]),
//! as a `since_version` replay would. Receipts, typing indicators and the close wait for the
//! message they follow. A sender's `ack` for seq N is delivered with N, after N - 1.
//!
//! Handles [`RemoteEvent`] (from the cluster: another node's event, a confirmed subscription,
//! a catch-up after an outage) and [`Behind`] (from the registry's sweep, in cluster mode).

use actix::prelude::*;
use bytestring::ByteString;

use super::join::replayed;
use super::{Origin, RoomActor, RoomState};
use crate::actors::room::event;
use crate::api::Watermarks;
use crate::cluster::envelope::{Effect, Envelope, Event};
use crate::cluster::sequencer::{MAX_HELD, Supersede};
use crate::cluster::{Cluster, RemoteEvent};
use crate::db::models::MessageRow;
use crate::db::queries::{conversations, messages, participants};
use crate::db::{Database, DbError};
use crate::domain::{ConversationId, ConversationStatus, ReceiptKind, SessionId, UserId};
use crate::protocol::{ReceiptEvent, ServerFrame};

/// What one event delivers to this node's sessions.
pub(crate) struct Delivery {
    /// The frame for the members (`None`: an acknowledgement alone).
    pub frame: Option<ByteString>,
    /// A member not to send it to (the sender's own session, which gets the ack instead).
    pub except: Option<SessionId>,
    /// The sender's acknowledgement, when the change was committed here for one of this node's
    /// sessions.
    pub ack: Option<(Origin, ByteString)>,
    /// Whether the acknowledgement goes before the frame (a send: the sender sees its `ack`
    /// for seq N before any later `message:new`) or after it (an edit or deletion: the
    /// members' `message:updated` first, as on a single node).
    pub ack_first: bool,
    /// What it changes in the room's cached state.
    pub effect: Applied,
}

/// A change to the room's cached state, applied as the event is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Applied {
    /// Nothing.
    Nothing,
    /// The conversation reached `version` (and, for a new message, `seq`).
    Version { version: i64, seq: Option<i64> },
    /// A participant's watermark moved.
    Receipt {
        user: UserId,
        kind: ReceiptKind,
        seq: i64,
    },
    /// The conversation closed.
    Closed,
}

impl Supersede for Delivery {
    fn superseded(self) -> Option<Self> {
        self.ack.map(|ack| Self {
            frame: None,
            except: None,
            ack: Some(ack),
            ack_first: true,
            effect: Applied::Nothing,
        })
    }
}

/// The database's version of the conversation, from the registry's periodic sweep (cluster
/// mode): a room behind it for longer than `cluster.gap_fill_ms` reads what it missed, which
/// covers events lost with the node that committed them.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "()")]
pub struct Behind {
    /// The version stored.
    pub version: i64,
}

/// What a read of missing changes found.
struct Read {
    /// The changes: `(version, seq of a new message, row)`.
    rows: Vec<(i64, Option<i64>, MessageRow)>,
    /// The version they reach.
    through: i64,
    /// The conversation's last seq and status.
    last_seq: i64,
    status: ConversationStatus,
    /// Every participant's watermarks, when asked for (a catch-up after an outage).
    marks: Option<Vec<Watermarks>>,
}

impl RoomActor {
    /// The cluster, in cluster mode.
    fn cluster(&self) -> Option<&Cluster> {
        self.deps.cluster.as_ref()
    }

    /// Publishes `event` with `frame` for the other nodes (nothing on a single node).
    pub(super) fn publish(&self, event: Event, frame: &ByteString) {
        if let Some(cluster) = self.cluster() {
            cluster.publish(event, frame.clone());
        }
    }

    /// A change committed here or elsewhere: delivered in version order.
    pub(super) fn sequence_change(
        &mut self,
        version: i64,
        seq: Option<i64>,
        delivery: Delivery,
        ctx: &mut Context<Self>,
    ) {
        let ready = self.sequencer.change(version, seq, delivery);
        self.deliver(ready, ctx);
        self.watch_gaps(ctx);
    }

    /// An event that follows message `seq` (0: none).
    pub(super) fn sequence_after(&mut self, seq: i64, delivery: Delivery, ctx: &mut Context<Self>) {
        let ready = self.sequencer.after(seq, delivery);
        self.deliver(ready, ctx);
        self.watch_gaps(ctx);
    }

    /// Sends what the sequencer released, applying each event to the cached state first.
    fn deliver(&mut self, items: Vec<Delivery>, ctx: &mut Context<Self>) {
        for item in items {
            let mut closed = false;
            if let RoomState::Ready(loaded) = &mut self.state {
                match item.effect {
                    Applied::Nothing => {}
                    Applied::Version { version, seq } => {
                        loaded.version = loaded.version.max(version);
                        if let Some(seq) = seq {
                            loaded.last_seq = loaded.last_seq.max(seq);
                        }
                    }
                    Applied::Receipt { user, kind, seq } => {
                        let cached = loaded.participants.entry(user).or_default();
                        match kind {
                            ReceiptKind::Delivered => cached.delivered = cached.delivered.max(seq),
                            ReceiptKind::Read => {
                                cached.read = cached.read.max(seq);
                                cached.delivered = cached.delivered.max(seq);
                            }
                        }
                        let announced = self.announced.entry((user, kind)).or_insert(0);
                        *announced = (*announced).max(seq);
                    }
                    Applied::Closed => {
                        closed = loaded.status != ConversationStatus::Closed;
                        loaded.status = ConversationStatus::Closed;
                    }
                }
            }
            if closed {
                self.stop_all_typing(ctx);
            }
            let (ack, ack_first) = (item.ack, item.ack_first);
            if ack_first && let Some((origin, ack)) = &ack {
                self.send_to(origin, ack.clone());
            }
            if let Some(frame) = item.frame {
                self.broadcast(&frame, item.except);
            }
            if !ack_first && let Some((origin, ack)) = ack {
                self.send_to(&origin, ack);
            }
        }
    }

    /// Arms the read of missing changes when something waits for them, or the database is
    /// known to be ahead; disarms it when nothing does.
    fn watch_gaps(&mut self, ctx: &mut Context<Self>) {
        let behind = self.sequencer.stalled() || self.known_version > self.sequencer.version();
        if !behind {
            if let Some(timer) = self.gap_timer.take() {
                ctx.cancel_future(timer);
            }
            return;
        }
        if self.sequencer.len() > MAX_HELD {
            self.fill(ctx);
            return;
        }
        if self.gap_timer.is_none() && !self.filling {
            let wait = self.deps.config.gap_fill;
            self.gap_timer = Some(ctx.run_later(wait, |room, ctx| {
                room.gap_timer = None;
                room.fill(ctx);
            }));
        }
    }

    /// Reads every change after the delivered version from the database and delivers it, as a
    /// `since_version` replay would; then what was held behind it follows. More than
    /// `realtime.max_replay` changes behind, the room starts again from the database's state
    /// and tells its sessions to `resync`.
    pub(super) fn fill(&mut self, ctx: &mut Context<Self>) {
        if self.filling || !matches!(self.state, RoomState::Ready(_)) {
            return;
        }
        if let Some(timer) = self.gap_timer.take() {
            ctx.cancel_future(timer);
        }
        self.filling = true;
        self.in_flight += 1;
        let (db, id) = (self.deps.db.clone(), self.id);
        let after = self.sequencer.version();
        let limit = self.deps.config.max_replay;
        let with_marks = self.catching_up;
        let read = read_changes(db, id, after, limit, with_marks);
        ctx.spawn(read.into_actor(self).map(move |read, room, ctx| {
            room.in_flight -= 1;
            room.filling = false;
            match read {
                Ok(Some(Read {
                    rows,
                    through,
                    last_seq,
                    status,
                    marks,
                })) => {
                    let links = room.deps.links.clone();
                    let items = rows
                        .into_iter()
                        .map(|(version, seq, row)| {
                            let frame = event(&replayed(row, Some(after), &links));
                            let delivery = Delivery {
                                frame: Some(frame),
                                except: None,
                                ack: None,
                                ack_first: true,
                                effect: Applied::Version { version, seq },
                            };
                            (version, seq, delivery)
                        })
                        .collect();
                    let ready = room.sequencer.fill(items, through);
                    room.deliver(ready, ctx);
                    room.catch_status(status, last_seq, ctx);
                    if let Some(marks) = marks {
                        room.catch_receipts(marks, ctx);
                    }
                    if room.catching_up {
                        if with_marks {
                            room.catching_up = false;
                            room.resync_members(ctx);
                        } else {
                            // A read that started before the catch-up: read again, marks too.
                            room.fill(ctx);
                        }
                    }
                }
                Ok(None) => room.resync(ctx),
                Err(err) => {
                    tracing::warn!(conversation_id = %room.id, error = ?err, "gap fill failed");
                }
            }
            room.watch_gaps(ctx);
        }));
    }

    /// A node is back from a Redis outage: read what was missed (watermarks included), deliver
    /// it, then tell the members to `resync` for what cannot be read back (typing indicators).
    fn catch_up(&mut self, ctx: &mut Context<Self>) {
        self.catching_up = true;
        self.fill(ctx);
        if !self.filling {
            // Not loaded yet: nothing was delivered from it, so nothing was missed.
            self.catching_up = false;
            self.resync_members(ctx);
        }
    }

    /// Receipts the room missed (their events lost): announced from the stored watermarks.
    fn catch_receipts(&mut self, marks: Vec<Watermarks>, ctx: &mut Context<Self>) {
        let RoomState::Ready(loaded) = &self.state else {
            return;
        };
        let mut missed = Vec::new();
        for mark in marks {
            let cached = loaded
                .participants
                .get(&mark.user_id)
                .copied()
                .unwrap_or_default();
            if mark.last_delivered_seq > cached.delivered {
                missed.push((
                    mark.user_id,
                    ReceiptKind::Delivered,
                    mark.last_delivered_seq,
                ));
            }
            if mark.last_read_seq > cached.read {
                missed.push((mark.user_id, ReceiptKind::Read, mark.last_read_seq));
            }
        }
        for (user, kind, seq) in missed {
            let data = ReceiptEvent {
                conversation_id: self.id,
                user_id: user,
                seq,
            };
            let frame = event(&match kind {
                ReceiptKind::Delivered => ServerFrame::Delivered { data },
                ReceiptKind::Read => ServerFrame::Read { data },
            });
            let delivery = Delivery {
                frame: Some(frame),
                except: None,
                ack: None,
                ack_first: true,
                effect: Applied::Receipt { user, kind, seq },
            };
            self.sequence_after(seq, delivery, ctx);
        }
    }

    /// A close the room missed (its event lost): learnt from the database.
    fn catch_status(&mut self, status: ConversationStatus, last_seq: i64, ctx: &mut Context<Self>) {
        if status == ConversationStatus::Closed && !self.is_closed() {
            let frame = event(&ServerFrame::ConversationClosed {
                data: crate::protocol::ClosedEvent {
                    conversation_id: self.id,
                    closed_by: None,
                    closed_at: None,
                },
            });
            let delivery = Delivery {
                frame: Some(frame),
                except: None,
                ack: None,
                ack_first: true,
                effect: Applied::Closed,
            };
            self.sequence_after(last_seq, delivery, ctx);
        }
    }

    /// Too far behind to catch up by events: start again from the database and have every
    /// member rejoin with `since_seq` ([`RoomActor::resync_members`]).
    fn resync(&mut self, ctx: &mut Context<Self>) {
        self.in_flight += 1;
        let (db, id) = (self.deps.db.clone(), self.id);
        let load = async move {
            let mut conn = db.read().await?;
            conversations::find(&mut conn, id).await
        };
        ctx.spawn(load.into_actor(self).map(|row, room, ctx| {
            room.in_flight -= 1;
            let Ok(Some(row)) = row else {
                return;
            };
            let remnants = room.sequencer.reset(row.version, row.last_seq);
            room.catching_up = false;
            if let RoomState::Ready(loaded) = &mut room.state {
                loaded.version = row.version;
                loaded.last_seq = row.last_seq;
                loaded.status = row.status();
            }
            room.deliver(remnants, ctx);
            room.resync_members(ctx);
        }));
    }

    /// Another node's event.
    fn remote(&mut self, envelope: &Envelope, ctx: &mut Context<Self>) {
        let frame = (!envelope.frame.is_empty()).then(|| envelope.frame.clone());
        match envelope.header.event {
            Event::Message { version, seq, .. } => {
                let delivery = Delivery {
                    frame,
                    except: None,
                    ack: None,
                    ack_first: true,
                    effect: Applied::Version { version, seq },
                };
                self.known_version = self.known_version.max(version);
                self.sequence_change(version, seq, delivery, ctx);
            }
            Event::After { seq, effect, .. } => {
                let effect = match effect {
                    Effect::None => Applied::Nothing,
                    Effect::Receipt {
                        user_id,
                        receipt,
                        seq,
                    } => Applied::Receipt {
                        user: user_id,
                        kind: receipt,
                        seq,
                    },
                    Effect::Closed => Applied::Closed,
                };
                let delivery = Delivery {
                    frame,
                    except: None,
                    ack: None,
                    ack_first: true,
                    effect,
                };
                self.sequence_after(seq, delivery, ctx);
            }
            Event::Presence { .. } | Event::EndSessions { .. } | Event::CatchUp => {}
        }
    }
}

/// Reads the changes after version `after` (and every participant's watermarks, `with_marks`):
/// `None` when there are more than `limit`.
async fn read_changes(
    db: Database,
    id: ConversationId,
    after: i64,
    limit: i64,
    with_marks: bool,
) -> Result<Option<Read>, DbError> {
    const PAGE: i64 = 200;
    let mut conn = db.read().await?;
    let Some(conversation) = conversations::find(&mut conn, id).await? else {
        return Ok(Some(Read {
            rows: Vec::new(),
            through: after,
            last_seq: 0,
            status: ConversationStatus::Open,
            marks: None,
        }));
    };
    let until = conversation.version;
    let mut rows = Vec::new();
    if until > after {
        // Changes in (after, until], by version.
        let mut cursor = after;
        loop {
            let page = messages::changed_since(&mut conn, id, cursor, until, PAGE).await?;
            let full = i64::try_from(page.len()).unwrap_or(i64::MAX) >= PAGE;
            for row in page {
                cursor = row.version;
                let seq = (row.created_version > after).then_some(row.seq);
                rows.push((row.version, seq, row));
            }
            if i64::try_from(rows.len()).unwrap_or(i64::MAX) > limit {
                return Ok(None);
            }
            if !full {
                break;
            }
        }
        // Messages stored in (after, until] and changed again since: new to the sessions,
        // ordered by when they were stored; their later change arrives as an event.
        let mut cursor = after;
        loop {
            let page =
                messages::stored_then_changed(&mut conn, id, (after, until), cursor, PAGE).await?;
            let full = i64::try_from(page.len()).unwrap_or(i64::MAX) >= PAGE;
            for row in page {
                cursor = row.version;
                rows.push((row.created_version, Some(row.seq), row));
            }
            if i64::try_from(rows.len()).unwrap_or(i64::MAX) > limit {
                return Ok(None);
            }
            if !full {
                break;
            }
        }
    }
    let marks = if with_marks {
        Some(participants::of_conversation(&mut conn, id).await?)
    } else {
        None
    };
    Ok(Some(Read {
        rows,
        through: until.max(after),
        last_seq: conversation.last_seq,
        status: conversation.status(),
        marks,
    }))
}

impl Handler<RemoteEvent> for RoomActor {
    type Result = ();

    fn handle(&mut self, msg: RemoteEvent, ctx: &mut Self::Context) {
        match msg {
            RemoteEvent::Envelope(envelope) => self.remote(&envelope, ctx),
            RemoteEvent::Subscribed => self.fill(ctx),
            RemoteEvent::CatchUp => self.catch_up(ctx),
        }
    }
}

impl Handler<Behind> for RoomActor {
    type Result = ();

    fn handle(&mut self, msg: Behind, ctx: &mut Self::Context) {
        self.known_version = self.known_version.max(msg.version);
        self.watch_gaps(ctx);
    }
}
