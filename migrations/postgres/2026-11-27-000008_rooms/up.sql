-- Rooms (issue 13): conversation kinds direct, group, channel and support; a visibility and a
-- description; a member role per participant.
ALTER TABLE conversations DROP CONSTRAINT conversations_kind_check;
ALTER TABLE conversations ADD CONSTRAINT conversations_kind_check
    CHECK (kind IN ('direct', 'group', 'channel', 'support'));
ALTER TABLE conversations ADD COLUMN description TEXT;
ALTER TABLE conversations ADD COLUMN visibility TEXT NOT NULL DEFAULT 'private'
    CHECK (visibility IN ('public', 'private'));
-- Direct conversations: "<lower user id>:<higher user id>", unique per project.
ALTER TABLE conversations ADD COLUMN direct_key TEXT;
ALTER TABLE participants ADD COLUMN role TEXT NOT NULL DEFAULT 'member'
    CHECK (role IN ('owner', 'admin', 'moderator', 'member', 'follower'));

-- Today's conversations: a customer's with only agents and admins (or no one else) is a support
-- conversation; the others keep direct (two people) or group.
UPDATE conversations c SET kind = 'support'
WHERE (SELECT role FROM users u WHERE u.id = c.created_by) = 'customer'
  AND NOT EXISTS (
      SELECT 1 FROM participants p JOIN users u ON u.id = p.user_id
      WHERE p.conversation_id = c.id AND p.user_id <> c.created_by AND u.role = 'customer');
-- Groups are owned by their creator.
UPDATE participants p SET role = 'owner'
FROM conversations c
WHERE c.id = p.conversation_id AND c.kind = 'group' AND c.created_by = p.user_id;
-- A pair has one direct conversation: the oldest keeps the key.
WITH pairs AS (
    SELECT c.id, c.project_id, min(p.user_id) || ':' || max(p.user_id) AS pair
    FROM conversations c JOIN participants p ON p.conversation_id = c.id
    WHERE c.kind = 'direct' AND c.participant_count = 2
    GROUP BY c.id, c.project_id
), firsts AS (
    SELECT min(id) AS id, pair FROM pairs GROUP BY project_id, pair
)
UPDATE conversations c SET direct_key = firsts.pair FROM firsts WHERE c.id = firsts.id;
CREATE UNIQUE INDEX conversations_direct_key ON conversations (project_id, direct_key)
    WHERE direct_key IS NOT NULL;
