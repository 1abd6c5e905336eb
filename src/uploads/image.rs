//! Image dimensions and thumbnails, safe against decompression bombs.
//!
//! A small PNG can declare 11,500 × 11,500 pixels and take half a gigabyte to decode. So:
//! - the dimensions are read from the header alone, before any pixel is decoded;
//! - above `uploads.max_image_pixels` (40 MP by default) the image is stored without a
//!   thumbnail, its pixels never decoded;
//! - otherwise it is decoded under [`MAX_DECODE_BYTES`] of allocations (`image::Limits`); an
//!   image that needs more is also stored without a thumbnail;
//! - at most as many decodes run at once as there are cores ([`DecodeSlots`]), so concurrent
//!   uploads queue instead of multiplying the memory.
//!
//! (OWASP File Upload Cheat Sheet; the `image` crate's *Limits*.)

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::domain::Invalid;

/// Longest side of a thumbnail, in pixels.
pub const THUMBNAIL_MAX_PX: u32 = 320;
/// The decoder's allocation limit: 128 MiB.
pub const MAX_DECODE_BYTES: u64 = 128 * 1024 * 1024;

/// What [`inspect`] learnt of an image.
#[derive(Debug)]
pub struct ImageInfo {
    /// Width in pixels, from the header.
    pub width: u32,
    /// Height in pixels, from the header.
    pub height: u32,
    /// PNG bytes of the thumbnail; `None` when the image was too large to decode.
    pub thumbnail: Option<Vec<u8>>,
}

fn undecodable(err: &dyn std::fmt::Display) -> Invalid {
    Invalid::field("file", format_args!("not a decodable image ({err})"))
}

/// Reads an image's dimensions and, if it has at most `max_pixels` pixels and decodes within
/// [`MAX_DECODE_BYTES`], makes its thumbnail. CPU-bound: run it through [`DecodeSlots`].
///
/// # Errors
/// [`Invalid`] when the header cannot be read, or the pixels are corrupt.
pub fn inspect(path: &Path, max_pixels: u64) -> Result<ImageInfo, Invalid> {
    let open = || {
        image::ImageReader::open(path)
            .map_err(|e| undecodable(&e))?
            .with_guessed_format()
            .map_err(|e| undecodable(&e))
    };
    let (width, height) = open()?.into_dimensions().map_err(|e| undecodable(&e))?;
    let no_thumbnail = ImageInfo {
        width,
        height,
        thumbnail: None,
    };
    if u64::from(width) * u64::from(height) > max_pixels {
        return Ok(no_thumbnail);
    }
    let mut reader = open()?;
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let image = match reader.decode() {
        Ok(image) => image,
        Err(image::ImageError::Limits(_)) => return Ok(no_thumbnail),
        Err(err) => return Err(undecodable(&err)),
    };
    // Shrink only: a small image is its own thumbnail.
    let thumb = if width.max(height) > THUMBNAIL_MAX_PX {
        image.thumbnail(THUMBNAIL_MAX_PX, THUMBNAIL_MAX_PX)
    } else {
        image
    };
    let mut thumbnail = Vec::new();
    thumb
        .write_to(
            &mut std::io::Cursor::new(&mut thumbnail),
            image::ImageFormat::Png,
        )
        .map_err(|e| undecodable(&e))?;
    Ok(ImageInfo {
        width,
        height,
        thumbnail: Some(thumbnail),
    })
}

/// Bounds concurrent image decodes to the number of cores.
#[derive(Clone)]
pub struct DecodeSlots {
    slots: Arc<Semaphore>,
    max_pixels: u64,
}

impl DecodeSlots {
    /// One slot per core; images over `max_pixels` get no thumbnail.
    pub fn new(max_pixels: u64) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        Self {
            slots: Arc::new(Semaphore::new(cores)),
            max_pixels,
        }
    }

    /// [`inspect`] on the blocking pool, once a slot is free.
    ///
    /// # Errors
    /// [`inspect`]'s, or `None` when the blocking task could not run (shutdown).
    pub async fn inspect(&self, path: PathBuf) -> Option<Result<ImageInfo, Invalid>> {
        let slot = self.slots.clone().acquire_owned().await.ok()?;
        let max_pixels = self.max_pixels;
        // The slot goes with the decode, not with this future: a request dropped mid-decode
        // (its client went away) must not free a slot while its decode still runs.
        tokio::task::spawn_blocking(move || {
            let info = inspect(&path, max_pixels);
            drop(slot);
            info
        })
        .await
        .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(dir: &Path, width: u32, height: u32) -> PathBuf {
        let path = dir.join(format!("{width}x{height}.png"));
        let image = image::RgbImage::from_pixel(width, height, image::Rgb([200, 30, 30]));
        image.save(&path).unwrap_or_else(|e| panic!("{e}"));
        path
    }

    #[test]
    fn a_small_image_gets_its_dimensions_and_a_thumbnail() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let info =
            inspect(&png(dir.path(), 640, 400), 40_000_000).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((info.width, info.height), (640, 400));
        assert!(info.thumbnail.is_some());
    }

    #[test]
    fn an_image_over_the_pixel_limit_is_measured_but_never_decoded() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let info = inspect(&png(dir.path(), 300, 200), 50_000).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((info.width, info.height), (300, 200));
        assert!(info.thumbnail.is_none());
    }

    #[test]
    fn a_header_that_cannot_be_read_is_refused() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("bad.png");
        std::fs::write(
            &path,
            [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(inspect(&path, 40_000_000).is_err());
    }
}
