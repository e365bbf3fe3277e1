DROP TRIGGER votes_count_move;
DROP TRIGGER votes_count_delete;
DROP TRIGGER votes_count_insert;
