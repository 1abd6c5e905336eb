//! The user directory (issue 13): `GET /api/v1/users?query=` finds the project's active users
//! by username or display-name prefix, any case, by page, without emails, rate limited.

use serde_json::{Value, json};

use crate::api_keys::member;
use crate::helpers::{TestApp, TestUser, spawn_app_with};
use parlor::domain::Role;

async fn search(app: &TestApp, who: &TestUser, query: &str) -> (u16, Value) {
    let auth = format!("Bearer {}", who.access_token);
    app.call(
        "GET",
        &format!("/api/v1/users{query}"),
        Some(("authorization", &auth)),
        &Value::Null,
    )
    .await
}

fn usernames(page: &Value) -> Vec<String> {
    page.as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap_or("-").to_string())
        .collect()
}

#[actix_web::test]
async fn users_are_found_by_name_prefix_in_their_project_only_and_by_page() {
    let app = spawn_app_with(|s| s.limits.user_searches_per_minute = 1000).await;
    let ann = app.register("ann").await;
    let anna = app.register("Anna_B").await;
    app.register("bob").await;
    let gone = app.register("annie").await;
    let admin = app.create_with_role("admin", Role::Admin).await;
    let auth = format!("Bearer {}", admin.access_token);
    let (status, _) = app
        .call(
            "PATCH",
            &format!("/api/v1/users/{}", gone.id),
            Some(("authorization", &auth)),
            &json!({"disabled": true}),
        )
        .await;
    assert_eq!(status, 200);
    member(&app, 2, "annika", Role::Customer).await;

    let (status, found) = search(&app, &ann, "?query=AN").await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(
        usernames(&found),
        ["ann", "Anna_B"],
        "any case; disabled and other projects' left out"
    );
    assert_eq!(
        found[0],
        json!({"id": ann.id, "username": "ann", "display_name": null, "role": "customer",
               "online": false, "last_seen_at": null, "disabled": false})
    );
    assert!(!found.to_string().contains('@'), "no emails");
    // Wildcards match themselves.
    let (_, none) = search(&app, &ann, "?query=%25").await;
    assert_eq!(usernames(&none), Vec::<String>::new());
    let (_, underscore) = search(&app, &ann, "?query=anna_").await;
    assert_eq!(usernames(&underscore), ["Anna_B"]);
    let (_, wildcard) = search(&app, &ann, "?query=a_n").await;
    assert_eq!(usernames(&wildcard), Vec::<String>::new());
    // Pages.
    let (_, first) = search(&app, &ann, "?limit=2").await;
    assert_eq!(usernames(&first), ["ann", "Anna_B"]);
    let (_, next) = search(&app, &ann, &format!("?limit=2&after_id={}", anna.id)).await;
    assert_eq!(usernames(&next), ["bob", "admin"]);
    // Display names count too.
    let key = crate::server_users::key(&app, 1, "users:write");
    let (status, _) = app
        .call(
            "PUT",
            "/api/v1/server/users/crm-9",
            Some(("x-api-key", &key)),
            &json!({"display_name": "Zoë Quinn"}),
        )
        .await;
    assert_eq!(status, 201);
    let (_, by_name) = search(&app, &ann, "?query=zoë").await;
    assert_eq!(by_name.as_array().map(Vec::len), Some(1));
    assert_eq!(by_name[0]["display_name"], "Zoë Quinn");

    for bad in [
        "?limit=0",
        &format!("?query={}", "x".repeat(65)),
        "?colour=red",
    ] {
        let (status, body) = search(&app, &ann, bad).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    let (status, _) = app.call("GET", "/api/v1/users", None, &Value::Null).await;
    assert_eq!(status, 401);
}

#[actix_web::test]
async fn directory_searches_are_rate_limited_per_user() {
    let app = spawn_app_with(|s| s.limits.user_searches_per_minute = 2).await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    assert_eq!(search(&app, &ann, "?query=b").await.0, 200);
    assert_eq!(search(&app, &ann, "?query=b").await.0, 200);
    let (status, body) = search(&app, &ann, "?query=b").await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (429, &json!("rate_limited"))
    );
    assert_eq!(
        search(&app, &bob, "?query=a").await.0,
        200,
        "bob has his own budget"
    );
}

#[actix_web::test]
async fn admins_list_disabled_accounts_too_and_nobody_else_may_ask() {
    let app = spawn_app_with(|_| {}).await;
    let admin = app.create_with_role("adele", Role::Admin).await;
    let agent = app.create_with_role("sam", Role::Agent).await;
    let customer = app.register("ann").await;
    let gone = app.register("gus").await;
    let elsewhere = member(&app, 2, "other-admin", Role::Admin).await;
    let auth = format!("Bearer {}", admin.access_token);
    let (status, _) = app
        .call(
            "PATCH",
            &format!("/api/v1/users/{}", gone.id),
            Some(("authorization", &auth)),
            &json!({"disabled": true}),
        )
        .await;
    assert_eq!(status, 200);

    // The directory leaves the disabled account out, for everyone.
    let (status, page) = search(&app, &admin, "").await;
    assert_eq!(status, 200);
    assert!(!usernames(&page).contains(&"gus".to_string()));
    assert!(
        page.as_array()
            .unwrap()
            .iter()
            .all(|u| u["disabled"] == false)
    );

    // An admin's list with include_disabled has it, marked.
    let (status, page) = search(&app, &admin, "?include_disabled=true").await;
    assert_eq!(status, 200, "{page}");
    let gus = page
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "gus")
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(gus["disabled"], true, "{page}");
    assert!(!usernames(&page).contains(&"other-admin".to_string()));

    for (who, user) in [("agent", &agent), ("customer", &customer)] {
        let (status, body) = search(&app, user, "?include_disabled=true").await;
        assert_eq!(status, 403, "{who}: {body}");
    }
    // Another project's admin gets their own project's list, never this one's.
    let (status, page) = search(&app, &elsewhere, "?include_disabled=true").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(usernames(&page), ["other-admin"]);
}
