//! Engelbot against a real Synapse: it builds the hub, proves an account, answers with the
//! numbers of `balance/status --json`, refuses personal answers to strangers, never answers a
//! notice, announces each event exactly once across a crash in the middle of a burst and a
//! homeserver restart, and stops cleanly on SIGTERM.

mod common;

use common::synapse::{Account, Synapse, TestClient};
use common::{s, Ledger, Sandbox, SMARTUP};
use serde_json::Value;
use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(60);

/// The demo, with a [matrix] section pointing at the homeserver.
fn demo_with_matrix(sb: &Sandbox, hs: &Synapse) -> Ledger {
    let ledger = sb.demo();
    let policy = sb.path().join("with-matrix.toml");
    let text = std::fs::read_to_string(ledger.file("ledger.toml")).unwrap();
    std::fs::write(
        &policy,
        format!(
            "{text}\n[matrix]\nhomeserver = \"{}\"\nserver_name = \"localhost\"\nbot = \"@engelbot:localhost\"\n",
            hs.url
        ),
    )
    .unwrap();
    ledger.act(sb, "founder", None, &["amend-policy", s(&policy)]).ok();
    ledger
}

/// `smartup bot run` as a child process with the bot's and the admin's tokens.
fn start_bot(sb: &Sandbox, ledger: &Ledger, bot: &Account, admin: &Account) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(sb.path().join("bot.log"))
        .unwrap();
    sb.command(SMARTUP)
        .args(["--ledger", s(&ledger.dir), "bot", "run", "--poll-seconds", "1"])
        .env("SMARTUP_MATRIX_TOKEN", &bot.access_token)
        .env("SMARTUP_MATRIX_ADMIN_TOKEN", &admin.access_token)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("cannot start the bot")
}

/// The bot's notices in a room, by the seq they announce.
fn announced(watcher: &TestClient, room: &str) -> BTreeMap<u64, usize> {
    let mut seen = BTreeMap::new();
    for m in watcher.messages(room) {
        if let Some(seq) = m["content"]["org.smartup.seq"].as_u64() {
            *seen.entry(seq).or_insert(0) += 1;
        }
    }
    seen
}

/// Waits for `done`, failing with the bot's log.
fn wait_until(sb: &Sandbox, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !done() {
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(sb.path().join("bot.log")).unwrap_or_default();
            panic!("waited {} s in vain for {what}; the bot's log:\n{log}", WAIT.as_secs());
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Sends a command and returns the bot's first notice after it.
fn ask(sb: &Sandbox, client: &TestClient, room: &str, command: &str) -> String {
    let asked = client.send_text(room, command);
    let deadline = Instant::now() + WAIT;
    loop {
        let messages = client.messages(room);
        let mine = messages
            .iter()
            .position(|m| m["event_id"] == asked.as_str())
            .expect("the command is in the room");
        let answer = messages[mine..]
            .iter()
            .find(|m| m["sender"] == "@engelbot:localhost" && m["content"]["msgtype"] == "m.notice");
        if let Some(answer) = answer {
            return answer["content"]["body"].as_str().unwrap_or_default().to_string();
        }
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(sb.path().join("bot.log")).unwrap_or_default();
            panic!("no answer to {command}; the bot's log:\n{log}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn link_code(out: &str) -> String {
    let line = out.lines().find(|l| l.starts_with("Link code")).expect("a link code line");
    line.rsplit(' ').next().unwrap().to_string()
}

fn text(v: &Value) -> String {
    v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())
}

#[test]
fn engelbot_proves_answers_and_announces_exactly_once() {
    let Some(mut hs) = Synapse::start() else { return };
    let sb = Sandbox::new();
    let ledger = demo_with_matrix(&sb, &hs);
    let bot = hs.register("engelbot", false);
    let alice_account = hs.register("alice", false);
    let eve_account = hs.register("eve", false);
    let linked = ledger.act(&sb, "alice", None, &["matrix", "link", "@alice:localhost"]).ok();
    let code = link_code(&linked.stdout);

    let mut child = start_bot(&sb, &ledger, &bot, &hs.admin);
    let watcher = hs.client(&bot);
    // Synapse makes a room's alias before its creator joins it: wait for announcements, not
    // for the alias alone.
    wait_until(&sb, "the forum and its announcements", || {
        watcher.resolve_alias("#1_general_forum:localhost").is_some_and(|room| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| !announced(&watcher, &room).is_empty())).unwrap_or(false)
        })
    });
    let forum = watcher.resolve_alias("#1_general_forum:localhost").unwrap();
    // With an admin's token the bot lifted its own rate limits.
    let limits: Value = reqwest::blocking::Client::new()
        .get(format!("{}/_synapse/admin/v1/users/@engelbot:localhost/override_ratelimit", hs.url))
        .bearer_auth(&hs.admin.access_token)
        .send()
        .and_then(|r| r.json())
        .unwrap();
    assert_eq!(
        (limits["messages_per_second"].as_i64(), limits["burst_count"].as_i64()),
        (Some(0), Some(0)),
        "{limits}"
    );

    // A stranger: no personal answers, public ones yes; a notice is never answered.
    let eve = hs.client(&eve_account);
    let eve_dm = eve.create_dm("@engelbot:localhost");
    wait_until(&sb, "the bot joining eve's room", || {
        eve.joined_members(&eve_dm).contains(&"@engelbot:localhost".to_string())
    });
    assert!(ask(&sb, &eve, &eve_dm, "!wallet").starts_with("I do not know whose account @eve:localhost is"));
    let treasury = ask(&sb, &eve, &eve_dm, "!treasury");
    let balance = ledger.read(&sb, &["balance", "--json"]).ok().json();
    assert!(
        treasury.starts_with(&format!("Treasury: {} EUR", text(&balance["treasury"]["eur"]))),
        "{treasury}"
    );
    assert!(
        treasury.contains(&format!(
            "in tranches of retrospective awards {}",
            text(&balance["treasury"]["sc_pending_in_tranches"])
        )),
        "{treasury}"
    );
    // The demo's two decisions are closed: nothing is open to vote on.
    let proposals = ask(&sb, &eve, &eve_dm, "!proposals");
    assert!(proposals.starts_with("No proposal is open."), "{proposals}");
    assert!(ask(&sb, &eve, &eve_dm, "!status").starts_with("**Usage:** !status <task>"));
    assert!(ask(&sb, &eve, &eve_dm, "!nonsense").contains("**Usage:** !help"));
    // A burst of commands is answered whole (a sync brings more than Synapse's default 10).
    let before = eve.messages(&eve_dm).len();
    for _ in 0..30 {
        eve.send_text(&eve_dm, "!treasury");
    }
    let answers = |eve: &TestClient| {
        let messages = eve.messages(&eve_dm);
        messages[before..].iter().filter(|m| m["sender"] == "@engelbot:localhost").count()
    };
    wait_until(&sb, "30 answers", || answers(&eve) >= 30);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(answers(&eve), 30, "one answer per command");

    // alice proves her account and gets her own numbers, the same as balance --json.
    let alice = hs.client(&alice_account);
    let dm = alice.create_dm("@engelbot:localhost");
    wait_until(&sb, "the bot joining alice's room", || {
        alice.joined_members(&dm).contains(&"@engelbot:localhost".to_string())
    });
    assert!(
        ask(&sb, &alice, &dm, "!wallet").starts_with("I do not know whose account"),
        "not before the proof"
    );
    assert!(ask(&sb, &alice, &dm, "!link AAAA-AAAA-AAAA-AAAA-AAAA").starts_with("That is not the code"));
    let thanks = ask(&sb, &alice, &dm, &format!("!link {code}"));
    assert!(thanks.starts_with("Thank you: @alice:localhost is alice's account"), "{thanks}");
    let wallet = ask(&sb, &alice, &dm, "!wallet");
    let mine = balance["owners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["owner"] == "alice")
        .unwrap();
    for field in ["sc", "sk", "pending_sc", "vote_weight"] {
        assert!(wallet.contains(&text(&mine[field])), "{field} {} not in {wallet}", mine[field]);
    }
    let board = ledger.read(&sb, &["status", "--json"]).ok().json();
    let task = board["tasks"][0].clone();
    let status = ask(&sb, &alice, &dm, &format!("!status {}", text(&task["task"])));
    assert!(status.contains(&format!("budget {} SC", text(&task["budget"]))), "{status}");
    assert!(
        ask(&sb, &alice, &dm, "!stop_work").starts_with("The rules would refuse it"),
        "alice has no open session"
    );
    let verified = ask(&sb, &alice, &dm, "!verify");
    assert!(verified.starts_with("The ledger verifies:"), "{verified}");
    wait_until(&sb, "alice invited to the forum", || {
        watcher
            .state(&forum)
            .iter()
            .any(|e| e["type"] == "m.room.member" && e["state_key"] == "@alice:localhost")
    });
    // Someone who leaves a room is not invited again at the next sync, unless they ask.
    let membership = |who: &str| {
        let state = watcher.state(&forum);
        let event = state
            .iter()
            .find(|e| e["type"] == "m.room.member" && e["state_key"] == who)
            .cloned();
        event.map(|e| text(&e["content"]["membership"])).unwrap_or_default()
    };
    alice.join(&forum);
    alice.leave(&forum);
    ledger.act(&sb, "founder", None, &["deposit-eur", "3", "--reason", "donation"]).ok();
    let moved = ledger.read(&sb, &["status", "--json"]).ok().json()["last_seq"].as_u64().unwrap();
    wait_until(&sb, "the deposit announced", || announced(&watcher, &forum).contains_key(&moved));
    assert_eq!(membership("@alice:localhost"), "leave", "the bot synced the hub and left alice out");
    assert_eq!(ask(&sb, &alice, &dm, "!rooms"), "I invited you again to 1 room(s) you belong in.");
    assert_eq!(membership("@alice:localhost"), "invite");
    let before_notice = alice.messages(&dm).len();
    alice.send_notice(&dm, "!help");
    assert!(ask(&sb, &alice, &dm, "!help").starts_with("I am Engelbot"));
    let after: Vec<Value> = alice.messages(&dm)[before_notice..].to_vec();
    let answers = after.iter().filter(|m| m["sender"] == "@engelbot:localhost").count();
    assert_eq!(answers, 1, "the notice got no answer, the command one: {after:?}");

    // A burst of 50 events; the bot is killed in the middle and restarted: each seq once.
    child.kill().unwrap();
    child.wait().unwrap();
    let first_new = moved + 1;
    for i in 0..50 {
        ledger
            .act(
                &sb,
                "founder",
                None,
                &["deposit-eur", "1", "--reason", "donation", "--note", &format!("burst {i}")],
            )
            .ok();
    }
    let mut child = start_bot(&sb, &ledger, &bot, &hs.admin);
    wait_until(&sb, "some of the burst announced", || {
        announced(&watcher, &forum).keys().filter(|s| **s >= first_new).count() >= 10
    });
    child.kill().unwrap();
    child.wait().unwrap();
    let mut child = start_bot(&sb, &ledger, &bot, &hs.admin);
    let last = first_new + 49;
    wait_until(&sb, "the whole burst announced", || announced(&watcher, &forum).contains_key(&last));

    // The homeserver restarts under the running bot: nothing lost, nothing doubled.
    hs.restart();
    for i in 0..5 {
        ledger
            .act(
                &sb,
                "founder",
                None,
                &["deposit-eur", "2", "--reason", "donation", "--note", &format!("after restart {i}")],
            )
            .ok();
    }
    let watcher = hs.client(&bot);
    wait_until(&sb, "the events after the restart announced", || {
        announced(&watcher, &forum).contains_key(&(last + 5))
    });
    let counts = announced(&watcher, &forum);
    let doubled: Vec<_> = counts.iter().filter(|(_, n)| **n != 1).collect();
    assert!(doubled.is_empty(), "announced more than once: {doubled:?}");
    for seq in first_new..=last + 5 {
        assert_eq!(counts.get(&seq), Some(&1), "seq {seq} announced once in the forum");
    }
    let alice = hs.client(&alice_account);
    assert!(
        ask(&sb, &alice, &dm, "!treasury").starts_with("Treasury:"),
        "commands still answered after the restart"
    );

    // SIGTERM: a clean stop.
    let term = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(term.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "the bot exits 0 on SIGTERM: {status:?}");
    let log = std::fs::read_to_string(sb.path().join("bot.log")).unwrap();
    assert!(log.contains("engelbot: stopped cleanly"), "{log}");
}

#[test]
fn an_accepted_push_is_announced_by_the_post_receive_follow_up_without_a_running_bot() {
    let Some(hs) = Synapse::start() else { return };
    let sb = Sandbox::new();
    let ledger = demo_with_matrix(&sb, &hs);
    ledger.act(&sb, "founder", None, &["push"]).ok();
    let bot = hs.register("engelbot", false);
    // The tokens in the pusher's own config file; the forge runs `bot announce` after a push.
    let config = sb.home().join(".config/smartup/matrix.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    let tokens = format!(
        "[tokens.\"{}\"]\nbot = \"{}\"\nadmin = \"{}\"\n",
        hs.url, bot.access_token, hs.admin.access_token
    );
    std::fs::write(&config, tokens).unwrap();
    std::fs::set_permissions(&config, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let forge = sb.path().join("demo/forge.git");
    sb.git(&forge, &["config", "smartup.postReceive", &format!("'{SMARTUP}' bot announce")])
        .ok();

    ledger.act(&sb, "founder", None, &["deposit-eur", "5", "--reason", "donation"]).ok();
    let pushed = ledger.act(&sb, "founder", None, &["push"]).ok();
    let seq = ledger.read(&sb, &["status", "--json"]).ok().json()["last_seq"].as_u64().unwrap();
    let watcher = hs.client(&bot);
    let deadline = Instant::now() + WAIT;
    loop {
        let forum = watcher.resolve_alias("#1_general_forum:localhost");
        let said = forum.and_then(|room| std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| announced(&watcher, &room))).ok());
        if said.as_ref().is_some_and(|s| s.get(&seq) == Some(&1) && s.get(&1) == Some(&1)) {
            break;
        }
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(forge.join("smartup/post-receive.log")).unwrap_or_default();
            panic!("seq {seq} was not announced after the push {pushed:?}; post-receive.log:\n{log}; seen {said:?}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}
