//! Invite links to groups and channels: created and revoked by their owners and admins,
//! accepted by anyone of the project who holds the code (docs/PROTOCOL.md, *Invites*). A code
//! is valid while it is not revoked, not expired and not used up; accepting counts a use in
//! the membership change's transaction ([`super::membership`]).

use chrono::NaiveDateTime;
use diesel::prelude::{
    BoolExpressionMethods, ExpressionMethods, OptionalExtension, QueryDsl, Queryable, Selectable,
    SelectableHelper,
};

use crate::db::schema::invites;
use crate::db::{DbConnection, DbError, ReadConn, now, on_conn, on_read, write_transaction};
use crate::domain::{ConversationId, ProjectId, UserId};

/// The alphabet of invite codes: lowercase letters and digits without the look-alikes
/// `0 o 1 l i`, so a code read aloud or copied by hand comes out right.
pub const ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";

/// Characters in a code: 31^12 ≈ 7.9 × 10^17 codes, with accepting rate limited per user.
pub const CODE_LEN: usize = 12;

/// Most invites a conversation keeps, revoked and dead ones included: [`create`] deletes
/// dead ones to make room.
pub const MAX_PER_CONVERSATION: i64 = 100;

/// A fresh random code of [`CODE_LEN`] characters of [`ALPHABET`].
pub fn new_code() -> String {
    let bytes = rand::random::<[u8; CODE_LEN]>();
    bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect()
}

/// An `invites` row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = invites)]
pub struct InviteRow {
    /// The code.
    pub code: String,
    /// Its project.
    pub project_id: ProjectId,
    /// The conversation it joins.
    pub conversation_id: ConversationId,
    /// Who made it.
    pub created_by: UserId,
    /// When.
    pub created_at: NaiveDateTime,
    /// When it stops working, if ever.
    pub expires_at: Option<NaiveDateTime>,
    /// How many accepts it allows, if limited.
    pub max_uses: Option<i64>,
    /// Accepts so far (by users who were not participants yet).
    pub uses: i64,
    /// When it was revoked.
    pub revoked_at: Option<NaiveDateTime>,
}

impl InviteRow {
    /// Whether it can be accepted at `at`.
    pub fn valid_at(&self, at: NaiveDateTime) -> bool {
        self.revoked_at.is_none()
            && self.expires_at.is_none_or(|e| e > at)
            && self.max_uses.is_none_or(|m| self.uses < m)
    }
}

/// Whether invite `code` of conversation `id` can be accepted at `at`.
pub(crate) fn valid(
    conn: &mut DbConnection,
    id: ConversationId,
    code: &str,
    at: NaiveDateTime,
) -> bool {
    use diesel::RunQueryDsl as _;
    let row: Result<Option<InviteRow>, diesel::result::Error> = on_conn!(conn, c => {
        invites::table
            .find(code)
            .filter(invites::conversation_id.eq(id))
            .select(InviteRow::as_select())
            .first(c)
            .optional()
    });
    matches!(row, Ok(Some(row)) if row.valid_at(at))
}

/// Makes an invite to conversation `id` of `project`, by `by`, valid until `expires_at` and
/// for `max_uses` accepts. A conversation keeps at most [`MAX_PER_CONVERSATION`] invites: the
/// oldest revoked or dead ones are deleted to make room; with all of them live, the call fails.
///
/// # Errors
/// [`DbError::Invalid`] when the conversation has [`MAX_PER_CONVERSATION`] live invites; a
/// query failure.
pub fn create(
    conn: &mut DbConnection,
    project: ProjectId,
    id: ConversationId,
    by: UserId,
    expires_at: Option<NaiveDateTime>,
    max_uses: Option<i64>,
) -> Result<InviteRow, DbError> {
    use diesel::RunQueryDsl as _;
    write_transaction(conn, |conn| {
        let at = now();
        let existing: Vec<InviteRow> = on_conn!(conn, c => {
            invites::table
                .filter(invites::conversation_id.eq(id))
                .order(invites::created_at.asc())
                .select(InviteRow::as_select())
                .load(c)
        })?;
        if i64::try_from(existing.len()).unwrap_or(i64::MAX) >= MAX_PER_CONVERSATION {
            let dead: Vec<String> = existing
                .iter()
                .filter(|i| !i.valid_at(at))
                .map(|i| i.code.clone())
                .collect();
            if dead.is_empty() {
                return Err(DbError::Invalid(format!(
                    "invites: at most {MAX_PER_CONVERSATION} live invites per conversation; revoke one"
                )));
            }
            on_conn!(conn, c => {
                diesel::delete(invites::table.filter(invites::code.eq_any(&dead))).execute(c)
            })?;
        }
        let row = (
            invites::code.eq(new_code()),
            invites::project_id.eq(project),
            invites::conversation_id.eq(id),
            invites::created_by.eq(by),
            invites::created_at.eq(at),
            invites::expires_at.eq(expires_at),
            invites::max_uses.eq(max_uses),
        );
        Ok(on_conn!(conn, c => {
            diesel::insert_into(invites::table)
                .values(row)
                .returning(InviteRow::as_returning())
                .get_result(c)
        })?)
    })
}

/// Revokes invite `code` of conversation `id` (idempotent: a revoked code stays revoked at
/// its first time).
///
/// # Errors
/// [`DbError::NotFound`] when the conversation has no such invite; a query failure.
pub fn revoke(conn: &mut DbConnection, id: ConversationId, code: &str) -> Result<(), DbError> {
    use diesel::RunQueryDsl as _;
    let known: i64 = on_conn!(conn, c => {
        invites::table
            .filter(invites::code.eq(code))
            .filter(invites::conversation_id.eq(id))
            .count()
            .get_result(c)
    })?;
    if known == 0 {
        return Err(DbError::NotFound);
    }
    let at = now();
    on_conn!(conn, c => {
        diesel::update(
            invites::table
                .filter(invites::code.eq(code))
                .filter(invites::revoked_at.is_null()),
        )
        .set(invites::revoked_at.eq(Some(at)))
        .execute(c)
    })?;
    Ok(())
}

/// A page of conversation `id`'s invites, newest first: after `after` (the previous page's
/// last invite, as its creation time and code) when given, at most `limit`.
///
/// # Errors
/// A query failure.
pub async fn page(
    conn: &mut ReadConn,
    id: ConversationId,
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> Result<Vec<InviteRow>, DbError> {
    use diesel_async::RunQueryDsl as _;
    // Without a cursor, everything is "before" a time no invite reaches.
    let (at, code) = after.unwrap_or_else(|| {
        let end = chrono::NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or_default();
        (end.and_time(chrono::NaiveTime::MIN), String::new())
    });
    let older = invites::created_at
        .lt(at)
        .or(invites::created_at.eq(at).and(invites::code.lt(code)));
    Ok(on_read!(conn, c => {
        invites::table
            .filter(invites::conversation_id.eq(id))
            .filter(older.clone())
            .order((invites::created_at.desc(), invites::code.desc()))
            .limit(limit)
            .select(InviteRow::as_select())
            .load(c)
            .await
    })?)
}

/// The invite `code`, whatever its conversation.
///
/// # Errors
/// A query failure.
pub async fn find(conn: &mut ReadConn, code: &str) -> Result<Option<InviteRow>, DbError> {
    use diesel_async::RunQueryDsl as _;
    Ok(on_read!(conn, c => {
        invites::table
            .find(code)
            .select(InviteRow::as_select())
            .first(c)
            .await
            .optional()
    })?)
}
