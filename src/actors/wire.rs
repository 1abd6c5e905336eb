//! A session's WebSocket transport (RFC 6455), under the session actor:
//!
//! - [`Frame`]: a complete server frame, header and payload, encoded once. A room broadcast
//!   frames its event once and every recipient's queue holds a clone of the same bytes (a
//!   reference count, no copy).
//! - [`WireBody`]: the upgrade response's body. It drains the session's [`Outbox`] queue into
//!   the HTTP dispatcher, which copies what it gets into the connection's write buffer and
//!   writes it with one `send` per wake-up, however many frames arrived meanwhile.
//! - [`Inbound`]: the client's frames, decoded from the request body with actix-http's codec
//!   (masking, control frame rules and the `realtime.max_frame_bytes` bound, RFC 6455 §5).
//!
//! Rooms and presence push frames straight into the queue: no actor message per delivery. The
//! session actor handles only the client's commands and its own lifecycle.
//!
//! [`Outbox`]: super::Outbox

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use actix_codec::Decoder as _;
use actix_http::ws::{self, CloseReason, Codec, OpCode, Parser, ProtocolError};
use actix_web::error::PayloadError;
use bytes::{Bytes, BytesMut};
use bytestring::ByteString;
use futures_util::Stream;

use super::outbox::Shared;

/// One complete server-to-client WebSocket frame (RFC 6455 §5.2: unmasked, `FIN` set), cheap
/// to clone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    bytes: Bytes,
    /// Length of the header before the payload: 2, 4 or 10 bytes.
    header: usize,
}

impl Frame {
    fn build(payload: &[u8], op: OpCode) -> Self {
        let mut bytes = BytesMut::with_capacity(payload.len() + 10);
        Parser::write_message(&mut bytes, payload, op, true, false);
        let header = bytes.len() - payload.len();
        Self {
            bytes: bytes.freeze(),
            header,
        }
    }

    /// A text frame carrying `text` (a JSON frame of docs/PROTOCOL.md §5).
    pub fn text(text: &str) -> Self {
        Self::build(text.as_bytes(), OpCode::Text)
    }

    /// An empty ping (the server's heartbeat, RFC 6455 §5.5.2).
    pub fn ping() -> Self {
        Self::build(b"", OpCode::Ping)
    }

    /// The pong answering a ping with `payload` (RFC 6455 §5.5.3; the codec refuses control
    /// frames over 125 bytes, so `payload` is within bounds).
    pub fn pong(payload: &[u8]) -> Self {
        Self::build(payload, OpCode::Pong)
    }

    /// A close frame (RFC 6455 §5.5.1) with an optional code and reason.
    pub fn close(reason: Option<CloseReason>) -> Self {
        let mut bytes = BytesMut::new();
        Parser::write_close(&mut bytes, reason, false);
        // A control frame's payload is at most 125 bytes: a 2-byte header (RFC 6455 §5.5).
        Self {
            bytes: bytes.freeze(),
            header: 2,
        }
    }

    /// Bytes on the wire, header included.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the frame has no bytes at all (never true of a built frame).
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The payload: for a text frame, its JSON.
    pub fn payload(&self) -> &[u8] {
        &self.bytes[self.header..]
    }
}

impl From<&ByteString> for Frame {
    fn from(text: &ByteString) -> Self {
        Self::text(text)
    }
}

impl From<ByteString> for Frame {
    fn from(text: ByteString) -> Self {
        Self::text(&text)
    }
}

/// The upgrade response's body: the session's queued frames, in order, until the session
/// closes. Dropped by the HTTP dispatcher when the connection ends, which tells the session.
pub struct WireBody {
    shared: Arc<Shared>,
    /// Frames taken from the queue in one lock and not yet handed to the dispatcher.
    batch: VecDeque<(Frame, bool)>,
}

impl WireBody {
    pub(super) fn new(shared: Arc<Shared>) -> Self {
        Self {
            shared,
            batch: VecDeque::new(),
        }
    }
}

impl Stream for WireBody {
    type Item = Result<Bytes, std::convert::Infallible>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.batch.is_empty() && !this.shared.take_all(&mut this.batch, cx.waker()) {
            return Poll::Ready(None);
        }
        match this.batch.pop_front() {
            Some((frame, counted)) => {
                if this.batch.is_empty() {
                    // An idle connection keeps no batch allocation.
                    this.batch = VecDeque::new();
                }
                this.shared.taken(frame.len(), counted);
                Poll::Ready(Some(Ok(frame.bytes)))
            }
            None => Poll::Pending,
        }
    }
}

impl Drop for WireBody {
    fn drop(&mut self) {
        self.shared.connection_gone();
    }
}

/// A client frame, decoded.
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming {
    /// A complete text frame, valid UTF-8.
    Text(ByteString),
    /// A binary frame or a fragment: Parlor's protocol is unfragmented text.
    Unsupported,
    /// A ping with its payload.
    Ping(Bytes),
    /// A pong.
    Pong,
    /// The client's close, with its code and reason.
    Close(Option<CloseReason>),
}

/// Why the client's stream of frames ended in error.
#[derive(Debug, thiserror::Error)]
pub enum InboundError {
    /// A frame over `realtime.max_frame_bytes` (close 1009).
    #[error("frame exceeds realtime.max_frame_bytes")]
    TooLarge,
    /// A text frame that is not UTF-8 (close 1007, RFC 6455 §8.1).
    #[error("text frame is not valid UTF-8")]
    NotUtf8,
    /// Any other breach of RFC 6455 (close 1002).
    #[error("protocol error: {0}")]
    Protocol(ProtocolError),
    /// The connection failed while reading.
    #[error("connection error: {0}")]
    Connection(PayloadError),
}

/// The client's frames, decoded from the upgrade request's body.
pub struct Inbound<S> {
    stream: S,
    codec: Codec,
    buf: BytesMut,
    ended: bool,
}

impl<S> Inbound<S> {
    /// Decodes `stream` with frames of at most `max_frame_bytes` of payload.
    pub fn new(stream: S, max_frame_bytes: usize) -> Self {
        Self {
            stream,
            codec: Codec::new().max_size(max_frame_bytes),
            buf: BytesMut::new(),
            ended: false,
        }
    }
}

impl<S> Stream for Inbound<S>
where
    S: Stream<Item = Result<Bytes, PayloadError>> + Unpin,
{
    type Item = Result<Incoming, InboundError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        while !this.ended {
            match Pin::new(&mut this.stream).poll_next(cx) {
                Poll::Ready(Some(Ok(chunk))) => this.buf.extend_from_slice(&chunk),
                Poll::Ready(Some(Err(err))) => {
                    this.ended = true;
                    return Poll::Ready(Some(Err(InboundError::Connection(err))));
                }
                Poll::Ready(None) => this.ended = true,
                Poll::Pending => break,
            }
        }
        let decoded = this.codec.decode(&mut this.buf);
        if this.buf.is_empty() {
            // An idle connection keeps no read buffer.
            this.buf = BytesMut::new();
        }
        let frame = match decoded {
            Ok(Some(frame)) => frame,
            Ok(None) if this.ended => return Poll::Ready(None),
            Ok(None) => return Poll::Pending,
            Err(ProtocolError::Overflow) => return Poll::Ready(Some(Err(InboundError::TooLarge))),
            Err(err) => return Poll::Ready(Some(Err(InboundError::Protocol(err)))),
        };
        let incoming = match frame {
            ws::Frame::Text(bytes) => match ByteString::try_from(bytes) {
                Ok(text) => Incoming::Text(text),
                Err(_) => return Poll::Ready(Some(Err(InboundError::NotUtf8))),
            },
            ws::Frame::Binary(_) | ws::Frame::Continuation(_) => Incoming::Unsupported,
            ws::Frame::Ping(payload) => Incoming::Ping(payload),
            ws::Frame::Pong(_) => Incoming::Pong,
            ws::Frame::Close(reason) => Incoming::Close(reason),
        };
        Poll::Ready(Some(Ok(incoming)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt as _;

    /// A client frame: masked, as RFC 6455 §5.3 requires.
    fn masked(payload: &[u8], op: OpCode) -> Bytes {
        let mut bytes = BytesMut::new();
        Parser::write_message(&mut bytes, payload, op, true, true);
        bytes.freeze()
    }

    fn inbound(
        chunks: Vec<Bytes>,
        max: usize,
    ) -> Inbound<impl Stream<Item = Result<Bytes, PayloadError>> + Unpin> {
        Inbound::new(futures_util::stream::iter(chunks.into_iter().map(Ok)), max)
    }

    #[test]
    fn a_text_frame_is_its_header_then_the_json() {
        let frame = Frame::text("{\"type\":\"x\"}");
        assert_eq!(frame.payload(), b"{\"type\":\"x\"}");
        assert_eq!(&frame.bytes[..2], &[0x81, 12]);
        let long = "x".repeat(70_000);
        let frame = Frame::text(&long);
        assert_eq!(
            frame.len(),
            70_000 + 10,
            "64-bit length for payloads over 65,535"
        );
        assert_eq!(frame.payload(), long.as_bytes());
        let close = Frame::close(Some(CloseReason {
            code: ws::CloseCode::Other(4008),
            description: Some("slow consumer".into()),
        }));
        assert_eq!(&close.bytes[..4], &[0x88, 15, 0x0f, 0xa8]);
        assert_eq!(close.payload(), b"\x0f\xa8slow consumer");
    }

    #[actix::test]
    async fn inbound_decodes_frames_split_across_reads() {
        let text = masked(b"{\"type\":\"ping\"}", OpCode::Text);
        let (a, b) = text.split_at(5);
        let chunks = vec![
            Bytes::copy_from_slice(a),
            Bytes::copy_from_slice(b),
            masked(b"hi", OpCode::Ping),
            masked(b"\x03\xe8", OpCode::Close),
        ];
        let frames: Vec<_> = inbound(chunks, 1024).collect().await;
        let frames: Vec<_> = frames.into_iter().map(|f| f.ok()).collect();
        assert_eq!(
            frames,
            vec![
                Some(Incoming::Text("{\"type\":\"ping\"}".into())),
                Some(Incoming::Ping(Bytes::from_static(b"hi"))),
                Some(Incoming::Close(Some(ws::CloseCode::Normal.into()))),
            ]
        );
    }

    #[actix::test]
    async fn inbound_refuses_oversized_unmasked_and_invalid_text() {
        let big = masked(&[b'x'; 2000], OpCode::Text);
        let first = inbound(vec![big], 1024).next().await;
        assert!(
            matches!(first, Some(Err(InboundError::TooLarge))),
            "{first:?}"
        );
        let mut plain = BytesMut::new();
        Parser::write_message(&mut plain, b"{}", OpCode::Text, true, false);
        let first = inbound(vec![plain.freeze()], 1024).next().await;
        assert!(
            matches!(first, Some(Err(InboundError::Protocol(_)))),
            "{first:?}"
        );
        let first = inbound(vec![masked(&[0xff, 0xfe], OpCode::Text)], 1024)
            .next()
            .await;
        assert!(
            matches!(first, Some(Err(InboundError::NotUtf8))),
            "{first:?}"
        );
        let binary = inbound(vec![masked(b"ab", OpCode::Binary)], 1024)
            .next()
            .await;
        assert!(
            matches!(binary, Some(Ok(Incoming::Unsupported))),
            "{binary:?}"
        );
    }
}
