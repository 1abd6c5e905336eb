//! Signed download links: `/api/v1/uploads/{id}?exp=<unix seconds>&sig=<base64url>`.
//!
//! A link is a capability, like a presigned object-store URL: whoever holds it may download
//! that one file until `exp`, with no other credential. Links are handed out only inside views
//! their reader may see (a message, an upload answer), and signed afresh each time, so a
//! long-lived access token never has to appear in a URL, a proxy log or a browser history
//! (OWASP Session Management Cheat Sheet, *Session ID exposure*).
//!
//! `sig` is HMAC-SHA256 (RFC 2104) over `"<path>\n<exp>"` with a key derived from the server's
//! JWT secret, unpadded base64url. `exp` is rounded up to a twelfth of the lifetime, so the
//! same file has the same link for a while and browsers can cache it; a link therefore lives
//! between `uploads.download_url_ttl_s` and 13/12 of it.

use base64::Engine as _;
use hmac::{KeyInit, Mac};
use sha2::Sha256;

use crate::domain::UploadId;

type HmacSha256 = hmac::Hmac<Sha256>;

/// Signs and checks download links.
#[derive(Clone)]
pub struct DownloadLinks {
    key: Vec<u8>,
    ttl_s: i64,
}

impl DownloadLinks {
    /// Links signed with a key derived from `secret` (the JWT secret), valid for about `ttl_s`
    /// seconds (at least 1).
    pub fn new(secret: &[u8], ttl_s: u64) -> Self {
        let key = hmac_sha256(secret, b"parlor download links v1");
        Self {
            key,
            ttl_s: i64::try_from(ttl_s.max(1)).unwrap_or(i64::MAX / 2),
        }
    }

    /// The path of an upload's bytes.
    pub fn file_path(id: UploadId) -> String {
        format!("/api/v1/uploads/{id}")
    }

    /// The path of an upload's thumbnail.
    pub fn thumbnail_path(id: UploadId) -> String {
        format!("/api/v1/uploads/{id}/thumbnail")
    }

    /// A signed link to the upload's bytes, valid from now.
    pub fn file(&self, id: UploadId) -> String {
        self.link(&Self::file_path(id), chrono::Utc::now().timestamp())
    }

    /// A signed link to the upload's thumbnail, valid from now.
    pub fn thumbnail(&self, id: UploadId) -> String {
        self.link(&Self::thumbnail_path(id), chrono::Utc::now().timestamp())
    }

    /// `path?exp=&sig=` for a link made at `now` (Unix seconds).
    pub fn link(&self, path: &str, now: i64) -> String {
        let bucket = (self.ttl_s / 12).max(1);
        let end = now.saturating_add(self.ttl_s);
        let exp = end + (bucket - end.rem_euclid(bucket)) % bucket;
        format!("{path}?exp={exp}&sig={}", self.signature(path, exp))
    }

    fn signature(&self, path: &str, exp: i64) -> String {
        let mac = hmac_sha256(&self.key, format!("{path}\n{exp}").as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac)
    }

    /// Whether `sig` signs `path` until `exp`, and `exp` is not past at `now` (Unix seconds).
    /// The comparison is constant-time.
    pub fn verify(&self, path: &str, exp: i64, sig: &str, now: i64) -> bool {
        if exp < now {
            return false;
        }
        let Ok(given) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(sig) else {
            return false;
        };
        match HmacSha256::new_from_slice(&self.key) {
            Ok(mut mac) => {
                mac.update(format!("{path}\n{exp}").as_bytes());
                mac.verify_slice(&given).is_ok()
            }
            Err(_) => false,
        }
    }
}

/// HMAC-SHA256 (RFC 2104) of `message` under `key`: the MAC of download links and of widget
/// visitor tokens (`crate::auth::visitor`).
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length: new_from_slice cannot fail for it.
    match HmacSha256::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(message);
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(link: &str) -> (String, i64, String) {
        let (path, query) = link.split_once('?').unwrap_or((link, ""));
        let mut exp = 0;
        let mut sig = String::new();
        for pair in query.split('&') {
            match pair.split_once('=') {
                Some(("exp", v)) => exp = v.parse().unwrap_or(0),
                Some(("sig", v)) => sig = v.to_string(),
                _ => {}
            }
        }
        (path.to_string(), exp, sig)
    }

    #[test]
    fn a_link_opens_its_own_path_until_it_expires() {
        let links = DownloadLinks::new(b"0123456789abcdef0123456789abcdef", 3600);
        let (path, exp, sig) = parts(&links.link("/api/v1/uploads/5", 1_000_000));
        assert_eq!(path, "/api/v1/uploads/5");
        assert!((1_003_600..1_003_900).contains(&exp), "exp {exp}");
        assert!(links.verify(&path, exp, &sig, 1_000_000));
        assert!(links.verify(&path, exp, &sig, exp));
        assert!(!links.verify(&path, exp, &sig, exp + 1), "expired");
        assert!(
            !links.verify("/api/v1/uploads/6", exp, &sig, 1_000_000),
            "other file"
        );
        assert!(
            !links.verify(&path, exp + 300, &sig, 1_000_000),
            "moved expiry"
        );
        assert!(!links.verify(&path, exp, "AAAA", 1_000_000), "forged");
        let other = DownloadLinks::new(b"another secret, also 32 bytes!!!", 3600);
        assert!(!other.verify(&path, exp, &sig, 1_000_000), "other server");
    }

    #[test]
    fn links_made_close_together_are_identical_so_browsers_can_cache_them() {
        let links = DownloadLinks::new(b"0123456789abcdef0123456789abcdef", 3600);
        assert_eq!(
            links.link("/api/v1/uploads/5", 1_000_001),
            links.link("/api/v1/uploads/5", 1_000_002)
        );
    }
}
