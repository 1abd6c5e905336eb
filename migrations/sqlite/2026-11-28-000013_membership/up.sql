-- Membership (issue 13): bans (removed, and kept out of invites and the directory) and invite
-- links to groups and channels.
CREATE TABLE conversation_bans (
    conversation_id BIGINT NOT NULL REFERENCES conversations(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    project_id BIGINT NOT NULL REFERENCES projects(id),
    banned_by BIGINT REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
);

CREATE TABLE invites (
    -- Random, from an alphabet without look-alikes; the link's secret.
    code TEXT PRIMARY KEY NOT NULL,
    project_id BIGINT NOT NULL REFERENCES projects(id),
    conversation_id BIGINT NOT NULL REFERENCES conversations(id),
    created_by BIGINT NOT NULL REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP,
    max_uses BIGINT,
    uses BIGINT NOT NULL DEFAULT 0,
    revoked_at TIMESTAMP
);
CREATE INDEX invites_conversation ON invites (conversation_id, created_at);
