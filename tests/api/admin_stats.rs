//! `GET /api/v1/admin/stats` (the console's dashboard) and the filters of
//! `GET /api/v1/conversations` (the console's conversation list).

use serde_json::{Value, json};

use crate::helpers::spawn_app;
use crate::projects::instance_admin;
use parlor::domain::Role;

#[actix_rt::test]
async fn only_instance_admins_see_the_node_stats() {
    let app = spawn_app().await;
    let root = instance_admin(&app).await;
    let admin = app.create_with_role("adele", Role::Admin).await;
    let agent = app.create_with_role("sam", Role::Agent).await;
    let customer = app.register("ann").await;

    for (who, token, status) in [
        ("project admin", Some(admin.access_token.as_str()), 403),
        ("agent", Some(agent.access_token.as_str()), 403),
        ("customer", Some(customer.access_token.as_str()), 403),
        ("nobody", None, 401),
        ("instance admin", Some(root.access_token.as_str()), 200),
    ] {
        let response = app.get("/api/v1/admin/stats", token).await;
        assert_eq!(response.status(), status, "{who}");
    }
}

#[actix_rt::test]
async fn the_stats_count_sessions_rooms_and_stored_messages() {
    let app = spawn_app().await;
    let root = instance_admin(&app).await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let stats = || async {
        let response = app
            .get("/api/v1/admin/stats", Some(&root.access_token))
            .await;
        assert_eq!(response.status(), 200);
        response.json::<Value>().await.unwrap()
    };
    let before = stats().await;
    assert_eq!(before["connections"], 0);
    assert_eq!(before["messages_stored"], 0);

    let conversation = app.conversation(&ann, &[&bob]).await;
    let mut ann_ws = app.ws(&ann).await;
    let _ann_again = app.ws(&ann).await;
    let _bob_ws = app.ws(&bob).await;
    let send =
        |id: &str| json!({"conversation_id": conversation, "content": "hi", "client_msg_id": id});
    ann_ws.call("message:send", send("m1")).await;
    ann_ws.call("message:send", send("m2")).await;
    // A retry of m2 stores nothing new.
    ann_ws.call("message:send", send("m2")).await;

    let after = stats().await;
    assert_eq!(after["connections"], 3);
    assert_eq!(after["users_online"], 2);
    assert!(after["rooms"].as_u64().unwrap() >= 1);
    assert_eq!(after["messages_stored"], 2);
    assert_eq!(after["messages_per_minute"], 2);
    assert!(after["uptime_s"].is_u64());
}

#[actix_rt::test]
async fn conversations_are_filtered_by_status_and_kind_across_pages() {
    let app = spawn_app().await;
    let admin = app.create_with_role("adele", Role::Admin).await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let response = app
        .post(
            "/api/v1/conversations",
            Some(&ann.access_token),
            &json!({"kind": "direct", "participant_ids": [bob.id]}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let direct = response.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let mut groups = Vec::new();
    for title in ["g1", "g2", "g3"] {
        let response = app
            .post(
                "/api/v1/conversations",
                Some(&ann.access_token),
                &json!({"kind": "group", "title": title, "participant_ids": [bob.id]}),
            )
            .await;
        assert_eq!(response.status(), 201);
        groups.push(
            response.json::<Value>().await.unwrap()["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let closed = app
        .post(
            &format!("/api/v1/conversations/{}/close", groups[0]),
            Some(&admin.access_token),
            &json!({}),
        )
        .await;
    assert_eq!(closed.status(), 200);

    // Walks every page of a filtered list by its Link headers.
    let walk = |query: &'static str, token: String| {
        let app = &app;
        async move {
            let mut ids = Vec::new();
            let mut next = Some(format!("/api/v1/conversations?{query}"));
            while let Some(path) = next.take() {
                let response = app.get(&path, Some(&token)).await;
                assert_eq!(response.status(), 200, "{path}");
                next = response.headers().get("link").map(|link| {
                    let link = link.to_str().unwrap();
                    assert!(link.contains(query.split('&').next().unwrap()), "{link}");
                    link[1..link.find('>').unwrap()].to_owned()
                });
                let page: Vec<Value> = response.json().await.unwrap();
                ids.extend(page.iter().map(|c| c["id"].as_i64().unwrap()));
            }
            ids.sort_unstable();
            ids
        }
    };
    let mut open_groups = groups[1..].to_vec();
    open_groups.sort_unstable();
    assert_eq!(
        walk("kind=group&status=open&limit=1", ann.access_token.clone()).await,
        open_groups
    );
    assert_eq!(
        walk("status=closed", admin.access_token.clone()).await,
        [groups[0]]
    );
    assert_eq!(
        walk("kind=direct", bob.access_token.clone()).await,
        [direct]
    );
    assert_eq!(
        walk("kind=channel", admin.access_token.clone()).await,
        Vec::<i64>::new()
    );

    for bad in ["status=snoozing", "kind=room"] {
        let response = app
            .get(
                &format!("/api/v1/conversations?{bad}"),
                Some(&ann.access_token),
            )
            .await;
        assert_eq!(response.status(), 400, "{bad}");
    }
}
