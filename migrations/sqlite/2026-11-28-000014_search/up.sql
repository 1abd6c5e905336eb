-- Message search (issue 13): an FTS5 index of the text of every message that is not deleted.
--
-- External content (https://sqlite.org/fts5.html#external_content_tables): the index keeps
-- only tokens, `messages.content` stays the one copy of the text, and snippet() reads it from
-- there by rowid (= messages.id). Such an index is only as right as the triggers below, which
-- add a message's text when it is stored, swap it when it is edited and take it out when the
-- message is deleted (a tombstone: `deleted_at` set, content emptied) or its row goes. A
-- 'delete' must name the exact text that was indexed: `old.content` while `old.deleted_at`
-- is NULL is that text.
--
-- unicode61 with remove_diacritics 2: any case and any accent match (`cafe` finds `Café`),
-- in every script the Unicode tables know.
--
-- A later migration that rebuilds `messages` (DROP TABLE, rename) drops these triggers with
-- it: it must create them again and run the backfill below.
CREATE VIRTUAL TABLE messages_fts USING fts5(
    content,
    content = 'messages',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);

INSERT INTO messages_fts (rowid, content)
SELECT id, content FROM messages WHERE deleted_at IS NULL;

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
WHEN new.deleted_at IS NULL
BEGIN
    INSERT INTO messages_fts (rowid, content) VALUES (new.id, new.content);
END;

CREATE TRIGGER messages_fts_update AFTER UPDATE OF content, deleted_at ON messages
BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content)
    SELECT 'delete', old.id, old.content WHERE old.deleted_at IS NULL;
    INSERT INTO messages_fts (rowid, content)
    SELECT new.id, new.content WHERE new.deleted_at IS NULL;
END;

CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
WHEN old.deleted_at IS NULL
BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
END;
