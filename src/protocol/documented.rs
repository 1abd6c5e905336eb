//! docs/PROTOCOL.md §5 documents every frame: a table row `` | `type` | `` per frame type of
//! [`ClientCommand`] (§5.4) and [`ServerFrame`] (§5.3 for `ack` and `error`, §5.5 for events),
//! and documents no frame type that does not exist. The types are read from the enums' own
//! serde derives (the variant list serde gives for an unknown tag), so a variant added without
//! a row fails here. The OpenAPI document's frame schemas are checked against the same lists.

use std::collections::BTreeSet;

use super::{ClientCommand, ServerFrame};

const PROTOCOL: &str = include_str!("../../docs/PROTOCOL.md");

/// The tags serde lists in "unknown variant `?`, expected one of `a`, `b`, ...".
fn tags_from(error: &str) -> BTreeSet<String> {
    let (_, expected) = error
        .split_once("expected")
        .unwrap_or_else(|| panic!("not an unknown-variant error: {error}"));
    expected
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

fn client_types() -> BTreeSet<String> {
    let err = serde_json::from_str::<ClientCommand>(r#"{"type":"?","data":{}}"#)
        .expect_err("no frame type is ?");
    tags_from(&err.to_string())
}

fn server_types() -> BTreeSet<String> {
    let err =
        serde_json::from_str::<ServerFrame<'_>>(r#"{"type":"?"}"#).expect_err("no frame type is ?");
    tags_from(&err.to_string())
}

/// The text of the subsection headed `### <number> ...`, up to the next heading of its level
/// or above.
fn subsection(number: &str) -> &'static str {
    let heading = format!("\n### {number} ");
    let start = PROTOCOL
        .find(&heading)
        .unwrap_or_else(|| panic!("docs/PROTOCOL.md has no section {number}"))
        + 1;
    let rest = &PROTOCOL[start..];
    let end = rest[4..]
        .find("\n### ")
        .into_iter()
        .chain(rest.find("\n## "))
        .min()
        .map_or(rest.len(), |end| end + 4);
    &rest[..end.min(rest.len())]
}

/// The frame types of the table rows of `text`: lines starting `` | `type` | ``, but for the
/// header rows (`` | `type` | `data` | ``).
fn rows(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split_once("` |"))
        .map(|(name, _)| name.to_string())
        .filter(|name| !name.contains('`') && name != "type")
        .collect()
}

#[test]
fn serde_gives_every_frame_type() {
    let client = client_types();
    assert!(client.contains("conversation:join") && client.contains("reaction:remove"));
    let server = server_types();
    assert!(server.contains("welcome") && server.contains("ack") && server.contains("resync"));
}

#[test]
fn protocol_md_documents_every_client_frame_type_and_no_other() {
    assert_eq!(
        rows(subsection("5.4")),
        client_types(),
        "docs/PROTOCOL.md §5.4's table must have one row per ClientCommand type"
    );
}

#[test]
fn protocol_md_documents_every_server_frame_type_and_no_other() {
    let replies = rows(subsection("5.3"));
    let events = rows(subsection("5.5"));
    assert_eq!(
        replies.iter().map(String::as_str).collect::<Vec<_>>(),
        ["ack", "error"],
        "§5.3's table: ack and error"
    );
    let documented: BTreeSet<String> = replies.union(&events).cloned().collect();
    assert_eq!(
        documented,
        server_types(),
        "docs/PROTOCOL.md §5.3 and §5.5 must have one row per ServerFrame type"
    );
}

#[test]
fn the_openapi_frame_schemas_carry_every_frame_type() {
    let doc = serde_json::to_value(crate::http::openapi::document()).unwrap_or_default();
    for (schema, types) in [
        ("ClientCommand", client_types()),
        ("ServerFrame", server_types()),
    ] {
        let in_schema: BTreeSet<String> = doc["components"]["schemas"][schema]["oneOf"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|variant| variant["properties"]["type"]["enum"][0].as_str())
            .map(str::to_string)
            .collect();
        assert_eq!(in_schema, types, "{schema}");
    }
}
