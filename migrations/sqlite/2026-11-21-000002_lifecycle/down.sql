ALTER TABLE messages DROP COLUMN deleted_at;
ALTER TABLE messages DROP COLUMN edited_at;
ALTER TABLE participants DROP COLUMN last_read_seq;
ALTER TABLE participants DROP COLUMN last_delivered_seq;
