use serde_json::Value;

use crate::helpers::{spawn_app, spawn_on};

#[actix_web::test]
async fn a_restart_on_the_same_database_keeps_users_conversations_messages_and_tokens() {
    let app = spawn_app().await;
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    let id = app.conversation(&ann, &[&bob]).await;
    for content in ["one", "two", "three"] {
        assert_eq!(app.send_rest(&ann, id, content).await.status(), 201);
    }
    app.stop().await;

    let restarted = spawn_on(app.settings.clone(), app.dir.clone()).await;
    // The generated JWT secret was kept in the data folder: old access tokens still work.
    assert_eq!(
        restarted
            .get("/api/v1/auth/me", Some(&bob.access_token))
            .await
            .status(),
        200
    );
    let ann = restarted.login("ann", &ann.password).await;
    let history = restarted.history(&ann, id, "").await;
    let contents: Vec<&str> = history
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(contents, ["one", "two", "three"]);
    let next = restarted.send_rest(&bob, id, "four").await;
    assert_eq!(next.status(), 201);
    let next: Value = next.json().await.unwrap();
    assert_eq!(next["seq"], 4);
    let conversation: Value = restarted
        .get(
            &format!("/api/v1/conversations/{id}"),
            Some(&bob.access_token),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(conversation["participant_ids"].as_array().unwrap().len(), 2);
}
