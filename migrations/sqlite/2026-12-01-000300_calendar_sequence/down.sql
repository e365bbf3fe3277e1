ALTER TABLE dialogues DROP COLUMN calendar_sequence;
