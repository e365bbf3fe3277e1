-- Nothing reads the audit log by time alone or by dialogue: history is read by subject
-- (audit_log_subject). Every write keeps an entry, so every question and every moderation
-- step paid for these two on each insert.
DROP INDEX audit_log_at;
DROP INDEX audit_log_dialogue;
