//! The emoji of a reaction (docs/PROTOCOL.md §3, *Reactions*): a short emoji or a shortcode,
//! kept exactly as sent, so `👍` and `:+1:` are two different reactions.

use super::Invalid;

/// The longest emoji or shortcode, in bytes (a family emoji with skin tones fits).
pub const MAX_EMOJI_BYTES: usize = 32;

/// A valid reaction emoji: 1 to [`MAX_EMOJI_BYTES`] bytes, either
/// - a shortcode: letters, digits, `_`, `+` or `-`, optionally between colons (`:+1:`,
///   `thumbs_up`); or
/// - an emoji: characters of the Unicode emoji blocks (pictographs, symbols, dingbats, flags'
///   regional indicators), with the joiners, variation selectors, skin tones, keycaps and tags
///   that compose emoji sequences (`👍🏽`, `❤️`, `👩‍💻`, `🇩🇪`, `1️⃣`).
///
/// Whitespace, control characters, and letters of any script besides a shortcode's are
/// refused.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Emoji(String);

/// Pictographs and symbols that are (or start) emoji.
fn pictograph(c: char) -> bool {
    matches!(
        u32::from(c),
        0x00A9
            | 0x00AE
            | 0x203C
            | 0x2049
            | 0x2122
            | 0x2139
            | 0x2190..=0x21FF
            | 0x2300..=0x23FF
            | 0x24C2
            | 0x25A0..=0x25FF
            | 0x2600..=0x27BF
            | 0x2934..=0x2935
            | 0x2B00..=0x2BFF
            | 0x3030
            | 0x303D
            | 0x3297
            | 0x3299
            | 0x1F000..=0x1FAFF
    )
}

/// What composes emoji sequences: joiner, variation selectors, keycap, tags.
fn composer(c: char) -> bool {
    matches!(
        u32::from(c),
        0x200D | 0xFE0E | 0xFE0F | 0x20E3 | 0xE0020..=0xE007F
    )
}

fn shortcode(text: &str) -> bool {
    let inner = text
        .strip_prefix(':')
        .and_then(|t| t.strip_suffix(':'))
        .unwrap_or(text);
    !inner.is_empty()
        && inner
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '-'))
}

fn emoji(text: &str) -> bool {
    let keycap = text.contains('\u{20E3}');
    let mut chars = text.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| pictograph(c) || keycap && matches!(c, '0'..='9' | '#' | '*'));
    first_ok && chars.all(|c| pictograph(c) || composer(c))
}

impl Emoji {
    /// # Errors
    /// [`Invalid`] (`emoji: ...`) for anything else.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let fits = (1..=MAX_EMOJI_BYTES).contains(&raw.len());
        if fits && (shortcode(raw) || emoji(raw)) {
            return Ok(Self(raw.to_string()));
        }
        Err(Invalid::field(
            "emoji",
            "1 to 32 bytes: one emoji (👍, 👍🏽, 🇩🇪) or a shortcode of letters, digits, '_', '+' or '-'",
        ))
    }

    /// The emoji as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The emoji as sent.
    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emoji_and_shortcodes_are_accepted() {
        for ok in [
            "👍",
            "👍🏽",
            "❤️",
            "👩\u{200d}💻",
            "🇩🇪",
            "1️⃣",
            "#️⃣",
            "👨\u{200d}👩\u{200d}👧\u{200d}👦",
            ":+1:",
            "thumbs_up",
            "ok",
            "★",
        ] {
            assert!(Emoji::parse(ok).is_ok(), "{ok:?}");
        }
    }

    #[test]
    fn text_spaces_controls_and_long_values_are_refused() {
        for bad in [
            "",
            " ",
            "👍 ",
            "a b",
            "\u{7}",
            "héllo",
            "日本",
            "\u{200d}👍",
            "::",
            "x\u{202e}",
            &"a".repeat(33),
            &"👍".repeat(9),
        ] {
            assert!(Emoji::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Emoji::parse(&"a".repeat(32)).is_ok());
    }
}
