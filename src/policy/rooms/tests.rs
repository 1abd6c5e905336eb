//! The room permission table (docs/PROTOCOL.md §2, *Member roles and permissions*), written
//! out by hand: each row an action, each column a member role, for a group (a channel differs
//! only in who posts, tested in `policy/tests.rs`); then the direct and support kinds, public
//! rooms and the project roles.

use super::super::*;

const ME: UserId = UserId(7);
const HOME: ProjectId = ProjectId(1);

fn outcome(result: Result<(), Denied>) -> &'static str {
    match result {
        Ok(()) => "ok",
        Err(Denied::NotFound(_)) => "404",
        Err(Denied::Forbidden(_)) => "403",
        Err(Denied::ConversationClosed) => "closed",
        Err(Denied::MessageDeleted) => "deleted",
    }
}

fn facts(kind: ConversationKind, role: Option<MemberRole>, public: bool) -> ConversationFacts {
    ConversationFacts {
        project_id: HOME,
        status: ConversationStatus::Open,
        participant: role.is_some(),
        kind,
        member_role: role,
        visibility: if public {
            Visibility::Public
        } else {
            Visibility::Private
        },
    }
}

fn customer() -> Actor {
    Actor {
        user_id: ME,
        project_id: HOME,
        role: Role::Customer,
    }
}

fn others_message() -> MessageFacts {
    MessageFacts {
        sender_id: UserId(8),
        deleted: false,
    }
}

#[test]
fn group_permissions_follow_the_member_role() {
    use MemberRole::{Admin, Follower, Member, Moderator, Owner};
    use RoomAction::*;
    #[rustfmt::skip]
    let rows: Vec<(&str, Action, [&str; 4])> = vec![
        //                                                                           owner  admin  mod    member
        ("add members",          Action::Room(AddMembers),                          ["ok",  "ok",  "403", "403"]),
        ("remove a member",      Action::Room(Remove { target: Member }),           ["ok",  "ok",  "403", "403"]),
        ("remove a moderator",   Action::Room(Remove { target: Moderator }),        ["ok",  "ok",  "403", "403"]),
        ("remove an admin",      Action::Room(Remove { target: Admin }),            ["ok",  "403", "403", "403"]),
        ("remove an owner",      Action::Room(Remove { target: Owner }),            ["403", "403", "403", "403"]),
        ("ban a member",         Action::Room(Ban { target: Some(Member) }),        ["ok",  "ok",  "403", "403"]),
        ("ban an admin",         Action::Room(Ban { target: Some(Admin) }),         ["ok",  "403", "403", "403"]),
        ("ban a non-member",     Action::Room(Ban { target: None }),                ["ok",  "ok",  "403", "403"]),
        ("member → moderator",   Action::Room(SetRole { target: Member, to: Moderator }), ["ok", "ok", "403", "403"]),
        ("member → admin",       Action::Room(SetRole { target: Member, to: Admin }),     ["ok", "ok", "403", "403"]),
        ("moderator → member",   Action::Room(SetRole { target: Moderator, to: Member }), ["ok", "ok", "403", "403"]),
        ("admin → member",       Action::Room(SetRole { target: Admin, to: Member }),     ["ok", "403", "403", "403"]),
        ("transfer ownership",   Action::Room(SetRole { target: Admin, to: Owner }),      ["ok", "403", "403", "403"]),
        ("member → owner",       Action::Room(SetRole { target: Member, to: Owner }),     ["ok", "403", "403", "403"]),
        ("demote an owner",      Action::Room(SetRole { target: Owner, to: Admin }),      ["403", "403", "403", "403"]),
        ("edit info",            Action::Room(EditInfo),                            ["ok",  "ok",  "403", "403"]),
        ("manage invites",       Action::Room(ManageInvites),                       ["ok",  "ok",  "403", "403"]),
        ("pin",                  Action::Room(Pin),                                 ["ok",  "ok",  "ok",  "403"]),
        ("@all / @here",         Action::Room(MentionAll),                          ["ok",  "ok",  "ok",  "403"]),
        ("react",                Action::Room(React),                               ["ok",  "ok",  "ok",  "ok"]),
        ("leave",                Action::Room(Leave),                               ["ok",  "ok",  "ok",  "ok"]),
        ("delete another's",     Action::Delete(others_message()),                  ["ok",  "ok",  "ok",  "403"]),
        ("post",                 Action::Post,                                      ["ok",  "ok",  "ok",  "ok"]),
    ];
    for (name, action, expected) in rows {
        for (role, want) in [Owner, Admin, Moderator, Member].into_iter().zip(expected) {
            let got = outcome(check(
                &customer(),
                action,
                &facts(ConversationKind::Group, Some(role), false),
            ));
            assert_eq!(got, want, "{name} as {role:?}");
        }
    }
    // Followers (channels) react and leave, nothing else of the above.
    for action in [RoomAction::React, RoomAction::Leave] {
        let f = facts(ConversationKind::Channel, Some(Follower), false);
        assert_eq!(
            outcome(check(&customer(), Action::Room(action), &f)),
            "ok",
            "{action:?}"
        );
    }
    for action in [
        RoomAction::Pin,
        RoomAction::MentionAll,
        RoomAction::AddMembers,
    ] {
        let f = facts(ConversationKind::Channel, Some(Follower), false);
        assert_eq!(
            outcome(check(&customer(), Action::Room(action), &f)),
            "403",
            "{action:?}"
        );
    }
}

#[test]
fn direct_and_support_conversations_keep_their_own_rules() {
    use RoomAction::*;
    let member = Some(MemberRole::Member);
    let agent = Actor {
        role: Role::Agent,
        ..customer()
    };
    #[rustfmt::skip]
    let rows: Vec<(&str, RoomAction, [&str; 3])> = vec![
        //                                          direct  support(customer)  support(agent)
        ("add members",    AddMembers,              ["403", "403", "ok"]),
        ("remove",         Remove { target: MemberRole::Member }, ["403", "403", "ok"]),
        ("ban",            Ban { target: None },    ["403", "403", "403"]),
        ("set a role",     SetRole { target: MemberRole::Member, to: MemberRole::Moderator }, ["403", "403", "403"]),
        ("edit info",      EditInfo,                ["403", "403", "ok"]),
        ("invites",        ManageInvites,           ["403", "403", "403"]),
        ("pin",            Pin,                     ["ok",  "403", "ok"]),
        ("@all",           MentionAll,              ["ok",  "ok",  "ok"]),
        ("react",          React,                   ["ok",  "ok",  "ok"]),
        ("leave",          Leave,                   ["403", "ok",  "ok"]),
    ];
    for (name, action, [direct, support_customer, support_agent]) in rows {
        let cases = [
            (customer(), ConversationKind::Direct, direct),
            (customer(), ConversationKind::Support, support_customer),
            (agent, ConversationKind::Support, support_agent),
        ];
        for (actor, kind, want) in cases {
            let got = outcome(check(
                &actor,
                Action::Room(action),
                &facts(kind, member, false),
            ));
            assert_eq!(got, want, "{name} in {kind:?} as {}", actor.role);
        }
    }
}

#[test]
fn public_rooms_are_seen_and_joined_by_the_project_private_ones_by_invitation() {
    #[rustfmt::skip]
    let cases = [
        // kind, public, banned, read history, join from the directory
        (ConversationKind::Group,   true,  false, "ok",  "ok"),
        (ConversationKind::Channel, true,  false, "ok",  "ok"),
        (ConversationKind::Group,   true,  true,  "ok",  "403"),
        (ConversationKind::Group,   false, false, "404", "404"),
        (ConversationKind::Channel, false, false, "404", "404"),
        (ConversationKind::Direct,  true,  false, "404", "404"),
        (ConversationKind::Support, true,  false, "404", "404"),
    ];
    for (kind, public, banned, read, join) in cases {
        let f = facts(kind, None, public);
        let name = format!("{kind:?} public: {public} banned: {banned}");
        assert_eq!(
            outcome(check(&customer(), Action::ReadHistory, &f)),
            read,
            "{name}"
        );
        let action = Action::Room(RoomAction::JoinPublic { banned });
        assert_eq!(outcome(check(&customer(), action, &f)), join, "{name}");
        // Seeing is not taking part: a public room's non-member neither posts nor joins live.
        if read == "ok" {
            assert_eq!(
                outcome(check(&customer(), Action::Post, &f)),
                "403",
                "{name}"
            );
            assert_eq!(
                outcome(check(&customer(), Action::Join, &f)),
                "403",
                "{name}"
            );
        }
    }
    // Another project's public room does not exist.
    let elsewhere = Actor {
        project_id: ProjectId(2),
        ..customer()
    };
    let f = facts(ConversationKind::Group, None, true);
    assert_eq!(outcome(check(&elsewhere, Action::ReadHistory, &f)), "404");
}

#[test]
fn project_admins_act_as_owners_of_every_group_and_channel() {
    let admin = Actor {
        role: Role::Admin,
        ..customer()
    };
    for (action, want) in [
        (RoomAction::AddMembers, "ok"),
        (
            RoomAction::Remove {
                target: MemberRole::Admin,
            },
            "ok",
        ),
        (
            RoomAction::Remove {
                target: MemberRole::Owner,
            },
            "403",
        ),
        (
            RoomAction::SetRole {
                target: MemberRole::Member,
                to: MemberRole::Owner,
            },
            "ok",
        ),
        (RoomAction::Leave, "403"),
    ] {
        let f = facts(ConversationKind::Group, None, false);
        assert_eq!(
            outcome(check(&admin, Action::Room(action), &f)),
            want,
            "{action:?}"
        );
    }
}
