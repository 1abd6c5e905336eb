-- Per-project settings (issue 12): a JSON object of overrides of the server's send rate, REST
-- rate, upload size and types, and WebSocket origins (src/project_settings.rs).
ALTER TABLE projects ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
