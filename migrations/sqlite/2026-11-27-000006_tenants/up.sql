-- Tenants (issue 12): projects created by instance admins, each with its own settings.
-- Self-registration stays on for the default project (today's behaviour), off for new ones.
ALTER TABLE projects ADD COLUMN self_registration BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE projects SET self_registration = TRUE WHERE id = 1;
-- Instance admins manage projects: a role above every project's admins.
ALTER TABLE users ADD COLUMN instance_admin BOOLEAN NOT NULL DEFAULT FALSE;
