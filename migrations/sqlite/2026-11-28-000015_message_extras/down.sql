DROP TABLE pins;
DROP TABLE reactions;
DROP TABLE mentions;
ALTER TABLE messages DROP COLUMN reply_to_id;
