//! End-to-end tests of the `smartup` binary: the task life cycle command by command,
//! interoperability with OpenSSH and git, tampering found by `verify`, refused input, the
//! genesis anchor and key rotation.

mod common;

use common::{codes, public_of, s, standard_org, Ledger, Run, Sandbox, NAMESPACE};
use serde_json::Value;
use std::path::Path;

// ---------------------------------------------------------------------------------------
// Helpers of this file
// ---------------------------------------------------------------------------------------

/// The row with `seq` in a `log --json` listing.
#[track_caller]
fn row(log: &[Value], seq: u64) -> &Value {
    log.iter()
        .find(|r| r["seq"].as_u64() == Some(seq))
        .unwrap_or_else(|| panic!("no row with seq {seq} in the log"))
}

/// The owner entry of `balance --json`.
#[track_caller]
fn owner<'v>(balance: &'v Value, handle: &str) -> &'v Value {
    balance["owners"]
        .as_array()
        .and_then(|o| o.iter().find(|o| o["owner"] == handle))
        .unwrap_or_else(|| panic!("{handle} is not in {balance}"))
}

/// Runs `refused` and asserts the ledger's HEAD and working tree are as they were.
#[track_caller]
fn unchanged(sb: &Sandbox, ledger: &Ledger, refused: impl FnOnce() -> Run) -> Run {
    let before = ledger.snapshot(sb);
    let out = refused();
    let after = ledger.snapshot(sb);
    assert_eq!(before, after, "a refused command changed the ledger (HEAD, status): {out:?}");
    out
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn write(path: &Path, bytes: impl AsRef<[u8]>) {
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()))
}

fn append(path: &Path, bytes: impl AsRef<[u8]>) {
    let mut all = std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    all.extend_from_slice(bytes.as_ref());
    write(path, all);
}

/// The last line of a segment, without its line end.
fn last_line(path: &Path) -> String {
    read(path).lines().last().unwrap_or_default().to_string()
}

/// A copy of a segment line with another seq.
#[track_caller]
fn with_seq(line: &str, seq: u64) -> String {
    let (_, rest) = line.split_once(',').unwrap_or_else(|| panic!("not a row: {line:?}"));
    format!("{seq},{rest}")
}

/// The newest transactions segment (the demo's last row is a transaction).
fn transactions(l: &Ledger) -> String {
    common::last_segment(&l.dir, "transactions")
}

/// Appends `line` (with its line end) to the transactions table, the way smartup does.
fn add_transaction(l: &Ledger, line: impl AsRef<[u8]>) -> String {
    common::add_rows(&l.dir, "transactions", line.as_ref())
}

/// A fresh demo ledger (which must verify) changed by `edit` and committed with plain git;
/// `verify` must then exit 1 with a JSON report saying not ok. Returns the sandbox, the
/// ledger and the report.
#[track_caller]
fn tampered(edit: impl FnOnce(&Sandbox, &Ledger)) -> (Sandbox, Ledger, Value) {
    let sb = Sandbox::new();
    let ledger = sb.demo();
    let (out, report) = ledger.verify(&sb);
    out.ok();
    assert_eq!(report["ok"], true, "the untouched demo must verify: {report}");
    edit(&sb, &ledger);
    sb.plain_commit(&ledger.dir, "tamper");
    let (out, report) = ledger.verify(&sb);
    assert_eq!(out.code, 1, "verify must find the tampering: {out:?}");
    assert_eq!(report["ok"], false, "{report}");
    (sb, ledger, report)
}

/// The findings of a report with `code`.
fn findings<'r>(report: &'r Value, code: &str) -> Vec<&'r Value> {
    report["violations"]
        .as_array()
        .map(|v| v.iter().filter(|f| f["code"] == code).collect())
        .unwrap_or_default()
}

#[track_caller]
fn assert_code(report: &Value, code: &str) {
    assert!(
        codes(report).iter().any(|c| c == code),
        "expected a {code:?} violation, found {:?}: {report:#}",
        codes(report)
    );
}

/// The row count of the demo ledger.
const DEMO_ROWS: u64 = 44;

// ---------------------------------------------------------------------------------------
// 1. The task life cycle, command by command
// ---------------------------------------------------------------------------------------

/// `--scores 9,8,8`, the form the help text documents (ATTACKER,DEFENDER,COLLABORATION).
#[test]
fn task_life_cycle_command_by_command() {
    life_cycle(&["9,8,8"]);
}

/// The same life cycle with the scores as three separate values (`--scores 9 8 8`), so the
/// rest of the cycle is checked whatever becomes of the comma form.
#[test]
fn task_life_cycle_with_space_separated_scores() {
    life_cycle(&["9", "8", "8"]);
}

/// The whole life of a task through the individual commands, `scores` given to `--scores`.
fn life_cycle(scores: &[&str]) {
    let sb = Sandbox::new();
    let l = standard_org(&sb);

    let t = |time: &str| time.to_string();
    let (create, work, stop, assess) = (
        t("2026-01-05T10:00:00Z"),
        t("2026-01-05T10:30:00Z"),
        t("2026-01-05T12:30:00Z"),
        t("2026-01-05T13:00:00Z"),
    );
    l.act_ok(
        &sb,
        "captain",
        &create,
        &[
            "create-task",
            "6_2_1_1_logo",
            "--objective",
            "5_2_1",
            "--title",
            "Design the logo",
            "--size",
            "medium",
            "--phase",
            "design",
        ],
        &[(18, "create-task")],
    );
    l.act_ok(
        &sb,
        "maya",
        &create,
        &["assign-task", "6_2_1_1", "--attacker", "alice", "--defender", "bob"],
        &[(19, "assign-task")],
    );
    l.act_ok(&sb, "alice", &create, &["start-task", "6_2_1_1"], &[(20, "start-task")]);
    l.act_ok(&sb, "alice", &work, &["start-work", "6_2_1_1"], &[(21, "start-work")]);
    l.act_ok(&sb, "bob", &work, &["start-work", "6_2_1_1"], &[(22, "start-work")]);
    let status = l.read(&sb, &["status", "--json"]).ok().json();
    assert_eq!(
        status["open_sessions"].as_array().map(Vec::len),
        Some(2),
        "two open sessions: {status}"
    );
    l.act_ok(&sb, "alice", &stop, &["stop-work"], &[(23, "stop-work"), (24, "stop-work")]);
    l.act_ok(&sb, "bob", &stop, &["stop-work"], &[(25, "stop-work"), (26, "stop-work")]);
    let mut assess_args = vec!["assess-work", "6_2_1_1", "--share", "90", "--scores"];
    assess_args.extend_from_slice(scores);
    l.act_ok(&sb, "maya", &assess, &assess_args, &[(27, "assess-work")]);

    // Assessed: 90% of 55 SC pending, 90/10 between attacker and defender, window open.
    let status = l.read(&sb, &["status", "--json"]).ok().json();
    assert_eq!(status["tasks"][0]["state"], "assessed", "{status}");
    assert_eq!(status["pending"][0]["attacker_sc"], "44.55", "{status}");
    assert_eq!(status["pending"][0]["defender_sc"], "4.95", "{status}");
    assert_eq!(status["pending"][0]["window_ends"], "2026-01-07T13:00:00Z", "{status}");
    let balance = l.read(&sb, &["balance", "--json"]).ok().json();
    assert_eq!(owner(&balance, "alice")["pending_sc"], "44.55", "{balance}");
    assert_eq!(owner(&balance, "alice")["sc"], "0.00", "{balance}");

    // One second before the 48-hour window closes: refused by the rule, nothing written.
    let early = unchanged(&sb, &l, || {
        l.act(&sb, "captain", Some("2026-01-07T12:59:59Z"), &["validate-pending-sc", "6_2_1_1"])
    });
    early.code(1).stderr_has(&["lazy-consensus", "window", "2026-01-07T13:00:00Z"]);
    // Exactly 48 hours after the assessment: validated.
    l.act_ok(
        &sb,
        "captain",
        "2026-01-07T13:00:00Z",
        &["validate-pending-sc", "6_2_1_1"],
        &[(28, "validate-pending-sc")],
    );

    let balance = l.read(&sb, &["balance", "--json"]).ok().json();
    assert_eq!(owner(&balance, "alice")["sc"], "44.55", "{balance}");
    assert_eq!(owner(&balance, "bob")["sc"], "4.95", "{balance}");
    assert_eq!(owner(&balance, "alice")["pending_sc"], "0.00", "{balance}");
    assert_eq!(owner(&balance, "maya")["sc"], "0.00", "{balance}");
    assert_eq!(balance["treasury"]["eur"], "1000.00", "{balance}");
    assert_eq!(balance["treasury"]["sc_outstanding"], "49.50", "{balance}");
    assert_eq!(balance["treasury"]["sc_pending"], "0.00", "{balance}");
    let only_bob = l.read(&sb, &["balance", "bob", "--json"]).ok().json();
    assert_eq!(only_bob["owners"].as_array().map(Vec::len), Some(1), "{only_bob}");

    let status = l.read(&sb, &["status", "--json"]).ok().json();
    assert_eq!(status["last_seq"], 28, "{status}");
    assert_eq!(status["tasks"].as_array().map(Vec::len), Some(1), "{status}");
    assert_eq!(status["tasks"][0]["task"], "6_2_1_1_logo", "{status}");
    assert_eq!(status["tasks"][0]["state"], "paid", "{status}");
    assert_eq!(
        status["tasks"][0]["worked_seconds"],
        4 * 3600,
        "two sessions of two hours: {status}"
    );
    assert_eq!(status["pending"].as_array().map(Vec::len), Some(0), "{status}");
    assert_eq!(status["open_sessions"].as_array().map(Vec::len), Some(0), "{status}");

    // The audit log: every row, in seq order, with the actions in the order they were taken.
    let log = l.log(&sb);
    let seqs: Vec<u64> = log.iter().filter_map(|r| r["seq"].as_u64()).collect();
    assert_eq!(seqs, (1..=28).collect::<Vec<u64>>(), "log --json must list every row in seq order");
    let actions: Vec<&str> = log.iter().filter_map(|r| r["action"].as_str()).collect();
    let mut expected = vec!["register-smartup", "bootstrap-teams", "bootstrap-teams"];
    expected.extend(["create-owner", "register-key"].repeat(4));
    expected.extend([
        "assign-role",
        "deposit-eur",
        "create-objective",
        "assign-role",
        "assign-role",
        "assign-role",
        "create-task",
        "assign-task",
        "start-task",
        "start-work",
        "start-work",
        "stop-work",
        "stop-work",
        "stop-work",
        "stop-work",
        "assess-work",
        "validate-pending-sc",
    ]);
    assert_eq!(actions, expected);
    assert_eq!(row(&log, 24)["table"], "session_logs");
    assert_eq!(row(&log, 24)["columns"]["seconds"], "7200");
    assert_eq!(row(&log, 27)["columns"]["attacker_sc"], "44.55");
    assert_eq!(row(&log, 28)["actor"], "captain");
    let by_bob = l.read(&sb, &["log", "--json", "--actor", "bob"]).ok().json_lines();
    assert_eq!(
        by_bob.iter().filter_map(|r| r["seq"].as_u64()).collect::<Vec<_>>(),
        vec![22, 25, 26]
    );

    // Export: one seed-style CSV, header and the one task.
    let export = l.read(&sb, &["export", "task-budgets"]).ok();
    let lines: Vec<&str> = export.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "header + 1 row: {export:?}");
    assert_eq!(
        lines[0],
        "seq,timestamp,actor,action,task,objective,team,title,size,phase,budget,key,signature"
    );
    let fields: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(
        &fields[..5],
        &["18", "2026-01-05T10:00:00Z", "captain", "create-task", "6_2_1_1_logo"],
        "{export:?}"
    );
    assert_eq!(fields[10], "55.00", "medium (50) x design (1.1): {export:?}");
    assert_eq!(
        fields[11],
        sb.fingerprint(l.key("captain")),
        "the key column is the signer's fingerprint"
    );
    let file = sb.path().join("budgets.csv");
    l.read(&sb, &["export", "task-budgets", "--output", s(&file)]).ok();
    assert_eq!(read(&file), export.stdout, "export --output writes what export prints");

    // Everything verifies; one signed commit per action.
    let (out, report) = l.verify(&sb);
    out.ok();
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["rows"], 28, "{report}");
    let commits = sb.git_ok(&l.dir, &["rev-list", "--count", "HEAD"]);
    assert_eq!(report["commits"].to_string(), commits, "{report}");
    assert_eq!(
        commits, "21",
        "one commit per action: 12 for the organisation, 9 for the task: {report}"
    );
    l.read(&sb, &["verify"]).ok();
    assert!(l.snapshot(&sb).1.is_empty(), "the working tree is clean after the actions");
}

// ---------------------------------------------------------------------------------------
// 2. Every row signature is a standard SSHSIG that OpenSSH verifies
// ---------------------------------------------------------------------------------------

#[test]
fn every_row_signature_verifies_with_ssh_keygen() {
    let sb = Sandbox::new();
    let l = sb.demo();
    let allowed = sb.path().join("allowed_signers");
    let signers = l.read(&sb, &["keys", "allowed-signers"]).ok();
    assert_eq!(signers.stdout.lines().count(), 5, "one line per registered key: {signers:?}");
    for line in signers.stdout.lines() {
        assert!(line.contains(&format!("namespaces=\"git,{NAMESPACE}\"")), "{line}");
    }
    write(&allowed, &signers.stdout);

    let log = l.log(&sb);
    assert_eq!(log.len() as u64, DEMO_ROWS);
    let (sig, msg) = (sb.path().join("row.sig"), sb.path().join("row.msg"));
    for seq in 1..=DEMO_ROWS {
        let actor = row(&log, seq)["actor"].as_str().expect("actor").to_string();
        let armored = l.read(&sb, &["sig", &seq.to_string()]).ok();
        assert!(armored.stdout.starts_with("-----BEGIN SSH SIGNATURE-----"), "{armored:?}");
        write(&sig, &armored.stdout);
        let message = l.read(&sb, &["sig", &seq.to_string(), "--message"]).ok();
        assert!(message.stdout.starts_with("smartup-row-v1=\n"), "{message:?}");
        // A join row is portable: its signer could not know its seq, which the relaying
        // owner's commit signature covers instead.
        let signed_seq = if row(&log, seq)["action"] == "join" {
            String::new()
        } else {
            seq.to_string()
        };
        assert!(message.stdout.contains(&format!("\nseq={signed_seq}\n")), "{message:?}");
        write(&msg, &message.stdout);
        sb.ssh_keygen(
            &["-Y", "verify", "-f", s(&allowed), "-I", &actor, "-n", NAMESPACE, "-s", s(&sig)],
            &msg,
        )
        .ok();
    }

    // The last row (by carla): one changed byte, another principal or another namespace fail.
    let last = DEMO_ROWS.to_string();
    write(&sig, l.read(&sb, &["sig", &last]).ok().stdout);
    let message = l.read(&sb, &["sig", &last, "--message"]).ok().stdout.into_bytes();
    write(&msg, &message);
    let args = |who: &'static str, ns: &'static str| vec!["-Y", "verify", "-f", s(&allowed), "-I", who, "-n", ns, "-s", s(&sig)];
    sb.ssh_keygen(&args("carla", NAMESPACE), &msg).ok();
    let mut altered = message.clone();
    let at = altered.iter().position(|&b| b == b'=').expect("a field") + 1;
    altered[at] ^= 0x01;
    let bad = sb.path().join("altered.msg");
    write(&bad, &altered);
    sb.ssh_keygen(&args("carla", NAMESPACE), &bad).fails();
    let mut truncated = message.clone();
    truncated.pop();
    write(&bad, &truncated);
    sb.ssh_keygen(&args("carla", NAMESPACE), &bad).fails();
    sb.ssh_keygen(&args("maya", NAMESPACE), &msg).fails();
    sb.ssh_keygen(&args("carla", "git"), &msg).fails();

    l.read(&sb, &["sig", "999"])
        .code(1)
        .stderr_has(&["[unknown-id] no row has seq 999"]);
}

// ---------------------------------------------------------------------------------------
// 3. Every commit is SSH-signed for git; an unsigned commit is reported
// ---------------------------------------------------------------------------------------

#[test]
fn every_commit_verifies_with_git_and_an_unsigned_commit_is_reported() {
    let sb = Sandbox::new();
    let l = sb.demo();
    let allowed = sb.path().join("allowed_signers");
    write(&allowed, l.read(&sb, &["keys", "allowed-signers"]).ok().stdout);
    let config = format!("gpg.ssh.allowedSignersFile={}", s(&allowed));
    let commits = sb.git_ok(&l.dir, &["rev-list", "HEAD"]);
    let commits: Vec<&str> = commits.lines().collect();
    assert!(commits.len() > 10, "the demo makes many commits");
    for commit in &commits {
        sb.git(&l.dir, &["-c", &config, "verify-commit", commit]).ok();
    }
    let shown = sb.git_ok(&l.dir, &["-c", &config, "log", "--format=%G? %GS", "-n", "1"]);
    assert_eq!(shown, "G carla", "git names the signer by handle");

    // A new, valid entry, re-committed with plain git: same tree and rows, no signature.
    l.act(&sb, "founder", None, &["deposit-eur", "10", "--reason", "donation"]).ok();
    sb.git_ok(&l.dir, &["reset", "-q", "--soft", "HEAD~1"]);
    sb.plain_commit(&l.dir, "deposit-eur by founder");
    let head = sb.git_ok(&l.dir, &["rev-parse", "HEAD"]);
    sb.git(&l.dir, &["-c", &config, "verify-commit", "HEAD"]).fails();
    sb.git(&l.dir, &["-c", &config, "verify-commit", "HEAD~1"]).ok();

    let (out, report) = l.verify(&sb);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(
        codes(&report),
        vec!["commit-signature"],
        "only the missing commit signature is wrong: {report:#}"
    );
    assert_eq!(report["violations"][0]["commit"], head.as_str(), "{report:#}");
    assert_eq!(report["rows"], DEMO_ROWS + 1, "{report:#}");
    // Human output names the problem too.
    let text = l.read(&sb, &["verify"]).code(1);
    assert!(
        text.stdout.contains("[commit-signature]") && text.stdout.contains("not signed"),
        "{text:?}"
    );
}

/// A commit that git signs with an SSH key the ledger never registered: git is happy with
/// its signature format, smartup is not.
#[test]
fn commit_signed_by_a_key_outside_the_ledger_is_reported() {
    let sb = Sandbox::new();
    let l = sb.demo();
    let foreign = sb.keygen("mallory");
    l.act(&sb, "founder", None, &["deposit-eur", "10", "--reason", "donation"]).ok();
    sb.git_ok(&l.dir, &["reset", "-q", "--soft", "HEAD~1"]);
    let signing_key = format!("user.signingkey={}", s(&foreign));
    sb.git_ok(
        &l.dir,
        &[
            "-c",
            "user.name=mallory",
            "-c",
            "user.email=m@example.invalid",
            "-c",
            "gpg.format=ssh",
            "-c",
            &signing_key,
            "commit",
            "-q",
            "-S",
            "-m",
            "deposit-eur by founder",
        ],
    );
    let raw = sb.git_ok(&l.dir, &["cat-file", "commit", "HEAD"]);
    assert!(raw.contains("-----BEGIN SSH SIGNATURE-----"), "git signed the commit: {raw}");
    let (out, report) = l.verify(&sb);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(codes(&report), vec!["commit-signature"], "{report:#}");
    let message = report["violations"][0]["message"].as_str().unwrap_or("").to_string();
    assert!(
        message.contains(&sb.fingerprint(&foreign)),
        "the finding names the foreign key: {report:#}"
    );
}

/// A ledger key's commit signature moved onto other content (the same tree, an edited
/// message): the key is the ledger's, the signature is well-formed, only the cryptography
/// says no, and verify names the commit.
#[test]
fn commit_signature_over_other_content_is_reported() {
    let sb = Sandbox::new();
    let l = sb.demo();
    let raw = sb.git_ok(&l.dir, &["cat-file", "commit", "HEAD"]);
    assert!(raw.contains("-----BEGIN SSH SIGNATURE-----"), "{raw}");
    let (headers, message) = raw.split_once("\n\n").expect("a commit has headers and a message");
    let forged = sb.path().join("forged-commit");
    write(&forged, format!("{headers}\n\nedited: {message}\n"));
    let forged_id = sb.git_ok(&l.dir, &["hash-object", "-t", "commit", "-w", s(&forged)]);
    sb.git_ok(&l.dir, &["reset", "-q", "--soft", &forged_id]);

    let (out, report) = l.verify(&sb);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(codes(&report), vec!["commit-signature"], "{report:#}");
    assert_eq!(report["violations"][0]["commit"], forged_id.as_str(), "{report:#}");
    let message = report["violations"][0]["message"].as_str().unwrap_or("");
    assert!(message.contains("does not match the commit"), "{report:#}");
}

/// Every commit's signature is queued for checking while history is first read, before the
/// walk: bad ones are reported in the order of history, and none past the commit where the
/// walk stops.
#[test]
fn commit_signature_findings_follow_history_and_stop_where_the_walk_stops() {
    let sb = Sandbox::new();
    let l = sb.demo();
    // HEAD's signed object with `edit` applied (its signature no longer matches), made HEAD.
    let rewrite_head = |edit: &dyn Fn(&str, &str) -> String| {
        let raw = sb.git_ok(&l.dir, &["cat-file", "commit", "HEAD"]);
        let (headers, message) = raw.split_once("\n\n").expect("a commit has headers and a message");
        let forged = sb.path().join("forged-commit");
        write(&forged, edit(headers, message));
        let id = sb.git_ok(&l.dir, &["hash-object", "-t", "commit", "-w", s(&forged)]);
        sb.git_ok(&l.dir, &["reset", "-q", "--soft", &id]);
        id
    };
    let first = rewrite_head(&|headers, message| format!("{headers}\n\nedited: {message}\n"));
    l.act(&sb, "founder", None, &["deposit-eur", "10", "--reason", "donation"]).ok();
    let signed = sb.git_ok(&l.dir, &["rev-parse", "HEAD"]);
    let second = rewrite_head(&|headers, message| format!("{headers}\n\nedited again: {message}\n"));
    let (out, report) = l.verify(&sb);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(codes(&report), ["commit-signature", "commit-signature"], "{report:#}");
    assert_eq!(
        report["violations"][0]["commit"],
        first.as_str(),
        "in the order of history: {report:#}"
    );
    assert_eq!(report["violations"][1]["commit"], second.as_str(), "{report:#}");

    // A stray file stops the walk; a commit after it, signed over other content, is never
    // reached, so its signature is not reported, though its check was queued.
    write(&l.dir.join("notes.txt"), "hello\n");
    sb.plain_commit(&l.dir, "a stray file");
    let stray = sb.git_ok(&l.dir, &["rev-parse", "HEAD"]);
    let stray_tree = sb.git_ok(&l.dir, &["rev-parse", "HEAD^{tree}"]);
    let raw = sb.git_ok(&l.dir, &["cat-file", "commit", &signed]);
    let (headers, message) = raw.split_once("\n\n").expect("a commit has headers and a message");
    let headers: Vec<String> = headers
        .lines()
        .map(|line| match line.split_once(' ') {
            Some(("tree", _)) => format!("tree {stray_tree}"),
            Some(("parent", _)) => format!("parent {stray}"),
            _ => line.to_string(),
        })
        .collect();
    let past = sb.path().join("past-the-stop");
    write(&past, format!("{}\n\n{message}\n", headers.join("\n")));
    let unreached = sb.git_ok(&l.dir, &["hash-object", "-t", "commit", "-w", s(&past)]);
    sb.git_ok(&l.dir, &["reset", "-q", "--soft", &unreached]);
    let (out, report) = l.verify(&sb);
    assert_eq!(out.code, 1, "{out:?}");
    let found: Vec<(String, String)> = report["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap_or("").to_string(),
                f["commit"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let expected = [
        ("commit-signature", stray.as_str()),
        ("unexpected-file", stray.as_str()),
        ("commit-signature", first.as_str()),
        ("commit-signature", second.as_str()),
    ];
    assert_eq!(
        found.iter().map(|(c, id)| (c.as_str(), id.as_str())).collect::<Vec<_>>(),
        expected,
        "nothing about {unreached}: {report:#}"
    );
}

// ---------------------------------------------------------------------------------------
// 4. Tampering found by verify
// ---------------------------------------------------------------------------------------

#[test]
fn tamper_edited_value_is_history() {
    let mut edited = String::new();
    let (_sb, _l, report) = tampered(|_, l| {
        edited = common::segment_holding(&l.dir, "transactions", ",4604.75,");
        let path = l.file(&edited);
        write(&path, read(&path).replacen(",4604.75,", ",9604.75,", 1));
    });
    assert_code(&report, "history");
    let history = findings(&report, "history");
    assert_eq!(history[0]["location"]["file"], edited.as_str(), "{report:#}");
    assert_eq!(history[0]["location"]["line"], 2, "the deposit is on line 2: {report:#}");
}

#[test]
fn tamper_deleted_row_is_history() {
    let (_sb, _l, report) = tampered(|_, l| {
        let path = l.file("tables/roles/1/01.csv");
        let text = read(&path);
        let mut lines: Vec<&str> = text.lines().collect();
        assert!(lines.len() >= 2, "{text}");
        lines.remove(1);
        write(&path, lines.join("\n") + "\n");
    });
    assert_code(&report, "history");
    assert_eq!(
        findings(&report, "history")[0]["location"]["file"],
        "tables/roles/1/01.csv",
        "{report:#}"
    );
}

#[test]
fn tamper_deleted_last_row_is_history() {
    let (_sb, _l, report) = tampered(|_, l| {
        let path = l.file(&transactions(l));
        let mut lines = read(&path).lines().map(str::to_string).collect::<Vec<_>>();
        lines.pop();
        write(&path, lines.iter().map(|l| format!("{l}\n")).collect::<String>());
    });
    assert_code(&report, "history");
    assert!(
        findings(&report, "history")[0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("deleted"),
        "{report:#}"
    );
}

#[test]
fn tamper_changed_header_is_history() {
    let (_sb, _l, report) = tampered(|_, l| {
        let path = l.file("tables/teams/1/01.csv");
        let text = read(&path);
        assert!(text.starts_with("seq,timestamp,"), "{text}");
        write(&path, text.replacen("seq,timestamp,", "seq,time,", 1));
    });
    assert_code(&report, "history");
    let history = findings(&report, "history");
    assert_eq!(history[0]["location"]["line"], 1, "{report:#}");
    assert!(history[0]["message"].as_str().unwrap_or("").contains("header"), "{report:#}");
}

#[test]
fn tamper_row_copied_with_next_seq_has_a_bad_signature() {
    let mut added = String::new();
    let (_sb, _l, report) = tampered(|_, l| {
        // The demo's last transaction (its donation, seq 34), copied as the next row.
        let last = last_line(&l.file(&transactions(l)));
        assert!(last.contains(",deposit-eur,"), "the demo's last transaction is a deposit: {last}");
        added = add_transaction(l, with_seq(&last, DEMO_ROWS + 1) + "\n");
    });
    let signature_findings: Vec<&Value> = report["violations"]
        .as_array()
        .map(|v| {
            v.iter()
                .filter(|f| f["code"] == "bad-signature" || f["code"] == "key-not-valid")
                .collect()
        })
        .unwrap_or_default();
    assert!(!signature_findings.is_empty(), "a copied signature must not pass: {report:#}");
    assert_eq!(signature_findings[0]["seq"], DEMO_ROWS + 1, "{report:#}");
    assert_eq!(signature_findings[0]["location"]["file"], added.as_str(), "{report:#}");
}

#[test]
fn tamper_forged_signature_is_bad_signature() {
    let zeros = format!("{}==", "A".repeat(86));
    let (_sb, _l, report) = tampered(|_, l| {
        let last = with_seq(&last_line(&l.file(&transactions(l))), DEMO_ROWS + 1);
        let (rest, _) = last.rsplit_once(',').expect("a signature field");
        add_transaction(l, format!("{rest},{zeros}\n"));
    });
    assert_code(&report, "bad-signature");
    assert_eq!(findings(&report, "bad-signature")[0]["seq"], DEMO_ROWS + 1, "{report:#}");
}

#[test]
fn tamper_file_outside_the_tables_is_unexpected_file() {
    let (_sb, _l, report) = tampered(|_, l| write(&l.file("notes.txt"), "hello\n"));
    assert_code(&report, "unexpected-file");
}

#[test]
fn tamper_unknown_table_folder_is_unexpected_file() {
    let (_sb, _l, report) = tampered(|_, l| {
        std::fs::create_dir_all(l.file("tables/extra")).expect("mkdir");
        write(&l.file("tables/extra/000001.csv"), "seq\n");
    });
    assert_code(&report, "unexpected-file");
}

#[test]
fn tamper_policy_edit_without_amendment_is_policy() {
    let (_sb, _l, report) = tampered(|_, l| {
        let path = l.file("ledger.toml");
        let text = read(&path);
        assert!(text.contains("review = \"5\""), "{text}");
        write(&path, text.replacen("review = \"5\"", "review = \"500\"", 1));
    });
    assert_code(&report, "policy");
}

#[test]
fn tamper_crlf_line_is_unreadable() {
    let (_sb, _l, report) = tampered(|_, l| {
        let last = last_line(&l.file(&transactions(l)));
        add_transaction(l, with_seq(&last, DEMO_ROWS + 1) + "\r\n");
    });
    assert_code(&report, "unreadable");
    assert!(
        findings(&report, "unreadable")[0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("carriage return"),
        "{report:#}"
    );
}

#[test]
fn tamper_wrong_field_count_is_unreadable() {
    let (_sb, _l, report) = tampered(|_, l| {
        let line = with_seq(&last_line(&l.file(&transactions(l))), DEMO_ROWS + 1);
        let (shorter, _) = line.rsplit_once(',').expect("fields");
        add_transaction(l, format!("{shorter}\n"));
    });
    assert_code(&report, "unreadable");
    assert!(
        findings(&report, "unreadable")[0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("fields"),
        "{report:#}"
    );
}

#[test]
fn tamper_byte_order_mark_on_an_appended_line_is_unreadable() {
    let (_sb, _l, report) = tampered(|_, l| {
        let mut bytes = vec![0xEF, 0xBB, 0xBF];
        bytes.extend_from_slice(with_seq(&last_line(&l.file(&transactions(l))), DEMO_ROWS + 1).as_bytes());
        bytes.push(b'\n');
        add_transaction(l, bytes);
    });
    assert_code(&report, "unreadable");
}

#[test]
fn tamper_segment_file_with_byte_order_mark_is_unreadable() {
    // A whole segment file that starts with a BOM, from the root commit on: a fresh ledger
    // whose genesis commit is re-made with plain git after a BOM is put in front of a table.
    let sb = Sandbox::new();
    let founder = sb.keygen("founder");
    let dir = sb.path().join("ledger");
    sb.smartup(&["--ledger", s(&dir), "init", "--handle", "founder", "--key", s(&founder)])
        .ok();
    let l = Ledger {
        dir,
        keys: Default::default(),
    };
    l.read(&sb, &["verify"]).ok();
    let path = l.file("tables/master-events/1/01.csv");
    let mut bytes = vec![0xEF, 0xBB, 0xBF];
    bytes.extend_from_slice(read(&path).as_bytes());
    write(&path, bytes);
    sb.git_ok(&l.dir, &["add", "-A"]);
    sb.git_ok(
        &l.dir,
        &[
            "-c",
            "user.name=x",
            "-c",
            "user.email=x@example.invalid",
            "-c",
            "commit.gpgsign=false",
            "commit",
            "-q",
            "--amend",
            "-m",
            "genesis",
        ],
    );
    let (out, report) = l.verify(&sb);
    assert_eq!(out.code, 1, "{out:?}");
    assert_code(&report, "unreadable");
    let unreadable = findings(&report, "unreadable");
    assert!(
        unreadable[0]["message"].as_str().unwrap_or("").contains("byte-order mark"),
        "{report:#}"
    );
    assert_eq!(unreadable.len(), 1, "{report:#}");
}

// ---------------------------------------------------------------------------------------
// 5. Bad input: refused with a precise message, the ledger unchanged
// ---------------------------------------------------------------------------------------

#[test]
fn unknown_task_is_refused() {
    let sb = Sandbox::new();
    let l = standard_org(&sb);
    unchanged(&sb, &l, || l.act(&sb, "alice", None, &["start-task", "6_2_1_9"]))
        .fails()
        .stderr_has(&["task 6_2_1_9 does not exist"]);
    unchanged(&sb, &l, || {
        l.act(
            &sb,
            "maya",
            None,
            &["assign-task", "6_2_1_9", "--attacker", "alice", "--defender", "bob"],
        )
    })
    .code(1)
    .stderr_has(&["unknown-id", "6_2_1_9", "does not exist"]);
    unchanged(&sb, &l, || l.act(&sb, "captain", None, &["validate-pending-sc", "6_2_1_9"]))
        .fails()
        .stderr_has(&["6_2_1_9", "does not exist"]);
    unchanged(&sb, &l, || {
        l.act(&sb, "maya", None, &["assess-work", "6_2_1_9", "--scores", "9", "8", "8"])
    })
    .code(1)
    .stderr_has(&["[unknown-id] task 6_2_1_9 does not exist"]);
    let unknown_objective = [
        "create-task",
        "6_9_9_1",
        "--objective",
        "5_9_9",
        "--title",
        "x",
        "--size",
        "small",
        "--phase",
        "design",
    ];
    unchanged(&sb, &l, || l.act(&sb, "captain", None, &unknown_objective))
        .code(1)
        .stderr_has(&["[unknown-id] objective 5_9_9 does not exist"]);
    l.read(&sb, &["sig", "999"]).code(1).stderr_has(&["[unknown-id]"]);
}

#[test]
fn drafting_refuses_early_in_the_domain_words_with_a_code_and_exit_1() {
    let sb = Sandbox::new();
    let l = standard_org(&sb);
    let task = |size: &'static str, phase: &'static str| {
        vec![
            "create-task",
            "6_2_1_9",
            "--objective",
            "5_2_1",
            "--title",
            "Later",
            "--size",
            size,
            "--phase",
            phase,
        ]
    };
    unchanged(&sb, &l, || l.act(&sb, "captain", None, &task("huge", "design")))
        .code(1)
        .stderr_has(&["[budget]", "\"huge\" is not a size of the policy", "medium"]);
    unchanged(&sb, &l, || l.act(&sb, "captain", None, &task("small", "dreaming")))
        .code(1)
        .stderr_has(&["[budget]", "\"dreaming\" is not a phase of the policy", "design"]);
    l.act(&sb, "captain", None, &task("small", "design")).ok();
    unchanged(&sb, &l, || l.act(&sb, "alice", None, &["start-task", "6_2_1_9"]))
        .code(1)
        .stderr_has(&["[task-state] task 6_2_1_9 is created; start-task needs it assigned"]);
    unchanged(&sb, &l, || l.act(&sb, "alice", None, &["stop-work"]))
        .code(1)
        .stderr_has(&["[session] alice has no open work session"]);
    unchanged(&sb, &l, || l.act(&sb, "captain", None, &["validate-pending-sc", "6_2_1_9"]))
        .code(1)
        .stderr_has(&["[task-state] task 6_2_1_9 has no pending SC to validate (it is created)"]);
    unchanged(&sb, &l, || l.act(&sb, "captain", None, &["award-sk", "maya", "reviw"]))
        .code(1)
        .stderr_has(&["[malformed-value] \"reviw\" is not an SK reason of the policy: ", "review"]);
    // Shapes are the command line's business: exit 2, saying what is expected.
    unchanged(&sb, &l, || l.act(&sb, "founder", None, &["payout-sc", "alice", "-5"]))
        .code(2)
        .stderr_has(&["an amount is more than zero"]);
    unchanged(&sb, &l, || {
        l.act(&sb, "maya", None, &["assess-work", "6_2_1_9", "--scores", "9,8,11"])
    })
    .code(2)
    .stderr_has(&["11 is not in 1..=10"]);
    unchanged(&sb, &l, || l.act(&sb, "maya", None, &["assess-work", "6_2_1_9", "--scores", "9,8"]))
        .code(2)
        .stderr_has(&["--scores takes three scores"]);
    unchanged(&sb, &l, || l.act(&sb, "founder", None, &["bootstrap-teams", "--team", "3_3"]))
        .code(2)
        .stderr_has(&["write ID=NAME"]);
    // Flags that only writing commands take are refused by the others.
    l.read(&sb, &["status", "--handle", "alice"])
        .code(2)
        .stderr_has(&["unexpected argument '--handle'"]);
    let usage = l.read(&sb, &["--json", "status", "--handle", "alice"]).code(2);
    let usage: serde_json::Value = serde_json::from_str(usage.stderr.trim()).expect("a JSON usage error");
    assert_eq!(
        (usage["type"].as_str(), usage["exit"].as_u64()),
        (Some("error"), Some(2)),
        "{usage}"
    );
    // With --json the error is JSON on standard error too.
    let out = l.act(&sb, "alice", None, &["--json", "start-task", "6_2_1_9"]).code(1);
    let error: serde_json::Value = serde_json::from_str(out.stderr.trim()).expect("a JSON error");
    assert_eq!(error["type"], "error");
    assert_eq!(error["exit"], 1);
    assert_eq!(error["code"], "task-state");
    assert!(
        error["message"].as_str().is_some_and(|m| m.contains("needs it assigned")),
        "{error}"
    );
}

#[test]
fn actor_without_permission_is_refused() {
    let sb = Sandbox::new();
    let l = standard_org(&sb);
    unchanged(&sb, &l, || {
        l.act(
            &sb,
            "bob",
            None,
            &[
                "create-task",
                "6_2_1_2",
                "--objective",
                "5_2_1",
                "--title",
                "Mine",
                "--size",
                "small",
                "--phase",
                "design",
            ],
        )
    })
    .code(1)
    .stderr_has(&["refused", "not-permitted", "bob is not a captain"]);
    unchanged(&sb, &l, || {
        l.act(&sb, "captain", None, &["bootstrap-teams", "--team", "3_3_sales=Sales"])
    })
    .code(1)
    .stderr_has(&["not-permitted", "founder role"]);
    unchanged(&sb, &l, || l.act(&sb, "alice", None, &["deposit-eur", "5", "--reason", "gift"]))
        .code(1)
        .stderr_has(&["not-permitted"]);
    // Not an owner at all (but a well-formed key).
    let stranger = sb.keygen("stranger");
    unchanged(&sb, &l, || {
        l.act_with_key(&sb, "stranger", &stranger, None, &["deposit-eur", "5", "--reason", "gift"])
    })
    .code(1)
    .stderr_has(&["unknown-owner", "stranger"]);
}

#[test]
fn wrong_key_for_the_handle_is_refused() {
    let sb = Sandbox::new();
    let l = standard_org(&sb);
    let args = ["create-objective", "5_2_2", "--team", "3_2", "--title", "Another"];
    // Someone else's registered key.
    unchanged(&sb, &l, || l.act_with_key(&sb, "captain", l.key("maya"), None, &args))
        .code(1)
        .stderr_has(&["key-not-valid", "belongs to maya"]);
    // A key the ledger never saw.
    let unknown = sb.keygen("unregistered");
    unchanged(&sb, &l, || l.act_with_key(&sb, "captain", &unknown, None, &args))
        .code(1)
        .stderr_has(&["key-not-valid", "not registered"]);
    // The right key works.
    l.act(&sb, "captain", None, &args).ok();
}

#[test]
fn passphrase_protected_key_needs_the_passphrase() {
    let sb = Sandbox::new();
    let l = standard_org(&sb);
    let locked = sb.keygen_with_passphrase("bob-locked", "correct horse");
    // bob adds the locked key himself (only the owner adds keys once they have one).
    l.act(&sb, "bob", None, &["register-key", "bob", "--public-key", s(&public_of(&locked))])
        .ok();
    let extra = sb.keygen("bob-extra");
    let args: Vec<String> = [
        "--ledger",
        s(&l.dir),
        "register-key",
        "--handle",
        "bob",
        "--key",
        s(&locked),
        "bob",
        "--public-key",
        s(&public_of(&extra)),
    ]
    .iter()
    .map(|a| a.to_string())
    .collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();

    // No terminal (stdin is null) and no SMARTUP_KEY_PASSPHRASE.
    unchanged(&sb, &l, || sb.smartup(&args))
        .code(3)
        .stderr_has(&["passphrase", "SMARTUP_KEY_PASSPHRASE"]);
    // A wrong passphrase.
    unchanged(&sb, &l, || {
        sb.smartup_with(&args, |c| {
            c.env("SMARTUP_KEY_PASSPHRASE", "wrong");
        })
    })
    .code(3)
    .stderr_has(&["passphrase"]);
    // The right one.
    let out = sb.smartup_with(&args, |c| {
        c.env("SMARTUP_KEY_PASSPHRASE", "correct horse");
    });
    out.ok();
    let log = l.log(&sb);
    let last = log.last().expect("rows");
    assert_eq!(last["actor"], "bob");
    assert_eq!(last["key"], sb.fingerprint(&locked), "the row is signed with the unlocked key");
    l.read(&sb, &["verify"]).ok();
}

#[test]
fn rows_are_recorded_now_and_at_says_only_when_work_happened() {
    let sb = Sandbox::new();
    let l = standard_org(&sb);
    let args = ["create-objective", "5_2_2", "--team", "3_2", "--title", "Another"];
    // A clock (SMARTUP_NOW) before the last row is refused; a malformed one too.
    unchanged(&sb, &l, || l.act(&sb, "captain", Some("2026-01-05T08:59:59Z"), &args))
        .fails()
        .stderr_has(&["2026-01-05T08:59:59Z", "before the last row"]);
    unchanged(&sb, &l, || l.act(&sb, "captain", Some("yesterday"), &args))
        .code(2)
        .stderr_has(&["SMARTUP_NOW", "yesterday"]);
    // --at never back-dates a row: only actions that say when work happened take it.
    let mut with_at = args.to_vec();
    with_at.extend_from_slice(&["--at", common::FOUNDED]);
    unchanged(&sb, &l, || l.act(&sb, "captain", Some("2026-01-06T09:00:00Z"), &with_at))
        .code(2)
        .stderr_has(&["unexpected argument '--at'"]);
    // The same instant as the last row is fine.
    l.act(&sb, "captain", Some(common::FOUNDED), &args).ok();
}

/// Entries are built from git's trees, never from the working tree: a hand edit is never
/// committed with an entry nor overwritten by one. An entry that would write where a hand-made
/// file stands is refused; hand edits elsewhere are left alone (and out of the commit).
#[test]
fn hand_edits_are_never_overwritten_nor_mixed_into_entries() {
    let sb = Sandbox::new();
    let l = standard_org(&sb);
    let objective = |id: &str| -> Vec<String> {
        ["create-objective", id, "--team", "3_2", "--title", "Another"]
            .iter()
            .map(|a| a.to_string())
            .collect()
    };

    // A hand edit of the objectives segment that the next objective grows.
    let next = common::last_segment(&l.dir, "objectives");
    let original = read(&l.file(&next));
    write(&l.file(&next), format!("{original}hand,made\n"));
    let args = objective("5_2_2");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = unchanged(&sb, &l, || l.act(&sb, "captain", None, &args));
    out.fails().stderr_has(&["not committed", &next]);
    assert_eq!(
        read(&l.file(&next)),
        format!("{original}hand,made\n"),
        "the hand edit is left alone"
    );
    assert_eq!(l.log(&sb).len(), 17, "nothing was recorded");
    write(&l.file(&next), original);

    // A hand edit of an existing segment and an untracked file elsewhere.
    let teams = common::last_segment(&l.dir, "teams");
    append(&l.file(&teams), "4,2026-01-05T09:00:00Z,founder,bootstrap-teams,3_3,Sales,,x,y\n");
    write(&l.file("draft.txt"), "todo\n");
    l.act(&sb, "captain", None, &args).ok();
    assert_eq!(l.log(&sb).len(), 18, "the entry was recorded");
    assert!(read(&l.file(&teams)).contains("3_3,Sales"), "the hand edit is left alone");
    assert_eq!(read(&l.file("draft.txt")), "todo\n", "the untracked file is left alone");
    let committed = sb.git_ok(&l.dir, &["show", "--name-only", "--format=", "HEAD"]);
    assert_eq!(committed.trim(), next, "the commit holds the entry's segment only");
    let status = sb.git_ok(&l.dir, &["status", "--porcelain"]);
    assert!(
        status.contains(&format!("M {teams}")) && status.contains("?? draft.txt"),
        "{status}"
    );
    assert!(
        !status.contains("objectives"),
        "the entry's segment is checked out and in the index: {status}"
    );
}

#[test]
fn commands_outside_a_ledger_fail_clearly() {
    let sb = Sandbox::new();
    let outside = sb.path().join("nowhere");
    std::fs::create_dir_all(&outside).expect("mkdir");
    // Precondition: the folder really is outside any git repository.
    sb.git(&outside, &["rev-parse", "--git-dir"]).fails();
    sb.smartup_with(&["status"], |c| {
        c.current_dir(&outside);
    })
    .code(3)
    .stderr_has(&["not inside a git repository", "smartup init"]);
    sb.smartup(&["--ledger", s(&outside), "balance"])
        .code(3)
        .stderr_has(&["not inside a git repository"]);
    sb.smartup(&["--ledger", s(&outside), "verify"])
        .code(3)
        .stderr_has(&["not inside a git repository"]);

    // A git repository without commits is not a ledger either.
    sb.git_ok(&outside, &["init", "-q"]);
    sb.smartup(&["--ledger", s(&outside), "status"]).code(3).stderr_has(&["no commits"]);
}

#[test]
fn init_in_a_git_init_folder_reads_that_repositorys_own_identity() {
    let sb = Sandbox::new();
    let founder = sb.keygen("founder");
    let dir = sb.path().join("fresh");
    std::fs::create_dir_all(&dir).expect("mkdir");
    sb.git(&dir, &["init", "-q", "-b", "main"]).ok();
    sb.git(&dir, &["config", "smartup.handle", "founder"]).ok();
    sb.git(&dir, &["config", "user.signingkey", s(&founder)]).ok();
    let out = sb.smartup_with(&["init", "--name", "Local Identity"], |c| {
        c.current_dir(&dir);
    });
    let out = out.ok();
    assert!(out.stdout.contains("seq 1: register-smartup Local Identity by founder"), "{out:?}");
    // The next command in the same folder signs with the same repository-local identity.
    let next = sb.smartup_with(&["bootstrap-teams", "--team", "3_1_leadership_team=Leadership"], |c| {
        c.current_dir(&dir);
    });
    let next = next.ok();
    assert!(next.stdout.contains("seq 2: bootstrap-teams"), "{next:?}");
}

#[test]
fn init_refuses_a_non_empty_folder_and_an_existing_ledger() {
    let sb = Sandbox::new();
    let founder = sb.keygen("founder");
    let busy = sb.path().join("busy");
    std::fs::create_dir_all(&busy).expect("mkdir");
    write(&busy.join("notes.txt"), "mine\n");
    sb.smartup(&["--ledger", s(&busy), "init", "--handle", "founder", "--key", s(&founder)])
        .code(3)
        .stderr_has(&["not empty"]);
    assert!(!busy.join(".git").exists(), "no repository is created in a refused folder");
    assert_eq!(std::fs::read_dir(&busy).expect("ls").count(), 1, "the folder is left as it was");

    let sb2 = Sandbox::new();
    let l = standard_org(&sb2);
    let founder = l.key("founder").to_path_buf();
    unchanged(&sb2, &l, || {
        sb2.smartup(&[
            "--ledger",
            s(&l.dir),
            "init",
            "--handle",
            "founder",
            "--key",
            s(&founder),
            "--name",
            "Again",
        ])
    })
    .code(3)
    .stderr_has(&["already has commits"]);
    // The alias, with an invalid handle, in an empty folder: refused, nothing left behind.
    let empty = sb.path().join("empty");
    sb.smartup(&[
        "--ledger",
        s(&empty),
        "register-smartup",
        "--handle",
        "Not A Handle",
        "--key",
        s(sb.path().join("keys/founder").as_path()),
    ])
    .fails();
    let head = sb.git(&empty, &["rev-parse", "--verify", "-q", "HEAD"]);
    assert_ne!(head.code, 0, "no genesis commit with an invalid handle: {head:?}");
}

#[test]
fn export_of_an_unknown_table_fails() {
    let sb = Sandbox::new();
    let l = sb.demo();
    // A name that is no table or action is a usage error (exit 2) that lists the right ones.
    l.read(&sb, &["export", "no-such-table"])
        .code(2)
        .stderr_has(&["'no-such-table'", "not a table; the tables are", "task-budgets"]);
    l.read(&sb, &["log", "--table", "no-such-table"])
        .code(2)
        .stderr_has(&["not a table"]);
    l.read(&sb, &["log", "--action", "start-wrk"])
        .code(2)
        .stderr_has(&["not an action; the actions are", "start-work"]);
}

#[test]
fn usage_errors_exit_2() {
    let sb = Sandbox::new();
    let l = sb.demo();
    let before = l.snapshot(&sb);
    l.act(&sb, "maya", None, &["assess-work", "6_2_1_1"])
        .code(2)
        .stderr_has(&["--scores"]);
    l.act(&sb, "maya", None, &["assess-work", "6_2_1_1", "--scores", "9", "8"])
        .fails()
        .stderr_has(&["scores"]);
    l.act(&sb, "founder", None, &["no-such-command"]).code(2);
    assert_eq!(before, l.snapshot(&sb));
}

// ---------------------------------------------------------------------------------------
// 6. The genesis anchor
// ---------------------------------------------------------------------------------------

#[test]
fn verify_genesis_anchor() {
    let sb = Sandbox::new();
    let l = sb.demo();
    let root = sb.git_ok(&l.dir, &["rev-list", "--max-parents=0", "HEAD"]);
    assert_eq!(root.lines().count(), 1, "one root commit");
    let second = sb
        .git_ok(&l.dir, &["rev-list", "--reverse", "HEAD"])
        .lines()
        .nth(1)
        .expect("a second commit")
        .to_string();

    let out = l.read(&sb, &["verify", "--json", "--genesis", &second]);
    assert_eq!(out.code, 1, "{out:?}");
    let report = out.verify_report();
    assert_eq!(codes(&report), vec!["genesis"], "{report:#}");
    assert!(
        report["violations"][0]["message"].as_str().unwrap_or("").contains(&root),
        "the message names the real root: {report:#}"
    );
    l.read(&sb, &["verify", "--genesis", "HEAD"]).code(1);

    let out = l.read(&sb, &["verify", "--json", "--genesis", &root]).ok();
    assert_eq!(out.verify_report()["ok"], true);
    l.read(&sb, &["verify", "--genesis", &root[..12]]).ok();
    l.read(&sb, &["verify", "--genesis", "0123456789abcdef0123456789abcdef01234567"])
        .code(3);
}

// ---------------------------------------------------------------------------------------
// 7. Key rotation
// ---------------------------------------------------------------------------------------

#[test]
fn rotated_key_stops_signing() {
    let sb = Sandbox::new();
    let l = standard_org(&sb);
    let old = l.key("alice").to_path_buf();
    let old_fp = sb.fingerprint(&old);
    let new = sb.keygen("alice-2026");
    let new_fp = sb.fingerprint(&new);

    l.act_ok(
        &sb,
        "alice",
        "2026-01-06T09:00:00Z",
        &[
            "rotate-key",
            "alice",
            "--revokes",
            &old_fp,
            "--public-key",
            s(&public_of(&new)),
            "--note",
            "new laptop",
        ],
        &[(18, "rotate-key")],
    );
    let rotation = l.log(&sb).pop().expect("rows");
    assert_eq!(rotation["columns"]["revokes"], old_fp.as_str(), "{rotation}");
    assert_eq!(
        rotation["key"],
        old_fp.as_str(),
        "the rotation is signed with the old key: {rotation}"
    );

    let spare = sb.keygen("alice-spare");
    let spare_public = public_of(&spare);
    let args = ["register-key", "alice", "--public-key", s(&spare_public)];
    unchanged(&sb, &l, || l.act_with_key(&sb, "alice", &old, Some("2026-01-06T10:00:00Z"), &args))
        .code(1)
        .stderr_has(&["key-not-valid", "revoked"]);
    let out = l.act_with_key(&sb, "alice", &new, Some("2026-01-06T10:00:00Z"), &args).ok();
    assert!(out.stdout.contains("seq 19: register-key alice by alice"), "{out:?}");
    assert_eq!(l.log(&sb).pop().expect("rows")["key"], new_fp.as_str());

    // Rotating a key that is already revoked is refused.
    let another = sb.keygen("alice-another");
    unchanged(&sb, &l, || {
        l.act_with_key(
            &sb,
            "alice",
            &new,
            None,
            &["rotate-key", "alice", "--revokes", &old_fp, "--public-key", s(&public_of(&another))],
        )
    })
    .code(1)
    .stderr_has(&["key-not-valid"]);

    // The allowed-signers file lists both keys and says which is revoked.
    let signers = l.read(&sb, &["keys", "allowed-signers"]).ok().stdout;
    let alice_lines: Vec<&str> = signers.lines().filter(|line| line.starts_with("alice ")).collect();
    assert_eq!(alice_lines.len(), 3, "{signers}");
    assert!(alice_lines.iter().any(|line| line.contains("revoked at seq 18")), "{signers}");
    // Rows and commits signed before the revocation still check out with OpenSSH and git.
    let allowed = sb.path().join("allowed_signers");
    write(&allowed, &signers);
    let (sig, msg) = (sb.path().join("rotation.sig"), sb.path().join("rotation.msg"));
    write(&sig, l.read(&sb, &["sig", "18"]).ok().stdout);
    write(&msg, l.read(&sb, &["sig", "18", "--message"]).ok().stdout);
    // The old key's validity ends at its revocation: checked at the row's own time it
    // verifies, checked now it does not.
    let log = l.read(&sb, &["log", "--json"]).ok().stdout;
    let row: Value = log
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .find(|r| r["seq"] == 18)
        .unwrap();
    let compact: String = row["timestamp"]
        .as_str()
        .unwrap()
        .chars()
        .filter(|c| c.is_ascii_digit())
        .collect::<String>()
        + "Z";
    let verify_time = format!("verify-time={compact}");
    sb.ssh_keygen(
        &[
            "-Y",
            "verify",
            "-f",
            s(&allowed),
            "-I",
            "alice",
            "-n",
            NAMESPACE,
            "-s",
            s(&sig),
            "-O",
            &verify_time,
        ],
        &msg,
    )
    .ok();
    sb.ssh_keygen(
        &["-Y", "verify", "-f", s(&allowed), "-I", "alice", "-n", NAMESPACE, "-s", s(&sig)],
        &msg,
    )
    .fails();
    let config = format!("gpg.ssh.allowedSignersFile={}", s(&allowed));
    sb.git(&l.dir, &["-c", &config, "verify-commit", "HEAD~1"]).ok();
    sb.git(&l.dir, &["-c", &config, "verify-commit", "HEAD"]).ok();

    let (out, report) = l.verify(&sb);
    out.ok();
    assert_eq!(report["ok"], true, "{report}");
}

// ---------------------------------------------------------------------------------------
// Policy amendments and the readers
// ---------------------------------------------------------------------------------------

/// Amending the policy to the file already in force is refused before anything is written
/// (the commit could not change `ledger.toml` to what its row names).
#[test]
fn amending_the_policy_to_itself_is_refused() {
    let sb = Sandbox::new();
    let l = sb.demo();
    let same = sb.path().join("same.toml");
    write(&same, read(&l.file("ledger.toml")));
    let out = unchanged(&sb, &l, || {
        l.act(&sb, "founder", None, &["amend-policy", s(&same), "--note", "again"])
    });
    out.fails().stderr_has(&["policy in force", "nothing to amend"]);
}

/// After a signed amendment of `segment_rows`, the ledger still verifies, and the commands
/// that read it at HEAD (`log`, `export`, `sig`) must keep working on the segments that were
/// filled under the earlier limit. (Refusing such an amendment outright would be fine too.)
#[test]
fn readers_still_work_after_segment_rows_is_amended() {
    let sb = Sandbox::new();
    let l = sb.demo();
    let policy = read(&l.file("ledger.toml"));
    let new_policy = sb.path().join("ledger-amended.toml");
    let amended = policy.replacen("segment_rows = 32", "segment_rows = 2", 1);
    assert_ne!(amended, policy, "the template's segment_rows");
    write(&new_policy, amended);
    let amend = l.act(
        &sb,
        "founder",
        None,
        &["amend-policy", s(&new_policy), "--note", "smaller segments"],
    );
    if amend.code != 0 {
        amend.stderr_has(&["segment_rows"]);
        return;
    }
    l.act(&sb, "carla", None, &["award-sk", "maya", "review"]).ok();
    let (out, report) = l.verify(&sb);
    out.ok();
    assert_eq!(report["rows"], DEMO_ROWS + 2, "{report}");
    let log = l.read(&sb, &["log", "--json"]).ok().json_lines();
    assert_eq!(log.len() as u64, DEMO_ROWS + 2);
    let keys = l.read(&sb, &["export", "keys"]).ok();
    assert_eq!(keys.stdout.lines().count(), 1 + 4, "header + the four register-key rows: {keys:?}");
    l.read(&sb, &["sig", "5"]).ok();
}
