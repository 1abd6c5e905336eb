//! `/api/v1/uploads`: multipart upload (parsed with multer, streamed to disk), download and
//! thumbnail (`download.rs`).
//!
//! Upload: the `file` part is streamed to a temporary file under `uploads.dir/tmp` while its
//! SHA-256 is computed; it is never held whole in memory. Past `uploads.max_bytes` the request
//! is refused with 413 and the partial file deleted (as on every other failure); an empty file
//! is 400; past the user's `uploads.quota_bytes_per_user`, 413 `quota_exceeded`. The type is
//! sniffed from the content and checked against `uploads.allowed_types` (415); images get their
//! size from the header and a thumbnail when small enough ([`crate::uploads::image`]). The
//! database writer then moves the file to its content-addressed place and records it.

pub(super) mod download;

pub use download::{download, thumbnail};

use std::io::Write;
use std::path::PathBuf;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use bytes::Bytes;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use crate::actors::db_writer::StoreUpload;
use crate::api::{DownloadLinks, UploadForm, UploadView};
use crate::auth::AuthUser;
use crate::config::UploadSettings;
use crate::db::models::{NewUpload, UploadRow};
use crate::db::now;
use crate::db::queries::uploads;
use crate::domain::ConversationId;
use crate::error::{AppError, ErrorEnvelope};
use crate::http::conversations::authorized;
use crate::http::state::AppState;
use crate::policy::Action;
use crate::uploads::{PendingUpload, SNIFF_BYTES, file_name, sniff, temp_dir};

/// Removes a temporary file when dropped (every early return cleans up; once the writer has
/// moved it into place, there is nothing left to remove).
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

fn quota_exceeded(quota: u64) -> AppError {
    crate::db::DbError::QuotaExceeded { quota_bytes: quota }.into()
}

/// The body parts of an upload.
struct Parts {
    file: Option<Received>,
    conversation_id: Option<ConversationId>,
}

/// Reads the multipart body: the `file` part into `temp`, within `max_bytes` and the `room`
/// left in the user's quota; the `conversation_id` part; others read and dropped.
async fn receive(
    mut multipart: multer::Multipart<'static>,
    temp: &TempFile,
    settings: &UploadSettings,
    room: u64,
) -> Result<Parts, AppError> {
    let mut parts = Parts {
        file: None,
        conversation_id: None,
    };
    let mut other_bytes: u64 = 0;
    while let Some(mut field) = multipart.next_field().await.map_err(multipart_error)? {
        match field.name() {
            Some("file") if parts.file.is_none() => {
                let original_name = file_name(field.file_name().unwrap_or("file"))?;
                let mut out = std::fs::File::create(&temp.0).map_err(AppError::internal)?;
                let (mut hasher, mut size, mut head) = (Sha256::new(), 0u64, Vec::new());
                while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                    size += chunk.len() as u64;
                    if size > settings.max_bytes {
                        return Err(AppError::PayloadTooLarge(format!(
                            "file: larger than uploads.max_bytes ({} bytes)",
                            settings.max_bytes
                        )));
                    }
                    if size > room {
                        return Err(quota_exceeded(settings.quota_bytes_per_user));
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
                parts.file = Some(Received {
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
                parts.conversation_id = Some(ConversationId(id));
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
    Ok(parts)
}

/// The upload's view, with signed links.
pub fn view(row: &UploadRow, links: &DownloadLinks) -> UploadView {
    UploadView {
        id: row.id,
        content_type: row.content_type.clone(),
        size: row.size,
        sha256: row.sha256.clone(),
        original_name: row.original_name.clone(),
        url: links.file(row.id),
        thumbnail_url: row.has_thumbnail.then(|| links.thumbnail(row.id)),
        width: row.width,
        height: row.height,
    }
}

/// Upload a file
///
/// `POST /api/v1/uploads` (multipart/form-data: `file`, optional `conversation_id`) → 201
/// [`UploadView`].
#[utoipa::path(
    post, path = "/api/v1/uploads", tag = "uploads",
    security(("bearer" = [])),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "The stored upload: pass its `id` as `attachment_id`", body = UploadView),
        (status = 400, description = "`bad_request` (not multipart, malformed) or `validation_failed` (no `file` part, an empty file, a bad `conversation_id` or file name)", body = ErrorEnvelope),
        (status = 403, description = "`forbidden`: may not upload to `conversation_id`", body = ErrorEnvelope),
        (status = 404, description = "`not_found`: no such `conversation_id`, or the caller may not see it", body = ErrorEnvelope),
        (status = 413, description = "`payload_too_large` (over `uploads.max_bytes`) or `quota_exceeded`", body = ErrorEnvelope),
        (status = 415, description = "`unsupported_media_type`: the content is not of an accepted type", body = ErrorEnvelope),
    )
)]
pub async fn upload(
    req: HttpRequest,
    mut payload: web::Payload,
    state: web::Data<AppState>,
    auth: AuthUser,
) -> Result<HttpResponse, AppError> {
    state.limits.upload(auth.id)?;
    // The project's overrides of the size and types (docs/PROTOCOL.md §3, *Projects*).
    let project = state.projects.get(auth.project_id);
    let mut settings = state.settings.uploads.clone();
    if let Some(max) = project.upload_max_bytes {
        settings.max_bytes = max.min(settings.max_bytes);
    }
    if let Some(types) = &project.upload_allowed_types {
        settings.allowed_types = types.clone();
    }
    let settings = &settings;
    let boundary = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| multer::parse_boundary(v).ok())
        .ok_or_else(|| {
            AppError::BadRequest("Content-Type must be multipart/form-data with a boundary".into())
        })?;
    let used = {
        let mut conn = state.db.read().await?;
        uploads::used_bytes_now(&mut conn, auth.id).await?
    };
    let room = settings
        .quota_bytes_per_user
        .saturating_sub(u64::try_from(used).unwrap_or(0));
    if room == 0 {
        return Err(quota_exceeded(settings.quota_bytes_per_user));
    }

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
    let multipart = multer::Multipart::with_constraints(stream, boundary, constraints);

    let temp = temp_dir(&settings.dir);
    std::fs::create_dir_all(&temp).map_err(AppError::internal)?;
    let temp_file = TempFile(temp.join(uuid::Uuid::new_v4().simple().to_string()));
    let parts = receive(multipart, &temp_file, settings, room).await?;
    let file = parts
        .file
        .ok_or_else(|| AppError::Validation("file: required".into()))?;
    if file.size == 0 {
        return Err(AppError::Validation("file: must not be empty".into()));
    }
    let content_type = sniff(&file.head);
    if !settings.allowed_types.iter().any(|t| t == &content_type) {
        return Err(AppError::UnsupportedMediaType(format!(
            "file: {content_type} is not accepted (allowed: {})",
            settings.allowed_types.join(", ")
        )));
    }
    if let Some(id) = parts.conversation_id {
        authorized(&state, &auth, id, Action::Upload).await?;
    }
    let image = if content_type.starts_with("image/") {
        let inspected = state.images.inspect(temp_file.0.clone()).await;
        Some(inspected.ok_or_else(|| AppError::Unavailable("server is stopping".into()))??)
    } else {
        None
    };
    let thumbnail = match image.as_ref().and_then(|i| i.thumbnail.as_ref()) {
        Some(png) => {
            let path = TempFile(temp.join(format!("{}.thumb", uuid::Uuid::new_v4().simple())));
            std::fs::write(&path.0, png).map_err(AppError::internal)?;
            Some(path)
        }
        None => None,
    };
    let dimension = |v: u32| i32::try_from(v).ok();
    let row = state
        .writer
        .send(StoreUpload {
            upload: PendingUpload {
                row: NewUpload {
                    project_id: auth.project_id,
                    uploader_id: auth.id,
                    conversation_id: parts.conversation_id,
                    sha256: file.sha256.clone(),
                    content_type,
                    size: i64::try_from(file.size).unwrap_or(i64::MAX),
                    original_name: file.original_name,
                    width: image.as_ref().and_then(|i| dimension(i.width)),
                    height: image.as_ref().and_then(|i| dimension(i.height)),
                    has_thumbnail: thumbnail.is_some(),
                    created_at: now(),
                },
                file: temp_file.0.clone(),
                thumbnail: thumbnail.as_ref().map(|t| t.0.clone()),
                root: settings.dir.clone(),
                quota_bytes: settings.quota_bytes_per_user,
            },
        })
        .await??;
    tracing::info!(upload_id = %row.id, user_id = %auth.id, size = row.size, "file uploaded");
    crate::monitor::upload_stored(
        u64::try_from(row.size).unwrap_or(0),
        image.as_ref().map(|i| i.thumbnail.is_some()),
    );
    Ok(HttpResponse::Created().json(view(&row, &state.links)))
}
