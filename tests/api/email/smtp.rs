//! The account email flows against a real SMTP server: Python's aiosmtpd in a process of its
//! own on a free port, writing each message it receives into a Maildir that the tests read.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{Received, code_in, link_in, mails_to, wait_for_mails};
use crate::helpers::{TestApp, spawn_app_with};

/// An aiosmtpd process, killed when dropped.
pub struct SmtpSink {
    child: Child,
    pub port: u16,
    maildir: PathBuf,
    _dir: tempfile::TempDir,
}

impl SmtpSink {
    /// Starts aiosmtpd on a free port and waits until it accepts connections. Fails the test
    /// when aiosmtpd is not installed.
    pub fn start() -> Self {
        let installed = Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            installed,
            "these tests need Python's aiosmtpd: run `python3 -m pip install aiosmtpd`"
        );
        let dir = tempfile::tempdir().unwrap();
        let maildir = dir.path().join("maildir");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 starts");
        let sink = Self {
            child,
            port,
            maildir,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "aiosmtpd did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        sink
    }

    fn dirs(&self) -> Vec<PathBuf> {
        vec![self.maildir.join("new"), self.maildir.join("cur")]
    }

    /// Waits for `count` mails to `to`.
    pub async fn mails(&self, to: &str, count: usize) -> Vec<Received> {
        wait_for_mails(&self.dirs(), None, to, count).await
    }

    /// The mails to `to` so far.
    pub fn now(&self, to: &str) -> Vec<Received> {
        mails_to(&self.dirs(), None, to)
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A server sending through `sink`, with `verify` for `auth.require_email_verification`.
pub async fn app_with_smtp(sink: &SmtpSink, verify: bool) -> TestApp {
    let url = format!("smtp://127.0.0.1:{}", sink.port);
    spawn_app_with(|s| {
        s.email.smtp_url = Some(url.into());
        s.auth.require_email_verification = verify;
    })
    .await
}

/// Registers `name` (`name@example.com`, `password-name`): the status and body.
pub async fn register(app: &TestApp, name: &str) -> (u16, Value) {
    app.call(
        "POST",
        "/api/v1/auth/register",
        None,
        &json!({"email": format!("{name}@example.com"), "username": name,
                "password": format!("password-{name}")}),
    )
    .await
}

pub async fn login(app: &TestApp, login: &str, password: &str) -> (u16, Value) {
    app.call(
        "POST",
        "/api/v1/auth/login",
        None,
        &json!({"username": login, "password": password}),
    )
    .await
}

pub async fn verify(app: &TestApp, email: &str, code: &str) -> (u16, Value) {
    app.call(
        "POST",
        "/api/v1/auth/verify-email",
        None,
        &json!({"email": email, "code": code}),
    )
    .await
}

/// The `error.code` of a body.
pub fn code_of(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

#[actix_web::test]
async fn a_new_account_signs_in_only_with_the_mailed_code() {
    let sink = SmtpSink::start();
    let app = app_with_smtp(&sink, true).await;
    let (status, body) = register(&app, "ann").await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body, json!({"verification_required": true}));

    // Before the code: the right password is refused with 403, a wrong one still with 401.
    let (status, body) = login(&app, "ann", "password-ann").await;
    assert_eq!((status, code_of(&body)), (403, "email_unverified"));
    let (status, body) = login(&app, "ann", "wrong-password").await;
    assert_eq!((status, code_of(&body)), (401, "invalid_credentials"));

    let mail = sink.mails("ann@example.com", 1).await.remove(0);
    assert_eq!(mail.content_type, "multipart/alternative");
    let code = code_in(&mail.text);
    assert!(
        mail.html.contains(&code),
        "the HTML part carries the code too"
    );
    let (status, body) = verify(&app, "ann@example.com", &code).await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap();
    let me = app.get("/api/v1/auth/me", Some(token)).await;
    assert_eq!(me.status(), 200);
    let (status, _) = login(&app, "ann", "password-ann").await;
    assert_eq!(status, 200);
    // Used once.
    let (status, body) = verify(&app, "ann@example.com", &code).await;
    assert_eq!((status, code_of(&body)), (400, "invalid_code"));
    // An unknown address answers as a wrong code does.
    let (status, body) = verify(&app, "nobody@example.com", &code).await;
    assert_eq!((status, code_of(&body)), (400, "invalid_code"));
}

#[actix_web::test]
async fn five_wrong_codes_use_the_code_up_until_a_new_one_is_sent() {
    let sink = SmtpSink::start();
    let app = app_with_smtp(&sink, true).await;
    assert_eq!(register(&app, "bob").await.0, 202);
    let code = code_in(&sink.mails("bob@example.com", 1).await[0].text);
    let wrong = format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000);
    for _ in 0..5 {
        let (status, body) = verify(&app, "bob@example.com", &wrong).await;
        assert_eq!((status, code_of(&body)), (400, "invalid_code"));
    }
    let (status, body) = verify(&app, "bob@example.com", &code).await;
    assert_eq!(
        (status, code_of(&body)),
        (400, "code_expired"),
        "even the right code"
    );

    let (status, _) = app
        .call(
            "POST",
            "/api/v1/auth/resend-verification",
            None,
            &json!({"email": "bob@example.com"}),
        )
        .await;
    assert_eq!(status, 202);
    let mails = sink.mails("bob@example.com", 2).await;
    let fresh = code_in(&mails[1].text);
    if fresh != code {
        let (status, body) = verify(&app, "bob@example.com", &code).await;
        assert_eq!(
            (status, code_of(&body)),
            (400, "invalid_code"),
            "the old code is gone"
        );
    }
    let (status, body) = verify(&app, "bob@example.com", &fresh).await;
    assert_eq!(status, 200, "{body}");
}

#[actix_web::test]
async fn registering_a_taken_address_answers_the_same_and_mails_its_owner() {
    let sink = SmtpSink::start();
    let app = app_with_smtp(&sink, true).await;
    let first = register(&app, "cat").await;
    let again = app
        .call(
            "POST",
            "/api/v1/auth/register",
            None,
            &json!({"email": "CAT@example.com", "username": "cat2", "password": "password-cat2"}),
        )
        .await;
    assert_eq!(
        first, again,
        "the same answer whether the address is taken or not"
    );
    let mails = sink.mails("cat@example.com", 2).await;
    let notice = mails
        .iter()
        .find(|m| m.text.contains("already exists"))
        .expect("a mail saying the account exists");
    assert!(notice.text.contains("/reset-password"), "{}", notice.text);
    // No second account: cat2 does not exist.
    let (status, body) = login(&app, "cat2", "password-cat2").await;
    assert_eq!((status, code_of(&body)), (401, "invalid_credentials"));
    // A taken username may still say so.
    let (status, body) = app
        .call(
            "POST",
            "/api/v1/auth/register",
            None,
            &json!({"email": "other@example.com", "username": "cat", "password": "password-x1"}),
        )
        .await;
    assert_eq!((status, code_of(&body)), (409, "conflict"));
}

#[actix_web::test]
async fn a_reset_link_sets_the_password_and_ends_every_session() {
    let sink = SmtpSink::start();
    let app = app_with_smtp(&sink, false).await;
    let dan = app.register("dan").await;
    let mut ws = app.ws(&dan).await;

    let reset = |email: &'static str| {
        let app = &app;
        async move {
            app.call(
                "POST",
                "/api/v1/auth/password-reset",
                None,
                &json!({"email": email}),
            )
            .await
        }
    };
    assert_eq!(
        reset("nobody@example.com").await.0,
        202,
        "unknown addresses too"
    );
    assert_eq!(reset("dan@example.com").await.0, 202);
    let mail = sink.mails("dan@example.com", 1).await.remove(0);
    // Mail goes out in order: a mail to the unknown address would have come first.
    assert!(sink.now("nobody@example.com").is_empty());
    let (link, token) = link_in(&mail.text, "/reset-password");
    assert!(link.starts_with(&app.address), "{link} is on this server");
    assert!(mail.html.contains(&token));

    let confirm = |password: &'static str| {
        let (app, token) = (&app, token.clone());
        async move {
            app.call(
                "POST",
                "/api/v1/auth/password-reset/confirm",
                None,
                &json!({"token": token, "new_password": password}),
            )
            .await
        }
    };
    let (status, body) = confirm("short").await;
    assert_eq!((status, code_of(&body)), (400, "validation_failed"));
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("new_password")
    );
    assert_eq!(confirm("a new password").await.0, 204);

    assert_eq!(ws.closed_with(Duration::from_secs(5)).await, Some(4001));
    assert_eq!(login(&app, "dan", "password-dan").await.0, 401);
    assert_eq!(login(&app, "dan", "a new password").await.0, 200);
    let (status, _) = app
        .call(
            "POST",
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": dan.refresh_token}),
        )
        .await;
    assert_eq!(status, 401, "the old refresh token is revoked");
    let (status, body) = confirm("another password").await;
    assert_eq!(
        (status, code_of(&body)),
        (400, "invalid_token"),
        "single use"
    );
    assert_eq!(login(&app, "dan", "a new password").await.0, 200);
}

#[actix_web::test]
async fn an_address_change_is_confirmed_from_the_new_address_and_told_to_the_old() {
    let sink = SmtpSink::start();
    let app = app_with_smtp(&sink, false).await;
    let eve = app.register("eve").await;
    app.register("fay").await;
    let change = |new_email: &'static str, password: &'static str| {
        let (app, token) = (&app, eve.access_token.clone());
        async move {
            app.call(
                "POST",
                "/api/v1/auth/change-email",
                Some(("authorization", &format!("Bearer {token}"))),
                &json!({"new_email": new_email, "password": password}),
            )
            .await
        }
    };
    let (status, body) = change("eve@new.example", "wrong-password").await;
    assert_eq!((status, code_of(&body)), (401, "invalid_credentials"));
    let (status, body) = change("fay@example.com", "password-eve").await;
    assert_eq!((status, code_of(&body)), (409, "conflict"));
    let (status, body) = change("not an address", "password-eve").await;
    assert_eq!((status, code_of(&body)), (400, "validation_failed"));
    assert_eq!(change("eve@new.example", "password-eve").await.0, 202);

    let confirmation = sink.mails("eve@new.example", 1).await.remove(0);
    let notice = sink.mails("eve@example.com", 1).await.remove(0);
    assert!(notice.text.contains("eve@new.example"), "{}", notice.text);
    let (_, token) = link_in(&confirmation.text, "/confirm-email");
    // Nothing changed yet.
    assert_eq!(login(&app, "eve@example.com", "password-eve").await.0, 200);

    let (status, body) = app
        .call(
            "POST",
            "/api/v1/auth/change-email/confirm",
            None,
            &json!({"token": token}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["email"], "eve@new.example");
    assert_eq!(login(&app, "eve@new.example", "password-eve").await.0, 200);
    assert_eq!(login(&app, "eve@example.com", "password-eve").await.0, 401);
    let told = sink.mails("eve@example.com", 2).await;
    assert!(
        told.iter()
            .any(|m| m.text.contains("changed to eve@new.example")),
        "{told:#?}"
    );
    let (status, body) = app
        .call(
            "POST",
            "/api/v1/auth/change-email/confirm",
            None,
            &json!({"token": token}),
        )
        .await;
    assert_eq!((status, code_of(&body)), (400, "invalid_token"));
}
