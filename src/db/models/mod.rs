//! Row types (what diesel reads and writes) and their conversion to the API's views.
//!
//! Rows never implement `Serialize`: only the views in [`crate::api`] do, so a secret column
//! (`password_hash`) cannot reach a client. Times are stored as naive UTC and shown as RFC 3339
//! UTC.

mod accounts;
mod chat;
mod email_tokens;
mod webhooks;

pub use accounts::{
    ApiKeyRow, NewApiKey, NewProject, NewRefreshToken, NewUser, ProjectRow, RefreshTokenRow,
    UserRow,
};
pub use chat::{
    ConversationRow, MessageRow, NewConversation, NewMessage, NewParticipant, NewUpload, UploadRow,
};
pub use email_tokens::{EmailTokenRow, NewEmailToken, TokenPurpose};
pub use webhooks::{DeliveryRow, NewDelivery, NewWebhook, WebhookRow};

/// A stored (naive UTC) time as clients see it.
fn utc(t: chrono::NaiveDateTime) -> chrono::DateTime<chrono::Utc> {
    t.and_utc()
}
