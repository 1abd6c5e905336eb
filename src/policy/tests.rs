//! The policy as a table: action × role × participant or not × same or other project, each cell
//! the expected outcome. The table is written out by hand from docs/PROTOCOL.md §2, not derived
//! from the code it checks.

use super::*;

const ME: UserId = UserId(7);
const SOMEONE: UserId = UserId(8);
const HOME: ProjectId = ProjectId(1);
const ELSEWHERE: ProjectId = ProjectId(2);

/// Cell values: `ok`, `404` (not_found), `403` (forbidden), `closed` (conversation_closed),
/// `deleted` (message_deleted).
fn outcome(result: Result<(), Denied>) -> &'static str {
    match result {
        Ok(()) => "ok",
        Err(Denied::NotFound(_)) => "404",
        Err(Denied::Forbidden(_)) => "403",
        Err(Denied::ConversationClosed) => "closed",
        Err(Denied::MessageDeleted) => "deleted",
    }
}

fn own(deleted: bool) -> MessageFacts {
    MessageFacts {
        sender_id: ME,
        deleted,
    }
}

fn others(deleted: bool) -> MessageFacts {
    MessageFacts {
        sender_id: SOMEONE,
        deleted,
    }
}

/// Columns: customer, agent, admin as participants; then customer, agent, admin not
/// participating. Rows: an action on an open or a closed conversation.
#[rustfmt::skip]
fn table() -> Vec<(&'static str, Action, ConversationStatus, [&'static str; 6])> {
    use Action::*;
    use ConversationStatus::{Closed, Open};
    vec![
        //                                                     participant              not a participant
        //                                                     cust   agent  admin      cust   agent  admin
        ("read history",        ReadHistory,        Open,   ["ok",  "ok",  "ok",     "404", "404", "ok"]),
        ("read history closed", ReadHistory,        Closed, ["ok",  "ok",  "ok",     "404", "404", "ok"]),
        ("join",                Join,               Open,   ["ok",  "ok",  "ok",     "404", "404", "403"]),
        ("join closed",         Join,               Closed, ["ok",  "ok",  "ok",     "404", "404", "403"]),
        ("post",                Post,               Open,   ["ok",  "ok",  "ok",     "404", "404", "403"]),
        ("post closed",         Post,               Closed, ["closed", "closed", "closed", "404", "404", "403"]),
        ("typing start",        Typing(true),       Open,   ["ok",  "ok",  "ok",     "404", "404", "403"]),
        ("typing start closed", Typing(true),       Closed, ["closed", "closed", "closed", "404", "404", "403"]),
        ("typing stop closed",  Typing(false),      Closed, ["ok",  "ok",  "ok",     "404", "404", "403"]),
        ("receipt",             Receipt,            Open,   ["ok",  "ok",  "ok",     "404", "404", "403"]),
        ("receipt closed",      Receipt,            Closed, ["ok",  "ok",  "ok",     "404", "404", "403"]),
        ("edit own",            Edit(own(false)),   Open,   ["ok",  "ok",  "ok",     "404", "404", "ok"]),
        ("edit own closed",     Edit(own(false)),   Closed, ["closed", "closed", "closed", "404", "404", "closed"]),
        ("edit own deleted",    Edit(own(true)),    Closed, ["deleted", "deleted", "deleted", "404", "404", "deleted"]),
        ("edit another's",      Edit(others(false)), Open,  ["403", "403", "403",    "404", "404", "403"]),
        ("delete own",          Delete(own(false)), Open,   ["ok",  "ok",  "ok",     "404", "404", "ok"]),
        ("delete own closed",   Delete(own(false)), Closed, ["ok",  "ok",  "ok",     "404", "404", "ok"]),
        ("delete another's",    Delete(others(false)), Open, ["403", "ok", "ok",     "404", "404", "ok"]),
        ("delete deleted",      Delete(others(true)), Closed, ["403", "ok", "ok",    "404", "404", "ok"]),
        ("close",               Close,              Open,   ["403", "ok",  "ok",     "404", "404", "ok"]),
        ("close closed",        Close,              Closed, ["403", "ok",  "ok",     "404", "404", "ok"]),
        ("download",            Download,           Open,   ["ok",  "ok",  "ok",     "404", "404", "ok"]),
        ("upload into",         Upload,             Closed, ["ok",  "ok",  "ok",     "404", "404", "404"]),
        ("add members",         Room(RoomAction::AddMembers), Open, ["403", "403", "ok", "404", "404", "ok"]),
    ]
}

fn columns() -> [(Role, bool); 6] {
    [
        (Role::Customer, true),
        (Role::Agent, true),
        (Role::Admin, true),
        (Role::Customer, false),
        (Role::Agent, false),
        (Role::Admin, false),
    ]
}

#[test]
fn every_conversation_action_matches_the_table_in_the_actors_own_project() {
    for (name, action, status, expected) in table() {
        for ((role, participant), want) in columns().into_iter().zip(expected) {
            let actor = Actor {
                user_id: ME,
                project_id: HOME,
                role,
            };
            let facts = ConversationFacts {
                project_id: HOME,
                status,
                participant,
                kind: ConversationKind::Group,
                member_role: None,
                visibility: Visibility::Private,
            };
            let got = outcome(check(&actor, action, &facts));
            assert_eq!(
                got, want,
                "{name}: {role} (participant: {participant}) got {got}, expected {want}"
            );
        }
    }
}

#[test]
fn every_action_in_another_project_is_not_found_whatever_the_role_or_membership() {
    for (name, action, status, _) in table() {
        for (role, participant) in columns() {
            let actor = Actor {
                user_id: ME,
                project_id: ELSEWHERE,
                role,
            };
            let facts = ConversationFacts {
                project_id: HOME,
                status,
                participant,
                kind: ConversationKind::Group,
                member_role: None,
                visibility: Visibility::Private,
            };
            assert_eq!(
                outcome(check(&actor, action, &facts)),
                "404",
                "{name}: {role} of another project (participant: {participant})"
            );
        }
    }
}

#[test]
fn files_are_readable_by_their_uploader_and_where_they_are_attached() {
    let attached = |participant| {
        Some(ConversationFacts {
            project_id: HOME,
            status: ConversationStatus::Closed,
            participant,
            kind: ConversationKind::Group,
            member_role: None,
            visibility: Visibility::Private,
        })
    };
    // (uploader?, attached_to, same project?) → expected per role: customer, agent, admin.
    #[rustfmt::skip]
    let cases = [
        ("my own, unattached",             true,  None,              true,  ["ok",  "ok",  "ok"]),
        ("my own, in another project",     true,  None,              false, ["404", "404", "404"]),
        ("another's, unattached",          false, None,              true,  ["404", "404", "404"]),
        ("another's, attached, I'm in it", false, attached(true),    true,  ["ok",  "ok",  "ok"]),
        ("another's, attached elsewhere",  false, attached(false),   true,  ["404", "404", "ok"]),
        ("another project's, attached",    false, attached(true),    false, ["404", "404", "404"]),
    ];
    for (name, mine, attached_to, same_project, expected) in cases {
        for (role, want) in [Role::Customer, Role::Agent, Role::Admin]
            .into_iter()
            .zip(expected)
        {
            let actor = Actor {
                user_id: ME,
                project_id: if same_project { HOME } else { ELSEWHERE },
                role,
            };
            let upload = UploadFacts {
                project_id: HOME,
                uploader_id: if mine { ME } else { SOMEONE },
                attached_to,
            };
            assert_eq!(
                outcome(check_upload(&actor, &upload)),
                want,
                "{name}: {role}"
            );
        }
    }
}

#[test]
fn only_admins_list_every_conversation_of_their_project() {
    for (role, want) in [
        (Role::Customer, false),
        (Role::Agent, false),
        (Role::Admin, true),
    ] {
        let actor = Actor {
            user_id: ME,
            project_id: HOME,
            role,
        };
        assert_eq!(lists_every_conversation(&actor), want, "{role}");
    }
}

#[test]
fn only_admins_of_the_same_project_manage_users() {
    #[rustfmt::skip]
    let cases = [
        (Role::Customer, HOME, "403"), (Role::Agent, HOME, "403"), (Role::Admin, HOME, "ok"),
        (Role::Customer, ELSEWHERE, "404"), (Role::Agent, ELSEWHERE, "404"), (Role::Admin, ELSEWHERE, "404"),
    ];
    for (role, project, want) in cases {
        let actor = Actor {
            user_id: ME,
            project_id: HOME,
            role,
        };
        assert_eq!(
            outcome(check_users(&actor, project)),
            want,
            "{role} on {project}"
        );
    }
}

#[test]
fn only_enabled_instance_admins_manage_projects_whatever_their_role_or_project() {
    #[rustfmt::skip]
    let cases = [
        // role, project, instance admin, disabled, outcome
        (Role::Customer, HOME, false, false, "403"), (Role::Agent, HOME, false, false, "403"),
        (Role::Admin, HOME, false, false, "403"), (Role::Admin, ELSEWHERE, false, false, "403"),
        (Role::Customer, HOME, true, false, "ok"), (Role::Admin, ELSEWHERE, true, false, "ok"),
        (Role::Admin, HOME, true, true, "403"),
    ];
    for (role, project_id, instance_admin, disabled, want) in cases {
        let account = Account {
            project_id,
            role,
            instance_admin,
            disabled,
        };
        assert_eq!(outcome(check_instance(&account)), want, "{account:?}");
    }
}

#[test]
fn api_keys_are_managed_by_the_projects_admins_and_instance_admins() {
    #[rustfmt::skip]
    let cases = [
        // role, own project, instance admin, disabled, target, outcome
        (Role::Admin, HOME, false, false, HOME, "ok"),
        (Role::Agent, HOME, false, false, HOME, "403"),
        (Role::Customer, HOME, false, false, HOME, "403"),
        (Role::Admin, HOME, false, false, ELSEWHERE, "404"),
        (Role::Customer, HOME, false, false, ELSEWHERE, "404"),
        (Role::Customer, HOME, true, false, ELSEWHERE, "ok"),
        (Role::Admin, HOME, false, true, HOME, "403"),
    ];
    for (role, project_id, instance_admin, disabled, target, want) in cases {
        let account = Account {
            project_id,
            role,
            instance_admin,
            disabled,
        };
        assert_eq!(
            outcome(check_api_keys(&account, target)),
            want,
            "{account:?} on {target}"
        );
    }
}

#[test]
fn a_key_acts_only_within_its_scopes_and_its_project() {
    let scopes = [Scope::Read, Scope::MessagesWrite];
    let key = KeyFacts {
        project_id: HOME,
        scopes: &scopes,
    };
    #[rustfmt::skip]
    let cases = [
        (Scope::Read, HOME, "ok"), (Scope::MessagesWrite, HOME, "ok"),
        (Scope::UsersWrite, HOME, "403"), (Scope::TokensWrite, HOME, "403"),
        (Scope::ConversationsWrite, HOME, "403"),
        (Scope::Read, ELSEWHERE, "404"), (Scope::UsersWrite, ELSEWHERE, "403"),
    ];
    for (scope, project, want) in cases {
        assert_eq!(
            outcome(check_key(&key, scope, project, "conversation")),
            want,
            "{scope:?} on {project}"
        );
    }
}

#[test]
fn in_a_channel_only_owners_admins_and_moderators_post_or_type() {
    let actor = Actor {
        user_id: ME,
        project_id: HOME,
        role: Role::Customer,
    };
    for (member_role, posts) in [
        (MemberRole::Owner, true),
        (MemberRole::Admin, true),
        (MemberRole::Moderator, true),
        (MemberRole::Member, false),
        (MemberRole::Follower, false),
    ] {
        for kind in [ConversationKind::Channel, ConversationKind::Group] {
            let facts = ConversationFacts {
                project_id: HOME,
                status: ConversationStatus::Open,
                participant: true,
                kind,
                member_role: Some(member_role),
                visibility: Visibility::Private,
            };
            let allowed = posts || kind == ConversationKind::Group;
            for action in [Action::Post, Action::Typing(true)] {
                let got = outcome(check(&actor, action, &facts));
                let want = if allowed { "ok" } else { "403" };
                assert_eq!(got, want, "{kind:?} {member_role:?} {action:?}");
            }
            // Everyone reads, joins, marks receipts and stops typing.
            for action in [
                Action::ReadHistory,
                Action::Join,
                Action::Receipt,
                Action::Typing(false),
            ] {
                assert_eq!(
                    outcome(check(&actor, action, &facts)),
                    "ok",
                    "{kind:?} {member_role:?} {action:?}"
                );
            }
        }
    }
}

#[test]
fn the_support_team_sees_every_support_conversation_and_joins_to_take_part() {
    // Role, then what a non-participant gets on a support conversation of their project:
    // read history, join the room (live), post, close, join as a participant (REST).
    #[rustfmt::skip]
    let cases = [
        (Role::Customer, "404", "404", "404", "404", "404"),
        (Role::Agent,    "ok",  "403", "403", "ok",  "ok"),
        (Role::Admin,    "ok",  "403", "403", "ok",  "ok"),
    ];
    for (role, read, join_live, post, close, join) in cases {
        let actor = Actor {
            user_id: ME,
            project_id: HOME,
            role,
        };
        let facts = ConversationFacts {
            project_id: HOME,
            status: ConversationStatus::Open,
            participant: false,
            kind: ConversationKind::Support,
            member_role: None,
            visibility: Visibility::Private,
        };
        let got = |action| outcome(check(&actor, action, &facts));
        assert_eq!(got(Action::ReadHistory), read, "{role} read");
        assert_eq!(got(Action::Join), join_live, "{role} join live");
        assert_eq!(got(Action::Post), post, "{role} post");
        assert_eq!(got(Action::Close), close, "{role} close");
        let join_room = Action::Room(RoomAction::JoinPublic { banned: false });
        assert_eq!(got(join_room), join, "{role} join");
        assert_eq!(
            lists_support_conversations(&actor),
            role != Role::Customer,
            "{role} lists support"
        );
        // Another project's support conversation stays out of reach.
        let elsewhere = ConversationFacts {
            project_id: ELSEWHERE,
            ..facts
        };
        assert_eq!(
            outcome(check(&actor, Action::ReadHistory, &elsewhere)),
            "404",
            "{role} elsewhere"
        );
        // Not a support conversation: the desk sees nothing more than before.
        let group = ConversationFacts {
            kind: ConversationKind::Group,
            ..facts
        };
        let want = if role == Role::Admin { "ok" } else { "404" };
        assert_eq!(
            outcome(check(&actor, Action::ReadHistory, &group)),
            want,
            "{role} group"
        );
    }
}
