DROP INDEX conversations_direct_key;
ALTER TABLE participants DROP COLUMN role;
ALTER TABLE conversations DROP COLUMN direct_key;
ALTER TABLE conversations DROP COLUMN visibility;
ALTER TABLE conversations DROP COLUMN description;
UPDATE conversations SET kind = CASE WHEN participant_count = 2 THEN 'direct' ELSE 'group' END
WHERE kind IN ('channel', 'support');
ALTER TABLE conversations DROP CONSTRAINT conversations_kind_check;
ALTER TABLE conversations ADD CONSTRAINT conversations_kind_check CHECK (kind IN ('direct', 'group'));
