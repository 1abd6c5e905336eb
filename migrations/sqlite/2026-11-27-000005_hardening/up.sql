-- Change counter: every stored message, edit and deletion moves its conversation's version
-- forward, and the message keeps the version of its latest change (and of its creation), so a
-- client can resume with since_version and learn of edits and deletions too.
ALTER TABLE conversations ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN created_version BIGINT NOT NULL DEFAULT 0;
UPDATE messages SET version = seq, created_version = seq;
UPDATE conversations SET version = last_seq;
CREATE INDEX messages_conversation_version ON messages (conversation_id, version);

-- Participant counts, kept with the conversation, so presence can skip large conversations
-- without counting their members on every connect.
ALTER TABLE conversations ADD COLUMN participant_count BIGINT NOT NULL DEFAULT 0;
UPDATE conversations SET participant_count =
    (SELECT count(*) FROM participants p WHERE p.conversation_id = conversations.id);

-- Accounts: an admin can disable a user; token_generation is the `gen` claim of the user's
-- access tokens, moved forward to end every session at once (logout-all, refresh-token reuse,
-- a role change, disabling).
ALTER TABLE users ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN token_generation BIGINT NOT NULL DEFAULT 0;

-- Uploads: quotas sum a user's files; the sweep finds old unattached ones.
CREATE INDEX uploads_uploader ON uploads (uploader_id);
CREATE INDEX uploads_unattached ON uploads (created_at) WHERE message_id IS NULL;
