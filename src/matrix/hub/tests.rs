//! The hub's pure parts: what the ledger wants, and plans against a homeserver simulated by
//! applying the plan's own steps (a second plan after them is empty).

use super::desired::{desired, Accounts, RoomKind, FORUM};
use super::plan::{plan, Observed, ObservedRoom, People, Step};
use super::Settings;
use super::{link_state_key, proofs, Proof, LINK_EVENT};
use crate::matrix::client::StateEvent;
use crate::rules::test_support::Book;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

const BOT: &str = "@engelbot:example.org";

fn settings() -> Settings {
    Settings {
        homeserver: "https://matrix.example.org".into(),
        server_name: "example.org".into(),
        bot: BOT.into(),
        alias_prefix: String::new(),
        space_alias: "smartup".into(),
    }
}

/// Proven accounts of everyone in the test organisation but carol.
fn accounts(b: &Book) -> Accounts {
    b.state
        .owners
        .keys()
        .filter(|o| o.as_str() != "carol")
        .map(|o| (o.clone(), format!("@{o}:example.org")))
        .collect()
}

/// The homeserver after `steps`, as the hub's apply would leave it.
fn applied(mut observed: Observed, steps: &[Step]) -> Observed {
    for step in steps {
        let key = step.key().to_string();
        match step.clone() {
            Step::Create {
                name, topic, read_only, ..
            } => {
                let room = ObservedRoom {
                    room_id: format!("!{key}"),
                    name,
                    topic,
                    members: BTreeSet::from([BOT.to_string()]),
                    read_only,
                    ..ObservedRoom::default()
                };
                observed.insert(key, room);
            }
            other => {
                let room = observed.get_mut(&key).expect("the room was created first");
                match other {
                    Step::Name { name, .. } => room.name = name,
                    Step::Topic { topic, .. } => room.topic = topic,
                    Step::Child { order, .. } => room.order = Some(order),
                    Step::Power { moderators, read_only, .. } => {
                        room.moderators = moderators;
                        room.read_only = read_only;
                    }
                    Step::Invite { account, .. } => {
                        room.members.insert(account);
                    }
                    Step::Kick { account, .. } => {
                        room.members.remove(&account);
                    }
                    Step::Create { .. } => unreachable!(),
                }
            }
        }
    }
    observed
}

fn sync(b: &Book, observed: Observed) -> (Vec<Step>, Observed) {
    sync_with(b, observed, &BTreeSet::new())
}

fn sync_with(b: &Book, observed: Observed, rejoin: &BTreeSet<String>) -> (Vec<Step>, Observed) {
    let accounts = accounts(b);
    let tasks: BTreeSet<String> = observed.keys().filter(|k| k.starts_with("6_")).cloned().collect();
    let target = desired(&b.state, &settings(), &accounts, &tasks, b.now);
    let owners: BTreeMap<String, String> = accounts.iter().map(|(o, a)| (a.clone(), o.clone())).collect();
    let people = People {
        bot: BOT,
        owners: &owners,
        rejoin,
    };
    let steps = plan(&target, &observed, &people);
    let after = applied(observed, &steps);
    (steps, after)
}

#[test]
fn the_ledger_wants_a_space_and_rooms_with_their_people() {
    let b = Book::started();
    let target = desired(&b.state, &settings(), &accounts(&b), &BTreeSet::new(), b.now);
    assert_eq!(target.space.kind, RoomKind::Space);
    let room = |key: &str| {
        target
            .rooms
            .iter()
            .find(|r| r.key == key)
            .unwrap_or_else(|| panic!("no room {key}"))
    };
    let members = |key: &str| room(key).members.keys().cloned().collect::<Vec<_>>();
    assert!(
        !members(FORUM).contains(&"@carol:example.org".to_string()),
        "carol's account is not proven"
    );
    assert_eq!(members(FORUM).len(), b.state.owners.len() - 1);
    assert_eq!(
        members("3_2_design_team"),
        ["@alice:example.org", "@bob:example.org", "@cap:example.org", "@maya:example.org"]
    );
    assert_eq!(room("3_2_design_team").moderators, BTreeSet::from(["@cap:example.org".to_string()]));
    assert_eq!(members("6_2_1_1"), ["@alice:example.org", "@bob:example.org", "@maya:example.org"]);
    assert_eq!(room("6_2_1_1").order, "3_2/5_2_1/6_2_1_1");
    assert!(
        room("6_2_1_1").topic.contains("Attacker alice, Defender bob"),
        "{}",
        room("6_2_1_1").topic
    );
}

#[test]
fn a_second_plan_is_empty_and_the_ledger_moving_on_plans_only_the_difference() {
    let mut b = Book::started();
    let (first, observed) = sync(&b, Observed::new());
    assert!(matches!(&first[0], Step::Create { kind: RoomKind::Space, .. }), "{:?}", first[0]);
    assert!(first
        .iter()
        .any(|s| matches!(s, Step::Power { key, .. } if key == "3_2_design_team")));
    let (second, observed) = sync(&b, observed);
    assert_eq!(second, vec![], "a second run plans nothing");

    b.ok("cap", "set-role", &[("role", "4_3_1"), ("team", "3_2"), ("position", "junior")]);
    let (steps, observed) = sync(&b, observed);
    assert_eq!(
        steps,
        vec![Step::Kick {
            key: "3_2_design_team".into(),
            account: "@bob:example.org".into(),
            reason: "bob no longer holds a role in this team".into(),
        }],
        "bob leaves the team room only: he still defends the task"
    );
    assert_eq!(sync(&b, observed).0, vec![]);
}

#[test]
fn a_paid_tasks_room_is_archived_with_its_members_and_a_task_paid_without_a_room_gets_none() {
    let started = Book::started();
    let (_, observed) = sync(&started, Observed::new());
    let paid = Book::paid_after_one_session();
    let (steps, observed) = sync(&paid, observed);
    assert!(steps.contains(&Step::Power {
        key: "6_2_1_1".into(),
        moderators: BTreeSet::new(),
        read_only: true
    }));
    assert!(
        !steps.iter().any(|s| matches!(s, Step::Kick { key, .. } if key == "6_2_1_1")),
        "{steps:?}"
    );
    assert!(observed["6_2_1_1"].members.contains("@alice:example.org"));
    assert_eq!(sync(&paid, observed).0, vec![]);
    let (fresh, _) = sync(&paid, Observed::new());
    assert!(!fresh.iter().any(|s| s.key() == "6_2_1_1"), "no room is made only to be archived");
}

fn event(event_type: &str, state_key: &str, content: serde_json::Value) -> StateEvent {
    StateEvent {
        event_type: event_type.into(),
        state_key: state_key.into(),
        sender: "@engelbot:example.org".into(),
        content,
    }
}

#[test]
fn proofs_are_read_by_their_state_key() {
    let proof = json!({"owner": "jane", "seq": 7, "event_id": "$e"});
    let key = link_state_key("@jane:example.org");
    assert_eq!(key, "_@jane:example.org");
    let state = [
        event(LINK_EVENT, &key, proof.clone()),
        event(LINK_EVENT, "@bob:example.org", proof.clone()),
        event(LINK_EVENT, "_carla", proof.clone()),
        event(LINK_EVENT, "_@dan:example.org", json!({"owner": "dan"})),
        event("m.space.child", "_@erin:example.org", proof),
    ];
    let expected = Proof {
        owner: "jane".into(),
        seq: 7,
        event_id: "$e".into(),
    };
    assert_eq!(proofs(&state), BTreeMap::from([("@jane:example.org".to_string(), expected)]));
}

#[test]
fn someone_who_left_a_room_is_invited_again_only_when_they_ask() {
    let b = Book::started();
    let (_, mut observed) = sync(&b, Observed::new());
    let forum = observed.get_mut(FORUM).unwrap();
    forum.members.remove("@alice:example.org");
    forum.left.insert("@alice:example.org".into());
    assert_eq!(sync(&b, observed.clone()).0, vec![], "no invitation every sync to someone who left");
    let asked = BTreeSet::from(["@alice:example.org".to_string()]);
    let (steps, _) = sync_with(&b, observed, &asked);
    assert_eq!(
        steps,
        vec![Step::Invite {
            key: FORUM.into(),
            account: "@alice:example.org".into(),
            owner: "alice".into(),
        }]
    );
}
