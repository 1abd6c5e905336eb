//! Who must verify an address: the server's and the project's setting, and the accounts that
//! count as verified from the start. Mail from the outbox.

use serde_json::json;

use super::outbox::{app_with_outbox, outbox_mails};
use super::smtp::{code_of, login, register, verify};
use super::{code_in, expire_tokens};
use crate::helpers::spawn_app;

#[actix_web::test]
async fn accounts_made_by_admins_or_the_cli_need_no_verification() {
    let app = app_with_outbox(|s| s.auth.require_email_verification = true).await;
    // create_with_role creates the user as the CLI does, then logs in (asserting 200).
    let admin = app
        .create_with_role("root", parlor::domain::Role::Admin)
        .await;
    let (status, body) = app
        .call(
            "POST",
            "/api/v1/users",
            Some(("authorization", &format!("Bearer {}", admin.access_token))),
            &json!({"email": "agent7@example.com", "username": "agent7",
                    "password": "password-agent7", "role": "agent"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(login(&app, "agent7", "password-agent7").await.0, 200);
}

#[actix_web::test]
async fn a_project_can_require_verification_when_the_server_does_not() {
    let app = app_with_outbox(|_| {}).await;
    assert_eq!(register(&app, "before").await.0, 201);
    let admin = app
        .create_with_role("root", parlor::domain::Role::Admin)
        .await;
    let (status, _) = app
        .call(
            "PATCH",
            "/api/v1/projects/1/settings",
            Some(("authorization", &format!("Bearer {}", admin.access_token))),
            &json!({"require_email_verification": true}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = register(&app, "after").await;
    assert_eq!(
        (status, body),
        (202, json!({"verification_required": true}))
    );
    let (status, body) = login(&app, "after", "password-after").await;
    assert_eq!((status, code_of(&body)), (403, "email_unverified"));
    // An account from before the setting still signs in.
    assert_eq!(login(&app, "before", "password-before").await.0, 200);
    let code = code_in(&outbox_mails(&app, "after@example.com", 1).await[0].text);
    assert_eq!(verify(&app, "after@example.com", &code).await.0, 200);
}

#[actix_web::test]
async fn an_expired_code_is_refused_and_a_resend_replaces_it() {
    let app = app_with_outbox(|s| s.auth.require_email_verification = true).await;
    assert_eq!(register(&app, "lea").await.0, 202);
    let code = code_in(&outbox_mails(&app, "lea@example.com", 1).await[0].text);
    expire_tokens(&app);
    let (status, body) = verify(&app, "lea@example.com", &code).await;
    assert_eq!((status, code_of(&body)), (400, "code_expired"));
    let (status, _) = app
        .call(
            "POST",
            "/api/v1/auth/resend-verification",
            None,
            &json!({"email": "lea@example.com"}),
        )
        .await;
    assert_eq!(status, 202);
    let mails = outbox_mails(&app, "lea@example.com", 2).await;
    let fresh = code_in(&mails[mails.len() - 1].text);
    assert_eq!(verify(&app, "lea@example.com", &fresh).await.0, 200);
}

#[actix_web::test]
async fn without_verification_registration_answers_tokens_as_before() {
    let app = spawn_app().await;
    let (status, body) = register(&app, "moe").await;
    assert_eq!(status, 201);
    assert!(body["access_token"].is_string());
    let (status, body) = register(&app, "moe").await;
    assert_eq!((status, code_of(&body)), (409, "conflict"));
}
