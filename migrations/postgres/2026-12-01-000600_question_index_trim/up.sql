-- (dialogue_id, status) is the start of questions_queue (dialogue_id, status, vote_count),
-- which serves every lookup it did: one index less to update on each question's insert.
DROP INDEX questions_dialogue_status;
