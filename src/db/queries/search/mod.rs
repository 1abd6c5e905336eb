//! Message search (issue 13, `GET /api/v1/search/messages`): the messages of a project that
//! match a [`SearchText`], best first, a page at a time, each with a snippet of its text.
//!
//! Each backend has its own full-text index, kept by the database itself, so every write path
//! (group commits, edits, deletions, the server API, imports) keeps it right:
//! - SQLite: the FTS5 table `messages_fts` (external content over `messages`, tokenizer
//!   `unicode61 remove_diacritics 2`), kept by triggers; rank is `bm25()`, negated so that
//!   higher is better; snippets come from `snippet()`;
//! - PostgreSQL: the stored generated column `messages.search` (`to_tsvector('simple',
//!   content)`) under a GIN index, matched with `websearch_to_tsquery('simple', …)`, ranked
//!   by `ts_rank_cd(…, 1)` (cover density, divided by 1 + log of the length); snippets come
//!   from `ts_headline`.
//!
//! Neither index holds a deleted message (migrations `…_search`), and every query asks for
//! `deleted_at IS NULL` besides. The SQL differs per backend, so these are the queries written
//! as SQL text ([`diesel::sql_query`]) rather than diesel's DSL: the text is a constant per
//! backend and scope, and every value, the user's search text included, is a bound parameter.
//!
//! A page costs three reads: the ranked ids (the only one that looks at every hit), the
//! snippets of that page's messages (a snippet parses the text again, so it is made for the
//! page only), and their rows.

mod render;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

use diesel::QueryableByName;
use diesel::dsl::max;
use diesel::prelude::{ExpressionMethods, QueryDsl, SelectableHelper};
use diesel::sql_types::{Array, BigInt, Double, Text};

use crate::db::models::MessageRow;
use crate::db::schema::messages;
use crate::db::{DbError, ReadConn};
use crate::domain::{ConversationId, MessageId, ProjectId, SearchText, UserId};

pub use render::{fts5, websearch};

/// Opens a highlighted hit in a raw snippet (STX; the API turns it into `<mark>`).
pub const MARK_START: char = '\u{2}';
/// Closes a highlighted hit in a raw snippet (ETX; the API turns it into `</mark>`).
pub const MARK_END: char = '\u{3}';
/// Most tokens in an SQLite snippet (`snippet()` allows 1 to 64); PostgreSQL's `MaxWords`.
const SNIPPET_TOKENS: u32 = 16;

/// Which conversations of the project a search looks in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Within {
    /// All of them (an admin's search: `policy::lists_every_conversation`).
    Project,
    /// Those this user takes part in (everyone else's).
    ParticipantOf(UserId),
    /// This one, which the caller was already allowed to read (`Action::ReadHistory`).
    Conversation(ConversationId),
}

/// One page of a search.
#[derive(Debug, Clone, Copy)]
pub struct SearchRequest<'a> {
    /// What to look for; must not [match nothing](SearchText::matches_nothing).
    pub text: &'a SearchText,
    /// The caller's project: messages of other projects are never looked at.
    pub project: ProjectId,
    /// Which of its conversations.
    pub within: Within,
    /// Only messages with an id up to this one (the newest when the first page was read), so
    /// later pages do not shift as new messages arrive.
    pub until: MessageId,
    /// Hits to skip: the ones on earlier pages.
    pub offset: i64,
    /// Most hits to answer (at least 1; the handler asks for one more than a page, to learn
    /// whether another follows).
    pub limit: i64,
    /// Whether internal notes are searched too (agents and admins).
    pub notes: bool,
}

/// The condition that leaves internal notes out, unless `notes`.
fn notes_filter(notes: bool) -> &'static str {
    if notes { "" } else { " AND NOT m.private" }
}

/// A message found.
#[derive(Debug, Clone)]
pub struct Hit {
    /// The message, as stored.
    pub message: MessageRow,
    /// How well it matches: higher is better. Comparable within one search on one backend
    /// only (`-bm25()` on SQLite, `ts_rank_cd` on PostgreSQL).
    pub rank: f64,
    /// Some of its text around the matching words, raw (not escaped), each match between
    /// [`MARK_START`] and [`MARK_END`]; `…` where the text was cut (SQLite's `snippet()` says
    /// so; on PostgreSQL it is guessed from the first and last words).
    pub snippet: String,
}

#[derive(QueryableByName)]
struct Ranked {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Double)]
    rank: f64,
}

#[derive(QueryableByName)]
struct Snippet {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    snippet: String,
}

/// The newest message id of the whole database (0 when there is none): the `until` of a
/// search's first page.
///
/// # Errors
/// A query failure.
pub async fn newest_message_id(conn: &mut ReadConn) -> Result<MessageId, DbError> {
    use diesel_async::RunQueryDsl as _;
    let newest: Option<i64> = crate::db::on_read!(conn, c => {
        messages::table.select(max(messages::id)).first(c).await
    })?;
    Ok(MessageId(newest.unwrap_or(0)))
}

/// The SQLite statement ranking the hits of a request `within`. Binds: the FTS5 expression,
/// the project, `until`, the scope's id (but for [`Within::Project`]), limit, offset.
fn sqlite_ranked(within: Within, notes: bool) -> String {
    let scope = match within {
        Within::Project => "",
        Within::ParticipantOf(_) => {
            " AND m.conversation_id IN (SELECT conversation_id FROM participants WHERE user_id = ?)"
        }
        Within::Conversation(_) => " AND m.conversation_id = ?",
    };
    format!(
        "SELECT m.id AS id, -bm25(messages_fts) AS rank \
         FROM messages_fts JOIN messages AS m ON m.id = messages_fts.rowid \
         WHERE messages_fts MATCH ? AND m.project_id = ? AND m.deleted_at IS NULL{notes} \
         AND m.id <= ?{scope} ORDER BY rank DESC, m.id DESC LIMIT ? OFFSET ?",
        notes = notes_filter(notes)
    )
}

/// The PostgreSQL statement ranking the hits of a request `within`; binds as for SQLite, the
/// websearch text first.
fn postgres_ranked(within: Within, notes: bool) -> String {
    let (scope, next) = match within {
        Within::Project => ("", 4),
        Within::ParticipantOf(_) => (
            " AND m.conversation_id IN (SELECT conversation_id FROM participants WHERE user_id = $4)",
            5,
        ),
        Within::Conversation(_) => (" AND m.conversation_id = $4", 5),
    };
    let offset = next + 1;
    format!(
        "SELECT m.id AS id, ts_rank_cd(m.search, q, 1)::float8 AS rank \
         FROM messages AS m, websearch_to_tsquery('simple', $1) AS q \
         WHERE m.search @@ q AND m.project_id = $2 AND m.deleted_at IS NULL{notes} \
         AND m.id <= $3{scope} ORDER BY rank DESC, m.id DESC LIMIT ${next} OFFSET ${offset}",
        notes = notes_filter(notes)
    )
}

/// The scope's id, if it has one.
fn scope_id(within: Within) -> Option<i64> {
    match within {
        Within::Project => None,
        Within::ParticipantOf(user) => Some(user.0),
        Within::Conversation(conversation) => Some(conversation.0),
    }
}

/// One page of hits for `request`, best first (ties: newest first).
///
/// # Errors
/// A query failure. A text that [matches nothing](SearchText::matches_nothing) is no error:
/// it finds nothing, without a query.
pub async fn search(conn: &mut ReadConn, request: SearchRequest<'_>) -> Result<Vec<Hit>, DbError> {
    use diesel_async::RunQueryDsl as _;
    if request.text.matches_nothing() {
        return Ok(Vec::new());
    }
    let scope = scope_id(request.within);
    let (ranked, snippets): (Vec<Ranked>, Vec<Snippet>) = match conn {
        ReadConn::Sqlite(c) => {
            let c = &mut **c;
            let expression = fts5(request.text);
            let mut query = diesel::sql_query(sqlite_ranked(request.within, request.notes))
                .into_boxed()
                .bind::<Text, _>(expression.clone())
                .bind::<BigInt, _>(request.project.0)
                .bind::<BigInt, _>(request.until.0);
            if let Some(id) = scope {
                query = query.bind::<BigInt, _>(id);
            }
            let ranked: Vec<Ranked> = query
                .bind::<BigInt, _>(request.limit)
                .bind::<BigInt, _>(request.offset)
                .load(c)
                .await?;
            let ids: Vec<i64> = ranked.iter().map(|r| r.id).collect();
            let ids = serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into());
            let snippets = diesel::sql_query(format!(
                "SELECT rowid AS id, \
                 snippet(messages_fts, 0, char(2), char(3), '…', {SNIPPET_TOKENS}) AS snippet \
                 FROM messages_fts WHERE messages_fts MATCH ? \
                 AND rowid IN (SELECT value FROM json_each(?))"
            ))
            .bind::<Text, _>(expression)
            .bind::<Text, _>(ids)
            .load(c)
            .await?;
            (ranked, snippets)
        }
        ReadConn::Postgres(c) => {
            let c = &mut ***c;
            let text = websearch(request.text);
            let mut query = diesel::sql_query(postgres_ranked(request.within, request.notes))
                .into_boxed()
                .bind::<Text, _>(text.clone())
                .bind::<BigInt, _>(request.project.0)
                .bind::<BigInt, _>(request.until.0);
            if let Some(id) = scope {
                query = query.bind::<BigInt, _>(id);
            }
            let ranked: Vec<Ranked> = query
                .bind::<BigInt, _>(request.limit)
                .bind::<BigInt, _>(request.offset)
                .load(c)
                .await?;
            let ids: Vec<i64> = ranked.iter().map(|r| r.id).collect();
            let snippets = diesel::sql_query(format!(
                "SELECT id, ts_headline('simple', content, websearch_to_tsquery('simple', $1), \
                 'StartSel=' || chr(2) || ', StopSel=' || chr(3) || \
                 ', MaxWords={SNIPPET_TOKENS}, MinWords=6') AS snippet \
                 FROM messages WHERE id = ANY($2)"
            ))
            .bind::<Text, _>(text)
            .bind::<Array<BigInt>, _>(ids)
            .load(c)
            .await?;
            (ranked, snippets)
        }
    };
    let ids: Vec<MessageId> = ranked.iter().map(|r| MessageId(r.id)).collect();
    let rows: Vec<MessageRow> = crate::db::on_read!(conn, c => {
        messages::table
            .filter(messages::id.eq_any(&ids))
            .filter(messages::deleted_at.is_null())
            .select(MessageRow::as_select())
            .load(c)
            .await
    })?;
    let mut rows: HashMap<i64, MessageRow> = rows.into_iter().map(|r| (r.id.0, r)).collect();
    let mut snippets: HashMap<i64, String> =
        snippets.into_iter().map(|s| (s.id, s.snippet)).collect();
    let postgres = matches!(conn, ReadConn::Postgres(_));
    Ok(ranked
        .into_iter()
        .filter_map(|r| {
            let message = rows.remove(&r.id)?;
            let snippet = snippets.remove(&r.id).unwrap_or_default();
            let snippet = if postgres {
                with_ellipses(&snippet, &message.content)
            } else {
                snippet
            };
            Some(Hit {
                message,
                rank: r.rank,
                snippet,
            })
        })
        .collect())
}

/// `headline` (from `ts_headline`, which marks no cut) with `…` where it does not reach the
/// start or the end of `content`, as SQLite's snippets have.
fn with_ellipses(headline: &str, content: &str) -> String {
    let plain: String = headline
        .chars()
        .filter(|c| *c != MARK_START && *c != MARK_END)
        .collect();
    let words: Vec<&str> = plain.split_whitespace().collect();
    let (Some(first), Some(last)) = (words.first(), words.last()) else {
        return headline.to_string();
    };
    let mut out = String::with_capacity(headline.len() + 6);
    if !content.trim_start().starts_with(first) {
        out.push('…');
    }
    out.push_str(headline.trim());
    if !content.trim_end().ends_with(last) {
        out.push('…');
    }
    out
}
