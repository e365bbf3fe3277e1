CREATE INDEX questions_dialogue_status ON questions (dialogue_id, status);
