//! The WebSocket wire protocol (docs/PROTOCOL.md is the reference for client authors).
//!
//! Client → server: `{"type": "...", "ref": "<optional string>", "data": {...}}`, one JSON text
//! frame each, parsed into a [`ClientFrame`]. Server → client: `{"type": "...", "data": {...}}`;
//! replies to a frame that carried a `ref` are `ack` or `error` with the same `ref`.
//! Event names follow `noun:verb`.
//!
//! Parsing is two-step so each failure gets its own code: not JSON (or not an object) →
//! `bad_request`; unknown `type` → `unknown_event`; right type, wrong `data` →
//! `validation_failed`.

use bytestring::ByteString;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::domain::{ConversationId, MessageId, UploadId};
use crate::error::{AppError, ErrorBody};

/// `data` of frames that name one conversation.
#[derive(Debug, Clone, Deserialize)]
pub struct ConversationRef {
    /// Target conversation.
    pub conversation_id: ConversationId,
}

/// `data` of `conversation:join`.
#[derive(Debug, Clone, Deserialize)]
pub struct JoinData {
    /// Target conversation.
    pub conversation_id: ConversationId,
    /// Replay every stored message with a greater seq before going live.
    #[serde(default)]
    pub since_seq: Option<i64>,
}

/// `data` of `message:delivered` and `message:read`.
#[derive(Debug, Clone, Deserialize)]
pub struct ReceiptData {
    /// Target conversation.
    pub conversation_id: ConversationId,
    /// The watermark: every message up to this seq.
    pub seq: i64,
}

/// `data` of `message:edit`.
#[derive(Debug, Clone, Deserialize)]
pub struct EditData {
    /// Which message.
    pub message_id: MessageId,
    /// The new text.
    pub content: String,
}

/// `data` of `message:delete`.
#[derive(Debug, Clone, Deserialize)]
pub struct DeleteData {
    /// Which message.
    pub message_id: MessageId,
}

/// `data` of `message:send`.
#[derive(Debug, Clone, Deserialize)]
pub struct SendData {
    /// Target conversation (participation required, join not required).
    pub conversation_id: ConversationId,
    /// Text, 1..=`limits.message_max_chars` characters; may be empty with an attachment.
    #[serde(default)]
    pub content: String,
    /// Optional idempotency key, at most 64 characters.
    #[serde(default)]
    pub client_msg_id: Option<String>,
    /// Optional upload to attach (from `POST /api/v1/uploads`).
    #[serde(default)]
    pub attachment_id: Option<UploadId>,
}

/// A parsed client frame.
#[derive(Debug, Clone)]
pub enum ClientFrame {
    /// `conversation:join`: replay from `since_seq`, then receive the conversation's events.
    Join(JoinData),
    /// `conversation:leave`: stop receiving them.
    Leave(ConversationRef),
    /// `message:send`.
    Send(SendData),
    /// `typing:start`.
    TypingStart(ConversationRef),
    /// `typing:stop`.
    TypingStop(ConversationRef),
    /// `message:delivered`: the delivery watermark.
    Delivered(ReceiptData),
    /// `message:read`: the read watermark.
    Read(ReceiptData),
    /// `message:edit`.
    Edit(EditData),
    /// `message:delete`.
    Delete(DeleteData),
}

/// A frame that failed to parse, with whatever `ref` could be recovered for the error reply.
#[derive(Debug)]
pub struct FrameError {
    /// The client's `ref`, when the frame was an object with a string `ref`.
    pub reference: Option<String>,
    /// What to answer.
    pub error: AppError,
}

/// The envelope of a client frame. `data` is kept raw and parsed once, straight into its
/// typed form (no intermediate `Value` tree).
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(rename = "type", default)]
    kind: Option<serde_json::Value>,
    #[serde(rename = "ref", default)]
    reference: Option<serde_json::Value>,
    #[serde(borrow, default)]
    data: Option<&'a serde_json::value::RawValue>,
}

/// Parses one text frame into its `ref` and [`ClientFrame`].
///
/// # Errors
/// [`FrameError`] as described in the module docs.
pub fn parse(text: &str) -> Result<(Option<String>, ClientFrame), FrameError> {
    let fail = |reference: Option<String>, error: AppError| FrameError { reference, error };
    // serde would read a struct from a JSON array too; the protocol has objects only.
    if !text.trim_start().starts_with('{') {
        let error = match serde_json::from_str::<serde::de::IgnoredAny>(text) {
            Ok(_) => AppError::BadRequest("a frame must be a JSON object".into()),
            Err(e) => AppError::BadRequest(format!("malformed JSON: {e}")),
        };
        return Err(fail(None, error));
    }
    let envelope: Envelope<'_> = serde_json::from_str(text).map_err(|e| {
        let what = if e.is_data() {
            "a frame must be a JSON object"
        } else {
            "malformed JSON"
        };
        fail(None, AppError::BadRequest(format!("{what}: {e}")))
    })?;
    let reference = match envelope.reference {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(r)) if r.len() <= 128 => Some(r),
        Some(_) => {
            return Err(fail(
                None,
                AppError::BadRequest("ref: must be a string of at most 128 bytes".into()),
            ));
        }
    };
    let Some(serde_json::Value::String(kind)) = envelope.kind else {
        return Err(fail(
            reference,
            AppError::BadRequest("type: required string".into()),
        ));
    };
    let data = envelope.data.map_or("{}", |raw| raw.get());
    let frame = match kind.as_str() {
        "conversation:join" => data_as(data).map(ClientFrame::Join),
        "conversation:leave" => data_as(data).map(ClientFrame::Leave),
        "message:send" => data_as(data).map(ClientFrame::Send),
        "typing:start" => data_as(data).map(ClientFrame::TypingStart),
        "typing:stop" => data_as(data).map(ClientFrame::TypingStop),
        "message:delivered" => data_as(data).map(ClientFrame::Delivered),
        "message:read" => data_as(data).map(ClientFrame::Read),
        "message:edit" => data_as(data).map(ClientFrame::Edit),
        "message:delete" => data_as(data).map(ClientFrame::Delete),
        _ => {
            let error = AppError::UnknownEvent(format!("unknown event type {kind:?}"));
            return Err(fail(reference, error));
        }
    };
    frame
        .map(|f| (reference.clone(), f))
        .map_err(|e| fail(reference, e))
}

fn data_as<T: DeserializeOwned>(data: &str) -> Result<T, AppError> {
    if !data.trim_start().starts_with('{') {
        return Err(AppError::Validation("data: must be an object".into()));
    }
    let mut deserializer = serde_json::Deserializer::from_str(data);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let path = err.path().to_string();
        let path = if path.is_empty() || path == "." {
            "data".to_string()
        } else {
            format!("data.{path}")
        };
        AppError::Validation(format!("{path}: {}", err.inner()))
    })
}

#[derive(Serialize)]
struct Outgoing<'a, T: Serialize> {
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
    reference: Option<&'a str>,
    data: &'a T,
}

/// Encodes one server frame. The bytes are shared: a broadcast encodes once and every session
/// gets a cheap clone.
pub fn encode<T: Serialize>(kind: &str, reference: Option<&str>, data: &T) -> ByteString {
    match serde_json::to_string(&Outgoing {
        kind,
        reference,
        data,
    }) {
        Ok(text) => ByteString::from(text),
        Err(err) => {
            tracing::error!(error = %err, kind, "failed to encode a server frame");
            ByteString::from_static(
                r#"{"type":"error","data":{"code":"internal","message":"internal error"}}"#,
            )
        }
    }
}

/// An `ack` frame for `reference` carrying `data`.
pub fn ack<T: Serialize>(reference: Option<&str>, data: &T) -> ByteString {
    encode("ack", reference, data)
}

/// An `error` frame for `reference`.
pub fn error(reference: Option<&str>, body: &ErrorBody) -> ByteString {
    encode("error", reference, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_bad_frame_gets_its_own_code() {
        let code = |text: &str| match parse(text) {
            Ok(_) => "ok",
            Err(e) => e.error.code(),
        };
        assert_eq!(code("{not json"), "bad_request");
        assert_eq!(code("[1,2]"), "bad_request");
        assert_eq!(
            code(r#"["conversation:leave","r1",{"conversation_id":1}]"#),
            "bad_request"
        );
        assert_eq!(
            code(r#"{"type":"conversation:leave","data":[1]}"#),
            "validation_failed"
        );
        assert_eq!(code(r#"{"data":{}}"#), "bad_request");
        assert_eq!(code(r#"{"type":"nope"}"#), "unknown_event");
        assert_eq!(
            code(r#"{"type":"message:send","data":{"conversation_id":"x"}}"#),
            "validation_failed"
        );
        assert_eq!(
            code(r#"{"type":"message:send","data":{"conversation_id":1,"content":"hi"}}"#),
            "ok"
        );
    }

    #[test]
    fn the_ref_is_recovered_for_error_replies() {
        let err = parse(r#"{"type":"nope","ref":"r1"}"#).err();
        assert_eq!(err.and_then(|e| e.reference), Some("r1".to_string()));
    }

    #[test]
    fn frames_are_encoded_with_type_ref_and_data() {
        let text = encode("ack", Some("7"), &serde_json::json!({"a": 1}));
        let value: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(value["type"], "ack");
        assert_eq!(value["ref"], "7");
        assert_eq!(value["data"]["a"], 1);
        let text = encode("message:new", None, &1);
        assert!(!text.contains("\"ref\""));
    }
}
