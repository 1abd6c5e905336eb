//! Message search (issue 13): `GET /api/v1/search/messages?q=&conversation_id=&cursor=&limit=`
//! finds, ranks and highlights the messages the caller can read, and nothing else.

use serde_json::{Value, json};

use crate::api_keys::member;
use crate::helpers::{TestApp, TestUser, spawn_app_with};
use parlor::domain::Role;

/// A server with a generous search budget (the rate limit test sets its own).
pub(crate) async fn app() -> TestApp {
    spawn_app_with(|s| s.limits.message_searches_per_minute = 100_000).await
}

/// `GET /api/v1/search/messages?<query>` as `who`.
pub(crate) async fn search_raw(app: &TestApp, who: &TestUser, query: &str) -> (u16, Value) {
    let auth = format!("Bearer {}", who.access_token);
    app.call(
        "GET",
        &format!("/api/v1/search/messages?{query}"),
        Some(("authorization", &auth)),
        &Value::Null,
    )
    .await
}

/// Searches `q` (URL-encoded here) with `extra` parameters; asserts 200.
pub(crate) async fn search(app: &TestApp, who: &TestUser, q: &str, extra: &str) -> Value {
    let q: String = form_urlencoded::byte_serialize(q.as_bytes()).collect();
    let (status, body) = search_raw(app, who, &format!("q={q}{extra}")).await;
    assert_eq!(status, 200, "{q}: {body}");
    body
}

/// The contents of a page's hits, in order.
pub(crate) fn contents(page: &Value) -> Vec<String> {
    page["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| hit["message"]["content"].as_str().unwrap().to_string())
        .collect()
}

/// Sends `content` over REST; answers the message's id.
pub(crate) async fn send(app: &TestApp, who: &TestUser, conversation: i64, content: &str) -> i64 {
    let response = app.send_rest(who, conversation, content).await;
    assert_eq!(response.status(), 201);
    response.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap()
}

#[actix_web::test]
async fn messages_are_found_by_word_best_first_with_marked_snippets() {
    let app = app().await;
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    let id = app.conversation(&ann, &[&bob]).await;
    send(
        &app,
        &ann,
        id,
        "I like an apple, and cherries, and grapes, and pears too",
    )
    .await;
    send(&app, &bob, id, "Apple apple APPLE pie").await;
    send(&app, &bob, id, "bananas only").await;

    let page = search(&app, &ann, "apple", "").await;
    assert_eq!(
        contents(&page),
        [
            "Apple apple APPLE pie",
            "I like an apple, and cherries, and grapes, and pears too"
        ],
        "every case; more and denser matches first"
    );
    let hits = page["results"].as_array().unwrap();
    assert!(hits[0]["rank"].as_f64().unwrap() > hits[1]["rank"].as_f64().unwrap());
    assert_eq!(hits[0]["conversation_id"], id);
    assert!(
        hits[0]["snippet"]
            .as_str()
            .unwrap()
            .contains("<mark>Apple</mark> <mark>apple</mark>"),
        "{}",
        hits[0]["snippet"]
    );
    assert_eq!(page["next_cursor"], Value::Null);
    // The message is shown as history shows it.
    let history = app.history(&ann, id, "").await;
    assert_eq!(hits[0]["message"], history[1]);
    // Every word is required.
    assert_eq!(
        contents(&search(&app, &bob, "APPLE pie", "").await),
        ["Apple apple APPLE pie"]
    );
    assert_eq!(
        contents(&search(&app, &bob, "apple kiwi", "").await),
        Vec::<String>::new()
    );
    if !app.is_postgres() {
        // SQLite's tokenizer also ignores accents.
        send(&app, &ann, id, "Un café crème").await;
        assert_eq!(
            contents(&search(&app, &bob, "CAFE creme", "").await),
            ["Un café crème"]
        );
    }
}

#[actix_web::test]
async fn snippets_escape_the_text_around_the_marks() {
    let app = app().await;
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    let id = app.conversation(&ann, &[&bob]).await;
    send(
        &app,
        &ann,
        id,
        "<script>alert('x')</script> hello & \"bye\"",
    )
    .await;
    let page = search(&app, &bob, "hello", "").await;
    let snippet = page["results"][0]["snippet"].as_str().unwrap();
    assert!(snippet.contains("<mark>hello</mark>"), "{snippet}");
    let text = snippet.replace("<mark>", "").replace("</mark>", "");
    assert!(!text.contains(['<', '>', '"', '\'']), "{snippet}");
    assert!(text.contains("&amp;"), "{snippet}");
    if !app.is_postgres() {
        // PostgreSQL's headline leaves tags out altogether; SQLite keeps them, escaped.
        assert!(
            text.contains("&lt;script&gt;alert(&#39;x&#39;)"),
            "{snippet}"
        );
    }
}

#[actix_web::test]
async fn only_conversations_the_caller_reads_are_searched() {
    let app = app().await;
    let (ann, bob, cid) = (
        app.register("ann").await,
        app.register("bob").await,
        app.register("cid").await,
    );
    let ours = app.conversation(&ann, &[&bob]).await;
    let theirs = app.conversation(&bob, &[&cid]).await;
    send(&app, &ann, ours, "zebra in ours").await;
    send(&app, &bob, theirs, "zebra in theirs").await;
    let elsewhere = member(&app, 2, "eve", Role::Customer).await;
    let eve_friend = member(&app, 2, "fay", Role::Customer).await;
    let far = app.conversation(&elsewhere, &[&eve_friend]).await;
    send(&app, &elsewhere, far, "zebra in another project").await;

    assert_eq!(
        contents(&search(&app, &ann, "zebra", "").await),
        ["zebra in ours"]
    );
    assert_eq!(
        contents(&search(&app, &cid, "zebra", "").await),
        ["zebra in theirs"]
    );
    assert_eq!(
        contents(&search(&app, &bob, "zebra", "").await),
        ["zebra in theirs", "zebra in ours"],
        "equal ranks: newest first"
    );
    assert_eq!(
        contents(&search(&app, &elsewhere, "zebra", "").await),
        ["zebra in another project"]
    );
    // One conversation: only its messages, and only for those who may read it.
    let one = search(&app, &bob, "zebra", &format!("&conversation_id={ours}")).await;
    assert_eq!(contents(&one), ["zebra in ours"]);
    for (who, conversation) in [(&cid, ours), (&elsewhere, ours), (&ann, 999_999)] {
        let (status, body) = search_raw(
            &app,
            who,
            &format!("q=zebra&conversation_id={conversation}"),
        )
        .await;
        assert_eq!(
            (status, &body["error"]["code"]),
            (404, &json!("not_found")),
            "{body}"
        );
    }
}

#[actix_web::test]
async fn admins_search_every_conversation_of_their_project_only() {
    let app = app().await;
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    let admin = app.create_with_role("boss", Role::Admin).await;
    let agent = app.create_with_role("agent", Role::Agent).await;
    let id = app.conversation(&ann, &[&bob]).await;
    send(&app, &ann, id, "quokka sighting").await;
    let other_admin = member(&app, 2, "root", Role::Admin).await;

    assert_eq!(
        contents(&search(&app, &admin, "quokka", "").await),
        ["quokka sighting"]
    );
    let one = search(&app, &admin, "quokka", &format!("&conversation_id={id}")).await;
    assert_eq!(contents(&one), ["quokka sighting"]);
    assert_eq!(
        contents(&search(&app, &agent, "quokka", "").await),
        Vec::<String>::new()
    );
    assert_eq!(
        contents(&search(&app, &other_admin, "quokka", "").await),
        Vec::<String>::new()
    );
}

#[actix_web::test]
async fn deleted_messages_are_gone_and_edited_ones_found_by_their_new_text_only() {
    let app = app().await;
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    let id = app.conversation(&ann, &[&bob]).await;
    let edited = send(&app, &ann, id, "original walrus").await;
    let deleted = send(&app, &ann, id, "doomed walrus").await;
    assert_eq!(
        search(&app, &bob, "walrus", "").await["results"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    let (status, _) = app
        .call(
            "PATCH",
            &format!("/api/v1/messages/{edited}"),
            Some(("authorization", &format!("Bearer {}", ann.access_token))),
            &json!({"content": "updated narwhal"}),
        )
        .await;
    assert_eq!(status, 200);
    let response = app
        .delete(&format!("/api/v1/messages/{deleted}"), &ann.access_token)
        .await;
    assert_eq!(response.status(), 200);

    assert_eq!(
        contents(&search(&app, &bob, "walrus", "").await),
        Vec::<String>::new()
    );
    assert_eq!(
        contents(&search(&app, &bob, "doomed", "").await),
        Vec::<String>::new()
    );
    assert_eq!(
        contents(&search(&app, &bob, "narwhal", "").await),
        ["updated narwhal"]
    );
}

#[actix_web::test]
async fn system_messages_are_found() {
    let app = app().await;
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    let id = app.conversation(&ann, &[&bob]).await;
    let key = crate::server_users::key(&app, 1, crate::server_users::ALL);
    let (status, posted) = app
        .call(
            "POST",
            &format!("/api/v1/server/conversations/{id}/messages"),
            Some(("x-api-key", &key)),
            &json!({"as_system": true, "content": "Your parcel has shipped"}),
        )
        .await;
    assert_eq!(status, 201, "{posted}");
    let page = search(&app, &ann, "parcel", "").await;
    assert_eq!(page["results"][0]["message"]["kind"], "system");
}
