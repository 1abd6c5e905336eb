//! The HTTP surface: route table and the JSON error handling shared by every route.
//!
//! Handlers are thin: extract, validate, call an actor or a read query, map errors. Every error
//! body is `{"error":{"code","message"}}` (see [`crate::error`]), including the ones actix-web
//! itself would produce for a malformed JSON body, query string or path.

mod account_email;
mod admin;
mod annotations;
mod announce;
pub mod api_keys;
mod assets;
mod auth;
pub mod client_ip;
mod conversations;
mod desk;
pub mod extract;
mod health;
mod invites;
pub mod limits;
mod membership;
mod messages;
pub mod metrics;
pub mod openapi;
mod paging;
mod project_settings;
mod receipts;
mod room_info;
mod rooms;
mod search;
mod server;
mod server_conversations;
mod server_messages;
pub mod state;
pub mod tickets;
mod uploads;
mod user_tokens;
mod users;
mod webhooks;
mod widget;
pub mod ws;

pub use state::AppState;

use actix_web::error::PathError;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::AppError;

/// Registers every route on `cfg`. `json_limit` is `limits.json_body_max_bytes`.
pub fn routes(cfg: &mut web::ServiceConfig, json_limit: usize) {
    cfg.app_data(web::PayloadConfig::new(json_limit))
        .app_data(web::PathConfig::default().error_handler(path_error))
        .configure(assets::routes)
        // Browsers ask for it on every page: no icon, and no 404 in their console.
        .service(resource("/favicon.ico").route(web::get().to(HttpResponse::NoContent)))
        .service(resource("/health").route(web::get().to(health::health)))
        .service(resource("/health/live").route(web::get().to(health::live)))
        .service(resource("/health/ready").route(web::get().to(health::ready)))
        .service(resource("/metrics").route(web::get().to(metrics::metrics)))
        // The OpenAPI document and its docs UI, whose files are compiled in (http/openapi).
        .service(resource("/api-docs").route(web::get().to(openapi::page)))
        .service(resource("/api-docs/").route(web::get().to(openapi::page)))
        .service(resource("/api-docs/openapi.json").route(web::get().to(openapi::spec)))
        .service(resource("/api-docs/{asset}").route(web::get().to(openapi::asset)))
        .service(
            web::scope("/api/v1")
                .wrap(actix_web::middleware::from_fn(extract::refuse_nul_in_path))
                .wrap(actix_web::middleware::from_fn(limits::enforce))
                .service(resource("/auth/register").route(web::post().to(auth::register)))
                .service(resource("/auth/login").route(web::post().to(auth::login)))
                .service(resource("/auth/refresh").route(web::post().to(auth::refresh)))
                .service(resource("/auth/logout").route(web::post().to(auth::logout)))
                .service(resource("/auth/logout-all").route(web::post().to(auth::logout_all)))
                .service(resource("/auth/me").route(web::get().to(auth::me)))
                .service(
                    resource("/users")
                        .route(web::post().to(users::create))
                        .route(web::get().to(users::search)),
                )
                .service(
                    resource("/users/{id}")
                        .route(web::get().to(users::profile))
                        .route(web::patch().to(users::update)),
                )
                .service(resource("/ws-ticket").route(web::post().to(auth::ws_ticket)))
                .service(resource("/widget/session").route(web::post().to(widget::session)))
                .service(resource("/admin/stats").route(web::get().to(admin::stats)))
                .service(
                    resource("/admin/projects")
                        .route(web::post().to(admin::create))
                        .route(web::get().to(admin::list)),
                )
                .service(
                    resource("/projects/{id}/api-keys")
                        .route(web::post().to(api_keys::create))
                        .route(web::get().to(api_keys::list)),
                )
                .service(
                    resource("/projects/{id}/settings")
                        .route(web::get().to(project_settings::get))
                        .route(web::patch().to(project_settings::update)),
                )
                .service(
                    resource("/projects/{id}/api-keys/{key_id}")
                        .route(web::delete().to(api_keys::revoke)),
                )
                .service(
                    resource("/projects/{id}/webhooks")
                        .route(web::post().to(webhooks::create))
                        .route(web::get().to(webhooks::list)),
                )
                .service(
                    resource("/projects/{id}/webhooks/{webhook_id}")
                        .route(web::get().to(webhooks::get))
                        .route(web::patch().to(webhooks::update))
                        .route(web::delete().to(webhooks::delete)),
                )
                .service(
                    resource("/projects/{id}/webhooks/{webhook_id}/deliveries")
                        .route(web::get().to(webhooks::deliveries)),
                )
                .service(
                    resource(
                        "/projects/{id}/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
                    )
                    .route(web::post().to(webhooks::redeliver)),
                )
                .service(
                    resource("/server/users/{external_id}")
                        .route(web::put().to(server::upsert_user))
                        .route(web::get().to(server::get_user))
                        .route(web::delete().to(server::deactivate_user)),
                )
                .service(
                    resource("/server/users/{external_id}/tokens")
                        .route(web::post().to(user_tokens::mint))
                        .route(web::delete().to(user_tokens::revoke_user)),
                )
                .service(
                    resource("/server/tokens/{token_id}")
                        .route(web::delete().to(user_tokens::revoke)),
                )
                .service(
                    resource("/server/conversations")
                        .route(web::post().to(server_conversations::create))
                        .route(web::get().to(server_conversations::list)),
                )
                .service(
                    resource("/server/conversations/{id}")
                        .route(web::get().to(server_conversations::get)),
                )
                .service(
                    resource("/server/conversations/{id}/participants")
                        .route(web::post().to(server_conversations::add_participants)),
                )
                .service(
                    resource("/server/conversations/{id}/participants/{external_id}")
                        .route(web::delete().to(server_conversations::remove_participant)),
                )
                .service(
                    resource("/server/conversations/{id}/close")
                        .route(web::post().to(server_conversations::close)),
                )
                .service(
                    resource("/server/conversations/{id}/messages")
                        .route(web::get().to(server::messages))
                        .route(web::post().to(server_messages::post_message)),
                )
                .service(
                    resource("/admin/projects/{id}")
                        .route(web::get().to(admin::get))
                        .route(web::patch().to(admin::update))
                        .route(web::delete().to(admin::delete)),
                )
                .service(
                    resource("/conversations")
                        .route(web::post().to(conversations::create))
                        .route(web::get().to(conversations::list)),
                )
                .service(
                    resource("/conversations/{id}")
                        .route(web::get().to(conversations::get))
                        .route(web::patch().to(room_info::update))
                        .route(web::delete().to(conversations::delete)),
                )
                .service(
                    resource("/conversations/{id}/close")
                        .route(web::post().to(conversations::close)),
                )
                .service(
                    resource("/conversations/{id}/messages")
                        .route(web::get().to(messages::list))
                        .route(web::post().to(messages::send)),
                )
                .service(resource("/conversations/{id}/read").route(web::post().to(receipts::read)))
                .service(
                    resource("/conversations/{id}/status").route(web::post().to(desk::set_status)),
                )
                .service(resource("/conversations/{id}/assign").route(web::post().to(desk::assign)))
                .service(resource("/desk/queue").route(web::get().to(desk::queue)))
                .service(resource("/desk/agents").route(web::get().to(desk::agents)))
                .service(resource("/desk/metrics").route(web::get().to(desk::metrics::metrics)))
                .service(resource("/desk/availability").route(web::put().to(desk::availability)))
                .service(
                    resource("/conversations/{id}/labels/{label}")
                        .route(web::post().to(desk::labels::add))
                        .route(web::delete().to(desk::labels::remove)),
                )
                .service(
                    resource("/conversations/{id}/csat")
                        .route(web::get().to(desk::csat::list))
                        .route(web::post().to(desk::csat::rate)),
                )
                .service(
                    resource("/desk/labels")
                        .route(web::get().to(desk::labels::list))
                        .route(web::post().to(desk::labels::create)),
                )
                .service(
                    resource("/desk/labels/{id}")
                        .route(web::patch().to(desk::labels::update))
                        .route(web::delete().to(desk::labels::delete)),
                )
                .service(
                    resource("/desk/canned")
                        .route(web::get().to(desk::canned::list))
                        .route(web::post().to(desk::canned::create)),
                )
                .service(
                    resource("/desk/canned/{id}")
                        .route(web::patch().to(desk::canned::update))
                        .route(web::delete().to(desk::canned::delete)),
                )
                .service(
                    resource("/messages/{id}")
                        .route(web::patch().to(messages::edit))
                        .route(web::delete().to(messages::delete)),
                )
                .service(resource("/unread").route(web::get().to(receipts::unread)))
                .service(resource("/search/messages").route(web::get().to(search::messages)))
                .service(resource("/uploads").route(web::post().to(uploads::upload)))
                .service(resource("/uploads/{id}").route(web::get().to(uploads::download)))
                .service(
                    resource("/uploads/{id}/thumbnail").route(web::get().to(uploads::thumbnail)),
                )
                .service(resource("/ws").route(web::get().to(ws::upgrade)))
                .configure(account_email::routes)
                .configure(membership::routes)
                .configure(annotations::routes),
        )
        .default_service(web::to(not_found));
}

/// A resource whose unsupported methods get 405 `method_not_allowed`.
fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(method_not_allowed))
}

/// 405 `method_not_allowed`, with `Allow` listing the resource's methods (RFC 9110 §15.5.6).
async fn method_not_allowed(req: HttpRequest) -> HttpResponse {
    let error = AppError::MethodNotAllowed(format!(
        "{} is not supported on {}",
        req.method(),
        req.path()
    ));
    let mut response = actix_web::ResponseError::error_response(&error);
    let allowed = openapi::allowed_methods(req.match_pattern().as_deref().unwrap_or_default());
    response.headers_mut().insert(
        actix_web::http::header::ALLOW,
        actix_web::http::header::HeaderValue::from_static(allowed),
    );
    response
}

async fn not_found(req: HttpRequest) -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound(format!(
        "no route for {} {}",
        req.method(),
        req.path()
    )))
}

fn path_error(err: PathError, _: &HttpRequest) -> actix_web::Error {
    AppError::NotFound(format!("bad path parameter: {err}")).into()
}

/// 201 Created with a JSON body.
fn created<T: serde::Serialize>(body: &T) -> HttpResponse {
    HttpResponse::Created().json(body)
}
