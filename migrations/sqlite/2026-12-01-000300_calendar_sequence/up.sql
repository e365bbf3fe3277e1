-- The SEQUENCE of the dialogue's calendar event (RFC 5545): raised on every change of its
-- time or venue, so that an updated .ics replaces the event people already have.
ALTER TABLE dialogues ADD COLUMN calendar_sequence INTEGER NOT NULL DEFAULT 0;
