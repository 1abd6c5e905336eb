//! Storing messages: each gets the next `seq` and `version` of its conversation in the
//! transaction that stores it, many messages per transaction (group commit), in a few
//! statements per batch whatever the number of conversations it spans.

use std::collections::{BTreeMap, HashMap, HashSet};

use diesel::prelude::{ExpressionMethods, QueryDsl};

use super::enrich;
use super::prepare::{RetryKeyOwned, find_retries, find_uploads, reserve};
use super::rows::{attach_uploads, insert_rows};
use crate::api::Extras;
use crate::db::models::{MessageRow, NewMessage, UploadRow};
use crate::db::queries::desk::{self, DeskTouch};
use crate::db::schema::conversations;
use crate::db::{DbConnection, DbError, now, on_conn};
use crate::domain::{ConversationId, MessageId, ProjectId, UploadId, UserId};

/// A message to store.
#[derive(Debug, Clone)]
pub struct MessageDraft {
    /// Tenant.
    pub project_id: ProjectId,
    /// Target conversation.
    pub conversation_id: ConversationId,
    /// Author (already checked to be a participant).
    pub sender_id: UserId,
    /// Validated text.
    pub content: String,
    /// Client-chosen idempotency key.
    pub client_msg_id: Option<String>,
    /// An upload of the sender's to attach (the message becomes kind `image` or `file`).
    pub attachment_id: Option<UploadId>,
    /// A system message (kind `system`) from the project's backend; the sender is the
    /// project's system user.
    pub system: bool,
    /// The message of the same conversation it answers.
    pub reply_to: Option<MessageId>,
    /// For `@here`: the users online when it was sent (`None`: nobody).
    pub online: Option<Vec<UserId>>,
    /// An internal note of the support team.
    pub private: bool,
    /// What it changes in its support conversation (`None`: nothing, other kinds).
    pub desk: Option<DeskTouch>,
    /// Whether its `/short_code` tokens expand to the project's canned responses
    /// ([`desk::expand`]): the team's messages and notes in support conversations.
    pub canned: bool,
}

/// The outcome of storing a [`MessageDraft`].
#[derive(Debug, Clone)]
pub struct Inserted {
    /// The stored row (the original one for a retried `client_msg_id`).
    pub row: MessageRow,
    /// True when `client_msg_id` matched an earlier message: nothing new was stored.
    pub duplicate: bool,
    /// Its reply's preview and mentions (and, for a retry, its reactions and pin).
    pub extras: Extras,
    /// Everyone a new message mentions (`@all`, `@here` included): they are told. Empty for
    /// a retry.
    pub mentioned: Vec<UserId>,
}

/// Outcomes of [`insert_all`], each with the index of its draft in the batch.
pub(super) type Outcomes = Vec<(usize, Result<Inserted, DbError>)>;

/// Stores `drafts` (each with its index in the batch) inside the caller's transaction, in a
/// fixed number of statements whatever the number of conversations they span:
/// 1. one lookup of the messages already stored under the batch's `client_msg_id`s
///    ([`FindRetries`]); a key already used by this sender in this conversation returns the
///    earlier message instead (unique index `messages_client_msg_id`);
/// 2. one lookup of the uploads to attach, when some are;
/// 3. one `UPDATE` reserving the next seqs and versions of every conversation
///    ([`ReserveSeqs`]; on PostgreSQL after locking the rows in id order);
/// 4. multi-row `INSERT`s of fixed sizes ([`insert_rows`]) for all new messages.
///
/// A message of a closed or missing conversation, or with a bad `attachment_id`, is refused
/// without disturbing the others.
///
/// # Errors
/// A query failure, which must roll the whole transaction back.
pub(super) fn insert_all(
    conn: &mut DbConnection,
    drafts: &[(usize, &MessageDraft)],
) -> Result<Outcomes, DbError> {
    let targets = enrich::reply_targets(conn, drafts)?;
    let (drafts, mut results) = enrich::check_replies(drafts, &targets);
    let drafts = drafts.as_slice();
    let stored = find_retries(conn, drafts)?;
    let uploads_by_id = find_uploads(conn, drafts)?;

    // Decide each draft's slot, conversation by conversation, in send order.
    let mut groups: BTreeMap<ConversationId, Vec<(usize, &MessageDraft)>> = BTreeMap::new();
    for &(index, draft) in drafts {
        groups
            .entry(draft.conversation_id)
            .or_default()
            .push((index, draft));
    }
    let mut claimed: HashSet<UploadId> = HashSet::new();
    let mut plans: Vec<Plan<'_>> = Vec::with_capacity(groups.len());
    for (conversation, group) in groups {
        plans.push(plan(
            conversation,
            group,
            &stored,
            &uploads_by_id,
            &mut claimed,
        ));
    }

    // Reserve seqs and versions for every conversation with new messages, in one statement.
    let counts: Vec<(ConversationId, i64)> = plans
        .iter()
        .filter(|plan| !plan.fresh.is_empty())
        .map(|plan| {
            let n = i64::try_from(plan.fresh.len()).unwrap_or(i64::MAX);
            (plan.conversation, n)
        })
        .collect();
    let at = now();
    let reserved = reserve(conn, &counts, at)?;
    let refused = refusals(conn, &counts, &reserved)?;

    // The team's `/short_code` tokens, expanded to canned responses.
    let candidates: Vec<(usize, usize)> = plans
        .iter()
        .enumerate()
        .flat_map(|(p, plan)| plan.fresh.iter().enumerate().map(move |(i, d)| (p, i, d)))
        .filter(|(_, _, d)| d.canned && d.content.contains('/'))
        .map(|(p, i, _)| (p, i))
        .collect();
    let texts: Vec<_> = candidates
        .iter()
        .map(|&(p, i)| {
            (
                plans[p].fresh[i].project_id,
                plans[p].fresh[i].content.as_str(),
            )
        })
        .collect();
    let mut expanded: HashMap<(usize, usize), String> = candidates
        .into_iter()
        .zip(desk::expand(conn, &texts)?)
        .filter_map(|(key, text)| Some((key, text?)))
        .collect();

    // Build and insert every new row, conversation by conversation, in seq order.
    let mut new_rows: Vec<NewMessage> = Vec::new();
    let mut sources: HashMap<(ConversationId, i64), &MessageDraft> = HashMap::new();
    for (p, plan) in plans.iter().enumerate() {
        let Some(&(end_seq, end_version)) = reserved.get(&plan.conversation) else {
            continue;
        };
        let n = i64::try_from(plan.fresh.len()).unwrap_or(i64::MAX);
        for (i, ((draft, seq), version)) in plan
            .fresh
            .iter()
            .zip(end_seq - n + 1..)
            .zip(end_version - n + 1..)
            .enumerate()
        {
            let upload = draft.attachment_id.and_then(|id| uploads_by_id.get(&id));
            sources.insert((plan.conversation, seq), *draft);
            new_rows.push(NewMessage {
                project_id: draft.project_id,
                conversation_id: plan.conversation,
                seq,
                sender_id: draft.sender_id,
                kind: if draft.system {
                    "system".into()
                } else {
                    upload.map_or("text", UploadRow::message_kind).into()
                },
                content: expanded
                    .remove(&(p, i))
                    .unwrap_or_else(|| draft.content.clone()),
                client_msg_id: draft.client_msg_id.clone(),
                created_at: at,
                attachment_id: upload.map(|u| u.id),
                attachment: upload.and_then(|u| serde_json::to_string(&u.stored_attachment()).ok()),
                version,
                created_version: version,
                reply_to_id: draft.reply_to,
                private: draft.private,
            });
        }
    }
    let inserted = insert_rows(conn, &new_rows)?;
    if inserted.len() != new_rows.len() {
        return Err(DbError::Commit(
            "insert returned an unexpected row count".into(),
        ));
    }
    // The outbox of webhooks, in this transaction: committed with the messages or not at all.
    // Internal notes are events of their own.
    let (notes, public): (Vec<MessageRow>, Vec<MessageRow>) =
        inserted.into_iter().partition(|row| row.private);
    crate::webhooks::enqueue_messages(conn, crate::webhooks::MESSAGE_CREATED, &public)?;
    crate::webhooks::enqueue_messages(conn, crate::webhooks::NOTE_CREATED, &notes)?;
    let inserted = public.into_iter().chain(notes);
    // What they change in their support conversations (the wait, a reopening).
    let mut touched: Vec<(ConversationId, DeskTouch)> = new_rows
        .iter()
        .filter_map(|row| {
            let source = sources.get(&(row.conversation_id, row.seq))?;
            source.desk.map(|touch| (row.conversation_id, touch))
        })
        .collect();
    touched.dedup();
    for (conversation, touch) in touched {
        desk::touch(conn, conversation, touch, at)?;
    }
    let mut by_seq: HashMap<(ConversationId, i64), MessageRow> = HashMap::new();
    for row in inserted {
        by_seq.insert((row.conversation_id, row.seq), row);
    }
    attach_uploads(conn, by_seq.values())?;
    // Notes mention nobody: a mention would tell (and count unread for) a customer.
    let made: Vec<_> = by_seq
        .iter()
        .filter(|(_, row)| !row.private)
        .filter_map(|(key, row)| sources.get(key).map(|draft| (row, *draft)))
        .collect();
    let mut extras = enrich::new_extras(conn, &made, &targets)?;

    // Every draft's outcome.
    for plan in plans {
        let refusal = refused.get(&plan.conversation).copied();
        // The seq of the i-th fresh message, when the conversation took them.
        let first_seq = reserved
            .get(&plan.conversation)
            .map(|(end_seq, _)| end_seq - i64::try_from(plan.fresh.len()).unwrap_or(i64::MAX) + 1);
        let row_of = |i: usize| -> Result<MessageRow, DbError> {
            let seq = first_seq.ok_or(DbError::NotFound)? + i64::try_from(i).unwrap_or(0);
            by_seq
                .get(&(plan.conversation, seq))
                .cloned()
                .ok_or_else(|| DbError::Commit("inserted row missing".into()))
        };
        for (index, slot) in plan.slots {
            let outcome = match (slot, refusal) {
                (Slot::Stored(row), _) => Ok(Inserted::retry(row)),
                (Slot::Invalid(problem), _) => Err(DbError::Invalid(problem)),
                (Slot::New(_) | Slot::Again(_), Some(refusal)) => Err(refusal.error()),
                (Slot::New(i), None) => row_of(i).map(|row| {
                    let (extras, mentioned) = extras.remove(&row.id).unwrap_or_default();
                    Inserted {
                        row,
                        duplicate: false,
                        extras,
                        mentioned,
                    }
                }),
                (Slot::Again(i), None) => row_of(i).map(Inserted::retry),
            };
            results.push((index, outcome));
        }
    }
    enrich::stored_extras(conn, &mut results)?;
    Ok(results)
}

/// Why a conversation took no messages.
#[derive(Debug, Clone, Copy)]
enum Refusal {
    Closed,
    Missing,
}

impl Refusal {
    fn error(self) -> DbError {
        match self {
            Self::Closed => DbError::ConversationClosed,
            Self::Missing => DbError::NotFound,
        }
    }
}

/// The conversations of `counts` that [`reserve`] skipped: closed, or missing.
fn refusals(
    conn: &mut DbConnection,
    counts: &[(ConversationId, i64)],
    reserved: &HashMap<ConversationId, (i64, i64)>,
) -> Result<HashMap<ConversationId, Refusal>, DbError> {
    use diesel::RunQueryDsl as _;
    let skipped: Vec<ConversationId> = counts
        .iter()
        .map(|(id, _)| *id)
        .filter(|id| !reserved.contains_key(id))
        .collect();
    let mut refused = HashMap::new();
    for chunk in skipped.chunks(500) {
        let existing: Vec<ConversationId> = on_conn!(conn, c => {
            conversations::table
                .filter(conversations::id.eq_any(chunk))
                .select(conversations::id)
                .load(c)
        })?;
        for id in chunk {
            let refusal = if existing.contains(id) {
                Refusal::Closed
            } else {
                Refusal::Missing
            };
            refused.insert(*id, refusal);
        }
    }
    Ok(refused)
}

/// Where each draft of a conversation ends up.
enum Slot {
    /// The i-th new message of its conversation.
    New(usize),
    /// A retry of the i-th new message, within this batch.
    Again(usize),
    /// A retry of a message stored earlier.
    Stored(MessageRow),
    /// Refused before anything is written: a bad `attachment_id`.
    Invalid(String),
}

/// One conversation's share of a batch: its new messages in send order, and each draft's slot
/// with its index in the batch.
struct Plan<'a> {
    conversation: ConversationId,
    fresh: Vec<&'a MessageDraft>,
    slots: Vec<(usize, Slot)>,
}

/// Decides the slot of each draft of one conversation, in send order.
fn plan<'a>(
    conversation: ConversationId,
    group: Vec<(usize, &'a MessageDraft)>,
    stored: &HashMap<RetryKeyOwned, MessageRow>,
    uploads_by_id: &HashMap<UploadId, UploadRow>,
    claimed: &mut HashSet<UploadId>,
) -> Plan<'a> {
    let mut fresh: Vec<&MessageDraft> = Vec::new();
    let mut first: HashMap<(UserId, &str), usize> = HashMap::new();
    let mut slots = Vec::with_capacity(group.len());
    for (index, draft) in group {
        let earlier = draft
            .client_msg_id
            .as_ref()
            .and_then(|key| stored.get(&(conversation, draft.sender_id, key.clone())));
        let again = draft
            .client_msg_id
            .as_deref()
            .and_then(|key| first.get(&(draft.sender_id, key)).copied());
        let retry = earlier.is_some() || again.is_some();
        if let Some(upload) = draft.attachment_id.filter(|_| !retry) {
            let problem = match uploads_by_id.get(&upload) {
                None => Some("unknown upload"),
                Some(row) if row.uploader_id != draft.sender_id => Some("unknown upload"),
                Some(row) if row.conversation_id.is_some_and(|c| c != conversation) => {
                    Some("the upload belongs to another conversation")
                }
                Some(row) if row.message_id.is_some() || claimed.contains(&upload) => {
                    Some("the upload is already attached to a message")
                }
                Some(_) => None,
            };
            if let Some(problem) = problem {
                slots.push((index, Slot::Invalid(format!("attachment_id: {problem}"))));
                continue;
            }
            claimed.insert(upload);
        }
        let slot = match (earlier, again) {
            (Some(row), _) => Slot::Stored(row.clone()),
            (None, Some(i)) => Slot::Again(i),
            (None, None) => {
                if let Some(key) = draft.client_msg_id.as_deref() {
                    first.insert((draft.sender_id, key), fresh.len());
                }
                fresh.push(draft);
                Slot::New(fresh.len() - 1)
            }
        };
        slots.push((index, slot));
    }
    Plan {
        conversation,
        fresh,
        slots,
    }
}
