//! Smoke test of the load generator: every scenario in `--short` mode against a freshly spawned
//! server. Checks that the harness works and that nothing was lost or duplicated; no speed is
//! asserted (figures live in docs/BENCHMARKS.md).

use std::path::PathBuf;
use std::process::Command;

#[test]
fn every_scenario_runs_in_short_mode_and_loses_nothing() {
    let bench = PathBuf::from(env!("CARGO_BIN_EXE_parlor-bench"));
    let server = bench.with_file_name("parlor");
    assert!(
        server.exists(),
        "build the server first (cargo nextest run builds the workspace): {}",
        server.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("results.json");
    let output = Command::new(&bench)
        .args(["all", "--short", "--spawn"])
        .arg(&server)
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let results: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert!(results["ack"]["acked"].as_u64().unwrap() > 0, "{results}");
    assert_eq!(results["ack"]["errors"], 0);
    let fanout = &results["fanout"];
    assert!(
        fanout["delivered_per_s"].as_f64().unwrap() > 0.0,
        "{fanout}"
    );
    assert_eq!(fanout["lost"], 0, "{fanout}");
    assert_eq!(fanout["duplicated"], 0, "{fanout}");
    assert_eq!(fanout["errors"], 0, "{fanout}");
    let knee = &results["knee"];
    assert!(
        knee["steps"]
            .as_array()
            .is_some_and(|steps| !steps.is_empty()),
        "{knee}"
    );
    assert!(
        knee["steps"][0]["delivered"].as_u64().unwrap() > 0,
        "{knee}"
    );
    let idle = &results["idle"];
    assert_eq!(idle["stayed_connected"], idle["connections"], "{idle}");
    assert!(idle["server_rss_per_connection_kib"].is_number(), "{idle}");
}

#[test]
fn the_search_scenario_fills_a_database_and_searches_it_in_short_mode() {
    let bench = PathBuf::from(env!("CARGO_BIN_EXE_parlor-bench"));
    let server = bench.with_file_name("parlor");
    assert!(
        server.exists(),
        "build the server first: {}",
        server.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("results.json");
    let output = Command::new(&bench)
        .args(["search", "--short", "--spawn"])
        .arg(&server)
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let results: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let search = &results["search"];
    assert_eq!(search["messages"], 5_000, "{search}");
    for role in search["roles"].as_array().unwrap() {
        assert_eq!(role["searches"], 40, "{role}");
        assert_eq!(role["errors"], 0, "{role}");
        assert!(
            role["mean_hits_on_first_page"].as_f64().unwrap() > 0.0,
            "{role}"
        );
    }
}

#[test]
fn the_soak_scenario_runs_in_short_mode_and_passes_its_checks() {
    let bench = PathBuf::from(env!("CARGO_BIN_EXE_parlor-bench"));
    let server = bench.with_file_name("parlor");
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("soak.json");
    let output = Command::new(&bench)
        .args(["soak", "--short", "--spawn"])
        .arg(&server)
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let results: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let soak = &results["soak"];
    assert_eq!(soak["passed"], true, "{soak}");
    for busy in ["acked", "delivered", "reconnects", "rejoins", "uploads"] {
        assert!(soak[busy].as_u64().unwrap() > 0, "{busy}: {soak}");
    }
    assert_eq!(soak["acked"], soak["sent"], "{soak}");
    for none in [
        "lost",
        "duplicated",
        "resend_mismatches",
        "error_frames",
        "unexpected_closes",
    ] {
        assert_eq!(soak[none], 0, "{none}: {soak}");
    }
    assert_eq!(soak["server_log_errors"], 0, "{soak}");
    assert!(soak["samples"].as_array().unwrap().len() >= 4, "{soak}");
}
