//! The reading commands on the demo ledger: `log --json` is JSON Lines of typed rows,
//! `status` and `balance` are one JSON document each, and the clock they read at can be
//! pinned (`SMARTUP_NOW`), so SK decay is shown for that instant.

mod common;

use common::{Ledger, Sandbox};
use serde_json::Value;

/// `smartup --ledger DIR ARGS` with the clock pinned at `now`.
fn read_at(sb: &Sandbox, ledger: &Ledger, now: &str, args: &[&str]) -> Value {
    let mut all = vec!["--ledger", ledger.dir.to_str().expect("UTF-8 path")];
    all.extend_from_slice(args);
    sb.smartup_with(&all, |c| {
        c.env("SMARTUP_NOW", now);
    })
    .ok()
    .json()
}

fn sk_of(balance: &Value, owner: &str) -> String {
    let owners = balance["owners"].as_array().expect("owners");
    let entry = owners.iter().find(|o| o["owner"] == owner).expect("listed");
    entry["sk"].as_str().unwrap_or("").to_string()
}

#[test]
fn log_status_and_balance_serialise_the_views() {
    let sb = Sandbox::new();
    let ledger = sb.demo();

    let log = ledger.read(&sb, &["log", "--json"]).ok().json_lines();
    assert!(log.iter().all(|r| r["type"] == "row"), "every line is a typed row");
    let seqs: Vec<u64> = log.iter().filter_map(|r| r["seq"].as_u64()).collect();
    assert_eq!(seqs, (1..=log.len() as u64).collect::<Vec<_>>());

    let status = ledger.read(&sb, &["status", "--json"]).ok().json();
    assert_eq!(status["last_seq"].as_u64(), Some(log.len() as u64), "{status}");
    assert_eq!(status["tasks"][0]["status"], "paid", "{status}");
    let text = ledger.read(&sb, &["status"]).ok().stdout;
    for heading in [
        "open tasks: 0",
        "in progress tasks: 0",
        "pending validation tasks: 0",
        "paid tasks: 1",
    ] {
        assert!(text.contains(heading), "{heading:?} in:\n{text}");
    }

    // maya holds 5 SK from the demo's last rows; a year on they have decayed, and a clock
    // behind the ledger shows them as of its last row.
    let last = log.last().and_then(|r| r["timestamp"].as_str()).unwrap_or("").to_string();
    let now = read_at(&sb, &ledger, &last, &["balance", "--json"]);
    assert_eq!(sk_of(&now, "maya"), "5.00", "{now}");
    assert_eq!(now["at"], last.as_str());
    let behind = read_at(&sb, &ledger, "2020-01-01T00:00:00Z", &["balance", "--json"]);
    assert_eq!(sk_of(&behind, "maya"), "5.00", "{behind}");
    let year = format!("{}{}", (last[..4].parse::<u32>().unwrap_or(2026) + 1), &last[4..]);
    let later = read_at(&sb, &ledger, &year, &["balance", "--json"]);
    assert_eq!(later["at"], year.as_str());
    let decayed: f64 = sk_of(&later, "maya").parse().unwrap_or(f64::MAX);
    assert!(decayed < 5.0, "SK decays over a year: {later}");
}

#[test]
fn events_since_a_seq_are_the_tail_of_all_events_in_words() {
    let sb = Sandbox::new();
    let ledger = sb.demo();
    let all = ledger.read(&sb, &["events", "--json"]).ok().json_lines();
    let rows = ledger.read(&sb, &["log", "--json"]).ok().json_lines();
    assert_eq!(all.len(), rows.len(), "one event per row");
    assert!(all
        .iter()
        .all(|e| e["type"] == "event" && e["words"].as_str().is_some_and(|w| !w.is_empty())));
    for since in [0, 1, 17, rows.len() as u64 - 1, rows.len() as u64] {
        let tail = ledger
            .read(&sb, &["events", "--json", "--since", &since.to_string()])
            .ok()
            .json_lines();
        assert_eq!(tail, all[since as usize..], "events after seq {since}");
    }
    let rows_after = ledger.read(&sb, &["log", "--json", "--since", "20"]).ok().json_lines();
    assert_eq!(rows_after, rows[20..], "log --since 20 is the log after seq 20");
    let words = ledger.read(&sb, &["events", "--since", "26"]).ok().stdout;
    assert!(words.contains("assessed 6_2_1_1 (Design the logo)"), "{words}");
    assert!(!words.contains("started work"), "only what followed seq 26: {words}");
}

#[test]
fn events_read_across_a_policy_amendment_follow_the_amended_policy() {
    // A link-matrix row is accepted only under a policy with [matrix]: the events after the
    // amendment must be replayed with the amended policy in force.
    let sb = Sandbox::new();
    let ledger = sb.demo();
    let policy = sb.path().join("with-matrix.toml");
    let text = std::fs::read_to_string(ledger.file("ledger.toml")).unwrap();
    let matrix =
        "\n[matrix]\nhomeserver = \"https://matrix.example.org\"\nserver_name = \"example.org\"\nbot = \"@engelbot:example.org\"\n";
    std::fs::write(&policy, format!("{text}{matrix}")).unwrap();
    let before = ledger.read(&sb, &["log", "--json"]).ok().json_lines().len();
    ledger.act(&sb, "founder", None, &["amend-policy", policy.to_str().unwrap()]).ok();
    ledger.act(&sb, "alice", None, &["matrix", "link", "@alice:example.org"]).ok();
    let tail = ledger
        .read(&sb, &["events", "--json", "--since", &before.to_string()])
        .ok()
        .json_lines();
    let kinds: Vec<&str> = tail.iter().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(kinds, ["policy-amended", "matrix-linked"], "{tail:?}");
    assert_eq!(tail[1]["words"], "alice linked the Matrix account @alice:example.org");
    assert_eq!(ledger.read(&sb, &["events", "--json"]).ok().json_lines().len(), before + 2);
}

#[test]
fn metrics_pass_promtool_and_count_the_refused_push() {
    let sb = Sandbox::new();
    let ledger = sb.demo();
    let forge = sb.path().join("demo/forge.git");
    let out = sb.path().join("textfile/smartup.prom");
    std::fs::create_dir_all(out.parent().expect("a folder")).expect("the textfile folder");
    let forge_text = forge.to_str().expect("UTF-8 path");
    let out_text = out.to_str().expect("UTF-8 path");
    sb.smartup(&["--ledger", forge_text, "metrics", "--textfile", out_text]).ok();
    let text = std::fs::read_to_string(&out).expect("the textfile");

    let promtool = std::path::Path::new("/usr/bin/promtool");
    assert!(
        promtool.exists(),
        "promtool is needed: apt-get install prometheus (.ci/run installs it)"
    );
    let mut check = sb.command("/usr/bin/promtool");
    check
        .args(["check", "metrics"])
        .stdin(std::fs::File::open(&out).expect("the textfile"));
    let checked = common::run(check);
    assert_eq!(checked.code, 0, "promtool found problems: {checked:?}\n{text}");

    // The demo's forged push was refused once: the tally counts its problem.
    let refused: u64 = text
        .lines()
        .filter(|l| l.starts_with("smartup_hook_refusals_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum();
    assert!(refused >= 1, "{text}");
    let balance = ledger.read(&sb, &["balance", "--json"]).ok().json();
    let eur = balance["treasury"]["eur"].as_str().expect("treasury");
    assert!(text.contains(&format!("smartup_treasury_eur {eur}\n")), "{text}");
    let log = ledger.log(&sb);
    assert!(text.contains(&format!("smartup_last_seq {}\n", log.len())), "{text}");
    for who in ["alice", "bob", "carla", "maya", "founder"] {
        assert!(!text.contains(who), "no person is named: {who}");
    }
}

#[test]
fn doctor_finds_a_broken_hook_and_a_cold_cache_and_says_how_to_fix_them() {
    let sb = Sandbox::new();
    sb.demo();
    let forge = sb.path().join("demo/forge.git");
    let forge_text = forge.to_str().expect("UTF-8 path");
    let healthy = sb.smartup(&["doctor", "--repo", forge_text]).ok();
    for line in [
        "ok       pre-receive hook",
        "ok       post-receive hook",
        "ok       state cache",
        "ok       ledger",
        "no [forgejo] section",
    ] {
        assert!(healthy.stdout.contains(line), "{line}: {healthy:?}");
    }

    // The binary the hook runs is gone. (The state cache is not needed yet: the demo's 22
    // commits replay in a moment, so removing it is no problem.)
    let hook = ["hooks/pre-receive.d/smartup", "hooks/pre-receive"]
        .iter()
        .map(|h| forge.join(h))
        .find(|p| p.is_file())
        .expect("the installed hook");
    let script = std::fs::read_to_string(&hook).unwrap();
    let moved = script.replace(common::SMARTUP, "/nowhere/smartup");
    assert_ne!(moved, script, "the hook names the binary under test");
    std::fs::write(&hook, moved).unwrap();
    let _ = std::fs::remove_dir_all(forge.join("smartup/state"));
    let sick = sb.smartup(&["doctor", "--repo", forge_text]).code(1);
    for line in [
        "PROBLEM  pre-receive hook",
        "/nowhere/smartup, which does not run",
        "fix: smartup hook install --repo",
        "ok       state cache: a push replays at most 34 commits from genesis (no checkpoint)",
    ] {
        assert!(sick.stdout.contains(line), "{line}: {sick:?}");
    }
    assert!(sick.stderr.contains("problem(s) to fix"), "{sick:?}");
    let json = sb.smartup(&["--json", "doctor", "--repo", forge_text]).code(1).json();
    assert_eq!(json["ok"], false, "{json}");

    // The fixes it names make it healthy again.
    sb.smartup(&["hook", "install", "--repo", forge_text]).ok();
    sb.smartup(&["doctor", "--repo", forge_text]).ok();
}

/// `smartup journal` writes the money as a journal that hledger accepts and whose balances
/// are the treasury and the SC each owner holds, as `smartup balance` shows them.
#[test]
fn the_journal_is_the_money_and_hledger_agrees_with_balance() {
    let sb = Sandbox::new();
    let ledger = sb.demo();
    // The treasury keeps a reserve: money in first, then some of alice's SC out.
    ledger
        .act(&sb, "founder", None, &["deposit-eur", "100", "--reason", "donation"])
        .ok();
    ledger.act(&sb, "founder", None, &["payout-sc", "alice", "10.00"]).ok();
    let file = sb.path().join("money.journal");
    ledger.read(&sb, &["journal", "--output", file.to_str().expect("UTF-8 path")]).ok();
    let text = std::fs::read_to_string(&file).expect("the journal");
    assert!(text.contains("income:deposits") && text.contains("expenses:work"), "{text}");
    let payout = text.split("\n\n").find(|t| t.contains("action: payout-sc")).expect("the payout");
    for posting in [
        "assets:treasury",
        "expenses:sc-payouts",
        "liabilities:sc:alice",
        "equity:sc-redeemed",
    ] {
        assert!(payout.contains(posting), "{payout}");
    }
    assert!(!text.contains("start-work"), "rows that move no money write nothing: {text}");

    let installed = std::process::Command::new("hledger")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(installed, "hledger is needed: apt-get install hledger (.ci/run installs it)");
    let run = |args: &[&str]| {
        let out = std::process::Command::new("hledger")
            .arg("-f")
            .arg(&file)
            .args(args)
            .output()
            .expect("run hledger");
        assert!(out.status.success(), "hledger {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("UTF-8")
    };
    run(&["check"]);
    let balances = run(&["balance", "--flat", "-O", "csv"]);
    let of = |account: &str| -> String {
        let line = balances
            .lines()
            .find(|l| l.starts_with(&format!("\"{account}\",")))
            .unwrap_or_default();
        line.rsplit(',').next().unwrap_or_default().trim_matches('"').to_string()
    };
    let balance = ledger.read(&sb, &["balance", "--json"]).ok().json();
    assert_eq!(
        of("assets:treasury"),
        format!("{} EUR", balance["treasury"]["eur"].as_str().expect("eur")),
        "{balances}"
    );
    for owner in balance["owners"].as_array().expect("owners") {
        let sc = owner["sc"].as_str().expect("sc");
        let account = format!("liabilities:sc:{}", owner["owner"].as_str().expect("owner"));
        let expected = if sc == "0.00" { String::new() } else { format!("-{sc} SC") };
        assert_eq!(of(&account), expected, "{account} in {balances}");
    }
    assert_eq!(of("total"), "0", "{balances}");
}

/// The rows of `smartup events --json` after seq `since`, in words.
fn words_since(sb: &Sandbox, ledger: &Ledger, since: u64) -> Vec<String> {
    let events = ledger
        .read(sb, &["events", "--json", "--since", &since.to_string()])
        .ok()
        .json_lines();
    events.iter().filter_map(|e| e["words"].as_str().map(str::to_string)).collect()
}

#[test]
fn proposals_are_made_voted_closed_and_shown_by_status_balance_proposals_and_events() {
    let sb = Sandbox::new();
    let ledger = sb.demo_pinned(Some("2026-11-30T12:00:00Z"));
    let (t0, t1, t2) = ("2026-12-01T09:00:00Z", "2026-12-01T10:00:00Z", "2026-12-08T09:00:00Z");
    let before = ledger.log(&sb).len() as u64;
    let (mvp, logo) = (before + 1, before + 2);
    let text = sb.path().join("proposal.md");
    std::fs::write(&text, "We have a working MVP.\n").unwrap();
    let text = text.to_str().expect("UTF-8 path");
    let propose = [
        "propose",
        "binding-vote",
        "--title",
        "Declare the MVP",
        "--text",
        text,
        "--declares",
        "working-mvp",
    ];
    ledger.act_ok(&sb, "founder", t0, &propose, &[(mvp, "propose")]);
    let lazy = ["propose", "lazy-consensus", "--title", "Adopt the logo", "--text", text];
    ledger.act_ok(&sb, "founder", t0, &lazy, &[(logo, "propose")]);
    for (who, n, choice) in [("alice", mvp, "yes"), ("bob", mvp, "no"), ("carla", mvp, "yes")] {
        ledger.act(&sb, who, Some(t1), &["vote", &n.to_string(), choice]).ok();
    }
    ledger
        .act(&sb, "bob", Some(t1), &["object", &logo.to_string(), "--note", "too early"])
        .ok();
    let at = |now: &str, args: &[&str]| read_at(&sb, &ledger, now, args);

    // While the vote runs: the tally so far, participation against the quorum (25% since the
    // demo's amendment), time left.
    let open = at(t1, &["proposals", "--json"]);
    let first = &open["proposals"][0];
    assert_eq!(first["seq"].as_u64(), Some(mvp), "{open}");
    assert_eq!(first["status"], "voting");
    assert_eq!((first["yes"].as_str(), first["no"].as_str()), (Some("2.000"), Some("1.000")));
    assert_eq!(
        first["eligible"], "5.045",
        "the founder's 40 SK weigh 1.040, maya's 5 SK 1.005: {first}"
    );
    assert_eq!(
        (first["participation"].as_str(), first["quorum"].as_str()),
        (Some("59.46"), Some("25.00"))
    );
    assert_eq!(first["seconds_left"].as_i64(), Some(167 * 3600));
    let second = &open["proposals"][1];
    assert_eq!(
        (second["status"].as_str(), second["objections"].as_u64()),
        (Some("lazy consensus"), Some(1))
    );
    assert_eq!(second["seconds_left"].as_i64(), Some(47 * 3600));
    assert_eq!(open["tranches"][0]["released"], "24660.00", "the demo released the design tranche");
    assert_eq!(open["tranches"][1]["triggered"], false, "production waits for working-mvp");
    let status = at(t1, &["status", "--json"]);
    assert_eq!(status["proposals"].as_array().map(Vec::len), Some(2), "{status}");
    assert_eq!(status["sc_pending_in_tranches"], "57540.00");
    let text = sb
        .smartup_with(&["--ledger", common::s(&ledger.dir), "status"], |c| {
            c.env("SMARTUP_NOW", t1);
        })
        .ok()
        .stdout;
    assert!(text.contains("SC pending in tranches: 57540.00\n\nopen proposals: 2\n"), "{text}");
    assert!(
        text.contains(&format!(
            "  #{mvp} (binding-vote) Declare the MVP: voting until {t2} (6 d 23 h left)"
        )),
        "{text}"
    );

    // After the windows: both closed, the declaration holds and triggers the production tranche.
    ledger.act(&sb, "maya", Some(t2), &["close-proposal", &mvp.to_string()]).ok();
    ledger.act(&sb, "maya", Some(t2), &["close-proposal", &logo.to_string()]).ok();
    let one = at(t2, &["proposals", &mvp.to_string(), "--json"]);
    assert_eq!(
        (one["status"].as_str(), one["closed_by"].as_u64()),
        (Some("passed"), Some(logo + 5)),
        "{one}"
    );
    assert_eq!(one["effect"], "declares working-mvp");
    let agenda = at(t2, &["proposals", "--all", "--json"]);
    assert_eq!(
        agenda["proposals"].as_array().map(Vec::len),
        Some(4),
        "the demo's two and these: {agenda}"
    );
    assert_eq!(agenda["tranches"][1]["triggered"], true, "working-mvp is declared");
    assert_eq!(at(t2, &["proposals", "--json"])["proposals"], serde_json::json!([]));
    let treasury = at(t2, &["balance", "--json"])["treasury"].clone();
    assert_eq!(
        (treasury["sc_pending_in_tranches"].as_str(), treasury["sc_outstanding"].as_str()),
        (Some("57540.00"), Some("24709.50"))
    );
    let unknown = ledger.read(&sb, &["--json", "proposals", "999"]).code(1);
    assert!(
        unknown.stderr.contains("\"code\":\"unknown-id\"") && unknown.stderr.contains("smartup proposals --all"),
        "{unknown:?}"
    );

    let words = words_since(&sb, &ledger, before);
    assert_eq!(
        words,
        [
            format!("founder proposed #{mvp} (binding-vote): Declare the MVP"),
            format!("founder proposed #{logo} (lazy-consensus): Adopt the logo"),
            format!("alice voted yes on #{mvp}"),
            format!("bob voted no on #{mvp}"),
            format!("carla voted yes on #{mvp}"),
            format!("bob objected to #{logo} (1 of 3 objections): too early"),
            format!("#{mvp} passed: yes 2.000, no 1.000, abstain 0.000 of 5.045 eligible (3 voters)"),
            format!("#{logo} passed by lazy consensus (1 of 3 objections)"),
        ]
    );
    let verified = sb.smartup_with(&["--ledger", common::s(&ledger.dir), "verify", "--json"], |c| {
        c.env("SMARTUP_NOW", t2);
    });
    let report = verified.verify_report();
    assert_eq!(verified.code, 0, "the decided ledger verifies: {report}");
}
