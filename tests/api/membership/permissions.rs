//! The permission table over REST: each row an action, each column who tries it (the group's
//! owner, an admin, a moderator, a member, someone of the project outside it, someone of
//! another project), each cell the status. docs/PROTOCOL.md §2, *Member roles and permissions*.

use parlor::domain::{ProjectId, Role};
use serde_json::{Value, json};

use super::{call, group, roles, set_role};
use crate::helpers::{TestApp, TestUser, spawn_app_with};

struct Cast {
    owner: TestUser,
    admin: TestUser,
    moderator: TestUser,
    member: TestUser,
    target: TestUser,
    newcomer: TestUser,
    outsider: TestUser,
    foreigner: TestUser,
}

async fn cast(app: &TestApp) -> Cast {
    let foreign = app.create_in(ProjectId(2), "foreigner", Role::Customer);
    let foreigner = TestUser {
        id: foreign.id.0,
        username: "foreigner".into(),
        email: String::new(),
        password: String::new(),
        access_token: app.token(foreign.id.0, 3600),
        refresh_token: String::new(),
    };
    Cast {
        owner: app.register("owner").await,
        admin: app.register("admin").await,
        moderator: app.register("moderator").await,
        member: app.register("member").await,
        target: app.register("target").await,
        newcomer: app.register("newcomer").await,
        outsider: app.register("outsider").await,
        foreigner,
    }
}

/// A fresh group of the cast, with its roles set; its id.
async fn fresh_group(app: &TestApp, c: &Cast) -> i64 {
    let id = group(
        app,
        &c.owner,
        &[&c.admin, &c.moderator, &c.member, &c.target],
        false,
    )
    .await;
    set_role(app, &c.owner, id, &c.admin, "admin").await;
    set_role(app, &c.owner, id, &c.moderator, "moderator").await;
    id
}

#[actix_web::test]
async fn member_roles_decide_who_manages_a_group() {
    let app = spawn_app_with(|s| s.limits.conversations_per_hour = 10_000).await;
    let c = cast(&app).await;
    let (newcomer, target) = (c.newcomer.id, c.target.id);
    type Row = (&'static str, &'static str, String, Value, [u16; 6]);
    #[rustfmt::skip]
    let rows: Vec<Row> = vec![
        //                                                                                      owner admin mod  member outsider foreigner
        ("add a user",       "POST",   "participants".into(),              json!({"user_ids": [newcomer]}), [200, 200, 403, 403, 404, 404]),
        ("remove a member",  "DELETE", format!("participants/{target}"),   Value::Null,                     [204, 204, 403, 403, 404, 404]),
        ("promote a member", "PATCH",  format!("participants/{target}"),   json!({"role": "moderator"}),    [200, 200, 403, 403, 404, 404]),
        ("make an admin",    "PATCH",  format!("participants/{target}"),   json!({"role": "admin"}),        [200, 200, 403, 403, 404, 404]),
        ("make an owner",    "PATCH",  format!("participants/{target}"),   json!({"role": "owner"}),        [200, 403, 403, 403, 404, 404]),
        ("create an invite", "POST",   "invites".into(),                   json!({}),                       [201, 201, 403, 403, 404, 404]),
        ("list invites",     "GET",    "invites".into(),                   Value::Null,                     [200, 200, 403, 403, 404, 404]),
        ("ban a member",     "POST",   "bans".into(),                      json!({"user_id": target}),      [204, 204, 403, 403, 404, 404]),
        ("list bans",        "GET",    "bans".into(),                      Value::Null,                     [200, 200, 403, 403, 404, 404]),
        ("list participants","GET",    "participants".into(),              Value::Null,                     [200, 200, 200, 200, 404, 404]),
        ("edit the info",    "PATCH",  String::new(),                      json!({"title": "New", "visibility": "public"}), [200, 200, 403, 403, 404, 404]),
    ];
    for (name, method, path, body, expected) in rows {
        let actors = [
            &c.owner,
            &c.admin,
            &c.moderator,
            &c.member,
            &c.outsider,
            &c.foreigner,
        ];
        for (actor, want) in actors.into_iter().zip(expected) {
            let id = fresh_group(&app, &c).await;
            let url = format!("/api/v1/conversations/{id}/{path}");
            let url = url.trim_end_matches('/');
            let (status, answer) = call(&app, actor, method, url, body.clone()).await;
            assert_eq!(status, want, "{name} as {}: {answer}", actor.username);
            if status >= 400 {
                assert!(answer["error"]["code"].is_string(), "{answer}");
            } else if name == "edit the info" {
                assert_eq!(
                    (answer["title"].as_str(), answer["visibility"].as_str()),
                    (Some("New"), Some("public"))
                );
            }
        }
    }
}

#[actix_web::test]
async fn nobody_changes_an_equal_or_higher_role_or_gives_one_above_their_own() {
    let app = spawn_app_with(|s| s.limits.conversations_per_hour = 10_000).await;
    let c = cast(&app).await;
    let id = fresh_group(&app, &c).await;
    let other_admin = &c.target;
    set_role(&app, &c.owner, id, other_admin, "admin").await;
    let patch = |who: i64| format!("/api/v1/conversations/{id}/participants/{who}");
    // An admin neither demotes another admin nor the owner, nor removes them.
    let (status, _) = call(
        &app,
        &c.admin,
        "PATCH",
        &patch(other_admin.id),
        json!({"role": "member"}),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = call(
        &app,
        &c.admin,
        "PATCH",
        &patch(c.owner.id),
        json!({"role": "member"}),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = call(&app, &c.admin, "DELETE", &patch(c.owner.id), Value::Null).await;
    assert_eq!(status, 403);
    // A follower is a channel's role; a non-participant has no role to change.
    let (status, body) = call(
        &app,
        &c.owner,
        "PATCH",
        &patch(c.member.id),
        json!({"role": "follower"}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = call(
        &app,
        &c.owner,
        "PATCH",
        &patch(c.outsider.id),
        json!({"role": "member"}),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = call(
        &app,
        &c.owner,
        "PATCH",
        &patch(c.member.id),
        json!({"role": "king"}),
    )
    .await;
    assert_eq!(status, 400);
    // Nothing changed by the refusals.
    let now = roles(&app, &c.owner, id).await;
    assert!(now.contains(&(other_admin.id, "admin".into())), "{now:?}");
    assert!(now.contains(&(c.owner.id, "owner".into())), "{now:?}");
}

#[actix_web::test]
async fn direct_and_support_conversations_keep_their_own_rules() {
    let app = spawn_app_with(|s| s.limits.conversations_per_hour = 10_000).await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let agent = app.create_with_role("agent", Role::Agent).await;
    let body = json!({"participant_ids": [bob.id]});
    let (status, direct) = call(&app, &ann, "POST", "/api/v1/conversations", body).await;
    assert_eq!(status, 201);
    assert_eq!(direct["kind"], "direct");
    let id = direct["id"].as_i64().unwrap();
    for (method, path, body) in [
        ("POST", "participants", json!({"user_ids": [carol.id]})),
        ("POST", "leave", Value::Null),
        ("POST", "invites", json!({})),
    ] {
        let (status, answer) = call(
            &app,
            &ann,
            method,
            &format!("/api/v1/conversations/{id}/{path}"),
            body,
        )
        .await;
        assert_eq!(
            status, 403,
            "{method} {path} in a direct conversation: {answer}"
        );
    }
    // A customer's support conversation: the agent in it adds people, the customer does not.
    let body = json!({"participant_ids": [agent.id]});
    let (status, support) = call(&app, &carol, "POST", "/api/v1/conversations", body).await;
    assert_eq!(status, 201);
    assert_eq!(support["kind"], "support");
    let id = support["id"].as_i64().unwrap();
    let path = format!("/api/v1/conversations/{id}/participants");
    let (status, _) = call(&app, &carol, "POST", &path, json!({"user_ids": [ann.id]})).await;
    assert_eq!(status, 403);
    let (status, body) = call(&app, &agent, "POST", &path, json!({"user_ids": [ann.id]})).await;
    assert_eq!(status, 200, "{body}");
}
