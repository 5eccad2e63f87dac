//! Attacks that bypass the command line: rows hand-written with the library and signed with a
//! REAL owner's key (so every signature is valid), in commits SSH-signed by that owner, pushed
//! with plain `git push`. Each row breaks a domain rule the command line would enforce; the
//! forge's pre-receive hook must refuse every push with a `[code]` and leave `main` where it was.

mod common;
#[path = "common/hook.rs"]
mod hook_common;

use hook_common::{Craft, Forge};
use smartup::time::Timestamp;

const TASK: &str = "6_2_1_2_icons";
const TASK_ID: &str = "6_2_1_2";

/// A craft of `action` in `table` by `actor` with `values`, as the next row, now.
fn craft(f: &Forge, table: &str, action: &str, actor: &str, values: &[(&str, &str)]) -> Craft {
    let mut c = f.deposit();
    c.table = table.into();
    c.action = action.into();
    c.actor = actor.into();
    c.values = values.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    c.signer = f.key(actor);
    c.named_key = f.key(actor);
    c
}

/// Pushes what the CLI did in the working clone; it must be accepted.
#[track_caller]
fn push_ok(f: &Forge) {
    let out = f.push();
    f.assert_accepted(&out);
}

/// A second task, created, assigned (alice attacks, bob defends) and started, through the CLI.
#[track_caller]
fn started_task(f: &Forge) {
    f.act(
        "carla",
        &[
            "create-task",
            TASK,
            "--objective",
            "5_2_1",
            "--title",
            "Icons",
            "--size",
            "small",
            "--phase",
            "design",
        ],
    );
    f.act("maya", &["assign-task", TASK_ID, "--attacker", "alice", "--defender", "bob"]);
    f.act("alice", &["start-task", TASK_ID]);
    push_ok(f);
}

/// The started task with one session each of alice and bob, clocked in and out via the CLI.
#[track_caller]
fn worked_task(f: &Forge) {
    started_task(f);
    f.act("alice", &["start-work", TASK_ID]);
    f.act("bob", &["start-work", TASK_ID]);
    f.act("alice", &["stop-work"]);
    f.act("bob", &["stop-work"]);
    push_ok(f);
}

/// The rows of the forge's log, to compare before and after.
fn forge_rows(f: &Forge) -> usize {
    f.log(&f.forge).len()
}

/// Commits as `who`, pushes, and asserts the hook refused with some `[code]` and nothing moved.
#[track_caller]
fn refused(f: &Forge, who: &str, what: &str, expected: &str) -> String {
    let before = f.forge_main();
    let rows = forge_rows(f);
    f.commit_as(who, what);
    let out = f.push();
    eprintln!("=== {what}\n{}", out.stderr);
    f.assert_rejected(&out, &before, &["["]);
    let code = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("remote:"))
        .find_map(|l| {
            let i = l.find('[')?;
            let j = l[i..].find(']')?;
            Some(l[i..=i + j].to_string())
        })
        .unwrap_or_default();
    assert!(!code.is_empty(), "{what}: no [code] on a remote: line: {out:?}");
    assert_eq!(code, expected, "{what}: refused, but for another reason: {out:?}");
    assert_eq!(forge_rows(f), rows, "{what}: the forge's ledger changed");
    f.assert_forge_verifies();
    eprintln!("REFUSED {what}: {code}");
    f.reset();
    code
}

#[test]
fn attacker_validates_their_own_pending_sc() {
    let f = Forge::new();
    worked_task(&f);
    f.act("maya", &["assess-work", TASK_ID, "--scores", "9,8,8"]);
    push_ok(&f);
    // alice, paid by the award, validates it herself, right away.
    let c = craft(
        &f,
        "pending-sc",
        "validate-pending-sc",
        "alice",
        &[("task", TASK_ID), ("attacker_sc", "17.82"), ("defender_sc", "1.98")],
    );
    f.append(&c);
    refused(&f, "alice", "alice validates her own pending SC", "[not-permitted]");
    // The mission leader who assessed it validates it.
    let c = craft(
        &f,
        "pending-sc",
        "validate-pending-sc",
        "maya",
        &[("task", TASK_ID), ("attacker_sc", "17.82"), ("defender_sc", "1.98")],
    );
    f.append(&c);
    refused(&f, "maya", "maya validates the SC she assessed", "[not-permitted]");
    // The captain, before the lazy-consensus window is over.
    let c = craft(
        &f,
        "pending-sc",
        "validate-pending-sc",
        "carla",
        &[("task", TASK_ID), ("attacker_sc", "17.82"), ("defender_sc", "1.98")],
    );
    f.append(&c);
    refused(&f, "carla", "carla validates inside the window", "[lazy-consensus]");
    // The captain dates her row after the window (in the future) to skip lazy consensus.
    let mut c = craft(
        &f,
        "pending-sc",
        "validate-pending-sc",
        "carla",
        &[("task", TASK_ID), ("attacker_sc", "17.82"), ("defender_sc", "1.98")],
    );
    c.at = Timestamp::system().plus(49 * 3600);
    f.append(&c);
    refused(&f, "carla", "carla validates with a row dated after the window", "[time-order]");
}

#[test]
fn assessment_outside_the_band_or_not_90_10() {
    let f = Forge::new();
    worked_task(&f);
    let budget: f64 = {
        let log = f.log(&f.work);
        let row = log
            .iter()
            .find(|r| r["action"] == "create-task" && r["columns"]["task"] == TASK)
            .expect("task row");
        row["columns"]["budget"].as_str().unwrap().parse().unwrap()
    };
    let split = |share: f64| {
        let total = budget * share / 100.0;
        (format!("{:.2}", total * 0.9), format!("{:.2}", total * 0.1))
    };
    // total 25 -> band 80..95; claim 100%.
    let (a, d) = split(100.0);
    let c = craft(
        &f,
        "pending-sc",
        "assess-work",
        "maya",
        &[
            ("task", TASK_ID),
            ("attacker_score", "9"),
            ("defender_score", "8"),
            ("collaboration_score", "8"),
            ("share", "100.00"),
            ("attacker_sc", &a),
            ("defender_sc", &d),
        ],
    );
    f.append(&c);
    refused(&f, "maya", "share above the band", "[assessment]");
    // In-band share, attacker/defender split 50/50.
    let total = budget * 0.9;
    let half = format!("{:.2}", total / 2.0);
    let c = craft(
        &f,
        "pending-sc",
        "assess-work",
        "maya",
        &[
            ("task", TASK_ID),
            ("attacker_score", "9"),
            ("defender_score", "8"),
            ("collaboration_score", "8"),
            ("share", "90.00"),
            ("attacker_sc", &half),
            ("defender_sc", &half),
        ],
    );
    f.append(&c);
    refused(&f, "maya", "split 50/50 instead of 90/10", "[budget]");
    // In-band share, SC inflated tenfold.
    let (a, d) = split(900.0);
    let c = craft(
        &f,
        "pending-sc",
        "assess-work",
        "maya",
        &[
            ("task", TASK_ID),
            ("attacker_score", "9"),
            ("defender_score", "8"),
            ("collaboration_score", "8"),
            ("share", "90.00"),
            ("attacker_sc", &a),
            ("defender_sc", &d),
        ],
    );
    f.append(&c);
    refused(&f, "maya", "SC inflated beyond budget x share", "[budget]");
    // Scores out of range (11) with share at the top.
    let (a, d) = split(100.0);
    let c = craft(
        &f,
        "pending-sc",
        "assess-work",
        "maya",
        &[
            ("task", TASK_ID),
            ("attacker_score", "11"),
            ("defender_score", "10"),
            ("collaboration_score", "10"),
            ("share", "100.00"),
            ("attacker_sc", &a),
            ("defender_sc", &d),
        ],
    );
    f.append(&c);
    refused(&f, "maya", "score 11", "[assessment]");
    // The attacker assesses her own work.
    let (a, d) = split(90.0);
    let c = craft(
        &f,
        "pending-sc",
        "assess-work",
        "alice",
        &[
            ("task", TASK_ID),
            ("attacker_score", "9"),
            ("defender_score", "8"),
            ("collaboration_score", "8"),
            ("share", "90.00"),
            ("attacker_sc", &a),
            ("defender_sc", &d),
        ],
    );
    f.append(&c);
    refused(&f, "alice", "alice assesses her own task", "[not-permitted]");
}

#[test]
fn create_task_with_a_budget_not_size_times_phase() {
    let f = Forge::new();
    let c = craft(
        &f,
        "task-budgets",
        "create-task",
        "carla",
        &[
            ("task", TASK),
            ("objective", "5_2_1"),
            ("team", "3_2"),
            ("title", "Icons"),
            ("size", "medium"),
            ("phase", "design"),
            ("budget", "5500.00"),
        ],
    );
    f.append(&c);
    refused(&f, "carla", "budget 100x", "[budget]");
    // A junior creates a task.
    let c = craft(
        &f,
        "task-budgets",
        "create-task",
        "bob",
        &[
            ("task", TASK),
            ("objective", "5_2_1"),
            ("team", "3_2"),
            ("title", "Icons"),
            ("size", "medium"),
            ("phase", "design"),
            ("budget", "55.00"),
        ],
    );
    f.append(&c);
    refused(&f, "bob", "a junior creates a task", "[not-permitted]");
}

#[test]
fn start_work_retroactive_or_in_the_future() {
    let f = Forge::new();
    started_task(&f);
    let (seq, _) = f.last();
    let session = (seq + 1).to_string();
    let c = craft(
        &f,
        "work_clock",
        "start-work",
        "alice",
        &[
            ("session", &session),
            ("task", TASK_ID),
            ("owner", "alice"),
            ("happened_at", "2026-01-01T00:00:00Z"),
        ],
    );
    f.append(&c);
    refused(&f, "alice", "start-work 11 months ago", "[retroactive]");
    let c = craft(
        &f,
        "work_clock",
        "start-work",
        "alice",
        &[
            ("session", &session),
            ("task", TASK_ID),
            ("owner", "alice"),
            ("happened_at", "2027-06-01T00:00:00Z"),
        ],
    );
    f.append(&c);
    refused(&f, "alice", "start-work after its own row", "[retroactive]");
    // Clock in for someone else.
    let c = craft(
        &f,
        "work_clock",
        "start-work",
        "alice",
        &[
            ("session", &session),
            ("task", TASK_ID),
            ("owner", "bob"),
            ("happened_at", &c.at.to_string()),
        ],
    );
    f.append(&c);
    refused(&f, "alice", "alice clocks bob in", "[session]");
    // Clock in on a task that is validated already.
    let c = craft(
        &f,
        "work_clock",
        "start-work",
        "alice",
        &[
            ("session", &session),
            ("task", "6_2_1_1"),
            ("owner", "alice"),
            ("happened_at", &c.at.to_string()),
        ],
    );
    f.append(&c);
    refused(&f, "alice", "start-work on a validated task", "[task-state]");
}

#[test]
fn stop_work_without_its_session_log() {
    let f = Forge::new();
    started_task(&f);
    f.act("alice", &["start-work", TASK_ID]);
    push_ok(&f);
    let log = f.log(&f.work);
    let start = log.iter().rev().find(|r| r["action"] == "start-work").unwrap().clone();
    let session = start["columns"]["session"].as_str().unwrap().to_string();
    let started = start["columns"]["happened_at"].as_str().unwrap().to_string();

    // The clock row alone.
    let c = craft(
        &f,
        "work_clock",
        "stop-work",
        "alice",
        &[("session", &session), ("task", TASK), ("owner", "alice")],
    );
    let mut c = c;
    let at = c.at.to_string();
    c.values.push(("happened_at".into(), at.clone()));
    f.append(&c);
    refused(&f, "alice", "stop-work without session log", "[session]");

    // The clock row, then the log in the next commit, pushed together.
    let mut l = craft(
        &f,
        "session_logs",
        "stop-work",
        "alice",
        &[
            ("session", &session),
            ("task", TASK),
            ("owner", "alice"),
            ("started", &started),
            ("stopped", &at),
        ],
    );
    l.at = c.at;
    l.seq = c.seq + 1;
    f.append(&c);
    f.commit_as("alice", "clock only");
    let secs = (at.parse::<Timestamp>().unwrap().0 - started.parse::<Timestamp>().unwrap().0).to_string();
    l.values.push(("seconds".into(), secs.clone()));
    f.append(&l);
    refused(&f, "alice", "session log in the next commit", "[session]");

    // Log with inflated seconds, in the same commit.
    let mut c2 = c.clone();
    c2.at = c.at;
    f.append(&c2);
    let mut l2 = l.clone();
    l2.seq = c2.seq + 1;
    l2.values = vec![
        ("session".into(), session.clone()),
        ("task".into(), TASK.into()),
        ("owner".into(), "alice".into()),
        ("started".into(), started.clone()),
        ("stopped".into(), at.clone()),
        ("seconds".into(), "360000".into()),
    ];
    f.append(&l2);
    refused(&f, "alice", "session log with inflated seconds", "[session]");

    // Log claiming an earlier start than the clock-in.
    f.append(&c2);
    let mut l3 = l2.clone();
    let early = "2026-11-01T00:00:00Z".to_string();
    let secs3 = (at.parse::<Timestamp>().unwrap().0 - early.parse::<Timestamp>().unwrap().0).to_string();
    l3.values = vec![
        ("session".into(), session.clone()),
        ("task".into(), TASK.into()),
        ("owner".into(), "alice".into()),
        ("started".into(), early),
        ("stopped".into(), at.clone()),
        ("seconds".into(), secs3),
    ];
    f.append(&l3);
    refused(&f, "alice", "session log with a forged start", "[session]");
}

#[test]
fn a_valid_action_in_another_tables_segment() {
    let f = Forge::new();
    started_task(&f);
    // start-work (a work_clock action) written into the task_claimed table, with its columns.
    let c = craft(
        &f,
        "task_claimed",
        "start-work",
        "alice",
        &[("task", TASK_ID), ("attacker", "alice"), ("defender", "bob")],
    );
    f.append(&c);
    refused(&f, "alice", "start-work in task_claimed", "[wrong-table]");
    // deposit-eur written into the pending-sc table (a treasury row where SC live).
    let c = craft(
        &f,
        "pending-sc",
        "deposit-eur",
        "founder",
        &[("task", TASK_ID), ("attacker_sc", "1000.00"), ("defender_sc", "0.00")],
    );
    f.append(&c);
    refused(&f, "founder", "deposit-eur in pending-sc", "[wrong-table]");
}

#[test]
fn a_stop_work_clock_row_in_the_session_logs_table() {
    let f = Forge::new();
    started_task(&f);
    f.act("alice", &["start-work", TASK_ID]);
    push_ok(&f);
    let log = f.log(&f.work);
    let start = log.iter().rev().find(|r| r["action"] == "start-work").unwrap().clone();
    let session = start["columns"]["session"].as_str().unwrap().to_string();
    let started = start["columns"]["happened_at"].as_str().unwrap().to_string();
    // Two session logs, no clock row.
    let c = craft(
        &f,
        "session_logs",
        "stop-work",
        "alice",
        &[("session", &session), ("task", TASK), ("owner", "alice"), ("started", &started)],
    );
    let mut c = c;
    let at = c.at.to_string();
    let secs = (c.at.0 - started.parse::<Timestamp>().unwrap().0).to_string();
    c.values.push(("stopped".into(), at.clone()));
    c.values.push(("seconds".into(), secs));
    let mut c2 = c.clone();
    c2.seq += 1;
    let mut bytes = c.line();
    bytes.extend(c2.line());
    f.add_rows("session_logs", &bytes);
    refused(&f, "alice", "two session logs, no clock row", "[session]");
}

#[test]
fn a_key_registered_for_another_owner() {
    let f = Forge::new();
    let stranger = f.stranger_key("mallory");
    let public = std::fs::read_to_string(common::public_of(&stranger)).unwrap();
    let public: String = public.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
    let c = craft(&f, "keys", "register-key", "alice", &[("owner", "bob"), ("public_key", &public)]);
    f.append(&c);
    refused(&f, "alice", "alice registers a key for bob", "[key-authority]");
    // alice signs a row whose actor is carla (registering a key for carla).
    let mut c = craft(&f, "keys", "register-key", "carla", &[("owner", "carla"), ("public_key", &public)]);
    c.signer = f.key("alice");
    c.named_key = f.key("alice");
    f.append(&c);
    refused(&f, "alice", "alice signs as carla", "[key-not-valid]");
}

#[test]
fn a_row_reusing_a_seq() {
    let f = Forge::new();
    let mut c = f.deposit();
    c.seq -= 1;
    f.append(&c);
    refused(&f, "founder", "seq reused", "[sequence]");
    let mut c = f.deposit();
    c.seq += 5;
    f.append(&c);
    refused(&f, "founder", "seq gap", "[sequence]");
    let mut c = f.deposit();
    c.at = "2026-11-01T00:00:00Z".parse().unwrap();
    f.append(&c);
    refused(&f, "founder", "timestamp going back", "[time-order]");
}

#[test]
fn policy_changed_with_rows_but_no_amendment() {
    let f = Forge::new();
    let path = f.work.join("ledger.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("lazy_consensus_hours = 48", "lazy_consensus_hours = 0", 1)).unwrap();
    f.append(&f.deposit());
    refused(&f, "founder", "ledger.toml amended with a deposit, no amend-policy row", "[policy]");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("attacker_percent = \"90\"", "attacker_percent = \"99\"", 1)).unwrap();
    refused(&f, "founder", "ledger.toml amended alone", "[policy]");
}

#[test]
fn money_and_assignment_attacks() {
    let f = Forge::new();
    // alice holds 44.55 SC from the demo: the founder pays her 500.
    let c = craft(
        &f,
        "transactions",
        "payout-sc",
        "founder",
        &[("owner", "alice"), ("currency", "SC"), ("amount", "500.00"), ("reason", "payout")],
    );
    f.append(&c);
    refused(&f, "founder", "payout above the owner's SC", "[treasury]");
    // A negative deposit drains the treasury.
    let c = craft(
        &f,
        "transactions",
        "deposit-eur",
        "founder",
        &[("currency", "EUR"), ("amount", "-900.00"), ("reason", "donation")],
    );
    f.append(&c);
    refused(&f, "founder", "negative deposit", "[malformed-value]");
    // A new task whose attacker is also its defender.
    f.act(
        "carla",
        &[
            "create-task",
            TASK,
            "--objective",
            "5_2_1",
            "--title",
            "Icons",
            "--size",
            "small",
            "--phase",
            "design",
        ],
    );
    push_ok(&f);
    let c = craft(
        &f,
        "task_claimed",
        "assign-task",
        "maya",
        &[("task", TASK_ID), ("attacker", "alice"), ("defender", "alice")],
    );
    f.append(&c);
    refused(&f, "maya", "attacker is also defender", "[not-permitted]");
    // The defender claims the task in the attacker's place.
    f.act("maya", &["assign-task", TASK_ID, "--attacker", "alice", "--defender", "bob"]);
    push_ok(&f);
    let c = craft(
        &f,
        "task_claimed",
        "start-task",
        "bob",
        &[("task", TASK_ID), ("attacker", "alice"), ("defender", "bob")],
    );
    f.append(&c);
    refused(&f, "bob", "the defender starts the task", "[not-permitted]");
}

#[test]
fn a_closed_session_stopped_again() {
    let f = Forge::new();
    // alice's demo session 24 (08:00-10:00) is closed; she stops it again, with a log of
    // the whole time since, to be paid for hours she did not work.
    let mut c = craft(
        &f,
        "work_clock",
        "stop-work",
        "alice",
        &[("session", "24"), ("task", "6_2_1_1_logo"), ("owner", "alice")],
    );
    let at = c.at.to_string();
    c.values.push(("happened_at".into(), at.clone()));
    let started = "2026-11-28T08:00:00Z";
    let secs = (c.at.0 - started.parse::<Timestamp>().unwrap().0).to_string();
    let mut l = craft(
        &f,
        "session_logs",
        "stop-work",
        "alice",
        &[
            ("session", "24"),
            ("task", "6_2_1_1_logo"),
            ("owner", "alice"),
            ("started", started),
            ("stopped", &at),
            ("seconds", &secs),
        ],
    );
    l.at = c.at;
    l.seq = c.seq + 1;
    f.append(&c);
    f.append(&l);
    refused(&f, "alice", "a closed session stopped again", "[session]");
}
