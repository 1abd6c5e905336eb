//! A WebSocket client speaking the Parlor protocol, for the tests.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{self, Message};

use crate::helpers::FRAME_TIMEOUT;

/// The HTTP status of a failed handshake.
pub fn handshake_status(err: &tungstenite::Error) -> Option<u16> {
    match err {
        tungstenite::Error::Http(response) => Some(response.status().as_u16()),
        _ => None,
    }
}

type Stream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A WebSocket client speaking the Parlor protocol.
pub struct WsClient {
    pub stream: Stream,
    next_ref: u64,
}

impl WsClient {
    /// A client over an open connection.
    pub fn new(stream: Stream) -> Self {
        Self {
            stream,
            next_ref: 0,
        }
    }

    /// Sends a frame of `kind` with `data` and a fresh ref; returns the ref.
    pub async fn send(&mut self, kind: &str, data: Value) -> String {
        self.next_ref += 1;
        let reference = self.next_ref.to_string();
        self.send_raw(&json!({"type": kind, "ref": reference, "data": data}).to_string())
            .await;
        reference
    }

    /// Sends a frame; false once the connection is gone.
    pub async fn try_send(&mut self, kind: &str, data: Value) -> bool {
        let text = json!({"type": kind, "data": data}).to_string();
        self.stream.send(Message::text(text)).await.is_ok()
    }

    pub async fn send_raw(&mut self, text: &str) {
        self.stream
            .send(Message::text(text))
            .await
            .expect("frame sent");
    }

    /// The next JSON text frame (pings are answered by the library); panics on timeout.
    pub async fn recv(&mut self) -> Value {
        self.try_recv(FRAME_TIMEOUT)
            .await
            .expect("a frame arrives in time")
    }

    /// The next JSON text frame within `timeout`, or None.
    pub async fn try_recv(&mut self, timeout: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let next = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .ok()??;
            match next.ok()? {
                Message::Text(text) => return serde_json::from_str(&text).ok(),
                Message::Close(_) => return None,
                _ => continue,
            }
        }
    }

    /// Skips frames until one of `kind` arrives.
    pub async fn recv_type(&mut self, kind: &str) -> Value {
        loop {
            let frame = self.recv().await;
            if frame["type"] == kind {
                return frame;
            }
        }
    }

    /// Skips frames until the reply (ack or error) to `reference`.
    pub async fn reply(&mut self, reference: &str) -> Value {
        loop {
            let frame = self.recv().await;
            if frame["ref"] == reference {
                return frame;
            }
        }
    }

    /// Sends a frame and waits for its reply.
    pub async fn call(&mut self, kind: &str, data: Value) -> Value {
        let reference = self.send(kind, data).await;
        self.reply(&reference).await
    }

    /// Joins a conversation, asserting the ack; returns `last_seq`.
    pub async fn join(&mut self, conversation: i64) -> i64 {
        let reply = self
            .call(
                "conversation:join",
                json!({"conversation_id": conversation}),
            )
            .await;
        assert_eq!(reply["type"], "ack", "join failed: {reply}");
        reply["data"]["last_seq"].as_i64().expect("last_seq")
    }

    /// Asserts that no frame of `kind` arrives within `wait`, and that the socket is still
    /// open at the end (a closed socket receives nothing, which proves nothing).
    pub async fn assert_no(&mut self, kind: &str, wait: Duration) {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let next = tokio::time::timeout_at(deadline, self.stream.next()).await;
            match next {
                Err(_) => return,
                Ok(Some(Ok(Message::Text(text)))) => {
                    let frame: Value = serde_json::from_str(&text).expect("json frame");
                    assert_ne!(frame["type"], kind, "unexpected frame {frame}");
                }
                Ok(Some(Ok(Message::Close(frame)))) => {
                    panic!("the socket closed ({frame:?}) while waiting for no {kind}")
                }
                Ok(Some(Ok(_))) => {}
                Ok(Some(Err(err))) => {
                    panic!("the socket failed ({err}) while waiting for no {kind}")
                }
                Ok(None) => panic!("the socket ended while waiting for no {kind}"),
            }
        }
    }

    /// Waits for the server to close the socket; returns the close code.
    pub async fn closed_with(&mut self, timeout: Duration) -> Option<u16> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let next = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .ok()?;
            match next {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Some(1006),
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self.stream.close(None).await;
    }
}
