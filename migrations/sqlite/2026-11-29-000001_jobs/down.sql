-- Back to the email outbox. Email jobs are copied back; jobs of other kinds are lost.
CREATE TABLE outbox (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT NOT NULL,
    attachments TEXT NOT NULL,
    dedupe_key TEXT UNIQUE,
    subject_kind TEXT,
    subject_id TEXT,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    locked_by TEXT,
    locked_until TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_subject ON outbox (subject_kind, subject_id);

CREATE TABLE outbox_attempts (
    id TEXT PRIMARY KEY NOT NULL,
    outbox_id TEXT NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
    attempted_at TIMESTAMP NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT
);
CREATE INDEX outbox_attempts_outbox ON outbox_attempts (outbox_id);

INSERT INTO outbox (id, kind, recipient, subject, body_text, body_html, attachments, dedupe_key,
                    subject_kind, subject_id, status, attempts, next_attempt_at, locked_by,
                    locked_until, last_error, created_at, sent_at)
SELECT id, json_extract(payload, '$.kind'), json_extract(payload, '$.recipient'), json_extract(payload, '$.subject'), json_extract(payload, '$.body_text'), json_extract(payload, '$.body_html'), json_extract(payload, '$.attachments'), dedupe_key,
       subject_kind, subject_id,
       CASE status WHEN 'done' THEN 'sent' ELSE status END,
       attempts, next_attempt_at, locked_by, locked_until, last_error, created_at, finished_at
FROM jobs WHERE kind = 'email';

INSERT INTO outbox_attempts (id, outbox_id, attempted_at, outcome, detail)
SELECT a.id, a.job_id, a.attempted_at, CASE a.outcome WHEN 'done' THEN 'sent' ELSE a.outcome END, a.detail
FROM job_attempts a JOIN jobs j ON j.id = a.job_id
WHERE j.kind = 'email';

DROP TABLE job_attempts;
DROP TABLE jobs;
