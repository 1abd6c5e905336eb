//! The web side's files (src/http/assets.rs): served with their types, ETags and a content
//! security policy; nothing outside the asset folders.

use crate::helpers::spawn_app;

#[actix_rt::test]
async fn pages_and_scripts_are_served_with_types_etags_and_a_policy() {
    let app = spawn_app().await;

    let page = app.get("/", None).await;
    assert_eq!(page.status(), 200);
    let headers = page.headers().clone();
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert_eq!(headers["cache-control"], "no-cache");
    let policy = headers["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("default-src 'none'") && policy.contains("connect-src 'self'"));
    let etag = headers["etag"].to_str().unwrap().to_owned();
    assert!(page.text().await.unwrap().contains("<html"));

    // Unchanged: 304 with no body.
    let again = app
        .client
        .get(app.url("/"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);
    let stale = app
        .client
        .get(app.url("/"))
        .header("if-none-match", "\"something-else\"")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 200);

    let readme = app.get("/clients/js/README.md", None).await;
    assert_eq!(readme.status(), 200);
    assert_eq!(
        readme.headers()["content-type"],
        "text/plain; charset=utf-8"
    );
    assert!(readme.headers().get("content-security-policy").is_none());
}

#[actix_rt::test]
async fn nothing_outside_the_asset_folders_is_reachable() {
    let app = spawn_app().await;
    for path in [
        "/clients/js/../../Cargo.toml",
        "/clients/js/%2e%2e/%2e%2e/Cargo.toml",
        "/vendor/../index.html",
        "/console/..%2f..%2fCargo.toml",
        "/widget/no-such-file.js",
        "/clients/js/no-such-file.js",
    ] {
        let response = app.get(path, None).await;
        assert_eq!(response.status(), 404, "{path}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_found", "{path}");
    }
    let post = app
        .post("/clients/js/README.md", None, &serde_json::json!({}))
        .await;
    assert_eq!(post.status(), 405);
}
