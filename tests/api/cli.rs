use std::process::Command;

use serde_json::Value;

use crate::helpers::spawn_app;

fn parlor(app: &crate::helpers::TestApp) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_parlor"));
    command
        .env("PARLOR__DATABASE__URL", &app.settings.database.url)
        .env("PARLOR__AUTH__BCRYPT_COST", "4")
        .current_dir(app.dir.path());
    command
}

#[actix_web::test]
async fn user_create_works_beside_a_running_server_and_prints_json() {
    let app = spawn_app().await;
    let output = parlor(&app)
        .args([
            "user",
            "create",
            "--email",
            "Agent@Example.com",
            "--username",
            "agent7",
            "--password",
            "agent-password",
            "--role",
            "agent",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let user: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(user["username"], "agent7");
    assert_eq!(user["email"], "agent@example.com");
    assert_eq!(user["role"], "agent");
    assert!(user.get("password_hash").is_none());

    let agent = app.login("agent7", "agent-password").await;
    let me: Value = app
        .get("/api/v1/auth/me", Some(&agent.access_token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "agent");

    let again = parlor(&app)
        .args([
            "user",
            "create",
            "--email",
            "x@example.com",
            "--username",
            "agent7",
            "--password",
            "agent-password",
            "--role",
            "agent",
        ])
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("username"));
}

#[actix_web::test]
async fn migrate_creates_a_database_without_starting_a_server() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("nested/parlor.db");
    let output = Command::new(env!("CARGO_BIN_EXE_parlor"))
        .arg("migrate")
        .env(
            "PARLOR__DATABASE__URL",
            format!("sqlite://{}", db.display()),
        )
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(db.exists());
}

#[actix_web::test]
async fn a_missing_config_file_is_a_clear_error() {
    let output = Command::new(env!("CARGO_BIN_EXE_parlor"))
        .args(["--config", "/nonexistent/parlor.toml", "migrate"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("does not exist"));
}
