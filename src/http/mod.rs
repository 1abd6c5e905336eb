//! The HTTP surface: route table and the JSON error handling shared by every route.
//!
//! Handlers are thin: extract, validate, call an actor or a read query, map errors. Every error
//! body is `{"error":{"code","message"}}` (see [`crate::error`]), including the ones actix-web
//! itself would produce for a malformed JSON body, query string or path.

mod auth;
mod conversations;
mod health;
mod messages;
mod users;
mod ws;

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::AppError;

/// Registers every route on `cfg`. `json_limit` is `limits.json_body_max_bytes`.
pub fn routes(cfg: &mut web::ServiceConfig, json_limit: usize) {
    cfg.app_data(
        web::JsonConfig::default()
            .limit(json_limit)
            .error_handler(json_error),
    )
    .app_data(web::QueryConfig::default().error_handler(query_error))
    .app_data(web::PathConfig::default().error_handler(path_error))
    .route("/health", web::get().to(health::health))
    .service(
        web::scope("/api/v1")
            .route("/auth/register", web::post().to(auth::register))
            .route("/auth/login", web::post().to(auth::login))
            .route("/auth/refresh", web::post().to(auth::refresh))
            .route("/auth/logout", web::post().to(auth::logout))
            .route("/auth/me", web::get().to(auth::me))
            .route("/users", web::post().to(users::create))
            .route("/conversations", web::post().to(conversations::create))
            .route("/conversations", web::get().to(conversations::list))
            .route("/conversations/{id}", web::get().to(conversations::get))
            .route(
                "/conversations/{id}",
                web::delete().to(conversations::close),
            )
            .route(
                "/conversations/{id}/close",
                web::post().to(conversations::close),
            )
            .route(
                "/conversations/{id}/messages",
                web::get().to(messages::list),
            )
            .route(
                "/conversations/{id}/messages",
                web::post().to(messages::send),
            )
            .route("/ws", web::get().to(ws::upgrade)),
    )
    .default_service(web::to(not_found));
}

async fn not_found(req: HttpRequest) -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound(format!(
        "no route for {} {}",
        req.method(),
        req.path()
    )))
}

fn json_error(err: JsonPayloadError, _: &HttpRequest) -> actix_web::Error {
    let app = match &err {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
            AppError::PayloadTooLarge(format!("request body too large: {err}"))
        }
        JsonPayloadError::ContentType => {
            AppError::BadRequest("Content-Type must be application/json".into())
        }
        JsonPayloadError::Deserialize(e) if e.is_data() => {
            AppError::Validation(format!("body: {e}"))
        }
        _ => AppError::BadRequest(format!("malformed JSON body: {err}")),
    };
    app.into()
}

fn query_error(err: QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    AppError::Validation(format!("query: {err}")).into()
}

fn path_error(err: PathError, _: &HttpRequest) -> actix_web::Error {
    AppError::NotFound(format!("bad path parameter: {err}")).into()
}

/// 201 Created with a JSON body.
fn created<T: serde::Serialize>(body: &T) -> HttpResponse {
    HttpResponse::Created().json(body)
}
