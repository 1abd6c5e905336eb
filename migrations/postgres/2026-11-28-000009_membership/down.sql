DROP TABLE invites;
DROP TABLE conversation_bans;
