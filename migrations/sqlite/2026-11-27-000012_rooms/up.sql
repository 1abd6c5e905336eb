-- Rooms (issue 13): conversation kinds direct, group, channel and support; a visibility and a
-- description; a member role per participant. SQLite cannot change a CHECK in place: the
-- conversations table is rebuilt as its manual describes
-- (https://www.sqlite.org/lang_altertable.html, "Making Other Kinds Of Table Schema Changes"),
-- with foreign keys off, outside diesel's transaction (metadata.toml), in one transaction.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE conversations_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id BIGINT NOT NULL REFERENCES projects(id),
    title TEXT,
    kind TEXT NOT NULL CHECK (kind IN ('direct', 'group', 'channel', 'support')),
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    created_by BIGINT NOT NULL REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    closed_at TIMESTAMP,
    closed_by BIGINT REFERENCES users(id),
    last_seq BIGINT NOT NULL DEFAULT 0,
    last_activity_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL DEFAULT 0,
    participant_count BIGINT NOT NULL DEFAULT 0,
    description TEXT,
    visibility TEXT NOT NULL DEFAULT 'private' CHECK (visibility IN ('public', 'private')),
    -- Direct conversations: "<lower user id>:<higher user id>", unique per project.
    direct_key TEXT
);
INSERT INTO conversations_new (id, project_id, title, kind, status, created_by, created_at,
                               closed_at, closed_by, last_seq, last_activity_at, version,
                               participant_count)
SELECT id, project_id, title, kind, status, created_by, created_at, closed_at, closed_by,
       last_seq, last_activity_at, version, participant_count
FROM conversations;
DROP TABLE conversations;
ALTER TABLE conversations_new RENAME TO conversations;
CREATE INDEX conversations_project_activity ON conversations (project_id, last_activity_at);

ALTER TABLE participants ADD COLUMN role TEXT NOT NULL DEFAULT 'member'
    CHECK (role IN ('owner', 'admin', 'moderator', 'member', 'follower'));

-- Today's conversations: a customer's with only agents and admins (or no one else) is a support
-- conversation; the others keep direct (two people) or group.
UPDATE conversations SET kind = 'support'
WHERE (SELECT role FROM users u WHERE u.id = conversations.created_by) = 'customer'
  AND NOT EXISTS (
      SELECT 1 FROM participants p JOIN users u ON u.id = p.user_id
      WHERE p.conversation_id = conversations.id
        AND p.user_id <> conversations.created_by
        AND u.role = 'customer');
-- Groups are owned by their creator.
UPDATE participants SET role = 'owner'
WHERE EXISTS (
    SELECT 1 FROM conversations c
    WHERE c.id = participants.conversation_id
      AND c.kind = 'group'
      AND c.created_by = participants.user_id);
-- A pair has one direct conversation: the oldest keeps the key.
UPDATE conversations SET direct_key = (
    SELECT min(p.user_id) || ':' || max(p.user_id) FROM participants p
    WHERE p.conversation_id = conversations.id)
WHERE kind = 'direct'
  AND participant_count = 2
  AND id = (
      SELECT min(c2.id) FROM conversations c2
      WHERE c2.kind = 'direct' AND c2.project_id = conversations.project_id
        AND c2.participant_count = 2
        AND (SELECT min(user_id) || ':' || max(user_id) FROM participants WHERE conversation_id = c2.id)
          = (SELECT min(user_id) || ':' || max(user_id) FROM participants WHERE conversation_id = conversations.id));
CREATE UNIQUE INDEX conversations_direct_key ON conversations (project_id, direct_key)
    WHERE direct_key IS NOT NULL;
COMMIT;
PRAGMA foreign_keys = ON;
