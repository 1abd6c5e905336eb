//! What a message carries besides its own row (docs/PROTOCOL.md §4.3): the message it replies
//! to, the users it mentions, its reactions and whether it is pinned; and the shapes of the
//! reaction and pin endpoints.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::MessageView;
use crate::domain::{MessageId, UserId};

/// How many characters of the replied-to message's text a [`ReplyPreview`] shows.
pub const PREVIEW_CHARS: usize = 100;

/// The message a reply answers: `{id, seq, sender_id, preview, deleted}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReplyPreview {
    /// The replied-to message (of the same conversation).
    pub id: MessageId,
    /// Its seq.
    pub seq: i64,
    /// Its author.
    pub sender_id: UserId,
    /// The first [`PREVIEW_CHARS`] (100) characters of its current text (Unicode scalar
    /// values, cut without an ellipsis); null once it is deleted.
    pub preview: Option<String>,
    /// Whether it was deleted since.
    pub deleted: bool,
}

impl ReplyPreview {
    /// The preview of a message with `content`, deleted or not.
    pub fn new(id: MessageId, seq: i64, sender_id: UserId, content: &str, deleted: bool) -> Self {
        Self {
            id,
            seq,
            sender_id,
            preview: (!deleted).then(|| content.chars().take(PREVIEW_CHARS).collect()),
            deleted,
        }
    }
}

/// Whom a message mentions besides the users it names (`mentions`): `all` (`@all`: every
/// participant) or `here` (`@here`: the participants online when it was sent). They are told
/// and count it unread, without being listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum GroupMention {
    /// `@all`.
    All,
    /// `@here` (and no `@all`).
    Here,
}

impl GroupMention {
    /// The group mention of a message's text, if any.
    pub fn of(content: &str) -> Option<Self> {
        let found = crate::domain::mentions::parse(content);
        if found.all {
            Some(Self::All)
        } else if found.here {
            Some(Self::Here)
        } else {
            None
        }
    }
}

/// One emoji's reactions on a message: `{emoji, count, me}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReactionCount {
    /// The emoji or shortcode, as sent.
    pub emoji: String,
    /// How many users reacted with it (at least 1).
    pub count: i64,
    /// Whether the reader is one of them; null in frames that go to every joined session
    /// alike (`message:updated`), where there is no one reader: keep the value you hold.
    pub me: Option<bool>,
}

/// A message's replies, mentions, reactions and pin, read with it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extras {
    /// The message it replies to.
    pub reply_to: Option<ReplyPreview>,
    /// The users it mentions, ascending.
    pub mentions: Vec<UserId>,
    /// Its reactions, by the time each emoji was first used.
    pub reactions: Vec<ReactionCount>,
    /// Whether it is pinned.
    pub pinned: bool,
}

impl MessageView {
    /// The view with `extras` filled in.
    #[must_use]
    pub fn with_extras(mut self, extras: Extras) -> Self {
        self.reply_to = extras.reply_to;
        self.mentions = extras.mentions;
        self.reactions = extras.reactions;
        self.pinned = extras.pinned;
        self
    }
}

impl MessageView {
    /// The view as a frame for every joined session alike carries it: reactions' `me` null,
    /// since there is no one reader (borrowed when it has no reactions).
    pub fn for_everyone(&self) -> std::borrow::Cow<'_, MessageView> {
        if self.reactions.iter().all(|r| r.me.is_none()) {
            return std::borrow::Cow::Borrowed(self);
        }
        let mut shared = self.clone();
        for reaction in &mut shared.reactions {
            reaction.me = None;
        }
        std::borrow::Cow::Owned(shared)
    }
}

/// A pinned message in `GET /api/v1/conversations/{id}/pins`:
/// `{cursor, pinned_by, pinned_at, message}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PinView {
    /// The pin's place in the list: pass the last one's as `cursor` for the next page.
    pub cursor: i64,
    /// Who pinned it.
    pub pinned_by: UserId,
    /// When (RFC 3339 UTC).
    pub pinned_at: DateTime<Utc>,
    /// The message in its current state.
    pub message: MessageView,
}

/// Query of `GET /api/v1/conversations/{id}/pins`: `cursor`, `limit`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PinsQuery {
    /// Only pins older than this one (the `cursor` of the last pin of the previous page).
    #[serde(default)]
    pub cursor: Option<i64>,
    /// Page size, 1 to 100, default 50.
    #[serde(default)]
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}
