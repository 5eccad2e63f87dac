//! `smartup matrix sync` and `smartup matrix invite`, through the binary, against a real
//! Synapse 1.163.2 (tests/common/synapse.rs), on the demo's ledger with a `[matrix]` section
//! amended into its policy: the space and the rooms the ledger wants, with their aliases,
//! names, topics and order in the space; invitations for the owners whose link is proven (by
//! their current link row) and for no one else; captains' power; a role's end removing its
//! holder with the reason; a paid task's room turned read-only; single-use registration tokens
//! for open invitations, deleted when the invitation closes; and the errors of a wrong token,
//! a policy without `[matrix]` and a homeserver that does not answer.
//!
//! Engelbot's part of a link (reading `!link CODE` from the account and writing the proof) is
//! not run here: the tests write the proof, the state event `org.smartup.link` of the space
//! keyed `_@account` (`hub::link_state_key`), with the bot's token, as the bot would.
//!
//! Each test starts its own homeserver and demo (a few seconds each); without Synapse
//! installed they skip, except under CI. Install it with `tests/matrix/install-synapse.sh`.

mod common;

use common::synapse::{register_with_token, token_valid, Account, Synapse};
use common::{s, Ledger, Run, Sandbox};
use serde_json::{json, Value};
use smartup::matrix::client::Client;
use smartup::matrix::hub::link_state_key;
use smartup::time::{Timestamp, HOUR};
use std::collections::{BTreeMap, BTreeSet};

/// The policy's bot.
const BOT: &str = "@engelbot:localhost";

/// The proof's state event type (the hub's `LINK_EVENT`, written out so that a change shows).
const LINK_EVENT: &str = "org.smartup.link";

/// The demo's ledger with a `[matrix]` section for a running Synapse, the bot's account, the
/// owners' accounts, and a pinned clock that only moves forward.
struct Hub {
    sb: Sandbox,
    ledger: Ledger,
    hs: Synapse,
    bot: Account,
    accounts: BTreeMap<String, Account>,
    clock: Timestamp,
}

impl Hub {
    /// The demo, and the bot registered on `hs`; `[matrix]` in the policy when `with_matrix`.
    fn new(hs: Synapse, with_matrix: bool) -> Hub {
        let sb = Sandbox::new();
        let ledger = sb.demo();
        let bot = hs.register("engelbot", false);
        assert_eq!(bot.user_id, BOT);
        let mut hub = Hub {
            sb,
            ledger,
            hs,
            bot,
            accounts: BTreeMap::new(),
            clock: Timestamp::system(),
        };
        if with_matrix {
            hub.amend_matrix();
        }
        hub
    }

    /// The founder amends the policy with a `[matrix]` section for the homeserver.
    fn amend_matrix(&mut self) {
        let text = std::fs::read_to_string(self.ledger.file("ledger.toml")).expect("the policy");
        let policy = self.sb.path().join("with-matrix.toml");
        let section = format!(
            "\n[matrix]\nhomeserver = \"{}\"\nserver_name = \"localhost\"\nbot = \"{BOT}\"\n",
            self.hs.url
        );
        std::fs::write(&policy, format!("{text}{section}")).expect("write the policy");
        self.act("founder", &["amend-policy", s(&policy)]);
    }

    /// The pinned clock, as `SMARTUP_NOW` takes it.
    fn now(&self) -> String {
        self.clock.to_string()
    }

    /// Moves the clock forward.
    fn later(&mut self, hours: i64) {
        self.clock = self.clock.plus(hours * HOUR + 60);
    }

    /// `who` records `args` at the pinned clock; must succeed.
    #[track_caller]
    fn act(&self, who: &str, args: &[&str]) -> Run {
        self.ledger.act(&self.sb, who, Some(&self.now()), args).ok()
    }

    /// `smartup --ledger DIR ARGS` with the bot's and the admin's tokens, at the pinned clock.
    fn smartup(&self, args: &[&str]) -> Run {
        self.smartup_with_token(&self.bot.access_token, args)
    }

    /// Like [`Hub::smartup`] with `bot_token` as the bot's token.
    fn smartup_with_token(&self, bot_token: &str, args: &[&str]) -> Run {
        let mut all = vec!["--ledger", s(&self.ledger.dir)];
        all.extend_from_slice(args);
        self.sb.smartup_with(&all, |c| {
            c.env("SMARTUP_MATRIX_TOKEN", bot_token)
                .env("SMARTUP_MATRIX_ADMIN_TOKEN", &self.hs.admin.access_token)
                .env("SMARTUP_NOW", self.now());
        })
    }

    /// `matrix sync --json` (with `--dry-run` when asked): must succeed; its report.
    #[track_caller]
    fn sync(&self, dry_run: bool) -> Value {
        let mut args = vec!["--json", "matrix", "sync"];
        if dry_run {
            args.push("--dry-run");
        }
        let out = self.smartup(&args).ok();
        let report = out.json();
        assert_eq!(report["dry_run"], dry_run, "{out:?}");
        assert_eq!(report["failed"], json!([]), "{out:?}");
        report
    }

    /// The planned steps of a sync report.
    fn steps(report: &Value) -> Vec<String> {
        report["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .map(|s| s.as_str().expect("a step").to_string())
            .collect()
    }

    /// `who`'s account on the homeserver, registered on first use.
    fn account(&mut self, who: &str) -> Account {
        if !self.accounts.contains_key(who) {
            let account = self.hs.register(who, false);
            self.accounts.insert(who.to_string(), account);
        }
        self.accounts[who].clone()
    }

    /// `who` links their account `@who:localhost` with their own key; the link row's seq.
    #[track_caller]
    fn link(&mut self, who: &str) -> u64 {
        let account = self.account(who).user_id;
        let out = self.act(who, &["matrix", "link", &account]);
        assert!(out.stdout.contains("Link code (shown this once): "), "{out:?}");
        let line = out
            .stdout
            .lines()
            .find(|l| l.contains(": link-matrix "))
            .unwrap_or_else(|| panic!("no link-matrix row: {out:?}"));
        assert_eq!(line.split(": ").nth(1), Some(format!("link-matrix {account} by {who}").as_str()));
        line.trim_start_matches("seq ")
            .split(':')
            .next()
            .and_then(|n| n.parse().ok())
            .expect("a seq")
    }

    /// A client of the homeserver acting as the bot.
    fn bot_client(&self) -> Client {
        Client::new(&self.hs.url, &self.bot.access_token).expect("a client")
    }

    /// The room `#key:localhost` points to.
    #[track_caller]
    fn room(&self, key: &str) -> String {
        self.resolve(key).unwrap_or_else(|| panic!("#{key}:localhost does not resolve"))
    }

    /// The room `#key:localhost` points to, if any.
    fn resolve(&self, key: &str) -> Option<String> {
        self.bot_client()
            .resolve_alias(&format!("#{key}:localhost"))
            .expect("an alias lookup")
    }

    /// The bot writes the proof that `who`'s account posted the code of link row `seq`.
    fn prove(&mut self, who: &str, seq: u64) {
        let account = self.account(who).user_id;
        let proof = json!({"owner": who, "seq": seq, "event_id": format!("$code-of-{who}-{seq}")});
        self.bot_client()
            .put_state(&self.room("smartup"), LINK_EVENT, &link_state_key(&account), &proof)
            .expect("the proof");
    }

    /// The state event of `event_type` and `state_key` in `room`, as the bot reads it.
    #[track_caller]
    fn state(&self, room: &str, event_type: &str, state_key: &str) -> Value {
        self.bot_client()
            .state_event(room, event_type, state_key)
            .expect("a state lookup")
            .unwrap_or_else(|| panic!("{room} has no {event_type} {state_key:?}"))
    }

    /// Everyone in the room `#key` (joined or invited, the bot included), with their
    /// membership.
    fn members(&self, key: &str) -> BTreeMap<String, String> {
        self.all_members(key)
            .into_iter()
            .filter(|(_, (membership, _))| membership == "join" || membership == "invite")
            .map(|(user, (membership, _))| (user, membership))
            .collect()
    }

    /// Every membership of the room `#key`, with its reason.
    fn all_members(&self, key: &str) -> BTreeMap<String, (String, Option<String>)> {
        self.bot_client()
            .members(&self.room(key))
            .expect("the members")
            .into_iter()
            .map(|m| (m.user_id, (m.membership, m.reason)))
            .collect()
    }

    /// Asserts that the room `#key` holds the bot and exactly the accounts of `owners`.
    #[track_caller]
    fn assert_members(&self, key: &str, owners: &[&str]) {
        let mut expected: BTreeSet<String> = owners.iter().map(|o| format!("@{o}:localhost")).collect();
        expected.insert(BOT.to_string());
        let found: BTreeSet<String> = self.members(key).into_keys().collect();
        assert_eq!(found, expected, "the members of #{key}");
    }

    /// The power levels of the room `#key`.
    fn power(&self, key: &str) -> Value {
        self.state(&self.room(key), "m.room.power_levels", "")
    }
}

/// The demo's ledger grown for the hub: dan, a new owner with a senior role in the design
/// team, and a second task of objective 5_2_1 (open; the demo's 6_2_1_1 is paid), assigned to
/// alice (Attacker) and bob (Defender).
fn grow(hub: &mut Hub) {
    let dan = hub.sb.keygen("dan");
    hub.ledger.keys.insert("dan".into(), dan.clone());
    let public = common::public_of(&dan);
    hub.act("founder", &["create-owner", "dan", "--license", "work", "--public-key", s(&public)]);
    hub.act("carla", &["assign-role", "4_2_2", "dan", "--team", "3_2"]);
    hub.act(
        "carla",
        &[
            "create-task",
            "6_2_1_2_palette",
            "--objective",
            "5_2_1",
            "--title",
            "Choose the colours",
            "--size",
            "small",
            "--phase",
            "design",
        ],
    );
    hub.act("maya", &["assign-task", "6_2_1_2", "--attacker", "alice", "--defender", "bob"]);
}

/// The rooms the demo (grown) wants: key, name and order in the space.
const ROOMS: [(&str, &str, &str); 5] = [
    ("1_general_forum", "General forum", "1"),
    ("3_1_leadership_team", "3_1 Leadership", "3_1"),
    ("3_2_design_team", "3_2 Design", "3_2"),
    ("5_2_1_brand", "5_2_1 A brand people recognise", "3_2/5_2_1"),
    ("6_2_1_2", "6_2_1_2 Choose the colours", "3_2/5_2_1/6_2_1_2"),
];

#[test]
fn sync_builds_the_space_and_its_rooms_and_invites_only_proven_owners() {
    let Some(hs) = Synapse::start() else { return };
    let mut hub = Hub::new(hs, true);
    grow(&mut hub);
    let mut seqs = BTreeMap::new();
    for who in ["founder", "carla", "maya", "alice", "bob", "dan"] {
        seqs.insert(who, hub.link(who));
    }
    // maya links again (a new code): a proof of her first row no longer counts.
    let maya_first = seqs["maya"];
    seqs.insert("maya", hub.link("maya"));
    assert!(seqs["maya"] > maya_first);

    // A dry run reads and plans; the homeserver stays empty.
    let dry = hub.sync(true);
    let planned = Hub::steps(&dry);
    assert_eq!(dry["applied"], 0);
    assert!(planned.contains(&"create the space smartup (Smartup Zero)".to_string()), "{dry:#}");
    for (key, name, order) in ROOMS {
        let kind = match key.as_bytes()[0] {
            b'1' => "forum room",
            b'3' => "team room",
            b'5' => "objective room",
            _ => "task room",
        };
        assert!(planned.contains(&format!("create the {kind} {key} ({name})")), "{key}: {dry:#}");
        assert!(
            planned.contains(&format!("place {key} in the space (order {order:?})")),
            "{key}: {dry:#}"
        );
    }
    assert!(
        !planned.iter().any(|s| s.contains("6_2_1_1")),
        "the demo's task was paid before it had a room: {dry:#}"
    );
    assert!(
        !planned.iter().any(|s| s.starts_with("invite ")),
        "no proofs yet, no invitations: {dry:#}"
    );
    for key in ["smartup", "1_general_forum", "3_2_design_team", "6_2_1_2"] {
        assert_eq!(hub.resolve(key), None, "a dry run created #{key}");
    }

    // The sync carries out the same plan.
    let made = hub.sync(false);
    assert_eq!(made["steps"], dry["steps"], "the same plan as the dry run");
    assert_eq!(made["applied"], planned.len());
    let space = hub.room("smartup");
    assert_eq!(hub.state(&space, "m.room.create", "")["type"], "m.space");
    assert_eq!(hub.state(&space, "m.room.name", "")["name"], "Smartup Zero");
    assert_eq!(hub.power("smartup")["events_default"], 100, "nobody chats in the space");
    assert_eq!(hub.resolve("6_2_1_1"), None, "no room for a task paid before it had one");
    for (key, name, order) in ROOMS {
        let room = hub.room(key);
        assert_eq!(hub.state(&room, "m.room.name", "")["name"], name, "#{key}");
        assert_eq!(hub.state(&room, "m.room.canonical_alias", "")["alias"], format!("#{key}:localhost"));
        let child = hub.state(&space, "m.space.child", &room);
        assert_eq!(child["order"], order, "#{key}: {child}");
        assert_eq!(child["via"], json!(["localhost"]), "#{key}: {child}");
        assert_eq!(hub.state(&room, "m.space.parent", &space)["via"], json!(["localhost"]));
        assert_eq!(hub.power(key)["events_default"], 0, "#{key} is open for messages");
        hub.assert_members(key, &[]);
    }
    let topic = |key: &str| hub.state(&hub.room(key), "m.room.topic", "")["topic"].as_str().unwrap().to_string();
    assert!(topic("1_general_forum").starts_with("Every owner of Smartup Zero."));
    assert!(topic("3_2_design_team").starts_with("Team 3_2_design_team: "));
    assert_eq!(topic("5_2_1_brand"), "Objective 5_2_1_brand: mission leader maya");
    assert_eq!(
        topic("6_2_1_2"),
        "Task 6_2_1_2_palette: 27.50 SC, assigned; Attacker alice, Defender bob"
    );

    // Matrix lets only a user set state keyed by their own user id, so a proof's key is the
    // account behind an underscore.
    let bare = json!({"owner": "founder", "seq": seqs["founder"]});
    let refused = hub.bot_client().put_state(&space, LINK_EVENT, "@founder:localhost", &bare);
    assert_eq!(refused.map_err(|e| e.status()).unwrap_err(), Some(403));

    // The bot's proofs: four current, maya's of her first link row, none of dan's.
    for who in ["founder", "carla", "alice", "bob"] {
        hub.prove(who, seqs[who]);
    }
    hub.prove("maya", maya_first);
    let invited = hub.sync(false);
    let steps = Hub::steps(&invited);
    assert!(
        steps.iter().all(|s| s.starts_with("invite ") || s.starts_with("set the power in ")),
        "{invited:#}"
    );
    hub.assert_members("smartup", &["founder", "carla", "alice", "bob"]);
    hub.assert_members("1_general_forum", &["founder", "carla", "alice", "bob"]);
    hub.assert_members("3_1_leadership_team", &["founder"]);
    hub.assert_members("3_2_design_team", &["carla", "alice", "bob"]);
    hub.assert_members("5_2_1_brand", &["alice", "bob"]);
    hub.assert_members("6_2_1_2", &["alice", "bob"]);
    assert_eq!(
        hub.members("3_2_design_team")["@carla:localhost"],
        "invite",
        "invited, for them to accept"
    );
    assert_eq!(
        hub.power("3_2_design_team")["users"]["@carla:localhost"],
        50,
        "the captain moderates"
    );
    assert_eq!(hub.power("3_1_leadership_team")["users"]["@founder:localhost"], 50);
    for key in ["1_general_forum", "5_2_1_brand", "6_2_1_2"] {
        let users = hub.power(key)["users"].clone();
        assert!(
            users.as_object().is_none_or(|u| u.values().all(|l| l.as_i64() != Some(50))),
            "no moderators in #{key}: {users}"
        );
    }

    // maya's proof of her current link row: she is invited where the ledger puts her.
    hub.prove("maya", seqs["maya"]);
    let maya = hub.sync(false);
    let mut steps = Hub::steps(&maya);
    steps.sort();
    assert_eq!(
        steps,
        [
            "invite @maya:localhost (maya) to 1_general_forum",
            "invite @maya:localhost (maya) to 3_2_design_team",
            "invite @maya:localhost (maya) to 5_2_1_brand",
            "invite @maya:localhost (maya) to 6_2_1_2",
            "invite @maya:localhost (maya) to smartup",
        ],
        "{maya:#}"
    );
    hub.assert_members("6_2_1_2", &["alice", "bob", "maya"]);
    for key in ["smartup"].into_iter().chain(ROOMS.map(|(key, _, _)| key)) {
        assert!(
            !hub.all_members(key).contains_key("@dan:localhost"),
            "dan's link is not proven, yet he is in #{key}"
        );
    }

    // Nothing left to do.
    let again = hub.sync(false);
    assert_eq!(again["steps"], json!([]), "{again:#}");
    assert_eq!(again["applied"], 0);
    let text = hub.smartup(&["matrix", "sync"]).ok();
    assert!(
        text.stdout
            .contains("0 changes made, 0 failed or skipped; the homeserver follows the ledger."),
        "{text:?}"
    );
}

/// The grown demo with every link but dan's proven, synced: everyone invited where they
/// belong.
fn synced_hub(hs: Synapse) -> Hub {
    let mut hub = Hub::new(hs, true);
    grow(&mut hub);
    let seqs: Vec<(&str, u64)> = ["founder", "carla", "maya", "alice", "bob"]
        .into_iter()
        .map(|who| (who, hub.link(who)))
        .collect();
    hub.sync(false);
    for (who, seq) in seqs {
        hub.prove(who, seq);
    }
    hub.sync(false);
    hub.assert_members("3_2_design_team", &["carla", "maya", "alice", "bob"]);
    hub.assert_members("6_2_1_2", &["maya", "alice", "bob"]);
    hub
}

#[test]
fn a_role_that_ends_removes_its_holder_and_a_paid_task_room_turns_read_only() {
    let Some(hs) = Synapse::start() else { return };
    let mut hub = synced_hub(hs);
    // alice and bob accept their invitations to the team and task rooms.
    for who in ["alice", "bob"] {
        let client = hub.hs.client(&hub.accounts[who]);
        for key in ["3_2_design_team", "6_2_1_2"] {
            client.join(&format!("#{key}:localhost"));
        }
    }
    assert_eq!(hub.members("3_2_design_team")["@bob:localhost"], "join");

    // carla vacates bob's junior role: he leaves the team room, with the reason, and stays in
    // the rooms of the task he still defends.
    hub.later(1);
    hub.act("carla", &["set-role", "4_3_1", "--team", "3_2"]);
    let ended = hub.sync(false);
    assert_eq!(
        ended["steps"],
        json!(["remove @bob:localhost from 3_2_design_team: bob no longer holds a role in this team"]),
        "{ended:#}"
    );
    let bob = hub.all_members("3_2_design_team")["@bob:localhost"].clone();
    assert_eq!(
        bob,
        ("leave".to_string(), Some("bob no longer holds a role in this team".to_string()))
    );
    hub.assert_members("3_2_design_team", &["carla", "maya", "alice"]);
    hub.assert_members("5_2_1_brand", &["maya", "alice", "bob"]);
    hub.assert_members("6_2_1_2", &["maya", "alice", "bob"]);
    assert_eq!(hub.sync(false)["steps"], json!([]), "a third sync plans nothing");

    // The task is worked, assessed and, after the window, validated: paid.
    hub.act("alice", &["start-task", "6_2_1_2"]);
    hub.act("alice", &["start-work", "6_2_1_2"]);
    hub.act("bob", &["start-work", "6_2_1_2"]);
    hub.later(2);
    hub.act("alice", &["stop-work"]);
    hub.act("bob", &["stop-work"]);
    hub.act("maya", &["assess-work", "6_2_1_2", "--scores", "9,8,8"]);
    hub.later(49);
    hub.act("carla", &["validate-pending-sc", "6_2_1_2"]);
    let status = hub.ledger.read(&hub.sb, &["--json", "status"]).ok().json();
    let task = status["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["task"] == "6_2_1_2_palette")
        .cloned();
    assert_eq!(task.map(|t| t["state"].clone()), Some(json!("paid")), "{status:#}");

    let paid = hub.sync(false);
    let mut steps = Hub::steps(&paid);
    steps.sort();
    assert_eq!(
        steps,
        [
            "remove @alice:localhost from 5_2_1_brand: alice no longer leads or works on this objective",
            "remove @bob:localhost from 5_2_1_brand: bob no longer leads or works on this objective",
            "set the power in 6_2_1_2: no moderators, read-only",
            "set the topic of 6_2_1_2 to \"Task 6_2_1_2_palette: 27.50 SC, paid; Attacker alice, Defender bob (archived: read-only)\"",
        ],
        "{paid:#}"
    );
    let power = hub.power("6_2_1_2");
    assert_eq!(power["events_default"], 100, "{power}");
    assert_eq!(power["state_default"], 50, "{power}");
    assert_eq!(hub.members("6_2_1_2")["@alice:localhost"], "join", "the members stay");
    hub.assert_members("6_2_1_2", &["maya", "alice", "bob"]);
    hub.assert_members("5_2_1_brand", &["maya"]);
    let refused = Client::new(&hub.hs.url, &hub.accounts["alice"].access_token)
        .expect("a client")
        .send(
            &hub.room("6_2_1_2"),
            "m.room.message",
            "after-paid",
            &json!({"msgtype": "m.text", "body": "one more thing"}),
        )
        .expect_err("a read-only room");
    assert_eq!(refused.status(), Some(403), "{refused}");
    let child = hub.state(&hub.room("smartup"), "m.space.child", &hub.room("6_2_1_2"));
    assert_eq!(child["order"], "3_2/5_2_1/6_2_1_2", "the archived room stays in the space");
    assert_eq!(hub.sync(false)["steps"], json!([]), "a second sync plans nothing");
}

/// carla invites a newcomer by hand (`onboard invite --license work`): the invitation's seq
/// and its one-time code.
#[track_caller]
fn invite(hub: &Hub) -> (u64, String) {
    let out = hub.act("carla", &["onboard", "invite", "--license", "work"]);
    let seq = out
        .stdout
        .lines()
        .find(|l| l.contains(": invite "))
        .and_then(|l| l.trim_start_matches("seq ").split(':').next()?.parse().ok())
        .unwrap_or_else(|| panic!("no invite row: {out:?}"));
    let code = out
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("Invitation code (shown this once): "))
        .unwrap_or_else(|| panic!("no code: {out:?}"))
        .to_string();
    (seq, code)
}

/// This ledger's registration tokens on the homeserver (an admin's view), by token.
fn our_tokens(hub: &Hub) -> BTreeMap<String, smartup::matrix::client::RegistrationToken> {
    Client::new(&hub.hs.url, &hub.hs.admin.access_token)
        .expect("a client")
        .registration_tokens()
        .expect("the tokens")
        .into_iter()
        .filter(|t| t.token.starts_with('i'))
        .map(|t| (t.token.clone(), t))
        .collect()
}

/// `matrix invite --json`: its report.
#[track_caller]
fn matrix_invite(hub: &Hub) -> Value {
    hub.smartup(&["--json", "matrix", "invite"]).ok().json()
}

#[test]
fn invite_gives_each_open_invitation_a_single_use_token_and_deletes_it_when_the_invitation_closes() {
    let Some(hs) = Synapse::start() else { return };
    let mut hub = Hub::new(hs, true);
    let (first, _) = invite(&hub);
    let (second, code) = invite(&hub);

    // A dry run plans a token for each open invitation (the demo's four were all claimed).
    let dry = hub.smartup(&["matrix", "invite", "--dry-run"]).ok();
    let would: Vec<&str> = dry.stderr.lines().filter(|l| l.starts_with("would ")).collect();
    assert_eq!(would.len(), 2, "{dry:?}");
    for (line, seq) in would.iter().zip([first, second]) {
        assert!(
            line.starts_with(&format!(
                "would create a single-use registration token for invitation {seq}, expiring "
            )),
            "{dry:?}"
        );
    }
    assert!(our_tokens(&hub).is_empty(), "a dry run made tokens");

    // The tokens, shown to be handed out.
    let made = hub.smartup(&["matrix", "invite"]).ok();
    let shown: BTreeMap<u64, String> = made
        .stdout
        .lines()
        .filter_map(|l| {
            let seq = l.strip_prefix("invitation ")?.split(' ').next()?.parse().ok()?;
            Some((seq, l.rsplit(' ').next()?.to_string()))
        })
        .collect();
    assert_eq!(shown.keys().copied().collect::<Vec<_>>(), [first, second], "{made:?}");
    assert!(made.stdout.contains("(work license, open until "), "{made:?}");
    let tokens = our_tokens(&hub);
    assert_eq!(tokens.len(), 2, "{tokens:?}");
    for token in shown.values() {
        let held = &tokens[token];
        assert_eq!(held.uses_allowed, Some(1), "{held:?}");
        let expiry = held.expiry_time.expect("an expiry") / 1000;
        let days = (expiry - hub.clock.0) as f64 / 86_400.0;
        assert!((29.9..=30.0).contains(&days), "it expires with the invitation, in 30 days: {days}");
        assert!(token_valid(&hub.hs.url, token));
    }

    // The first token registers one account, once.
    let token = &shown[&first];
    assert_eq!(
        register_with_token(&hub.hs.url, "erin", "erin-password-1", token),
        Ok("@erin:localhost".to_string())
    );
    let again = register_with_token(&hub.hs.url, "frank", "frank-password-1", token);
    assert!(again.is_err(), "a second registration with the same token: {again:?}");
    assert!(!token_valid(&hub.hs.url, token));

    // A second run makes nothing, and lists the used token as used.
    let second_run = matrix_invite(&hub);
    assert_eq!(second_run["steps"], json!([]), "{second_run:#}");
    let listed: Vec<(Value, Value, Value)> = second_run["tokens"]
        .as_array()
        .expect("tokens")
        .iter()
        .map(|t| (t["invitation"].clone(), t["token"].clone(), t["used"].clone()))
        .collect();
    assert_eq!(
        listed,
        [
            (json!(first), json!(shown[&first]), json!(true)),
            (json!(second), json!(shown[&second]), json!(false)),
        ],
        "{second_run:#}"
    );
    assert_eq!(our_tokens(&hub).len(), 2);
    let text = hub.smartup(&["matrix", "invite"]).ok();
    assert!(
        text.stdout.contains(&format!(
            "registration token {}, used: an account was registered with it",
            shown[&first]
        )),
        "{text:?}"
    );

    // The second invitation is claimed (gina joins, carla relays): its token goes.
    let gina = hub.sb.path().join("keys/gina");
    let file = hub.sb.path().join("join-gina.csv");
    let mut join = hub.sb.command(common::SMARTUP);
    join.args([
        "--ledger",
        s(&hub.ledger.dir),
        "join",
        &code,
        "--handle",
        "gina",
        "--key",
        s(&gina),
        "--out",
        s(&file),
    ])
    .env("SMARTUP_NOW", hub.now());
    common::run(join).ok();
    hub.act("carla", &["relay", s(&file)]);
    assert!(token_valid(&hub.hs.url, &shown[&second]));
    let claimed = matrix_invite(&hub);
    assert_eq!(
        claimed["steps"],
        json!([format!("delete the registration token of invitation {second}: claimed by gina")]),
        "{claimed:#}"
    );
    assert!(!token_valid(&hub.hs.url, &shown[&second]), "the token of a claimed invitation");
    assert_eq!(our_tokens(&hub).into_keys().collect::<Vec<_>>(), [shown[&first].clone()]);

    // The first invitation expires unclaimed: its token goes too.
    hub.later(31 * 24);
    let expired = matrix_invite(&hub);
    let steps = Hub::steps(&expired);
    assert_eq!(steps.len(), 1, "{expired:#}");
    assert!(
        steps[0].starts_with(&format!("delete the registration token of invitation {first}: expired at ")),
        "{expired:#}"
    );
    assert!(our_tokens(&hub).is_empty());
    let last = matrix_invite(&hub);
    assert_eq!((last["steps"].clone(), last["tokens"].clone()), (json!([]), json!([])), "{last:#}");
}

#[test]
fn errors_name_the_missing_section_the_token_to_check_and_a_homeserver_that_does_not_answer() {
    let Some(hs) = Synapse::start() else { return };
    let mut hub = Hub::new(hs, false);
    let before = hub.ledger.snapshot(&hub.sb);

    // A policy without [matrix].
    for args in [&["matrix", "sync"][..], &["matrix", "invite"], &["matrix", "sync", "--dry-run"]] {
        let out = hub.smartup(args).code(3);
        assert_eq!(
            out.stderr.trim(),
            "error: the ledger's policy has no [matrix] section; add one with `smartup amend-policy` (see the template's commented [matrix] lines)",
            "{out:?}"
        );
    }
    let link = hub
        .ledger
        .act(&hub.sb, "alice", Some(&hub.now()), &["matrix", "link", "@alice:localhost"])
        .code(3);
    assert!(link.stderr.contains("no [matrix] section"), "{link:?}");
    assert_eq!(hub.ledger.snapshot(&hub.sb), before, "nothing was recorded");
    hub.amend_matrix();

    // A wrong bot token: the variable to check is named, the token never shown.
    let wrong = "syt_ZW5nZWxib3Q_NotTheBotsToken_0badc0de";
    let out = hub.smartup_with_token(wrong, &["matrix", "sync"]).code(3);
    let refused = format!(
        "{} does not accept the access token from SMARTUP_MATRIX_TOKEN (M_UNKNOWN_TOKEN)",
        hub.hs.url
    );
    assert!(out.stderr.contains(&refused), "{out:?}");
    assert!(!out.stderr.contains(wrong) && !out.stdout.contains(wrong), "{out:?}");
    // Someone else's token: whose it is, and whose it should be.
    let carla = hub.account("carla");
    let out = hub
        .smartup_with_token(&carla.access_token, &["matrix", "sync", "--dry-run"])
        .code(3);
    assert!(
        out.stderr
            .contains("the bot token is @carla:localhost's, but the policy's bot is @engelbot:localhost"),
        "{out:?}"
    );
    assert!(!out.stderr.contains(&carla.access_token), "{out:?}");
    // No token at all.
    let mut none = hub.sb.command(common::SMARTUP);
    none.args(["--ledger", s(&hub.ledger.dir), "matrix", "sync"]);
    let out = common::run(none).code(3);
    assert!(
        out.stderr
            .contains(&format!("no bot token for {}: set SMARTUP_MATRIX_TOKEN", hub.hs.url)),
        "{out:?}"
    );
    // A wrong admin token for the registration tokens.
    let mut bad_admin = hub.sb.command(common::SMARTUP);
    bad_admin
        .args(["--ledger", s(&hub.ledger.dir), "matrix", "invite"])
        .env("SMARTUP_MATRIX_ADMIN_TOKEN", wrong);
    let out = common::run(bad_admin).code(3);
    let refused = format!(
        "{} does not accept the access token from SMARTUP_MATRIX_ADMIN_TOKEN (M_UNKNOWN_TOKEN)",
        hub.hs.url
    );
    assert!(out.stderr.contains(&refused), "{out:?}");
    assert!(!out.stderr.contains(wrong), "{out:?}");
    // A token of a user who is no server admin.
    let mut not_admin = hub.sb.command(common::SMARTUP);
    not_admin
        .args(["--ledger", s(&hub.ledger.dir), "matrix", "invite"])
        .env("SMARTUP_MATRIX_ADMIN_TOKEN", &carla.access_token);
    let out = common::run(not_admin).code(3);
    assert!(
        out.stderr
            .contains("the access token from SMARTUP_MATRIX_ADMIN_TOKEN is @carla:localhost's, who is not a server admin"),
        "{out:?}"
    );
    assert!(!out.stderr.contains(&carla.access_token), "{out:?}");

    // The homeserver down: no answer, said so.
    hub.hs.stop();
    for args in [&["matrix", "sync"][..], &["matrix", "invite"]] {
        let out = hub.smartup(args).code(3);
        assert!(
            out.stderr.contains("got no answer from the homeserver") && out.stderr.contains("Synapse is running"),
            "{out:?}"
        );
        assert!(!out.stderr.contains(&hub.bot.access_token), "{out:?}");
    }
}
