//! The user directory (`GET /api/v1/users?query=`): a project's active users whose username or
//! display name starts with a text, case-insensitively, by page.

use diesel::prelude::{
    BoolExpressionMethods, EscapeExpressionMethods, ExpressionMethods, QueryDsl,
    TextExpressionMethods,
};

use crate::db::queries::lower;
use crate::db::schema::users;
use crate::db::{DbError, ReadConn, on_read};
use crate::domain::{ProjectId, UserId};

/// A directory entry: id, username, display name, role (as stored), last seen, disabled.
pub type Entry = (
    UserId,
    Option<String>,
    Option<String>,
    String,
    Option<chrono::NaiveDateTime>,
    bool,
);

/// `text` as a LIKE prefix pattern: `%`, `_` and the escape character match themselves.
pub(crate) fn prefix_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 1);
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// The active users of `project` (and the disabled ones too when `include_disabled`) whose
/// username or display name starts with `prefix` (any case; every user when it is empty), with
/// an id above `after`, ascending, at most `limit`.
///
/// # Errors
/// A query failure.
pub async fn search(
    conn: &mut ReadConn,
    project: ProjectId,
    prefix: &str,
    after: i64,
    limit: i64,
    include_disabled: bool,
) -> Result<Vec<Entry>, DbError> {
    use diesel_async::RunQueryDsl as _;
    let pattern = prefix_pattern(prefix);
    // `disabled IN (false)` for the directory, `IN (false, true)` for an admin's list.
    let states: &[bool] = if include_disabled {
        &[false, true]
    } else {
        &[false]
    };
    Ok(on_read!(conn, c => {
        users::table
            .filter(users::project_id.eq(project))
            .filter(users::disabled.eq_any(states))
            .filter(users::id.gt(after))
            .filter(
                lower(users::username)
                    .like(&pattern)
                    .escape('\\')
                    .or(lower(users::display_name).like(&pattern).escape('\\')),
            )
            .order(users::id.asc())
            .limit(limit)
            .select((
                users::id,
                users::username,
                users::display_name,
                users::role,
                users::last_seen_at,
                users::disabled,
            ))
            .load(c)
            .await
    })?)
}

#[cfg(test)]
mod tests {
    use super::prefix_pattern;

    #[test]
    fn wildcards_in_the_text_match_themselves() {
        assert_eq!(prefix_pattern("Ann"), "ann%");
        assert_eq!(prefix_pattern("50%_off\\"), "50\\%\\_off\\\\%");
    }
}
