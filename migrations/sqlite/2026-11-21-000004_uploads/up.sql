-- Uploaded files. The bytes live content-addressed on disk (uploads.dir/ab/cd/<sha256>), once
-- per distinct content; each upload is a row of its own (uploader, name, conversation).
CREATE TABLE uploads (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id BIGINT NOT NULL REFERENCES projects(id),
    uploader_id BIGINT NOT NULL REFERENCES users(id),
    -- Chosen at upload (optional) or when attached; an upload attaches to one conversation.
    conversation_id BIGINT REFERENCES conversations(id),
    -- The message it is attached to, once attached.
    message_id BIGINT,
    sha256 TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    original_name TEXT NOT NULL,
    width INTEGER,
    height INTEGER,
    has_thumbnail BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX uploads_sha256 ON uploads (sha256);

-- A message's attachment: the upload id, and its public view (immutable, so kept with the
-- message and served wherever the message appears).
ALTER TABLE messages ADD COLUMN attachment_id BIGINT REFERENCES uploads(id);
ALTER TABLE messages ADD COLUMN attachment TEXT;
CREATE UNIQUE INDEX messages_attachment ON messages (attachment_id) WHERE attachment_id IS NOT NULL;
