//! Message search (issue 13), the query side: syntax that is text, refused queries, pages by
//! cursor and the rate limit.

use serde_json::{Value, json};

use crate::helpers::spawn_app_with;
use crate::search::{app, contents, search, search_raw, send};

#[actix_web::test]
async fn search_syntax_is_text_never_an_error() {
    let app = app().await;
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    let id = app.conversation(&ann, &[&bob]).await;
    send(&app, &ann, id, "hello world").await;
    send(&app, &ann, id, "hello there, NEAR the col:umn").await;
    send(&app, &ann, id, "goodbye world").await;
    for q in [
        "\"",
        "*",
        "(",
        ")",
        "NEAR",
        "NEAR(hello world)",
        "-",
        ":",
        "hello:",
        "col:umn",
        "^hello",
        "hello*",
        "\"unclosed",
        "AND",
        "OR",
        "NOT",
        "hello OR",
        "'",
        "\\",
        "%",
        "_",
        "{}",
        "+",
        "hello -",
        "-hello",
        "\"\"",
        "a\"b\"c",
        "hello NOT world",
        "😀",
    ] {
        search(&app, &bob, q, "").await;
    }
    assert_eq!(
        contents(&search(&app, &bob, "(", "").await),
        Vec::<String>::new()
    );
    assert_eq!(
        contents(&search(&app, &bob, "NEAR", "").await),
        ["hello there, NEAR the col:umn"]
    );
    // The few words that are syntax: quotes, `or` and a leading dash.
    assert_eq!(
        contents(&search(&app, &bob, "\"hello world\"", "").await),
        ["hello world"]
    );
    assert_eq!(
        contents(&search(&app, &bob, "\"world hello\"", "").await),
        Vec::<String>::new()
    );
    assert_eq!(
        contents(&search(&app, &bob, "hello -world", "").await),
        ["hello there, NEAR the col:umn"]
    );
    let either = search(&app, &bob, "goodbye or there", "").await;
    assert_eq!(either["results"].as_array().unwrap().len(), 2);
}

#[actix_web::test]
async fn bad_searches_are_refused_with_the_field_named() {
    let app = app().await;
    let ann = app.register("ann").await;
    for bad in [
        String::new(),
        "q=".into(),
        "q=%20%20".into(),
        format!("q={}", "x".repeat(201)),
        "q=a&limit=0".into(),
        "q=a&cursor=nonsense".into(),
        "q=a&colour=red".into(),
    ] {
        let (status, body) = search_raw(&app, &ann, &bad).await;
        assert_eq!(
            (status, &body["error"]["code"]),
            (400, &json!("validation_failed")),
            "{bad}: {body}"
        );
    }
    search(&app, &ann, &"x".repeat(200), "&limit=1000").await;
    let (status, _) = app
        .call("GET", "/api/v1/search/messages?q=a", None, &Value::Null)
        .await;
    assert_eq!(status, 401);
}

#[actix_web::test]
async fn pages_follow_the_cursor_apart_and_cover_every_hit() {
    let app = app().await;
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    let id = app.conversation(&ann, &[&bob]).await;
    let mut sent = Vec::new();
    for i in 0..25 {
        // Different lengths, so ranks differ.
        let filler = "word ".repeat(i % 7);
        sent.push(send(&app, &ann, id, &format!("lemur {filler}{i}")).await);
    }
    let mut seen: Vec<i64> = Vec::new();
    let mut ranks: Vec<f64> = Vec::new();
    let mut cursor = String::new();
    let mut sizes = Vec::new();
    loop {
        let page = search(&app, &bob, "lemur", &format!("&limit=10{cursor}")).await;
        let hits = page["results"].as_array().unwrap();
        sizes.push(hits.len());
        seen.extend(hits.iter().map(|h| h["message"]["id"].as_i64().unwrap()));
        ranks.extend(hits.iter().map(|h| h["rank"].as_f64().unwrap()));
        if sizes.len() == 1 {
            // Stored after the first page: later pages do not shift.
            send(&app, &ann, id, "lemur lemur lemur").await;
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(sizes, [10, 10, 5]);
    let mut sorted = seen.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), 25, "no hit twice");
    sent.sort_unstable();
    assert_eq!(sorted, sent, "every hit once");
    assert!(
        ranks.windows(2).all(|w| w[0] >= w[1]),
        "best first: {ranks:?}"
    );
    // A new search sees the new message.
    assert_eq!(
        search(&app, &bob, "lemur", "&limit=100").await["results"]
            .as_array()
            .unwrap()
            .len(),
        26
    );
}

#[actix_web::test]
async fn message_searches_are_rate_limited_per_user() {
    let app = spawn_app_with(|s| s.limits.message_searches_per_minute = 2).await;
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    assert_eq!(search_raw(&app, &ann, "q=a").await.0, 200);
    assert_eq!(
        search_raw(&app, &ann, "q=").await.0,
        400,
        "refused ones count too"
    );
    let (status, body) = search_raw(&app, &ann, "q=a").await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (429, &json!("rate_limited"))
    );
    assert!(body["error"]["message"].is_string());
    assert_eq!(
        search_raw(&app, &bob, "q=a").await.0,
        200,
        "bob has his own budget"
    );
}
