//! Without `email.smtp_url`, mail is written as `.eml` files into `email.outbox_dir`; the
//! templates there can be replaced from `email.templates_dir`.

use std::path::PathBuf;

use serde_json::json;

use super::smtp::{code_of, login};
use super::{Received, expire_tokens, link_in, wait_for_mails};
use crate::helpers::{TestApp, spawn_app_with};

/// A server writing mail into a temporary outbox; `customize` sets more.
pub async fn app_with_outbox(customize: impl FnOnce(&mut parlor::config::Settings)) -> TestApp {
    spawn_app_with(|s| {
        s.email.smtp_url = None;
        customize(s);
    })
    .await
}

/// The outbox of `app`.
pub fn outbox(app: &TestApp) -> Vec<PathBuf> {
    vec![app.settings.email.outbox_dir.clone()]
}

/// Waits for `count` `.eml` files to `to` in `app`'s outbox.
pub async fn outbox_mails(app: &TestApp, to: &str, count: usize) -> Vec<Received> {
    wait_for_mails(&outbox(app), Some("eml"), to, count).await
}

async fn ask_reset(app: &TestApp, email: &str) -> u16 {
    app.call(
        "POST",
        "/api/v1/auth/password-reset",
        None,
        &json!({"email": email}),
    )
    .await
    .0
}

#[actix_web::test]
async fn without_smtp_a_reset_mail_is_an_eml_file_with_a_text_and_an_html_part() {
    let app = app_with_outbox(|_| {}).await;
    assert!(app.settings.email.outbox_dir.starts_with(app.dir.path()));
    app.register("gil").await;
    assert_eq!(ask_reset(&app, "gil@example.com").await, 202);
    let mail = outbox_mails(&app, "gil@example.com", 1).await.remove(0);
    assert_eq!(mail.content_type, "multipart/alternative");
    assert!(!mail.subject.is_empty());
    let (link, token) = link_in(&mail.text, "/reset-password");
    assert!(
        mail.html.contains(&format!("href=\"{link}\"")),
        "{}",
        mail.html
    );
    // 7bit, not quoted-printable: the link reads (and greps) as it is in the file.
    let raw: String = std::fs::read_dir(&app.settings.email.outbox_dir)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert!(raw.contains(&link), "{raw}");

    let (status, _) = app
        .call(
            "POST",
            "/api/v1/auth/password-reset/confirm",
            None,
            &json!({"token": token, "new_password": "from the outbox"}),
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(login(&app, "gil", "from the outbox").await.0, 200);
    // The page the link opens is served, with its script apart (CSP: no inline script).
    let page = app.get("/reset-password?token=x", None).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("<script src=\"/account-email.js\"></script>"));
    assert_eq!(app.get("/account-email.js", None).await.status(), 200);
}

#[actix_web::test]
async fn a_template_in_templates_dir_replaces_the_built_in_one() {
    let templates = tempfile::tempdir().unwrap();
    std::fs::write(
        templates.path().join("password_reset.txt"),
        "Subject: Custom reset for {{username}}\n\nCUSTOM-MARKER {{link}}\n",
    )
    .unwrap();
    let dir = templates.path().to_path_buf();
    let app = app_with_outbox(|s| s.email.templates_dir = Some(dir)).await;
    app.register("hal").await;
    assert_eq!(ask_reset(&app, "hal@example.com").await, 202);
    let mail = outbox_mails(&app, "hal@example.com", 1).await.remove(0);
    assert_eq!(mail.subject, "Custom reset for hal");
    assert!(mail.text.starts_with("CUSTOM-MARKER http"), "{}", mail.text);
    link_in(&mail.text, "/reset-password");
    // The HTML part has no override: the built-in one.
    assert!(
        mail.html.contains("a password reset was asked"),
        "{}",
        mail.html
    );
    assert!(!mail.html.contains("CUSTOM-MARKER"));
}

#[actix_web::test]
async fn an_expired_or_replaced_reset_link_is_refused() {
    let app = app_with_outbox(|_| {}).await;
    app.register("ian").await;
    assert_eq!(ask_reset(&app, "ian@example.com").await, 202);
    let first = outbox_mails(&app, "ian@example.com", 1).await.remove(0);
    assert_eq!(ask_reset(&app, "ian@example.com").await, 202);
    let mails = outbox_mails(&app, "ian@example.com", 2).await;
    let (_, old) = link_in(&first.text, "/reset-password");
    let (_, new) = mails
        .iter()
        .map(|m| link_in(&m.text, "/reset-password"))
        .find(|(_, t)| *t != old)
        .expect("a second link");
    let confirm = |token: String| {
        let app = &app;
        async move {
            app.call(
                "POST",
                "/api/v1/auth/password-reset/confirm",
                None,
                &json!({"token": token, "new_password": "never set this"}),
            )
            .await
        }
    };
    let (status, body) = confirm(old).await;
    assert_eq!(
        (status, code_of(&body)),
        (400, "invalid_token"),
        "replaced by the new link"
    );
    expire_tokens(&app);
    let (status, body) = confirm(new).await;
    assert_eq!((status, code_of(&body)), (400, "token_expired"));
    let (status, body) = confirm("made-up".into()).await;
    assert_eq!((status, code_of(&body)), (400, "invalid_token"));
    assert_eq!(login(&app, "ian", "password-ian").await.0, 200);
}

#[actix_web::test]
async fn reset_requests_are_limited_per_address_whether_it_has_an_account_or_not() {
    let app = app_with_outbox(|s| s.limits.account_emails_per_address_per_hour = 2).await;
    for email in ["jo@example.com", "nobody@example.com"] {
        assert_eq!(ask_reset(&app, email).await, 202);
        assert_eq!(ask_reset(&app, email).await, 202);
        let (status, body) = app
            .call(
                "POST",
                "/api/v1/auth/password-reset",
                None,
                &json!({"email": email}),
            )
            .await;
        assert_eq!((status, code_of(&body)), (429, "rate_limited"), "{email}");
    }
    // Another address has its own budget.
    assert_eq!(ask_reset(&app, "kim@example.com").await, 202);
}
