-- Transactional jobs: background work written in the same transaction as the change that
-- causes it. An email is one kind of job ("email"); its payload is the rendered email.
CREATE TABLE jobs (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
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
    finished_at TIMESTAMP
);
CREATE INDEX jobs_due ON jobs (status, next_attempt_at);
CREATE INDEX jobs_subject ON jobs (subject_kind, subject_id);
CREATE INDEX jobs_kind ON jobs (kind, created_at);

CREATE TABLE job_attempts (
    id TEXT PRIMARY KEY NOT NULL,
    job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    attempted_at TIMESTAMP NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT
);
CREATE INDEX job_attempts_job ON job_attempts (job_id);

-- Every outbox row becomes an "email" job with the same id (so the Message-ID, made from
-- the id, stays the same) and its lease, attempts and times; pending emails are sent by
-- the new worker. "sent" is now "done".
INSERT INTO jobs (id, kind, payload, dedupe_key, subject_kind, subject_id, status, attempts,
                  next_attempt_at, locked_by, locked_until, last_error, created_at, finished_at)
SELECT id, 'email',
       json_object('kind', kind, 'recipient', recipient, 'subject', subject,
                   'body_text', body_text, 'body_html', body_html,
                   'attachments', json(attachments)),
       dedupe_key, subject_kind, subject_id,
       CASE status WHEN 'sent' THEN 'done' ELSE status END,
       attempts, next_attempt_at, locked_by, locked_until, last_error, created_at, sent_at
FROM outbox;

INSERT INTO job_attempts (id, job_id, attempted_at, outcome, detail)
SELECT id, outbox_id, attempted_at, CASE outcome WHEN 'sent' THEN 'done' ELSE outcome END, detail
FROM outbox_attempts;

DROP TABLE outbox_attempts;
DROP TABLE outbox;
