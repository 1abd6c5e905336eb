use std::process::Command;

use serde_json::Value;

use crate::helpers::spawn_app;

/// The `parlor` binary, on `app`'s database.
pub(crate) fn parlor(app: &crate::helpers::TestApp) -> Command {
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
    let dir = crate::helpers::TestDir::new();
    // On SQLite, in a folder that does not exist yet.
    let file = dir.path().join("nested/parlor.db");
    let url = if dir.is_postgres() {
        dir.database.url().to_string()
    } else {
        format!("sqlite://{}", file.display())
    };
    let output = Command::new(env!("CARGO_BIN_EXE_parlor"))
        .arg("migrate")
        .env("PARLOR__DATABASE__URL", &url)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(dir.is_postgres() || file.exists());
    // The schema is there, with the default project.
    let settings = parlor::config::DatabaseSettings {
        url,
        ..Default::default()
    };
    let mut conn = parlor::db::connect(&settings).unwrap();
    use diesel::prelude::*;
    let query = parlor::db::schema::projects::table.count();
    let projects: i64 = parlor::on_conn!(&mut conn, c => query.get_result(c)).unwrap();
    assert_eq!(projects, 1);
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
