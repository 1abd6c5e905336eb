//! Test harness: a real server on port 0 with its own temporary SQLite file, a real HTTP client
//! and a real WebSocket client.

use std::time::Duration;

use actix_web::dev::ServerHandle;
use parlor::config::Settings;
use parlor::startup::Application;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

pub use crate::ws_client::{WsClient, handshake_status};

/// How long a test waits for an expected frame before failing.
pub const FRAME_TIMEOUT: Duration = Duration::from_secs(5);

/// A running server.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub address: String,
    /// The bound port.
    pub port: u16,
    /// The settings it runs with (database in `dir`).
    pub settings: Settings,
    /// HTTP client.
    pub client: reqwest::Client,
    /// Holds the database folder until the test ends.
    pub dir: std::sync::Arc<tempfile::TempDir>,
    handle: Option<ServerHandle>,
}

/// A registered user with live tokens.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: i64,
    #[allow(dead_code)]
    pub username: String,
    pub email: String,
    pub password: String,
    pub access_token: String,
    pub refresh_token: String,
}

/// The JWT secret of test servers, so a test can sign tokens of its own (other lifetimes).
pub const TEST_SECRET: &str = "test secret, thirty-two bytes or more, for tokens";

/// Settings for tests: port 0, a temporary database, bcrypt cost 4, generous rates (tests of a
/// limit set their own).
pub fn test_settings(dir: &tempfile::TempDir) -> Settings {
    let mut settings = Settings::default();
    settings.server.bind = "127.0.0.1:0".into();
    settings.server.workers = 2;
    settings.database.url = format!("sqlite://{}", dir.path().join("parlor.db").display());
    settings.uploads.dir = dir.path().join("uploads");
    settings.auth.bcrypt_cost = 4;
    settings.limits.messages_per_window = 10_000;
    settings.limits.api_requests_per_minute = 100_000;
    settings.limits.auth_attempts_per_ip_per_minute = 100_000;
    settings.limits.login_attempts_per_account_per_minute = 100_000;
    settings.uploads.uploads_per_minute = 100_000;
    settings.limits.ws_upgrades_per_ip_per_minute = 100_000;
    settings.limits.conversations_per_hour = 100_000;
    settings.realtime.commands_per_second = 100_000;
    settings.realtime.commands_burst = 100_000;
    settings.realtime.max_in_flight = 100_000;
    settings.auth.jwt_secret = TEST_SECRET.to_string().into();
    settings
}

/// The environment that gives a `parlor` child process the same generous limits.
pub const GENEROUS_ENV: [(&str, &str); 10] = [
    ("PARLOR__LIMITS__MESSAGES_PER_WINDOW", "100000"),
    ("PARLOR__LIMITS__API_REQUESTS_PER_MINUTE", "100000"),
    ("PARLOR__LIMITS__AUTH_ATTEMPTS_PER_IP_PER_MINUTE", "100000"),
    (
        "PARLOR__LIMITS__LOGIN_ATTEMPTS_PER_ACCOUNT_PER_MINUTE",
        "100000",
    ),
    ("PARLOR__LIMITS__WS_UPGRADES_PER_IP_PER_MINUTE", "100000"),
    ("PARLOR__LIMITS__CONVERSATIONS_PER_HOUR", "100000"),
    ("PARLOR__REALTIME__COMMANDS_PER_SECOND", "100000"),
    ("PARLOR__REALTIME__COMMANDS_BURST", "100000"),
    ("PARLOR__REALTIME__MAX_IN_FLIGHT", "100000"),
    ("PARLOR__AUTH__JWT_SECRET", TEST_SECRET),
];

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(customize: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = test_settings(&dir);
    customize(&mut settings);
    spawn_on(settings, std::sync::Arc::new(dir)).await
}

/// Starts a server with exactly `settings`, keeping `dir` alive.
pub async fn spawn_on(settings: Settings, dir: std::sync::Arc<tempfile::TempDir>) -> TestApp {
    let app = Application::build(settings.clone())
        .await
        .expect("application builds");
    let port = app.port();
    let handle = app.handle();
    actix_web::rt::spawn(app.run_until_stopped());
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        settings,
        client: reqwest::Client::new(),
        dir,
        handle: Some(handle),
    }
}

/// The real `parlor` binary running in a child process, on the database in `dir/data`.
pub struct ServerProcess {
    pub child: std::process::Child,
    pub app: TestApp,
}

impl ServerProcess {
    /// Starts `parlor serve` in `dir` on a free port and waits for its start-up log line.
    pub fn start(dir: std::sync::Arc<tempfile::TempDir>) -> Self {
        use std::io::BufRead;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_parlor"))
            .current_dir(dir.path())
            .env("PARLOR__SERVER__BIND", "127.0.0.1:0")
            .env("PARLOR__SERVER__WORKERS", "2")
            .env("PARLOR__AUTH__BCRYPT_COST", "4")
            .envs(GENEROUS_ENV)
            .env("RUST_LOG", "info")
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("parlor starts");
        let mut lines = std::io::BufReader::new(child.stderr.take().expect("stderr")).lines();
        let port = loop {
            let line = lines
                .next()
                .expect("server log ended before it listened")
                .expect("log");
            if let Some(rest) = line.split("listening on http://").nth(1) {
                let address = rest.split_whitespace().next().expect("address");
                break address
                    .rsplit(':')
                    .next()
                    .expect("port")
                    .parse::<u16>()
                    .expect("port");
            }
        };
        // Keep draining the log so the child never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        let mut settings = test_settings(&dir);
        settings.database.url = format!("sqlite://{}", dir.path().join("data/parlor.db").display());
        let app = TestApp {
            address: format!("http://127.0.0.1:{port}"),
            port,
            settings,
            client: reqwest::Client::new(),
            dir,
            handle: None,
        };
        Self { child, app }
    }

    /// Sends `signal` (`TERM`, `KILL`) and waits for the process to end; returns its status.
    pub fn signal_and_wait(mut self, signal: &str) -> std::process::ExitStatus {
        let status = std::process::Command::new("kill")
            .args([format!("-{signal}"), self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        self.child.wait().expect("child exits")
    }
}

impl TestApp {
    /// Stops the HTTP server gracefully.
    pub async fn stop(&self) {
        if let Some(handle) = &self.handle {
            handle.stop(true).await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> reqwest::Response {
        let mut req = self.client.post(self.url(path)).json(body);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        req.send().await.expect("request sent")
    }

    pub async fn post_raw(&self, path: &str, content_type: &str, body: &str) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body.to_string())
            .send()
            .await
            .expect("request sent")
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut req = self.client.get(self.url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        req.send().await.expect("request sent")
    }

    pub async fn delete(&self, path: &str, token: &str) -> reqwest::Response {
        self.client
            .delete(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request sent")
    }

    /// Registers `username` (email `username@example.com`, password `password-<username>`).
    pub async fn register(&self, username: &str) -> TestUser {
        let email = format!("{username}@example.com");
        let password = format!("password-{username}");
        let response = self
            .post(
                "/api/v1/auth/register",
                None,
                &json!({"email": email, "username": username, "password": password}),
            )
            .await;
        assert_eq!(response.status(), 201, "registering {username}");
        let body: Value = response.json().await.expect("json");
        TestUser {
            id: body["user"]["id"].as_i64().expect("id"),
            username: username.into(),
            email,
            password,
            access_token: body["access_token"].as_str().expect("token").into(),
            refresh_token: body["refresh_token"].as_str().expect("token").into(),
        }
    }

    /// Creates a user with `role` straight in the database (as `parlor user create` does) and
    /// logs them in.
    pub async fn create_with_role(&self, username: &str, role: parlor::domain::Role) -> TestUser {
        self.create_in(parlor::domain::DEFAULT_PROJECT, username, role);
        self.login(username, &format!("password-{username}")).await
    }

    /// A connection to the server's database, beside the server (as the CLI has).
    pub fn db(&self) -> diesel::SqliteConnection {
        use diesel::Connection;
        let path = self
            .settings
            .database
            .url
            .trim_start_matches("sqlite://")
            .to_string();
        let mut conn = diesel::SqliteConnection::establish(&path).expect("open db");
        diesel::connection::SimpleConnection::batch_execute(&mut conn, "PRAGMA busy_timeout=5000;")
            .expect("pragma");
        conn
    }

    /// Creates `username` (password `password-<username>`) with `role` in `project` straight
    /// in the database, creating the project if needed; returns the row.
    pub fn create_in(
        &self,
        project: parlor::domain::ProjectId,
        username: &str,
        role: parlor::domain::Role,
    ) -> parlor::db::models::UserRow {
        let mut conn = self.db();
        diesel::connection::SimpleConnection::batch_execute(
            &mut conn,
            &format!("INSERT OR IGNORE INTO projects (id, name) VALUES ({project}, 'p{project}');"),
        )
        .expect("project");
        let password = format!("password-{username}");
        let row = parlor::auth::Signup {
            project_id: project,
            email: &format!("{username}@example.com"),
            username,
            password: &password,
            display_name: None,
            role,
        }
        .into_row(4)
        .expect("valid user");
        parlor::db::queries::users::insert(&mut conn, &row).expect("insert user")
    }

    /// An access token for `user_id`, as the server would sign it, valid for `ttl_s` seconds.
    pub fn token(&self, user_id: i64, ttl_s: u64) -> String {
        use diesel::prelude::*;
        use parlor::db::schema::users;
        let row: parlor::db::models::UserRow = users::table
            .find(user_id)
            .select(parlor::db::models::UserRow::as_select())
            .first(&mut self.db())
            .expect("user row");
        parlor::auth::JwtKeys::new(TEST_SECRET.as_bytes(), ttl_s)
            .issue(&row)
            .expect("token")
    }

    pub async fn login(&self, username: &str, password: &str) -> TestUser {
        let response = self
            .post(
                "/api/v1/auth/login",
                None,
                &json!({"username": username, "password": password}),
            )
            .await;
        assert_eq!(response.status(), 200, "login {username}");
        let body: Value = response.json().await.expect("json");
        TestUser {
            id: body["user"]["id"].as_i64().expect("id"),
            username: username.into(),
            email: body["user"]["email"].as_str().unwrap_or_default().into(),
            password: password.into(),
            access_token: body["access_token"].as_str().expect("token").into(),
            refresh_token: body["refresh_token"].as_str().expect("token").into(),
        }
    }

    /// Creates a conversation as `creator` with `others`; returns its id.
    pub async fn conversation(&self, creator: &TestUser, others: &[&TestUser]) -> i64 {
        let ids: Vec<i64> = others.iter().map(|u| u.id).collect();
        let response = self
            .post(
                "/api/v1/conversations",
                Some(&creator.access_token),
                &json!({"participant_ids": ids}),
            )
            .await;
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.expect("json");
        body["id"].as_i64().expect("id")
    }

    /// Sends over REST and returns the response.
    pub async fn send_rest(
        &self,
        user: &TestUser,
        conversation: i64,
        content: &str,
    ) -> reqwest::Response {
        self.post(
            &format!("/api/v1/conversations/{conversation}/messages"),
            Some(&user.access_token),
            &json!({"content": content}),
        )
        .await
    }

    /// Sends over REST with a bare access token.
    pub async fn send_rest_with(
        &self,
        token: &str,
        conversation: i64,
        content: &str,
    ) -> reqwest::Response {
        self.post(
            &format!("/api/v1/conversations/{conversation}/messages"),
            Some(token),
            &json!({"content": content}),
        )
        .await
    }

    /// History as JSON.
    pub async fn history(&self, user: &TestUser, conversation: i64, query: &str) -> Vec<Value> {
        let response = self
            .get(
                &format!("/api/v1/conversations/{conversation}/messages{query}"),
                Some(&user.access_token),
            )
            .await;
        assert_eq!(response.status(), 200);
        response.json().await.expect("json")
    }

    /// Opens a WebSocket with the token in the query string; consumes `welcome`.
    pub async fn ws(&self, user: &TestUser) -> WsClient {
        let mut client = self
            .ws_request(&format!("?token={}", user.access_token), &[])
            .await
            .expect("ws connects");
        let welcome = client.recv().await;
        assert_eq!(welcome["type"], "welcome");
        client
    }

    /// Opens a WebSocket with a query string and extra headers; returns the handshake error.
    pub async fn ws_request(
        &self,
        query: &str,
        headers: &[(&str, &str)],
    ) -> Result<WsClient, tungstenite::Error> {
        let mut request = format!("ws://127.0.0.1:{}/api/v1/ws{query}", self.port)
            .into_client_request()
            .expect("request");
        for (name, value) in headers {
            request.headers_mut().insert(
                tungstenite::http::HeaderName::from_bytes(name.as_bytes()).expect("header"),
                value.parse().expect("header value"),
            );
        }
        let (stream, _) = tokio_tungstenite::connect_async(request).await?;
        Ok(WsClient::new(stream))
    }
}

/// The error code of a REST error body.
pub async fn error_code(response: reqwest::Response) -> String {
    let body: Value = response.json().await.expect("json error body");
    body["error"]["code"]
        .as_str()
        .expect("error.code")
        .to_string()
}
