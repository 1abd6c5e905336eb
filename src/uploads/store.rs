//! Turning a received file into an upload, and sweeping the uploads nobody attached. Both run
//! on the database writer, one at a time, so a blob is never deleted while an upload of the
//! same bytes is being recorded.

use std::path::{Path, PathBuf};

use chrono::NaiveDateTime;

use super::{blob_path, temp_dir, thumbnail_path};
use crate::db::models::{NewUpload, UploadRow};
use crate::db::queries::uploads;
use crate::db::{DbConnection, DbError, write_transaction};

/// A file received in full under `uploads.dir/tmp`, with the row that will describe it.
#[derive(Debug)]
pub struct PendingUpload {
    /// The row to insert.
    pub row: NewUpload,
    /// The received bytes.
    pub file: PathBuf,
    /// The thumbnail made of them, if any.
    pub thumbnail: Option<PathBuf>,
    /// `uploads.dir`.
    pub root: PathBuf,
    /// `uploads.quota_bytes_per_user`.
    pub quota_bytes: u64,
}

impl PendingUpload {
    /// In one transaction: checks the uploader's quota, moves the file (and thumbnail) to
    /// their content-addressed places (replacing an identical copy), and inserts the row. If
    /// anything fails after a file was moved, the moved files are deleted again unless another
    /// upload references the same bytes, so no file is left that nothing references (and that
    /// the sweep, which follows rows, would never find).
    ///
    /// # Errors
    /// [`DbError::QuotaExceeded`] past the quota; a file or query failure.
    pub fn commit(self, conn: &mut DbConnection) -> Result<UploadRow, DbError> {
        let stored = self.store(conn);
        if stored.is_err() && !uploads::referenced(conn, &self.row.sha256).unwrap_or(true) {
            remove(&blob_path(&self.root, &self.row.sha256));
            remove(&thumbnail_path(&self.root, &self.row.sha256));
        }
        stored
    }

    fn store(&self, conn: &mut DbConnection) -> Result<UploadRow, DbError> {
        write_transaction(conn, |conn| {
            let used = uploads::used_bytes(conn, self.row.uploader_id)?;
            let after = u64::try_from(used.saturating_add(self.row.size)).unwrap_or(u64::MAX);
            if after > self.quota_bytes {
                return Err(DbError::QuotaExceeded {
                    quota_bytes: self.quota_bytes,
                });
            }
            let blob = blob_path(&self.root, &self.row.sha256);
            if let Some(parent) = blob.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::rename(&self.file, &blob)?;
            if let Some(thumbnail) = &self.thumbnail {
                std::fs::rename(thumbnail, thumbnail_path(&self.root, &self.row.sha256))?;
            }
            uploads::insert(conn, &self.row)
        })
    }
}

/// Deletes uploads attached to no message that are older than `cutoff`, then the blobs (and
/// thumbnails) no upload references any more, and stale partial files.
#[derive(Debug)]
pub struct Sweep<'a> {
    /// `uploads.dir`.
    pub root: &'a Path,
    /// Uploads before this are swept (now − `uploads.unattached_ttl_h`).
    pub cutoff: NaiveDateTime,
}

/// Uploads deleted per transaction.
const SWEEP_BATCH: i64 = 500;

impl Sweep<'_> {
    /// Runs the sweep; answers how many uploads were deleted.
    ///
    /// # Errors
    /// A query failure. Files that cannot be deleted are logged and left.
    pub fn run(self, conn: &mut DbConnection) -> Result<usize, DbError> {
        let mut deleted = 0;
        loop {
            let swept = write_transaction(conn, |conn| {
                uploads::delete_unattached(conn, self.cutoff, SWEEP_BATCH)
            })?;
            for sha in &swept.orphans {
                remove(&blob_path(self.root, sha));
                remove(&thumbnail_path(self.root, sha));
            }
            deleted += swept.uploads;
            if i64::try_from(swept.uploads).unwrap_or(i64::MAX) < SWEEP_BATCH {
                break;
            }
        }
        self.remove_stale_partials();
        if deleted > 0 {
            tracing::info!(uploads = deleted, "swept unattached uploads");
        }
        Ok(deleted)
    }

    /// Partial files left in `tmp` by a crash mid-upload.
    fn remove_stale_partials(&self) {
        let Ok(entries) = std::fs::read_dir(temp_dir(self.root)) else {
            return;
        };
        let cutoff = std::time::SystemTime::UNIX_EPOCH
            + std::time::Duration::from_secs(
                u64::try_from(self.cutoff.and_utc().timestamp()).unwrap_or(0),
            );
        for entry in entries.flatten() {
            let stale = entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|modified| modified < cutoff);
            if stale {
                remove(&entry.path());
            }
        }
    }
}

/// Deletes the stored files (blob and thumbnail) of each SHA-256 in `orphans`, which no upload
/// references any more; files that cannot be deleted are logged and left.
pub fn remove_orphans(root: &Path, orphans: &[String]) {
    for sha in orphans {
        remove(&blob_path(root, sha));
        remove(&thumbnail_path(root, sha));
    }
}

fn remove(path: &Path) {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => tracing::warn!(path = %path.display(), error = %err, "cannot delete file"),
    }
}
