//! `POST /api/v1/widget/session`: the website widget's sign-in (docs/PROTOCOL.md, *Widget
//! sessions*). An anonymous visitor gets a user of their own and a visitor token that brings
//! them back; a host site's signed-in user comes with `external_id` and its `user_hash`
//! ([`crate::auth::visitor`]). Either way the answer is a login's tokens.
//!
//! The browser's `Origin` must be allowed for the project (its `allowed_origins` setting, else
//! `server.allowed_origins`), as for its WebSockets. Requests count against
//! `limits.auth_attempts_per_ip_per_minute`, as sign-ins do.

use actix_web::{HttpRequest, HttpResponse, web};

use crate::actors::db_writer::UpsertExternalUser;
use crate::api::{WidgetSession, WidgetSessionBody};
use crate::auth::visitor::{VISITOR_PREFIX, user_hash_matches};
use crate::db::queries::projects;
use crate::db::queries::users::ExternalUser;
use crate::domain::{Email, ExternalId, ProjectId, validate_display_name};
use crate::error::{AppError, ErrorEnvelope};
use crate::http::auth::issue_tokens;
use crate::http::extract::Json;
use crate::http::state::AppState;
use crate::http::ws::check_origin;
use crate::project_settings::ProjectSettings;

/// Who the widget's visitor is, once checked.
struct Visitor {
    external_id: String,
    /// The anonymous visitor's token to answer with.
    token: Option<String>,
    /// A new anonymous visitor (named `Visitor <id>` unless a name was given).
    new: bool,
}

/// Start a widget visitor's session
///
/// `POST /api/v1/widget/session` `{project_id, visitor_token?, external_id?, user_hash?,
/// name?, email?}` → 201 (a new user) or 200 [`WidgetSession`].
///
/// # Errors
/// 404 `not_found` for an unknown project; 403 `forbidden` for an origin the project does not
/// allow, an anonymous visitor where the project requires identities, or a disabled user; 401
/// `unauthorized` for a visitor token or a `user_hash` that does not check out; 400
/// `validation_failed` for bad fields (`email` without a verified identity, `external_id`
/// without `user_hash` or the other way round, identities where the project has no
/// `widget_identity_secret`); 409 `email_taken`.
#[utoipa::path(
    post, path = "/api/v1/widget/session", tag = "auth",
    request_body = WidgetSessionBody,
    responses(
        (status = 201, description = "A new user, signed in", body = WidgetSession),
        (status = 200, description = "The same user again, signed in", body = WidgetSession),
        (status = 400, description = "`validation_failed`: bad fields, `email` without a verified identity, `external_id` without `user_hash` or the other way round, or identities where the project has no `widget_identity_secret`", body = ErrorEnvelope),
        (status = 401, description = "`unauthorized`: a visitor token or `user_hash` that does not check out", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: an origin the project does not allow, an anonymous visitor where the project requires identities, or a disabled user", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such project", body = ErrorEnvelope),
        (status = 409, description = "`email_taken`", body = ErrorEnvelope),
    )
)]
pub async fn session(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Json<WidgetSessionBody>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    let project = body.project_id;
    let known = {
        let mut conn = state.db.read().await?;
        projects::find(&mut conn, project).await?.is_some()
    };
    if !known {
        return Err(AppError::not_found("project"));
    }
    let settings = state.projects.get(project);
    check_origin(&req, &state, project)?;
    let visitor = identify(&state, project, &settings, &body)?;
    let display_name = match validate_display_name(body.name.as_deref())? {
        Some(name) => Some(name),
        None if visitor.new => Some(default_name(&visitor.external_id)),
        None => None,
    };
    let email = match (&body.email, visitor.token.is_some()) {
        (None, _) => None,
        (Some(_), true) => {
            return Err(AppError::Validation(
                "email: only for a verified identity (external_id and user_hash)".into(),
            ));
        }
        (Some(raw), false) => Some(Email::parse(raw)?.as_str().to_owned()),
    };
    let user = ExternalUser {
        project_id: project,
        external_id: visitor.external_id,
        display_name,
        email,
        role: None,
        metadata: None,
    };
    let upserted = state.write(UpsertExternalUser { user }, "user").await?;
    if upserted.row.disabled {
        return Err(AppError::Forbidden("this account is disabled".into()));
    }
    let tokens = issue_tokens(&state, &upserted.row).await?;
    tracing::info!(user_id = %upserted.row.id, project_id = %project, created = upserted.created, "widget session");
    let answer = WidgetSession {
        tokens,
        visitor_token: visitor.token,
    };
    Ok(if upserted.created {
        HttpResponse::Created().json(answer)
    } else {
        HttpResponse::Ok().json(answer)
    })
}

/// Checks the identity `body` claims: a verified external id, a returning visitor, or a new
/// one.
fn identify(
    state: &AppState,
    project: ProjectId,
    settings: &ProjectSettings,
    body: &WidgetSessionBody,
) -> Result<Visitor, AppError> {
    match (&body.external_id, &body.user_hash) {
        (Some(external_id), Some(user_hash)) => {
            let secret = settings.widget_identity_secret.as_deref().ok_or_else(|| {
                AppError::Validation(
                    "external_id: this project has no widget_identity_secret to verify it".into(),
                )
            })?;
            let external_id = ExternalId::parse(external_id)?;
            if external_id.starts_with(VISITOR_PREFIX) {
                return Err(AppError::Validation(format!(
                    "external_id: {VISITOR_PREFIX}… is reserved for anonymous visitors"
                )));
            }
            if !user_hash_matches(secret, &external_id, user_hash) {
                return Err(AppError::Unauthorized(
                    "user_hash does not match external_id".into(),
                ));
            }
            Ok(Visitor {
                external_id,
                token: None,
                new: false,
            })
        }
        (Some(_), None) => Err(AppError::Validation(
            "user_hash: required with external_id".into(),
        )),
        (None, Some(_)) => Err(AppError::Validation(
            "external_id: required with user_hash".into(),
        )),
        (None, None) if settings.widget_identity_required == Some(true) => Err(
            AppError::Forbidden("this project's widget needs a verified identity".into()),
        ),
        (None, None) => match &body.visitor_token {
            Some(token) => {
                let id = state
                    .visitors
                    .verify(project, token)
                    .ok_or_else(|| AppError::Unauthorized("visitor_token is not valid".into()))?;
                Ok(Visitor {
                    external_id: format!("{VISITOR_PREFIX}{id}"),
                    token: Some(token.clone()),
                    new: false,
                })
            }
            None => {
                let (id, token) = state.visitors.issue(project);
                Ok(Visitor {
                    external_id: format!("{VISITOR_PREFIX}{id}"),
                    token: Some(token),
                    new: true,
                })
            }
        },
    }
}

/// `Visitor` and four characters of the visitor's id, so agents tell visitors apart.
fn default_name(external_id: &str) -> String {
    let id = external_id.trim_start_matches(VISITOR_PREFIX);
    let short: String = id
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(4)
        .collect();
    format!("Visitor {}", short.to_uppercase())
}
