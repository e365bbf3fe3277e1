-- Questions entered by staff from a paper form or the floor record that the person agreed.
ALTER TABLE questions ADD COLUMN consent_statement TEXT;

-- The recent questions of a dialogue (identical text within minutes is refused).
CREATE INDEX questions_dialogue_created ON questions (dialogue_id, created_at);
-- The public queue: approved questions of a dialogue by votes.
CREATE INDEX questions_queue ON questions (dialogue_id, status, vote_count);
-- A participant's own questions.
CREATE INDEX questions_participant ON questions (participant_id);
CREATE INDEX votes_participant ON votes (participant_id);

-- A question is with at most one agency at a time: a declined assignment frees it.
CREATE UNIQUE INDEX assignments_one_open ON assignments (question_id) WHERE status <> 'declined';
-- Reminders and overdue notices look assignments up by due date.
CREATE INDEX assignments_status_due ON assignments (status, due_at);

-- The history of one question or assignment is read from the audit log.
CREATE INDEX audit_log_subject ON audit_log (subject_kind, subject_id);
