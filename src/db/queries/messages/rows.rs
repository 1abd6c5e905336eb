//! The statements that write a batch's new message rows: multi-row inserts of fixed sizes,
//! and the uploads they attach.

use diesel::prelude::{ExpressionMethods, NullableExpressionMethods, QueryDsl, SelectableHelper};

use crate::db::models::{MessageRow, NewMessage};
use crate::db::schema::{messages, uploads};
use crate::db::{DbConnection, DbError, on_conn};

/// Attached uploads now belong to their conversation and message, once.
pub(super) fn attach_uploads<'a>(
    conn: &mut DbConnection,
    rows: impl Iterator<Item = &'a MessageRow>,
) -> Result<(), DbError> {
    use diesel::RunQueryDsl as _;
    for row in rows.filter(|row| row.attachment_id.is_some()) {
        on_conn!(conn, c => {
            diesel::update(uploads::table.filter(uploads::id.nullable().eq(row.attachment_id)))
                .set((
                    uploads::message_id.eq(row.id),
                    uploads::conversation_id.eq(row.conversation_id),
                ))
                .execute(c)
        })?;
    }
    Ok(())
}

/// Inserts `rows` with multi-row `INSERT … RETURNING` statements of 64, 16, 4 and 1 rows. Fixed
/// sizes keep the SQL text to four shapes, which diesel's statement cache prepares once per
/// connection; a statement per batch size would be parsed and planned on every commit (it was
/// a tenth of the server's CPU under fan-out load, measured with perf).
pub(super) fn insert_rows(
    conn: &mut DbConnection,
    rows: &[NewMessage],
) -> diesel::QueryResult<Vec<MessageRow>> {
    fn fixed<const N: usize>(
        conn: &mut DbConnection,
        rows: &[NewMessage],
        out: &mut Vec<MessageRow>,
    ) -> diesel::QueryResult<usize> {
        use diesel::RunQueryDsl as _;
        for chunk in rows.chunks_exact(N) {
            let chunk: &[NewMessage; N] = chunk
                .try_into()
                .map_err(|_| diesel::result::Error::RollbackTransaction)?;
            let mut inserted: Vec<MessageRow> = on_conn!(conn, c => {
                diesel::insert_into(messages::table)
                    .values(chunk)
                    .returning(MessageRow::as_returning())
                    .get_results(c)
            })?;
            out.append(&mut inserted);
        }
        Ok(rows.len() / N * N)
    }
    let mut out = Vec::with_capacity(rows.len());
    let mut rest = rows;
    rest = &rest[fixed::<64>(conn, rest, &mut out)?..];
    rest = &rest[fixed::<16>(conn, rest, &mut out)?..];
    rest = &rest[fixed::<4>(conn, rest, &mut out)?..];
    fixed::<1>(conn, rest, &mut out)?;
    Ok(out)
}
