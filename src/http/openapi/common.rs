//! What the handlers' annotations leave to one place: the security schemes, unique operation
//! ids, and the error responses every route of a kind can give (listed once here as reusable
//! responses, so an annotation names only what is particular to its route):
//!
//! - every `/api/v1` route: 429 `rate_limited` (`limits.api_requests_per_minute`, the
//!   `limits::enforce` middleware), 500 `internal`, 503 `unavailable`;
//! - a route that needs credentials: 401 `unauthorized`;
//! - a route with a JSON body: 400 (`bad_request`, `validation_failed`) and 413
//!   `payload_too_large` (`limits.json_body_max_bytes`);
//! - a route with query parameters: 400 `validation_failed`;
//! - a route with path parameters: 404 `not_found` (a value that does not parse, e.g. a
//!   non-integer id, is answered as a missing resource).

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{AnyOfBuilder, Schema};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, OpenApi, Ref, RefOr, Response, ResponseBuilder, SecurityRequirement,
    header::HeaderBuilder,
};

/// The shared responses: (status, component name, description).
const SHARED: [(&str, &str, &str); 7] = [
    (
        "400",
        "BadRequest",
        "`bad_request` (unparsable body, wrong `Content-Type`) or `validation_failed` (a field or query parameter with a bad value; the message names it)",
    ),
    (
        "401",
        "Unauthorized",
        "`unauthorized`: missing, invalid, expired or revoked credentials",
    ),
    (
        "404",
        "NotFound",
        "`not_found`: a path parameter that does not name anything the caller can see",
    ),
    (
        "413",
        "PayloadTooLarge",
        "`payload_too_large`: a body over `limits.json_body_max_bytes`",
    ),
    (
        "429",
        "RateLimited",
        "`rate_limited`, with `Retry-After` (seconds) and `retry_after_ms`",
    ),
    (
        "500",
        "Internal",
        "`internal`: an unexpected failure (logged, never detailed)",
    ),
    (
        "503",
        "Unavailable",
        "`unavailable`: the database or a dependency cannot be reached right now",
    ),
];

/// Adds the security schemes and shared responses to `doc`, gives every operation a unique id
/// (`<method>_<path>`), and lists on each operation the shared responses it can give.
pub fn complete(doc: &mut OpenApi) {
    let components = doc.components.get_or_insert_with(Default::default);
    // An `ack`'s data is one of several shapes that overlap (`{conversation_id}` is part of a
    // join's): "any of", as serde's untagged enum reads it, not "exactly one of".
    if let Some(RefOr::T(Schema::OneOf(one_of))) = components.schemas.get("Ack") {
        let any_of = one_of
            .items
            .iter()
            .cloned()
            .fold(AnyOfBuilder::new(), AnyOfBuilder::item)
            .description(one_of.description.clone())
            .build();
        components
            .schemas
            .insert("Ack".into(), RefOr::T(Schema::AnyOf(any_of)));
    }
    components.security_schemes.insert(
        "bearer".into(),
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some(
                    "A user's access token, from `/api/v1/auth/login`, `/register`, \
                     `/refresh`, or minted by the server API",
                ))
                .build(),
        ),
    );
    components.security_schemes.insert(
        "api_key".into(),
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "X-API-Key",
            "A project's API key (`pk_...`), for the server API",
        ))),
    );
    components.security_schemes.insert(
        "api_key_bearer".into(),
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("pk_...")
                .description(Some(
                    "The API key as a bearer token: `Authorization: Bearer pk_...`",
                ))
                .build(),
        ),
    );
    for (_, name, description) in SHARED {
        components
            .responses
            .insert(name.into(), RefOr::T(shared_response(name, description)));
    }
    for (path, item) in doc.paths.paths.iter_mut() {
        let api = path.starts_with("/api/v1/");
        let methods = [
            ("get", &mut item.get),
            ("put", &mut item.put),
            ("post", &mut item.post),
            ("delete", &mut item.delete),
            ("patch", &mut item.patch),
        ];
        for (method, operation) in methods {
            if let Some(operation) = operation {
                operation.operation_id = Some(operation_id(method, path));
                if api {
                    add_shared(operation);
                }
            }
        }
    }
}

/// `get_conversations_id_messages` for `GET /api/v1/conversations/{id}/messages`.
fn operation_id(method: &str, path: &str) -> String {
    let rest = path.strip_prefix("/api/v1").unwrap_or(path);
    let words: Vec<String> = rest
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect();
    format!("{method}_{}", words.join("_"))
}

/// The shared responses that `operation` can give and does not list already.
fn add_shared(operation: &mut Operation) {
    let needs_credentials = operation
        .security
        .as_ref()
        .is_some_and(|all| !all.iter().any(|r| *r == SecurityRequirement::default()));
    let parameters = operation.parameters.as_deref().unwrap_or_default();
    let has = |place: ParameterIn| {
        parameters
            .iter()
            .any(|p| std::mem::discriminant(&p.parameter_in) == std::mem::discriminant(&place))
    };
    let json_body = operation
        .request_body
        .as_ref()
        .is_some_and(|body| body.content.contains_key("application/json"));
    let wanted = [
        ("400", json_body || has(ParameterIn::Query)),
        ("401", needs_credentials),
        ("404", has(ParameterIn::Path)),
        ("413", json_body),
        ("429", true),
        ("500", true),
        ("503", true),
    ];
    for (status, wanted) in wanted {
        let Some((_, name, _)) = SHARED.iter().find(|(s, ..)| *s == status) else {
            continue;
        };
        if wanted && !operation.responses.responses.contains_key(status) {
            operation
                .responses
                .responses
                .insert(status.into(), RefOr::Ref(Ref::from_response_name(*name)));
        }
    }
}

/// A shared error response: the error body, and `Retry-After` for `RateLimited`.
fn shared_response(name: &str, description: &str) -> Response {
    let body = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("ErrorEnvelope")))
        .build();
    let response = ResponseBuilder::new()
        .description(description)
        .content("application/json", body);
    if name == "RateLimited" {
        let seconds = utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::Integer)
            .build();
        return response
            .header(
                "retry-after",
                HeaderBuilder::new()
                    .schema(seconds)
                    .description(Some("Whole seconds until a retry can succeed"))
                    .build(),
            )
            .build();
    }
    response.build()
}
