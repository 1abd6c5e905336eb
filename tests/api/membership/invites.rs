//! Invites, bans and public rooms: codes of an unambiguous alphabet; accepting joins as a
//! member; expired, used-up and revoked codes are 410 `invite_invalid`; the banned stay out
//! of invites and the directory; accepting is rate limited.

use serde_json::{Value, json};

use super::{call, group, room};
use crate::helpers::{spawn_app, spawn_app_with};

const ALPHABET: &str = "23456789abcdefghjkmnpqrstuvwxyz";

#[actix_web::test]
async fn an_invite_joins_until_it_is_used_up_expired_or_revoked() {
    let app = spawn_app_with(|s| s.limits.invite_accepts_per_minute = 1000).await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let dan = app.register("dan").await;
    let id = group(&app, &ann, &[], false).await;
    let path = format!("/api/v1/conversations/{id}/invites");
    let (status, invite) = call(&app, &ann, "POST", &path, json!({"max_uses": 1})).await;
    assert_eq!(status, 201, "{invite}");
    let code = invite["code"].as_str().unwrap().to_string();
    assert!(
        code.len() >= 10 && code.chars().all(|c| ALPHABET.contains(c)),
        "{code}"
    );
    assert!(
        invite["url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("?invite={code}")),
        "{invite}"
    );
    assert_eq!(
        (invite["max_uses"].clone(), invite["uses"].clone()),
        (json!(1), json!(0))
    );
    assert!(invite["expires_at"].is_null());

    // Private: Bob sees nothing until he accepts.
    let (status, _) = call(
        &app,
        &bob,
        "GET",
        &format!("/api/v1/conversations/{id}"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 404);
    let accept = format!("/api/v1/invites/{code}/accept");
    let (status, body) = call(&app, &bob, "POST", &accept, Value::Null).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["added"],
        json!([{"user_id": bob.id, "role": "member"}])
    );
    // Accepting again as a member uses nothing; someone else finds it used up.
    let (status, _) = call(&app, &bob, "POST", &accept, Value::Null).await;
    assert_eq!(status, 200);
    let (status, body) = call(&app, &carol, "POST", &accept, Value::Null).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (410, Some("invite_invalid")),
        "{body}"
    );

    // Expired: its time is moved into the past, as the clock would.
    let (_, expiring) = call(&app, &ann, "POST", &path, json!({"expires_in_s": 3600})).await;
    let expiring = expiring["code"].as_str().unwrap().to_string();
    {
        use diesel::connection::SimpleConnection;
        let mut conn = app.db();
        let sql = format!(
            "UPDATE invites SET expires_at = '2020-01-01 00:00:00' WHERE code = '{expiring}'"
        );
        parlor::on_conn!(&mut conn, c => c.batch_execute(&sql)).unwrap();
    }
    let (status, _) = call(
        &app,
        &carol,
        "POST",
        &format!("/api/v1/invites/{expiring}/accept"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 410);

    // Revoked.
    let (_, open) = call(&app, &ann, "POST", &path, Value::Null).await;
    let open = open["code"].as_str().unwrap().to_string();
    let (status, _) = call(&app, &ann, "DELETE", &format!("{path}/{open}"), Value::Null).await;
    assert_eq!(status, 204);
    let (status, _) = call(
        &app,
        &dan,
        "POST",
        &format!("/api/v1/invites/{open}/accept"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 410);
    // Unknown codes are not found; listing pages through all three.
    let (status, _) = call(
        &app,
        &dan,
        "POST",
        "/api/v1/invites/zzzzzzzzzzzz/accept",
        Value::Null,
    )
    .await;
    assert_eq!(status, 404);
    let (status, page) = call(&app, &ann, "GET", &format!("{path}?limit=2"), Value::Null).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let after = page["next_after"].as_str().unwrap();
    let (_, rest) = call(
        &app,
        &ann,
        "GET",
        &format!("{path}?limit=2&after={after}"),
        Value::Null,
    )
    .await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 1, "{rest}");
    assert!(rest["next_after"].is_null());
}

#[actix_web::test]
async fn the_banned_cannot_come_back_by_invite_or_directory_until_unbanned() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let id = group(&app, &ann, &[&bob], true).await;
    let mut bob_ws = app.ws(&bob).await;
    bob_ws.join(id).await;
    let (status, body) = call(
        &app,
        &ann,
        "POST",
        &format!("/api/v1/conversations/{id}/bans"),
        json!({"user_id": bob.id}),
    )
    .await;
    assert_eq!(status, 204, "{body}");
    let removed = bob_ws.recv_type("participant:removed").await;
    assert_eq!(removed["data"]["user_id"], bob.id);

    let (_, invite) = call(
        &app,
        &ann,
        "POST",
        &format!("/api/v1/conversations/{id}/invites"),
        json!({}),
    )
    .await;
    let code = invite["code"].as_str().unwrap();
    let (status, _) = call(
        &app,
        &bob,
        "POST",
        &format!("/api/v1/invites/{code}/accept"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = call(
        &app,
        &bob,
        "POST",
        &format!("/api/v1/conversations/{id}/join"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 403);
    let (status, bans) = call(
        &app,
        &ann,
        "GET",
        &format!("/api/v1/conversations/{id}/bans"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(bans["items"][0]["user_id"], bob.id);

    let (status, _) = call(
        &app,
        &ann,
        "DELETE",
        &format!("/api/v1/conversations/{id}/bans/{}", bob.id),
        Value::Null,
    )
    .await;
    assert_eq!(status, 204);
    let (status, body) = call(
        &app,
        &bob,
        "POST",
        &format!("/api/v1/conversations/{id}/join"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

#[actix_web::test]
async fn public_rooms_are_joined_from_the_directory_private_ones_are_not() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let public = group(&app, &ann, &[], true).await;
    let private = group(&app, &ann, &[], false).await;
    let channel = room(&app, &ann, &[], "channel", true).await;
    let (status, body) = call(
        &app,
        &bob,
        "POST",
        &format!("/api/v1/conversations/{public}/join"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["added"],
        json!([{"user_id": bob.id, "role": "member"}])
    );
    let (status, body) = call(
        &app,
        &bob,
        "POST",
        &format!("/api/v1/conversations/{channel}/join"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["added"],
        json!([{"user_id": bob.id, "role": "follower"}])
    );
    let (status, _) = call(
        &app,
        &bob,
        "POST",
        &format!("/api/v1/conversations/{private}/join"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 404);
    // A follower reads the channel but does not post in it.
    let response = app.send_rest(&bob, channel, "hello?").await;
    assert_eq!(response.status(), 403);
}

#[actix_web::test]
async fn accepting_invites_is_rate_limited_per_user() {
    let app = spawn_app_with(|s| s.limits.invite_accepts_per_minute = 3).await;
    let bob = app.register("bob").await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let (status, _) = call(
            &app,
            &bob,
            "POST",
            "/api/v1/invites/zzzzzzzzzzzz/accept",
            Value::Null,
        )
        .await;
        statuses.push(status);
    }
    assert_eq!(statuses, [404, 404, 404, 429]);
}

#[actix_web::test]
async fn a_channel_holds_at_most_max_followers() {
    let app = spawn_app_with(|s| {
        s.limits.max_followers = 2;
        s.limits.max_participants = 10;
    })
    .await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let channel = room(&app, &ann, &[&bob], "channel", true).await;
    let (status, body) = call(
        &app,
        &carol,
        "POST",
        &format!("/api/v1/conversations/{channel}/join"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    // A group of three is fine under max_participants.
    group(&app, &ann, &[&bob, &carol], false).await;
}
