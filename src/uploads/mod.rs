//! File storage for uploads: content-addressed blobs, type sniffing, safe names, thumbnails,
//! quotas and the sweep of files nobody attached.
//!
//! - Bytes are stored once per distinct content at `uploads.dir/<h0h1>/<h2h3>/<sha256>`
//!   (sharded by the first hex digits), so the same file uploaded twice is stored once. The
//!   client's file name never becomes a path: it is kept only as checked metadata
//!   ([`file_name`]).
//! - The media type comes from the content's magic bytes ([`sniff`]), never from the name or
//!   the client's `Content-Type` (OWASP File Upload Cheat Sheet).
//! - Images get their dimensions recorded from the header, and a PNG thumbnail when they are
//!   small enough to decode safely ([`image`]).
//! - A received file becomes an upload on the database writer ([`PendingUpload::commit`]):
//!   quota check, move into place and row insert together, serialized with the [`Sweep`] that
//!   deletes unattached uploads and unreferenced blobs.

pub mod image;
mod sniff;
mod store;

pub use sniff::{SNIFF_BYTES, file_name, sniff};
pub use store::{PendingUpload, Sweep, remove_orphans};

use std::path::{Path, PathBuf};

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

#[cfg(test)]
mod tests {
    use super::*;

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
