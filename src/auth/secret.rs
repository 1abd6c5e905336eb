//! The HMAC secret behind access tokens and download links: `auth.jwt_secret`, or a random one
//! generated on first start and kept in `<data folder>/jwt_secret`.
//!
//! The file is a credential (OWASP Secrets Management Cheat Sheet): it is created with mode
//! 0600 in a folder created with mode 0700, and the server refuses to start when it is readable
//! by group or others. A file that cannot be read, or holds fewer than 32 bytes (truncated),
//! is an error: silently generating a new secret would sign every user out.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use secrecy::ExposeSecret;

use crate::config::AuthSettings;
use crate::db::create_private_dir;

/// Name of the file holding a generated secret, in the data folder.
pub const SECRET_FILE: &str = "jwt_secret";

/// Shortest accepted secret: RFC 7518 §3.2 wants an HS256 key at least as long as the hash.
const MIN_BYTES: usize = 32;

/// The configured secret, or the one kept in `data_dir/jwt_secret`, generating and saving a
/// random 64-byte one (hex) when the file does not exist.
///
/// # Errors
/// A configured secret under 32 bytes; a secret file readable by group or others (the message
/// names the file and the `chmod` that fixes it), unreadable, or shorter than 32 bytes; a data
/// folder that cannot be created or written.
pub fn load_or_create(settings: &AuthSettings, data_dir: &Path) -> anyhow::Result<Vec<u8>> {
    let configured = settings.jwt_secret.expose_secret();
    if !configured.is_empty() {
        if configured.len() < MIN_BYTES {
            anyhow::bail!("auth.jwt_secret must be at least 32 bytes (or empty to generate one)");
        }
        return Ok(configured.as_bytes().to_vec());
    }
    let path = data_dir.join(SECRET_FILE);
    match std::fs::metadata(&path) {
        Ok(_) => read(&path),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => create(data_dir, &path),
        Err(err) => Err(err).with_context(|| format!("cannot read {}", path.display())),
    }
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    check_private(path)?;
    let contents =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let secret = contents.trim();
    if secret.len() < MIN_BYTES {
        anyhow::bail!(
            "{} holds {} bytes, fewer than 32: it is truncated or was edited. Restore it from a \
             backup, or delete it to generate a new secret (every user will have to sign in \
             again)",
            path.display(),
            secret.len()
        );
    }
    Ok(secret.as_bytes().to_vec())
}

#[cfg(unix)]
fn check_private(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)?.permissions().mode();
    if mode & 0o077 != 0 {
        anyhow::bail!(
            "{} is readable by group or others (mode {:o}); it signs every access token. Run \
             `chmod 600 {}` and start again",
            path.display(),
            mode & 0o777,
            path.display()
        );
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path) -> anyhow::Result<()> {
    Ok(())
}

fn create(data_dir: &Path, path: &PathBuf) -> anyhow::Result<Vec<u8>> {
    create_private_dir(data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    let secret = hex::encode(rand::random::<[u8; 64]>());
    let mut options = std::fs::OpenOptions::new();
    // create_new: two servers starting at once cannot both write one.
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(secret.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    tracing::info!(path = %path.display(), "generated a new JWT secret");
    Ok(secret.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> AuthSettings {
        AuthSettings::default()
    }

    #[test]
    fn a_secret_is_generated_once_then_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let first = load_or_create(&settings(), &data).unwrap();
        assert_eq!(first.len(), 128);
        assert_eq!(load_or_create(&settings(), &data).unwrap(), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&data.join(SECRET_FILE)), 0o600);
            assert_eq!(mode(&data), 0o700);
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_secret_file_others_can_read_stops_the_server_and_names_the_fix() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        load_or_create(&settings(), dir.path()).unwrap();
        let path = dir.path().join(SECRET_FILE);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = load_or_create(&settings(), dir.path())
            .unwrap_err()
            .to_string();
        assert!(err.contains(&path.display().to_string()), "{err}");
        assert!(err.contains("chmod 600"), "{err}");
    }

    #[test]
    fn a_truncated_secret_file_is_an_error_not_a_new_secret() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SECRET_FILE);
        load_or_create(&settings(), dir.path()).unwrap();
        let full = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, &full[..10]).unwrap();
        assert!(load_or_create(&settings(), dir.path()).is_err());
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            &full[..10],
            "left as it was"
        );
    }

    #[cfg(unix)]
    #[test]
    fn an_unreadable_secret_file_is_an_error_not_a_new_secret() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SECRET_FILE);
        // A folder where the file should be: it exists but cannot be read as a file.
        std::fs::create_dir(&path).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .unwrap();
        assert!(load_or_create(&settings(), dir.path()).is_err());
        assert!(path.is_dir(), "nothing was written over it");
    }
}
