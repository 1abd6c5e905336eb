-- Receipts: per participant watermarks, only ever moved forward.
ALTER TABLE participants ADD COLUMN last_delivered_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE participants ADD COLUMN last_read_seq BIGINT NOT NULL DEFAULT 0;

-- Edits and tombstones: a deleted message keeps its row (and seq) with empty content.
ALTER TABLE messages ADD COLUMN edited_at TIMESTAMP;
ALTER TABLE messages ADD COLUMN deleted_at TIMESTAMP;
