DROP INDEX uploads_unattached;
DROP INDEX uploads_uploader;
ALTER TABLE users DROP COLUMN token_generation;
ALTER TABLE users DROP COLUMN disabled;
ALTER TABLE conversations DROP COLUMN participant_count;
DROP INDEX messages_conversation_version;
ALTER TABLE messages DROP COLUMN created_version;
ALTER TABLE messages DROP COLUMN version;
ALTER TABLE conversations DROP COLUMN version;
