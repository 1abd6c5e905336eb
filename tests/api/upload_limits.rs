//! What an upload may cost the server: its owner's quota, the disk over time (the sweep of
//! unattached files), and memory (images are measured from their header, decoded only when
//! small enough).

use std::time::Duration;

use serde_json::{Value, json};

use crate::files::{path_of, png, stored_files, upload};
use crate::helpers::{error_code, spawn_app, spawn_app_with};

#[actix_web::test]
async fn an_empty_file_is_refused() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let response = upload(&app, &ann, Vec::new(), "empty.txt", &[]).await;
    assert_eq!(response.status(), 400);
    assert_eq!(error_code(response).await, "validation_failed");
    assert!(stored_files(&app.settings.uploads.dir).is_empty());
}

#[actix_web::test]
async fn uploads_past_the_users_quota_are_refused_with_413() {
    let app = spawn_app_with(|s| s.uploads.quota_bytes_per_user = 100).await;
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    let first = upload(&app, &ann, vec![b'a'; 60], "a.txt", &[]).await;
    assert_eq!(first.status(), 201);
    let second = upload(&app, &ann, vec![b'b'; 60], "b.txt", &[]).await;
    assert_eq!(second.status(), 413);
    assert_eq!(error_code(second).await, "quota_exceeded");
    // What fits still fits, and the quota is each user's own.
    assert_eq!(
        upload(&app, &ann, vec![b'c'; 40], "c.txt", &[])
            .await
            .status(),
        201
    );
    let full = upload(&app, &ann, b"d".to_vec(), "d.txt", &[]).await;
    assert_eq!(error_code(full).await, "quota_exceeded");
    assert_eq!(
        upload(&app, &bob, vec![b'e'; 60], "e.txt", &[])
            .await
            .status(),
        201
    );
}

#[actix_web::test]
async fn unattached_uploads_are_swept_with_their_files_and_attached_ones_stay() {
    let app = spawn_app_with(|s| {
        // Uploads older than ~0.7 s that nothing uses go, checked every 0.1 s.
        s.uploads.unattached_ttl_h = 0.0002;
        s.uploads.sweep_interval_s = 0.1;
    })
    .await;
    let ann = app.register("ann").await;
    let id = app.conversation(&ann, &[]).await;
    let kept: Value = upload(&app, &ann, png(30, 20), "kept.png", &[])
        .await
        .json()
        .await
        .unwrap();
    let sent = app
        .post(
            &format!("/api/v1/conversations/{id}/messages"),
            Some(&ann.access_token),
            &json!({"attachment_id": kept["id"]}),
        )
        .await;
    assert_eq!(sent.status(), 201);
    let gone: Value = upload(&app, &ann, b"forgotten\n".to_vec(), "f.txt", &[])
        .await
        .json()
        .await
        .unwrap();
    let gone_path = path_of(gone["url"].as_str().unwrap()).to_string();
    let kept_path = path_of(kept["url"].as_str().unwrap()).to_string();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while app.get(&gone_path, Some(&ann.access_token)).await.status() != 404 {
        assert!(tokio::time::Instant::now() < deadline, "never swept");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let files = stored_files(&app.settings.uploads.dir);
    let sha = |v: &Value| v["sha256"].as_str().unwrap().to_string();
    assert!(!files.iter().any(|f| f.ends_with(&sha(&gone))), "{files:?}");
    assert!(files.iter().any(|f| f.ends_with(&sha(&kept))), "{files:?}");
    assert_eq!(
        app.get(&kept_path, Some(&ann.access_token)).await.status(),
        200
    );
}

/// A PNG that declares `width` × `height` pixels and stores (nearly) none: a header and the
/// start of its pixel data, as a decompression bomb begins.
fn png_header(width: u32, height: u32) -> Vec<u8> {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xffff_ffffu32;
        for &byte in bytes {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xedb8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let start = out.len();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let crc = crc32(&out[start..]);
        out.extend_from_slice(&crc.to_be_bytes());
    }
    let mut png = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut png, b"IHDR", &ihdr);
    // zlib of one zero byte: far too little for the image, which nothing should notice.
    chunk(
        &mut png,
        b"IDAT",
        &[0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01],
    );
    chunk(&mut png, b"IEND", &[]);
    png
}

#[actix_web::test]
async fn a_decompression_bomb_is_measured_from_its_header_and_never_decoded() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    // 11,500 × 11,500: half a gigabyte of pixels if anything tried to decode it.
    let response = upload(&app, &ann, png_header(11_500, 11_500), "bomb.png", &[]).await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        (body["width"].as_i64(), body["height"].as_i64()),
        (Some(11_500), Some(11_500))
    );
    assert!(body.get("thumbnail_url").is_none(), "{body}");
    let thumbnail = app
        .get(
            &format!("{}/thumbnail", path_of(body["url"].as_str().unwrap())),
            Some(&ann.access_token),
        )
        .await;
    assert_eq!(thumbnail.status(), 404);
}

#[actix_web::test]
async fn images_over_max_image_pixels_get_no_thumbnail() {
    let app = spawn_app_with(|s| s.uploads.max_image_pixels = 1000).await;
    let ann = app.register("ann").await;
    let large: Value = upload(&app, &ann, png(40, 30), "large.png", &[])
        .await
        .json()
        .await
        .unwrap();
    assert!(large.get("thumbnail_url").is_none(), "{large}");
    assert_eq!(large["width"], 40);
    let small: Value = upload(&app, &ann, png(30, 30), "small.png", &[])
        .await
        .json()
        .await
        .unwrap();
    assert!(small["thumbnail_url"].is_string(), "{small}");
}
