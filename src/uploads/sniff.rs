//! What a received file is: its media type from its first bytes, and a file name safe to keep.

use crate::domain::{Invalid, visible_text};

/// Bytes of the start of a file used to decide its type.
pub const SNIFF_BYTES: usize = 8192;

/// Decides the media type of a file from its first bytes (`head`). Text without a signature
/// counts as `text/plain` only if it is UTF-8 without NUL bytes and does not look like markup
/// (HTML, XML, SVG), so a renamed HTML page cannot pass as a picture or as text.
pub fn sniff(head: &[u8]) -> String {
    if let Some(kind) = infer::get(head) {
        return kind.mime_type().to_string();
    }
    let text = std::str::from_utf8(head)
        .or_else(|e| {
            // The cut at SNIFF_BYTES may split a character: accept a valid prefix.
            if e.error_len().is_none() {
                std::str::from_utf8(&head[..e.valid_up_to()])
            } else {
                Err(e)
            }
        })
        .ok();
    match text {
        Some(text) if !text.contains('\0') => {
            let start = text
                .trim_start_matches('\u{feff}')
                .trim_start()
                .to_ascii_lowercase();
            let markup = [
                "<!doctype",
                "<html",
                "<?xml",
                "<svg",
                "<script",
                "<head",
                "<body",
                "<iframe",
            ];
            if markup.iter().any(|tag| start.starts_with(tag)) {
                "text/html".into()
            } else {
                "text/plain".into()
            }
        }
        _ => "application/octet-stream".into(),
    }
}

/// A client file name made safe to keep and show: the last path component, without leading
/// dots, trimmed, at most 255 characters; `file` if nothing is left.
///
/// # Errors
/// [`Invalid`] naming `file` when the name hides characters (control, bidirectional or
/// invisible ones, [`visible_text`]): `invoice\u{202E}gnp.exe` would read as `invoiceexe.png`.
pub fn file_name(raw: &str) -> Result<String, Invalid> {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    visible_text("file", last)?;
    let trimmed = last.trim().trim_start_matches('.').trim();
    let name: String = trimmed.chars().take(255).collect();
    Ok(if name.is_empty() { "file".into() } else { name })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_the_content_not_the_name() {
        let png = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13];
        assert_eq!(sniff(&png), "image/png");
        assert_eq!(sniff(b"%PDF-1.7\n"), "application/pdf");
        assert_eq!(sniff(b"hello, world\n"), "text/plain");
        assert_eq!(sniff(b"  <!DOCTYPE html><html></html>"), "text/html");
        assert_eq!(
            sniff(b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
            "text/html"
        );
        assert_ne!(sniff(b"MZ\x90\x00\x03\x00\x00\x00"), "text/plain");
        assert_eq!(sniff(b"a\0b"), "application/octet-stream");
    }

    #[test]
    fn names_lose_paths_and_leading_dots_and_refuse_hidden_characters() {
        assert_eq!(file_name("../../etc/passwd").ok(), Some("passwd".into()));
        assert_eq!(file_name("..\\..\\win.ini").ok(), Some("win.ini".into()));
        assert_eq!(file_name(".hidden").ok(), Some("hidden".into()));
        assert_eq!(file_name("").ok(), Some("file".into()));
        assert_eq!(file_name("../").ok(), Some("file".into()));
        assert_eq!(
            file_name(&"x".repeat(1000)).map(|n| n.chars().count()).ok(),
            Some(255)
        );
        assert!(file_name("invoice\u{202e}gnp.exe").is_err());
        assert!(file_name("a\0b.png").is_err());
        assert!(file_name("pay\u{200b}roll.pdf").is_err());
    }
}
