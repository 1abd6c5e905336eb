//! Canned responses: a project's saved replies, each under a short code. An agent's or admin's
//! message in a support conversation has each whitespace-delimited `/short_code` token that
//! names one replaced by its content when it is stored ([`expand`]).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::expression_methods::EscapeExpressionMethods;
use diesel::prelude::{
    ExpressionMethods, OptionalExtension, QueryDsl, Queryable, Selectable, TextExpressionMethods,
};
use serde::Serialize;

use crate::db::schema::canned_responses;
use crate::db::{DbConnection, DbError, ReadConn, now, on_conn, on_read, write_transaction};
use crate::domain::{ProjectId, UserId};

/// A message never grows past this many characters by expansion: a token that would take it
/// further stays as written.
pub const EXPANDED_MAX_CHARS: usize = 20_000;

/// A stored canned response.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = canned_responses)]
pub struct CannedRow {
    /// Primary key.
    pub id: i64,
    /// Tenant.
    pub project_id: ProjectId,
    /// 1–32 characters of `[a-z0-9_-]`, unique in the project.
    pub short_code: String,
    /// What `/short_code` expands to.
    pub content: String,
    /// The agent or admin who made it (null once their account is gone).
    pub created_by: Option<UserId>,
    /// When it was made (UTC).
    pub created_at: NaiveDateTime,
    /// When it last changed (UTC).
    pub updated_at: NaiveDateTime,
}

/// A canned response as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CannedView {
    /// Its id.
    pub id: i64,
    /// 1–32 characters of `[a-z0-9_-]`; `/short_code` in a message expands.
    pub short_code: String,
    /// The text it expands to.
    pub content: String,
    /// Who made it, or null.
    pub created_by: Option<UserId>,
    /// RFC 3339 UTC.
    pub created_at: DateTime<Utc>,
    /// RFC 3339 UTC.
    pub updated_at: DateTime<Utc>,
}

impl CannedRow {
    /// The API's view of it.
    pub fn view(&self) -> CannedView {
        CannedView {
            id: self.id,
            short_code: self.short_code.clone(),
            content: self.content.clone(),
            created_by: self.created_by,
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
        }
    }
}

/// A write to a project's canned responses (fields already validated).
#[derive(Debug, Clone)]
pub enum CannedChange {
    /// Make one.
    Create {
        /// Lowercase short code.
        short_code: String,
        /// Its text.
        content: String,
    },
    /// Change one's short code or content.
    Update {
        /// Which.
        id: i64,
        /// The new short code, if it changes.
        short_code: Option<String>,
        /// The new content, if it changes.
        content: Option<String>,
    },
    /// Remove one.
    Delete {
        /// Which.
        id: i64,
    },
}

const TAKEN: &str = "short_code: a canned response of this project has it already";

/// Applies `change` to `project`'s canned responses, `by` an agent or admin: the row made or
/// changed (`None` for a deletion).
///
/// # Errors
/// [`DbError::NotFound`] for an id that is not the project's; [`DbError::Conflict`] for a
/// taken short code; a query failure.
pub fn write_canned(
    conn: &mut DbConnection,
    project: ProjectId,
    by: UserId,
    change: &CannedChange,
) -> Result<Option<CannedRow>, DbError> {
    use diesel::RunQueryDsl as _;
    write_transaction(conn, |conn| {
        let at = now();
        let of_project = canned_responses::project_id.eq(project);
        let id = match change {
            CannedChange::Create {
                short_code,
                content,
            } => {
                if find_code(conn, project, short_code)?.is_some() {
                    return Err(DbError::Conflict(TAKEN.into()));
                }
                on_conn!(conn, c => {
                    diesel::insert_into(canned_responses::table)
                        .values((
                            canned_responses::project_id.eq(project),
                            canned_responses::short_code.eq(short_code),
                            canned_responses::content.eq(content),
                            canned_responses::created_by.eq(by),
                            canned_responses::created_at.eq(at),
                            canned_responses::updated_at.eq(at),
                        ))
                        .execute(c)
                })?;
                find_code(conn, project, short_code)?.ok_or(DbError::NotFound)?
            }
            CannedChange::Update {
                id,
                short_code,
                content,
            } => {
                if let Some(code) = short_code
                    && find_code(conn, project, code)?.is_some_and(|other| other != *id)
                {
                    return Err(DbError::Conflict(TAKEN.into()));
                }
                let target = canned_responses::table
                    .filter(canned_responses::id.eq(*id))
                    .filter(of_project);
                let n = on_conn!(conn, c => {
                    diesel::update(target)
                        .set((
                            short_code.as_ref().map(|v| canned_responses::short_code.eq(v)),
                            content.as_ref().map(|v| canned_responses::content.eq(v)),
                            canned_responses::updated_at.eq(at),
                        ))
                        .execute(c)
                })?;
                if n == 0 {
                    return Err(DbError::NotFound);
                }
                *id
            }
            CannedChange::Delete { id } => {
                let target = canned_responses::table
                    .filter(canned_responses::id.eq(*id))
                    .filter(of_project);
                let n = on_conn!(conn, c => diesel::delete(target).execute(c))?;
                return if n == 0 {
                    Err(DbError::NotFound)
                } else {
                    Ok(None)
                };
            }
        };
        let row = on_conn!(conn, c => {
            canned_responses::table
                .find(id)
                .select(<CannedRow as diesel::SelectableHelper<_>>::as_select())
                .first(c)
        })?;
        Ok(Some(row))
    })
}

/// The id of `project`'s canned response with `code`, if any.
fn find_code(
    conn: &mut DbConnection,
    project: ProjectId,
    code: &str,
) -> Result<Option<i64>, DbError> {
    use diesel::RunQueryDsl as _;
    Ok(on_conn!(conn, c => {
        canned_responses::table
            .filter(canned_responses::project_id.eq(project))
            .filter(canned_responses::short_code.eq(code))
            .select(canned_responses::id)
            .first(c)
    })
    .optional()?)
}

/// `project`'s canned responses by short code, after `after` (a short code), at most `limit`,
/// only those whose short code starts with `prefix` when given.
///
/// # Errors
/// A query failure.
pub async fn list_canned(
    conn: &mut ReadConn,
    project: ProjectId,
    prefix: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<CannedRow>, DbError> {
    use diesel_async::RunQueryDsl as _;
    // Short codes are `[a-z0-9_-]`: `_` is a LIKE wildcard, so escape it.
    let pattern = prefix.map(|p| format!("{}%", p.replace('\\', "\\\\").replace('_', "\\_")));
    let after = after.map(str::to_owned);
    Ok(on_read!(conn, c => {
        let mut query = canned_responses::table
            .filter(canned_responses::project_id.eq(project))
            .into_boxed();
        if let Some(pattern) = &pattern {
            query = query.filter(canned_responses::short_code.like(pattern.clone()).escape('\\'));
        }
        if let Some(after) = &after {
            query = query.filter(canned_responses::short_code.gt(after.clone()));
        }
        query
            .order(canned_responses::short_code)
            .limit(limit)
            .select(<CannedRow as diesel::SelectableHelper<_>>::as_select())
            .load(c)
            .await
    })?)
}

/// Whether `token` is a `/short_code` candidate: its short code, lowercase.
fn code_of(token: &str) -> Option<&str> {
    let code = token.strip_prefix('/')?;
    let ok = (1..=32).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    ok.then_some(code)
}

/// The expanded text of each of `texts` (`(project, content)`, in order; `None` where
/// nothing expands): every whitespace-delimited `/short_code` token naming one of the
/// project's canned responses becomes its content, unless that would take the text past
/// [`EXPANDED_MAX_CHARS`]. One query per project with candidate tokens.
///
/// # Errors
/// A query failure.
pub fn expand(
    conn: &mut DbConnection,
    texts: &[(ProjectId, &str)],
) -> Result<Vec<Option<String>>, DbError> {
    use diesel::RunQueryDsl as _;
    let mut wanted: HashMap<ProjectId, Vec<String>> = HashMap::new();
    for (project, text) in texts {
        for code in text.split_whitespace().filter_map(code_of) {
            wanted.entry(*project).or_default().push(code.to_owned());
        }
    }
    let mut known: HashMap<(ProjectId, String), String> = HashMap::new();
    for (project, codes) in wanted {
        let found: Vec<(String, String)> = on_conn!(conn, c => {
            canned_responses::table
                .filter(canned_responses::project_id.eq(project))
                .filter(canned_responses::short_code.eq_any(&codes))
                .select((canned_responses::short_code, canned_responses::content))
                .load(c)
        })?;
        known.extend(
            found
                .into_iter()
                .map(|(code, text)| ((project, code), text)),
        );
    }
    Ok(texts
        .iter()
        .map(|(project, text)| expand_one(text, |code| known.get(&(*project, code.to_owned()))))
        .collect())
}

/// `text` with its known `/short_code` tokens replaced (whitespace kept as written); `None`
/// when nothing changed.
fn expand_one<'a>(text: &str, lookup: impl Fn(&str) -> Option<&'a String>) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().count();
    let mut changed = false;
    let mut rest = text;
    while !rest.is_empty() {
        let start = rest
            .find(|c: char| !c.is_whitespace())
            .unwrap_or(rest.len());
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let token = &rest[..end];
        rest = &rest[end..];
        match code_of(token).and_then(&lookup) {
            Some(content) => {
                let grown = chars - token.chars().count() + content.chars().count();
                if grown <= EXPANDED_MAX_CHARS {
                    chars = grown;
                    changed = true;
                    out.push_str(content);
                } else {
                    out.push_str(token);
                }
            }
            None => out.push_str(token),
        }
    }
    changed.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_tokens_expand_and_others_stay() {
        let greet = "Hello, how can I help?".to_string();
        let lookup = |code: &str| (code == "greet").then_some(&greet);
        assert_eq!(
            expand_one("/greet  see /nothing and a/greet", lookup).as_deref(),
            Some("Hello, how can I help?  see /nothing and a/greet")
        );
        assert_eq!(expand_one("no /codes here", lookup), None);
        assert_eq!(expand_one("/Greet", lookup), None);
    }

    #[test]
    fn expansion_stops_at_the_cap() {
        let long = "x".repeat(EXPANDED_MAX_CHARS - 10);
        let lookup = |code: &str| (code == "long").then_some(&long);
        let once = expand_one("/long /long", lookup).unwrap_or_default();
        assert_eq!(once.chars().count(), EXPANDED_MAX_CHARS - 10 + 6);
        assert!(once.ends_with(" /long"));
    }
}
