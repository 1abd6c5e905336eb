//! Authentication: access tokens (JWT, HS256), refresh tokens (opaque, stored hashed), password
//! hashing (bcrypt), and the extractor that turns a bearer token into an [`AuthUser`].

pub mod extractors;
pub mod jwt;
pub mod password;
pub mod refresh;

pub use extractors::AuthUser;
pub use jwt::JwtKeys;
