DELETE FROM users WHERE email IS NULL OR username IS NULL OR password_hash IS NULL;
DROP INDEX users_project_external;
ALTER TABLE users DROP COLUMN metadata;
ALTER TABLE users DROP COLUMN external_id;
ALTER TABLE users ALTER COLUMN password_hash SET NOT NULL;
ALTER TABLE users ALTER COLUMN username SET NOT NULL;
ALTER TABLE users ALTER COLUMN email SET NOT NULL;
