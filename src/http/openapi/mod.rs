//! The OpenAPI 3.1 document of the REST API, generated from the code: every handler carries
//! its `#[utoipa::path]` next to it, the request and response types derive `utoipa::ToSchema`
//! (`crate::api`), and [`ApiDoc`] collects them, with the WebSocket frames (`ClientCommand`,
//! `ServerFrame`, from `crate::protocol`) as schemas of their own. [`common`] adds what every route of a kind
//! can answer (401, 429, 5xx...) and the security schemes. Served at
//! `GET /api-docs/openapi.json`, with a docs UI at `GET /api-docs` ([`ui`]) whose assets are
//! compiled into the binary: it loads nothing from elsewhere.
//!
//! The tests here walk the real router and fail when a route is missing from the document, or
//! the document names a route that does not exist.

mod common;
mod ui;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::OnceLock;

use actix_web::HttpResponse;
use utoipa::OpenApi;

pub use ui::{asset, page};

use super::{
    admin, annotations, api_keys, auth, conversations, desk, health, invites, membership, messages,
    metrics, project_settings, receipts, room_info, rooms, search, server, server_conversations,
    server_messages, uploads, user_tokens, users, webhooks, widget, ws,
};

/// Routes that are not part of the REST API, and so not in the document: the demo page, the
/// docs UI, the console, the widget and their files. All answer GET only.
pub const NOT_DOCUMENTED: [&str; 16] = [
    "/",
    "/reset-password",
    "/confirm-email",
    "/account-email.js",
    "/favicon.ico",
    "/api-docs",
    "/api-docs/",
    "/api-docs/openapi.json",
    "/api-docs/{asset}",
    "/console",
    "/console/",
    "/console/{file:.+}",
    "/widget.js",
    "/widget/{file:.+}",
    "/clients/js/{file:.+}",
    "/vendor/{file:.+}",
];

/// The document's paths, tags and metadata; [`document`] adds the shared responses and
/// security schemes.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Parlor",
        description = "The REST API of Parlor, a realtime chat server. Client routes take a \
                       user's access token (`Authorization: Bearer <JWT>`); the server API \
                       (`/api/v1/server/...`, tag `server`) takes a project's API key \
                       (`X-API-Key: pk_...` or `Authorization: Bearer pk_...`). Every error \
                       body is `{\"error\":{\"code\",\"message\"}}` (`ErrorEnvelope`). The \
                       WebSocket protocol (`GET /api/v1/ws`) is docs/PROTOCOL.md §5; its frames \
                       are the schemas `ClientCommand` (client to server) and `ServerFrame`."
    ),
    paths(
        health::health, health::live, health::ready, metrics::metrics,
        auth::register, auth::login, auth::refresh, auth::logout, auth::logout_all, auth::me,
        auth::ws_ticket, ws::upgrade, widget::session,
        users::create, users::search, users::profile, users::update,
        admin::create, admin::list, admin::get, admin::update, admin::delete, admin::stats,
        api_keys::create, api_keys::list, api_keys::revoke,
        project_settings::get, project_settings::update,
        webhooks::create, webhooks::list, webhooks::get, webhooks::update, webhooks::delete,
        webhooks::deliveries, webhooks::redeliver,
        conversations::create, conversations::list, conversations::get, room_info::update,
        conversations::delete, conversations::close, receipts::read, receipts::unread,
        membership::list, membership::add, membership::set_role, membership::remove,
        membership::leave, membership::join, membership::list_bans, membership::ban,
        membership::unban, rooms::list,
        invites::list, invites::create, invites::revoke, invites::accept,
        messages::list, messages::send, messages::edit, messages::delete,
        annotations::react, annotations::unreact, annotations::pin, annotations::unpin,
        annotations::pins,
        search::messages,
        uploads::upload, uploads::download::download, uploads::download::thumbnail,
        server::upsert_user, server::get_user, server::deactivate_user,
        user_tokens::mint, user_tokens::revoke_user, user_tokens::revoke,
        server_conversations::create, server_conversations::list, server_conversations::get,
        server_conversations::add_participants, server_conversations::remove_participant,
        server_conversations::close, server::messages, server_messages::post_message,
        desk::set_status, desk::assign, desk::lists::queue, desk::lists::agents,
        desk::lists::availability, desk::canned::list, desk::canned::create,
        desk::canned::update, desk::canned::delete, desk::labels::list, desk::labels::create,
        desk::labels::update, desk::labels::delete, desk::labels::add, desk::labels::remove,
        desk::csat::rate, desk::csat::list, desk::metrics::metrics,
    ),
    components(schemas(
        crate::error::ErrorEnvelope,
        crate::error::ErrorCode,
        crate::protocol::ClientCommand,
        crate::protocol::ServerFrame,
    )),
    tags(
        (name = "health", description = "Liveness and readiness"),
        (name = "auth", description = "Registration, sign-in and tokens (docs/PROTOCOL.md §2)"),
        (name = "realtime", description = "The WebSocket upgrade and its tickets (docs/PROTOCOL.md §5)"),
        (name = "users", description = "The user directory; admins manage accounts"),
        (name = "projects", description = "Projects (tenants), their settings and API keys"),
        (name = "webhooks", description = "A project's webhook endpoints and deliveries"),
        (name = "conversations", description = "Conversations, receipts and unread counts"),
        (name = "membership", description = "Participants, bans and the room directory"),
        (name = "invites", description = "Invite links"),
        (name = "messages", description = "History, sends, edits, deletions, reactions and pins"),
        (name = "search", description = "Message search"),
        (name = "uploads", description = "Files and thumbnails"),
        (name = "desk", description = "The support desk: statuses, assignment, the queue, \
                                        agents' availability (docs/PROTOCOL.md, *Support desk*)"),
        (name = "server", description = "The server API: a project's backend, holding an API key \
                                          (docs/SERVER_API.md)"),
    ),
)]
pub struct ApiDoc;

/// The whole document: [`ApiDoc`] with the shared responses and security schemes.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(super::account_email::AccountEmailApi::openapi());
    common::complete(&mut doc);
    doc
}

/// The document as JSON, built once, its descriptions free of rustdoc links.
fn document_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| match serde_json::to_string(&document()) {
        Ok(json) => without_rustdoc_links(&json),
        Err(err) => {
            tracing::error!(error = %err, "cannot serialize the OpenAPI document");
            "{}".into()
        }
    })
}

/// `text` with the rustdoc links of the doc comments it was made from (``[`Name`]``,
/// ``[`Name`](crate::path)``) as plain code spans (`` `Name` ``), which is what a reader of the
/// document can follow.
fn without_rustdoc_links(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("[`") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        // The code span must close at once with "`]" and hold no quote (it is inside a JSON
        // string).
        let Some(end) = after[1..].find('`').map(|i| i + 1) else {
            out.push_str(&rest[start..]);
            return out;
        };
        let span = &after[..=end];
        let tail = &after[end + 1..];
        if !tail.starts_with(']') || span.contains('"') {
            out.push('[');
            rest = after;
            continue;
        }
        out.push_str(span);
        rest = &tail[1..];
        // A link target: `(crate::path)` with no space or quote.
        if let Some(target) = rest.strip_prefix('(')
            && let Some(close) = target.find(')')
            && !target[..close].contains([' ', '"'])
        {
            rest = &target[close + 1..];
        }
    }
    out.push_str(rest);
    out
}

/// `GET /api-docs/openapi.json`: the OpenAPI 3.1 document.
pub async fn spec() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(document_json())
}

/// The methods of the route `pattern` (`GET, POST`), for the `Allow` header of a 405 (RFC 9110
/// §15.5.6): the document's, which the router matches (the route test), or `GET` for the
/// routes [`NOT_DOCUMENTED`].
pub fn allowed_methods(pattern: &str) -> &'static str {
    static ALLOWED: OnceLock<HashMap<String, String>> = OnceLock::new();
    let allowed = ALLOWED.get_or_init(|| {
        let doc = document();
        doc.paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods: Vec<&str> = [
                    ("GET", item.get.is_some()),
                    ("PUT", item.put.is_some()),
                    ("POST", item.post.is_some()),
                    ("DELETE", item.delete.is_some()),
                    ("PATCH", item.patch.is_some()),
                ]
                .into_iter()
                .filter_map(|(method, present)| present.then_some(method))
                .collect();
                (path.clone(), methods.join(", "))
            })
            .collect()
    });
    allowed.get(pattern).map_or("GET", String::as_str)
}
