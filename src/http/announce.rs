//! Membership changes in the history: after a change, a system message from the project's
//! system user says what happened ("ann added bob", "bob left", "ann made bob a moderator"),
//! with its own seq, so a client resuming with `since_seq` learns of it and a history page
//! shows it. Channels announce removals, bans and role changes, not each follower coming or
//! going (19,000 followers would otherwise flood each other). docs/PROTOCOL.md, *Membership*.

use super::server_conversations::system_actor;
use crate::actors::room::PostMessage;
use crate::actors::room_registry::send_to_room;
use crate::db::queries::membership::{Changed, MemberChange};
use crate::db::queries::{conversations, users};
use crate::domain::{ConversationId, ConversationKind, MemberRole, ProjectId, UserId};
use crate::http::state::AppState;

/// Most names a system message lists; past it, it counts ("ann added 12 people").
const MAX_NAMES: usize = 5;

/// What to announce: who did it, what they asked, what it did.
pub(super) struct Announcement<'a> {
    /// Who made the change.
    pub by: UserId,
    /// What they asked.
    pub change: &'a MemberChange,
    /// What it did.
    pub changed: &'a Changed,
}

/// Posts the system messages that tell `what` in conversation `id`. A failure (the
/// conversation closed meanwhile, the database busy) is logged, not returned: the change is
/// stored already, and its live events went out.
pub(super) async fn announce(
    state: &AppState,
    project: ProjectId,
    id: ConversationId,
    what: Announcement<'_>,
) {
    let texts = match texts(state, id, &what).await {
        Ok(texts) => texts,
        Err(err) => {
            tracing::warn!(conversation_id = %id, error = %err, "membership not announced");
            return;
        }
    };
    if texts.is_empty() {
        return;
    }
    let actor = match system_actor(state, project).await {
        Ok(actor) => actor,
        Err(err) => {
            tracing::warn!(conversation_id = %id, error = %err, "membership not announced");
            return;
        }
    };
    for content in texts {
        let post = PostMessage {
            actor,
            content,
            client_msg_id: None,
            attachment_id: None,
            origin: None,
            system: true,
            reply_to: None,
            online: None,
            private: false,
        };
        match send_to_room(&state.rooms, id, post).await {
            Ok(Ok(_)) => {}
            Ok(Err(err)) => {
                tracing::debug!(conversation_id = %id, error = %err, "membership not announced");
            }
            Err(err) => {
                tracing::warn!(conversation_id = %id, error = %err, "membership not announced");
            }
        }
    }
}

/// The sentences of `what`, by kind of change.
async fn texts(
    state: &AppState,
    id: ConversationId,
    what: &Announcement<'_>,
) -> Result<Vec<String>, crate::error::AppError> {
    let changed = what.changed;
    let mut conn = state.db.read().await?;
    let kind = conversations::find(&mut conn, id)
        .await?
        .map(|row| ConversationKind::from_stored(&row.kind));
    let channel = kind == Some(ConversationKind::Channel);
    let mut name_of = async |user: UserId| -> Result<String, crate::error::AppError> {
        let row = users::find(&mut conn, user).await?;
        Ok(row
            .and_then(|u| u.display_name.or(u.username))
            .unwrap_or_else(|| format!("user {user}")))
    };
    let by = name_of(what.by).await?;
    let mut out = Vec::new();
    let added: Vec<UserId> = changed.added.iter().map(|(u, _)| *u).collect();
    let removed = &changed.removed;
    match what.change {
        MemberChange::Add { .. } if channel || added.is_empty() => {}
        MemberChange::Add { invite, .. } if added == [what.by] => out.push(if invite.is_some() {
            format!("{by} joined with an invite link")
        } else {
            format!("{by} joined")
        }),
        MemberChange::Add { .. } => {
            out.push(format!("{by} added {}", names(&mut name_of, &added).await?))
        }
        MemberChange::Leave { .. } if channel || removed.is_empty() => {}
        MemberChange::Leave { .. } => out.push(format!("{by} left")),
        MemberChange::Remove {
            ban: Some(_),
            users,
        } => {
            out.push(format!("{by} banned {}", names(&mut name_of, users).await?));
        }
        MemberChange::Remove { .. } if removed.is_empty() => {}
        MemberChange::Remove { .. } => {
            out.push(format!(
                "{by} removed {}",
                names(&mut name_of, removed).await?
            ));
        }
        MemberChange::SetRole { .. } | MemberChange::Unban { .. } => {}
    }
    for (user, role) in &changed.updated {
        // An owner handing over becomes an admin: "ann made bob the owner" says it.
        if matches!(what.change, MemberChange::SetRole { .. }) && *user == what.by {
            continue;
        }
        let name = name_of(*user).await?;
        out.push(match (what.change, role) {
            (MemberChange::SetRole { .. }, MemberRole::Owner) => {
                format!("{by} made {name} the owner")
            }
            (MemberChange::SetRole { .. }, role) => {
                format!("{by} made {name} {} {}", article(*role), role.as_str())
            }
            (_, _) => format!("{name} is now the owner"),
        });
    }
    Ok(out)
}

fn article(role: MemberRole) -> &'static str {
    match role {
        MemberRole::Admin => "an",
        _ => "a",
    }
}

/// "bob", "bob and carol", "bob, carol and dan", or "12 people".
async fn names(
    name_of: &mut impl AsyncFnMut(UserId) -> Result<String, crate::error::AppError>,
    users: &[UserId],
) -> Result<String, crate::error::AppError> {
    if users.len() > MAX_NAMES {
        return Ok(format!("{} people", users.len()));
    }
    let mut list = Vec::with_capacity(users.len());
    for user in users {
        list.push(name_of(*user).await?);
    }
    Ok(match list.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    })
}
