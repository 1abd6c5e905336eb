//! The WebSocket wire protocol (docs/PROTOCOL.md is the reference for client authors).
//!
//! Client → server: `{"type": "...", "ref": "<optional string>", "data": {...}}`, one JSON text
//! frame each, parsed into a [`ClientFrame`]: its `ref` and a [`ClientCommand`]. Server →
//! client: a [`ServerFrame`], `{"type": "...", "ref"?: "...", "data": {...}}`; replies to a
//! frame that carried a `ref` are `ack` or `error` with the same `ref`. Event names follow
//! `noun:verb` and are written once, on the enums' variants.
//!
//! Parsing is two-step so each failure gets its own code: not JSON (or not an object) →
//! `bad_request`; unknown `type` → `unknown_event`; right type, wrong `data` →
//! `validation_failed` naming the path (`data.conversation_id: ...`).

mod client;
mod desk;
mod extras;
mod server;

pub use client::{
    ClientCommand, ConversationRef, EditData, JoinData, MessageRef, ReceiptData, RefreshData,
    SendData,
};
pub use desk::{Assigned, CsatEvent, StatusChanged};
pub use extras::{MentionEvent, PinnedEvent, ReactionData, ReactionEvent, UnpinnedEvent};
pub use server::{
    Ack, ClosedEvent, ConversationAck, JoinAck, MessageDeleted, MessagePayload, ParticipantEvent,
    ReceiptEvent, RefreshAck, ResyncEvent, ServerFrame, Status, StatusEvent, TypingEvent, Welcome,
};

use std::borrow::Cow;

use bytestring::ByteString;
use serde::Deserialize;
use serde::de::value::{BorrowedStrDeserializer, MapAccessDeserializer};
use serde::de::{DeserializeSeed, MapAccess};
use serde_json::value::RawValue;

use crate::error::AppError;

/// A parsed client frame.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientFrame {
    /// The client's `ref`, echoed in the reply.
    pub reference: Option<String>,
    /// What it asks.
    pub command: ClientCommand,
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
    data: Option<&'a RawValue>,
}

/// Presents `{"type": kind, "data": <raw>}` to [`ClientCommand`]'s adjacently tagged
/// `Deserialize`, without building that JSON text.
struct Tagged<'a> {
    kind: &'a str,
    data: &'a str,
    next: u8,
}

impl<'de> MapAccess<'de> for Tagged<'de> {
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        let key = match self.next {
            0 => "type",
            1 => "data",
            _ => return Ok(None),
        };
        seed.deserialize(BorrowedStrDeserializer::new(key))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        self.next += 1;
        if self.next == 1 {
            return seed.deserialize(BorrowedStrDeserializer::new(self.kind));
        }
        let mut deserializer = serde_json::Deserializer::from_str(self.data);
        let value = seed.deserialize(&mut deserializer)?;
        deserializer.end()?;
        Ok(value)
    }
}

/// Parses one text frame.
///
/// # Errors
/// [`FrameError`] as described in the module docs.
pub fn parse(text: &str) -> Result<ClientFrame, FrameError> {
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
    let data = match envelope.data.map(RawValue::get) {
        None | Some("null") => "{}",
        Some(raw) => raw,
    };
    match command(&kind, data) {
        Ok(command) => Ok(ClientFrame { reference, command }),
        Err(error) => Err(fail(reference, error)),
    }
}

fn command(kind: &str, data: &str) -> Result<ClientCommand, AppError> {
    // serde reads a struct from a JSON array too; `data` must be an object. Whether the type is
    // known is still told first.
    if !data.trim_start().starts_with('{') {
        return Err(match command(kind, "{}") {
            Err(AppError::UnknownEvent(unknown)) => AppError::UnknownEvent(unknown),
            _ => AppError::Validation("data: must be an object".into()),
        });
    }
    let tagged = Tagged {
        kind,
        data,
        next: 0,
    };
    serde_path_to_error::deserialize(MapAccessDeserializer::new(tagged)).map_err(|err| {
        let path = err.path().to_string();
        if path == "type" {
            return AppError::UnknownEvent(format!("unknown event type {kind:?}"));
        }
        let path = if path.is_empty() || path == "." {
            "data".to_string()
        } else {
            path
        };
        AppError::Validation(format!("{path}: {}", err.inner()))
    })
}

/// Encodes one server frame. The bytes are shared: a broadcast encodes once and every session
/// gets a cheap clone.
pub fn encode(frame: &ServerFrame<'_>) -> ByteString {
    match serde_json::to_string(frame) {
        Ok(text) => ByteString::from(text),
        Err(err) => {
            tracing::error!(error = %err, "failed to encode a server frame");
            ByteString::from_static(
                r#"{"type":"error","data":{"code":"internal","message":"internal error"}}"#,
            )
        }
    }
}

/// An `ack` frame for `reference` carrying `data`.
pub fn ack(reference: Option<&str>, data: Ack<'_>) -> ByteString {
    encode(&ServerFrame::Ack {
        reference: reference.map(Cow::Borrowed),
        data,
    })
}

/// An `error` frame for `reference` (internal errors are logged first).
pub fn error(reference: Option<&str>, error: &AppError) -> ByteString {
    error.log();
    encode(&ServerFrame::Error {
        reference: reference.map(Cow::Borrowed),
        data: error.body(),
    })
}

#[cfg(test)]
mod documented;
#[cfg(test)]
mod tests;
