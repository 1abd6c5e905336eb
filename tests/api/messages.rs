use serde_json::{Value, json};

use crate::helpers::{error_code, spawn_app, spawn_app_with};

#[actix_web::test]
async fn rest_sends_are_stored_with_consecutive_seqs_and_paged() {
    let app = spawn_app().await;
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    let id = app.conversation(&ann, &[&bob]).await;
    for i in 1..=7 {
        let sender = if i % 2 == 0 { &bob } else { &ann };
        let response = app
            .post(
                &format!("/api/v1/conversations/{id}/messages"),
                Some(&sender.access_token),
                &json!({"content": format!("m{i}"), "client_msg_id": format!("c{i}")}),
            )
            .await;
        assert_eq!(response.status(), 201);
        let message: Value = response.json().await.unwrap();
        assert_eq!(message["seq"], i);
        assert_eq!(message["kind"], "text");
        assert_eq!(message["conversation_id"], id);
        assert_eq!(message["sender_id"], sender.id);
        assert_eq!(message["client_msg_id"], format!("c{i}"));
        assert!(message["created_at"].as_str().unwrap().ends_with('Z'));
    }
    let seqs = |page: Vec<Value>| {
        page.iter()
            .map(|m| m["seq"].as_i64().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(seqs(app.history(&ann, id, "").await), [1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(seqs(app.history(&ann, id, "?limit=3").await), [5, 6, 7]);
    assert_eq!(
        seqs(app.history(&ann, id, "?limit=2&before_seq=5").await),
        [3, 4]
    );
    assert_eq!(
        seqs(app.history(&ann, id, "?limit=2&after_seq=2").await),
        [3, 4]
    );
    assert_eq!(seqs(app.history(&ann, id, "?after_seq=5").await), [6, 7]);
    assert_eq!(seqs(app.history(&ann, id, "?limit=1000").await).len(), 7);
    let page = app.history(&bob, id, "?limit=1&before_seq=2").await;
    assert_eq!(page[0]["content"], "m1");
}

#[actix_web::test]
async fn bad_paging_parameters_are_400() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let id = app.conversation(&ann, &[]).await;
    for query in ["?limit=0", "?limit=abc", "?before_seq=x"] {
        let response = app
            .get(
                &format!("/api/v1/conversations/{id}/messages{query}"),
                Some(&ann.access_token),
            )
            .await;
        assert_eq!(response.status(), 400, "{query}");
        assert_eq!(error_code(response).await, "validation_failed");
    }
}

#[actix_web::test]
async fn the_page_size_defaults_to_50_and_is_capped_at_200() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let id = app.conversation(&ann, &[]).await;
    for i in 0..205 {
        assert_eq!(
            app.send_rest(&ann, id, &format!("m{i}")).await.status(),
            201
        );
    }
    assert_eq!(app.history(&ann, id, "").await.len(), 50);
    let capped = app.history(&ann, id, "?limit=500&after_seq=0").await;
    assert_eq!(capped.len(), 200);
    assert_eq!(capped[0]["seq"], 1);
}

#[actix_web::test]
async fn empty_or_too_long_content_is_refused() {
    let app = spawn_app_with(|s| s.limits.message_max_chars = 10).await;
    let ann = app.register("ann").await;
    let id = app.conversation(&ann, &[]).await;
    for content in ["", "   ", "12345678901"] {
        let response = app.send_rest(&ann, id, content).await;
        assert_eq!(response.status(), 400, "{content:?}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "validation_failed");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("content")
        );
    }
    assert_eq!(app.send_rest(&ann, id, "1234567890").await.status(), 201);
    let long_id = app
        .post(
            &format!("/api/v1/conversations/{id}/messages"),
            Some(&ann.access_token),
            &json!({"content": "x", "client_msg_id": "c".repeat(65)}),
        )
        .await;
    assert_eq!(long_id.status(), 400);
}

#[actix_web::test]
async fn a_non_participant_cannot_post() {
    let app = spawn_app().await;
    let (ann, bob, eve) = (
        app.register("ann").await,
        app.register("bob").await,
        app.register("eve").await,
    );
    let id = app.conversation(&ann, &[&bob]).await;
    let response = app.send_rest(&eve, id, "let me in").await;
    assert_eq!(response.status(), 404);
    let missing = app.send_rest(&eve, 9999, "anyone?").await;
    assert_eq!(missing.status(), 404);
    assert!(app.history(&ann, id, "").await.is_empty());
}

#[actix_web::test]
async fn rest_sends_share_the_rate_limit_and_answer_429_with_retry_after() {
    let app = spawn_app_with(|s| {
        s.limits.messages_per_window = 3;
        s.limits.message_window_s = 10;
    })
    .await;
    let ann = app.register("ann").await;
    let id = app.conversation(&ann, &[]).await;
    for _ in 0..3 {
        assert_eq!(app.send_rest(&ann, id, "hi").await.status(), 201);
    }
    let limited = app.send_rest(&ann, id, "one too many").await;
    assert_eq!(limited.status(), 429);
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=10).contains(&retry_after), "{retry_after}");
    let body: Value = limited.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    assert!(body["error"]["retry_after_ms"].as_u64().unwrap() > 0);
    assert_eq!(app.history(&ann, id, "").await.len(), 3);
}

#[actix_web::test]
async fn unknown_routes_are_json_404s() {
    let app = spawn_app().await;
    let response = app.get("/api/v1/nothing-here", None).await;
    assert_eq!(response.status(), 404);
    assert_eq!(error_code(response).await, "not_found");
}
