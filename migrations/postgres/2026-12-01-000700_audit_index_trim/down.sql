CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_dialogue ON audit_log (dialogue_id);
