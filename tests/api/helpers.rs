//! Test harness: a real server on port 0 with its own database (a temporary SQLite file, or a
//! schema of its own on the PostgreSQL server `PARLOR_TEST_DATABASE_URL` names), a real HTTP
//! client and a real WebSocket client.

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
    /// Holds the folder and the database until the test ends.
    pub dir: std::sync::Arc<TestDir>,
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

/// A test's storage: a temporary folder (uploads, an SQLite file) and its database, which on
/// PostgreSQL is a schema of its own, dropped when the last holder lets go.
pub struct TestDir {
    /// The database (dropped before the folder).
    pub database: parlor::db::scratch::ScratchDatabase,
    tmp: tempfile::TempDir,
}

impl TestDir {
    /// A new folder and an empty database (`data/parlor.db` in it on SQLite: the default
    /// `database.url` of a server started in the folder).
    pub fn new() -> std::sync::Arc<Self> {
        let tmp = tempfile::tempdir().expect("temp dir");
        let database = parlor::db::scratch::ScratchDatabase::new(tmp.path(), "data/parlor.db")
            .expect("test database");
        std::sync::Arc::new(Self { database, tmp })
    }

    /// A new folder and an empty PostgreSQL schema, on `PARLOR_TEST_DATABASE_URL` or else the
    /// local server (`postgres://postgres@127.0.0.1:5432/test`), for tests that need
    /// PostgreSQL whatever the run's backend.
    pub fn postgres() -> std::sync::Arc<Self> {
        let server = std::env::var(parlor::db::scratch::TEST_DATABASE_URL_VAR)
            .ok()
            .filter(|url| !url.trim().is_empty())
            .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".into());
        let tmp = tempfile::tempdir().expect("temp dir");
        let database =
            parlor::db::scratch::ScratchDatabase::on_postgres(&server).unwrap_or_else(|e| {
                panic!("this test needs PostgreSQL at {server} (set PARLOR_TEST_DATABASE_URL): {e}")
            });
        std::sync::Arc::new(Self { database, tmp })
    }

    /// The folder.
    pub fn path(&self) -> &std::path::Path {
        self.tmp.path()
    }

    /// Whether the tests run on PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.database.is_postgres()
    }
}

/// The JWT secret of test servers, so a test can sign tokens of its own (other lifetimes).
pub const TEST_SECRET: &str = "test secret, thirty-two bytes or more, for tokens";

/// Settings for tests: port 0, a temporary database, bcrypt cost 4, generous rates (tests of a
/// limit set their own).
pub fn test_settings(dir: &TestDir) -> Settings {
    let mut settings = Settings::default();
    settings.server.bind = "127.0.0.1:0".into();
    settings.server.workers = 2;
    settings.database.url = dir.database.url().to_string();
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
    settings.limits.account_emails_per_address_per_hour = 100_000;
    // Mail (a reset, a verification code) stays in the test's folder.
    settings.email.outbox_dir = dir.path().join("outbox");
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
    let dir = TestDir::new();
    let mut settings = test_settings(&dir);
    customize(&mut settings);
    spawn_on(settings, dir).await
}

/// Starts a server with exactly `settings`, keeping `dir` alive.
pub async fn spawn_on(settings: Settings, dir: std::sync::Arc<TestDir>) -> TestApp {
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

/// The real `parlor` binary running in a child process in `dir`, on the default
/// `database.url` (`data/parlor.db` in `dir`) or on `dir`'s PostgreSQL schema.
pub struct ServerProcess {
    pub child: std::process::Child,
    pub app: TestApp,
}

impl ServerProcess {
    /// Starts `parlor serve` in `dir` on a free port and waits for its start-up log line.
    pub fn start(dir: std::sync::Arc<TestDir>) -> Self {
        Self::start_with(dir, &[])
    }

    /// As [`ServerProcess::start`], with more environment (`PARLOR__…` settings).
    pub fn start_with(dir: std::sync::Arc<TestDir>, env: &[(&str, String)]) -> Self {
        use std::io::BufRead;
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_parlor"));
        if dir.is_postgres() {
            command.env("PARLOR__DATABASE__URL", dir.database.url());
        }
        command
            .current_dir(dir.path())
            .env("PARLOR__SERVER__BIND", "127.0.0.1:0")
            .env("PARLOR__SERVER__WORKERS", "2")
            .env("PARLOR__AUTH__BCRYPT_COST", "4")
            .envs(GENEROUS_ENV)
            .env("RUST_LOG", "info");
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("parlor starts");
        let mut lines = std::io::BufReader::new(child.stderr.take().expect("stderr")).lines();
        let port = loop {
            let line = lines
                .next()
                .expect("server log ended before it listened")
                .expect("log");
            // A text line or a JSON one (`log.format`): the address ends where its characters do.
            if let Some(rest) = line.split("listening on http://").nth(1) {
                let address: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ':')
                    .collect();
                break address
                    .rsplit(':')
                    .next()
                    .expect("port")
                    .parse::<u16>()
                    .expect("port");
            }
        };
        // Keep draining the log so the child never blocks on a full pipe; it is kept in the
        // folder (`node-PORT.log`) for a failing test to be read.
        let log = dir.path().join(format!("node-{port}.log"));
        std::thread::spawn(move || {
            use std::io::Write;
            let mut file = std::fs::File::create(log).ok();
            for line in lines.map_while(Result::ok) {
                if let Some(file) = file.as_mut() {
                    let _ = writeln!(file, "{line}");
                }
            }
        });
        let settings = test_settings(&dir);
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

    /// Sends `method path` with `body` as JSON and, when given, one header (`authorization`,
    /// `x-api-key`); answers the status and the JSON body (null when there is none).
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        header: Option<(&str, &str)>,
        body: &Value,
    ) -> (u16, Value) {
        let mut request = self
            .client
            .request(method.parse().expect("an HTTP method"), self.url(path))
            .json(body);
        if let Some((name, value)) = header {
            request = request.header(name, value);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
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
    pub fn db(&self) -> parlor::db::DbConnection {
        self.dir.database.connect().expect("open db")
    }

    /// Whether the server runs on PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.dir.is_postgres()
    }

    /// Breaks the database under the running server: on SQLite the file is wiped, on
    /// PostgreSQL the table `/health` probes is renamed away.
    pub fn break_database(&self) {
        match parlor::db::DatabaseUrl::parse(&self.settings.database.url).expect("url") {
            parlor::db::DatabaseUrl::Sqlite(path) => {
                for suffix in ["", "-wal"] {
                    std::fs::File::create(format!("{}{suffix}", path.display())).expect("wipe");
                }
            }
            parlor::db::DatabaseUrl::Postgres(_) => self
                .db()
                .batch_execute("ALTER TABLE projects RENAME TO projects_broken")
                .expect("rename"),
        }
    }

    /// From now on (`true`) every insert into `messages` fails inside the database, as a full
    /// disk or an I/O error would; `false` lifts it.
    pub fn refuse_inserts(&self, refuse: bool) {
        let sql = match (self.is_postgres(), refuse) {
            (false, true) => {
                "CREATE TRIGGER refuse BEFORE INSERT ON messages \
                 BEGIN SELECT RAISE(ABORT, 'simulated write failure'); END;"
            }
            (false, false) => "DROP TRIGGER refuse;",
            (true, true) => {
                "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS \
                 $$ BEGIN RAISE EXCEPTION 'simulated write failure'; END $$; \
                 CREATE TRIGGER refuse BEFORE INSERT ON messages \
                 FOR EACH ROW EXECUTE FUNCTION refuse();"
            }
            (true, false) => "DROP TRIGGER refuse ON messages; DROP FUNCTION refuse();",
        };
        self.db().batch_execute(sql).expect("trigger");
    }

    /// A connection holding a lock that makes every write of receipts wait (SQLite: the whole
    /// database; PostgreSQL: the `participants` table), until `ROLLBACK`.
    pub fn lock_for_writes(&self) -> parlor::db::DbConnection {
        let mut conn = self.db();
        let sql = if self.is_postgres() {
            "BEGIN; LOCK TABLE participants IN EXCLUSIVE MODE;"
        } else {
            "BEGIN EXCLUSIVE;"
        };
        conn.batch_execute(sql).expect("lock");
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
        conn.batch_execute(&format!(
            "INSERT INTO projects (id, name) VALUES ({project}, 'p{project}') ON CONFLICT DO NOTHING;"
        ))
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
        let row: parlor::db::models::UserRow = parlor::on_conn!(&mut self.db(), c => {
            users::table
                .find(user_id)
                .select(parlor::db::models::UserRow::as_select())
                .first(c)
        })
        .expect("user row");
        parlor::auth::JwtKeys::new(TEST_SECRET.as_bytes(), ttl_s)
            .issue(&row)
            .expect("token")
    }

    pub async fn login(&self, username: &str, password: &str) -> TestUser {
        self.login_with(json!({"username": username, "password": password}))
            .await
    }

    /// Logs `username` (made by [`TestApp::create_in`]) in to project `project`.
    pub async fn login_in(&self, project: i64, username: &str) -> TestUser {
        let password = format!("password-{username}");
        self.login_with(json!({"username": username, "password": password, "project_id": project}))
            .await
    }

    async fn login_with(&self, body: Value) -> TestUser {
        let username = body["username"].as_str().unwrap_or_default().to_string();
        let password = body["password"].as_str().unwrap_or_default().to_string();
        let response = self.post("/api/v1/auth/login", None, &body).await;
        assert_eq!(response.status(), 200, "login {username}");
        let body: Value = response.json().await.expect("json");
        TestUser {
            id: body["user"]["id"].as_i64().expect("id"),
            username,
            email: body["user"]["email"].as_str().unwrap_or_default().into(),
            password,
            access_token: body["access_token"].as_str().expect("token").into(),
            refresh_token: body["refresh_token"].as_str().expect("token").into(),
        }
    }

    /// Creates a conversation as `creator` with `others` (a new group each time, even for a
    /// pair that has one already); returns its id.
    pub async fn conversation(&self, creator: &TestUser, others: &[&TestUser]) -> i64 {
        let ids: Vec<i64> = others.iter().map(|u| u.id).collect();
        let response = self
            .post(
                "/api/v1/conversations",
                Some(&creator.access_token),
                &json!({"participant_ids": ids, "kind": "group"}),
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
        self.ws_with_token(&user.access_token).await
    }

    /// Opens a WebSocket with an access token and reads its `welcome`.
    pub async fn ws_with_token(&self, token: &str) -> WsClient {
        let mut client = self
            .ws_request(&format!("?token={token}"), &[])
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
