//! Single-use WebSocket tickets: `POST /api/v1/ws-ticket` trades an access token (in the
//! `Authorization` header) for a random ticket valid for [`TICKET_TTL`], and
//! `GET /api/v1/ws?ticket=...` redeems it once. A long-lived token then never appears in a URL,
//! a proxy log or a browser's history (OWASP WebSocket Security Cheat Sheet, *Authentication*).
//! The session that opens with a ticket runs on the token that bought it, and ends at its
//! expiry like any other.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;

use crate::auth::AuthUser;
use crate::error::AppError;

/// How long a ticket is valid.
pub const TICKET_TTL: Duration = Duration::from_secs(30);
/// Most tickets outstanding at once (expired ones are dropped first).
pub const MAX_TICKETS: usize = 65_536;

/// Outstanding tickets: ticket → who bought it, and when it expires.
#[derive(Default)]
pub struct WsTickets {
    tickets: Mutex<HashMap<String, (AuthUser, Instant)>>,
}

impl WsTickets {
    /// A new ticket for `auth`.
    ///
    /// # Errors
    /// `unavailable` when [`MAX_TICKETS`] unexpired tickets are outstanding.
    pub fn issue(&self, auth: AuthUser) -> Result<String, AppError> {
        let ticket =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        let mut tickets = self
            .tickets
            .lock()
            .map_err(|_| AppError::internal(anyhow::anyhow!("ticket table poisoned")))?;
        if tickets.len() >= MAX_TICKETS / 2 {
            let now = Instant::now();
            tickets.retain(|_, (_, expiry)| *expiry > now);
        }
        if tickets.len() >= MAX_TICKETS {
            return Err(AppError::Unavailable(
                "too many WebSocket tickets outstanding; retry shortly".into(),
            ));
        }
        tickets.insert(ticket.clone(), (auth, Instant::now() + TICKET_TTL));
        Ok(ticket)
    }

    /// Redeems `ticket`: who bought it, if it exists and has not expired. Either way it is
    /// gone afterwards.
    pub fn redeem(&self, ticket: &str) -> Option<AuthUser> {
        let (auth, expiry) = self.tickets.lock().ok()?.remove(ticket)?;
        (expiry > Instant::now()).then_some(auth)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ProjectId, Role, UserId};

    fn auth() -> AuthUser {
        AuthUser {
            id: UserId(1),
            project_id: ProjectId(1),
            role: Role::Customer,
            exp: 0,
            generation: 0,
            token_id: None,
        }
    }

    #[test]
    fn a_ticket_is_redeemed_once() {
        let tickets = WsTickets::default();
        let ticket = tickets.issue(auth()).unwrap();
        assert_eq!(tickets.redeem(&ticket), Some(auth()));
        assert_eq!(tickets.redeem(&ticket), None);
        assert_eq!(tickets.redeem("made-up"), None);
    }
}
