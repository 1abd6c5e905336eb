//! Joining and leaving: subscribe a session, first replaying what it missed.
//!
//! A replay is bounded and streamed: at most `realtime.max_replay` messages (the newest of the
//! range; the ack then says `truncated`), read page by page and sent at the client's pace
//! ([`Outbox::drained`]), never collected whole. Live events for the joining session wait in
//! its `held` buffer meanwhile, counted against its `realtime.max_queued_bytes`, and follow the
//! ack, so the session sees every change exactly once.

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use actix::prelude::*;

use super::{Held, Join, Leave, Member, RoomActor, Since, event};
use crate::actors::{Frame, Outbox};
use crate::api::{DownloadLinks, Extras};
use crate::db::models::MessageRow;
use crate::db::queries::extras;
use crate::db::queries::messages::{self, PageRequest};
use crate::db::{Database, DbError};
use crate::domain::{ConversationId, SessionId, UserId};
use crate::error::AppError;
use crate::policy::Action;
use crate::protocol::{
    self, Ack, JoinAck, MessageDeleted, MessagePayload, ResyncEvent, ServerFrame,
};

/// Messages read per page of a replay.
const REPLAY_PAGE: i64 = 200;

/// What a replay sends, decided at join time.
#[derive(Debug, Clone, Copy)]
enum Replay {
    /// Messages with seq in `first..=last`.
    Seqs { first: i64, last: i64 },
    /// Messages changed after version `after`, up to `until`; those stored after `since` are
    /// new to the client.
    Versions { since: i64, after: i64, until: i64 },
}

/// The part of a `since_version` replay being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Changes in `(after, until]`, by version.
    Changes,
    /// Messages stored in `(after, until]` and changed again after `until`: their later change
    /// is held as a live `message:updated`, so they are replayed here, as new, first.
    StoredThenChanged,
}

/// The frame that tells a client of `row`'s current state (with its `extras`) when it had
/// everything up to version `since` (`None`: it had nothing of it, since_seq).
pub(super) fn replayed<'a>(
    row: MessageRow,
    extras: Extras,
    since: Option<i64>,
    links: &DownloadLinks,
) -> ServerFrame<'a> {
    let known = since.is_some_and(|since| row.created_version <= since);
    if known && row.deleted_at.is_some() {
        return ServerFrame::MessageDeleted {
            data: MessageDeleted {
                conversation_id: row.conversation_id,
                message_id: row.id,
                seq: row.seq,
                version: row.version,
            },
        };
    }
    let private = row.private;
    let data = MessagePayload {
        message: Cow::Owned(row.into_view(links).with_extras(extras)),
    };
    match (known, private) {
        (true, _) => ServerFrame::MessageUpdated { data },
        (false, true) => ServerFrame::NoteNew { data },
        (false, false) => ServerFrame::MessageNew { data },
    }
}

/// Streams `replay` into `outbox` (reactions' `me` for `viewer`; internal notes only when
/// `staff`); answers the first seq or version sent.
async fn stream(
    db: Database,
    id: ConversationId,
    replay: Replay,
    (outbox, viewer, staff): (Outbox, UserId, bool),
    links: DownloadLinks,
    cancel: Arc<AtomicBool>,
) -> Result<Option<i64>, DbError> {
    let mut first = None;
    let (mut cursor, since) = match replay {
        Replay::Seqs { first, .. } => (first - 1, None),
        Replay::Versions { since, after, .. } => (after, Some(since)),
    };
    let mut phase = Phase::Changes;
    loop {
        outbox.drained().await;
        if cancel.load(Ordering::Relaxed) || !outbox.connected() {
            return Ok(first);
        }
        let (page, mut extras) = {
            let mut conn = db.read().await?;
            let page = match replay {
                Replay::Seqs { last, .. } => {
                    let request = PageRequest {
                        before_seq: Some(last + 1),
                        after_seq: Some(cursor),
                        limit: REPLAY_PAGE,
                        // Skipped below for customers, so `first` counts them.
                        notes: true,
                    };
                    messages::page(&mut conn, id, request).await?
                }
                Replay::Versions { until, .. } if phase == Phase::Changes => {
                    messages::changed_since(&mut conn, id, cursor, until, REPLAY_PAGE).await?
                }
                Replay::Versions { after, until, .. } => {
                    let stored = (after, until);
                    messages::stored_then_changed(&mut conn, id, stored, cursor, REPLAY_PAGE)
                        .await?
                }
            };
            let extras = extras::load(&mut conn, &page, Some(viewer)).await?;
            (page, extras)
        };
        let full = i64::try_from(page.len()).unwrap_or(i64::MAX) >= REPLAY_PAGE;
        let Some(last) = page.last() else {
            if let (Replay::Versions { until, .. }, Phase::Changes) = (replay, phase) {
                (phase, cursor) = (Phase::StoredThenChanged, until);
                continue;
            }
            return Ok(first);
        };
        cursor = match replay {
            Replay::Seqs { .. } => last.seq,
            Replay::Versions { .. } => last.version,
        };
        for row in page {
            first.get_or_insert(match replay {
                Replay::Seqs { .. } => row.seq,
                Replay::Versions { .. } => row.version,
            });
            if row.private && !staff {
                continue;
            }
            let more = extras.remove(&row.id).unwrap_or_default();
            outbox.replay(protocol::encode(&replayed(row, more, since, &links)).into());
        }
        if !full {
            match (replay, phase) {
                (Replay::Versions { until, .. }, Phase::Changes) => {
                    (phase, cursor) = (Phase::StoredThenChanged, until);
                }
                _ => return Ok(first),
            }
        }
    }
}

impl RoomActor {
    /// Decides what a join from `since` replays: `None` for nothing, else the replay and
    /// whether it was cut to `realtime.max_replay`.
    async fn plan(
        db: Database,
        id: ConversationId,
        since: Since,
        last_seq: i64,
        version: i64,
        max_replay: i64,
    ) -> Result<Option<(Replay, bool)>, DbError> {
        match since {
            Since::Now => Ok(None),
            Since::Seq(since) => {
                let since = since.max(0);
                if since >= last_seq {
                    return Ok(None);
                }
                let first = (since + 1).max(last_seq - max_replay + 1);
                Ok(Some((
                    Replay::Seqs {
                        first,
                        last: last_seq,
                    },
                    first > since + 1,
                )))
            }
            Since::Version(since) => {
                let since = since.max(0);
                if since >= version {
                    return Ok(None);
                }
                let mut conn = db.read().await?;
                let cut = messages::version_before_newest(&mut conn, id, since, max_replay).await?;
                let replay = Replay::Versions {
                    since,
                    after: cut.unwrap_or(since),
                    until: version,
                };
                Ok(Some((replay, cut.is_some())))
            }
        }
    }
}

impl Handler<Join> for RoomActor {
    type Result = Result<(), AppError>;

    fn handle(&mut self, msg: Join, ctx: &mut Self::Context) -> Self::Result {
        self.allow(&msg.actor, Action::Join)?;
        let origin = msg.origin;
        if self
            .members
            .get(&origin.session_id)
            .is_some_and(|m| m.held.is_some())
        {
            return Err(AppError::BadRequest(
                "an earlier join of this conversation is still replaying; wait for its ack".into(),
            ));
        }
        let (last_seq, version) = self.loaded().map(|l| (l.last_seq, l.version))?;
        let mut ack = JoinAck {
            conversation_id: self.id,
            last_seq,
            version,
            truncated: false,
            first_seq: None,
            first_version: None,
        };
        if msg.since == Since::Now {
            origin
                .outbox
                .answer(protocol::ack(origin.reference.as_deref(), Ack::Joined(ack)).into());
            self.members.insert(
                origin.session_id,
                Member::live(msg.actor.user_id, msg.actor.role.is_staff(), origin.outbox),
            );
            return Ok(());
        }
        // Live frames for this session wait in `held` until the replay is out, so the client
        // sees no gap and no duplicate.
        let cancel = Arc::new(AtomicBool::new(false));
        let member = Member {
            user_id: msg.actor.user_id,
            staff: msg.actor.role.is_staff(),
            outbox: origin.outbox.clone(),
            held: Some(Held::default()),
            cancel: cancel.clone(),
        };
        self.members.insert(origin.session_id, member);
        self.in_flight += 1;
        let (db, id, links) = (self.deps.db.clone(), self.id, self.deps.links.clone());
        let max_replay = self.deps.config.max_replay;
        let viewer = (
            origin.outbox.clone(),
            msg.actor.user_id,
            msg.actor.role.is_staff(),
        );
        let by_version = matches!(msg.since, Since::Version(_));
        let since = msg.since;
        let replay = async move {
            let Some((replay, truncated)) =
                Self::plan(db.clone(), id, since, last_seq, version, max_replay).await?
            else {
                return Ok((None, false));
            };
            let first = stream(db, id, replay, viewer, links, cancel).await?;
            Ok::<_, DbError>((first, truncated))
        };
        let session_id = origin.session_id;
        ctx.spawn(replay.into_actor(self).map(move |result, room, _| {
            room.in_flight -= 1;
            let reference = origin.reference.as_deref();
            let Some(member) = room.members.get_mut(&session_id) else {
                // Left during the replay: the join still gets its answer.
                origin
                    .outbox
                    .answer(protocol::ack(reference, Ack::Joined(ack)).into());
                return;
            };
            let held = member.held.take().unwrap_or_default();
            match result {
                Ok((first, truncated)) => {
                    if truncated {
                        ack.truncated = true;
                        if by_version {
                            ack.first_version = first;
                        } else {
                            ack.first_seq = first;
                        }
                    }
                    member
                        .outbox
                        .answer(protocol::ack(reference, Ack::Joined(ack)).into());
                    held.release(&member.outbox);
                }
                Err(err) => {
                    tracing::warn!(conversation_id = %room.id, error = ?err, "replay failed");
                    let error =
                        AppError::Unavailable("could not replay history; join again".into());
                    member
                        .outbox
                        .answer(protocol::error(reference, &error).into());
                    room.members.remove(&session_id);
                }
            }
        }));
        Ok(())
    }
}

impl RoomActor {
    /// Detaches every session of `user` (no longer a participant): they get nothing more from
    /// this room until they join again, which the policy refuses while they are not a
    /// participant.
    pub(super) fn detach_user(&mut self, user: UserId, ctx: &mut Context<Self>) {
        let sessions: Vec<SessionId> = self
            .members
            .iter()
            .filter(|(_, m)| m.user_id == user)
            .map(|(id, _)| *id)
            .collect();
        for session_id in sessions {
            self.detach(session_id, ctx);
        }
        self.stop_typing(user, ctx);
    }

    /// Removes `session_id` from the members (stopping its replay) and ends its typing
    /// indicators; returns the member it was.
    fn detach(&mut self, session_id: SessionId, ctx: &mut Context<Self>) -> Option<Member> {
        let member = self.members.remove(&session_id);
        if let Some(member) = &member {
            member.cancel.store(true, Ordering::Relaxed);
        }
        let gone: Vec<UserId> = self
            .typing
            .iter()
            .filter(|(_, t)| t.session_id == session_id)
            .map(|(user, _)| *user)
            .collect();
        for user in gone {
            self.stop_typing(user, ctx);
        }
        member
    }

    /// Detaches every member and sends each `resync {conversation_id}` (docs/PROTOCOL.md
    /// §5.5): it is the last frame of this conversation a session gets until it joins again,
    /// so a rejoin with `since_seq` (the last seq it saw) replays exactly what it missed, with
    /// no live frame in flight to repeat it.
    pub(super) fn resync_members(&mut self, ctx: &mut Context<Self>) {
        let frame = Frame::from(event(&ServerFrame::Resync {
            data: ResyncEvent {
                conversation_id: self.id,
            },
        }));
        let sessions: Vec<SessionId> = self.members.keys().copied().collect();
        for session_id in sessions {
            if let Some(member) = self.detach(session_id, ctx) {
                member.outbox.send(frame.clone());
            }
        }
    }
}

impl Handler<Leave> for RoomActor {
    type Result = ();

    fn handle(&mut self, msg: Leave, ctx: &mut Self::Context) {
        self.detach(msg.session_id, ctx);
    }
}
