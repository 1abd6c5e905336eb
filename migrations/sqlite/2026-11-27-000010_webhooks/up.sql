-- Webhooks (issue 12): a project's endpoints (HTTP, signed; or a Telegram chat), and the
-- transactional outbox of deliveries, written in the transaction of the event they carry.
CREATE TABLE webhooks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id BIGINT NOT NULL REFERENCES projects(id),
    -- 'http' or 'telegram'.
    kind TEXT NOT NULL,
    -- http: the target URL; telegram: NULL.
    url TEXT,
    -- http: the signing secret; telegram: the bot token. Never shown after creation.
    secret TEXT NOT NULL,
    -- telegram: the chat messages go to.
    chat_id TEXT,
    -- Space-separated event types.
    events TEXT NOT NULL,
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    disabled_reason TEXT,
    consecutive_failures BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX webhooks_project ON webhooks (project_id, id);

CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id BIGINT NOT NULL,
    webhook_id BIGINT NOT NULL REFERENCES webhooks(id),
    -- The event's id (`evt_...`), the same on every attempt.
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    -- The JSON body sent, fixed when the event was stored.
    payload TEXT NOT NULL,
    -- 'pending', 'delivered' or 'failed'.
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    last_status_code INTEGER,
    next_attempt_at TIMESTAMP NOT NULL,
    -- A worker's lease: no other worker attempts the delivery before this time.
    locked_until TIMESTAMP,
    -- When it was queued (or queued again by a redelivery): a delivery still failing
    -- `webhooks.max_age_h` after this is marked failed.
    queued_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    delivered_at TIMESTAMP
);
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (webhook_id, id);
CREATE INDEX webhook_deliveries_queue ON webhook_deliveries (webhook_id, id) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_project ON webhook_deliveries (project_id);
CREATE INDEX webhook_deliveries_created ON webhook_deliveries (created_at);
