ALTER TABLE projects DROP COLUMN system_user_id;
DROP TABLE user_tokens;
