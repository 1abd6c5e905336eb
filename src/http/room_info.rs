//! `PATCH /api/v1/conversations/{id}` `{title?, description?, visibility?}`: a room's owners
//! and admins edit what it shows (the policy's `EditInfo`: agents and admins for a support
//! conversation; nobody for a direct one). docs/PROTOCOL.md §3.

use actix::prelude::*;
use actix_web::{HttpResponse, web};
use diesel::prelude::{ExpressionMethods, QueryDsl, SelectableHelper};
use serde::Deserialize;

use super::invites::check_role_action;
use crate::actors::db_writer::DbWriter;
use crate::auth::AuthUser;
use crate::db::models::ConversationRow;
use crate::db::schema::conversations;
use crate::db::{DbError, on_conn};
use crate::domain::{ConversationId, ConversationKind, Description, Title, Visibility};
use crate::error::{AppError, ErrorEnvelope};
use crate::http::extract::Json;
use crate::http::state::AppState;
use crate::policy::RoomAction;

/// `PATCH /api/v1/conversations/{id}` body: each field given is set (`null` clears a title or
/// description); absent fields stay.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InfoBody {
    /// New title (at most 200 characters), or `null`.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub title: Option<Option<String>>,
    /// New description (at most 1,000 characters), or `null`.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// `public` or `private` (groups and channels only).
    #[serde(default)]
    pub visibility: Option<Visibility>,
}

/// A field that is present, `null` included: `Some(None)` for `null`, `Some(Some(v))` for a
/// value; absent fields stay `None` through `#[serde(default)]`.
pub(in crate::http) fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Store a room's new info (a write).
#[derive(Message, Debug, Clone)]
#[rtype(result = "Result<ConversationRow, DbError>")]
pub struct UpdateInfo {
    /// The conversation.
    pub id: ConversationId,
    /// New title, if it changes.
    pub title: Option<Option<String>>,
    /// New description, if it changes.
    pub description: Option<Option<String>>,
    /// New visibility, if it changes.
    pub visibility: Option<Visibility>,
}

impl Handler<UpdateInfo> for DbWriter {
    type Result = Result<ConversationRow, DbError>;
    fn handle(&mut self, m: UpdateInfo, _: &mut Self::Context) -> Self::Result {
        use diesel::RunQueryDsl as _;
        self.with_conn(|conn| {
            crate::db::write_transaction(conn, |conn| {
                let target = conversations::table.find(m.id);
                if let Some(title) = &m.title {
                    on_conn!(conn, c => diesel::update(target).set(conversations::title.eq(title)).execute(c))?;
                }
                if let Some(description) = &m.description {
                    on_conn!(conn, c => {
                        diesel::update(target).set(conversations::description.eq(description)).execute(c)
                    })?;
                }
                if let Some(visibility) = m.visibility {
                    on_conn!(conn, c => {
                        diesel::update(target)
                            .set(conversations::visibility.eq(visibility.as_str()))
                            .execute(c)
                    })?;
                }
                Ok(on_conn!(conn, c => target.select(ConversationRow::as_select()).first(c))?)
            })
        })
    }
}

/// Edit a room's title, description or visibility
///
/// `PATCH /api/v1/conversations/{id}` → 200 the conversation (§4.2). 400 for a bad title or
/// description, or `visibility` on a direct or support conversation; 403 for roles below
/// admin; 404 where the caller sees nothing. A public room turned private leaves the
/// directory; its participants stay.
#[utoipa::path(
    patch, path = "/api/v1/conversations/{id}", tag = "conversations",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Conversation id")),
    request_body = InfoBody,
    responses(
        (status = 200, description = "The conversation", body = crate::api::ConversationView),
        (status = 400, description = "`validation_failed`: a bad title or description, or `visibility` on a direct or support conversation", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: roles below admin", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such conversation, or the caller may not see it", body = ErrorEnvelope),
    )
)]
pub async fn update(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<ConversationId>,
    body: Json<InfoBody>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let body = body.into_inner();
    let title = match &body.title {
        Some(raw) => Some(Title::parse(raw.as_deref())?),
        None => None,
    };
    let description = match &body.description {
        Some(raw) => Some(Description::parse(raw.as_deref())?),
        None => None,
    };
    let kind = {
        let mut conn = state.db.read().await?;
        let row = check_role_action(&mut conn, &auth, id, RoomAction::EditInfo).await?;
        ConversationKind::from_stored(&row.kind)
    };
    if body.visibility.is_some()
        && !matches!(kind, ConversationKind::Group | ConversationKind::Channel)
    {
        return Err(AppError::Validation(
            "visibility: only groups and channels can be public".into(),
        ));
    }
    let change = UpdateInfo {
        id,
        title,
        description,
        visibility: body.visibility,
    };
    state.writer.send(change).await??;
    tracing::info!(conversation_id = %id, by = %auth.id, "conversation info edited");
    super::conversations::get(state, auth, web::Path::from(id)).await
}
