-- API keys (issue 12): a project's backend calls the server API with one. Only the SHA-256 of
-- the key is stored; `prefix` is its first characters, shown to tell keys apart.
CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id BIGINT NOT NULL REFERENCES projects(id),
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    -- Space-separated: users:write tokens:write conversations:write messages:write read.
    scopes TEXT NOT NULL,
    created_by BIGINT,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE INDEX api_keys_project ON api_keys (project_id, id);
