//! `/api/v1/projects/{id}/webhooks`: a project's admins (and instance admins) create, list,
//! change and delete its webhook endpoints, read their delivery logs and redeliver
//! (docs/SERVER_API.md, *Webhooks*). Every handler asks [`policy::check_webhooks`] with the
//! caller's account as it is now.

use actix_web::{HttpResponse, web};

use crate::api::{
    AfterIdQuery, CreateWebhookBody, DeliveryView, UpdateWebhookBody, WebhookCreated, WebhookView,
};
use crate::auth::AuthUser;
use crate::db::models::{NewWebhook, WebhookRow};
use crate::db::queries::projects;
use crate::db::queries::webhooks::{self, WebhookChange, deliveries};
use crate::domain::ProjectId;
use crate::error::{AppError, ErrorEnvelope};
use crate::http::auth::current_user;
use crate::http::extract::{Json, Query};
use crate::http::state::AppState;
use crate::policy;
use crate::webhooks::writes::{CreateWebhook, DeleteWebhook, Redeliver, UpdateWebhook};
use crate::webhooks::{KIND_HTTP, KIND_TELEGRAM, MESSAGE_CREATED, parse_events, sign};
use crate::webhooks::{target, telegram};

/// Checks that the caller may manage `project`'s webhooks and that the project exists.
async fn check_manager(
    state: &AppState,
    auth: &AuthUser,
    project: ProjectId,
) -> Result<(), AppError> {
    let caller = current_user(state, auth).await?;
    policy::check_webhooks(&caller.account(), project)?;
    let mut conn = state.db.read().await?;
    if projects::find(&mut conn, project).await?.is_none() {
        return Err(AppError::not_found("project"));
    }
    Ok(())
}

/// Endpoint `id` of `project`, or 404.
async fn endpoint(state: &AppState, project: ProjectId, id: i64) -> Result<WebhookRow, AppError> {
    let mut conn = state.db.read().await?;
    webhooks::find(&mut conn, project, id)
        .await?
        .ok_or_else(|| AppError::not_found("webhook"))
}

/// A checked URL for an `http` endpoint (shape, and no internal address unless
/// `webhooks.allow_private_targets`).
async fn checked_url(state: &AppState, url: &str) -> Result<String, AppError> {
    let parsed = target::parse(url).map_err(AppError::Validation)?;
    target::check_resolves(&parsed, state.settings.webhooks.allow_private_targets)
        .await
        .map_err(AppError::Validation)?;
    Ok(parsed.to_string())
}

/// Refuses a field that the endpoint's type does not have.
fn absent<T>(field: &Option<T>, name: &str, kind: &str) -> Result<(), AppError> {
    match field {
        Some(_) => Err(AppError::Validation(format!(
            "{name}: not a field of a {kind} webhook"
        ))),
        None => Ok(()),
    }
}

/// Create a webhook endpoint
///
/// `POST /api/v1/projects/{id}/webhooks` `{url, events, secret?}` or `{type: "telegram",
/// bot_token, chat_id, events?}` → 201 [`WebhookCreated`] (with the signing secret, shown
/// only here).
#[utoipa::path(
    post, path = "/api/v1/projects/{id}/webhooks", tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Project id")),
    request_body = CreateWebhookBody,
    responses(
        (status = 201, description = "The endpoint, with its signing secret (shown only here)", body = WebhookCreated),
        (status = 400, description = "`validation_failed`: a bad type, URL (or an internal address), event, secret, bot token or chat id", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: not an admin of the project (nor an instance admin)", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such project", body = ErrorEnvelope),
    )
)]
pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<ProjectId>,
    body: Json<CreateWebhookBody>,
) -> Result<HttpResponse, AppError> {
    let project = path.into_inner();
    check_manager(&state, &auth, project).await?;
    let body = body.into_inner();
    let kind = body.kind.as_deref().unwrap_or(KIND_HTTP);
    let (url, secret, chat_id, events) = match kind {
        KIND_HTTP => {
            absent(&body.bot_token, "bot_token", kind)?;
            absent(&body.chat_id, "chat_id", kind)?;
            let url = body
                .url
                .as_deref()
                .ok_or_else(|| AppError::Validation("url: required".into()))?;
            let events = body
                .events
                .as_deref()
                .ok_or_else(|| AppError::Validation("events: required".into()))?;
            let events = parse_events(events).map_err(AppError::Validation)?;
            let secret = match body.secret {
                Some(secret) => {
                    sign::check_secret(&secret).map_err(AppError::Validation)?;
                    secret
                }
                None => sign::generate_secret(),
            };
            (Some(checked_url(&state, url).await?), secret, None, events)
        }
        KIND_TELEGRAM => {
            absent(&body.url, "url", kind)?;
            absent(&body.secret, "secret", kind)?;
            let token = body
                .bot_token
                .ok_or_else(|| AppError::Validation("bot_token: required".into()))?;
            telegram::check_token(&token).map_err(AppError::Validation)?;
            let chat = body
                .chat_id
                .as_ref()
                .ok_or_else(|| AppError::Validation("chat_id: required".into()))?;
            let chat = telegram::parse_chat(chat).map_err(AppError::Validation)?;
            let events = match body.events.as_deref() {
                Some(events) => parse_events(events).map_err(AppError::Validation)?,
                None => vec![MESSAGE_CREATED.to_string()],
            };
            (None, token, Some(chat), events)
        }
        _ => {
            return Err(AppError::Validation(
                "type: must be \"http\" or \"telegram\"".into(),
            ));
        }
    };
    let new = NewWebhook {
        project_id: project,
        kind: kind.to_string(),
        url,
        secret: secret.clone(),
        chat_id,
        events: events.join(" "),
        created_at: crate::db::now(),
    };
    let row = state.writer.send(CreateWebhook { webhook: new }).await??;
    tracing::info!(project_id = %project, webhook_id = row.id, kind, "webhook created");
    let answer = WebhookCreated {
        webhook: row.view(),
        secret: (row.kind == KIND_HTTP).then_some(secret),
    };
    Ok(HttpResponse::Created().json(answer))
}

/// List webhook endpoints
///
/// `GET /api/v1/projects/{id}/webhooks?after_id=&limit=` → `[WebhookView]`, ascending id.
#[utoipa::path(
    get, path = "/api/v1/projects/{id}/webhooks", tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Project id"), AfterIdQuery),
    responses(
        (status = 200, description = "Endpoints, ascending id", body = Vec<WebhookView>),
        (status = 400, description = "`validation_failed`: a bad `limit`", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: not an admin of the project (nor an instance admin)", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such project", body = ErrorEnvelope),
    )
)]
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<ProjectId>,
    query: Query<AfterIdQuery>,
) -> Result<HttpResponse, AppError> {
    let project = path.into_inner();
    check_manager(&state, &auth, project).await?;
    let limit = super::admin::page_limit(query.limit)?;
    let mut conn = state.db.read().await?;
    let rows = webhooks::page(&mut conn, project, query.after_id.unwrap_or(0), limit).await?;
    let views: Vec<WebhookView> = rows.iter().map(WebhookRow::view).collect();
    Ok(HttpResponse::Ok().json(views))
}

/// Get a webhook endpoint
///
/// `GET /api/v1/projects/{id}/webhooks/{webhook_id}` → [`WebhookView`].
#[utoipa::path(
    get, path = "/api/v1/projects/{id}/webhooks/{webhook_id}", tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Project id"), ("webhook_id" = i64, Path, description = "Webhook endpoint id")),
    responses(
        (status = 200, description = "The endpoint", body = WebhookView),
        (status = 403, description = "`forbidden`: not an admin of the project (nor an instance admin)", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such project, or no such endpoint of it", body = ErrorEnvelope),
    )
)]
pub async fn get(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<(ProjectId, i64)>,
) -> Result<HttpResponse, AppError> {
    let (project, id) = path.into_inner();
    check_manager(&state, &auth, project).await?;
    Ok(HttpResponse::Ok().json(endpoint(&state, project, id).await?.view()))
}

/// Change a webhook endpoint
///
/// `PATCH /api/v1/projects/{id}/webhooks/{webhook_id}` `{url?, events?, secret?, enabled?,
/// bot_token?, chat_id?}` → [`WebhookView`]. `enabled: true` re-enables an endpoint disabled
/// after failures; its pending deliveries resume.
#[utoipa::path(
    patch, path = "/api/v1/projects/{id}/webhooks/{webhook_id}", tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Project id"), ("webhook_id" = i64, Path, description = "Webhook endpoint id")),
    request_body = UpdateWebhookBody,
    responses(
        (status = 200, description = "The endpoint", body = WebhookView),
        (status = 400, description = "`validation_failed`: a bad field, or one the endpoint's type does not have", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: not an admin of the project (nor an instance admin)", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such project, or no such endpoint of it", body = ErrorEnvelope),
    )
)]
pub async fn update(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<(ProjectId, i64)>,
    body: Json<UpdateWebhookBody>,
) -> Result<HttpResponse, AppError> {
    let (project, id) = path.into_inner();
    check_manager(&state, &auth, project).await?;
    let row = endpoint(&state, project, id).await?;
    let body = body.into_inner();
    let mut change = WebhookChange {
        project_id: project,
        id,
        url: None,
        events: None,
        secret: None,
        chat_id: None,
        enabled: body.enabled,
    };
    if let Some(events) = &body.events {
        change.events = Some(
            parse_events(events)
                .map_err(AppError::Validation)?
                .join(" "),
        );
    }
    if row.kind == KIND_TELEGRAM {
        absent(&body.url, "url", &row.kind)?;
        absent(&body.secret, "secret", &row.kind)?;
        if let Some(token) = body.bot_token {
            telegram::check_token(&token).map_err(AppError::Validation)?;
            change.secret = Some(token);
        }
        if let Some(chat) = &body.chat_id {
            change.chat_id = Some(telegram::parse_chat(chat).map_err(AppError::Validation)?);
        }
    } else {
        absent(&body.bot_token, "bot_token", &row.kind)?;
        absent(&body.chat_id, "chat_id", &row.kind)?;
        if let Some(secret) = body.secret {
            sign::check_secret(&secret).map_err(AppError::Validation)?;
            change.secret = Some(secret);
        }
        if let Some(url) = &body.url {
            change.url = Some(checked_url(&state, url).await?);
        }
    }
    let row = state.write(UpdateWebhook { change }, "webhook").await?;
    tracing::info!(project_id = %project, webhook_id = id, enabled = row.enabled, "webhook changed");
    Ok(HttpResponse::Ok().json(row.view()))
}

/// Delete a webhook endpoint
///
/// `DELETE /api/v1/projects/{id}/webhooks/{webhook_id}` → 204, with its deliveries.
#[utoipa::path(
    delete, path = "/api/v1/projects/{id}/webhooks/{webhook_id}", tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Project id"), ("webhook_id" = i64, Path, description = "Webhook endpoint id")),
    responses(
        (status = 204, description = "Deleted, with its deliveries"),
        (status = 403, description = "`forbidden`: not an admin of the project (nor an instance admin)", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such project, or no such endpoint of it", body = ErrorEnvelope),
    )
)]
pub async fn delete(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<(ProjectId, i64)>,
) -> Result<HttpResponse, AppError> {
    let (project, id) = path.into_inner();
    check_manager(&state, &auth, project).await?;
    state
        .write(
            DeleteWebhook {
                project_id: project,
                id,
            },
            "webhook",
        )
        .await?;
    tracing::info!(project_id = %project, webhook_id = id, "webhook deleted");
    Ok(HttpResponse::NoContent().finish())
}

/// List an endpoint's deliveries
///
/// `GET /api/v1/projects/{id}/webhooks/{webhook_id}/deliveries?after_id=&limit=` →
/// `[DeliveryView]`, ascending id (the order they are attempted in).
#[utoipa::path(
    get, path = "/api/v1/projects/{id}/webhooks/{webhook_id}/deliveries", tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Project id"), ("webhook_id" = i64, Path, description = "Webhook endpoint id"), AfterIdQuery),
    responses(
        (status = 200, description = "Deliveries, ascending id", body = Vec<DeliveryView>),
        (status = 400, description = "`validation_failed`: a bad `limit`", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: not an admin of the project (nor an instance admin)", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such project, or no such endpoint of it", body = ErrorEnvelope),
    )
)]
pub async fn deliveries(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<(ProjectId, i64)>,
    query: Query<AfterIdQuery>,
) -> Result<HttpResponse, AppError> {
    let (project, id) = path.into_inner();
    check_manager(&state, &auth, project).await?;
    endpoint(&state, project, id).await?;
    let limit = super::admin::page_limit(query.limit)?;
    let mut conn = state.db.read().await?;
    let after = query.after_id.unwrap_or(0);
    let rows = deliveries::page(&mut conn, project, id, after, limit).await?;
    let views: Vec<DeliveryView> = rows.iter().map(|r| r.view()).collect();
    Ok(HttpResponse::Ok().json(views))
}

/// Redeliver an event
///
/// `POST /api/v1/projects/{id}/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver` →
/// 202 [`DeliveryView`]: queued again, due now, with the same event id and body.
#[utoipa::path(
    post, path = "/api/v1/projects/{id}/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver", tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Project id"), ("webhook_id" = i64, Path, description = "Webhook endpoint id"), ("delivery_id" = i64, Path, description = "Delivery id")),
    responses(
        (status = 202, description = "Queued again, due now", body = DeliveryView),
        (status = 403, description = "`forbidden`: not an admin of the project (nor an instance admin)", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such project, endpoint or delivery", body = ErrorEnvelope),
    )
)]
pub async fn redeliver(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<(ProjectId, i64, i64)>,
) -> Result<HttpResponse, AppError> {
    let (project, webhook_id, id) = path.into_inner();
    check_manager(&state, &auth, project).await?;
    let row = state
        .write(
            Redeliver {
                project_id: project,
                webhook_id,
                id,
            },
            "delivery",
        )
        .await?;
    tracing::info!(project_id = %project, webhook_id, delivery_id = id, "redelivery queued");
    Ok(HttpResponse::Accepted().json(row.view()))
}
