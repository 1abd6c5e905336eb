use std::path::Path;

use parlor::config::Settings;
use secrecy::ExposeSecret;

fn shipped() -> Settings {
    Settings::load(Some(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/config.toml"
    ))))
    .unwrap()
}

#[test]
fn the_shipped_config_toml_matches_the_built_in_defaults() {
    let (file, defaults) = (shipped(), Settings::default());
    assert_eq!(format!("{file:?}"), format!("{defaults:?}"));
    assert_eq!(
        file.auth.jwt_secret.expose_secret(),
        defaults.auth.jwt_secret.expose_secret()
    );
    assert_eq!(defaults.server.bind, "127.0.0.1:8080");
    assert_eq!(defaults.database.url, "sqlite://data/parlor.db");
    assert_eq!(defaults.auth.access_token_ttl_s, 900);
    assert_eq!(defaults.auth.refresh_token_ttl_s, 604_800);
    assert_eq!(defaults.auth.bcrypt_cost, 12);
    assert_eq!(defaults.realtime.heartbeat_interval_s, 10.0);
    assert_eq!(defaults.realtime.client_timeout_s, 30.0);
    assert_eq!(defaults.realtime.typing_timeout_s, 6.0);
    assert_eq!(defaults.realtime.max_frame_bytes, 65_536);
    assert_eq!(defaults.limits.message_max_chars, 4000);
    assert_eq!(defaults.limits.messages_per_window, 5);
    assert_eq!(defaults.limits.message_window_s, 10);
}

#[test]
fn environment_variables_override_the_file() {
    // SAFETY: nextest runs each test in its own process, so no other thread reads the
    // environment concurrently.
    unsafe {
        std::env::set_var("PARLOR__SERVER__BIND", "127.0.0.1:9000");
        std::env::set_var("PARLOR__AUTH__BCRYPT_COST", "5");
        std::env::set_var(
            "PARLOR__SERVER__ALLOWED_ORIGINS",
            "self,https://chat.example.com",
        );
        std::env::set_var("PARLOR__REALTIME__TYPING_TIMEOUT_S", "2.5");
    }
    let settings = shipped();
    // SAFETY: as above.
    unsafe {
        for key in [
            "SERVER__BIND",
            "AUTH__BCRYPT_COST",
            "SERVER__ALLOWED_ORIGINS",
            "REALTIME__TYPING_TIMEOUT_S",
        ] {
            std::env::remove_var(format!("PARLOR__{key}"));
        }
    }
    assert_eq!(settings.server.bind, "127.0.0.1:9000");
    assert_eq!(settings.auth.bcrypt_cost, 5);
    assert_eq!(
        settings.server.allowed_origins,
        ["self", "https://chat.example.com"]
    );
    assert_eq!(settings.realtime.typing_timeout_s, 2.5);
}

#[test]
fn unknown_keys_and_bad_values_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let unknown = dir.path().join("unknown.toml");
    std::fs::write(&unknown, "[server]\nbindd = \"x\"\n").unwrap();
    assert!(Settings::load(Some(&unknown)).is_err());
    for (i, text) in [
        "[auth]\nbcrypt_cost = 99\n",
        "[uploads]\nsweep_interval_s = 0\n",
        "[realtime]\ncommands_per_second = 0\n",
        "[realtime]\nmax_replay = 0\n",
        "[server]\ntrusted_proxies = [\"not-an-ip\"]\n",
        "[server]\nbacklog = 0\n",
        "[server]\nbacklog = 70000\n",
        "[metrics]\nlisten = \"not-an-address\"\n",
        "[log]\nformat = \"xml\"\n",
    ]
    .into_iter()
    .enumerate()
    {
        let bad = dir.path().join(format!("bad{i}.toml"));
        std::fs::write(&bad, text).unwrap();
        assert!(Settings::load(Some(&bad)).is_err(), "{text}");
    }
}

#[test]
fn cluster_mode_refuses_sqlite_and_a_missing_secret_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        // SQLite (the default database) cannot be shared by several nodes.
        (
            "[cluster]\nredis_url = \"redis://127.0.0.1:6379\"\n[auth]\njwt_secret = \"0123456789abcdef0123456789abcdef\"\n",
            "postgres://",
        ),
        // Without a configured secret each node would mint its own.
        (
            "[cluster]\nredis_url = \"redis://127.0.0.1:6379\"\n[database]\nurl = \"postgres://postgres@127.0.0.1:5432/test\"\n",
            "auth.jwt_secret",
        ),
        (
            "[cluster]\nredis_url = \"redis://127.0.0.1:6379\"\nredis_prefix = \"a b\"\n[database]\nurl = \"postgres://postgres@127.0.0.1:5432/test\"\n[auth]\njwt_secret = \"0123456789abcdef0123456789abcdef\"\n",
            "cluster.redis_prefix",
        ),
    ];
    for (i, (text, says)) in cases.into_iter().enumerate() {
        let path = dir.path().join(format!("cluster{i}.toml"));
        std::fs::write(&path, text).unwrap();
        let err = Settings::load(Some(&path)).expect_err(text);
        let message = format!("{err:#}");
        assert!(message.contains(says), "{message}");
    }
    // The same settings with PostgreSQL and a secret start a cluster node.
    let ok = dir.path().join("ok.toml");
    std::fs::write(
        &ok,
        "[cluster]\nredis_url = \"redis://127.0.0.1:6379\"\n[database]\nurl = \"postgres://postgres@127.0.0.1:5432/test\"\n[auth]\njwt_secret = \"0123456789abcdef0123456789abcdef\"\n",
    )
    .unwrap();
    let settings = Settings::load(Some(&ok)).unwrap();
    assert_eq!(settings.cluster.redis_prefix, "parlor");
    assert_eq!(settings.cluster.gap_fill_ms, 200);
    assert_eq!(settings.cluster.presence_ttl_s, 15.0);
}
