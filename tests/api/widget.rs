//! `POST /api/v1/widget/session`: anonymous visitors who come back, verified identities,
//! origins per project, and a visitor's support conversation reaching the support team.

use hmac::{KeyInit, Mac};
use serde_json::{Value, json};

use crate::api_keys::member;
use crate::helpers::{TestApp, TestUser, spawn_app};
use parlor::domain::Role;

const SECRET: &str = "the-widget-identity-secret-of-project-1";

async fn session(app: &TestApp, origin: Option<&str>, body: Value) -> (u16, Value) {
    app.call(
        "POST",
        "/api/v1/widget/session",
        origin.map(|o| ("origin", o)),
        &body,
    )
    .await
}

async fn set(app: &TestApp, admin: &TestUser, settings: Value) {
    let auth = format!("Bearer {}", admin.access_token);
    let (status, body) = app
        .call(
            "PATCH",
            "/api/v1/projects/1/settings",
            Some(("authorization", &auth)),
            &settings,
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

fn user_hash(secret: &str, external_id: &str) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(external_id.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[actix_web::test]
async fn an_anonymous_visitor_comes_back_with_their_token_and_only_to_their_project() {
    let app = spawn_app().await;
    let (status, first) = session(&app, None, json!({"project_id": 1})).await;
    assert_eq!(status, 201, "{first}");
    let token = first["visitor_token"].as_str().unwrap().to_owned();
    assert_eq!(first["token_type"], "Bearer");
    assert_eq!(first["user"]["role"], "customer");
    assert!(
        first["user"]["display_name"]
            .as_str()
            .unwrap()
            .starts_with("Visitor ")
    );

    let (status, again) =
        session(&app, None, json!({"project_id": 1, "visitor_token": token})).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["user"]["id"], first["user"]["id"]);
    assert_eq!(again["visitor_token"], token.as_str());
    // The tokens work as a login's do.
    let me = app
        .get("/api/v1/auth/me", again["access_token"].as_str())
        .await;
    assert_eq!(me.status(), 200);

    let (status, other) = session(&app, None, json!({"project_id": 1})).await;
    assert_eq!(status, 201);
    assert_ne!(
        other["user"]["id"], first["user"]["id"],
        "a new visitor is someone else"
    );

    member(&app, 2, "elsewhere", Role::Admin).await;
    for (what, body, want) in [
        (
            "another project",
            json!({"project_id": 2, "visitor_token": token}),
            401,
        ),
        (
            "a forged token",
            json!({"project_id": 1, "visitor_token": format!("{token}x")}),
            401,
        ),
        (
            "garbage",
            json!({"project_id": 1, "visitor_token": "nope"}),
            401,
        ),
        ("no such project", json!({"project_id": 999}), 404),
        (
            "an email unverified",
            json!({"project_id": 1, "email": "a@b.example"}),
            400,
        ),
        (
            "an unknown field",
            json!({"project_id": 1, "admin": true}),
            400,
        ),
    ] {
        let (status, body) = session(&app, None, body).await;
        assert_eq!(status, want, "{what}: {body}");
        assert!(body["error"]["code"].is_string(), "{what}: {body}");
    }
}

#[actix_web::test]
async fn verified_identities_need_the_right_hash_and_can_be_required() {
    let app = spawn_app().await;
    let admin = app.create_with_role("adele", Role::Admin).await;
    let identified = |hash: String| {
        json!({"project_id": 1, "external_id": "user-42", "user_hash": hash,
               "name": "Grace", "email": "grace@shop.example"})
    };
    // No secret yet: identities cannot be checked.
    let (status, _) = session(&app, None, identified(user_hash(SECRET, "user-42"))).await;
    assert_eq!(status, 400);

    set(&app, &admin, json!({"widget_identity_secret": SECRET})).await;
    let (status, first) = session(&app, None, identified(user_hash(SECRET, "user-42"))).await;
    assert_eq!(status, 201, "{first}");
    assert!(first.get("visitor_token").is_none());
    assert_eq!(first["user"]["display_name"], "Grace");
    let (status, again) = session(&app, None, identified(user_hash(SECRET, "user-42"))).await;
    assert_eq!(status, 200);
    assert_eq!(again["user"]["id"], first["user"]["id"]);

    for (what, body, want) in [
        (
            "a wrong hash",
            identified(user_hash("another-secret-another-secret-xx", "user-42")),
            401,
        ),
        (
            "another id's hash",
            identified(user_hash(SECRET, "user-43")),
            401,
        ),
        (
            "no hash",
            json!({"project_id": 1, "external_id": "user-42"}),
            400,
        ),
        (
            "a hash alone",
            json!({"project_id": 1, "user_hash": "00"}),
            400,
        ),
        (
            "a visitor's id",
            json!({"project_id": 1, "external_id": "visitor:abc",
                   "user_hash": user_hash(SECRET, "visitor:abc")}),
            400,
        ),
    ] {
        let (status, body) = session(&app, None, body).await;
        assert_eq!(status, want, "{what}: {body}");
    }

    set(&app, &admin, json!({"widget_identity_required": true})).await;
    let (status, body) = session(&app, None, json!({"project_id": 1})).await;
    assert_eq!(status, 403, "{body}");
    let (status, _) = session(&app, None, identified(user_hash(SECRET, "user-42"))).await;
    assert_eq!(status, 200);
    // A short secret is refused, and requiring identities needs one.
    let auth = format!("Bearer {}", admin.access_token);
    for bad in [
        json!({"widget_identity_secret": "short"}),
        json!({"widget_identity_secret": null}),
    ] {
        let (status, body) = app
            .call(
                "PATCH",
                "/api/v1/projects/1/settings",
                Some(("authorization", &auth)),
                &bad,
            )
            .await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
}

#[actix_web::test]
async fn the_page_origin_must_be_allowed_for_the_project_and_passes_cors() {
    let app = spawn_app().await;
    let admin = app.create_with_role("adele", Role::Admin).await;
    let shop = "https://shop.example";
    let (status, _) = session(&app, Some(shop), json!({"project_id": 1})).await;
    assert_eq!(status, 403, "not allowed by the server's defaults");
    let (status, _) = session(
        &app,
        Some("http://localhost:3000"),
        json!({"project_id": 1}),
    )
    .await;
    assert_eq!(status, 201, "the server's defaults allow localhost");

    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/api/v1/widget/session"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let refused = preflight(shop).await.unwrap();
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );

    set(&app, &admin, json!({"allowed_origins": [shop]})).await;
    let allowed = preflight(shop).await.unwrap();
    assert_eq!(allowed.headers()["access-control-allow-origin"], shop);
    let (status, body) = session(&app, Some(shop), json!({"project_id": 1})).await;
    assert_eq!(status, 201, "{body}");
    // The project's own list replaces the server's for it.
    let (status, _) = session(
        &app,
        Some("http://localhost:3000"),
        json!({"project_id": 1}),
    )
    .await;
    assert_eq!(status, 403);
}

#[actix_web::test]
async fn a_visitors_support_conversation_reaches_the_team_and_a_disabled_visitor_is_refused() {
    let app = spawn_app().await;
    let admin = app.create_with_role("adele", Role::Admin).await;
    let agent = app.create_with_role("sam", Role::Agent).await;
    let stranger = app.register("cid").await;
    let (_, visitor) = session(&app, None, json!({"project_id": 1})).await;
    let token = visitor["access_token"].as_str().unwrap().to_owned();
    let (status, conversation) = app
        .call(
            "POST",
            "/api/v1/conversations",
            Some(("authorization", &format!("Bearer {token}"))),
            &json!({}),
        )
        .await;
    assert_eq!(status, 201, "{conversation}");
    assert_eq!(conversation["kind"], "support");
    let id = conversation["id"].as_i64().unwrap();

    // The agent finds it in their list, reads it, joins it and replies.
    let list: Vec<Value> = app
        .get(
            "/api/v1/conversations?kind=support&status=open",
            Some(&agent.access_token),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        list.iter()
            .map(|c| c["id"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        [id]
    );
    let read = app
        .get(
            &format!("/api/v1/conversations/{id}/messages"),
            Some(&agent.access_token),
        )
        .await;
    assert_eq!(read.status(), 200);
    let reply = app.send_rest(&agent, id, "hello").await;
    assert_eq!(reply.status(), 403, "only participants post");
    let joined = app
        .post(
            &format!("/api/v1/conversations/{id}/join"),
            Some(&agent.access_token),
            &json!({}),
        )
        .await;
    assert!(joined.status().is_success(), "{}", joined.status());
    assert_eq!(app.send_rest(&agent, id, "hello").await.status(), 201);

    // Customers see nothing of it.
    let theirs = app
        .get(
            &format!("/api/v1/conversations/{id}"),
            Some(&stranger.access_token),
        )
        .await;
    assert_eq!(theirs.status(), 404);

    let visitor_id = visitor["user"]["id"].as_i64().unwrap();
    let auth = format!("Bearer {}", admin.access_token);
    let (status, _) = app
        .call(
            "PATCH",
            &format!("/api/v1/users/{visitor_id}"),
            Some(("authorization", &auth)),
            &json!({"disabled": true}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = session(
        &app,
        None,
        json!({"project_id": 1, "visitor_token": visitor["visitor_token"]}),
    )
    .await;
    assert_eq!(status, 403);
}
