-- Users upserted by a project's backend (issue 12, PUT /api/v1/server/users/{external_id}):
-- known by `external_id`, with no password and maybe no email or username, and `metadata`
-- (a JSON object, kept as text).
ALTER TABLE users ALTER COLUMN email DROP NOT NULL;
ALTER TABLE users ALTER COLUMN username DROP NOT NULL;
ALTER TABLE users ALTER COLUMN password_hash DROP NOT NULL;
ALTER TABLE users ADD COLUMN external_id TEXT;
ALTER TABLE users ADD COLUMN metadata TEXT;
CREATE UNIQUE INDEX users_project_external ON users (project_id, external_id)
    WHERE external_id IS NOT NULL;
