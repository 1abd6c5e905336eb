//! File storage for uploads: content-addressed blobs, type sniffing, safe names, thumbnails.
//!
//! - Bytes are stored once per distinct content at `uploads.dir/<h0h1>/<h2h3>/<sha256>`
//!   (sharded by the first hex digits), so the same file uploaded twice is stored once. The
//!   client's file name never becomes a path: it is kept only as sanitized metadata.
//! - The media type comes from the content's magic bytes (`infer`), never from the name or the
//!   client's `Content-Type` (OWASP File Upload Cheat Sheet). Text without a signature counts as
//!   `text/plain` only if it is UTF-8 without NUL bytes and does not look like markup (HTML,
//!   XML, SVG), so a renamed HTML page cannot pass as a picture or as text.
//! - Images get their dimensions recorded and a PNG thumbnail of at most
//!   [`THUMBNAIL_MAX_PX`] on the long side, decoded under [`image::Limits`] so a decompression
//!   bomb fails instead of exhausting memory.

use std::path::{Path, PathBuf};

use crate::error::AppError;

/// Longest side of a thumbnail, in pixels.
pub const THUMBNAIL_MAX_PX: u32 = 320;
/// Largest image (either side, in pixels) that is decoded for a thumbnail.
pub const MAX_IMAGE_SIDE_PX: u32 = 12_000;
/// Bytes of the start of a file used to decide its type.
pub const SNIFF_BYTES: usize = 8192;

/// Where the blob with `sha256` lives under `root`.
pub fn blob_path(root: &Path, sha256: &str) -> PathBuf {
    let (a, b) = (
        &sha256[..2.min(sha256.len())],
        &sha256[2.min(sha256.len())..4.min(sha256.len())],
    );
    root.join(a).join(b).join(sha256)
}

/// Where the thumbnail of the blob with `sha256` lives under `root`.
pub fn thumbnail_path(root: &Path, sha256: &str) -> PathBuf {
    let mut path = blob_path(root, sha256);
    path.set_extension("thumb.png");
    path
}

/// Folder for uploads still being received.
pub fn temp_dir(root: &Path) -> PathBuf {
    root.join("tmp")
}

/// Decides the media type of a file from its first bytes (`head`).
pub fn sniff(head: &[u8]) -> String {
    if let Some(kind) = infer::get(head) {
        return kind.mime_type().to_string();
    }
    let text = std::str::from_utf8(head)
        .or_else(|e| {
            // The cut at SNIFF_BYTES may split a character: accept a valid prefix.
            if e.error_len().is_none() {
                std::str::from_utf8(&head[..e.valid_up_to()])
            } else {
                Err(e)
            }
        })
        .ok();
    match text {
        Some(text) if !text.contains('\0') => {
            let start = text
                .trim_start_matches('\u{feff}')
                .trim_start()
                .to_ascii_lowercase();
            let markup = [
                "<!doctype",
                "<html",
                "<?xml",
                "<svg",
                "<script",
                "<head",
                "<body",
                "<iframe",
            ];
            if markup.iter().any(|tag| start.starts_with(tag)) {
                "text/html".into()
            } else {
                "text/plain".into()
            }
        }
        _ => "application/octet-stream".into(),
    }
}

/// A client file name made safe to keep and show: the last path component, without control,
/// bidirectional-override or other format characters, without leading dots, at most 255
/// characters; `file` if nothing is left.
pub fn sanitize_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .filter(|c| {
            !c.is_control()
                && !matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
        })
        .collect();
    let trimmed = cleaned.trim().trim_start_matches('.').trim();
    let name: String = trimmed.chars().take(255).collect();
    if name.is_empty() { "file".into() } else { name }
}

/// Dimensions and (for decodable images) a thumbnail, made from the blob at `path`.
pub struct ImageInfo {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// PNG bytes of the thumbnail.
    pub thumbnail: Vec<u8>,
}

/// Reads an image's dimensions and makes its thumbnail. CPU-bound: call on the blocking pool.
///
/// # Errors
/// `validation_failed` when the image cannot be decoded or is larger than
/// [`MAX_IMAGE_SIDE_PX`] on a side.
pub fn inspect_image(path: &Path) -> Result<ImageInfo, AppError> {
    let bad = |e: &dyn std::fmt::Display| {
        AppError::Validation(format!("file: not a decodable image ({e})"))
    };
    let mut reader = image::ImageReader::open(path)
        .map_err(|e| bad(&e))?
        .with_guessed_format()
        .map_err(|e| bad(&e))?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_SIDE_PX);
    limits.max_image_height = Some(MAX_IMAGE_SIDE_PX);
    limits.max_alloc = Some(512 * 1024 * 1024);
    reader.limits(limits);
    let image = reader.decode().map_err(|e| bad(&e))?;
    let (width, height) = (image.width(), image.height());
    // Shrink only: a small image is its own thumbnail.
    let thumb = if width.max(height) > THUMBNAIL_MAX_PX {
        image.thumbnail(THUMBNAIL_MAX_PX, THUMBNAIL_MAX_PX)
    } else {
        image
    };
    let mut thumbnail = Vec::new();
    thumb
        .write_to(
            &mut std::io::Cursor::new(&mut thumbnail),
            image::ImageFormat::Png,
        )
        .map_err(AppError::internal)?;
    Ok(ImageInfo {
        width,
        height,
        thumbnail,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_the_content_not_the_name() {
        let png = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13];
        assert_eq!(sniff(&png), "image/png");
        assert_eq!(sniff(b"%PDF-1.7\n"), "application/pdf");
        assert_eq!(sniff(b"hello, world\n"), "text/plain");
        assert_eq!(sniff(b"  <!DOCTYPE html><html></html>"), "text/html");
        assert_eq!(
            sniff(b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
            "text/html"
        );
        assert_ne!(sniff(b"MZ\x90\x00\x03\x00\x00\x00"), "text/plain");
        assert_eq!(sniff(b"a\0b"), "application/octet-stream");
    }

    #[test]
    fn names_lose_paths_controls_and_bidi_overrides() {
        assert_eq!(sanitize_name("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_name("..\\..\\win.ini"), "win.ini");
        assert_eq!(sanitize_name("a\0b.png"), "ab.png");
        assert_eq!(sanitize_name("invoice\u{202e}gnp.exe"), "invoicegnp.exe");
        assert_eq!(sanitize_name(".hidden"), "hidden");
        assert_eq!(sanitize_name(""), "file");
        assert_eq!(sanitize_name("../"), "file");
        assert_eq!(sanitize_name(&"x".repeat(1000)).chars().count(), 255);
    }

    #[test]
    fn blobs_are_sharded_by_hash() {
        let path = blob_path(Path::new("/u"), "abcdef0123");
        assert_eq!(path, Path::new("/u/ab/cd/abcdef0123"));
        assert_eq!(
            thumbnail_path(Path::new("/u"), "abcdef"),
            Path::new("/u/ab/cd/abcdef.thumb.png")
        );
    }
}
