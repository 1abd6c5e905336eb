DROP TABLE messages;
DROP TABLE uploads;
DROP TABLE participants;
DROP TABLE conversations;
DROP TABLE refresh_tokens;
DROP TABLE users;
DROP TABLE projects;
