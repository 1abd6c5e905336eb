//! Uploads: real multipart requests against the real server.

use std::path::Path;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::files::{path_of, png, stored_files, upload};
use crate::helpers::{TestUser, error_code, spawn_app, spawn_app_with};

#[actix_web::test]
async fn a_png_round_trips_byte_for_byte_with_size_and_thumbnail() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bytes = png(640, 400);
    let response = upload(&app, &ann, bytes.clone(), "holiday.png", &[]).await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["content_type"], "image/png");
    assert_eq!(body["size"], bytes.len());
    assert_eq!(body["sha256"], hex::encode(Sha256::digest(&bytes)));
    assert_eq!(body["original_name"], "holiday.png");
    assert_eq!(
        (body["width"].as_i64(), body["height"].as_i64()),
        (Some(640), Some(400))
    );
    let url = body["url"].as_str().unwrap();
    assert_eq!(path_of(url), format!("/api/v1/uploads/{}", body["id"]));
    assert!(url.contains("?exp=") && url.contains("&sig="), "{url}");

    // The signed link needs no token.
    let download = app.get(url, None).await;
    assert_eq!(download.status(), 200);
    let headers = download.headers().clone();
    assert_eq!(headers["content-type"], "image/png");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(
        headers["content-security-policy"],
        "default-src 'none'; sandbox"
    );
    let disposition = headers["content-disposition"].to_str().unwrap();
    assert!(disposition.starts_with("inline"), "{disposition}");
    assert!(
        disposition.contains("filename*=UTF-8''holiday.png"),
        "{disposition}"
    );
    assert_eq!(
        headers["etag"].to_str().unwrap(),
        format!("\"{}\"", body["sha256"].as_str().unwrap())
    );
    assert_eq!(download.bytes().await.unwrap().to_vec(), bytes);

    let thumbnail_url = body["thumbnail_url"].as_str().unwrap();
    assert_eq!(
        path_of(thumbnail_url),
        format!("/api/v1/uploads/{}/thumbnail", body["id"])
    );
    let thumb = app.get(thumbnail_url, None).await;
    assert_eq!(thumb.status(), 200);
    assert_eq!(thumb.headers()["content-type"], "image/png");
    let thumb = image::load_from_memory(&thumb.bytes().await.unwrap()).unwrap();
    assert_eq!((thumb.width(), thumb.height()), (320, 200));
}

#[actix_web::test]
async fn identical_files_are_stored_once() {
    let app = spawn_app().await;
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    let bytes = b"the same notes, twice\n".to_vec();
    let first: Value = upload(&app, &ann, bytes.clone(), "a.txt", &[])
        .await
        .json()
        .await
        .unwrap();
    let second: Value = upload(&app, &bob, bytes, "b.txt", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(first["id"], second["id"]);
    assert_eq!(first["sha256"], second["sha256"]);
    assert_eq!(first["content_type"], "text/plain");
    let files = stored_files(&app.settings.uploads.dir);
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].ends_with(first["sha256"].as_str().unwrap()));
}

#[actix_web::test]
async fn an_upload_over_the_limit_is_413_and_leaves_nothing_behind() {
    let app = spawn_app_with(|s| s.uploads.max_bytes = 4096).await;
    let ann = app.register("ann").await;
    let response = upload(&app, &ann, vec![b'a'; 20_000], "big.txt", &[]).await;
    assert_eq!(response.status(), 413);
    assert_eq!(error_code(response).await, "payload_too_large");
    assert!(
        stored_files(&app.settings.uploads.dir).is_empty(),
        "{:?}",
        stored_files(&app.settings.uploads.dir)
    );
    let just_right = upload(&app, &ann, vec![b'a'; 4096], "ok.txt", &[]).await;
    assert_eq!(just_right.status(), 201);
}

#[actix_web::test]
async fn disguised_markup_and_executables_are_refused_with_415() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let disguised: [&[u8]; 4] = [
        b"<!DOCTYPE html><html><script>alert(1)</script></html>",
        b"  <html><body onload=alert(1)></body></html>",
        b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>",
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00",
    ];
    for bytes in disguised {
        let response = upload(&app, &ann, bytes.to_vec(), "cat.png", &[]).await;
        assert_eq!(response.status(), 415, "{}", String::from_utf8_lossy(bytes));
        assert_eq!(error_code(response).await, "unsupported_media_type");
    }
    assert!(stored_files(&app.settings.uploads.dir).is_empty());
    let pdf = upload(
        &app,
        &ann,
        b"%PDF-1.7\n%\xe2\xe3\n1 0 obj\n".to_vec(),
        "report.pdf",
        &[],
    )
    .await;
    assert_eq!(pdf.status(), 201);
}

#[actix_web::test]
async fn malformed_upload_requests_are_400() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let send = |content_type: &'static str, body: &'static str| {
        app.client
            .post(app.url("/api/v1/uploads"))
            .bearer_auth(&ann.access_token)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    // Not multipart at all.
    assert_eq!(send("application/json", "{}").await.unwrap().status(), 400);
    // Multipart without a boundary.
    assert_eq!(
        send("multipart/form-data", "--x\r\n")
            .await
            .unwrap()
            .status(),
        400
    );
    // No `file` part.
    let no_file =
        "--XB\r\nContent-Disposition: form-data; name=\"conversation_id\"\r\n\r\n1\r\n--XB--\r\n";
    let response = send("multipart/form-data; boundary=XB", no_file)
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(error_code(response).await, "validation_failed");
    // Cut off in the middle of the file.
    let cut = "--XB\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nhello wor";
    let response = send("multipart/form-data; boundary=XB", cut).await.unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(error_code(response).await, "bad_request");
    // A bad conversation_id.
    let bad_id =
        "--XB\r\nContent-Disposition: form-data; name=\"conversation_id\"\r\n\r\nabc\r\n--XB--\r\n";
    assert_eq!(
        send("multipart/form-data; boundary=XB", bad_id)
            .await
            .unwrap()
            .status(),
        400
    );
    assert!(stored_files(&app.settings.uploads.dir).is_empty());
}

#[actix_web::test]
async fn file_names_never_decide_where_anything_is_written() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let names = [
        ("../../../../tmp/parlor-evil.txt", "parlor-evil.txt"),
        ("..\\..\\evil.txt", "evil.txt"),
    ];
    for (i, (name, expected)) in names.iter().enumerate() {
        let response = upload(&app, &ann, format!("content {i}\n").into_bytes(), name, &[]).await;
        assert_eq!(response.status(), 201, "{name}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["original_name"], *expected);
    }
    let long = "n".repeat(1000) + ".txt";
    let body: Value = upload(&app, &ann, b"long\n".to_vec(), &long, &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["original_name"].as_str().unwrap().chars().count(), 255);
    // A name that hides characters is refused, not silently changed.
    for name in ["report\u{202e}txt.exe", "pay\u{200b}roll.pdf"] {
        let response = upload(&app, &ann, b"x\n".to_vec(), name, &[]).await;
        assert_eq!(response.status(), 400, "{name:?}");
        assert_eq!(error_code(response).await, "validation_failed");
    }
    assert!(!Path::new("/tmp/parlor-evil.txt").exists());
    for file in stored_files(&app.settings.uploads.dir) {
        let name = Path::new(&file)
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            name.len() == 64 && name.chars().all(|c| c.is_ascii_hexdigit()),
            "{file}"
        );
    }
}

#[actix_web::test]
async fn an_image_message_reaches_the_other_participant_with_its_attachment() {
    let app = spawn_app().await;
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    let id = app.conversation(&ann, &[&bob]).await;
    let mut bob_ws = app.ws(&bob).await;
    bob_ws.join(id).await;
    let uploaded: Value = upload(&app, &ann, png(100, 50), "cat.png", &[])
        .await
        .json()
        .await
        .unwrap();
    let mut ann_ws = app.ws(&ann).await;
    let ack = ann_ws
        .call(
            "message:send",
            json!({"conversation_id": id, "attachment_id": uploaded["id"]}),
        )
        .await;
    assert_eq!(ack["type"], "ack", "{ack}");
    let message = &ack["data"]["message"];
    assert_eq!(message["kind"], "image");
    assert_eq!(message["content"], "");
    let expected = json!({"id": uploaded["id"], "content_type": "image/png", "size": uploaded["size"],
                          "original_name": "cat.png", "width": 100, "height": 50});
    // The links are signed each time the message is shown; everything else is the same.
    let without_links = |attachment: &Value| {
        let mut attachment = attachment.clone();
        let object = attachment.as_object_mut().unwrap();
        let url = object.remove("url").unwrap();
        let thumbnail_url = object.remove("thumbnail_url").unwrap();
        assert_eq!(
            path_of(url.as_str().unwrap()),
            path_of(uploaded["url"].as_str().unwrap())
        );
        assert_eq!(
            path_of(thumbnail_url.as_str().unwrap()),
            format!("/api/v1/uploads/{}/thumbnail", uploaded["id"])
        );
        attachment
    };
    assert_eq!(without_links(&message["attachment"]), expected);
    let received = bob_ws.recv_type("message:new").await;
    assert_eq!(
        without_links(&received["data"]["message"]["attachment"]),
        expected
    );
    let history = app.history(&bob, id, "").await;
    assert_eq!(without_links(&history[0]["attachment"]), expected);
    let image = app
        .get(history[0]["attachment"]["url"].as_str().unwrap(), None)
        .await;
    assert_eq!(image.status(), 200);
    // A file with a caption is kind `file`.
    let doc: Value = upload(&app, &ann, b"minutes\n".to_vec(), "notes.txt", &[])
        .await
        .json()
        .await
        .unwrap();
    let ack = ann_ws
        .call(
            "message:send",
            json!({"conversation_id": id, "content": "see notes", "attachment_id": doc["id"]}),
        )
        .await;
    assert_eq!(ack["data"]["message"]["kind"], "file");
    assert_eq!(ack["data"]["message"]["content"], "see notes");
}

#[actix_web::test]
async fn uploads_attach_only_for_their_uploader_once_and_in_one_conversation() {
    let app = spawn_app().await;
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    let first = app.conversation(&ann, &[&bob]).await;
    let second = app.conversation(&ann, &[&bob]).await;
    let body: Value = upload(
        &app,
        &ann,
        b"x\n".to_vec(),
        "x.txt",
        &[("conversation_id", first.to_string())],
    )
    .await
    .json()
    .await
    .unwrap();
    let attach = |user: &TestUser, conversation: i64| {
        let (path, token) = (
            format!("/api/v1/conversations/{conversation}/messages"),
            user.access_token.clone(),
        );
        let payload = json!({"attachment_id": body["id"]});
        let app = &app;
        async move { app.post(&path, Some(&token), &payload).await }
    };
    let response = attach(&bob, first).await;
    assert_eq!(response.status(), 400);
    assert!(
        response.json::<Value>().await.unwrap()["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("attachment_id")
    );
    assert_eq!(attach(&ann, second).await.status(), 400);
    assert_eq!(attach(&ann, first).await.status(), 201);
    assert_eq!(attach(&ann, first).await.status(), 400);
    // The failed attempts used up no seq.
    let history = app.history(&ann, first, "").await;
    assert_eq!(history.len(), 1);
    assert_eq!(history[0]["seq"], 1);
}

#[actix_web::test]
async fn uploads_are_rate_limited_per_user() {
    let app = spawn_app_with(|s| s.uploads.uploads_per_minute = 2).await;
    let ann = app.register("ann").await;
    for i in 0..2 {
        assert_eq!(
            upload(&app, &ann, format!("{i}\n").into_bytes(), "a.txt", &[])
                .await
                .status(),
            201
        );
    }
    let limited = upload(&app, &ann, b"3\n".to_vec(), "a.txt", &[]).await;
    assert_eq!(limited.status(), 429);
}

#[actix_web::test]
async fn a_flood_of_extra_parts_is_cut_off_at_the_size_limit() {
    let app = spawn_app_with(|s| s.uploads.max_bytes = 1024).await;
    let ann = app.register("ann").await;
    let part = "--XB\r\nContent-Disposition: form-data; name=\"junk\"\r\n\r\n\r\n";
    let body = part.repeat(40_000) + "--XB--\r\n";
    let response = app
        .client
        .post(app.url("/api/v1/uploads"))
        .bearer_auth(&ann.access_token)
        .header("content-type", "multipart/form-data; boundary=XB")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
}
