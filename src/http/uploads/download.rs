//! `GET /api/v1/uploads/{id}` and `.../thumbnail`: the bytes of an upload, to a signed link
//! (`?exp=&sig=`, from an attachment or upload view) or to a bearer the access policy lets
//! read it. Access tokens are not taken from the query string here: links carry a signature
//! that opens one file for a while, never a credential.
//!
//! Responses carry the stored type, `X-Content-Type-Options: nosniff`,
//! `Content-Security-Policy: default-src 'none'; sandbox`, `Content-Disposition` (inline for
//! images, attachment otherwise, with an RFC 6266 / RFC 5987 `filename*`), and a strong `ETag`
//! from the hash; `If-None-Match` and `Range` work. To a signed link the answer may be cached
//! until the link expires (`Cache-Control: private, max-age=...`); to a bearer it is
//! `private, no-cache`.

use actix_files::NamedFile;
use actix_web::http::header::{
    self, AUTHORIZATION, Charset, ContentDisposition, DispositionParam, DispositionType,
    ExtendedValue, HeaderValue,
};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::api::DownloadLinks;
use crate::auth::extractors::{authenticate, query_param};
use crate::db::models::UploadRow;
use crate::db::queries::{conversations, uploads};
use crate::domain::UploadId;
use crate::error::{AppError, ErrorEnvelope};
use crate::http::state::AppState;
use crate::policy::{self, UploadFacts};
use crate::uploads::{blob_path, thumbnail_path};

/// An upload a request may read, and for how many more seconds when it came by signed link.
struct Readable {
    row: UploadRow,
    link_expires_in: Option<i64>,
}

/// Loads upload `id` for a request to `path`: opened by a valid signed link for that path, or
/// by a bearer token whose user the policy lets read it.
///
/// # Errors
/// `not_found` for no such upload (or one the bearer may not read); `forbidden` for a link
/// that is forged, for another file, or expired; `unauthorized` with neither credential.
async fn readable(
    req: &HttpRequest,
    state: &AppState,
    id: UploadId,
    path: &str,
) -> Result<Readable, AppError> {
    let mut conn = state.db.read().await?;
    let row = uploads::find(&mut conn, id).await?;
    if let (Some(exp), Some(sig)) = (query_param(req, "exp"), query_param(req, "sig")) {
        let exp = exp.parse::<i64>().unwrap_or(i64::MIN);
        let now = chrono::Utc::now().timestamp();
        if !state.links.verify(path, exp, &sig, now) {
            return Err(AppError::Forbidden(
                "invalid or expired download link; fetch the message again for a fresh one".into(),
            ));
        }
        let row = row.ok_or_else(|| AppError::not_found("upload"))?;
        return Ok(Readable {
            row,
            link_expires_in: Some(exp - now),
        });
    }
    if query_param(req, "token").is_some() && req.headers().get(AUTHORIZATION).is_none() {
        return Err(AppError::Unauthorized(
            "?token= is not accepted for downloads: use the signed link (the attachment's url) \
             or an Authorization header"
                .into(),
        ));
    }
    let auth = authenticate(req, false)?;
    let row = row.ok_or_else(|| AppError::not_found("upload"))?;
    let attached_to = match (row.message_id, row.conversation_id) {
        (Some(_), Some(conversation)) => conversations::with_participants(&mut conn, conversation)
            .await?
            .map(|(found, members)| found.facts(members.contains(&auth.id))),
        _ => None,
    };
    let facts = UploadFacts {
        project_id: row.project_id,
        uploader_id: row.uploader_id,
        attached_to,
    };
    policy::check_upload(&auth.actor(), &facts)?;
    Ok(Readable {
        row,
        link_expires_in: None,
    })
}

/// Download a file
///
/// `GET /api/v1/uploads/{id}` (signed link or Bearer): the file.
#[utoipa::path(
    get, path = "/api/v1/uploads/{id}", tag = "uploads",
    security((), ("bearer" = [])),
    params(
        ("id" = i64, Path, description = "Upload id"),
        ("exp" = Option<i64>, Query, description = "Signed link: expiry, Unix seconds"),
        ("sig" = Option<String>, Query, description = "Signed link: signature"),
        ("range" = Option<String>, Header, description = "A byte range (RFC 9110 §14.2)"),
        ("if-none-match" = Option<String>, Header, description = "An `ETag` held"),
    ),
    responses(
        (status = 200, description = "The file, with its stored type", content_type = "*/*", body = String,
            headers(("etag" = String), ("content-disposition" = String), ("cache-control" = String))),
        (status = 206, description = "The requested range", content_type = "*/*", body = String),
        (status = 304, description = "Not modified (`If-None-Match` matched)"),
        (status = 401, description = "`unauthorized`: neither a signed link nor a valid bearer token (`?token=` is refused here)", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: a forged or expired signed link, or one for another file; or a bearer who may not read it", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such upload, or the bearer may not read it", body = ErrorEnvelope),
        (status = 416, description = "Range not satisfiable"),
    )
)]
pub async fn download(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<UploadId>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let readable = readable(&req, &state, id, &DownloadLinks::file_path(id)).await?;
    let row = &readable.row;
    let file = Served {
        path: blob_path(&state.settings.uploads.dir, &row.sha256),
        content_type: &row.content_type,
        etag: row.sha256.clone(),
        name: row.original_name.clone(),
        inline: row.content_type.starts_with("image/"),
        cache_for: readable.link_expires_in,
    };
    serve(&req, file)
}

/// Download a thumbnail
///
/// `GET /api/v1/uploads/{id}/thumbnail` (signed link or Bearer): a PNG of at most 320 px on
/// the long side, for images that have one.
#[utoipa::path(
    get, path = "/api/v1/uploads/{id}/thumbnail", tag = "uploads",
    security((), ("bearer" = [])),
    params(
        ("id" = i64, Path, description = "Upload id"),
        ("exp" = Option<i64>, Query, description = "Signed link: expiry, Unix seconds"),
        ("sig" = Option<String>, Query, description = "Signed link: signature"),
        ("range" = Option<String>, Header, description = "A byte range (RFC 9110 §14.2)"),
        ("if-none-match" = Option<String>, Header, description = "An `ETag` held"),
    ),
    responses(
        (status = 200, description = "A PNG of at most 320 px on the long side", content_type = "*/*", body = String,
            headers(("etag" = String), ("content-disposition" = String), ("cache-control" = String))),
        (status = 206, description = "The requested range", content_type = "*/*", body = String),
        (status = 304, description = "Not modified (`If-None-Match` matched)"),
        (status = 401, description = "`unauthorized`: neither a signed link nor a valid bearer token (`?token=` is refused here)", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: a forged or expired signed link, or one for another file; or a bearer who may not read it", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such upload or thumbnail, or the bearer may not read it", body = ErrorEnvelope),
        (status = 416, description = "Range not satisfiable"),
    )
)]
pub async fn thumbnail(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<UploadId>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let readable = readable(&req, &state, id, &DownloadLinks::thumbnail_path(id)).await?;
    let row = &readable.row;
    if !row.has_thumbnail {
        return Err(AppError::not_found("thumbnail"));
    }
    let file = Served {
        path: thumbnail_path(&state.settings.uploads.dir, &row.sha256),
        content_type: "image/png",
        etag: format!("{}-thumb", row.sha256),
        name: format!("{}.thumb.png", row.original_name),
        inline: true,
        cache_for: readable.link_expires_in,
    };
    serve(&req, file)
}

/// A file to send, and how.
struct Served<'a> {
    path: std::path::PathBuf,
    content_type: &'a str,
    /// The strong ETag, unquoted.
    etag: String,
    /// The download name.
    name: String,
    /// `inline` (images) or `attachment`.
    inline: bool,
    /// Seconds a browser may keep it without asking again: the signed link's remaining life.
    cache_for: Option<i64>,
}

fn serve(req: &HttpRequest, file: Served<'_>) -> Result<HttpResponse, AppError> {
    let Served {
        path,
        content_type,
        etag,
        name,
        inline,
        cache_for,
    } = file;
    let tag = format!("\"{etag}\"");
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() == "*" || v.split(',').any(|t| t.trim() == tag));
    // A signed link opens the same bytes until it expires: a browser may keep them that long
    // without asking again. Bearer downloads are checked every time.
    let cache_control = match cache_for {
        Some(seconds) => format!("private, max-age={}", seconds.max(0)),
        None => "private, no-cache".to_string(),
    };
    let cache_control = HeaderValue::from_str(&cache_control)
        .unwrap_or(HeaderValue::from_static("private, no-cache"));
    if matches {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, tag))
            .insert_header((header::CACHE_CONTROL, cache_control))
            .finish());
    }
    let mime: mime::Mime = content_type
        .parse()
        .unwrap_or(mime::APPLICATION_OCTET_STREAM);
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = ContentDisposition {
        disposition: if inline {
            DispositionType::Inline
        } else {
            DispositionType::Attachment
        },
        parameters: vec![
            DispositionParam::Filename(ascii),
            DispositionParam::FilenameExt(ExtendedValue {
                charset: Charset::Ext("UTF-8".into()),
                language_tag: None,
                value: name.as_bytes().to_vec(),
            }),
        ],
    };
    // Opening is a single syscall on a local file.
    let file = NamedFile::open(path)
        .map_err(|_| AppError::not_found("file"))?
        .set_content_type(mime)
        .set_content_disposition(disposition)
        .use_etag(false)
        .use_last_modified(false);
    let mut response = file.into_response(req);
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&tag) {
        headers.insert(header::ETAG, value);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    headers.insert(header::CACHE_CONTROL, cache_control);
    Ok(response)
}
