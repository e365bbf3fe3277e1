-- A question's vote count is kept by the database with each vote: the count's update runs
-- inside the vote's own statement instead of as a second statement the service sends each
-- time. Cascaded deletes of votes keep the count right, too.
CREATE FUNCTION votes_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE questions SET vote_count = vote_count - 1 WHERE id = OLD.question_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE questions SET vote_count = vote_count + 1 WHERE id = NEW.question_id;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER votes_count AFTER INSERT OR DELETE OR UPDATE OF question_id ON votes
    FOR EACH ROW EXECUTE FUNCTION votes_count();

-- From here on the trigger keeps it; start from the votes as they are.
UPDATE questions SET vote_count = (SELECT count(*) FROM votes WHERE votes.question_id = questions.id);
