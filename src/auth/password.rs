//! Password hashing with bcrypt (OWASP Password Storage Cheat Sheet). Hashing is CPU-bound
//! (about 250 ms at cost 12), so callers run it on the blocking pool, never on an actix worker.

use crate::error::AppError;

/// Hashes `password` at `cost`.
///
/// # Errors
/// `internal` if bcrypt refuses the cost (validated at config load).
pub fn hash(password: &str, cost: u32) -> Result<String, AppError> {
    bcrypt::hash(password, cost).map_err(AppError::internal)
}

/// Whether `password` matches `hash`. A malformed stored hash counts as a mismatch.
pub fn verify(password: &str, hash: &str) -> bool {
    bcrypt::verify(password, hash).unwrap_or(false)
}

/// Runs `f` on the blocking pool.
///
/// # Errors
/// `internal` if the blocking task panicked or was cancelled.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    actix_web::web::block(f).await.map_err(AppError::internal)
}
