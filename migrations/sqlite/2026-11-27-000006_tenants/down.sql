ALTER TABLE users DROP COLUMN instance_admin;
ALTER TABLE projects DROP COLUMN self_registration;
