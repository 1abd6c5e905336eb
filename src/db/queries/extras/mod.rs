//! What a message carries besides its row ([`Extras`]): the message it replies to, its
//! mentions, its reactions and its pin. Read here for whole pages of messages at once, on the
//! async read pool ([`load`]) or, inside the writer's transaction, on a write connection
//! ([`load_blocking`]): each piece is one query per page whatever its size, and none runs when
//! no message of the page can have that piece (no reply, no `@` in any text).
//!
//! Also the reads of the counts and lists they make: the unread mentions of a user
//! ([`unread_mentions`]) and a conversation's pins ([`pins_page`]). The writes are
//! [`mentions`] (resolved and stored with the message) and
//! [`annotate`](super::messages::annotate) (reactions and pins, sequenced like edits).

pub mod mentions;

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::{
    BoolExpressionMethods, ExpressionMethods, JoinOnDsl, QueryDsl, SelectableHelper,
};

use crate::api::{DownloadLinks, Extras, MessageView, ReactionCount, ReplyPreview};
use crate::db::models::MessageRow;
use crate::db::schema::{mentions as mention_rows, messages, participants, pins, reactions};
use crate::db::{DbConnection, DbError, ReadConn, on_conn, on_read};
use crate::domain::{ConversationId, MessageId, UserId};

/// Loads a query's rows on a write connection.
macro_rules! load_blocking {
    ($conn:expr, $query:expr) => {
        on_conn!($conn, c => diesel::RunQueryDsl::load($query, c))
    };
}

/// Loads a query's rows on a read connection.
macro_rules! load_async {
    ($conn:expr, $query:expr) => {
        on_read!($conn, c => diesel_async::RunQueryDsl::load($query, c).await)
    };
}

/// A replied-to message: id, seq, sender, text, deletion time.
type Target = (MessageId, i64, UserId, String, Option<NaiveDateTime>);

/// The body of [`load`] and [`load_blocking`], once for both: `$load` runs a query.
macro_rules! fetch_extras {
    ($load:ident, $conn:ident, $rows:ident, $viewer:ident) => {{
        let mut out: HashMap<MessageId, Extras> = HashMap::new();
        let mut targets: Vec<MessageId> = $rows.iter().filter_map(|r| r.reply_to_id).collect();
        targets.sort_unstable();
        targets.dedup();
        if !targets.is_empty() {
            let found: Vec<Target> = $load!(
                $conn,
                messages::table
                    .filter(messages::id.eq_any(&targets))
                    .select((
                        messages::id,
                        messages::seq,
                        messages::sender_id,
                        messages::content,
                        messages::deleted_at,
                    ))
            )?;
            let found: HashMap<MessageId, ReplyPreview> = found
                .into_iter()
                .map(|(id, seq, sender, text, deleted)| {
                    (
                        id,
                        ReplyPreview::new(id, seq, sender, &text, deleted.is_some()),
                    )
                })
                .collect();
            for row in $rows {
                if let Some(target) = row.reply_to_id.and_then(|t| found.get(&t)) {
                    out.entry(row.id).or_default().reply_to = Some(target.clone());
                }
            }
        }
        // Only a text with an `@` can mention anyone; tombstones have no text.
        let mentioning: Vec<MessageId> = $rows
            .iter()
            .filter(|r| r.content.contains('@'))
            .map(|r| r.id)
            .collect();
        if !mentioning.is_empty() {
            let found: Vec<(MessageId, UserId)> = $load!(
                $conn,
                mention_rows::table
                    .filter(mention_rows::message_id.eq_any(&mentioning))
                    .filter(mention_rows::named.eq(true))
                    .select((mention_rows::message_id, mention_rows::user_id))
                    .order((mention_rows::message_id, mention_rows::user_id))
            )?;
            for (message, user) in found {
                out.entry(message).or_default().mentions.push(user);
            }
        }
        let live: Vec<MessageId> = $rows
            .iter()
            .filter(|r| r.deleted_at.is_none())
            .map(|r| r.id)
            .collect();
        if !live.is_empty() {
            let counts: Vec<(MessageId, String, i64, Option<i64>)> = $load!(
                $conn,
                reactions::table
                    .filter(reactions::message_id.eq_any(&live))
                    .group_by((reactions::message_id, reactions::emoji))
                    .select((
                        reactions::message_id,
                        reactions::emoji,
                        diesel::dsl::count_star(),
                        diesel::dsl::min(reactions::id),
                    ))
            )?;
            let mine: HashSet<(MessageId, String)> = match $viewer {
                Some(viewer) if !counts.is_empty() => {
                    let rows: Vec<(MessageId, String)> = $load!(
                        $conn,
                        reactions::table
                            .filter(reactions::message_id.eq_any(&live))
                            .filter(reactions::user_id.eq(viewer))
                            .select((reactions::message_id, reactions::emoji))
                    )?;
                    rows.into_iter().collect()
                }
                _ => HashSet::new(),
            };
            let mut counts = counts;
            counts.sort_by_key(|(message, _, _, first)| (*message, *first));
            for (message, emoji, count, _) in counts {
                let me = $viewer.map(|_| mine.contains(&(message, emoji.clone())));
                let reaction = ReactionCount { emoji, count, me };
                out.entry(message).or_default().reactions.push(reaction);
            }
            let pinned: Vec<MessageId> = $load!(
                $conn,
                pins::table
                    .filter(pins::message_id.eq_any(&live))
                    .select(pins::message_id)
            )?;
            for message in pinned {
                out.entry(message).or_default().pinned = true;
            }
        }
        Ok(out)
    }};
}

/// The extras of `rows` (at most a page: 500), by message, with `me` of each reaction said for
/// `viewer` (`None`: for no one in particular, `me` null).
///
/// # Errors
/// A query failure.
pub async fn load(
    conn: &mut ReadConn,
    rows: &[MessageRow],
    viewer: Option<UserId>,
) -> Result<HashMap<MessageId, Extras>, DbError> {
    fetch_extras!(load_async, conn, rows, viewer)
}

/// [`load`] on a write connection, inside the writer's transaction.
///
/// # Errors
/// A query failure.
pub fn load_blocking(
    conn: &mut DbConnection,
    rows: &[MessageRow],
    viewer: Option<UserId>,
) -> Result<HashMap<MessageId, Extras>, DbError> {
    fetch_extras!(load_blocking, conn, rows, viewer)
}

/// The views of `rows`, with their extras from `extras`.
pub fn views(
    rows: Vec<MessageRow>,
    links: &DownloadLinks,
    mut extras: HashMap<MessageId, Extras>,
) -> Vec<MessageView> {
    rows.into_iter()
        .map(|row| {
            let more = extras.remove(&row.id).unwrap_or_default();
            row.into_view(links).with_extras(more)
        })
        .collect()
}

/// The views of `rows` with their extras read for `viewer`.
///
/// # Errors
/// A query failure.
pub async fn views_for(
    conn: &mut ReadConn,
    rows: Vec<MessageRow>,
    viewer: Option<UserId>,
    links: &DownloadLinks,
) -> Result<Vec<MessageView>, DbError> {
    let extras = load(conn, &rows, viewer).await?;
    Ok(views(rows, links, extras))
}

/// The message `sender` stored in `conversation` with `client_msg_id`, if any, with its extras
/// (reactions' `me` for the sender): what a retried send answers.
///
/// # Errors
/// A query failure.
pub async fn retried(
    conn: &mut ReadConn,
    conversation: ConversationId,
    sender: UserId,
    client_msg_id: &str,
    links: &DownloadLinks,
) -> Result<Option<MessageView>, DbError> {
    let row =
        super::messages::find_by_client_msg_id(conn, conversation, sender, client_msg_id).await?;
    let mut found = views_for(conn, row.into_iter().collect(), Some(sender), links).await?;
    Ok(found.pop())
}

/// The unread mentions of `user` by conversation: mentions of them in messages with a seq above
/// their read watermark, in the conversations they take part in (only `only` when given).
/// Conversations without any are absent. A range of the index `mentions_user` per
/// conversation.
///
/// # Errors
/// A query failure.
pub async fn unread_mentions(
    conn: &mut ReadConn,
    user: UserId,
    only: Option<ConversationId>,
) -> Result<BTreeMap<ConversationId, i64>, DbError> {
    let query = mention_rows::table
        .inner_join(
            participants::table.on(participants::conversation_id
                .eq(mention_rows::conversation_id)
                .and(participants::user_id.eq(mention_rows::user_id))),
        )
        .filter(mention_rows::user_id.eq(user))
        .filter(mention_rows::seq.gt(participants::last_read_seq))
        .group_by(mention_rows::conversation_id)
        .select((mention_rows::conversation_id, diesel::dsl::count_star()));
    let rows: Vec<(ConversationId, i64)> = match only {
        Some(id) => load_async!(conn, query.filter(mention_rows::conversation_id.eq(id)))?,
        None => load_async!(conn, query)?,
    };
    Ok(rows.into_iter().collect())
}

/// One pin of [`pins_page`]: its id (the cursor), who pinned it and when, and the message.
pub type PinRow = (i64, UserId, NaiveDateTime, MessageRow);

/// The pins of `conversation` older than pin `before` (all when `None`), newest first, at most
/// `limit`.
///
/// # Errors
/// A query failure.
pub async fn pins_page(
    conn: &mut ReadConn,
    conversation: ConversationId,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<PinRow>, DbError> {
    let before = before.unwrap_or(i64::MAX);
    Ok(load_async!(
        conn,
        pins::table
            .inner_join(messages::table)
            .filter(pins::conversation_id.eq(conversation))
            .filter(pins::id.lt(before))
            .order(pins::id.desc())
            .limit(limit)
            .select((
                pins::id,
                pins::pinned_by,
                pins::pinned_at,
                MessageRow::as_select(),
            ))
    )?)
}
