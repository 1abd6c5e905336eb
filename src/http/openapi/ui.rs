//! `GET /api-docs` (and `/api-docs/`): Swagger UI on the OpenAPI document, from files compiled
//! into the binary (static/api-docs: `swagger-ui-dist`'s bundle and stylesheet, a page and an
//! initializer). The page's Content-Security-Policy lets it load only what Parlor serves, so
//! it works offline and never reaches another host.

use actix_web::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, X_CONTENT_TYPE_OPTIONS};
use actix_web::{HttpResponse, web};

use crate::error::AppError;

/// The page: its scripts and stylesheet come from `/api-docs/...` only.
const PAGE: &str = include_str!("../../../static/api-docs/index.html");

/// The files the page loads: (name under `/api-docs/`, content type, bytes).
const ASSETS: [(&str, &str, &[u8]); 3] = [
    (
        "swagger-ui-bundle.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../static/api-docs/swagger-ui/swagger-ui-bundle.js"),
    ),
    (
        "swagger-ui.css",
        "text/css; charset=utf-8",
        include_bytes!("../../../static/api-docs/swagger-ui/swagger-ui.css"),
    ),
    (
        "init.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../static/api-docs/init.js"),
    ),
];

/// Scripts and styles from this origin only; Swagger UI sets inline styles and shows inline
/// SVG images (`data:`); "try it out" calls this origin.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                   img-src 'self' data:; font-src 'self' data:; connect-src 'self'; \
                   base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// `GET /api-docs`: the docs UI.
pub async fn page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((CONTENT_SECURITY_POLICY, CSP))
        .insert_header((X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(PAGE)
}

/// `GET /api-docs/{asset}`: a file of the docs UI, or 404.
///
/// # Errors
/// `not_found` for any other name.
pub async fn asset(name: web::Path<String>) -> Result<HttpResponse, AppError> {
    let (_, content_type, bytes) = ASSETS
        .iter()
        .find(|(file, ..)| *file == name.as_str())
        .ok_or_else(|| AppError::not_found("file"))?;
    Ok(HttpResponse::Ok()
        .content_type(*content_type)
        .insert_header((X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((CACHE_CONTROL, "public, max-age=3600"))
        .body(*bytes))
}

/// The names `GET /api-docs/{asset}` serves.
#[cfg(test)]
pub fn asset_names() -> impl Iterator<Item = &'static str> {
    ASSETS.iter().map(|(name, ..)| *name)
}
