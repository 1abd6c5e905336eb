-- User tokens (issue 12): access tokens that a project's backend mints for its users through
-- the server API. `id` is the token's `jti` (ut_<32 hex>); the token itself is not stored.
-- A revoked, unexpired token is on every node's deny list.
CREATE TABLE user_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    project_id BIGINT NOT NULL REFERENCES projects(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    api_key_id BIGINT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX user_tokens_user ON user_tokens (user_id, expires_at);
CREATE INDEX user_tokens_revoked ON user_tokens (expires_at) WHERE revoked_at IS NOT NULL;

-- The project's system user (issue 12): the sender of system messages posted through the
-- server API and the creator of conversations it creates without one. Disabled, with no
-- credentials; made on first use.
ALTER TABLE projects ADD COLUMN system_user_id BIGINT REFERENCES users(id);
