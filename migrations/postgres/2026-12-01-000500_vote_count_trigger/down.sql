DROP TRIGGER votes_count ON votes;
DROP FUNCTION votes_count();
