//! Durability across process ends: a graceful stop on SIGTERM, and crashes (SIGKILL). Both run
//! the real binary in a child process on one database, and check that no acknowledged message
//! is lost or duplicated.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{ServerProcess, TestApp, TestDir, TestUser, WsClient};

/// Every message of the conversation, by seq.
async fn stored(app: &TestApp, user: &TestUser, id: i64) -> Vec<Value> {
    let mut all: Vec<Value> = Vec::new();
    loop {
        let after = all.last().map_or(0, |m| m["seq"].as_i64().unwrap());
        let page = app
            .history(user, id, &format!("?limit=200&after_seq={after}"))
            .await;
        if page.is_empty() {
            return all;
        }
        all.extend(page);
    }
}

/// Reads frames until the socket closes; returns the acked client_msg_ids (with message ids) and
/// the close code.
async fn acks_until_closed(ws: &mut WsClient) -> (BTreeMap<String, i64>, Option<u16>) {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let mut acked = BTreeMap::new();
    loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.stream.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => {
                let frame: Value = serde_json::from_str(&text).unwrap();
                if frame["type"] == "ack" && frame["data"]["message"].is_object() {
                    let message = &frame["data"]["message"];
                    acked.insert(
                        message["client_msg_id"].as_str().unwrap().to_string(),
                        message["id"].as_i64().unwrap(),
                    );
                }
            }
            Ok(Some(Ok(Message::Close(frame)))) => {
                return (acked, frame.map(|f| u16::from(f.code)));
            }
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(_)) | None) | Err(_) => return (acked, None),
        }
    }
}

fn assert_exactly_once(history: &[Value], acked: &BTreeMap<String, i64>) {
    let seqs: Vec<i64> = history.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
    assert_eq!(
        seqs,
        (1..=history.len() as i64).collect::<Vec<_>>(),
        "seq has a gap or repeat"
    );
    let mut by_key: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for message in history {
        by_key
            .entry(message["client_msg_id"].as_str().unwrap())
            .or_default()
            .push(message["id"].as_i64().unwrap());
    }
    for (key, ids) in &by_key {
        assert_eq!(ids.len(), 1, "{key} stored {} times", ids.len());
    }
    for (key, id) in acked {
        assert_eq!(
            by_key.get(key.as_str()),
            Some(&vec![*id]),
            "acked {key} missing or different"
        );
    }
}

#[actix_web::test]
async fn sigterm_lets_in_flight_sends_commit_and_closes_sockets_with_1001() {
    let dir = TestDir::new();
    let server = ServerProcess::start(dir.clone());
    let ann = server.app.register("ann").await;
    let id = server.app.conversation(&ann, &[]).await;
    let mut ws = server.app.ws(&ann).await;
    for i in 0..300 {
        ws.send("message:send", json!({"conversation_id": id, "content": format!("m{i}"), "client_msg_id": format!("g{i}")})).await;
    }
    // The signal comes once sends are being committed (on a loaded machine it could otherwise
    // come before the server has read any of them, and there would be nothing in flight).
    let first = ws.recv_type("ack").await;
    let first_id = first["data"]["message"]["id"].as_i64().unwrap();
    let status = tokio::task::spawn_blocking(move || server.signal_and_wait("TERM"));
    // Frames sent after the signal are refused (unavailable) or acknowledged, never lost.
    for i in 300..400 {
        let data = json!({"conversation_id": id, "content": format!("m{i}"), "client_msg_id": format!("g{i}")});
        if !ws.try_send("message:send", data).await {
            break;
        }
    }
    let (mut acked, code) = acks_until_closed(&mut ws).await;
    acked.insert("g0".to_string(), first_id);
    let status = status.await.unwrap();
    assert!(status.success(), "exit status {status:?}");
    assert_eq!(code, Some(1001));
    eprintln!(
        "SIGTERM: {} sends acknowledged before the close",
        acked.len()
    );

    let restarted = ServerProcess::start(dir.clone());
    let ann = restarted.app.login("ann", &ann.password).await;
    let history = stored(&restarted.app, &ann, id).await;
    assert_exactly_once(&history, &acked);
    restarted.signal_and_wait("TERM");
}

#[actix_web::test]
async fn acknowledged_messages_survive_sigkill_and_retries_do_not_duplicate() {
    let dir = TestDir::new();
    let mut server = ServerProcess::start(dir.clone());
    let ann = server.app.register("ann").await;
    let id = server.app.conversation(&ann, &[]).await;
    let mut acked: BTreeMap<String, i64> = BTreeMap::new();
    let mut sent: BTreeSet<String> = BTreeSet::new();

    for round in 0..3 {
        let mut ws = server.app.ws(&ann).await;
        // Retry everything not yet acknowledged, plus a few that were (must not duplicate).
        let mut keys: Vec<String> = sent
            .iter()
            .filter(|k| !acked.contains_key(*k))
            .cloned()
            .collect();
        keys.extend(acked.keys().take(3).cloned());
        keys.extend((0..400).map(|i| format!("r{round}-{i}")));
        let (first, rest) = keys.split_at(keys.len().min(40));
        for key in first {
            sent.insert(key.clone());
            ws.send(
                "message:send",
                json!({"conversation_id": id, "content": key, "client_msg_id": key}),
            )
            .await;
        }
        // Once a few acks are back, crash the server while the client keeps sending.
        let mut seen = 0;
        while seen < 5 {
            let frame = ws.recv().await;
            if frame["type"] == "ack" {
                let message = &frame["data"]["message"];
                let key = message["client_msg_id"].as_str().unwrap().to_string();
                let id = message["id"].as_i64().unwrap();
                if let Some(earlier) = acked.insert(key.clone(), id) {
                    assert_eq!(earlier, id, "a retry of {key} was stored again");
                }
                seen += 1;
            }
        }
        let killed = tokio::task::spawn_blocking(move || server.signal_and_wait("KILL"));
        for key in rest {
            sent.insert(key.clone());
            let data = json!({"conversation_id": id, "content": key, "client_msg_id": key});
            if !ws.try_send("message:send", data).await {
                break;
            }
        }
        let (more, _) = acks_until_closed(&mut ws).await;
        for (key, id) in more {
            if let Some(earlier) = acked.insert(key.clone(), id) {
                assert_eq!(earlier, id, "a retry of {key} was stored again");
            }
        }
        killed.await.unwrap();
        eprintln!(
            "round {round}: {} sent, {} acknowledged so far",
            sent.len(),
            acked.len()
        );
        server = ServerProcess::start(dir.clone());
    }

    // Final retry round on a healthy server: everything ever sent gets acknowledged once.
    let mut ws = server.app.ws(&ann).await;
    for key in &sent {
        let ack = ws
            .call(
                "message:send",
                json!({"conversation_id": id, "content": key, "client_msg_id": key}),
            )
            .await;
        assert_eq!(ack["type"], "ack", "{ack}");
        let message_id = ack["data"]["message"]["id"].as_i64().unwrap();
        if let Some(earlier) = acked.insert(key.clone(), message_id) {
            assert_eq!(earlier, message_id, "a retry of {key} was stored again");
        }
    }
    let ann = server.app.login("ann", &ann.password).await;
    let history = stored(&server.app, &ann, id).await;
    assert_eq!(history.len(), sent.len());
    assert_exactly_once(&history, &acked);
    server.signal_and_wait("TERM");
}
