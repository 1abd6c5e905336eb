-- Kinds and roles go; support and channel conversations read as groups.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE conversations_old (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id BIGINT NOT NULL REFERENCES projects(id),
    title TEXT,
    kind TEXT NOT NULL CHECK (kind IN ('direct', 'group')),
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    created_by BIGINT NOT NULL REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    closed_at TIMESTAMP,
    closed_by BIGINT REFERENCES users(id),
    last_seq BIGINT NOT NULL DEFAULT 0,
    last_activity_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL DEFAULT 0,
    participant_count BIGINT NOT NULL DEFAULT 0
);
INSERT INTO conversations_old
SELECT id, project_id, title,
       CASE WHEN participant_count = 2 AND kind IN ('direct', 'support') THEN 'direct' ELSE 'group' END,
       status, created_by, created_at, closed_at, closed_by, last_seq, last_activity_at, version,
       participant_count
FROM conversations;
DROP TABLE conversations;
ALTER TABLE conversations_old RENAME TO conversations;
CREATE INDEX conversations_project_activity ON conversations (project_id, last_activity_at);
ALTER TABLE participants DROP COLUMN role;
COMMIT;
PRAGMA foreign_keys = ON;
