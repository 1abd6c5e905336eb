//! The REST API's request and response types, apart from the database rows they are built from
//! (`db::models`): what a client sends and receives, and nothing else. The WebSocket frames that
//! carry them are in [`crate::protocol`]. docs/PROTOCOL.md §4 describes every shape.
//!
//! Only types here implement `Serialize` for clients; rows never do, so a secret column
//! (`password_hash`) cannot reach a response.

mod account_email;
mod api_keys;
mod conversations;
mod extras;
mod links;
mod membership;
mod messages;
mod projects;
mod search;
mod server;
mod uploads;
mod users;
mod webhooks;

pub use account_email::{
    Accepted, ChangeEmailBody, EmailBody, PasswordResetConfirmBody, TokenBody,
    VerificationRequired, VerifyEmailBody,
};
pub use api_keys::{ApiKeyCreated, ApiKeyView, CreateApiKeyBody};
pub use conversations::{
    ConversationView, CreateConversationBody, ReadBody, UnreadCounts, Watermarks,
};
pub use extras::{
    Extras, GroupMention, PREVIEW_CHARS, PinView, PinsQuery, ReactionCount, ReplyPreview,
};
pub use links::{DownloadLinks, hmac_sha256};
pub use membership::{
    AddBody, BanBody, BanView, CreateInviteBody, InviteAccepted, InvitePage, InviteQuery,
    InviteView, MemberPageQuery, MemberRoleView, MembersAdded, MembersUpdated, Page,
    ParticipantView, RoleBody, RoomPage, RoomQuery, RoomView,
};
pub use messages::{AttachmentView, EditBody, MessageView, PageQuery, SendBody, StoredAttachment};
pub use projects::{
    AfterIdQuery, CreateProjectBody, DeleteProjectBody, NodeStatsView, ProjectView,
    UpdateProjectBody,
};
pub use search::{
    MessageSearchHit, MessageSearchQuery, MessageSearchResults, SearchCursor, highlight,
};
pub use server::{
    ParticipantRef, ServerConversationQuery, ServerConversationView, ServerCreateConversationBody,
    ServerParticipantsBody, ServerSendBody,
};
pub use uploads::{UploadForm, UploadView};
pub use users::{
    CreateUserBody, LoginBody, MintTokenBody, RefreshBody, RegisterBody, RevokedCount,
    ServerUserView, TokenResponse, UpdateUserBody, UpsertUserBody, UserProfile, UserSearchQuery,
    UserTokenView, UserView, WidgetSession, WidgetSessionBody, WsTicketView,
};
pub use webhooks::{
    CreateWebhookBody, DeliveryView, UpdateWebhookBody, WebhookCreated, WebhookView,
};
