//! Diesel table definitions, matching `migrations/sqlite` (ids are 64-bit on every backend).

diesel::table! {
    projects (id) {
        id -> BigInt,
        name -> Text,
        created_at -> Timestamp,
        self_registration -> Bool,
        system_user_id -> Nullable<BigInt>,
        settings -> Text,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        project_id -> BigInt,
        email -> Nullable<Text>,
        username -> Nullable<Text>,
        display_name -> Nullable<Text>,
        role -> Text,
        password_hash -> Nullable<Text>,
        created_at -> Timestamp,
        last_seen_at -> Nullable<Timestamp>,
        disabled -> Bool,
        token_generation -> BigInt,
        instance_admin -> Bool,
        external_id -> Nullable<Text>,
        metadata -> Nullable<Text>,
        email_verified_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    email_tokens (id) {
        id -> BigInt,
        project_id -> BigInt,
        user_id -> BigInt,
        purpose -> Text,
        token_hash -> Text,
        new_email -> Nullable<Text>,
        attempts -> BigInt,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> BigInt,
        project_id -> BigInt,
        user_id -> BigInt,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        revoked_reason -> Nullable<Text>,
    }
}

diesel::table! {
    conversations (id) {
        id -> BigInt,
        project_id -> BigInt,
        title -> Nullable<Text>,
        kind -> Text,
        status -> Text,
        created_by -> BigInt,
        created_at -> Timestamp,
        closed_at -> Nullable<Timestamp>,
        closed_by -> Nullable<BigInt>,
        last_seq -> BigInt,
        last_activity_at -> Timestamp,
        version -> BigInt,
        participant_count -> BigInt,
        description -> Nullable<Text>,
        visibility -> Text,
        direct_key -> Nullable<Text>,
        assignee_id -> Nullable<BigInt>,
        snoozed_until -> Nullable<Timestamp>,
        first_response_at -> Nullable<Timestamp>,
        waiting_since -> Nullable<Timestamp>,
        resolved_at -> Nullable<Timestamp>,
        resolutions -> BigInt,
    }
}

diesel::table! {
    participants (conversation_id, user_id) {
        project_id -> BigInt,
        conversation_id -> BigInt,
        user_id -> BigInt,
        joined_at -> Timestamp,
        last_delivered_seq -> BigInt,
        last_read_seq -> BigInt,
        role -> Text,
    }
}

diesel::table! {
    messages (id) {
        id -> BigInt,
        project_id -> BigInt,
        conversation_id -> BigInt,
        seq -> BigInt,
        sender_id -> BigInt,
        kind -> Text,
        content -> Text,
        client_msg_id -> Nullable<Text>,
        created_at -> Timestamp,
        edited_at -> Nullable<Timestamp>,
        deleted_at -> Nullable<Timestamp>,
        attachment_id -> Nullable<BigInt>,
        attachment -> Nullable<Text>,
        version -> BigInt,
        created_version -> BigInt,
        reply_to_id -> Nullable<BigInt>,
        private -> Bool,
    }
}

diesel::table! {
    mentions (message_id, user_id) {
        message_id -> BigInt,
        project_id -> BigInt,
        conversation_id -> BigInt,
        user_id -> BigInt,
        seq -> BigInt,
        named -> Bool,
    }
}

diesel::table! {
    reactions (id) {
        id -> BigInt,
        project_id -> BigInt,
        conversation_id -> BigInt,
        message_id -> BigInt,
        user_id -> BigInt,
        emoji -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    pins (id) {
        id -> BigInt,
        project_id -> BigInt,
        conversation_id -> BigInt,
        message_id -> BigInt,
        pinned_by -> BigInt,
        pinned_at -> Timestamp,
    }
}

diesel::table! {
    uploads (id) {
        id -> BigInt,
        project_id -> BigInt,
        uploader_id -> BigInt,
        conversation_id -> Nullable<BigInt>,
        message_id -> Nullable<BigInt>,
        sha256 -> Text,
        content_type -> Text,
        size -> BigInt,
        original_name -> Text,
        width -> Nullable<Integer>,
        height -> Nullable<Integer>,
        has_thumbnail -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    api_keys (id) {
        id -> BigInt,
        project_id -> BigInt,
        name -> Text,
        prefix -> Text,
        key_hash -> Text,
        scopes -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    user_tokens (id) {
        id -> Text,
        project_id -> BigInt,
        user_id -> BigInt,
        api_key_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhooks (id) {
        id -> BigInt,
        project_id -> BigInt,
        kind -> Text,
        url -> Nullable<Text>,
        secret -> Text,
        chat_id -> Nullable<Text>,
        events -> Text,
        enabled -> Bool,
        disabled_reason -> Nullable<Text>,
        consecutive_failures -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> BigInt,
        project_id -> BigInt,
        webhook_id -> BigInt,
        event_id -> Text,
        event_type -> Text,
        payload -> Text,
        status -> Text,
        attempts -> BigInt,
        last_error -> Nullable<Text>,
        last_status_code -> Nullable<Integer>,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        queued_at -> Timestamp,
        created_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    conversation_bans (conversation_id, user_id) {
        conversation_id -> BigInt,
        user_id -> BigInt,
        project_id -> BigInt,
        banned_by -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    invites (code) {
        code -> Text,
        project_id -> BigInt,
        conversation_id -> BigInt,
        created_by -> BigInt,
        created_at -> Timestamp,
        expires_at -> Nullable<Timestamp>,
        max_uses -> Nullable<BigInt>,
        uses -> BigInt,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    agent_states (user_id) {
        user_id -> BigInt,
        project_id -> BigInt,
        availability -> Text,
        last_assigned_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    canned_responses (id) {
        id -> BigInt,
        project_id -> BigInt,
        short_code -> Text,
        content -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    labels (id) {
        id -> BigInt,
        project_id -> BigInt,
        title -> Text,
        description -> Nullable<Text>,
        color -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    conversation_labels (conversation_id, label_id) {
        conversation_id -> BigInt,
        label_id -> BigInt,
        project_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    csat_responses (id) {
        id -> BigInt,
        project_id -> BigInt,
        conversation_id -> BigInt,
        resolution -> BigInt,
        user_id -> BigInt,
        assignee_id -> Nullable<BigInt>,
        rating -> Integer,
        comment -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    desk_events (id) {
        id -> BigInt,
        project_id -> BigInt,
        conversation_id -> BigInt,
        agent_id -> Nullable<BigInt>,
        name -> Text,
        value_s -> Double,
        created_at -> Timestamp,
    }
}

diesel::joinable!(users -> projects (project_id));
diesel::joinable!(conversation_labels -> labels (label_id));
diesel::joinable!(conversation_labels -> conversations (conversation_id));
diesel::joinable!(refresh_tokens -> users (user_id));
diesel::joinable!(email_tokens -> users (user_id));
diesel::joinable!(participants -> conversations (conversation_id));
diesel::joinable!(participants -> users (user_id));
diesel::joinable!(messages -> conversations (conversation_id));
diesel::joinable!(webhook_deliveries -> webhooks (webhook_id));
diesel::joinable!(pins -> messages (message_id));

diesel::allow_tables_to_appear_in_same_query!(
    api_keys,
    projects,
    users,
    refresh_tokens,
    email_tokens,
    conversations,
    participants,
    messages,
    uploads,
    user_tokens,
    webhooks,
    webhook_deliveries,
    conversation_bans,
    invites,
    mentions,
    reactions,
    pins,
    agent_states,
    canned_responses,
    labels,
    conversation_labels,
    csat_responses,
    desk_events,
);
