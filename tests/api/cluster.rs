//! Several real `parlor` processes on one PostgreSQL schema and one Redis (docs/SCALING.md).
//!
//! These tests need PostgreSQL (`PARLOR_TEST_DATABASE_URL`, or the local server) and Redis
//! (`PARLOR_TEST_REDIS_URL`, or `redis://127.0.0.1:6379`) whatever the run's backend; each run
//! gets its own schema and its own Redis key prefix. The test of a Redis outage starts a
//! `redis-server` of its own on a free port.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{ServerProcess, TestApp, TestDir, WsClient};

mod extras;
mod webhooks;

/// The Redis the nodes share.
fn redis_url() -> String {
    std::env::var("PARLOR_TEST_REDIS_URL")
        .ok()
        .filter(|url| !url.trim().is_empty())
        .unwrap_or_else(|| "redis://127.0.0.1:6379".into())
}

/// Nodes of one cluster.
struct Nodes {
    nodes: Vec<Option<ServerProcess>>,
    dir: Arc<TestDir>,
    env: Vec<(&'static str, String)>,
    /// The Redis and the key prefix of this cluster, whose keys go when it does.
    redis: String,
    prefix: String,
}

impl Nodes {
    /// Starts `n` nodes on a fresh PostgreSQL schema and `redis`, with a Redis prefix of
    /// their own, `cluster.presence_ttl_s` 2 and `extra` settings; waits until each is ready.
    async fn start(n: usize, redis: &str, extra: &[(&'static str, String)]) -> Self {
        let dir = TestDir::postgres();
        let prefix = format!("t{}", uuid::Uuid::new_v4().simple());
        let mut env = vec![
            ("PARLOR__CLUSTER__REDIS_URL", redis.to_string()),
            ("PARLOR__CLUSTER__REDIS_PREFIX", prefix.clone()),
            ("PARLOR__CLUSTER__PRESENCE_TTL_S", "2".to_string()),
            ("PARLOR__CLUSTER__GAP_FILL_MS", "100".to_string()),
        ];
        env.extend(extra.iter().cloned());
        let mut nodes = Self {
            nodes: Vec::new(),
            dir,
            env,
            redis: redis.to_string(),
            prefix,
        };
        for _ in 0..n {
            nodes.add().await;
        }
        nodes
    }

    /// Starts one more node and waits until it is ready.
    async fn add(&mut self) -> usize {
        let node = ServerProcess::start_with(self.dir.clone(), &self.env);
        wait_ready(&node.app, true).await;
        self.nodes.push(Some(node));
        self.nodes.len() - 1
    }

    fn app(&self, i: usize) -> &TestApp {
        &self.nodes[i].as_ref().expect("node running").app
    }

    /// SIGKILLs node `i`.
    fn kill(&mut self, i: usize) {
        if let Some(node) = self.nodes[i].take() {
            node.signal_and_wait("KILL");
        }
    }
}

impl Drop for Nodes {
    fn drop(&mut self) {
        for node in self.nodes.iter_mut().filter_map(Option::take) {
            let mut child = node.child;
            let _ = child.kill();
            let _ = child.wait();
        }
        // The presence sets of the test's prefix have no time to live: delete them, so the
        // shared Redis does not collect one test's keys per run.
        let Ok(mut conn) = redis::Client::open(self.redis.as_str())
            .and_then(|client| client.get_connection_with_timeout(Duration::from_secs(1)))
        else {
            return;
        };
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}:*", self.prefix))
            .query(&mut conn)
            .unwrap_or_default();
        if !keys.is_empty() {
            let _: redis::RedisResult<()> = redis::cmd("DEL").arg(&keys).query(&mut conn);
        }
    }
}

/// Waits until `/health/ready` answers 200 (`ready`) or 503 (not), within 15 s.
async fn wait_ready(app: &TestApp, ready: bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let status = app.get("/health/ready", None).await.status();
        if (status == 200) == ready {
            return;
        }
        assert!(Instant::now() < deadline, "node never became ready={ready}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Sends `n` messages `{prefix}{i}` pipelined (all frames first, then the acks); returns the
/// acked seqs in send order.
async fn send_many(ws: &mut WsClient, conversation: i64, prefix: &str, n: usize) -> Vec<i64> {
    let mut refs = Vec::new();
    for i in 0..n {
        let reference = ws
            .send(
                "message:send",
                json!({"conversation_id": conversation, "content": format!("{prefix}{i}"),
                       "client_msg_id": format!("{prefix}-{i}")}),
            )
            .await;
        refs.push(reference);
    }
    let mut acks: BTreeMap<String, i64> = BTreeMap::new();
    while acks.len() < n {
        let frame = ws.recv().await;
        if let Some(reference) = frame["ref"].as_str() {
            assert_eq!(frame["type"], "ack", "{frame}");
            acks.insert(
                reference.to_string(),
                frame["data"]["message"]["seq"].as_i64().expect("seq"),
            );
        }
    }
    refs.iter().map(|r| acks[r]).collect()
}

/// Collects `message:new` frames until `count` arrived: `(seq, content)` in arrival order.
async fn receive(ws: &mut WsClient, count: usize) -> Vec<(i64, String)> {
    let mut got = Vec::new();
    while got.len() < count {
        let frame = ws.recv().await;
        if frame["type"] == "message:new" {
            let message = &frame["data"]["message"];
            got.push((
                message["seq"].as_i64().expect("seq"),
                message["content"].as_str().unwrap_or_default().to_string(),
            ));
        }
    }
    got
}

#[actix_web::test]
async fn messages_sent_on_one_node_reach_members_on_another_in_seq_order() {
    let nodes = Nodes::start(2, &redis_url(), &[]).await;
    let (a, b) = (nodes.app(0), nodes.app(1));
    let ann = a.register("ann").await;
    let bob = b.register("bob").await;
    let id = a.conversation(&ann, &[&bob]).await;
    let mut bob_ws = b.ws(&bob).await;
    bob_ws.join(id).await;
    let mut ann_ws = a.ws(&ann).await;
    let acked = send_many(&mut ann_ws, id, "m", 60).await;
    assert_eq!(acked, (1..=60).collect::<Vec<_>>());
    let got = receive(&mut bob_ws, 60).await;
    let expected: Vec<(i64, String)> = (1..=60).map(|s| (s, format!("m{}", s - 1))).collect();
    assert_eq!(got, expected);
    bob_ws
        .assert_no("message:new", Duration::from_millis(300))
        .await;
}

#[actix_web::test]
async fn a_send_retried_on_another_node_returns_the_original() {
    let nodes = Nodes::start(2, &redis_url(), &[]).await;
    let (a, b) = (nodes.app(0), nodes.app(1));
    let ann = a.register("ann").await;
    let id = a.conversation(&ann, &[]).await;
    let mut ann_ws = a.ws(&ann).await;
    let first = ann_ws
        .call(
            "message:send",
            json!({"conversation_id": id, "content": "once", "client_msg_id": "k-1"}),
        )
        .await;
    assert_eq!(first["type"], "ack", "{first}");
    // The client lost the ack and retries through the other node.
    let retried = b
        .post(
            &format!("/api/v1/conversations/{id}/messages"),
            Some(&ann.access_token),
            &json!({"content": "once", "client_msg_id": "k-1"}),
        )
        .await;
    assert!(retried.status().is_success(), "{}", retried.status());
    let retried: Value = retried.json().await.unwrap();
    assert_eq!(retried["id"], first["data"]["message"]["id"]);
    assert_eq!(retried["seq"], 1);
    let mut ann_b = b.ws(&ann).await;
    let again = ann_b
        .call(
            "message:send",
            json!({"conversation_id": id, "content": "once", "client_msg_id": "k-1"}),
        )
        .await;
    assert_eq!(
        again["data"]["message"]["id"],
        first["data"]["message"]["id"]
    );
    assert_eq!(b.history(&ann, id, "").await.len(), 1);
}

#[actix_web::test]
async fn concurrent_senders_on_two_nodes_get_gapless_seqs_seen_in_one_order_everywhere() {
    let nodes = Nodes::start(2, &redis_url(), &[]).await;
    let (a, b) = (nodes.app(0), nodes.app(1));
    let ann = a.register("ann").await;
    let bob = b.register("bob").await;
    let cat = a.register("cat").await;
    let dan = b.register("dan").await;
    let id = a.conversation(&ann, &[&bob, &cat, &dan]).await;
    let mut cat_ws = a.ws(&cat).await;
    let mut dan_ws = b.ws(&dan).await;
    cat_ws.join(id).await;
    dan_ws.join(id).await;
    let mut ann_ws = a.ws(&ann).await;
    let mut bob_ws = b.ws(&bob).await;
    let (ann_seqs, bob_seqs) = tokio::join!(
        send_many(&mut ann_ws, id, "a", 40),
        send_many(&mut bob_ws, id, "b", 40)
    );
    let all: BTreeSet<i64> = ann_seqs.iter().chain(&bob_seqs).copied().collect();
    assert_eq!(all, (1..=80).collect(), "seqs are unique and gapless");
    assert!(
        ann_seqs.windows(2).all(|w| w[0] < w[1]),
        "a sender's order is kept"
    );
    assert!(bob_seqs.windows(2).all(|w| w[0] < w[1]));
    let (on_a, on_b) = tokio::join!(receive(&mut cat_ws, 80), receive(&mut dan_ws, 80));
    assert_eq!(on_a, on_b, "both nodes deliver the same order");
    assert_eq!(
        on_a.iter().map(|(seq, _)| *seq).collect::<Vec<_>>(),
        (1..=80).collect::<Vec<_>>()
    );
}

/// The `data` of the next frame of `kind`, skipping others.
async fn next_of(ws: &mut WsClient, kind: &str) -> Value {
    ws.recv_type(kind).await["data"].clone()
}

#[actix_web::test]
async fn edits_deletions_receipts_typing_and_presence_cross_nodes() {
    let nodes = Nodes::start(2, &redis_url(), &[]).await;
    let (a, b) = (nodes.app(0), nodes.app(1));
    let ann = a.register("ann").await;
    let bob = b.register("bob").await;
    let id = a.conversation(&ann, &[&bob]).await;
    let mut ann_ws = a.ws(&ann).await;
    ann_ws.join(id).await;
    // Bob comes online on node B: Ann, on node A, is told.
    let mut bob_ws = b.ws(&bob).await;
    let online = next_of(&mut ann_ws, "user:status").await;
    assert_eq!(
        (online["user_id"].as_i64(), online["status"].as_str()),
        (Some(bob.id), Some("online"))
    );
    // And Bob's new session learns that Ann is online on node A.
    let status = next_of(&mut bob_ws, "user:status").await;
    assert_eq!(
        (status["user_id"].as_i64(), status["status"].as_str()),
        (Some(ann.id), Some("online"))
    );
    bob_ws.join(id).await;

    let sent = ann_ws
        .call(
            "message:send",
            json!({"conversation_id": id, "content": "hello"}),
        )
        .await;
    let message_id = sent["data"]["message"]["id"].as_i64().unwrap();
    assert_eq!(
        next_of(&mut bob_ws, "message:new").await["message"]["content"],
        "hello"
    );

    let edited = ann_ws
        .call(
            "message:edit",
            json!({"message_id": message_id, "content": "hello!"}),
        )
        .await;
    assert_eq!(edited["type"], "ack", "{edited}");
    let updated = next_of(&mut bob_ws, "message:updated").await;
    assert_eq!(updated["message"]["content"], "hello!");
    assert_eq!(updated["message"]["version"], 2);

    let read = bob_ws
        .call("message:read", json!({"conversation_id": id, "seq": 1}))
        .await;
    assert_eq!(read["type"], "ack", "{read}");
    let receipt = next_of(&mut ann_ws, "message:read").await;
    assert_eq!(
        (receipt["user_id"].as_i64(), receipt["seq"].as_i64()),
        (Some(bob.id), Some(1))
    );

    let typing = bob_ws
        .call("typing:start", json!({"conversation_id": id}))
        .await;
    assert_eq!(typing["type"], "ack", "{typing}");
    assert_eq!(
        next_of(&mut ann_ws, "typing:start").await["user_id"],
        bob.id
    );

    let deleted = ann_ws
        .call("message:delete", json!({"message_id": message_id}))
        .await;
    assert_eq!(deleted["type"], "ack", "{deleted}");
    let gone = next_of(&mut bob_ws, "message:deleted").await;
    assert_eq!(
        (gone["message_id"].as_i64(), gone["version"].as_i64()),
        (Some(message_id), Some(3))
    );

    // Bob's last session ends on node B: Ann is told he is offline.
    bob_ws.close().await;
    let offline = next_of(&mut ann_ws, "user:status").await;
    assert_eq!(
        (offline["user_id"].as_i64(), offline["status"].as_str()),
        (Some(bob.id), Some("offline"))
    );
}

#[actix_web::test]
async fn signing_out_everywhere_on_one_node_closes_the_sessions_on_another() {
    let nodes = Nodes::start(2, &redis_url(), &[]).await;
    let (a, b) = (nodes.app(0), nodes.app(1));
    let ann = a.register("ann").await;
    let mut on_b = b.ws(&ann).await;
    let out = a
        .post(
            "/api/v1/auth/logout-all",
            Some(&ann.access_token),
            &json!({}),
        )
        .await;
    assert!(out.status().is_success(), "{}", out.status());
    assert_eq!(on_b.closed_with(Duration::from_secs(5)).await, Some(4001));
}

#[actix_web::test]
async fn a_token_revoked_or_a_participant_removed_on_one_node_takes_effect_on_another() {
    let nodes = Nodes::start(2, &redis_url(), &[]).await;
    let (a, b) = (nodes.app(0), nodes.app(1));
    let key = crate::server_users::key(a, 1, crate::server_users::ALL);
    let api = |app: &'static str, method: &'static str, path: String, body: Value| {
        let (key, node) = (key.clone(), if app == "a" { a } else { b });
        async move {
            node.call(method, &path, Some(("x-api-key", &key)), &body)
                .await
        }
    };
    for user in ["ann", "bob"] {
        let (status, _) = api(
            "a",
            "PUT",
            format!("/api/v1/server/users/{user}"),
            json!({}),
        )
        .await;
        assert_eq!(status, 201);
    }
    let mint = |user: &'static str| {
        api(
            "a",
            "POST",
            format!("/api/v1/server/users/{user}/tokens"),
            json!({}),
        )
    };
    let (_, ann_token) = mint("ann").await;
    let (_, bob_token) = mint("bob").await;
    let (_, ann_other) = mint("ann").await;
    let token = |t: &Value| t["access_token"].as_str().unwrap().to_string();
    let (status, view) = api(
        "a",
        "POST",
        "/api/v1/server/conversations".into(),
        json!({"participants": ["ann", "bob"]}),
    )
    .await;
    assert_eq!(status, 201, "{view}");
    let id = view["id"].as_i64().unwrap();
    let mut ann_b = b.ws_with_token(&token(&ann_token)).await;
    let mut bob_b = b.ws_with_token(&token(&bob_token)).await;
    let mut ann_other_b = b.ws_with_token(&token(&ann_other)).await;
    ann_b.join(id).await;
    bob_b.join(id).await;

    // Removed on A: B's room sends bob the event, then detaches him.
    let (status, _) = api(
        "a",
        "DELETE",
        format!("/api/v1/server/conversations/{id}/participants/bob"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 200);
    let removed = bob_b.recv_type("participant:removed").await;
    assert_eq!(removed["data"]["conversation_id"], id);
    let refused = bob_b
        .call(
            "message:send",
            json!({"conversation_id": id, "content": "x"}),
        )
        .await;
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(
        ann_b.recv_type("participant:removed").await["data"]["user_id"],
        removed["data"]["user_id"]
    );

    // Revoked on A: refused on B, and B's session on it closes; ann's other token goes on.
    let token_id = ann_token["token_id"].as_str().unwrap();
    let (status, _) = api(
        "a",
        "DELETE",
        format!("/api/v1/server/tokens/{token_id}"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(ann_b.closed_with(Duration::from_secs(5)).await, Some(4003));
    let rest = b
        .get("/api/v1/conversations", Some(&token(&ann_token)))
        .await;
    assert_eq!(rest.status().as_u16(), 401);
    let alive = ann_other_b
        .call("typing:start", json!({"conversation_id": id}))
        .await;
    assert_eq!(alive["type"], "ack", "{alive}");
}

#[actix_web::test]
async fn a_close_on_one_node_refuses_a_send_on_another() {
    let nodes = Nodes::start(2, &redis_url(), &[]).await;
    let (a, b) = (nodes.app(0), nodes.app(1));
    let ann = a.register("ann").await;
    let agent = a
        .create_with_role("agent", parlor::domain::Role::Agent)
        .await;
    let id = a.conversation(&ann, &[&agent]).await;
    let mut ann_b = b.ws(&ann).await;
    ann_b.join(id).await;
    let sent = ann_b
        .call(
            "message:send",
            json!({"conversation_id": id, "content": "before"}),
        )
        .await;
    assert_eq!(sent["type"], "ack", "{sent}");
    let closed = a
        .post(
            &format!("/api/v1/conversations/{id}/close"),
            Some(&agent.access_token),
            &json!({}),
        )
        .await;
    assert_eq!(closed.status(), 200);
    // Node B refuses at once, whether or not the event has reached it: the database decides.
    let send = ann_b
        .send(
            "message:send",
            json!({"conversation_id": id, "content": "after"}),
        )
        .await;
    let (mut refused, mut event) = (None, None);
    while refused.is_none() || event.is_none() {
        let frame = ann_b.recv().await;
        if frame["ref"] == send.as_str() {
            refused = Some(frame);
        } else if frame["type"] == "conversation:closed" {
            event = Some(frame);
        }
    }
    let refused = refused.unwrap();
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["data"]["code"], "conversation_closed");
    assert_eq!(event.unwrap()["data"]["conversation_id"], id);
    assert_eq!(b.history(&ann, id, "").await.len(), 1);
}

#[actix_web::test]
async fn the_send_limit_holds_across_nodes() {
    let limit = [
        ("PARLOR__LIMITS__MESSAGES_PER_WINDOW", "5".to_string()),
        ("PARLOR__LIMITS__MESSAGE_WINDOW_S", "600".to_string()),
    ];
    let nodes = Nodes::start(2, &redis_url(), &limit).await;
    let (a, b) = (nodes.app(0), nodes.app(1));
    let ann = a.register("ann").await;
    let id = a.conversation(&ann, &[]).await;
    let mut on_a = a.ws(&ann).await;
    let mut on_b = b.ws(&ann).await;
    let mut acked = 0;
    let mut limited = 0;
    for i in 0..5 {
        for ws in [&mut on_a, &mut on_b] {
            let reply = ws
                .call(
                    "message:send",
                    json!({"conversation_id": id, "content": format!("m{i}")}),
                )
                .await;
            match reply["type"].as_str() {
                Some("ack") => acked += 1,
                _ => {
                    assert_eq!(reply["data"]["code"], "rate_limited", "{reply}");
                    limited += 1;
                }
            }
        }
    }
    assert_eq!((acked, limited), (5, 5));
    assert_eq!(a.history(&ann, id, "").await.len(), 5);
}

#[actix_web::test]
async fn the_rest_and_sign_in_limits_hold_across_nodes() {
    let limits = [
        ("PARLOR__LIMITS__API_REQUESTS_PER_MINUTE", "6".to_string()),
        (
            "PARLOR__LIMITS__LOGIN_ATTEMPTS_PER_ACCOUNT_PER_MINUTE",
            "3".to_string(),
        ),
    ];
    let nodes = Nodes::start(2, &redis_url(), &limits).await;
    let (a, b) = (nodes.app(0), nodes.app(1));
    let ann = a.register("ann").await;
    // One REST budget per user, whichever node answers.
    let mut statuses = Vec::new();
    for i in 0..10 {
        let node = if i % 2 == 0 { a } else { b };
        statuses.push(
            node.get("/api/v1/auth/me", Some(&ann.access_token))
                .await
                .status()
                .as_u16(),
        );
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        6,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        4,
        "{statuses:?}"
    );
    // One budget of sign-in attempts per account.
    let mut statuses = Vec::new();
    for i in 0..6 {
        let node = if i % 2 == 0 { a } else { b };
        let login = node
            .post(
                "/api/v1/auth/login",
                None,
                &json!({"username": "ann", "password": "not the password"}),
            )
            .await;
        statuses.push(login.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 429, 429, 429]);
}

#[actix_web::test]
async fn a_killed_node_loses_nothing_acknowledged_and_its_users_go_offline_in_time() {
    let nodes = &mut Nodes::start(2, &redis_url(), &[]).await;
    let ann = nodes.app(0).register("ann").await;
    let cat = nodes.app(0).register("cat").await;
    let bob = nodes.app(1).register("bob").await;
    let id = nodes.app(0).conversation(&ann, &[&bob, &cat]).await;
    let mut bob_ws = nodes.app(1).ws(&bob).await;
    bob_ws.join(id).await;
    // Cat is on node A only and stays there; Ann sends from node A.
    let _cat_ws = nodes.app(0).ws(&cat).await;
    let mut ann_ws = nodes.app(0).ws(&ann).await;
    let acked = send_many(&mut ann_ws, id, "m", 20).await;
    // More sends in flight when the node dies: some may be stored without an ack.
    for i in 20..30 {
        ann_ws
            .send(
                "message:send",
                json!({"conversation_id": id, "content": format!("m{i}"),
                       "client_msg_id": format!("m-{i}")}),
            )
            .await;
    }
    let killed_at = Instant::now();
    nodes.kill(0);
    // Ann reconnects to node B, rejoins from her last acked seq, and resends the unacked ones
    // with the same client_msg_ids: nothing is lost and nothing doubled.
    let last = *acked.last().unwrap();
    let mut ann_b = nodes.app(1).ws(&ann).await;
    let joined = ann_b
        .call(
            "conversation:join",
            json!({"conversation_id": id, "since_seq": last}),
        )
        .await;
    assert_eq!(joined["type"], "ack", "{joined}");
    let resent = send_many(&mut ann_b, id, "m", 30).await;
    assert_eq!(&resent[..20], &acked[..], "retries return the originals");
    let history = nodes.app(1).history(&ann, id, "?limit=100").await;
    let seqs: Vec<i64> = history.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
    assert_eq!(
        seqs,
        (1..=30).collect::<Vec<_>>(),
        "30 messages, each once, gapless"
    );
    // Bob, on node B, saw every message once and in order.
    let got = receive(&mut bob_ws, 30).await;
    assert_eq!(
        got.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        (1..=30).collect::<Vec<_>>()
    );
    // Cat was on the dead node only: she goes offline within cluster.presence_ttl_s (2 s).
    loop {
        let frame = bob_ws.recv().await;
        if frame["type"] == "user:status"
            && frame["data"]["user_id"] == cat.id
            && frame["data"]["status"] == "offline"
        {
            break;
        }
    }
    let took = killed_at.elapsed();
    assert!(took <= Duration::from_secs(2), "offline after {took:?}");
}

/// A `redis-server` of the test's own, on a free port, that the test can stop and restart.
struct PrivateRedis {
    port: u16,
    child: Option<std::process::Child>,
}

impl PrivateRedis {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap();
        let mut redis = Self { port, child: None };
        redis.restart();
        redis
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn restart(&mut self) {
        let child = std::process::Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server runs (the Redis outage test starts its own)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

#[actix_web::test]
async fn redis_going_away_loses_nothing_acknowledged_and_sessions_are_told_to_resync() {
    let mut redis = PrivateRedis::start();
    let nodes = Nodes::start(2, &redis.url(), &[]).await;
    let (a, b) = (nodes.app(0), nodes.app(1));
    let ann = a.register("ann").await;
    let bob = b.register("bob").await;
    let id = a.conversation(&ann, &[&bob]).await;
    let mut bob_ws = b.ws(&bob).await;
    bob_ws.join(id).await;
    let mut ann_ws = a.ws(&ann).await;
    let mut acked = send_many(&mut ann_ws, id, "before", 10).await;
    let seen = receive(&mut bob_ws, 10).await;

    redis.stop();
    wait_ready(a, false).await;
    let health: Value = a.get("/health", None).await.json().await.unwrap();
    assert_eq!(health["redis"], "down", "{health}");
    assert_eq!(health["database"], "ok");
    // Node A keeps storing and acknowledging, and records Ann's receipt.
    acked.extend(send_many(&mut ann_ws, id, "during", 10).await);
    let read = ann_ws
        .call("message:read", json!({"conversation_id": id, "seq": 20}))
        .await;
    assert_eq!(read["type"], "ack", "{read}");

    redis.restart();
    wait_ready(a, true).await;
    wait_ready(b, true).await;
    // Bob behaves as a client should: on each `resync` (the last frame of the conversation
    // until he joins again) he rejoins from the last seq he saw. Every seq reaches him once, in
    // order, across the replays and the live events, and so does Ann's receipt.
    let mut last = seen.last().map(|(s, _)| *s).unwrap_or(0);
    let mut resyncs = 0;
    let mut sent_after = false;
    let mut receipt = None;
    while last < 25 || receipt.is_none() {
        let frame = bob_ws.recv().await;
        match frame["type"].as_str() {
            Some("resync") => {
                assert_eq!(frame["data"]["conversation_id"], id, "{frame}");
                resyncs += 1;
                bob_ws
                    .send(
                        "conversation:join",
                        json!({"conversation_id": id, "since_seq": last}),
                    )
                    .await;
            }
            Some("message:new") => {
                let seq = frame["data"]["message"]["seq"].as_i64().unwrap();
                assert_eq!(seq, last + 1, "no gap, no duplicate: {frame}");
                last = seq;
            }
            Some("message:read") if frame["data"]["user_id"] == ann.id => {
                receipt = frame["data"]["seq"].as_i64();
            }
            _ => {}
        }
        if last == 20 && !sent_after {
            // Everything stored during the outage reached him: send more, live.
            acked.extend(send_many(&mut ann_ws, id, "after", 5).await);
            sent_after = true;
        }
    }
    assert!(resyncs >= 1, "the session was told to resync");
    assert_eq!(receipt, Some(20), "the receipt of the outage reached Bob");
    assert_eq!(
        acked,
        (1..=25).collect::<Vec<_>>(),
        "every send acknowledged, in order"
    );
    bob_ws
        .assert_no("message:new", Duration::from_millis(300))
        .await;
}
