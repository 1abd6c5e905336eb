//! `GET /api/v1/uploads/{id}` and `.../thumbnail`: the bytes of an upload, to a signed link
//! (`?exp=&sig=`, from an attachment or upload view) or to a bearer the access policy lets
//! read it. Access tokens are not taken from the query string here: links carry a signature
//! that opens one file for a while, never a credential.
//!
//! Responses carry the stored type, `X-Content-Type-Options: nosniff`,
//! `Content-Security-Policy: default-src 'none'; sandbox`, `Content-Disposition` (inline for
//! images, attachment otherwise, with an RFC 6266 / RFC 5987 `filename*`), and a strong `ETag`
//! from the hash; `If-None-Match` and `Range` work.

use std::path::Path;

use actix_files::NamedFile;
use actix_web::http::header::{
    self, Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue,
    HeaderValue,
};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::api::DownloadLinks;
use crate::auth::extractors::{authenticate, query_param};
use crate::db::models::UploadRow;
use crate::db::queries::{conversations, uploads};
use crate::domain::UploadId;
use crate::error::AppError;
use crate::http::state::AppState;
use crate::policy::{self, UploadFacts};
use crate::uploads::{blob_path, thumbnail_path};

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
) -> Result<UploadRow, AppError> {
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
        return row.ok_or_else(|| AppError::not_found("upload"));
    }
    let auth = authenticate(req, false)?;
    let row = row.ok_or_else(|| AppError::not_found("upload"))?;
    let attached_to = match (row.message_id, row.conversation_id) {
        (Some(_), Some(conversation)) => {
            let found = conversations::find(&mut conn, conversation).await?;
            match found {
                Some(found) => {
                    let members = conversations::participant_ids(&mut conn, conversation).await?;
                    Some(found.facts(members.contains(&auth.id)))
                }
                None => None,
            }
        }
        _ => None,
    };
    let facts = UploadFacts {
        project_id: row.project_id,
        uploader_id: row.uploader_id,
        attached_to,
    };
    policy::check_upload(&auth.actor(), &facts)?;
    Ok(row)
}

/// `GET /api/v1/uploads/{id}` (signed link or Bearer): the file.
pub async fn download(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<UploadId>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let row = readable(&req, &state, id, &DownloadLinks::file_path(id)).await?;
    let file = blob_path(&state.settings.uploads.dir, &row.sha256);
    let inline = row.content_type.starts_with("image/");
    serve(
        &req,
        &file,
        &row.content_type,
        &row.sha256,
        &row.original_name,
        inline,
    )
    .await
}

/// `GET /api/v1/uploads/{id}/thumbnail` (signed link or Bearer): a PNG of at most 320 px on
/// the long side, for images that have one.
pub async fn thumbnail(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<UploadId>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let row = readable(&req, &state, id, &DownloadLinks::thumbnail_path(id)).await?;
    if !row.has_thumbnail {
        return Err(AppError::not_found("thumbnail"));
    }
    let file = thumbnail_path(&state.settings.uploads.dir, &row.sha256);
    let name = format!("{}.thumb.png", row.original_name);
    let etag = format!("{}-thumb", row.sha256);
    serve(&req, &file, "image/png", &etag, &name, true).await
}

async fn serve(
    req: &HttpRequest,
    path: &Path,
    content_type: &str,
    etag: &str,
    name: &str,
    inline: bool,
) -> Result<HttpResponse, AppError> {
    let tag = format!("\"{etag}\"");
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() == "*" || v.split(',').any(|t| t.trim() == tag));
    if matches {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, tag))
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
    Ok(response)
}
