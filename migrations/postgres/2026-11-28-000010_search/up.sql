-- Message search (issue 13): the words of every message that is not deleted, as a tsvector
-- kept by PostgreSQL itself (a stored generated column: computed on every insert and on every
-- update of the row, backfilled for existing rows by this ALTER), with a GIN index.
--
-- The 'simple' configuration lowercases words and keeps them whole: no stemming and no stop
-- words, so it treats every language alike (an English stemmer would mangle the other ones,
-- and a conversation is often in several). Stored rather than an expression index, so
-- ranking reads each hit's vector instead of parsing its text again.
ALTER TABLE messages ADD COLUMN search tsvector GENERATED ALWAYS AS (
    CASE WHEN deleted_at IS NULL THEN to_tsvector('simple'::regconfig, content) END
) STORED;
CREATE INDEX messages_search ON messages USING GIN (search);
