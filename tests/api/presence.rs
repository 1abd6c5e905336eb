use std::time::Duration;

use diesel::prelude::*;

use crate::helpers::{spawn_app, spawn_app_with};

#[actix_web::test]
async fn contacts_see_a_user_come_online_and_go_offline_with_last_seen() {
    let app = spawn_app().await;
    let (ann, bob, eve) = (
        app.register("ann").await,
        app.register("bob").await,
        app.register("eve").await,
    );
    app.conversation(&ann, &[&bob]).await;
    let mut bob_ws = app.ws(&bob).await;
    let mut eve_ws = app.ws(&eve).await;

    let ann_ws = app.ws(&ann).await;
    let online = bob_ws.recv_type("user:status").await;
    assert_eq!(online["data"]["user_id"], ann.id);
    assert_eq!(online["data"]["status"], "online");

    // A second device does not announce again; closing only one keeps ann online.
    let ann_phone = app.ws(&ann).await;
    ann_phone.close().await;
    bob_ws
        .assert_no("user:status", Duration::from_millis(300))
        .await;

    ann_ws.close().await;
    let offline = bob_ws.recv_type("user:status").await;
    assert_eq!(offline["data"]["user_id"], ann.id);
    assert_eq!(offline["data"]["status"], "offline");
    let last_seen = offline["data"]["last_seen_at"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(last_seen.ends_with('Z'));

    // Eve shares no conversation with ann and hears nothing.
    eve_ws
        .assert_no("user:status", Duration::from_millis(200))
        .await;

    // last_seen_at is stored.
    use parlor::db::schema::users;
    let query = users::table.find(ann.id).select(users::last_seen_at);
    let stored: Option<chrono::NaiveDateTime> =
        parlor::on_conn!(&mut app.db(), c => query.first(c)).unwrap();
    assert!(stored.is_some());
}

#[actix_web::test]
async fn a_heartbeat_timeout_also_takes_a_user_offline() {
    let app = crate::helpers::spawn_app_with(|s| {
        s.realtime.heartbeat_interval_s = 0.2;
        s.realtime.client_timeout_s = 0.6;
    })
    .await;
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    app.conversation(&ann, &[&bob]).await;
    let _silent_ann = app.ws(&ann).await; // never read again: no pongs
    let mut bob_ws = app.ws(&bob).await;
    let offline = bob_ws.recv_type("user:status").await;
    let offline = if offline["data"]["status"] == "offline" {
        offline
    } else {
        bob_ws.recv_type("user:status").await
    };
    assert_eq!(offline["data"]["user_id"], ann.id);
    assert_eq!(offline["data"]["status"], "offline");
}

#[actix_web::test]
async fn conversations_over_the_presence_size_carry_no_presence() {
    let app = spawn_app_with(|s| s.realtime.presence_max_participants = 2).await;
    let (ann, bob, cat, dan) = (
        app.register("ann").await,
        app.register("bob").await,
        app.register("cat").await,
        app.register("dan").await,
    );
    // Bob shares a three-person conversation with ann and cat (over the size), and a
    // two-person one with dan (within it).
    app.conversation(&ann, &[&bob, &cat]).await;
    app.conversation(&dan, &[&bob]).await;
    let mut bob_ws = app.ws(&bob).await;

    let _ann_ws = app.ws(&ann).await;
    let _cat_ws = app.ws(&cat).await;
    bob_ws
        .assert_no("user:status", Duration::from_millis(300))
        .await;

    let _dan_ws = app.ws(&dan).await;
    let online = bob_ws.recv_type("user:status").await;
    assert_eq!(online["data"]["user_id"], dan.id);
    bob_ws
        .assert_no("user:status", Duration::from_millis(200))
        .await;
}
