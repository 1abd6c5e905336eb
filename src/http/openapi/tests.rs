//! The document against the router: every registered route is documented, and every
//! documented route is registered. The routes are read from the real router that
//! [`crate::http::routes`] builds: its resource patterns from the app's `ResourceMap`, and the
//! methods of each from what the resource answers (an unregistered method gets its 405).

use std::collections::BTreeSet;

use actix_web::http::{Method, StatusCode};
use actix_web::test as at;
use actix_web::{App, HttpRequest, HttpResponse, web};
use serde_json::Value;

/// The methods probed on every resource.
const METHODS: [Method; 5] = [
    Method::GET,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
];

/// A test-only resource that answers the app's resource map (`?path=`: the pattern matching
/// that path, if any; else the map's `Debug` form).
const PROBE: &str = "/__resource_map__";

async fn probe(req: HttpRequest, query: web::Query<Vec<(String, String)>>) -> HttpResponse {
    let map = req.resource_map();
    match query.iter().find(|(key, _)| key == "path") {
        Some((_, path)) => HttpResponse::Ok().body(map.match_pattern(path).unwrap_or_default()),
        None => HttpResponse::Ok().body(format!("{map:?}")),
    }
}

/// Every quoted pattern in the `Debug` form of a resource map: resources and scope prefixes.
fn patterns_in(dump: &str) -> BTreeSet<String> {
    dump.split("Single(\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_string)
        .collect()
}

/// A path that `pattern` matches: every `{parameter}` becomes `1`.
fn concrete(pattern: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in pattern.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push('1');
            }
            '}' => in_param = false,
            _ if !in_param => out.push(c),
            _ => {}
        }
    }
    out
}

/// (METHOD, pattern) of every route of the router.
async fn registered() -> BTreeSet<(String, String)> {
    let app = at::init_service(
        App::new()
            .service(web::resource(PROBE).to(probe))
            .configure(|cfg| crate::http::routes(cfg, 65_536)),
    )
    .await;
    let ask = |uri: String| at::TestRequest::get().uri(&uri).to_request();
    let dump = at::call_and_read_body(&app, ask(PROBE.to_string())).await;
    let pieces = patterns_in(&String::from_utf8_lossy(&dump));
    // A route's full pattern is its scope's prefix and its own: try every pair, keep those the
    // router recognises (a resource at the top level has no prefix).
    let mut full = BTreeSet::new();
    for prefix in std::iter::once("").chain(pieces.iter().map(String::as_str)) {
        for piece in &pieces {
            let candidate = concrete(&format!("{prefix}{piece}"));
            let query: String = form_urlencoded::Serializer::new(String::new())
                .append_pair("path", &candidate)
                .finish();
            let found = at::call_and_read_body(&app, ask(format!("{PROBE}?{query}"))).await;
            let found = String::from_utf8_lossy(&found).into_owned();
            if !found.is_empty() && found != PROBE {
                full.insert(found);
            }
        }
    }
    assert!(full.len() > 50, "too few routes found: {full:?}");
    let mut routes = BTreeSet::new();
    for pattern in full {
        for method in METHODS {
            let request = at::TestRequest::default()
                .method(method.clone())
                .uri(&concrete(&pattern))
                .to_request();
            let status = at::call_service(&app, request).await.status();
            if status != StatusCode::METHOD_NOT_ALLOWED {
                routes.insert((method.to_string(), pattern.clone()));
            }
        }
    }
    routes
}

/// (METHOD, path) of every operation of the document.
fn documented() -> BTreeSet<(String, String)> {
    let doc = serde_json::to_value(super::document()).unwrap_or_default();
    let mut routes = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for method in item.as_object().into_iter().flatten().map(|(m, _)| m) {
            routes.insert((method.to_uppercase(), path.clone()));
        }
    }
    routes
}

#[actix_web::test]
async fn every_route_of_the_router_is_documented_and_every_documented_route_exists() {
    // Each route not documented answers GET only (what `allowed_methods` says of them).
    let exceptions: BTreeSet<(String, String)> = super::NOT_DOCUMENTED
        .iter()
        .map(|path| ("GET".to_string(), path.to_string()))
        .collect();
    let routes = registered().await;
    let api: BTreeSet<_> = routes.difference(&exceptions).cloned().collect();
    let documented = documented();
    let missing: Vec<_> = api.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "routes missing from the OpenAPI document (add a #[utoipa::path] and list it in \
         http/openapi ApiDoc): {missing:?}"
    );
    let stale: Vec<_> = documented.difference(&api).collect();
    assert!(
        stale.is_empty(),
        "documented routes the router does not have: {stale:?}"
    );
    let gone: Vec<_> = exceptions.difference(&routes).collect();
    assert!(gone.is_empty(), "exceptions that are no routes: {gone:?}");
    let other_methods: Vec<_> = routes
        .iter()
        .filter(|(method, path)| super::NOT_DOCUMENTED.contains(&path.as_str()) && method != "GET")
        .collect();
    assert!(other_methods.is_empty(), "{other_methods:?}");
}

#[test]
fn the_document_is_openapi_3_1_with_unique_operation_ids_and_server_routes_tagged_apart() {
    let doc = serde_json::to_value(super::document()).unwrap_or_default();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for (method, operation) in item.as_object().into_iter().flatten() {
            let id = operation["operationId"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            assert!(ids.insert(id.clone()), "operationId {id} twice");
            let tags: Vec<&str> = operation["tags"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let server = path.starts_with("/api/v1/server/");
            assert_eq!(
                tags == ["server"],
                server,
                "{method} {path}: the server API, and only it, is tagged `server`: {tags:?}"
            );
            let responses = operation["responses"]
                .as_object()
                .cloned()
                .unwrap_or_default();
            assert!(
                responses.keys().any(|s| s.starts_with('2') || s == "101"),
                "{method} {path}: no success response"
            );
            if path.starts_with("/api/v1/") {
                for shared in ["429", "500", "503"] {
                    assert!(
                        responses.contains_key(shared),
                        "{method} {path}: no {shared}"
                    );
                }
            }
            let secured = operation["security"].as_array().is_some_and(|all| {
                !all.iter()
                    .any(|r| r.as_object().is_some_and(|r| r.is_empty()))
            });
            if secured {
                assert!(responses.contains_key("401"), "{method} {path}: no 401");
            }
        }
    }
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["api_key"]["in"], "header");
    assert_eq!(schemes["api_key"]["name"], "X-API-Key");
}

#[test]
fn the_error_code_schema_lists_and_describes_every_code() {
    let doc = serde_json::to_value(super::document()).unwrap_or_default();
    let code = &doc["components"]["schemas"]["ErrorCode"];
    let description = code["description"].as_str().unwrap_or_default();
    let codes: Vec<&str> = code["enum"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    assert!(codes.len() > 20, "{code}");
    for name in codes {
        assert!(
            description.contains(&format!("`{name}`")),
            "ErrorCode's description does not explain `{name}`"
        );
    }
}

#[actix_web::test]
async fn the_docs_page_loads_only_files_parlor_serves() {
    let app = at::init_service(App::new().configure(|cfg| crate::http::routes(cfg, 65_536))).await;
    let page =
        at::call_and_read_body(&app, at::TestRequest::get().uri("/api-docs").to_request()).await;
    let page = String::from_utf8_lossy(&page).into_owned();
    assert!(
        !page.contains("http:") && !page.contains("https:") && !page.contains("//"),
        "{page}"
    );
    let referenced: Vec<&str> = page
        .split(['"', '\''])
        .filter(|s| s.starts_with("/api-docs/"))
        .collect();
    assert_eq!(referenced.len(), 3, "{page}");
    for path in referenced {
        let response = at::call_service(&app, at::TestRequest::get().uri(path).to_request()).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
    for name in super::ui::asset_names() {
        assert!(
            page.contains(&format!("/api-docs/{name}")),
            "{name} is served but not used"
        );
    }
    let init = at::call_and_read_body(
        &app,
        at::TestRequest::get().uri("/api-docs/init.js").to_request(),
    )
    .await;
    let init = String::from_utf8_lossy(&init).into_owned();
    assert!(init.contains("validatorUrl: null") && init.contains("\"/api-docs/openapi.json\""));
    let spec = at::call_service(
        &app,
        at::TestRequest::get()
            .uri("/api-docs/openapi.json")
            .to_request(),
    )
    .await;
    assert_eq!(spec.status(), StatusCode::OK);
}

#[test]
fn rustdoc_links_become_code_spans_and_nothing_else_changes() {
    let cases = [
        ("→ [`ProjectView`]; 404", "→ `ProjectView`; 404"),
        (
            "1 to 32 bytes, [`Emoji`](crate::domain::Emoji))",
            "1 to 32 bytes, `Emoji`)",
        ),
        (
            "`{added: [{user_id, role}]}` and `[1, 2]`",
            "`{added: [{user_id, role}]}` and `[1, 2]`",
        ),
        ("a [`b` c] d", "a [`b` c] d"),
        ("ends with [`", "ends with [`"),
    ];
    for (text, plain) in cases {
        assert_eq!(super::without_rustdoc_links(text), plain, "{text}");
    }
    let served = super::document_json();
    assert!(!served.contains("[`"), "a rustdoc link is left");
    let parsed: Value = serde_json::from_str(served).unwrap_or_default();
    assert_eq!(parsed["openapi"], "3.1.0");
}
