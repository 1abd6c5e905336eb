//! The web side's static files: the demo page, the console, the widget, the JavaScript client
//! and the libraries they load.
//!
//! | URL                      | file                         |
//! |--------------------------|------------------------------|
//! | `/`                      | `static/index.html`          |
//! | `/console`, `/console/`  | `static/console/index.html`  |
//! | `/console/{file}`        | `static/console/{file}`      |
//! | `/widget.js`             | `static/widget/widget.js`    |
//! | `/widget/{file}`         | `static/widget/{file}`       |
//! | `/vendor/{file}`         | `static/vendor/{file}`       |
//! | `/clients/js/{file}`     | `clients/js/{file}`          |
//! | `/reset-password`        | `static/reset-password.html` |
//! | `/confirm-email`         | `static/confirm-email.html`  |
//! | `/account-email.js`      | `static/account-email.js`    |
//!
//! A release build carries the files inside the binary (rust-embed), so `cargo run --release`
//! serves them from any working directory; a debug build reads them from the source tree. With
//! `server.assets_dir` set, they are read from that folder instead (`{dir}/static/...`,
//! `{dir}/clients/js/...`) on every request: edit and reload, no rebuild.
//!
//! Every answer carries an `ETag` (the file's SHA-256) and `Cache-Control: no-cache`, so a
//! browser revalidates and gets `304 Not Modified` while the file is unchanged (RFC 9110
//! §13.1.2, §8.8.3).

use std::borrow::Cow;
use std::path::Path;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use rust_embed::RustEmbed;
use sha2::{Digest, Sha256};

use crate::error::AppError;
use crate::http::state::AppState;

#[derive(RustEmbed)]
#[folder = "static/"]
struct Static;

#[derive(RustEmbed)]
#[folder = "clients/js/"]
struct JsClient;

/// Where a URL's file lives: one of the two embedded folders, and the path inside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Folder {
    Static,
    JsClient,
}

impl Folder {
    fn source_dir(self) -> &'static str {
        match self {
            Self::Static => "static",
            Self::JsClient => "clients/js",
        }
    }
}

/// The content security policy of the pages Parlor serves: scripts and styles from Parlor
/// only (the demo page keeps its inline script), connections to Parlor, images from Parlor
/// and `blob:`/`data:` previews of files being uploaded.
const PAGE_POLICY: &str = "default-src 'none'; script-src 'self' 'unsafe-inline'; \
     style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' blob: data:; \
     font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

/// Registers the routes in the module's table.
pub fn routes(cfg: &mut web::ServiceConfig) {
    for path in [
        "/",
        "/console",
        "/console/",
        "/console/{file:.+}",
        "/widget.js",
        "/widget/{file:.+}",
        "/vendor/{file:.+}",
        "/clients/js/{file:.+}",
        "/reset-password",
        "/confirm-email",
        "/account-email.js",
    ] {
        cfg.service(super::resource(path).route(web::get().to(asset)));
    }
}

/// `GET` of any URL in the module's table.
async fn asset(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let (folder, file) =
        locate(req.path()).ok_or_else(|| AppError::NotFound(format!("no file {}", req.path())))?;
    serve(&req, &state, folder, &file)
}

/// The folder and file that serve the URL path `path` (still percent-encoded: an encoded
/// name matches no file).
fn locate(path: &str) -> Option<(Folder, Cow<'static, str>)> {
    Some(match path {
        "/" => (Folder::Static, Cow::Borrowed("index.html")),
        "/console" | "/console/" => (Folder::Static, Cow::Borrowed("console/index.html")),
        "/widget.js" => (Folder::Static, Cow::Borrowed("widget/widget.js")),
        "/reset-password" => (Folder::Static, Cow::Borrowed("reset-password.html")),
        "/confirm-email" => (Folder::Static, Cow::Borrowed("confirm-email.html")),
        "/account-email.js" => (Folder::Static, Cow::Borrowed("account-email.js")),
        _ => {
            if let Some(file) = path.strip_prefix("/clients/js/") {
                (Folder::JsClient, Cow::Owned(file.to_owned()))
            } else {
                let file = path.strip_prefix('/')?;
                let top = file.split('/').next()?;
                if !["console", "widget", "vendor"].contains(&top) {
                    return None;
                }
                (Folder::Static, Cow::Owned(file.to_owned()))
            }
        }
    })
}

/// Answers `path` inside `folder`: 200 with the file, 304 when the request's `If-None-Match`
/// names its current ETag.
///
/// # Errors
/// `not_found` when there is no such file, or the path is not a plain relative one (`..`,
/// `.`, empty segments, backslashes).
fn serve(
    req: &HttpRequest,
    state: &AppState,
    folder: Folder,
    path: &str,
) -> Result<HttpResponse, AppError> {
    let missing = || AppError::NotFound(format!("no file {}", req.path()));
    if !is_plain(path) {
        return Err(missing());
    }
    let bytes = match &state.settings.server.assets_dir {
        Some(dir) => Cow::Owned(
            std::fs::read(Path::new(dir).join(folder.source_dir()).join(path))
                .map_err(|_| missing())?,
        ),
        None => {
            match folder {
                Folder::Static => Static::get(path),
                Folder::JsClient => JsClient::get(path),
            }
            .ok_or_else(missing)?
            .data
        }
    };
    let etag = format!("\"{}\"", hex::encode(&Sha256::digest(&bytes)[..16]));
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut answer = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    answer
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    if fresh {
        return Ok(answer.finish());
    }
    let kind = content_type(path);
    if kind.starts_with("text/html") {
        answer.insert_header((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(PAGE_POLICY),
        ));
    }
    Ok(answer.content_type(kind).body(bytes.into_owned()))
}

/// Whether `path` is relative and names no parent or current folder.
fn is_plain(path: &str) -> bool {
    !path.is_empty()
        && !path.contains('\\')
        && path
            .split('/')
            .all(|segment| !segment.is_empty() && segment != "." && segment != "..")
}

/// The media type of a file, by its extension.
fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json" | "map") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("ts" | "txt" | "md") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_relative_paths_are_served() {
        assert!(is_plain("console/app.js"));
        assert!(is_plain("vendor/preact/hooks.module.js"));
        for bad in [
            "",
            "../Cargo.toml",
            "console/../../x",
            "./x",
            "a//b",
            "a\\b",
            "/etc",
        ] {
            assert!(!is_plain(bad), "{bad:?} must be refused");
        }
    }

    #[test]
    fn urls_map_to_their_files() {
        let at = |p| locate(p).map(|(f, file)| (f, file.into_owned()));
        assert_eq!(at("/"), Some((Folder::Static, "index.html".into())));
        assert_eq!(
            at("/console/"),
            Some((Folder::Static, "console/index.html".into()))
        );
        assert_eq!(
            at("/console/app.js"),
            Some((Folder::Static, "console/app.js".into()))
        );
        assert_eq!(
            at("/widget.js"),
            Some((Folder::Static, "widget/widget.js".into()))
        );
        assert_eq!(
            at("/vendor/a/b.js"),
            Some((Folder::Static, "vendor/a/b.js".into()))
        );
        assert_eq!(
            at("/clients/js/parlor.js"),
            Some((Folder::JsClient, "parlor.js".into()))
        );
        assert_eq!(at("/other/x"), None);
    }

    #[test]
    fn the_shipped_pages_are_embedded() {
        assert!(Static::get("index.html").is_some());
        assert!(JsClient::iter().next().is_some(), "clients/js is empty");
    }
}
