-- Account email (issue 15): verified addresses, and the one-time tokens mailed to them.

-- When the address was proven (a verification code, a reset link, a confirmed change). Accounts
-- that existed before this migration count as verified, so turning
-- auth.require_email_verification on locks nobody out.
ALTER TABLE users ADD COLUMN email_verified_at TIMESTAMP;
UPDATE users SET email_verified_at = created_at WHERE email IS NOT NULL;

-- One-time tokens sent by mail, stored hashed only: 'verify' (a 6-digit code, HMAC-SHA256 under
-- the server's secret), 'reset' (a password reset link), 'change' (a new address to confirm,
-- in new_email). A new token of a purpose deletes the user's unused ones of that purpose.
-- attempts counts wrong codes; used_at is set once a token is used.
CREATE TABLE email_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id BIGINT NOT NULL REFERENCES projects(id),
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    purpose TEXT NOT NULL CHECK (purpose IN ('verify', 'reset', 'change')),
    token_hash TEXT NOT NULL,
    new_email TEXT,
    attempts BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX email_tokens_hash ON email_tokens (token_hash);
CREATE INDEX email_tokens_user ON email_tokens (user_id, purpose);
CREATE INDEX email_tokens_expires ON email_tokens (expires_at);
