//! Refresh tokens: 256 random bits, base64url without padding. Only their SHA-256 (hex) is
//! stored, so a database leak does not leak usable tokens (OWASP Session Management Cheat
//! Sheet).

use base64::Engine as _;
use sha2::{Digest, Sha256};

/// A new random refresh token.
pub fn generate() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

/// The stored form of a token: lowercase hex SHA-256.
pub fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let (a, b) = (generate(), generate());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(digest(&a).len(), 64);
        assert_ne!(digest(&a), digest(&b));
        assert_eq!(digest("abc"), digest("abc"));
    }
}
