-- Messages in rooms (issue 13): replies, mentions, reactions and pins.

-- A reply names a message of the same conversation, checked when it is stored (no foreign key:
-- messages are never deleted one by one, only as tombstones, and SQLite could not drop the
-- column again with one).
ALTER TABLE messages ADD COLUMN reply_to_id BIGINT;

-- Who a message mentions (`@username`, `@all`, `@here`), resolved when it is stored or edited;
-- the sender is never among them. `seq` is the message's, so the unread mentions of a user are a
-- range of `mentions_user` above their read watermark. `named`: by `@username` (listed in the
-- message's `mentions`), else only by `@all` or `@here` (counted and told, not listed).
CREATE TABLE mentions (
    message_id BIGINT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    project_id BIGINT NOT NULL,
    conversation_id BIGINT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id),
    seq BIGINT NOT NULL,
    named BOOLEAN NOT NULL,
    PRIMARY KEY (message_id, user_id)
);
CREATE INDEX mentions_user ON mentions (user_id, conversation_id, seq);

-- One reaction per user per emoji per message.
CREATE TABLE reactions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id BIGINT NOT NULL,
    conversation_id BIGINT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    message_id BIGINT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id),
    emoji TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX reactions_message_user_emoji ON reactions (message_id, user_id, emoji);

-- Pinned messages; `id` orders a conversation's pins, newest first.
CREATE TABLE pins (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id BIGINT NOT NULL,
    conversation_id BIGINT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    message_id BIGINT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    pinned_by BIGINT NOT NULL REFERENCES users(id),
    pinned_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX pins_message ON pins (message_id);
CREATE INDEX pins_conversation ON pins (conversation_id, id);
