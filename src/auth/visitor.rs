//! Widget identities (docs/PROTOCOL.md, *Widget sessions*).
//!
//! - **Anonymous visitors** get a [`VisitorTokens`] token: `<visitor id>.<signature>`, base64url
//!   without padding, where the id is 16 random bytes and the signature is HMAC-SHA256 over the
//!   project and the id, keyed from the server's secret. Nothing is stored but the user it
//!   names (external id `visitor:<visitor id>`), so the token works on every node and as long
//!   as the secret stays; the widget keeps it in the host page's `localStorage`, which is what
//!   makes the visitor survive reloads. Disabling the user ends it.
//! - **Identified users** come with the host site's `external_id` and `user_hash`, the hex
//!   HMAC-SHA256 of the external id keyed with the project's `widget_identity_secret`, computed
//!   by the site's backend (Chatwoot's identity validation). [`user_hash_matches`] checks it
//!   in constant time.

use base64::Engine as _;
use hmac::{KeyInit, Mac};
use rand::RngExt as _;
use sha2::Sha256;

use crate::api::hmac_sha256;
use crate::domain::ProjectId;

type HmacSha256 = hmac::Hmac<Sha256>;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The prefix of an anonymous visitor's external id.
pub const VISITOR_PREFIX: &str = "visitor:";

/// Signs and checks anonymous visitors' tokens.
#[derive(Clone)]
pub struct VisitorTokens {
    key: Vec<u8>,
}

impl std::fmt::Debug for VisitorTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VisitorTokens(..)")
    }
}

impl VisitorTokens {
    /// Keys derived from the server's `secret` (never the secret itself).
    pub fn new(secret: &[u8]) -> Self {
        Self {
            key: hmac_sha256(secret, b"parlor widget visitors v1"),
        }
    }

    /// A new visitor of `project`: `(visitor id, token)`.
    pub fn issue(&self, project: ProjectId) -> (String, String) {
        let id: [u8; 16] = rand::rng().random();
        let id = B64.encode(id);
        let signature = B64.encode(self.sign(project, &id));
        (id.clone(), format!("{id}.{signature}"))
    }

    /// The visitor id `token` names, when it was issued by this server for `project`.
    pub fn verify(&self, project: ProjectId, token: &str) -> Option<String> {
        let (id, signature) = token.split_once('.')?;
        if B64.decode(id).ok()?.len() != 16 {
            return None;
        }
        let given = B64.decode(signature).ok()?;
        let mut check = HmacSha256::new_from_slice(&self.key).ok()?;
        check.update(&message(project, id));
        check.verify_slice(&given).ok()?;
        Some(id.to_owned())
    }

    fn sign(&self, project: ProjectId, id: &str) -> Vec<u8> {
        hmac_sha256(&self.key, &message(project, id))
    }
}

fn message(project: ProjectId, id: &str) -> Vec<u8> {
    format!("{}\n{id}", project.0).into_bytes()
}

/// Whether `user_hash` (hex, either case) is HMAC-SHA256(`secret`, `external_id`), compared in
/// constant time.
pub fn user_hash_matches(secret: &str, external_id: &str, user_hash: &str) -> bool {
    let Ok(given) = hex::decode(user_hash.trim()) else {
        return false;
    };
    let Ok(mut check) = HmacSha256::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    check.update(external_id.as_bytes());
    check.verify_slice(&given).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_visitor_token_is_good_for_its_project_only_and_cannot_be_forged() {
        let tokens = VisitorTokens::new(b"server secret");
        let (id, token) = tokens.issue(ProjectId(1));
        assert_eq!(tokens.verify(ProjectId(1), &token), Some(id.clone()));
        assert_eq!(tokens.verify(ProjectId(2), &token), None, "another project");
        let other_server = VisitorTokens::new(b"another secret");
        assert_eq!(other_server.verify(ProjectId(1), &token), None);
        let (other_id, _) = tokens.issue(ProjectId(1));
        assert_ne!(other_id, id, "ids are random");
        let signature = token.split_once('.').map(|(_, s)| s).unwrap_or_default();
        for forged in [
            format!("{other_id}.{signature}"),
            id.clone(),
            format!("{id}."),
            format!("{id}.!!"),
            String::new(),
            format!("{}.{signature}", B64.encode([0u8; 15])),
        ] {
            assert_eq!(tokens.verify(ProjectId(1), &forged), None, "{forged:?}");
        }
    }

    #[test]
    fn user_hashes_are_hex_hmac_sha256_of_the_external_id() {
        // echo -n 'user-42' | openssl dgst -sha256 -hmac 'identity-secret-of-project-one-xyz'
        let secret = "identity-secret-of-project-one-xyz";
        let hash = hex::encode(hmac_sha256(secret.as_bytes(), b"user-42"));
        assert!(user_hash_matches(secret, "user-42", &hash));
        assert!(user_hash_matches(secret, "user-42", &hash.to_uppercase()));
        assert!(!user_hash_matches(secret, "user-43", &hash));
        assert!(!user_hash_matches("another-secret", "user-42", &hash));
        assert!(!user_hash_matches(secret, "user-42", "not hex"));
        assert!(!user_hash_matches(secret, "user-42", ""));
    }
}
