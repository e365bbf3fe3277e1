-- A question's vote count is kept by the database with each vote: the count's update runs
-- inside the vote's own statement instead of as a second statement the service sends (and
-- SQLite compiles) each time. Cascaded deletes of votes keep the count right, too.
CREATE TRIGGER votes_count_insert AFTER INSERT ON votes
BEGIN
    UPDATE questions SET vote_count = vote_count + 1 WHERE id = NEW.question_id;
END;

CREATE TRIGGER votes_count_delete AFTER DELETE ON votes
BEGIN
    UPDATE questions SET vote_count = vote_count - 1 WHERE id = OLD.question_id;
END;

CREATE TRIGGER votes_count_move AFTER UPDATE OF question_id ON votes
BEGIN
    UPDATE questions SET vote_count = vote_count - 1 WHERE id = OLD.question_id;
    UPDATE questions SET vote_count = vote_count + 1 WHERE id = NEW.question_id;
END;

-- From here on the triggers keep it; start from the votes as they are.
UPDATE questions SET vote_count = (SELECT count(*) FROM votes WHERE votes.question_id = questions.id);
