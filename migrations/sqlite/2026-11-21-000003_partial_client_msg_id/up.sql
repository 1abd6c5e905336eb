-- The idempotency index, keyed so a batch can look up many client_msg_ids of one conversation
-- at once (conversation_id, client_msg_id IN (...)), and only over messages that carry one.
DROP INDEX messages_client_msg_id;
CREATE UNIQUE INDEX messages_client_msg_id ON messages (conversation_id, client_msg_id, sender_id)
    WHERE client_msg_id IS NOT NULL;
