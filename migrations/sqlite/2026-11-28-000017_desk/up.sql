-- The support desk (issue 15): statuses, assignment, agents' availability, internal notes,
-- canned responses, labels and satisfaction ratings.

-- A support conversation is `open`, `pending` (waiting on the customer), `snoozed` (until
-- `snoozed_until`, then open again) or `resolved`; other kinds stay `open` or `closed`.
-- `assignee_id`: the agent it is assigned to. `first_response_at`: the first public reply of
-- the support team. `waiting_since`: the oldest customer message no public reply of the team
-- has followed yet (the queue's order). `resolved_at`: the last resolution; `resolutions`
-- counts them (a rating is accepted once per resolution).
-- SQLite cannot change a CHECK in place: the conversations table is rebuilt as its manual
-- describes (https://www.sqlite.org/lang_altertable.html, "Making Other Kinds Of Table Schema
-- Changes"), with foreign keys off, outside diesel's transaction (metadata.toml), in one
-- transaction, as the rooms migration did.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE conversations_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id BIGINT NOT NULL REFERENCES projects(id),
    title TEXT,
    kind TEXT NOT NULL CHECK (kind IN ('direct', 'group', 'channel', 'support')),
    status TEXT NOT NULL DEFAULT 'open'
        CHECK (status IN ('open', 'closed', 'pending', 'snoozed', 'resolved')),
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
    direct_key TEXT,
    assignee_id BIGINT,
    snoozed_until TIMESTAMP,
    first_response_at TIMESTAMP,
    waiting_since TIMESTAMP,
    resolved_at TIMESTAMP,
    resolutions BIGINT NOT NULL DEFAULT 0
);
INSERT INTO conversations_new (id, project_id, title, kind, status, created_by, created_at,
                               closed_at, closed_by, last_seq, last_activity_at, version,
                               participant_count, description, visibility, direct_key)
SELECT id, project_id, title, kind, status, created_by, created_at, closed_at, closed_by,
       last_seq, last_activity_at, version, participant_count, description, visibility,
       direct_key
FROM conversations;
DROP TABLE conversations;
ALTER TABLE conversations_new RENAME TO conversations;
CREATE INDEX conversations_project_activity ON conversations (project_id, last_activity_at);
CREATE UNIQUE INDEX conversations_direct_key ON conversations (project_id, direct_key)
    WHERE direct_key IS NOT NULL;
UPDATE conversations SET status = 'resolved', resolved_at = closed_at, resolutions = 1
  WHERE kind = 'support' AND status = 'closed';
UPDATE conversations SET waiting_since = created_at WHERE kind = 'support' AND status = 'open';
CREATE INDEX conversations_desk ON conversations (project_id, kind, status, assignee_id);
CREATE INDEX conversations_snoozed ON conversations (snoozed_until) WHERE status = 'snoozed';

-- An internal note: seen by the support team and admins only.
ALTER TABLE messages ADD COLUMN private BOOLEAN NOT NULL DEFAULT FALSE;

-- An agent's availability (`online`, `busy`, `offline`) and when they were last given a
-- conversation (auto-assignment's round robin).
CREATE TABLE agent_states (
    user_id BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    project_id BIGINT NOT NULL,
    availability TEXT NOT NULL DEFAULT 'offline',
    last_assigned_at TIMESTAMP,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX agent_states_project ON agent_states (project_id, availability);

-- Canned responses: `/short_code` in an agent's message expands to `content`.
CREATE TABLE canned_responses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id BIGINT NOT NULL,
    short_code TEXT NOT NULL,
    content TEXT NOT NULL,
    created_by BIGINT REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX canned_responses_code ON canned_responses (project_id, short_code);

-- Labels of a project, and the conversations that carry them.
CREATE TABLE labels (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id BIGINT NOT NULL,
    title TEXT NOT NULL,
    description TEXT,
    color TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX labels_title ON labels (project_id, title);
CREATE TABLE conversation_labels (
    conversation_id BIGINT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    label_id BIGINT NOT NULL REFERENCES labels(id) ON DELETE CASCADE,
    project_id BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (conversation_id, label_id)
);
CREATE INDEX conversation_labels_label ON conversation_labels (label_id);

-- Customer satisfaction: one rating (1-5) per resolution of a conversation.
CREATE TABLE csat_responses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id BIGINT NOT NULL,
    conversation_id BIGINT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    resolution BIGINT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id),
    assignee_id BIGINT REFERENCES users(id),
    rating INTEGER NOT NULL,
    comment TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX csat_responses_resolution ON csat_responses (conversation_id, resolution);
CREATE INDEX csat_responses_project ON csat_responses (project_id, created_at);
COMMIT;
PRAGMA foreign_keys = ON;
