DROP INDEX audit_log_subject;
DROP INDEX assignments_status_due;
DROP INDEX assignments_one_open;
DROP INDEX votes_participant;
DROP INDEX questions_participant;
DROP INDEX questions_queue;
DROP INDEX questions_dialogue_created;
ALTER TABLE questions DROP COLUMN consent_statement;
