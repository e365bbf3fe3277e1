-- The whole domain model. Ids are UUID text, instants are UTC timestamps, flags are booleans:
-- portable types that read the same through diesel on SQLite and PostgreSQL.

CREATE TABLE agencies (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    short_name TEXT,
    kind TEXT NOT NULL,
    email TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    agency_id TEXT REFERENCES agencies (id),
    password_hash TEXT,
    language TEXT NOT NULL,
    disabled_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE auth_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX auth_tokens_user ON auth_tokens (user_id);

CREATE TABLE dialogues (
    id TEXT PRIMARY KEY NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    host_unit TEXT NOT NULL,
    parent_unit TEXT NOT NULL,
    locality TEXT NOT NULL,
    venue TEXT NOT NULL,
    starts_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP NOT NULL,
    question_deadline TIMESTAMP,
    time_zone TEXT NOT NULL,
    capacity INTEGER NOT NULL,
    self_registration BOOLEAN NOT NULL,
    anonymous_questions BOOLEAN NOT NULL,
    status TEXT NOT NULL,
    current_question_id TEXT,
    created_by TEXT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX dialogues_status_start ON dialogues (status, starts_at);

CREATE TABLE officials (
    id TEXT PRIMARY KEY NOT NULL,
    dialogue_id TEXT NOT NULL REFERENCES dialogues (id) ON DELETE CASCADE,
    sort_order INTEGER NOT NULL,
    name TEXT NOT NULL,
    position TEXT NOT NULL,
    role TEXT NOT NULL
);
CREATE INDEX officials_dialogue ON officials (dialogue_id, sort_order);

CREATE TABLE agenda_items (
    id TEXT PRIMARY KEY NOT NULL,
    dialogue_id TEXT NOT NULL REFERENCES dialogues (id) ON DELETE CASCADE,
    sort_order INTEGER NOT NULL,
    title TEXT NOT NULL,
    presenter TEXT
);
CREATE INDEX agenda_items_dialogue ON agenda_items (dialogue_id, sort_order);

CREATE TABLE participants (
    id TEXT PRIMARY KEY NOT NULL,
    dialogue_id TEXT NOT NULL REFERENCES dialogues (id) ON DELETE CASCADE,
    full_name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    category TEXT NOT NULL,
    address TEXT,
    language TEXT NOT NULL,
    source TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    code TEXT NOT NULL UNIQUE,
    consent_at TIMESTAMP,
    consent_purpose TEXT,
    purged_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX participants_dialogue ON participants (dialogue_id, name_key);

CREATE TABLE invitations (
    id TEXT PRIMARY KEY NOT NULL,
    dialogue_id TEXT NOT NULL REFERENCES dialogues (id) ON DELETE CASCADE,
    participant_id TEXT NOT NULL UNIQUE REFERENCES participants (id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    queued_at TIMESTAMP,
    sent_at TIMESTAMP,
    responded_at TIMESTAMP,
    reminded_at TIMESTAMP,
    failure_reason TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX invitations_dialogue_status ON invitations (dialogue_id, status);

CREATE TABLE registrations (
    id TEXT PRIMARY KEY NOT NULL,
    dialogue_id TEXT NOT NULL REFERENCES dialogues (id) ON DELETE CASCADE,
    participant_id TEXT NOT NULL UNIQUE REFERENCES participants (id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    queued_at TIMESTAMP NOT NULL,
    promoted_at TIMESTAMP,
    cancelled_at TIMESTAMP,
    checked_in_at TIMESTAMP,
    checked_in_by TEXT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX registrations_dialogue_status ON registrations (dialogue_id, status, queued_at);

CREATE TABLE questions (
    id TEXT PRIMARY KEY NOT NULL,
    dialogue_id TEXT NOT NULL REFERENCES dialogues (id) ON DELETE CASCADE,
    participant_id TEXT REFERENCES participants (id) ON DELETE SET NULL,
    asker_name TEXT,
    channel TEXT NOT NULL,
    body TEXT NOT NULL,
    original_body TEXT,
    search_text TEXT NOT NULL,
    topic TEXT NOT NULL,
    anonymous BOOLEAN NOT NULL,
    share_identity_with_agency BOOLEAN NOT NULL,
    status TEXT NOT NULL,
    rejection_reason TEXT,
    merged_into_id TEXT REFERENCES questions (id),
    vote_count INTEGER NOT NULL,
    entered_by TEXT REFERENCES users (id),
    moderated_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX questions_dialogue_status ON questions (dialogue_id, status);

CREATE TABLE votes (
    question_id TEXT NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
    participant_id TEXT NOT NULL REFERENCES participants (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (question_id, participant_id)
);

CREATE TABLE assignments (
    id TEXT PRIMARY KEY NOT NULL,
    question_id TEXT NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
    agency_id TEXT NOT NULL REFERENCES agencies (id),
    due_at TIMESTAMP NOT NULL,
    note TEXT,
    status TEXT NOT NULL,
    decline_reason TEXT,
    return_reason TEXT,
    assigned_by TEXT REFERENCES users (id),
    reminded_at TIMESTAMP,
    overdue_notified_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX assignments_agency_status ON assignments (agency_id, status);
CREATE INDEX assignments_question ON assignments (question_id);

CREATE TABLE responses (
    id TEXT PRIMARY KEY NOT NULL,
    assignment_id TEXT NOT NULL UNIQUE REFERENCES assignments (id) ON DELETE CASCADE,
    body TEXT NOT NULL,
    author_id TEXT REFERENCES users (id),
    submitted_at TIMESTAMP,
    approved_at TIMESTAMP,
    approved_by TEXT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE live_answers (
    id TEXT PRIMARY KEY NOT NULL,
    question_id TEXT NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
    speaker TEXT NOT NULL,
    agency_id TEXT REFERENCES agencies (id),
    summary TEXT NOT NULL,
    recorded_by TEXT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX live_answers_question ON live_answers (question_id);

CREATE TABLE commitments (
    id TEXT PRIMARY KEY NOT NULL,
    dialogue_id TEXT NOT NULL REFERENCES dialogues (id) ON DELETE CASCADE,
    party TEXT NOT NULL,
    agency_id TEXT REFERENCES agencies (id),
    kind TEXT NOT NULL,
    description TEXT NOT NULL,
    jobs_offered INTEGER,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX commitments_dialogue ON commitments (dialogue_id);

CREATE TABLE minutes (
    dialogue_id TEXT PRIMARY KEY NOT NULL REFERENCES dialogues (id) ON DELETE CASCADE,
    number TEXT,
    opened_at TIMESTAMP,
    closed_at TIMESTAMP,
    summary TEXT,
    conclusion TEXT,
    published_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

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

CREATE TABLE audit_log (
    id TEXT PRIMARY KEY NOT NULL,
    at TIMESTAMP NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id TEXT,
    action TEXT NOT NULL,
    subject_kind TEXT NOT NULL,
    subject_id TEXT,
    dialogue_id TEXT,
    detail TEXT
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_dialogue ON audit_log (dialogue_id);
