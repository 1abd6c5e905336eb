//! Downloads: who may read an upload, signed links, ranges and ETags.

use serde_json::{Value, json};

use crate::files::{path_of, png, upload};
use crate::helpers::{TEST_SECRET, spawn_app};

#[actix_web::test]
async fn only_the_uploader_and_the_conversation_can_read_an_upload_by_token() {
    let app = spawn_app().await;
    let (ann, bob, eve) = (
        app.register("ann").await,
        app.register("bob").await,
        app.register("eve").await,
    );
    let id = app.conversation(&ann, &[&bob]).await;
    let body: Value = upload(
        &app,
        &ann,
        png(40, 30),
        "p.png",
        &[("conversation_id", id.to_string())],
    )
    .await
    .json()
    .await
    .unwrap();
    let path = path_of(body["url"].as_str().unwrap()).to_string();
    // Not attached yet: only the uploader.
    assert_eq!(app.get(&path, Some(&ann.access_token)).await.status(), 200);
    assert_eq!(app.get(&path, Some(&bob.access_token)).await.status(), 404);
    let message = app
        .post(
            &format!("/api/v1/conversations/{id}/messages"),
            Some(&ann.access_token),
            &json!({"attachment_id": body["id"]}),
        )
        .await;
    assert_eq!(message.status(), 201);
    // Attached: the participants.
    assert_eq!(app.get(&path, Some(&bob.access_token)).await.status(), 200);
    assert_eq!(app.get(&path, Some(&eve.access_token)).await.status(), 404);
    assert_eq!(
        app.get(&format!("{path}/thumbnail"), Some(&eve.access_token))
            .await
            .status(),
        404
    );
    assert_eq!(app.get(&path, None).await.status(), 401);
    assert_eq!(
        app.get("/api/v1/uploads/9999", Some(&ann.access_token))
            .await
            .status(),
        404
    );
}

#[actix_web::test]
async fn access_tokens_in_the_query_no_longer_open_downloads() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let body: Value = upload(&app, &ann, b"notes\n".to_vec(), "n.txt", &[])
        .await
        .json()
        .await
        .unwrap();
    let path = path_of(body["url"].as_str().unwrap()).to_string();
    let with_token = app
        .get(&format!("{path}?token={}", ann.access_token), None)
        .await;
    assert_eq!(with_token.status(), 401);
    let body: Value = with_token.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("signed link"),
        "{body}"
    );
    // A bearer download is checked every time.
    let bearer = app.get(&path, Some(&ann.access_token)).await;
    assert_eq!(bearer.headers()["cache-control"], "private, no-cache");
}

/// `path?exp=&sig=` signed with the test servers' secret, as the server would sign it.
fn signed(path: &str, exp: i64) -> String {
    let links = parlor::api::DownloadLinks::new(TEST_SECRET.as_bytes(), 1);
    // A link made at `exp - 1` with a lifetime of 1 second expires at `exp`.
    links.link(path, exp - 1)
}

#[actix_web::test]
async fn a_signed_link_opens_its_file_until_it_expires_and_nothing_else() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let body: Value = upload(&app, &ann, png(20, 20), "s.png", &[])
        .await
        .json()
        .await
        .unwrap();
    let url = body["url"].as_str().unwrap();
    let opened = app.get(url, None).await;
    assert_eq!(opened.status(), 200);
    // A browser may keep the bytes until the link expires.
    let cache = opened.headers()["cache-control"]
        .to_str()
        .unwrap()
        .to_string();
    let max_age: i64 = cache
        .strip_prefix("private, max-age=")
        .unwrap()
        .parse()
        .unwrap();
    assert!((3500..=3900).contains(&max_age), "{cache}");
    let path = path_of(url);
    let now = chrono::Utc::now().timestamp();
    assert_eq!(app.get(&signed(path, now + 60), None).await.status(), 200);
    // Expired a minute ago.
    let expired = app.get(&signed(path, now - 60), None).await;
    assert_eq!(expired.status(), 403);
    assert_eq!(crate::helpers::error_code(expired).await, "forbidden");
    // Moved expiry, tampered signature, another file's link.
    let moved = url.replace("exp=", "exp=1");
    assert_eq!(app.get(&moved, None).await.status(), 403);
    let last = if url.ends_with('A') { 'B' } else { 'A' };
    let tampered = format!("{}{last}", &url[..url.len() - 1]);
    assert_eq!(app.get(&tampered, None).await.status(), 403);
    let other = url.replacen(&format!("/uploads/{}", body["id"]), "/uploads/9999", 1);
    assert_eq!(app.get(&other, None).await.status(), 403);
    // The file's link does not open its thumbnail.
    let query = url.split_once('?').unwrap().1;
    let thumbnail = format!("{path}/thumbnail?{query}");
    assert_eq!(app.get(&thumbnail, None).await.status(), 403);
    assert_eq!(
        app.get(body["thumbnail_url"].as_str().unwrap(), None)
            .await
            .status(),
        200
    );
}

#[actix_web::test]
async fn downloads_support_range_and_etag() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bytes: Vec<u8> = b"0123456789abcdefghij\n".to_vec();
    let body: Value = upload(&app, &ann, bytes.clone(), "r.txt", &[])
        .await
        .json()
        .await
        .unwrap();
    let url = app.url(body["url"].as_str().unwrap());
    let partial = app
        .client
        .get(&url)
        .bearer_auth(&ann.access_token)
        .header("range", "bytes=5-9")
        .send()
        .await
        .unwrap();
    assert_eq!(partial.status(), 206);
    assert_eq!(
        partial.headers()["content-range"],
        format!("bytes 5-9/{}", bytes.len())
    );
    assert_eq!(partial.bytes().await.unwrap().to_vec(), b"56789");
    let full = app
        .client
        .get(&url)
        .bearer_auth(&ann.access_token)
        .send()
        .await
        .unwrap();
    assert!(
        full.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let etag = full.headers()["etag"].to_str().unwrap().to_string();
    let again = app
        .client
        .get(&url)
        .bearer_auth(&ann.access_token)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    let other = app
        .client
        .get(&url)
        .bearer_auth(&ann.access_token)
        .header("if-none-match", "\"nope\"")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 200);
}
