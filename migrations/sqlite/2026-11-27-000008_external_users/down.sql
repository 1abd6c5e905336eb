-- Users without a password or email cannot be kept by the earlier schema: they go.
PRAGMA foreign_keys = OFF;
BEGIN;
DELETE FROM users WHERE email IS NULL OR username IS NULL OR password_hash IS NULL;
CREATE TABLE users_old (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id BIGINT NOT NULL REFERENCES projects(id),
    email TEXT NOT NULL,
    username TEXT NOT NULL,
    display_name TEXT,
    role TEXT NOT NULL CHECK (role IN ('admin', 'agent', 'customer')),
    password_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP,
    disabled BOOLEAN NOT NULL DEFAULT 0,
    token_generation BIGINT NOT NULL DEFAULT 0,
    instance_admin BOOLEAN NOT NULL DEFAULT FALSE
);
INSERT INTO users_old SELECT id, project_id, email, username, display_name, role, password_hash,
       created_at, last_seen_at, disabled, token_generation, instance_admin FROM users;
DROP TABLE users;
ALTER TABLE users_old RENAME TO users;
CREATE UNIQUE INDEX users_project_email ON users (project_id, email);
CREATE UNIQUE INDEX users_project_username ON users (project_id, lower(username));
COMMIT;
PRAGMA foreign_keys = ON;
