//! Pins: moderators and above pin messages of groups and channels, the joined sessions hear of
//! it, and `GET .../pins` lists them newest first, by page.

use serde_json::{Value, json};

use crate::extras_support::{call, next_frame, say, set_role};
use crate::helpers::{TestApp, TestUser, spawn_app};

async fn pin(app: &TestApp, user: &TestUser, message: &Value) -> (u16, Value) {
    call(
        app,
        user,
        "POST",
        &format!("/api/v1/messages/{}/pin", message["id"]),
    )
    .await
}

async fn unpin(app: &TestApp, user: &TestUser, message: &Value) -> (u16, Value) {
    call(
        app,
        user,
        "DELETE",
        &format!("/api/v1/messages/{}/pin", message["id"]),
    )
    .await
}

async fn pins(app: &TestApp, user: &TestUser, id: i64, query: &str) -> (u16, Value) {
    call(
        app,
        user,
        "GET",
        &format!("/api/v1/conversations/{id}/pins{query}"),
    )
    .await
}

#[actix_web::test]
async fn moderators_pin_and_unpin_and_members_cannot() {
    let app = spawn_app().await;
    let (ann, bob, mod_) = (
        app.register("ann").await,
        app.register("bob").await,
        app.register("mod").await,
    );
    let id = app.conversation(&ann, &[&bob, &mod_]).await;
    set_role(&app, id, &mod_, "moderator");
    let message = say(&app, &bob, id, "the plan").await;
    assert_eq!(message["pinned"], false);
    let mut bob_ws = app.ws(&bob).await;
    bob_ws.join(id).await;

    let (status, body) = pin(&app, &bob, &message).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("forbidden")),
        "{body}"
    );
    let (status, body) = pin(&app, &mod_, &message).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["pinned"], true);
    let event = next_frame(&mut bob_ws).await;
    assert_eq!(event["type"], "message:pinned", "{event}");
    assert_eq!(
        event["data"],
        json!({"conversation_id": id, "message_id": message["id"], "pinned_by": mod_.id,
               "version": 2})
    );
    assert_eq!(app.history(&bob, id, "").await[0]["pinned"], true);

    // Pinning again changes nothing and tells no one: the next event is the unpin.
    let (status, body) = pin(&app, &ann, &message).await;
    assert_eq!((status, body["pinned"].as_bool()), (200, Some(true)));
    let (status, body) = unpin(&app, &bob, &message).await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = unpin(&app, &ann, &message).await;
    assert_eq!((status, body["pinned"].as_bool()), (200, Some(false)));
    let event = next_frame(&mut bob_ws).await;
    assert_eq!(event["type"], "message:unpinned", "{event}");
    assert_eq!(event["data"]["unpinned_by"], ann.id);
    let (status, _) = unpin(&app, &ann, &message).await;
    assert_eq!(status, 200);
    let (_, list) = pins(&app, &bob, id, "").await;
    assert_eq!(list, json!([]));
}

#[actix_web::test]
async fn pins_are_listed_newest_first_by_page_to_those_who_read_the_history() {
    let app = spawn_app().await;
    let (ann, bob, eve) = (
        app.register("ann").await,
        app.register("bob").await,
        app.register("eve").await,
    );
    let id = app.conversation(&ann, &[&bob]).await;
    let mut messages = Vec::new();
    for i in 0..5 {
        messages.push(say(&app, &bob, id, &format!("m{i}")).await);
    }
    // Pinned in the order 3, 0, 4, 1, 2: listed 2, 1, 4, 0, 3.
    for i in [3, 0, 4, 1, 2] {
        assert_eq!(pin(&app, &ann, &messages[i]).await.0, 200);
    }
    let mut seen = Vec::new();
    let mut query = "?limit=2".to_string();
    loop {
        let (status, page) = pins(&app, &bob, id, &query).await;
        assert_eq!(status, 200, "{page}");
        let page = page.as_array().unwrap().clone();
        assert!(page.len() <= 2);
        let Some(last) = page.last() else { break };
        query = format!("?limit=2&cursor={}", last["cursor"]);
        for pin in &page {
            assert_eq!(pin["pinned_by"], ann.id);
            assert!(pin["pinned_at"].is_string());
            assert_eq!(pin["message"]["pinned"], true);
            seen.push(pin["message"]["content"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(seen, ["m2", "m1", "m4", "m0", "m3"]);

    // A deleted message is unpinned.
    let (status, _) = call(
        &app,
        &bob,
        "DELETE",
        &format!("/api/v1/messages/{}", messages[4]["id"]),
    )
    .await;
    assert_eq!(status, 200);
    let (_, all) = pins(&app, &ann, id, "").await;
    assert_eq!(all.as_array().map(Vec::len), Some(4));
    let (status, body) = pin(&app, &ann, &messages[4]).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("message_deleted"))
    );

    // Outsiders see nothing; a bad limit is refused.
    let (status, body) = pins(&app, &eve, id, "").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    let (status, body) = pin(&app, &eve, &messages[0]).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    let (status, body) = pins(&app, &ann, id, "?limit=0").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("validation_failed"))
    );
}

#[actix_web::test]
async fn a_conversation_holds_at_most_a_hundred_pins() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let id = app.conversation(&ann, &[]).await;
    let mut last = Value::Null;
    for i in 0..101 {
        last = say(&app, &ann, id, &format!("m{i}")).await;
        if i < 100 {
            assert_eq!(pin(&app, &ann, &last).await.0, 200);
        }
    }
    let (status, body) = pin(&app, &ann, &last).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("limit_reached")),
        "{body}"
    );
}
