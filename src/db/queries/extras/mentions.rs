//! Resolving and storing mentions, inside the writer's transaction that stores or edits the
//! message (docs/PROTOCOL.md §4.3, *Mentions*). [`crate::domain::mentions`] finds the names in
//! the text; here they become users: participants of the conversation whose username matches
//! (any case), every participant for `@all`, the participants online for `@here` (the room's
//! caller asked presence for them beforehand). The sender is never mentioned. Rows go to the
//! `mentions` table with the message's seq, which the unread mention counts read; those named
//! with `@username` are marked `named`: only they are listed in the message's `mentions`, so a
//! message to `@all` of a large channel does not carry every follower's id.

use std::collections::{BTreeSet, HashMap};

use diesel::prelude::{ExpressionMethods, JoinOnDsl, QueryDsl};

use crate::db::schema::{mentions, participants, users};
use crate::db::{DbConnection, DbError, on_conn};
use crate::domain::mentions::parse;
use crate::domain::{ConversationId, MessageId, ProjectId, UserId};

diesel::define_sql_function! {
    /// SQL `lower(text)`, available on every backend (NULL stays NULL).
    fn lower(x: diesel::sql_types::Nullable<diesel::sql_types::Text>) -> diesel::sql_types::Nullable<diesel::sql_types::Text>;
}

/// Rows per `INSERT` of mentions (6 bound values each, well under SQLite's limit).
const INSERT_CHUNK: usize = 1000;

/// A stored or edited message whose mentions are to be resolved.
#[derive(Debug, Clone, Copy)]
pub struct Mentioning<'a> {
    /// The message.
    pub message_id: MessageId,
    /// Its project.
    pub project_id: ProjectId,
    /// Its conversation.
    pub conversation_id: ConversationId,
    /// Its seq.
    pub seq: i64,
    /// Its author (never mentioned).
    pub sender_id: UserId,
    /// Its text.
    pub content: &'a str,
    /// For `@here`: the users online when it was sent (`None`: nobody).
    pub online: Option<&'a [UserId]>,
}

#[derive(diesel::Insertable)]
#[diesel(table_name = mentions)]
struct NewMention {
    message_id: MessageId,
    project_id: ProjectId,
    conversation_id: ConversationId,
    user_id: UserId,
    seq: i64,
    named: bool,
}

/// Who one message mentions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolved {
    /// Named with `@username`, ascending: the message's `mentions`.
    pub named: Vec<UserId>,
    /// Everyone it mentions (`@all` and `@here` included), ascending: who is told and counts
    /// it unread.
    pub all: Vec<UserId>,
}

/// Resolves the mentions of `messages` and stores them; answers whom each message mentions
/// (messages that mention nobody are absent). A few statements whatever
/// the number of messages: one lookup of the named participants, one of the participants of
/// conversations with `@all` or `@here`, and the inserts.
///
/// # Errors
/// A query failure.
pub fn store(
    conn: &mut DbConnection,
    messages: &[Mentioning<'_>],
) -> Result<HashMap<MessageId, Resolved>, DbError> {
    use diesel::RunQueryDsl as _;
    let parsed: Vec<_> = messages
        .iter()
        .map(|m| (m, parse(m.content)))
        .filter(|(_, found)| found.any())
        .collect();
    let mut resolved = HashMap::new();
    if parsed.is_empty() {
        return Ok(resolved);
    }
    let mut named_in: Vec<ConversationId> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut everyone_in: Vec<ConversationId> = Vec::new();
    for (message, found) in &parsed {
        if !found.names.is_empty() {
            named_in.push(message.conversation_id);
            names.extend(found.names.iter().cloned());
        }
        if found.everyone() {
            everyone_in.push(message.conversation_id);
        }
    }
    for list in [&mut named_in, &mut everyone_in] {
        list.sort_unstable();
        list.dedup();
    }
    names.sort_unstable();
    names.dedup();
    // (conversation, lowercased username) → participant.
    let mut named: HashMap<(ConversationId, String), UserId> = HashMap::new();
    if !names.is_empty() {
        let rows: Vec<(ConversationId, UserId, Option<String>)> = on_conn!(conn, c => {
            participants::table
                .inner_join(users::table.on(users::id.eq(participants::user_id)))
                .filter(participants::conversation_id.eq_any(&named_in))
                .filter(lower(users::username).eq_any(&names))
                .select((participants::conversation_id, participants::user_id, lower(users::username)))
                .load(c)
        })?;
        for (conversation, user, name) in rows {
            if let Some(name) = name {
                named.insert((conversation, name), user);
            }
        }
    }
    let mut members: HashMap<ConversationId, Vec<UserId>> = HashMap::new();
    if !everyone_in.is_empty() {
        let rows: Vec<(ConversationId, UserId)> = on_conn!(conn, c => {
            participants::table
                .filter(participants::conversation_id.eq_any(&everyone_in))
                .select((participants::conversation_id, participants::user_id))
                .load(c)
        })?;
        for (conversation, user) in rows {
            members.entry(conversation).or_default().push(user);
        }
    }
    let mut new_rows = Vec::new();
    for (message, found) in parsed {
        let conversation = message.conversation_id;
        let mut by_name: BTreeSet<UserId> = found
            .names
            .iter()
            .filter_map(|name| named.get(&(conversation, name.clone())).copied())
            .collect();
        by_name.remove(&message.sender_id);
        let mut users = by_name.clone();
        let everyone = members.get(&conversation).map_or(&[][..], Vec::as_slice);
        if found.all {
            users.extend(everyone.iter().copied());
        } else if found.here {
            let online = message.online.unwrap_or_default();
            users.extend(everyone.iter().filter(|u| online.contains(u)).copied());
        }
        users.remove(&message.sender_id);
        if users.is_empty() {
            continue;
        }
        new_rows.extend(users.iter().map(|user| NewMention {
            message_id: message.message_id,
            project_id: message.project_id,
            conversation_id: conversation,
            user_id: *user,
            seq: message.seq,
            named: by_name.contains(user),
        }));
        let outcome = Resolved {
            named: by_name.into_iter().collect(),
            all: users.into_iter().collect(),
        };
        resolved.insert(message.message_id, outcome);
    }
    for chunk in new_rows.chunks(INSERT_CHUNK) {
        on_conn!(conn, c => diesel::insert_into(mentions::table).values(chunk).execute(c))?;
    }
    Ok(resolved)
}

/// Everyone `message` mentions now (`@all` and `@here` included), ascending.
///
/// # Errors
/// A query failure.
pub fn of(conn: &mut DbConnection, message: MessageId) -> Result<Vec<UserId>, DbError> {
    use diesel::RunQueryDsl as _;
    Ok(on_conn!(conn, c => {
        mentions::table
            .filter(mentions::message_id.eq(message))
            .select(mentions::user_id)
            .order(mentions::user_id)
            .load(c)
    })?)
}

/// Forgets every mention of `message` (before it is resolved again after an edit, or when it
/// is deleted).
///
/// # Errors
/// A query failure.
pub fn clear(conn: &mut DbConnection, message: MessageId) -> Result<(), DbError> {
    use diesel::RunQueryDsl as _;
    on_conn!(conn, c => {
        diesel::delete(mentions::table.filter(mentions::message_id.eq(message))).execute(c)
    })?;
    Ok(())
}
