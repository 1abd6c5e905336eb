//! A parsed [`SearchText`] written in each backend's query language. Every term goes in double
//! quotes, so no character a user typed is syntax: FTS5 reads a quoted string as a phrase of
//! the tokens in it, PostgreSQL's `websearch_to_tsquery` as words that follow each other.
//! The text is then bound as a parameter, never put into SQL.

use crate::domain::SearchText;

/// A term as an FTS5 string (`"..."`, a `"` inside doubled).
fn fts5_string(term: &str) -> String {
    format!("\"{}\"", term.replace('"', "\"\""))
}

/// `text` as an FTS5 query expression (https://sqlite.org/fts5.html#full_text_query_syntax):
/// `(("a" AND "b c") NOT ("d" OR "e")) OR ("f")`; every operator is explicit and every
/// alternative parenthesised, so precedence never decides. Empty when `text` matches nothing
/// (never run an empty expression: FTS5 refuses it).
pub fn fts5(text: &SearchText) -> String {
    let alternatives: Vec<String> = text
        .alternatives()
        .iter()
        .map(|alternative| {
            let include: Vec<String> = alternative.include.iter().map(|t| fts5_string(t)).collect();
            let include = include.join(" AND ");
            if alternative.exclude.is_empty() {
                format!("({include})")
            } else {
                let exclude: Vec<String> =
                    alternative.exclude.iter().map(|t| fts5_string(t)).collect();
                format!("(({include}) NOT ({}))", exclude.join(" OR "))
            }
        })
        .collect();
    alternatives.join(" OR ")
}

/// `text` in `websearch_to_tsquery`'s own syntax, rewritten from the parse: `"a" "b c" -"d" or
/// "f"`. The terms carry no `"` (the parser splits on it), so each stays one quoted term, and
/// PostgreSQL gets exactly the alternatives SQLite gets.
pub fn websearch(text: &SearchText) -> String {
    let alternatives: Vec<String> = text
        .alternatives()
        .iter()
        .map(|alternative| {
            let include = alternative.include.iter().map(|t| format!("\"{t}\""));
            let exclude = alternative.exclude.iter().map(|t| format!("-\"{t}\""));
            include.chain(exclude).collect::<Vec<_>>().join(" ")
        })
        .collect();
    alternatives.join(" or ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(q: &str) -> SearchText {
        SearchText::parse(q).unwrap()
    }

    #[test]
    fn every_term_is_quoted_and_every_operator_explicit() {
        let text = parse("a \"b c\" -d -e or f NEAR(g*) col:h");
        assert_eq!(
            fts5(&text),
            "((\"a\" AND \"b c\") NOT (\"d\" OR \"e\")) OR (\"f\" AND \"NEAR(g*)\" AND \"col:h\")"
        );
        assert_eq!(
            websearch(&text),
            "\"a\" \"b c\" -\"d\" -\"e\" or \"f\" \"NEAR(g*)\" \"col:h\""
        );
        assert_eq!(fts5(&parse("(")), "");
        assert_eq!(websearch(&parse("(")), "");
    }
}
