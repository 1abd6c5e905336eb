DROP TABLE desk_events;
