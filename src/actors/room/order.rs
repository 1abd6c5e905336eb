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

use super::{Origin, RoomActor, RoomState};
use crate::actors::Frame;
use crate::cluster::envelope::{Effect, Envelope, Event};
use crate::cluster::sequencer::{MAX_HELD, Supersede};
use crate::cluster::{Cluster, RemoteEvent};
use crate::domain::{
    ConversationKind, ConversationStatus, MemberRole, ReceiptKind, SessionId, UserId,
};

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
    /// Which members get the frame.
    pub audience: Audience,
}

/// Which joined sessions get an event's frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Audience {
    /// Every member (but the delivery's `except`).
    All,
    /// Agents' and admins' sessions only: internal notes.
    Staff,
    /// Everyone but this user's sessions (who are told through presence, on every node).
    AllBut(UserId),
}

impl Audience {
    /// Who sees a change of `message`: the team only for an internal note.
    pub(crate) fn of(message: &crate::api::MessageView) -> Self {
        if message.private {
            Self::Staff
        } else {
            Self::All
        }
    }
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
    /// A support conversation's status changed.
    Status(ConversationStatus),
    /// A user joined the participants or got a new role (`Some`), or left them (`None`: then
    /// their sessions are detached).
    Participant {
        user: UserId,
        role: Option<MemberRole>,
    },
}

impl From<Effect> for Applied {
    /// What another node's `after` event changes in this room's state (an assignment changes
    /// only who hears of it: [`Audience::AllBut`]).
    fn from(effect: Effect) -> Self {
        match effect {
            Effect::None | Effect::Assigned { .. } => Self::Nothing,
            Effect::Receipt {
                user_id,
                receipt,
                seq,
            } => Self::Receipt {
                user: user_id,
                kind: receipt,
                seq,
            },
            Effect::Closed => Self::Closed,
            Effect::Status { status } => Self::Status(status),
            Effect::Participant { user_id, role } => Self::Participant {
                user: user_id,
                role,
            },
        }
    }
}

impl Supersede for Delivery {
    fn superseded(self) -> Option<Self> {
        self.ack.map(|ack| Self {
            frame: None,
            except: None,
            ack: Some(ack),
            ack_first: true,
            audience: Audience::All,
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
    pub(super) fn deliver(&mut self, items: Vec<Delivery>, ctx: &mut Context<Self>) {
        for item in items {
            let mut closed = false;
            let mut removed = None;
            // A channel's followers coming and going concern its staff and themselves only:
            // telling every follower of every other one would be O(followers²) frames.
            let mut staff_and = None;
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
                    Applied::Status(status) => loaded.status = status,
                    Applied::Participant {
                        user,
                        role: Some(role),
                    } => {
                        let before = loaded.participants.get(&user).map(|m| m.role);
                        if loaded.kind == ConversationKind::Channel
                            && role == MemberRole::Follower
                            && before.is_none_or(|r| r == MemberRole::Follower)
                        {
                            staff_and = Some(user);
                        }
                        loaded.participants.entry(user).or_default().role = role;
                    }
                    Applied::Participant { user, role: None } => {
                        let before = loaded.participants.remove(&user).map(|m| m.role);
                        if loaded.kind == ConversationKind::Channel
                            && before == Some(MemberRole::Follower)
                        {
                            staff_and = Some(user);
                        }
                        removed = Some(user);
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
            match (item.frame, staff_and, item.audience) {
                (Some(frame), Some(user), _) => self.tell_staff_and(&frame, user),
                (Some(frame), None, audience) => self.tell(&frame, item.except, audience),
                (None, _, _) => {}
            }
            if !ack_first && let Some((origin, ack)) = ack {
                self.send_to(&origin, ack);
            }
            // The removed user's sessions got the frame above, their last of this room.
            if let Some(user) = removed {
                self.detach_user(user, ctx);
            }
        }
    }

    /// Sends `json` to the members in `audience` but `except`, framed once for all of them.
    pub(super) fn tell(
        &mut self,
        json: &ByteString,
        except: Option<SessionId>,
        audience: Audience,
    ) {
        let frame = Frame::from(json);
        for (id, member) in &mut self.members {
            let wanted = match audience {
                Audience::All => true,
                Audience::Staff => member.staff,
                Audience::AllBut(user) => member.user_id != user,
            };
            if wanted && Some(*id) != except {
                member.send(frame.clone());
            }
        }
    }

    /// Sends `frame` to the joined sessions of `user` and of the participants who moderate
    /// (owners, admins, moderators).
    fn tell_staff_and(&mut self, json: &ByteString, user: UserId) {
        let RoomState::Ready(loaded) = &self.state else {
            return;
        };
        let frame = Frame::from(json);
        for member in self.members.values_mut() {
            let staff = loaded
                .participants
                .get(&member.user_id)
                .is_some_and(|m| m.role >= MemberRole::Moderator);
            if staff || member.user_id == user {
                member.send(frame.clone());
            }
        }
    }

    /// Arms the read of missing changes when something waits for them, or the database is
    /// known to be ahead; disarms it when nothing does.
    pub(super) fn watch_gaps(&mut self, ctx: &mut Context<Self>) {
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
    /// Another node's event.
    fn remote(&mut self, envelope: &Envelope, ctx: &mut Context<Self>) {
        let frame = (!envelope.frame.is_empty()).then(|| envelope.frame.clone());
        match envelope.header.event {
            Event::Message {
                version,
                seq,
                private,
                ..
            } => {
                let delivery = Delivery {
                    frame,
                    except: None,
                    ack: None,
                    ack_first: true,
                    audience: if private {
                        Audience::Staff
                    } else {
                        Audience::All
                    },
                    effect: Applied::Version { version, seq },
                };
                self.known_version = self.known_version.max(version);
                self.sequence_change(version, seq, delivery, ctx);
            }
            Event::After { seq, effect, .. } => {
                let audience = match effect {
                    Effect::Assigned {
                        assignee_id: Some(user),
                    } => Audience::AllBut(user),
                    _ => Audience::All,
                };
                let effect = Applied::from(effect);
                let delivery = Delivery {
                    frame,
                    except: None,
                    ack: None,
                    ack_first: true,
                    audience,
                    effect,
                };
                self.sequence_after(seq, delivery, ctx);
            }
            Event::Presence { .. }
            | Event::EndSessions { .. }
            | Event::TokensRevoked { .. }
            | Event::ProjectSettings { .. }
            | Event::Notify { .. }
            | Event::CatchUp => {}
        }
    }
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
