-- Identical text within minutes is refused: find it by the text itself, not by scanning
-- every recent question of the dialogue (a busy hall submits thousands a minute).
CREATE INDEX questions_repeat ON questions (dialogue_id, search_text, created_at);
