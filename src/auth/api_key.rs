//! API keys: `pk_` and 256 random bits in base64url, stored only as their SHA-256 (hex), like
//! refresh tokens; a high-entropy secret needs no slow hash (OWASP Secrets Management Cheat
//! Sheet). Sent as `Authorization: Bearer pk_...` or `X-API-Key: pk_...`.

use actix_web::HttpRequest;

use super::extractors::bearer_token;
use super::refresh;

/// The prefix every key starts with.
pub const KEY_PREFIX: &str = "pk_";

/// How many characters of a key are shown to tell keys apart (`pk_` and 8 more).
const SHOWN: usize = 11;

/// A new key and its shown prefix.
pub fn generate() -> (String, String) {
    let key = format!("{KEY_PREFIX}{}", refresh::generate());
    let shown = key.chars().take(SHOWN).collect();
    (key, shown)
}

/// The stored form of a key: lowercase hex SHA-256.
pub fn digest(key: &str) -> String {
    refresh::digest(key)
}

/// The API key a request presents, if any: `X-API-Key`, else a bearer token that starts with
/// `pk_` (access tokens are JWTs, which never do).
pub fn presented(req: &HttpRequest) -> Option<String> {
    if let Some(value) = req.headers().get("x-api-key") {
        return value.to_str().ok().map(|v| v.trim().to_string());
    }
    bearer_token(req, false).filter(|token| token.starts_with(KEY_PREFIX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_random_prefixed_and_stored_hashed() {
        let (a, shown) = generate();
        let (b, _) = generate();
        assert_ne!(a, b);
        assert!(a.starts_with("pk_") && a.len() == 46, "{a}");
        assert!(a.starts_with(&shown) && shown.len() == 11);
        assert_eq!(digest(&a).len(), 64);
        assert_ne!(digest(&a), digest(&b));
    }
}
