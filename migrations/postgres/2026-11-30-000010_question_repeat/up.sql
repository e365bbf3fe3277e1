-- Identical text within minutes is refused: find it by the text itself, not by scanning
-- every recent question of the dialogue (a busy hall submits thousands a minute). A hash,
-- because a B-tree entry holds at most about 2.7 KB and a long question can exceed it.
CREATE INDEX questions_repeat ON questions (dialogue_id, md5(search_text), created_at);
