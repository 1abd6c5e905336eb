//! Page sizes and "is there a next page" for the keyset-paginated lists (participants, bans,
//! invites, rooms, conversations): one rule, one error message.

use crate::error::AppError;

/// `limit` from the query: `default` when absent, 1–`max` accepted, anything else
/// `validation_failed` naming the range.
///
/// # Errors
/// [`AppError::Validation`] for a `limit` outside 1–`max`.
pub fn size(limit: Option<i64>, default: i64, max: i64) -> Result<i64, AppError> {
    match limit {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(_) => Err(AppError::Validation(format!("limit: from 1 to {max}"))),
    }
}

/// The last item of a full page (`limit` items), which the next page starts after; `None` for
/// a shorter page, the last one.
pub fn last_of_full<T>(items: &[T], limit: i64) -> Option<&T> {
    (i64::try_from(items.len()).ok() == Some(limit))
        .then(|| items.last())
        .flatten()
}
