//! Message search (`GET /api/v1/search/messages`, docs/PROTOCOL.md): the query string, the
//! answer, the page cursor and the highlighted snippet.

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::MessageView;
use crate::domain::{ConversationId, Invalid, MessageId};

/// `GET /api/v1/search/messages` query: `q`, `conversation_id`, `cursor`, `limit`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MessageSearchQuery {
    /// What to look for (required; 1 to 200 characters; syntax in [`crate::domain::SearchText`]).
    #[serde(default)]
    #[param(required = true, min_length = 1, max_length = 200)]
    pub q: Option<String>,
    /// Only this conversation (404 when the caller may not read it).
    #[serde(default)]
    pub conversation_id: Option<ConversationId>,
    /// The `next_cursor` of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 20; larger is clamped).
    #[serde(default)]
    #[param(minimum = 1)]
    pub limit: Option<i64>,
}

/// A page of search results: `{"results": [...], "next_cursor": "..." | null}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MessageSearchResults {
    /// Hits, best first (equal ranks: newest first).
    pub results: Vec<MessageSearchHit>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// One message found: `{message, conversation_id, snippet, rank}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MessageSearchHit {
    /// The message, as history pages show it.
    pub message: MessageView,
    /// Its conversation (also in `message`), to group hits without opening them.
    pub conversation_id: ConversationId,
    /// Some of its text around the matching words, as HTML: the text is escaped (`&`, `<`,
    /// `>`, `"`, `'`) and each match is wrapped in `<mark>` … `</mark>`, the only tags it
    /// holds; `…` where the text was cut.
    pub snippet: String,
    /// How well it matches, higher is better; comparable within one search only.
    pub rank: f64,
}

/// Where the next page of a search starts: the hits to skip, and the newest message id the
/// search looks at (fixed by its first page, so messages stored since do not shift the
/// pages). Sent to clients as an opaque string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchCursor {
    /// Hits on the pages before.
    pub offset: i64,
    /// The newest message id when the first page was read.
    pub until: MessageId,
}

/// Version tag of the cursor's text.
const CURSOR_TAG: &str = "s1";

impl SearchCursor {
    /// The opaque form: URL-safe base64 of `s1:<offset>:<until>`.
    pub fn encode(&self) -> String {
        let text = format!("{CURSOR_TAG}:{}:{}", self.offset, self.until.0);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
    }

    /// Reads a cursor made by [`encode`](Self::encode).
    ///
    /// # Errors
    /// [`Invalid`] naming `cursor` for anything else.
    pub fn decode(cursor: &str) -> Result<Self, Invalid> {
        let invalid = || Invalid::field("cursor", "not a cursor this server gave");
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(cursor.trim())
            .map_err(|_| invalid())?;
        let text = String::from_utf8(bytes).map_err(|_| invalid())?;
        let mut parts = text.split(':');
        let (Some(CURSOR_TAG), Some(offset), Some(until), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid());
        };
        let offset: i64 = offset.parse().map_err(|_| invalid())?;
        let until: i64 = until.parse().map_err(|_| invalid())?;
        if offset < 0 || until < 0 {
            return Err(invalid());
        }
        Ok(Self {
            offset,
            until: MessageId(until),
        })
    }
}

/// A raw snippet as HTML: `start` and `end` (the storage layer's markers) become `<mark>` and
/// `</mark>`, always balanced and never nested, and everything else is escaped, so the result
/// is safe to insert into a page whatever the message says (OWASP XSS Prevention Cheat Sheet,
/// rule 1). A marker character that came from the message itself can at most add a highlight.
pub fn highlight(raw: &str, start: char, end: char) -> String {
    let mut out = String::with_capacity(raw.len() + 16);
    let mut open = false;
    for c in raw.chars() {
        match c {
            c if c == start => {
                if !open {
                    out.push_str("<mark>");
                    open = true;
                }
            }
            c if c == end => {
                if open {
                    out.push_str("</mark>");
                    open = false;
                }
            }
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    if open {
        out.push_str("</mark>");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_are_escaped_around_balanced_marks() {
        let (s, e) = ('\u{2}', '\u{3}');
        assert_eq!(
            highlight("a <script>\u{2}alert\u{3}('x') & \"y\"", s, e),
            "a &lt;script&gt;<mark>alert</mark>(&#39;x&#39;) &amp; &quot;y&quot;"
        );
        assert_eq!(
            highlight("\u{3}a\u{2}\u{2}b\u{3}\u{3}c\u{2}d", s, e),
            "a<mark>b</mark>c<mark>d</mark>"
        );
    }

    #[test]
    fn cursors_round_trip_and_strangers_are_refused() {
        let cursor = SearchCursor {
            offset: 40,
            until: MessageId(123),
        };
        assert_eq!(SearchCursor::decode(&cursor.encode()), Ok(cursor));
        for bad in ["", "x", "czE6LTE6MQ", "czI6MToy", "czE6MToyOjM", "czE6YToy"] {
            assert!(SearchCursor::decode(bad).is_err(), "{bad}");
        }
    }
}
