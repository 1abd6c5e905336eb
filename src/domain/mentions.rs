//! Mentions in a message's text (docs/PROTOCOL.md §4.3, *Mentions*): `@username` names one
//! participant, `@all` every participant and `@here` the participants online at the time.
//!
//! A mention starts with `@` at the start of the text or after a character that cannot be part
//! of a username (so `ann@example.com` mentions nobody) and runs over the username characters
//! that follow (`A–Z a–z 0–9 _ . -`, as [`Username`](super::Username) allows). Trailing dots
//! are also tried without, so `thanks @bob.` mentions `bob` (or a user named `bob.`). Names
//! compare without regard to case; `all` and `here` are the two keywords, whoever bears those
//! names. Which names are users, and participants, is decided when the message is stored.

/// At most this many distinct names of one message are resolved; the rest mention nobody.
pub const MAX_MENTION_NAMES: usize = 50;

/// What a text mentions, before it is resolved to users.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mentions {
    /// Lowercased candidate usernames, distinct, in order of appearance (both forms of a name
    /// with trailing dots); at most [`MAX_MENTION_NAMES`].
    pub names: Vec<String>,
    /// `@all`: every participant.
    pub all: bool,
    /// `@here`: the participants online.
    pub here: bool,
}

impl Mentions {
    /// Whether the text mentions everyone or everyone online (which needs the policy's
    /// `RoomAction::MentionAll`).
    pub fn everyone(&self) -> bool {
        self.all || self.here
    }

    /// Whether anything at all is mentioned.
    pub fn any(&self) -> bool {
        self.everyone() || !self.names.is_empty()
    }
}

fn username_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// The mentions of `content`.
pub fn parse(content: &str) -> Mentions {
    let mut found = Mentions::default();
    if !content.contains('@') {
        return found;
    }
    let mut previous: Option<char> = None;
    let mut chars = content.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let starts = c == '@' && previous.is_none_or(|p| !username_char(p) && p != '@');
        previous = Some(c);
        if !starts {
            continue;
        }
        let rest = &content[at + 1..];
        let len = rest.find(|c: char| !username_char(c)).unwrap_or(rest.len());
        if len == 0 {
            continue;
        }
        let token = rest[..len].to_ascii_lowercase();
        let trimmed = token.trim_end_matches('.');
        match trimmed {
            "all" => found.all = true,
            "here" => found.here = true,
            _ => {
                for name in [token.as_str(), trimmed] {
                    let fits = (3..=32).contains(&name.len());
                    let room = found.names.len() < MAX_MENTION_NAMES;
                    if fits && room && !found.names.iter().any(|n| n == name) {
                        found.names.push(name.to_string());
                    }
                }
            }
        }
        // Skip the name itself: a second `@` inside it starts nothing.
        while chars.peek().is_some_and(|(i, _)| *i <= at + len) {
            if let Some((_, c)) = chars.next() {
                previous = Some(c);
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<String> {
        parse(text).names
    }

    #[test]
    fn names_are_found_after_a_separator_in_any_case() {
        assert_eq!(
            names("hi @Ann and @bob_2, see (@cid-x)"),
            ["ann", "bob_2", "cid-x"]
        );
        assert_eq!(names("@ann @ANN @ann"), ["ann"]);
        assert!(names("mail ann@example.com or @ or @@").is_empty());
        assert!(names("@ab is too short").is_empty());
    }

    #[test]
    fn trailing_dots_are_tried_both_ways() {
        assert_eq!(names("thanks @bob."), ["bob.", "bob"]);
        assert_eq!(names("@a.b.c"), ["a.b.c"]);
    }

    #[test]
    fn all_and_here_are_keywords() {
        let m = parse("@all, and @Here.");
        assert!(m.all && m.here && m.everyone());
        assert!(m.names.is_empty());
        assert!(!parse("@allison").all);
        assert!(!parse("x@all").all);
        assert!(!parse("no mentions").any());
    }

    #[test]
    fn at_most_fifty_names_count() {
        let text: String = (0..80).map(|i| format!("@user{i} ")).collect();
        assert_eq!(parse(&text).names.len(), MAX_MENTION_NAMES);
    }
}
