//! The room directory (`GET /api/v1/rooms`) and contacts' presence: public groups and channels
//! of the caller's project only, by title prefix and kind, by page; user views carry `online`
//! and `last_seen_at`.

use serde_json::{Value, json};

use super::{call, group, room};
use crate::helpers::spawn_app_with;

#[actix_web::test]
async fn the_directory_lists_public_rooms_of_the_project_by_page() {
    let app = spawn_app_with(|s| s.limits.conversations_per_hour = 1000).await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let mut public = Vec::new();
    for (title, kind) in [
        ("Rust fans", "group"),
        ("rustaceans", "channel"),
        ("Cooking", "group"),
    ] {
        let body =
            json!({"participant_ids": [], "kind": kind, "title": title, "visibility": "public"});
        let (status, view) = call(&app, &ann, "POST", "/api/v1/conversations", body).await;
        assert_eq!(status, 201, "{view}");
        public.push(view["id"].as_i64().unwrap());
    }
    let private = group(&app, &ann, &[], false).await;

    let (status, page) = call(&app, &bob, "GET", "/api/v1/rooms?query=RUST", Value::Null).await;
    assert_eq!(status, 200, "{page}");
    let titles: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Rust fans", "rustaceans"]);
    assert_eq!(page["items"][0]["member_count"], 1);
    assert_eq!(page["items"][0]["joined"], false);

    let (_, channels) = call(&app, &bob, "GET", "/api/v1/rooms?kind=channel", Value::Null).await;
    assert_eq!(channels["items"].as_array().unwrap().len(), 1, "{channels}");
    assert_eq!(channels["items"][0]["kind"], "channel");

    // Pages: two, then one, then the end; the private group never shows.
    let (_, first) = call(&app, &bob, "GET", "/api/v1/rooms?limit=2", Value::Null).await;
    let cursor = first["next_cursor"].as_str().unwrap();
    let (_, second) = call(
        &app,
        &bob,
        "GET",
        &format!("/api/v1/rooms?limit=2&cursor={cursor}"),
        Value::Null,
    )
    .await;
    let ids: Vec<i64> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["items"].as_array().unwrap())
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, public);
    assert!(second["next_cursor"].is_null(), "{second}");
    assert!(!ids.contains(&private));

    // Joined shows once joined.
    let (status, _) = call(
        &app,
        &bob,
        "POST",
        &format!("/api/v1/conversations/{}/join", public[2]),
        Value::Null,
    )
    .await;
    assert_eq!(status, 200);
    let (_, page) = call(&app, &bob, "GET", "/api/v1/rooms?query=cook", Value::Null).await;
    assert_eq!(
        (
            page["items"][0]["joined"].clone(),
            page["items"][0]["member_count"].clone()
        ),
        (json!(true), json!(2))
    );

    for bad in ["kind=direct", "cursor=abc", "limit=0"] {
        let (status, _) = call(
            &app,
            &bob,
            "GET",
            &format!("/api/v1/rooms?{bad}"),
            Value::Null,
        )
        .await;
        assert_eq!(status, 400, "{bad}");
    }
    // Another project's caller sees none of them.
    let foreign = app.create_in(
        parlor::domain::ProjectId(2),
        "foreigner",
        parlor::domain::Role::Customer,
    );
    let token = format!("Bearer {}", app.token(foreign.id.0, 3600));
    let (status, page) = app
        .call(
            "GET",
            "/api/v1/rooms",
            Some(("authorization", &token)),
            &Value::Null,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(page["items"], json!([]));
}

#[actix_web::test]
async fn user_views_show_whether_a_contact_is_online_and_when_last_seen() {
    let app = spawn_app_with(|s| s.limits.user_searches_per_minute = 1000).await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let path = format!("/api/v1/users/{}", bob.id);
    let (status, view) = call(&app, &ann, "GET", &path, Value::Null).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(
        (view["online"].clone(), view["last_seen_at"].clone()),
        (json!(false), Value::Null)
    );
    assert!(view.get("email").is_none(), "{view}");

    // Two devices: online while either is open.
    let phone = app.ws(&bob).await;
    let laptop = app.ws(&bob).await;
    let (_, view) = call(&app, &ann, "GET", &path, Value::Null).await;
    assert_eq!(view["online"], true);
    let (_, found) = call(&app, &ann, "GET", "/api/v1/users?query=bob", Value::Null).await;
    assert_eq!(found[0]["online"], true, "{found}");
    phone.close().await;
    let (_, view) = call(&app, &ann, "GET", &path, Value::Null).await;
    assert_eq!(view["online"], true, "one device left: {view}");
    laptop.close().await;
    // The server learns of the close asynchronously: wait for it, bounded.
    let mut view = Value::Null;
    for _ in 0..100 {
        (_, view) = call(&app, &ann, "GET", &path, Value::Null).await;
        if view["online"] == false && view["last_seen_at"].is_string() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(view["online"], false, "{view}");
    assert!(view["last_seen_at"].is_string(), "{view}");
    // Not of the project: not found.
    let (status, _) = call(&app, &ann, "GET", "/api/v1/users/999999", Value::Null).await;
    assert_eq!(status, 404);
}

#[actix_web::test]
async fn the_conversation_list_comes_by_pages_linked_to_the_next() {
    let app = spawn_app_with(|s| s.limits.conversations_per_hour = 1000).await;
    let ann = app.register("ann").await;
    let mut made = Vec::new();
    for _ in 0..5 {
        made.push(group(&app, &ann, &[], false).await);
    }
    let mut seen = Vec::new();
    let mut next = Some("/api/v1/conversations?limit=2".to_string());
    let mut pages = 0;
    while let Some(path) = next.take() {
        let response = app.get(&path, Some(&ann.access_token)).await;
        assert_eq!(response.status(), 200);
        next = response
            .headers()
            .get("link")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once('<').and_then(|(_, rest)| rest.split_once('>')))
            .map(|(target, _)| target.to_string());
        let page: Vec<Value> = response.json().await.unwrap();
        assert!(page.len() <= 2);
        seen.extend(page.iter().map(|c| c["id"].as_i64().unwrap()));
        pages += 1;
        assert!(pages <= 4, "the pages end");
    }
    made.reverse();
    assert_eq!(seen, made, "newest first, each once");
    let response = app
        .get(
            "/api/v1/conversations?cursor=nonsense",
            Some(&ann.access_token),
        )
        .await;
    assert_eq!(response.status(), 400);
}

#[actix_web::test]
async fn a_channel_carries_no_presence_and_its_followers_do_not_type() {
    let app = crate::helpers::spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let channel = room(&app, &ann, &[&bob], "channel", false).await;
    let mut ann_ws = app.ws(&ann).await;
    ann_ws.join(channel).await;
    let mut bob_ws = app.ws(&bob).await;
    bob_ws.join(channel).await;
    // Bob coming online tells ann nothing: they share only the channel.
    ann_ws
        .assert_no("user:status", std::time::Duration::from_millis(300))
        .await;
    let reply = bob_ws
        .call("typing:start", json!({"conversation_id": channel}))
        .await;
    assert_eq!(reply["data"]["code"], "forbidden", "{reply}");
    ann_ws
        .assert_no("typing:start", std::time::Duration::from_millis(200))
        .await;
}

#[actix_web::test]
async fn followers_coming_and_going_are_told_to_the_channel_staff_only() {
    let app = crate::helpers::spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let channel = room(&app, &ann, &[&bob], "channel", true).await;
    let mut ann_ws = app.ws(&ann).await;
    ann_ws.join(channel).await;
    let mut bob_ws = app.ws(&bob).await;
    bob_ws.join(channel).await;
    let join = format!("/api/v1/conversations/{channel}/join");
    let (status, _) = call(&app, &carol, "POST", &join, Value::Null).await;
    assert_eq!(status, 200);
    let added = ann_ws.recv_type("participant:added").await;
    assert_eq!(added["data"]["user_id"], carol.id);
    let leave = format!("/api/v1/conversations/{channel}/leave");
    let (status, _) = call(&app, &carol, "POST", &leave, Value::Null).await;
    assert_eq!(status, 204);
    let removed = ann_ws.recv_type("participant:removed").await;
    assert_eq!(removed["data"]["user_id"], carol.id);
    // Bob, a follower, heard of neither; a promotion he does hear of.
    bob_ws
        .assert_no("participant:added", std::time::Duration::from_millis(200))
        .await;
    let path = format!("/api/v1/conversations/{channel}/participants/{}", bob.id);
    let (status, _) = call(&app, &ann, "PATCH", &path, json!({"role": "moderator"})).await;
    assert_eq!(status, 200);
    let updated = bob_ws.recv_type("participant:updated").await;
    assert_eq!(updated["data"]["role"], "moderator");
}
