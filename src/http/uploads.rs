//! `/api/v1/uploads`: multipart upload (parsed with multer, streamed to disk), download and
//! thumbnail.
//!
//! Upload: the `file` part is streamed to a temporary file under `uploads.dir/tmp` while its
//! SHA-256 is computed; it is never held whole in memory. Past `uploads.max_bytes` the request
//! ends with 413 and the temporary file is removed (as on every other failure). The type is
//! sniffed from the content, checked against `uploads.allowed_types` (415), images are decoded
//! for their size and a thumbnail, and the blob is moved to its content-addressed place.
//!
//! Download: only the uploader, and participants (or admins) of the conversation the upload is
//! attached to, may read it; anyone else gets 404. Responses carry the stored type,
//! `X-Content-Type-Options: nosniff`, `Content-Security-Policy: default-src 'none'; sandbox`,
//! `Content-Disposition` (inline for images, attachment otherwise, with an RFC 6266 / RFC 5987
//! `filename*`), and a strong `ETag` from the hash; `If-None-Match` and `Range` work.

use std::io::Write;
use std::path::{Path, PathBuf};

use actix_files::NamedFile;
use actix_web::http::header::{
    self, Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue,
    HeaderValue,
};
use actix_web::{HttpRequest, HttpResponse, web};
use bytes::Bytes;
use futures_util::StreamExt;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::actors::db_writer::CreateUpload;
use crate::auth::AuthUser;
use crate::auth::extractors::authenticate;
use crate::db::models::{NewUpload, UploadRow};
use crate::db::now;
use crate::db::schema::uploads;
use crate::domain::{ConversationId, UploadId};
use crate::error::AppError;
use crate::http::conversations::visible;
use crate::startup::AppState;
use crate::uploads::{
    SNIFF_BYTES, blob_path, inspect_image, sanitize_name, sniff, temp_dir, thumbnail_path,
};

/// Body of `201` to `POST /api/v1/uploads`.
#[derive(Serialize)]
struct UploadView {
    id: UploadId,
    content_type: String,
    size: i64,
    sha256: String,
    original_name: String,
    url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    width: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    height: Option<i32>,
}

/// Removes a temporary file when dropped (every early return cleans up).
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// What the `file` part turned into.
struct Received {
    original_name: String,
    size: u64,
    sha256: String,
    head: Vec<u8>,
}

fn multipart_error(err: multer::Error) -> AppError {
    match err {
        multer::Error::StreamSizeExceeded { .. } | multer::Error::FieldSizeExceeded { .. } => {
            AppError::PayloadTooLarge("upload too large".into())
        }
        other => AppError::BadRequest(format!("malformed multipart body: {other}")),
    }
}

/// `POST /api/v1/uploads` (multipart/form-data: `file`, optional `conversation_id`) → 201
/// `{id, content_type, size, sha256, original_name, url, width?, height?}`.
pub async fn upload(
    req: HttpRequest,
    mut payload: web::Payload,
    state: web::Data<AppState>,
    auth: AuthUser,
) -> Result<HttpResponse, AppError> {
    state.limits.upload(auth.id)?;
    let settings = &state.settings.uploads;
    let boundary = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| multer::parse_boundary(v).ok())
        .ok_or_else(|| {
            AppError::BadRequest("Content-Type must be multipart/form-data with a boundary".into())
        })?;

    // multer wants a Send stream; actix's payload is not: pump it through a small channel.
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    actix_web::rt::spawn(async move {
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|e| std::io::Error::other(e.to_string()));
            let failed = chunk.is_err();
            if sender.send(chunk).await.is_err() || failed {
                break;
            }
        }
    });
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|item| (item, receiver))
    });
    // The whole request may exceed the file by at most 1 MiB of headers and small parts.
    let constraints = multer::Constraints::new().size_limit(
        multer::SizeLimit::new().whole_stream(settings.max_bytes.saturating_add(1 << 20)),
    );
    let mut multipart = multer::Multipart::with_constraints(stream, boundary, constraints);

    let root = settings.dir.clone();
    let temp = temp_dir(&root);
    std::fs::create_dir_all(&temp).map_err(AppError::internal)?;
    let temp_file = TempFile(temp.join(uuid::Uuid::new_v4().simple().to_string()));
    let mut received: Option<Received> = None;
    let mut conversation_id: Option<ConversationId> = None;
    let mut other_bytes: u64 = 0;

    while let Some(mut field) = multipart.next_field().await.map_err(multipart_error)? {
        match field.name() {
            Some("file") if received.is_none() => {
                let original_name = sanitize_name(field.file_name().unwrap_or("file"));
                let mut out = std::fs::File::create(&temp_file.0).map_err(AppError::internal)?;
                let (mut hasher, mut size, mut head) = (Sha256::new(), 0u64, Vec::new());
                while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                    size += chunk.len() as u64;
                    if size > settings.max_bytes {
                        return Err(AppError::PayloadTooLarge(format!(
                            "file: larger than uploads.max_bytes ({} bytes)",
                            settings.max_bytes
                        )));
                    }
                    hasher.update(&chunk);
                    if head.len() < SNIFF_BYTES {
                        let take = (SNIFF_BYTES - head.len()).min(chunk.len());
                        head.extend_from_slice(&chunk[..take]);
                    }
                    // Page-cache writes of one network chunk: microseconds, fine inline.
                    out.write_all(&chunk).map_err(AppError::internal)?;
                }
                out.flush().map_err(AppError::internal)?;
                received = Some(Received {
                    original_name,
                    size,
                    sha256: hex::encode(hasher.finalize()),
                    head,
                });
            }
            Some("conversation_id") => {
                let mut text = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                    text.extend_from_slice(&chunk);
                    if text.len() > 32 {
                        break;
                    }
                }
                let id = std::str::from_utf8(&text)
                    .ok()
                    .and_then(|t| t.trim().parse::<i64>().ok())
                    .ok_or_else(|| {
                        AppError::Validation("conversation_id: must be an integer".into())
                    })?;
                conversation_id = Some(ConversationId(id));
            }
            _ => {
                // Unknown parts are read and dropped, within the same size budget.
                while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                    other_bytes += chunk.len() as u64;
                    if other_bytes > settings.max_bytes {
                        return Err(AppError::PayloadTooLarge("request too large".into()));
                    }
                }
            }
        }
    }
    let file = received.ok_or_else(|| AppError::Validation("file: required".into()))?;

    let content_type = sniff(&file.head);
    if !settings.allowed_types.iter().any(|t| t == &content_type) {
        return Err(AppError::UnsupportedMediaType(format!(
            "file: {content_type} is not accepted (allowed: {})",
            settings.allowed_types.join(", ")
        )));
    }
    if let Some(id) = conversation_id {
        let (_, members) = visible(&state, &auth, id).await?;
        if !members.contains(&auth.id) {
            return Err(AppError::not_found("conversation"));
        }
    }
    let image = if content_type.starts_with("image/") {
        let path = temp_file.0.clone();
        Some(
            web::block(move || inspect_image(&path))
                .await
                .map_err(AppError::internal)??,
        )
    } else {
        None
    };

    // Into the content-addressed store: the same bytes are kept once.
    let blob = blob_path(&root, &file.sha256);
    if let Some(parent) = blob.parent() {
        std::fs::create_dir_all(parent).map_err(AppError::internal)?;
    }
    if !blob.exists() {
        std::fs::rename(&temp_file.0, &blob).map_err(AppError::internal)?;
    }
    if let Some(image) = &image {
        let thumb = thumbnail_path(&root, &file.sha256);
        if !thumb.exists() {
            let partial = temp.join(format!("{}.thumb", uuid::Uuid::new_v4().simple()));
            let partial = TempFile(partial);
            std::fs::write(&partial.0, &image.thumbnail).map_err(AppError::internal)?;
            std::fs::rename(&partial.0, &thumb).map_err(AppError::internal)?;
        }
    }
    let dimension = |v: u32| i32::try_from(v).ok();
    let row = state
        .writer
        .send(CreateUpload {
            upload: NewUpload {
                project_id: auth.project_id,
                uploader_id: auth.id,
                conversation_id,
                sha256: file.sha256.clone(),
                content_type,
                size: i64::try_from(file.size).unwrap_or(i64::MAX),
                original_name: file.original_name,
                width: image.as_ref().and_then(|i| dimension(i.width)),
                height: image.as_ref().and_then(|i| dimension(i.height)),
                has_thumbnail: image.is_some(),
                created_at: now(),
            },
        })
        .await??;
    tracing::info!(upload_id = %row.id, user_id = %auth.id, size = row.size, "file uploaded");
    let view = row.attachment();
    Ok(HttpResponse::Created().json(UploadView {
        id: row.id,
        content_type: view.content_type,
        size: view.size,
        sha256: row.sha256,
        original_name: view.original_name,
        url: view.url,
        width: view.width,
        height: view.height,
    }))
}

/// Loads an upload the caller may read: its uploader, or a participant (or admin) of the
/// conversation it is attached to.
async fn readable(state: &AppState, auth: &AuthUser, id: UploadId) -> Result<UploadRow, AppError> {
    use diesel::{OptionalExtension, QueryDsl, SelectableHelper};
    use diesel_async::RunQueryDsl as _;
    let row = {
        let mut conn = state.db.read().await?;
        uploads::table
            .find(id)
            .select(UploadRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(crate::error::DbError::from)?
    }
    .filter(|row| row.project_id == auth.project_id)
    .ok_or_else(|| AppError::not_found("upload"))?;
    if row.uploader_id == auth.id {
        return Ok(row);
    }
    match (row.message_id, row.conversation_id) {
        (Some(_), Some(conversation)) => {
            // `visible` admits participants and admins only; any refusal reads the same, so
            // ids reveal nothing about other conversations.
            visible(state, auth, conversation)
                .await
                .map_err(|_| AppError::not_found("upload"))?;
            Ok(row)
        }
        _ => Err(AppError::not_found("upload")),
    }
}

/// `GET /api/v1/uploads/{id}` (Bearer or `?token=`): the file.
pub async fn download(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<UploadId>,
) -> Result<HttpResponse, AppError> {
    let auth = authenticate(&req, true)?;
    let row = readable(&state, &auth, path.into_inner()).await?;
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

/// `GET /api/v1/uploads/{id}/thumbnail`: a PNG of at most 320 px on the long side (images only).
pub async fn thumbnail(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<UploadId>,
) -> Result<HttpResponse, AppError> {
    let auth = authenticate(&req, true)?;
    let row = readable(&state, &auth, path.into_inner()).await?;
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
