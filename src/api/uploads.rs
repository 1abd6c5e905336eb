//! Uploads.

use serde::Serialize;

use crate::domain::UploadId;

/// Body of `201` to `POST /api/v1/uploads`: the attachment object (§4.6) plus `sha256`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UploadView {
    /// Upload id: pass it as `attachment_id`.
    pub id: UploadId,
    /// Media type decided from the content.
    pub content_type: String,
    /// Bytes.
    pub size: i64,
    /// Lowercase hex SHA-256 of the bytes (also the download's `ETag`).
    pub sha256: String,
    /// The sanitized file name.
    pub original_name: String,
    /// A signed download URL (`/api/v1/uploads/{id}?exp=&sig=`).
    pub url: String,
    /// A signed URL of the thumbnail, for images that have one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thumbnail_url: Option<String>,
    /// Pixels, for images.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<i32>,
    /// Pixels, for images.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<i32>,
}

/// The multipart form of `POST /api/v1/uploads`, as the OpenAPI document describes it (the
/// handler streams the parts with multer; nothing deserializes into this type).
#[derive(Debug, utoipa::ToSchema)]
pub struct UploadForm {
    /// The file (one part named `file`), at most `uploads.max_bytes`.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    /// Optional: the conversation it is meant for (the caller must be allowed to upload there).
    pub conversation_id: Option<i64>,
}
