-- Users upserted by a project's backend (issue 12, PUT /api/v1/server/users/{external_id}):
-- known by `external_id`, with no password and maybe no email or username, and `metadata`
-- (a JSON object). SQLite cannot drop NOT NULL in place: the table is rebuilt as its manual
-- describes (https://www.sqlite.org/lang_altertable.html, "Making Other Kinds Of Table Schema
-- Changes"), with foreign keys off, outside diesel's transaction (metadata.toml), in one
-- transaction of its own.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE users_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id BIGINT NOT NULL REFERENCES projects(id),
    email TEXT,
    username TEXT,
    display_name TEXT,
    role TEXT NOT NULL CHECK (role IN ('admin', 'agent', 'customer')),
    password_hash TEXT,
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP,
    disabled BOOLEAN NOT NULL DEFAULT 0,
    token_generation BIGINT NOT NULL DEFAULT 0,
    instance_admin BOOLEAN NOT NULL DEFAULT FALSE,
    external_id TEXT,
    metadata TEXT
);
INSERT INTO users_new (id, project_id, email, username, display_name, role, password_hash,
                       created_at, last_seen_at, disabled, token_generation, instance_admin)
SELECT id, project_id, email, username, display_name, role, password_hash,
       created_at, last_seen_at, disabled, token_generation, instance_admin
FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
CREATE UNIQUE INDEX users_project_email ON users (project_id, email);
CREATE UNIQUE INDEX users_project_username ON users (project_id, lower(username));
CREATE UNIQUE INDEX users_project_external ON users (project_id, external_id)
    WHERE external_id IS NOT NULL;
COMMIT;
PRAGMA foreign_keys = ON;
