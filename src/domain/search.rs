//! A message search's text (`q` of `GET /api/v1/search/messages`), checked and parsed once, so
//! that both storage backends search for the same thing.
//!
//! The syntax is the one of PostgreSQL's `websearch_to_tsquery` (and of most web search
//! boxes); nothing a user types is an error:
//! - words are all required: `refund order` finds messages with both;
//! - `"quoted words"` must appear next to each other, in that order;
//! - `or` between two terms takes either (`refund or return`); a run of terms joined without
//!   `or` binds tighter: `a b or c` is `(a and b) or c`;
//! - `-word` or `-"quoted words"` leaves out the messages that contain it;
//! - any other character is text: a term whose text has no letter or digit at all (`(`, `*`,
//!   `:`) is dropped, and `or` at either end or twice in a row is dropped too.
//!
//! An alternative of only excluded terms is dropped as well: it would ask for every message
//! but a few (a scan of all history on every backend; FTS5 cannot even say it). A text that is
//! left with no alternative matches nothing.

use super::Invalid;

/// Longest `q`, in characters (after trimming).
pub const MAX_SEARCH_CHARS: usize = 200;

/// One alternative of a search: the messages with every `include` term and no `exclude` term.
/// Each term is a word or, when quoted, several words that must follow each other; its text is
/// as the user typed it (no `"` inside), never empty, with at least one letter or digit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alternative {
    /// Terms a message must contain (never empty).
    pub include: Vec<String>,
    /// Terms a message must not contain.
    pub exclude: Vec<String>,
}

/// A parsed search text: the messages matching any of [`alternatives`](Self::alternatives).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchText {
    alternatives: Vec<Alternative>,
}

/// A lexical unit of the search text.
#[derive(Debug, PartialEq, Eq)]
enum Token {
    /// A word or quoted words; `negated` after a `-`.
    Term { text: String, negated: bool },
    /// The `or` keyword.
    Or,
}

impl SearchText {
    /// Parses `q` per the module docs.
    ///
    /// # Errors
    /// [`Invalid`] naming `q` when it is empty or only whitespace, or longer than
    /// [`MAX_SEARCH_CHARS`] characters.
    pub fn parse(q: &str) -> Result<Self, Invalid> {
        let q = q.trim();
        if q.is_empty() {
            return Err(Invalid::field("q", "must not be empty"));
        }
        if q.chars().count() > MAX_SEARCH_CHARS {
            return Err(Invalid::field(
                "q",
                format_args!("must be at most {MAX_SEARCH_CHARS} characters"),
            ));
        }
        let mut alternatives = Vec::new();
        let mut current = Alternative {
            include: Vec::new(),
            exclude: Vec::new(),
        };
        for token in tokens(q) {
            match token {
                Token::Or => {
                    let done = std::mem::replace(
                        &mut current,
                        Alternative {
                            include: Vec::new(),
                            exclude: Vec::new(),
                        },
                    );
                    alternatives.push(done);
                }
                Token::Term {
                    text,
                    negated: false,
                } => current.include.push(text),
                Token::Term {
                    text,
                    negated: true,
                } => current.exclude.push(text),
            }
        }
        alternatives.push(current);
        alternatives.retain(|a| !a.include.is_empty());
        Ok(Self { alternatives })
    }

    /// The alternatives, in the order typed; empty when the text can match nothing.
    pub fn alternatives(&self) -> &[Alternative] {
        &self.alternatives
    }

    /// Whether the text can match nothing (no alternative with a term to find).
    pub fn matches_nothing(&self) -> bool {
        self.alternatives.is_empty()
    }
}

/// Whether a term's text has something to search for.
fn searchable(text: &str) -> bool {
    text.chars().any(char::is_alphanumeric)
}

/// Splits `q` into terms and `or`s; drops terms with nothing to search for, and `or`s that
/// join nothing.
fn tokens(q: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut chars = q.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut negated = false;
        if c == '-' {
            chars.next();
            match chars.peek() {
                Some(&next) if !next.is_whitespace() => negated = true,
                _ => continue,
            }
        }
        let quoted = chars.peek() == Some(&'"');
        let mut text = String::new();
        if quoted {
            chars.next();
            for c in chars.by_ref() {
                if c == '"' {
                    break;
                }
                text.push(c);
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || c == '"' {
                    break;
                }
                text.push(c);
                chars.next();
            }
        }
        if !quoted && !negated && text.eq_ignore_ascii_case("or") {
            out.push(Token::Or);
        } else if searchable(&text) {
            out.push(Token::Term { text, negated });
        }
    }
    // An `or` joins two terms: drop the ones at either end and repeated ones.
    let mut joined: Vec<Token> = Vec::with_capacity(out.len());
    for token in out {
        match token {
            Token::Or if !matches!(joined.last(), Some(Token::Term { .. })) => {}
            other => joined.push(other),
        }
    }
    if joined.last() == Some(&Token::Or) {
        joined.pop();
    }
    joined
}

#[cfg(test)]
mod tests {
    use super::*;

    type Alt = (Vec<String>, Vec<String>);

    fn alternatives(q: &str) -> Vec<Alt> {
        SearchText::parse(q)
            .unwrap()
            .alternatives()
            .iter()
            .map(|a| (a.include.clone(), a.exclude.clone()))
            .collect()
    }

    fn alt(include: &[&str], exclude: &[&str]) -> Alt {
        let owned = |terms: &[&str]| terms.iter().map(|t| t.to_string()).collect();
        (owned(include), owned(exclude))
    }

    #[test]
    fn words_are_all_required_and_quotes_keep_words_together() {
        assert_eq!(
            alternatives("refund  order"),
            [alt(&["refund", "order"], &[])]
        );
        assert_eq!(
            alternatives("\"sad cat\" fat"),
            [alt(&["sad cat", "fat"], &[])]
        );
        assert_eq!(alternatives("a\"b c\"d"), [alt(&["a", "b c", "d"], &[])]);
        assert_eq!(
            alternatives("\"unclosed quote"),
            [alt(&["unclosed quote"], &[])]
        );
        assert_eq!(alternatives("foo-bar"), [alt(&["foo-bar"], &[])]);
    }

    #[test]
    fn or_splits_alternatives_and_dashes_exclude() {
        assert_eq!(
            alternatives("a b OR c -d -\"e f\""),
            [alt(&["a", "b"], &[]), alt(&["c"], &["d", "e f"])]
        );
        assert_eq!(
            alternatives("or a or or b or"),
            [alt(&["a"], &[]), alt(&["b"], &[])]
        );
        assert_eq!(
            alternatives("\"or\""),
            [alt(&["or"], &[])],
            "a quoted or is a word"
        );
        assert_eq!(
            alternatives("a - b"),
            [alt(&["a", "b"], &[])],
            "a lone dash is nothing"
        );
    }

    #[test]
    fn punctuation_and_exclusions_alone_match_nothing() {
        for q in [
            "(", "*", ":", "\"", "- -", "-crab", "-a or -b", "\"\"", "or", "-\"",
        ] {
            assert!(SearchText::parse(q).unwrap().matches_nothing(), "{q}");
        }
        assert_eq!(alternatives("NEAR("), [alt(&["NEAR("], &[])]);
        assert_eq!(alternatives("a or -b"), [alt(&["a"], &[])]);
    }

    #[test]
    fn empty_and_long_texts_are_refused() {
        assert!(SearchText::parse("").is_err());
        assert!(SearchText::parse(" \t\n").is_err());
        assert!(SearchText::parse(&"é".repeat(MAX_SEARCH_CHARS)).is_ok());
        let long = SearchText::parse(&"é".repeat(MAX_SEARCH_CHARS + 1));
        assert_eq!(
            long.map_err(|e| e.0),
            Err("q: must be at most 200 characters".into())
        );
    }
}
