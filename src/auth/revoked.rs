//! The deny list of revoked user tokens: checked on every request and WebSocket command that
//! presents a token, so it lives in memory. A revoked token stays listed until its own `exp`,
//! after which it is invalid anyway; the list is filled from the `user_tokens` table at start
//! (and after a Redis outage in cluster mode), and by every node's revocations (locally, and
//! through the cluster's global channel).

use std::collections::HashMap;
use std::sync::Mutex;

use crate::domain::TokenId;
use crate::error::AppError;

/// Most revoked, unexpired tokens listed at once. Revocations beyond it are refused
/// (`unavailable`) until some listed tokens expire.
pub const MAX_REVOKED: usize = 1_000_000;

/// Revoked token ids, each with its token's expiry (Unix seconds).
#[derive(Debug, Default)]
pub struct RevokedTokens {
    ids: Mutex<HashMap<TokenId, i64>>,
}

impl RevokedTokens {
    /// Lists `id`, whose token expires at `exp` (Unix seconds), as revoked.
    ///
    /// # Errors
    /// `unavailable` when [`MAX_REVOKED`] unexpired tokens are listed already.
    pub fn revoke(&self, id: TokenId, exp: i64) -> Result<(), AppError> {
        self.revoke_all([(id, exp)])
    }

    /// Lists every `(id, exp)` as revoked.
    ///
    /// # Errors
    /// `unavailable` when the list would exceed [`MAX_REVOKED`] unexpired tokens.
    pub fn revoke_all(
        &self,
        tokens: impl IntoIterator<Item = (TokenId, i64)>,
    ) -> Result<(), AppError> {
        let mut ids = self
            .ids
            .lock()
            .map_err(|_| AppError::internal(anyhow::anyhow!("revocation list poisoned")))?;
        let now = chrono::Utc::now().timestamp();
        for (id, exp) in tokens {
            if exp < now {
                continue;
            }
            if ids.len() >= MAX_REVOKED {
                ids.retain(|_, exp| *exp >= now);
            }
            if ids.len() >= MAX_REVOKED {
                return Err(AppError::Unavailable(
                    "too many revoked tokens outstanding; retry later".into(),
                ));
            }
            ids.insert(id, exp);
        }
        Ok(())
    }

    /// Whether `id` is revoked. A poisoned lock counts every token as revoked.
    pub fn is_revoked(&self, id: TokenId) -> bool {
        self.ids.lock().map_or(true, |ids| ids.contains_key(&id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revoked_ids_are_listed_until_their_expiry() {
        let list = RevokedTokens::default();
        let now = chrono::Utc::now().timestamp();
        let (live, gone, other) = (TokenId(1), TokenId(2), TokenId(3));
        list.revoke_all([(live, now + 60), (gone, now - 1)])
            .unwrap();
        assert!(list.is_revoked(live));
        assert!(!list.is_revoked(gone), "already expired: nothing to list");
        assert!(!list.is_revoked(other));
    }
}
