//! Extractors whose errors name the offending field (`validation_failed` messages start with
//! the JSON path, e.g. `participant_ids[1]: invalid type: string "x", expected i64`), which
//! actix-web's own `Json` and `Query` cannot do.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use crate::error::AppError;
use crate::http::state::AppState;

/// A JSON request body (`Content-Type: application/json` or `+json`), at most
/// `limits.json_body_max_bytes` long (413 `payload_too_large` past it).
pub struct Json<T>(pub T);

impl<T> Json<T> {
    /// The parsed body.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// Parses `bytes` as JSON into `T`, naming the path of the first bad value. A body is an
/// object (or, where `T` allows it, `null`): an array is refused, though serde would read a
/// struct from one (`[null, null]` as `{"title": null, "description": null}`).
///
/// # Errors
/// `bad_request` for malformed JSON, `validation_failed` for a wrong shape.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    if bytes.trim_ascii_start().starts_with(b"[") {
        return Err(AppError::Validation(
            "body: must be a JSON object, not an array".into(),
        ));
    }
    // U+0000 can only arrive escaped; look closer only then.
    if bytes.windows(6).any(|w| w == br"\u0000")
        && let Some(path) = serde_json::from_slice(bytes).ok().and_then(|v| nul_in(&v))
    {
        return Err(AppError::Validation(format!("{path}: {NUL_REFUSED}")));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if inner.is_data() {
            AppError::Validation(field_message(&path, "body", &inner))
        } else {
            AppError::BadRequest(format!("malformed JSON body: {inner}"))
        }
    })?;
    deserializer
        .end()
        .map_err(|e| AppError::BadRequest(format!("malformed JSON body: {e}")))?;
    Ok(value)
}

/// What a value holding U+0000 is told. PostgreSQL's text cannot store the character, so it is
/// refused at the door on every backend alike.
pub const NUL_REFUSED: &str = "must not contain U+0000 (NUL)";

/// The path (`participants[1]`, `settings.name`; `body` for the root) of the first string or
/// key of `value` that holds U+0000.
fn nul_in(value: &serde_json::Value) -> Option<String> {
    fn walk(value: &serde_json::Value, path: &str) -> Option<String> {
        let here = || {
            if path.is_empty() {
                "body".to_string()
            } else {
                path.to_string()
            }
        };
        match value {
            serde_json::Value::String(text) if text.contains('\0') => Some(here()),
            serde_json::Value::Array(items) => items
                .iter()
                .enumerate()
                .find_map(|(i, item)| walk(item, &format!("{}[{i}]", here()))),
            serde_json::Value::Object(fields) => fields.iter().find_map(|(key, item)| {
                let path = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                if key.contains('\0') {
                    Some(path)
                } else {
                    walk(item, &path)
                }
            }),
            _ => None,
        }
    }
    walk(value, "")
}

/// Refuses, as `not_found`, a request whose path holds U+0000 (`%00`): such a path names
/// nothing, and a lookup of it would fail on PostgreSQL. A middleware of the `/api/v1` scope.
///
/// # Errors
/// 404 `not_found` for such a path; otherwise whatever the handler returns.
pub async fn refuse_nul_in_path(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let path = req.uri().path();
    if path.contains("%00") || path.contains('\0') {
        return Err(AppError::NotFound(format!("no route for {} {path}", req.method())).into());
    }
    next.call(req).await
}

/// `path: message`, with `fallback` for the root (where serde names missing fields itself).
pub fn field_message(path: &str, fallback: &str, err: &impl std::fmt::Display) -> String {
    let path = if path.is_empty() || path == "." {
        fallback
    } else {
        path
    };
    format!("{path}: {err}")
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let json = req.mime_type().ok().flatten().is_some_and(|mime| {
            mime.subtype() == "json" || mime.suffix().is_some_and(|s| s == "json")
        });
        let limit = req
            .app_data::<web::Data<AppState>>()
            .map_or(65_536, |state| state.settings.limits.json_body_max_bytes);
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !json {
                return Err(AppError::BadRequest(
                    "Content-Type must be application/json".into(),
                ));
            }
            let bytes = body.await.map_err(|err| {
                if err.as_response_error().status_code() == 413 {
                    AppError::PayloadTooLarge(format!("request body over {limit} bytes"))
                } else {
                    AppError::BadRequest(format!("could not read the body: {err}"))
                }
            })?;
            parse_json(&bytes).map(Json)
        })
    }
}

/// A query string, parsed with field-naming errors (`validation_failed`).
pub struct Query<T>(pub T);

impl<T> std::ops::Deref for Query<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let pairs = form_urlencoded::parse(req.query_string().as_bytes());
        if let Some((key, _)) = pairs
            .clone()
            .find(|(key, value)| key.contains('\0') || value.contains('\0'))
        {
            let key = key.replace('\0', "\\0");
            return std::future::ready(Err(AppError::Validation(format!("{key}: {NUL_REFUSED}"))));
        }
        let parsed = serde_path_to_error::deserialize(serde_urlencoded::Deserializer::new(pairs))
            .map(Query)
            .map_err(|err| {
                let path = err.path().to_string();
                AppError::Validation(field_message(&path, "query", err.inner()))
            });
        std::future::ready(parsed)
    }
}
