//! Helpers of the upload and download tests.

use std::path::Path;

use crate::helpers::{TestApp, TestUser};

/// A PNG of `width` × `height` with a gradient (so it compresses like a photo would not).
pub fn png(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
    });
    let mut bytes = Vec::new();
    image
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .unwrap();
    bytes
}

/// Uploads `bytes` as the `file` part named `name`, with `extra` text parts.
pub async fn upload(
    app: &TestApp,
    user: &TestUser,
    bytes: Vec<u8>,
    name: &str,
    extra: &[(&str, String)],
) -> reqwest::Response {
    let mut form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(bytes)
            .file_name(name.to_string())
            .mime_str("image/png")
            .unwrap(),
    );
    for (key, value) in extra {
        form = form.text(key.to_string(), value.clone());
    }
    app.client
        .post(app.url("/api/v1/uploads"))
        .bearer_auth(&user.access_token)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// Files stored under the uploads folder (blobs and thumbnails), excluding the temp folder.
pub fn stored_files(root: &Path) -> Vec<String> {
    fn walk(dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n == "tmp") {
                    continue;
                }
                walk(&path, out);
            } else {
                out.push(path.display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(root, &mut out);
    out.sort();
    out
}

/// A link without its query string: the path a bearer token is checked against.
pub fn path_of(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}
