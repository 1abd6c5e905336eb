-- The conversations table keeps the wider status CHECK (harmless: nothing writes the desk's).
DROP TABLE csat_responses;
DROP TABLE conversation_labels;
DROP TABLE labels;
DROP TABLE canned_responses;
DROP TABLE agent_states;
ALTER TABLE messages DROP COLUMN private;
DROP INDEX conversations_snoozed;
DROP INDEX conversations_desk;
UPDATE conversations SET status = 'closed' WHERE status = 'resolved';
UPDATE conversations SET status = 'open' WHERE status IN ('pending', 'snoozed');
ALTER TABLE conversations DROP COLUMN resolutions;
ALTER TABLE conversations DROP COLUMN resolved_at;
ALTER TABLE conversations DROP COLUMN waiting_since;
ALTER TABLE conversations DROP COLUMN first_response_at;
ALTER TABLE conversations DROP COLUMN snoozed_until;
ALTER TABLE conversations DROP COLUMN assignee_id;
