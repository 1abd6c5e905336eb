use super::*;
use crate::error::ErrorCode;

fn code(text: &str) -> ErrorCode {
    match parse(text) {
        Ok(_) => panic!("{text} parsed"),
        Err(e) => e.error.code(),
    }
}

#[test]
fn each_kind_of_bad_frame_gets_its_own_code() {
    assert_eq!(code("{not json"), ErrorCode::BadRequest);
    assert_eq!(code("[1,2]"), ErrorCode::BadRequest);
    assert_eq!(
        code(r#"["conversation:leave","r1",{"conversation_id":1}]"#),
        ErrorCode::BadRequest
    );
    assert_eq!(
        code(r#"{"type":"conversation:leave","data":[1]}"#),
        ErrorCode::ValidationFailed
    );
    assert_eq!(code(r#"{"data":{}}"#), ErrorCode::BadRequest);
    assert_eq!(code(r#"{"type":"nope"}"#), ErrorCode::UnknownEvent);
    assert_eq!(
        code(r#"{"type":"message:send","data":{"conversation_id":"x"}}"#),
        ErrorCode::ValidationFailed
    );
}

#[test]
fn commands_parse_into_their_typed_form_with_defaults() {
    let frame =
        parse(r#"{"type":"message:send","ref":"r","data":{"conversation_id":1,"content":"hi"}}"#);
    let frame = frame.ok();
    assert_eq!(
        frame,
        Some(ClientFrame {
            reference: Some("r".into()),
            command: ClientCommand::Send(SendData {
                conversation_id: crate::domain::ConversationId(1),
                content: "hi".into(),
                client_msg_id: None,
                attachment_id: None,
                reply_to: None,
                private: false,
            }),
        })
    );
    // data omitted or null reads as {}.
    assert!(matches!(
        parse(r#"{"type":"typing:start"}"#).map_err(|e| e.error.code()),
        Err(ErrorCode::ValidationFailed)
    ));
}

#[test]
fn validation_errors_name_the_path_inside_data() {
    let err = parse(r#"{"type":"conversation:join","ref":"8","data":{"conversation_id":"two"}}"#)
        .err()
        .map(|e| e.error.to_string())
        .unwrap_or_default();
    assert!(err.starts_with("data.conversation_id: "), "{err}");
    let err = parse(r#"{"type":"message:read","data":{"conversation_id":1}}"#)
        .err()
        .map(|e| e.error.to_string())
        .unwrap_or_default();
    assert!(err.starts_with("data: missing field `seq`"), "{err}");
}

#[test]
fn the_ref_is_recovered_for_error_replies() {
    let err = parse(r#"{"type":"nope","ref":"r1"}"#).err();
    assert_eq!(err.and_then(|e| e.reference), Some("r1".to_string()));
}

#[test]
fn frames_are_encoded_with_type_ref_and_data_in_that_order() {
    let text = ack(
        Some("7"),
        Ack::Conversation(ConversationAck {
            conversation_id: crate::domain::ConversationId(3),
        }),
    );
    assert_eq!(
        &*text,
        r#"{"type":"ack","ref":"7","data":{"conversation_id":3}}"#
    );
    let text = encode(&ServerFrame::TypingStarted {
        data: TypingEvent {
            conversation_id: crate::domain::ConversationId(1),
            user_id: crate::domain::UserId(2),
        },
    });
    assert_eq!(
        &*text,
        r#"{"type":"typing:start","data":{"conversation_id":1,"user_id":2}}"#
    );
}

/// The variant names serde knows for an enum: the list in its unknown-variant error.
fn variant_names(error: &str) -> Vec<String> {
    let list = error.split("expected one of ").nth(1).unwrap_or_default();
    list.split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, name)| name.to_string())
        .collect()
}

#[test]
fn docs_protocol_md_names_every_command_event_and_error_code() {
    let doc = include_str!("../../docs/PROTOCOL.md");
    let commands = serde_json::from_str::<ClientCommand>(r#"{"type":"\u0001","data":{}}"#)
        .err()
        .map(|e| variant_names(&e.to_string()))
        .unwrap_or_default();
    let events = serde_json::from_str::<ServerFrame<'_>>(r#"{"type":"\u0001"}"#)
        .err()
        .map(|e| variant_names(&e.to_string()))
        .unwrap_or_default();
    let codes = serde_json::from_str::<ErrorCode>(r#""\u0001""#)
        .err()
        .map(|e| variant_names(&e.to_string()))
        .unwrap_or_default();
    assert_eq!(commands.len(), 12, "{commands:?}");
    assert_eq!(events.len(), 25, "{events:?}");
    assert!(codes.len() > 15, "{codes:?}");
    for name in commands.iter().chain(&events).chain(&codes) {
        assert!(
            doc.contains(&format!("`{name}`")),
            "docs/PROTOCOL.md does not name `{name}`"
        );
    }
}
