//! Spoofing-resistant text for names people see: display names, conversation titles and file
//! names must not hide characters (Unicode Technical Report #36, *Unicode Security
//! Considerations*, §2.4 and §3.1; the OWASP File Upload Cheat Sheet for file names).
//!
//! Refused anywhere in such a value:
//! - control characters (`Cc`);
//! - bidirectional formatting: U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069 (they
//!   make `invoice\u{202E}gnp.exe` read as `invoiceexe.png`);
//! - invisible and zero-width characters: U+00AD, U+034F, U+115F, U+1160, U+180E, U+200B,
//!   U+2060–U+2064, U+3164, U+FEFF, U+FFA0 (they make `ad​min` look like `admin`).
//!
//! The zero-width joiner and non-joiner (U+200D, U+200C) are allowed only between two non-ASCII
//! characters, where emoji sequences (👩‍💻) and scripts such as Persian need them; next to ASCII
//! they are refused too.

use super::Invalid;

fn always_refused(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00ad}'
                | '\u{034f}'
                | '\u{061c}'
                | '\u{115f}'
                | '\u{1160}'
                | '\u{180e}'
                | '\u{200b}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{3164}'
                | '\u{feff}'
                | '\u{ffa0}'
        )
}

/// The first character of `text` that the module's rules refuse, if any.
pub fn invisible_character(text: &str) -> Option<char> {
    let chars: Vec<char> = text.chars().collect();
    chars.iter().enumerate().find_map(|(i, &c)| {
        let joiner = matches!(c, '\u{200c}' | '\u{200d}');
        let between_non_ascii = || {
            let before = i.checked_sub(1).and_then(|j| chars.get(j));
            let after = chars.get(i + 1);
            matches!((before, after), (Some(b), Some(a)) if !b.is_ascii() && !a.is_ascii())
        };
        (always_refused(c) || joiner && !between_non_ascii()).then_some(c)
    })
}

/// Checks that `text`, the value of `field`, hides no characters.
///
/// # Errors
/// [`Invalid`] naming `field` and the code point, e.g.
/// `display_name: contains an invisible or bidirectional control character (U+202E)`.
pub fn visible_text(field: &str, text: &str) -> Result<(), Invalid> {
    match invisible_character(text) {
        Some(c) => Err(Invalid::field(
            field,
            format_args!(
                "contains an invisible or bidirectional control character (U+{:04X})",
                u32::from(c)
            ),
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bidi_overrides_and_zero_width_characters_are_refused() {
        assert_eq!(
            invisible_character("invoice\u{202e}gnp.exe"),
            Some('\u{202e}')
        );
        assert_eq!(invisible_character("ad\u{200b}min"), Some('\u{200b}'));
        assert_eq!(invisible_character("ad\u{200d}min"), Some('\u{200d}'));
        assert_eq!(invisible_character("\u{feff}bob"), Some('\u{feff}'));
        assert_eq!(invisible_character("tab\there"), Some('\t'));
        assert_eq!(invisible_character("a\u{2067}b"), Some('\u{2067}'));
    }

    #[test]
    fn ordinary_names_emoji_sequences_and_joining_scripts_pass() {
        assert_eq!(invisible_character("Ann Lee"), None);
        assert_eq!(invisible_character("Zoë Ø'Brien-Łukasz"), None);
        assert_eq!(invisible_character("👩\u{200d}💻 dev"), None);
        assert_eq!(invisible_character("می\u{200c}خواهم"), None);
        assert_eq!(invisible_character("Lieferschein März.txt"), None);
        assert!(visible_text("title", "Order #1042").is_ok());
    }
}
