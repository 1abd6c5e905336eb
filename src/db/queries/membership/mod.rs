//! Changing a conversation's participants after its creation: adding (by a member, from the
//! directory, by invite or by the server API), removing and banning, role changes with the
//! ownership transfer, leaving with the last owner's successor, lifting bans. Each change is
//! one transaction with the conversation's participant count and the `participant.*` webhook
//! deliveries. The access policy has been asked before (by the room, which knows the roles).

use diesel::prelude::{ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper};

mod steps;

use steps::{announce, ban_users, check_active, delete, insert, set_role, use_invite};

use crate::db::models::ConversationRow;
use crate::db::schema::{conversation_bans, conversations, participants};
use crate::db::{DbConnection, DbError, on_conn, write_transaction};
use crate::domain::{ConversationId, ConversationKind, MemberRole, ProjectId, UserId};

/// One change to a conversation's participants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberChange {
    /// Adds `users` (active users of the project) with the kind's joining role (a channel's
    /// followers, else members); those already in stay as they are. An added user's ban is
    /// lifted. With `invite`, the invite must be valid ([`DbError::InviteInvalid`]), and one
    /// of its uses is counted when someone was added.
    Add {
        /// Who.
        users: Vec<UserId>,
        /// The invite code accepted, if any.
        invite: Option<String>,
    },
    /// Removes `users`; with `ban`, they are banned too (participants or not).
    Remove {
        /// Who.
        users: Vec<UserId>,
        /// Ban them, recording who did.
        ban: Option<UserId>,
    },
    /// Gives `user` (a participant) `role`. With `transfer_from`, that owner becomes an admin
    /// in the same transaction (the ownership transfer).
    SetRole {
        /// Whose role.
        user: UserId,
        /// The new role.
        role: MemberRole,
        /// The owner handing over.
        transfer_from: Option<UserId>,
    },
    /// `user` leaves. When they were the last owner of a group or channel, the participant
    /// with the highest role (admins, then moderators, members, followers) who joined first
    /// becomes the owner.
    Leave {
        /// Who.
        user: UserId,
    },
    /// Lifts `user`'s ban.
    Unban {
        /// Who.
        user: UserId,
    },
}

/// What a participant change did.
#[derive(Debug, Clone)]
pub struct Changed {
    /// The conversation after it (`last_seq` orders the change after the messages before it).
    pub row: ConversationRow,
    /// Users who were not participants and now are, with their role.
    pub added: Vec<(UserId, MemberRole)>,
    /// Users who were participants and no longer are.
    pub removed: Vec<UserId>,
    /// Participants whose role changed, with the new role.
    pub updated: Vec<(UserId, MemberRole)>,
}

/// Most participants of a conversation by kind: `limits.max_participants` for all but
/// channels, `limits.max_followers` for channels.
#[derive(Debug, Clone, Copy)]
pub struct Capacity {
    /// `limits.max_participants`.
    pub participants: usize,
    /// `limits.max_followers`.
    pub followers: usize,
}

impl Capacity {
    /// The limit for `kind`.
    pub fn of(self, kind: ConversationKind) -> usize {
        match kind {
            ConversationKind::Channel => self.followers,
            _ => self.participants,
        }
    }
}

/// Applies `change` to conversation `id` of `project`.
///
/// # Errors
/// [`DbError::NotFound`] when the project has no such conversation, or the user to re-role is
/// not a participant; [`DbError::Invalid`] when a user to add is not an active user of the
/// project, or the result would exceed the kind's [`Capacity`]; [`DbError::InviteInvalid`];
/// a query failure.
pub fn change(
    conn: &mut DbConnection,
    project: ProjectId,
    id: ConversationId,
    change: &MemberChange,
    capacity: Capacity,
) -> Result<Changed, DbError> {
    use diesel::RunQueryDsl as _;
    write_transaction(conn, |conn| {
        let found: Option<(ProjectId, String)> = on_conn!(conn, c => {
            conversations::table
                .find(id)
                .select((conversations::project_id, conversations::kind))
                .first(c)
        })
        .optional()?;
        let Some((_, kind)) = found.filter(|(p, _)| *p == project) else {
            return Err(DbError::NotFound);
        };
        let kind = ConversationKind::from_stored(&kind);
        let current: Vec<(UserId, String, chrono::NaiveDateTime)> = on_conn!(conn, c => {
            participants::table
                .filter(participants::conversation_id.eq(id))
                .select((participants::user_id, participants::role, participants::joined_at))
                .load(c)
        })?;
        let mut added: Vec<(UserId, MemberRole)> = Vec::new();
        let mut removed: Vec<UserId> = Vec::new();
        let mut updated: Vec<(UserId, MemberRole)> = Vec::new();
        let ids: std::collections::HashSet<UserId> = current.iter().map(|(u, _, _)| *u).collect();
        let is_in = |u: &UserId| ids.contains(u);
        match change {
            MemberChange::Add { users: add, invite } => {
                if let Some(code) = invite {
                    use_invite(conn, id, code, add.iter().any(|u| !is_in(u)))?;
                }
                check_active(conn, project, add)?;
                let role = crate::domain::joining_role(kind);
                let mut wanted = add.clone();
                wanted.sort();
                wanted.dedup();
                added = wanted
                    .into_iter()
                    .filter(|u| !is_in(u))
                    .map(|u| (u, role))
                    .collect();
                let max = capacity.of(kind);
                if current.len() + added.len() > max {
                    return Err(DbError::Invalid(format!(
                        "participants: at most {max} participants"
                    )));
                }
                insert(conn, project, id, &added)?;
                let ids: Vec<UserId> = added.iter().map(|(u, _)| *u).collect();
                on_conn!(conn, c => {
                    diesel::delete(
                        conversation_bans::table
                            .filter(conversation_bans::conversation_id.eq(id))
                            .filter(conversation_bans::user_id.eq_any(&ids)),
                    )
                    .execute(c)
                })?;
            }
            MemberChange::Remove { users: remove, ban } => {
                removed = remove.iter().copied().filter(|u| is_in(u)).collect();
                delete(conn, id, &removed)?;
                if let Some(by) = ban {
                    ban_users(conn, project, id, remove, *by)?;
                }
            }
            MemberChange::Leave { user } => {
                if is_in(user) {
                    removed = vec![*user];
                    delete(conn, id, &removed)?;
                }
            }
            MemberChange::SetRole {
                user,
                role,
                transfer_from,
            } => {
                if !is_in(user) {
                    return Err(DbError::NotFound);
                }
                set_role(conn, id, *user, *role)?;
                updated.push((*user, *role));
                if let Some(owner) = transfer_from.filter(|o| o != user && is_in(o)) {
                    set_role(conn, id, owner, MemberRole::Admin)?;
                    updated.push((owner, MemberRole::Admin));
                }
            }
            MemberChange::Unban { user } => {
                on_conn!(conn, c => {
                    diesel::delete(
                        conversation_bans::table
                            .filter(conversation_bans::conversation_id.eq(id))
                            .filter(conversation_bans::user_id.eq(user)),
                    )
                    .execute(c)
                })?;
            }
        }
        if !removed.is_empty()
            && matches!(kind, ConversationKind::Group | ConversationKind::Channel)
        {
            let left: Vec<(UserId, MemberRole, chrono::NaiveDateTime)> = current
                .iter()
                .filter(|(u, _, _)| !removed.contains(u))
                .map(|(u, r, at)| (*u, MemberRole::from_stored(r), *at))
                .collect();
            if let Some(heir) = successor(&left) {
                set_role(conn, id, heir, MemberRole::Owner)?;
                updated.push((heir, MemberRole::Owner));
            }
        }
        let count = current.len() + added.len() - removed.len();
        let row = on_conn!(conn, c => {
            diesel::update(conversations::table.find(id))
                .set(conversations::participant_count.eq(i64::try_from(count).unwrap_or(i64::MAX)))
                .returning(ConversationRow::as_returning())
                .get_result(c)
        })?;
        let changed = Changed {
            row,
            added,
            removed,
            updated,
        };
        announce(conn, project, id, &changed)?;
        Ok(changed)
    })
}

/// Who inherits a group or channel whose owners are all gone from `left` (the participants
/// who remain): nobody while an owner remains; else the highest role, the earliest joined.
pub fn successor(left: &[(UserId, MemberRole, chrono::NaiveDateTime)]) -> Option<UserId> {
    if left.iter().any(|(_, r, _)| *r == MemberRole::Owner) {
        return None;
    }
    left.iter()
        .min_by_key(|(u, r, at)| (std::cmp::Reverse(*r), *at, *u))
        .map(|(u, _, _)| *u)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: u32) -> chrono::NaiveDateTime {
        chrono::DateTime::from_timestamp(i64::from(s), 0)
            .map(|d| d.naive_utc())
            .unwrap_or_default()
    }

    #[test]
    fn the_oldest_admin_inherits_else_the_oldest_member() {
        use MemberRole::*;
        let u = UserId;
        assert_eq!(
            successor(&[(u(1), Owner, at(1)), (u(2), Admin, at(2))]),
            None
        );
        let left = [
            (u(2), Member, at(1)),
            (u(3), Admin, at(5)),
            (u(4), Admin, at(3)),
        ];
        assert_eq!(successor(&left), Some(u(4)));
        let left = [
            (u(2), Member, at(4)),
            (u(3), Member, at(2)),
            (u(5), Follower, at(1)),
        ];
        assert_eq!(successor(&left), Some(u(3)));
        assert_eq!(successor(&[]), None);
    }
}
