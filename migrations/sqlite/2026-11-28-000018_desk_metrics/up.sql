-- The support desk's reporting events (issue 15, `GET /api/v1/desk/metrics`), as Chatwoot
-- keeps them: one row per first response and per resolution of a support conversation, with
-- its duration in seconds since the conversation was created and the agent it was assigned
-- to then. Aggregates per agent and period read them; a conversation's own figures are its
-- `first_response_at` and `resolved_at`.
CREATE TABLE desk_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id BIGINT NOT NULL,
    conversation_id BIGINT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    agent_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    name TEXT NOT NULL CHECK (name IN ('first_response', 'resolution')),
    value_s DOUBLE PRECISION NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX desk_events_period ON desk_events (project_id, name, created_at);
INSERT INTO desk_events (project_id, conversation_id, agent_id, name, value_s, created_at)
SELECT project_id, id, assignee_id, 'first_response',
       (julianday(first_response_at) - julianday(created_at)) * 86400.0, first_response_at
FROM conversations WHERE kind = 'support' AND first_response_at IS NOT NULL;
INSERT INTO desk_events (project_id, conversation_id, agent_id, name, value_s, created_at)
SELECT project_id, id, assignee_id, 'resolution',
       (julianday(resolved_at) - julianday(created_at)) * 86400.0, resolved_at
FROM conversations WHERE kind = 'support' AND resolved_at IS NOT NULL;
