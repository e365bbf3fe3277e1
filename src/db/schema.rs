// Written to match migrations/*/2026-11-26-000001_domain; tests/api/schema.rs checks both databases against it.

diesel::table! {
    agencies (id) {
        id -> Text,
        name -> Text,
        name_key -> Text,
        short_name -> Nullable<Text>,
        kind -> Text,
        email -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        name -> Text,
        role -> Text,
        agency_id -> Nullable<Text>,
        password_hash -> Nullable<Text>,
        language -> Text,
        disabled_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    auth_tokens (id) {
        id -> Text,
        user_id -> Text,
        purpose -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    dialogues (id) {
        id -> Text,
        title -> Text,
        description -> Text,
        host_unit -> Text,
        parent_unit -> Text,
        locality -> Text,
        venue -> Text,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        question_deadline -> Nullable<Timestamp>,
        time_zone -> Text,
        capacity -> Integer,
        self_registration -> Bool,
        anonymous_questions -> Bool,
        status -> Text,
        current_question_id -> Nullable<Text>,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        calendar_sequence -> Integer,
    }
}

diesel::table! {
    officials (id) {
        id -> Text,
        dialogue_id -> Text,
        sort_order -> Integer,
        name -> Text,
        position -> Text,
        role -> Text,
    }
}

diesel::table! {
    agenda_items (id) {
        id -> Text,
        dialogue_id -> Text,
        sort_order -> Integer,
        title -> Text,
        presenter -> Nullable<Text>,
    }
}

diesel::table! {
    participants (id) {
        id -> Text,
        dialogue_id -> Text,
        full_name -> Text,
        name_key -> Text,
        email -> Nullable<Text>,
        phone -> Nullable<Text>,
        category -> Text,
        address -> Nullable<Text>,
        language -> Text,
        source -> Text,
        token_hash -> Text,
        code -> Text,
        consent_at -> Nullable<Timestamp>,
        consent_purpose -> Nullable<Text>,
        purged_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        email_key -> Nullable<Text>,
        name_phone_key -> Nullable<Text>,
        duplicate_of -> Nullable<Text>,
    }
}

diesel::table! {
    invitations (id) {
        id -> Text,
        dialogue_id -> Text,
        participant_id -> Text,
        status -> Text,
        queued_at -> Nullable<Timestamp>,
        sent_at -> Nullable<Timestamp>,
        responded_at -> Nullable<Timestamp>,
        reminded_at -> Nullable<Timestamp>,
        failure_reason -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    registrations (id) {
        id -> Text,
        dialogue_id -> Text,
        participant_id -> Text,
        status -> Text,
        queued_at -> Timestamp,
        promoted_at -> Nullable<Timestamp>,
        cancelled_at -> Nullable<Timestamp>,
        checked_in_at -> Nullable<Timestamp>,
        checked_in_by -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    questions (id) {
        id -> Text,
        dialogue_id -> Text,
        participant_id -> Nullable<Text>,
        asker_name -> Nullable<Text>,
        channel -> Text,
        body -> Text,
        original_body -> Nullable<Text>,
        search_text -> Text,
        topic -> Text,
        anonymous -> Bool,
        share_identity_with_agency -> Bool,
        status -> Text,
        rejection_reason -> Nullable<Text>,
        merged_into_id -> Nullable<Text>,
        vote_count -> Integer,
        entered_by -> Nullable<Text>,
        moderated_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        consent_statement -> Nullable<Text>,
    }
}

diesel::table! {
    votes (question_id,participant_id) {
        question_id -> Text,
        participant_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    assignments (id) {
        id -> Text,
        question_id -> Text,
        agency_id -> Text,
        due_at -> Timestamp,
        note -> Nullable<Text>,
        status -> Text,
        decline_reason -> Nullable<Text>,
        return_reason -> Nullable<Text>,
        assigned_by -> Nullable<Text>,
        reminded_at -> Nullable<Timestamp>,
        overdue_notified_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    responses (id) {
        id -> Text,
        assignment_id -> Text,
        body -> Text,
        author_id -> Nullable<Text>,
        submitted_at -> Nullable<Timestamp>,
        approved_at -> Nullable<Timestamp>,
        approved_by -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    live_answers (id) {
        id -> Text,
        question_id -> Text,
        speaker -> Text,
        agency_id -> Nullable<Text>,
        summary -> Text,
        recorded_by -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    commitments (id) {
        id -> Text,
        dialogue_id -> Text,
        party -> Text,
        agency_id -> Nullable<Text>,
        kind -> Text,
        description -> Text,
        jobs_offered -> Nullable<Integer>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    live_events (dialogue_id, seq) {
        dialogue_id -> Text,
        seq -> Integer,
        kind -> Text,
        data -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    minutes (dialogue_id) {
        dialogue_id -> Text,
        number -> Nullable<Text>,
        opened_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
        summary -> Nullable<Text>,
        conclusion -> Nullable<Text>,
        published_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        recipients -> Nullable<Text>,
    }
}

diesel::table! {
    jobs (id) {
        id -> Text,
        kind -> Text,
        payload -> Text,
        dedupe_key -> Nullable<Text>,
        subject_kind -> Nullable<Text>,
        subject_id -> Nullable<Text>,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_by -> Nullable<Text>,
        locked_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    job_attempts (id) {
        id -> Text,
        job_id -> Text,
        attempted_at -> Timestamp,
        outcome -> Text,
        detail -> Nullable<Text>,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Text,
        at -> Timestamp,
        actor_kind -> Text,
        actor_id -> Nullable<Text>,
        action -> Text,
        subject_kind -> Text,
        subject_id -> Nullable<Text>,
        dialogue_id -> Nullable<Text>,
        detail -> Nullable<Text>,
    }
}

diesel::table! {
    rate_limits (key, window_start) {
        key -> Text,
        window_start -> Timestamp,
        count -> Integer,
    }
}

diesel::joinable!(users -> agencies (agency_id));

diesel::joinable!(auth_tokens -> users (user_id));

diesel::joinable!(officials -> dialogues (dialogue_id));

diesel::joinable!(agenda_items -> dialogues (dialogue_id));

diesel::joinable!(participants -> dialogues (dialogue_id));

diesel::joinable!(invitations -> participants (participant_id));

diesel::joinable!(registrations -> participants (participant_id));

diesel::joinable!(questions -> dialogues (dialogue_id));

diesel::joinable!(votes -> questions (question_id));

diesel::joinable!(assignments -> questions (question_id));

diesel::joinable!(responses -> assignments (assignment_id));

diesel::joinable!(live_answers -> questions (question_id));

diesel::joinable!(commitments -> dialogues (dialogue_id));

diesel::joinable!(minutes -> dialogues (dialogue_id));

diesel::joinable!(job_attempts -> jobs (job_id));

diesel::allow_tables_to_appear_in_same_query!(
    agencies,
    users,
    auth_tokens,
    dialogues,
    officials,
    agenda_items,
    participants,
    invitations,
    registrations,
    questions,
    votes,
    assignments,
    responses,
    live_answers,
    live_events,
    commitments,
    minutes,
    jobs,
    job_attempts,
    audit_log,
);

// Attendance counts group registrations by status and participant group together.
diesel::allow_columns_to_appear_in_same_group_by_clause!(
    participants::category,
    registrations::status
);
