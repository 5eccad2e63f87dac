//! `smartup forgejo sync` against the Forgejo double: a full sync into an empty organisation
//! and the empty plan after it, every task state with its labels, people's edits, a reopened
//! issue, pagination, tokens, failures midway and their reruns, `--dry-run`, and the double
//! itself holding to the spec and NOTES.md.

mod common;
#[path = "common/forgejo.rs"]
mod forgejo_double;

use common::{s, standard_org, Ledger, Sandbox};
use forgejo_double::*;
use serde_json::{json, Value};

/// Every person of the demo and the standard organisation may be assigned.
const EVERYONE: &[&str] = &["alice", "bob", "maya", "carla", "captain", "founder"];

/// The managed labels of a template policy with two teams: 6 statuses, 2 teams, 8 sizes and
/// special budgets, 4 phases, 3 ADM positions, 3 SC markers, 3 kinds, 5 proposal statuses.
const MANAGED_LABELS: usize = 34;

/// A demo ledger (one paid task, 6_2_1_1, and two passed proposals, 33 and 35) configured for
/// a fresh double.
fn demo_with_double(writers: &[&str]) -> (Sandbox, Ledger, Double) {
    let sb = Sandbox::new();
    let ledger = sb.demo();
    let double = Double::start(&sb, &fixture(writers));
    configure(&sb, &ledger, &double, "");
    (sb, ledger, double)
}

/// The names of an issue's labels.
fn label_names(issue: &Value) -> Vec<String> {
    let mut names: Vec<String> = issue["labels"]
        .as_array()
        .map(|l| l.iter().filter_map(|l| l["name"].as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    names.sort();
    names
}

/// The issue whose body carries the marker of `key` (`task=6_2_1_1`, `proposal=33`).
#[track_caller]
fn issue_marked<'i>(issues: &'i [Value], key: &str) -> &'i Value {
    let marker = format!("<!-- smartup:begin {key} ");
    let found: Vec<&Value> = issues
        .iter()
        .filter(|i| i["body"].as_str().is_some_and(|b| b.contains(&marker)))
        .collect();
    assert_eq!(found.len(), 1, "exactly one issue must carry the marker of {key}: {issues:#?}");
    found[0]
}

/// The issue whose body carries the marker of `task`.
#[track_caller]
fn issue_of<'i>(issues: &'i [Value], task: &str) -> &'i Value {
    issue_marked(issues, &format!("task={task}"))
}

/// The issue whose body carries the marker of proposal `seq`.
#[track_caller]
fn issue_of_proposal(issues: &[Value], seq: u64) -> &Value {
    issue_marked(issues, &format!("proposal={seq}"))
}

/// The ledger's proposals, open and closed (`smartup proposals --all --json`): each has an
/// issue in the general forum's repository. The demo has two, both passed: the amendment that
/// raises the quorum (33) and the release of the design tranche (35).
fn proposals(sb: &Sandbox, ledger: &Ledger) -> Vec<Value> {
    let all = ledger.read(sb, &["proposals", "--all", "--json"]).ok().json();
    all["proposals"].as_array().cloned().expect("the proposals")
}

fn logins(issue: &Value) -> Vec<String> {
    let mut names: Vec<String> = issue["assignees"]
        .as_array()
        .map(|a| a.iter().filter_map(|u| u["login"].as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    names.sort();
    names
}

/// A sync with nothing to do: exit 0, no change planned, not one write request.
#[track_caller]
fn assert_in_step(sb: &Sandbox, ledger: &Ledger, double: &Double) {
    let before = double.log().len();
    let report = sync_ok(sb, ledger);
    assert_eq!(report["changes"], json!([]), "a sync right after a sync plans nothing: {report:#}");
    assert_eq!(report["ok"], true);
    let log = double.log();
    assert_eq!(writes(&log[before..]), Vec::<String>::new(), "no write request");
}

// ---------------------------------------------------------------------------------------
// A full sync into an empty organisation, then nothing to do
// ---------------------------------------------------------------------------------------

#[test]
fn empty_organisation_full_sync_then_nothing_to_do() {
    let (sb, ledger, double) = demo_with_double(EVERYONE);
    sb.git_ok(
        &ledger.dir,
        &["remote", "set-url", "origin", &format!("{}/{ORG}/ledger.git", double.url)],
    );

    let report = sync_ok(&sb, &ledger);
    assert_eq!(report["dry_run"], false);
    assert_eq!(report["warnings"], json!([]), "{report:#}");
    let changes = report["changes"].as_array().expect("changes");
    assert_eq!(report["applied"].as_u64(), Some(changes.len() as u64));
    let count = |action: &str, object: &str| changes.iter().filter(|c| c["action"] == action && c["object"] == object).count();
    assert_eq!(count("create", "label"), MANAGED_LABELS, "{report:#}");
    assert_eq!(count("create", "milestone"), 1);
    // One issue for the paid task, one for each of the demo's proposals (created closed).
    let proposals = proposals(&sb, &ledger);
    assert_eq!(count("create", "issue"), 1 + proposals.len(), "{report:#}");
    assert_eq!(count("add-time", "issue"), 2, "alice's and bob's paired session");
    assert_eq!(changes.len(), MANAGED_LABELS + 4 + proposals.len());

    // Labels: organisation level, scoped, lowercase colours, budgets in the descriptions.
    let labels = double.org_labels();
    assert_eq!(labels.len(), MANAGED_LABELS);
    let medium = labels.iter().find(|l| l["name"] == "size/medium").expect("size/medium");
    assert!(medium["description"].as_str().unwrap_or("").contains("Budget 50.00 SC"), "{medium}");
    assert_eq!(medium["exclusive"], true);
    assert_eq!(
        labels.iter().find(|l| l["name"] == "status/paid").map(|l| l["color"].clone()),
        Some(json!("0e8a16"))
    );

    // The issue: title, closed because paid, people, labels, milestone, section, time.
    let issues = double.issues();
    assert_eq!(issues.len(), 1);
    let issue = issue_of(&issues, "6_2_1_1");
    assert_eq!(issue["title"], "6_2_1_1 — Design the logo");
    assert_eq!(issue["state"], "closed");
    assert_eq!(logins(issue), ["alice", "bob"]);
    assert_eq!(
        label_names(issue),
        [
            "adm/paired",
            "kind/task",
            "phase/design",
            "size/medium",
            "status/paid",
            "team/3_2_design_team"
        ]
    );
    assert_eq!(issue["milestone"]["title"], "5_2_1 — A brand people recognise");
    let body = issue["body"].as_str().unwrap_or("");
    for part in [
        "| Status | paid |",
        "| Budget | 55.00 SC: medium (50.00 SC) × 1.10 in the design phase |",
        "| Attacker | @alice |",
        "| Defender | @bob |",
        "| Work sessions | 2 closed, 4 h 00 min in all |",
        "| Pending SC | 0.00 (Attacker) + 0.00 (Defender) |",
        "| Validated SC | 49.50 |",
        "share 90.00% by @maya",
        &format!(
            "[seq 21]({}/{ORG}/ledger/src/branch/main/tables/task-budgets/1/01.csv?display=source#L2) create-task",
            double.url
        ),
        "<!-- smartup:end -->",
    ] {
        assert!(body.contains(part), "the body should contain {part:?}:\n{body}");
    }
    let milestone = &double.state()["repos"][format!("{ORG}/{DESIGN_REPO}")]["milestones"][0];
    assert!(
        milestone["description"]
            .as_str()
            .unwrap_or("")
            .contains("| Mission leader | @maya |"),
        "{milestone}"
    );
    // Each closed session once, at its clock-in, booked to its owner (the token is an admin's).
    let times = issue["times"].as_array().expect("times");
    let mut booked: Vec<(String, i64)> = times
        .iter()
        .map(|t| (t["user_name"].as_str().unwrap_or("").to_string(), t["time"].as_i64().unwrap_or(0)))
        .collect();
    booked.sort();
    assert_eq!(booked, [("alice".to_string(), 7200), ("bob".to_string(), 7200)]);

    // The demo's proposals, both decided: an issue each in the forum, created closed with the
    // result in its section and no comment (the comment is for an issue that closes later).
    let forum = double.forum_issues();
    assert_eq!(forum.len(), proposals.len(), "one issue per proposal: {forum:#?}");
    let seqs: Vec<u64> = proposals.iter().filter_map(|p| p["seq"].as_u64()).collect();
    assert_eq!(seqs, [33, 35], "the demo's amendment and tranche release");
    for (seq, proposal) in seqs.iter().zip(&proposals) {
        let issue = issue_of_proposal(&forum, *seq);
        let (title, kind) = (proposal["title"].as_str().unwrap_or(""), proposal["kind"].as_str().unwrap_or(""));
        assert_eq!(issue["title"], format!("#{seq} {title} ({kind})"));
        assert_eq!(
            (issue["state"].as_str(), proposal["status"].as_str()),
            (Some("closed"), Some("passed"))
        );
        assert_eq!(label_names(issue), ["kind/proposal", "status/passed"]);
        assert_eq!(issue["assignees"], Value::Null, "nobody is assigned a proposal");
        assert_eq!(issue["comment_bodies"], json!([]), "{issue:#}");
        let (closed_by, applied_by) = (
            proposal["closed_by"].as_u64().unwrap_or(0),
            proposal["applied_by"].as_u64().unwrap_or(0),
        );
        assert_body_shows(
            issue,
            &[
                "| Status | passed |",
                &format!(
                    "| Result | **passed** at {} (seq {closed_by})",
                    proposal["closed_at"].as_str().unwrap_or("")
                ),
                &format!("| Carried out | by seq {applied_by} |"),
                &format!("[seq {closed_by}]({}/{ORG}/ledger/src/branch/main/", double.url),
            ],
        );
    }

    // Every list was read page by page with an explicit page and the largest limit.
    for entry in double.log().iter().filter(|e| {
        e["method"] == "GET"
            && e["path"]
                .as_str()
                .is_some_and(|p| p.ends_with("labels") || p.ends_with("issues") || p.ends_with("milestones") || p.ends_with("times"))
    }) {
        assert_eq!(entry["query"]["limit"], "50", "{entry}");
        assert!(entry["query"]["page"].is_string(), "{entry}");
    }

    assert_in_step(&sb, &ledger, &double);
    let human = sync(&sb, &ledger, Some(SYNC_TOKEN), &[]).ok();
    assert!(human.stdout.contains("Forgejo shows the ledger: nothing to change"), "{human:?}");
    double.assert_followed_the_spec();
}

// ---------------------------------------------------------------------------------------
// Every task state with its labels
// ---------------------------------------------------------------------------------------

/// A UTC time `seconds_ago` before now, for rows that must be recent (an open window).
fn ago(seconds_ago: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let t = now - seconds_ago;
    let (days, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", secs / 3600, secs % 3600 / 60, secs % 60)
}

/// The standard organisation with a task in every state:
/// 6_2_1_1 created; 6_2_1_2 assigned; 6_2_1_3 started, with a closed session and an open one;
/// 6_2_1_4 assessed an hour ago at 50% (window open, a captain's approval needed);
/// 6_2_1_5 complex/production (240 SC) assessed in January at 100% with an objection (window
/// closed, community review needed); 6_2_1_6 paid.
fn every_state(sb: &Sandbox) -> Ledger {
    let l = standard_org(sb);
    let act = |who: &str, at: &str, args: &[&str]| {
        l.act(sb, who, Some(at), args).ok();
    };
    let day = "2026-01-05T10:00:00Z";
    for (task, size, phase) in [
        ("6_2_1_1_brief", "small", "design"),
        ("6_2_1_2_palette", "medium", "design"),
        ("6_2_1_3_font", "medium", "design"),
        ("6_2_1_4_icons", "large", "validation"),
        ("6_2_1_5_site", "complex", "production"),
        ("6_2_1_6_logo", "medium", "design"),
    ] {
        let title = format!("Work on {}", &task[8..]);
        act(
            "captain",
            day,
            &[
                "create-task",
                task,
                "--objective",
                "5_2_1",
                "--title",
                &title,
                "--size",
                size,
                "--phase",
                phase,
            ],
        );
    }
    for task in ["6_2_1_2", "6_2_1_3", "6_2_1_4", "6_2_1_5", "6_2_1_6"] {
        act("maya", day, &["assign-task", task, "--attacker", "alice", "--defender", "bob"]);
    }
    for task in ["6_2_1_3", "6_2_1_4", "6_2_1_5", "6_2_1_6"] {
        act("alice", day, &["start-task", task]);
    }
    let pair = |task: &str, from: &str, to: &str| {
        act("alice", from, &["start-work", task]);
        act("bob", from, &["start-work", task]);
        act("alice", to, &["stop-work"]);
        act("bob", to, &["stop-work"]);
    };
    act("alice", "2026-01-05T10:30:00Z", &["start-work", "6_2_1_3"]);
    act("alice", "2026-01-05T11:30:00Z", &["stop-work"]);
    pair("6_2_1_5", "2026-01-05T12:00:00Z", "2026-01-05T14:00:00Z");
    act(
        "maya",
        "2026-01-05T15:00:00Z",
        &["assess-work", "6_2_1_5", "--scores", "9,9,9", "--share", "100"],
    );
    act(
        "captain",
        "2026-01-05T16:00:00Z",
        &["object-pending-sc", "6_2_1_5", "--note", "the site is not live yet"],
    );
    pair("6_2_1_6", "2026-01-06T09:00:00Z", "2026-01-06T11:00:00Z");
    act(
        "maya",
        "2026-01-06T12:00:00Z",
        &["assess-work", "6_2_1_6", "--scores", "9,8,8", "--share", "90"],
    );
    act("captain", "2026-01-08T12:00:00Z", &["validate-pending-sc", "6_2_1_6"]);
    pair("6_2_1_4", &ago(3 * 3600), &ago(2 * 3600));
    act(
        "maya",
        &ago(3600),
        &["assess-work", "6_2_1_4", "--scores", "5,5,5", "--share", "50"],
    );
    act("alice", &ago(1800), &["start-work", "6_2_1_3"]);
    l
}

#[test]
fn every_task_state_appears_with_its_labels() {
    let sb = Sandbox::new();
    let ledger = every_state(&sb);
    let double = Double::start(&sb, &fixture(EVERYONE));
    configure(&sb, &ledger, &double, "");
    sync_ok(&sb, &ledger);
    let issues = double.issues();
    assert_eq!(issues.len(), 6);
    let expect = |task: &str, state: &str, labels: &[&str], people: &[&str]| {
        let issue = issue_of(&issues, task);
        assert_eq!(issue["state"], state, "{task}: {issue:#}");
        let mut want: Vec<String> = labels.iter().map(|l| l.to_string()).collect();
        want.extend(["kind/task".to_string(), "team/3_2_design_team".to_string()]);
        want.sort();
        assert_eq!(label_names(issue), want, "{task}");
        assert_eq!(logins(issue), people, "{task}");
        assert_eq!(issue["milestone"]["title"], "5_2_1 — A brand people recognise", "{task}");
    };
    let pair = ["alice", "bob"];
    expect(
        "6_2_1_1",
        "open",
        &["status/open", "adm/needs pair", "size/small", "phase/design"],
        &[],
    );
    expect(
        "6_2_1_2",
        "open",
        &["status/assigned", "adm/paired", "size/medium", "phase/design"],
        &pair,
    );
    expect(
        "6_2_1_3",
        "open",
        &["status/in progress", "adm/at work", "size/medium", "phase/design"],
        &pair,
    );
    expect(
        "6_2_1_4",
        "open",
        &[
            "status/assessed",
            "adm/paired",
            "size/large",
            "phase/validation",
            "sc/captain approval",
        ],
        &pair,
    );
    expect(
        "6_2_1_5",
        "open",
        &[
            "status/pending validation",
            "adm/paired",
            "size/complex",
            "phase/production",
            "sc/objection",
            "sc/community review",
        ],
        &pair,
    );
    expect(
        "6_2_1_6",
        "closed",
        &["status/paid", "adm/paired", "size/medium", "phase/design"],
        &pair,
    );

    let site = issue_of(&issues, "6_2_1_5")["body"].as_str().unwrap_or("").to_string();
    for part in [
        "| Budget | 240.00 SC: complex (200.00 SC) × 1.20 in the production phase |",
        "| Lazy consensus | window until 2026-01-07T15:00:00Z; objections: @captain (\"the site is not live yet\"); approvals: none |",
        "| Pending SC | 216.00 (Attacker) + 24.00 (Defender) |",
        "| Assessment | 9 / 9 / 9 (attacker effort, defender learning, collaboration), share 100.00% by @maya at 2026-01-05T15:00:00Z |",
    ] {
        assert!(site.contains(part), "6_2_1_5 should show {part:?}:\n{site}");
    }
    assert_status_agrees_with_the_labels(&sb, &ledger, &issues);
    let font = issue_of(&issues, "6_2_1_3");
    assert!(font["body"]
        .as_str()
        .unwrap_or("")
        .contains("| Work sessions | 1 closed, 1 h 00 min in all; 1 open now |"));
    assert_eq!(
        font["times"].as_array().map(Vec::len),
        Some(1),
        "only closed sessions become tracked time"
    );
    assert_in_step(&sb, &ledger, &double);
    double.assert_followed_the_spec();
}

/// `status`, `status --json` and the Forgejo status label name every task's status with the
/// same word: open, assigned, in progress, assessed (window open), pending validation (window
/// over) and paid all occur.
#[track_caller]
fn assert_status_agrees_with_the_labels(sb: &Sandbox, ledger: &Ledger, issues: &[Value]) {
    let numeric = |id: &str| id.split('_').take(4).collect::<Vec<_>>().join("_");
    let board = ledger.read(sb, &["status", "--json"]).ok().json();
    let text = ledger.read(sb, &["status"]).ok().stdout;
    let mut heading = String::new();
    let mut in_text = std::collections::BTreeMap::new();
    for line in text.lines().take_while(|l| !l.starts_with("open sessions:")) {
        if let Some((word, _)) = line.split_once(" tasks: ") {
            heading = word.to_string();
        } else if let Some(id) = line.strip_prefix("  ").and_then(|l| l.split_whitespace().next()) {
            if id.starts_with("6_") {
                in_text.insert(numeric(id), heading.clone());
            }
        }
    }
    let tasks = board["tasks"].as_array().expect("tasks");
    let mut seen: Vec<String> = Vec::new();
    for task in tasks {
        let id = numeric(task["task"].as_str().unwrap_or(""));
        let word = task["status"].as_str().unwrap_or("").to_string();
        let labels: Vec<String> = label_names(issue_of(issues, &id))
            .into_iter()
            .filter(|l| l.starts_with("status/"))
            .collect();
        assert_eq!(labels, [format!("status/{word}")], "{id}: the label and status --json agree");
        assert_eq!(in_text.get(&id), Some(&word), "{id}: status lists it under {word}:\n{text}");
        seen.push(word);
    }
    seen.sort();
    assert_eq!(
        seen,
        ["assessed", "assigned", "in progress", "open", "paid", "pending validation"],
        "every status occurs once"
    );
}

// ---------------------------------------------------------------------------------------
// People's edits, closing early
// ---------------------------------------------------------------------------------------

#[test]
fn human_edits_outside_the_managed_section_survive() {
    let (sb, ledger, double) = demo_with_double(EVERYONE);
    sync_ok(&sb, &ledger);
    let issue = issue_of(&double.issues(), "6_2_1_1").clone();
    let number = issue["number"].as_i64().expect("number");
    let path = format!("/repos/{ORG}/{DESIGN_REPO}/issues/{number}");
    let section = issue["body"].as_str().unwrap_or("").to_string();
    // alice edits in the browser (CRLF line ends): notes above and below, and inside the
    // section she changes the status; she renames the issue and adds a label of her own.
    let tampered = section.replace("| Status | paid |", "| Status | open again |");
    let body = format!("Sketches: see the wiki.\r\n\r\n{}\r\n\r\n-- alice", tampered.replace('\n', "\r\n"));
    double.api(ALICE_TOKEN, "PATCH", &path, Some(json!({"body": body, "title": "Logo!"})), 201);
    let own = double.api(
        ALICE_TOKEN,
        "POST",
        &format!("/repos/{ORG}/{DESIGN_REPO}/labels"),
        Some(json!({"name": "needs review", "color": "#AABBCC"})),
        201,
    );
    double.api(
        ALICE_TOKEN,
        "POST",
        &format!("{path}/labels"),
        Some(json!({"labels": [own["id"]]})),
        200,
    );

    let report = sync_ok(&sb, &ledger);
    let descriptions: Vec<&str> = report["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter_map(|c| c["description"].as_str())
        .collect();
    assert_eq!(
        descriptions,
        [format!("update issue {DESIGN_REPO}#{number} (task 6_2_1_1): title, body")],
        "only the ledger's parts are put back; the labels are still right"
    );
    let after = issue_of(&double.issues(), "6_2_1_1").clone();
    let new_body = after["body"].as_str().unwrap_or("");
    assert!(
        new_body.starts_with("Sketches: see the wiki.\r\n\r\n<!-- smartup:begin task=6_2_1_1 "),
        "{new_body}"
    );
    assert!(new_body.ends_with("<!-- smartup:end -->\r\n\r\n-- alice"), "{new_body}");
    assert!(
        new_body.contains("| Status | paid |") && !new_body.contains("open again"),
        "{new_body}"
    );
    assert_eq!(after["title"], "6_2_1_1 — Design the logo");
    assert!(label_names(&after).contains(&"needs review".to_string()), "alice's label stays");
    assert_in_step(&sb, &ledger, &double);
    double.assert_followed_the_spec();
}

/// The demo plus a task created just now by carla (design captain): open, unassigned.
/// carla creates a small design task of objective 5_2_1.
fn create_task(sb: &Sandbox, ledger: &Ledger, id: &str, title: &str) {
    let args = [
        "create-task",
        id,
        "--objective",
        "5_2_1",
        "--title",
        title,
        "--size",
        "small",
        "--phase",
        "design",
    ];
    ledger.act(sb, "carla", None, &args).ok();
}

fn demo_with_open_task(writers: &[&str]) -> (Sandbox, Ledger, Double) {
    let (sb, ledger, double) = demo_with_double(writers);
    create_task(&sb, &ledger, "6_2_1_2_colours", "Choose the colours");
    (sb, ledger, double)
}

#[test]
fn an_unpaid_task_closed_by_a_person_is_reopened_with_a_comment() {
    let (sb, ledger, double) = demo_with_open_task(EVERYONE);
    sync_ok(&sb, &ledger);
    let number = issue_of(&double.issues(), "6_2_1_2")["number"].as_i64().expect("number");
    let path = format!("/repos/{ORG}/{DESIGN_REPO}/issues/{number}");
    let closed = double.api(ALICE_TOKEN, "PATCH", &path, Some(json!({"state": "closed"})), 201);
    assert_eq!(closed["state"], "closed");

    let out = sync(&sb, &ledger, Some(SYNC_TOKEN), &[]).ok();
    assert!(
        out.stdout.contains(&format!("reopen issue {DESIGN_REPO}#{number} (task 6_2_1_2)")),
        "{out:?}"
    );
    assert!(out.stdout.contains(&format!("comment on issue {DESIGN_REPO}#{number}")), "{out:?}");
    let issue = issue_of(&double.issues(), "6_2_1_2").clone();
    assert_eq!(issue["state"], "open");
    let comments = issue["comment_bodies"].as_array().expect("comments");
    assert_eq!(comments.len(), 1, "{comments:?}");
    assert!(
        comments[0].as_str().unwrap_or("").contains("task 6_2_1_2 is not paid yet"),
        "{comments:?}"
    );
    // The paid task stays closed, and nothing more happens.
    assert_eq!(issue_of(&double.issues(), "6_2_1_1")["state"], "closed");
    assert_in_step(&sb, &ledger, &double);
    double.assert_followed_the_spec();
}

#[test]
fn people_without_a_forgejo_account_are_named_but_not_assigned() {
    // bob has no write access to the repository, so Forgejo would refuse him as assignee.
    let (sb, ledger, double) = demo_with_double(&["alice", "maya", "carla"]);
    let out = sync(&sb, &ledger, Some(SYNC_TOKEN), &[]).ok();
    assert!(
        out.stderr
            .contains("warning: bob (task 6_2_1_1) has no Forgejo account that may be assigned"),
        "{out:?}"
    );
    let issue = issue_of(&double.issues(), "6_2_1_1").clone();
    assert_eq!(logins(&issue), ["alice"]);
    assert!(issue["body"].as_str().unwrap_or("").contains("| Defender | @bob |"));
    // bob's session is booked all the same (to the sync's user, as Forgejo does).
    let users: Vec<&str> = issue["times"]
        .as_array()
        .expect("times")
        .iter()
        .filter_map(|t| t["user_name"].as_str())
        .collect();
    assert_eq!(users.len(), 2, "{users:?}");
    assert!(users.contains(&"alice") && users.contains(&"sync-bot"), "{users:?}");
    assert_in_step(&sb, &ledger, &double);
    double.assert_followed_the_spec();
}

// ---------------------------------------------------------------------------------------
// Pagination
// ---------------------------------------------------------------------------------------

#[test]
fn pagination_over_more_than_one_page_of_issues_and_labels() {
    let (sb, ledger, double) = demo_with_double(EVERYONE);
    // 60 labels of the organisation's own sort before the managed ones: page 1 of 50 holds
    // none of them.
    for i in 0..60 {
        double.api(
            "owner-token",
            "POST",
            &format!("/orgs/{ORG}/labels"),
            Some(json!({"name": format!("aaa-{i:02}"), "color": "ededed"})),
            201,
        );
    }
    sync_ok(&sb, &ledger);
    assert_eq!(double.org_labels().len(), 60 + MANAGED_LABELS);
    // 55 issues by people after the sync's: newest first, the sync's issue is on page 2.
    for i in 0..55 {
        double.api(
            ALICE_TOKEN,
            "POST",
            &format!("/repos/{ORG}/{DESIGN_REPO}/issues"),
            Some(json!({"title": format!("idea {i}"), "body": "6_2_1_1 mentioned"})),
            201,
        );
    }
    // alice edits inside the sync's section: the sync must find its issue on page 2 and put
    // the section back rather than create a second issue.
    let issue = issue_of(&double.issues(), "6_2_1_1").clone();
    let number = issue["number"].as_i64().expect("number");
    let body = issue["body"]
        .as_str()
        .unwrap_or("")
        .replace("| Status | paid |", "| Status | lost |");
    double.api(
        ALICE_TOKEN,
        "PATCH",
        &format!("/repos/{ORG}/{DESIGN_REPO}/issues/{number}"),
        Some(json!({"body": body})),
        201,
    );

    let before = double.log().len();
    let report = sync_ok(&sb, &ledger);
    let descriptions: Vec<&str> = report["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter_map(|c| c["description"].as_str())
        .collect();
    assert_eq!(descriptions, [format!("update issue {DESIGN_REPO}#{number} (task 6_2_1_1): body")]);
    assert_eq!(double.issues().len(), 56);
    assert_eq!(double.org_labels().len(), 60 + MANAGED_LABELS);
    let log = double.log();
    let pages = |suffix: &str| -> Vec<String> {
        log[before..]
            .iter()
            .filter(|e| e["method"] == "GET" && e["path"].as_str().is_some_and(|p| p.ends_with(suffix)))
            .map(|e| e["query"]["page"].as_str().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(pages("/orgs/smartup/labels"), ["1", "2"]);
    assert_eq!(pages(&format!("/{DESIGN_REPO}/issues")), ["1", "2"]);
    assert_in_step(&sb, &ledger, &double);
    double.assert_followed_the_spec();
}

// ---------------------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------------------

#[test]
fn a_missing_token_is_explained_before_any_request() {
    let (sb, ledger, double) = demo_with_double(EVERYONE);
    sync(&sb, &ledger, None, &[]).code(3).stderr_has(&[
        "no Forgejo token for http://127.0.0.1",
        "FORGEJO_TOKEN",
        "forgejo.toml",
        "[tokens]",
    ]);
    assert_eq!(double.log(), Vec::<Value>::new(), "nothing is sent without a token");
}

#[test]
fn a_wrong_token_is_explained() {
    let (sb, ledger, double) = demo_with_double(EVERYONE);
    sync(&sb, &ledger, Some("not-a-token"), &[]).code(3).stderr_has(&[
        "answered 401",
        "did not accept the token from FORGEJO_TOKEN",
        "expired",
    ]);
    assert_eq!(double.log().len(), 1, "a 401 is not retried");
    assert_eq!(double.org_labels(), Vec::<Value>::new());
}

#[test]
fn a_read_only_token_plans_but_cannot_write_and_says_which_scopes_are_needed() {
    let (sb, ledger, double) = demo_with_double(EVERYONE);
    sync(&sb, &ledger, Some(READ_ONLY_TOKEN), &["--dry-run"]).ok();
    sync(&sb, &ledger, Some(READ_ONLY_TOKEN), &[]).code(3).stderr_has(&[
        "could not create label",
        "answered 403",
        "write:organization",
        "write:issue",
        "stopped after 0 of",
    ]);
    assert_eq!(double.org_labels(), Vec::<Value>::new());
}

#[test]
fn the_token_can_come_from_the_users_config_file() {
    let (sb, ledger, double) = demo_with_double(EVERYONE);
    let dir = sb.home().join(".config/smartup");
    std::fs::create_dir_all(&dir).expect("config folder");
    let file = dir.join("forgejo.toml");
    std::fs::write(&file, format!("[tokens]\n\"{}/\" = \"{SYNC_TOKEN}\"\n", double.url)).expect("token file");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
    let out = sync(&sb, &ledger, None, &[]).ok();
    assert!(!out.stderr.contains("warning"), "{out:?}");
    assert_eq!(double.issues().len(), 1);
    // A wrong token in the file is blamed on the file.
    std::fs::write(&file, format!("[tokens]\n\"{}\" = \"stale\"\n", double.url)).expect("token file");
    sync(&sb, &ledger, None, &[])
        .code(3)
        .stderr_has(&["did not accept the token from", "forgejo.toml"]);
}

// ---------------------------------------------------------------------------------------
// Failures midway, retries, reruns
// ---------------------------------------------------------------------------------------

/// The paths of a log slice's requests with `method`, whose path matches `suffix`.
fn requests(log: &[Value], method: &str, suffix: &str) -> Vec<Value> {
    log.iter()
        .filter(|e| e["method"] == method && e["path"].as_str().is_some_and(|p| p.ends_with(suffix)))
        .cloned()
        .collect()
}

#[test]
fn a_500_in_the_middle_of_a_sync_then_a_clean_rerun() {
    let (sb, ledger, double) = demo_with_open_task(EVERYONE);
    // The design team's second issue is created, but Forgejo answers 500: the worst case,
    // since the sync cannot know whether it exists. A POST is not repeated blindly. (The
    // forum's repository comes first: the proposals' issues are made by then.)
    let design_issues = format!("/{DESIGN_REPO}/issues$");
    double.fail(json!({"method": "POST", "path": design_issues, "skip": 1, "kind": "after"}));
    let out = sync(&sb, &ledger, Some(SYNC_TOKEN), &[]).code(3);
    out.stderr_has(&[
        "the sync stopped after",
        "running the sync again finishes the job",
        "could not create issue",
        "answered 500",
    ]);
    let posted = requests(&double.log(), "POST", &format!("/{DESIGN_REPO}/issues"));
    assert_eq!(posted.len(), 2, "no blind retry of a POST");
    assert_eq!(double.issues().len(), 2);
    let proposals = proposals(&sb, &ledger).len();
    assert_eq!(double.forum_issues().len(), proposals);

    // The rerun finds the issue by its marker and finishes: tracked time, nothing twice.
    let report = sync_ok(&sb, &ledger);
    let changes = report["changes"].as_array().expect("changes");
    assert!(
        changes.iter().all(|c| c["action"] != "create"),
        "nothing is created twice: {report:#}"
    );
    let issues = double.issues();
    assert_eq!(issues.len(), 2);
    issue_of(&issues, "6_2_1_2");
    assert_eq!(issue_of(&issues, "6_2_1_1")["times"].as_array().map(Vec::len), Some(2));
    assert_eq!(double.forum_issues().len(), proposals);
    assert_eq!(double.org_labels().len(), MANAGED_LABELS);
    assert_in_step(&sb, &ledger, &double);
    double.assert_followed_the_spec();
}

#[test]
fn a_dropped_connection_after_tracked_time_was_booked_does_not_book_it_twice() {
    let (sb, ledger, double) = demo_with_double(EVERYONE);
    double.fail(json!({"method": "POST", "path": "/times$", "kind": "drop-after"}));
    sync(&sb, &ledger, Some(SYNC_TOKEN), &[])
        .code(3)
        .stderr_has(&["could not add 2 h 00 min of tracked time", "got no answer"]);
    sync_ok(&sb, &ledger);
    let times = issue_of(&double.issues(), "6_2_1_1")["times"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(times.len(), 2, "each session once: {times:#?}");
    assert_in_step(&sb, &ledger, &double);
}

#[test]
fn passing_failures_are_retried_with_back_off() {
    let (sb, ledger, double) = demo_with_double(EVERYONE);
    double.fail(json!({"method": "GET", "path": "/labels$", "kind": "status", "status": 429}));
    double.fail(json!({"method": "GET", "path": "/issues$", "kind": "status", "status": 500}));
    double.fail(json!({"method": "GET", "path": "/milestones$", "kind": "drop"}));
    double.fail(json!({"method": "POST", "path": "/labels$", "kind": "status", "status": 503}));
    double.fail(json!({"method": "PATCH", "path": "/issues/1$", "kind": "drop"}));
    sync_ok(&sb, &ledger);
    let log = double.log();
    let statuses =
        |method: &str, suffix: &str| -> Vec<String> { requests(&log, method, suffix).iter().map(|e| e["status"].to_string()).collect() };
    assert_eq!(statuses("GET", "/orgs/smartup/labels")[..2], ["429", "200"]);
    assert_eq!(statuses("GET", "/issues")[..2], ["500", "200"]);
    assert_eq!(statuses("GET", "/milestones")[..2], ["\"dropped\"", "200"]);
    assert_eq!(statuses("POST", "/orgs/smartup/labels")[..2], ["503", "201"]);
    assert_eq!(double.org_labels().len(), MANAGED_LABELS, "the 503 created nothing, the retry did");
    // The PATCH rule never fired: a fresh sync creates issue 1 of each repository (the paid
    // task's, the first proposal's) closed, it does not edit it.
    assert_eq!(requests(&log, "PATCH", "/issues/1").len(), 0);
    assert_in_step(&sb, &ledger, &double);
    double.assert_followed_the_spec();
}

#[test]
fn a_failure_that_lasts_gives_up_after_bounded_retries() {
    let (sb, ledger, double) = demo_with_double(EVERYONE);
    double.fail(json!({"method": "GET", "path": "/labels$", "kind": "status", "status": 500, "times": 100}));
    let started = std::time::Instant::now();
    sync(&sb, &ledger, Some(SYNC_TOKEN), &[]).code(3).stderr_has(&[
        "reading the labels of organisation smartup",
        "answered 500",
        "after 4 attempts",
        "run the sync again later",
    ]);
    assert!(started.elapsed().as_secs() < 20, "the back-off is bounded");
    assert_eq!(requests(&double.log(), "GET", "/labels").len(), 4);
    assert_eq!(writes(&double.log()), Vec::<String>::new());
}

// ---------------------------------------------------------------------------------------
// --dry-run, configuration, objectives as issues
// ---------------------------------------------------------------------------------------

#[test]
fn dry_run_makes_no_write_request_at_all() {
    let (sb, ledger, double) = demo_with_open_task(EVERYONE);
    // The labels, the milestone, two task issues with the paid one's two sessions, and an
    // issue per proposal of the demo.
    let planned = MANAGED_LABELS + 5 + proposals(&sb, &ledger).len();
    let out = sync(&sb, &ledger, Some(SYNC_TOKEN), &["--dry-run"]).ok();
    assert!(
        out.stdout
            .contains(&format!("{planned} change(s) planned; dry run, nothing was changed:")),
        "{out:?}"
    );
    for line in [
        "  create label status/open",
        "  create milestone 3_2_design_team: 5_2_1 — A brand people recognise (objective 5_2_1)",
        "  create issue 3_2_design_team: 6_2_1_1 — Design the logo (closed: paid)",
        "  create issue 3_2_design_team: 6_2_1_2 — Choose the colours",
        "  create issue 1_general_forum: #33 A quorum of 25% (policy-amendment) (closed: decided)",
        "  create issue 1_general_forum: #35 Release the design-phase tranche (tranche-release) (closed: decided)",
    ] {
        assert!(out.stdout.lines().any(|l| l == line), "missing {line:?}: {out:?}");
    }
    let report = sync(&sb, &ledger, Some(SYNC_TOKEN), &["--dry-run", "--json"]).ok().json();
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["applied"], 0);
    assert_eq!(report["requests"]["write"], 0);
    assert_eq!(report["changes"].as_array().map(Vec::len), Some(planned));
    let log = double.log();
    assert!(!log.is_empty());
    assert_eq!(writes(&log), Vec::<String>::new(), "--dry-run sends reading requests only");
    assert_eq!(double.org_labels(), Vec::<Value>::new());
    assert_eq!(double.issues(), Vec::<Value>::new());
    assert_eq!(double.forum_issues(), Vec::<Value>::new());
}

#[test]
fn configuration_mistakes_are_explained() {
    let sb = Sandbox::new();
    let ledger = sb.demo();
    let double = Double::start(&sb, &fixture(EVERYONE));
    sync(&sb, &ledger, Some(SYNC_TOKEN), &[])
        .code(3)
        .stderr_has(&["ledger.toml has no [forgejo] section", "amend-policy"]);
    configure(&sb, &ledger, &double, "[forgejo.repositories]\n\"3_2\" = \"design\"\n");
    sync(&sb, &ledger, Some(SYNC_TOKEN), &[]).code(3).stderr_has(&[
        "answered 404",
        "team 3_2 keeps its work in repository smartup/design, which does not exist",
        "[forgejo.repositories]",
    ]);
    sync(&sb, &ledger, Some(SYNC_TOKEN), &["--no-such-flag"]).code(2);
    assert_eq!(writes(&double.log()), Vec::<String>::new());

    // Without the general forum's repository, the demo's proposals have nowhere to go: the
    // sync stops before writing anything, and says what to create or configure.
    let mut no_forum = fixture(EVERYONE);
    no_forum["repos"].as_array_mut().expect("repos").retain(|r| r["name"] != FORUM_REPO);
    let forumless = Double::start(&sb, &no_forum);
    configure(&sb, &ledger, &forumless, "");
    sync(&sb, &ledger, Some(SYNC_TOKEN), &[]).code(3).stderr_has(&[
        "answered 404",
        "the general forum keeps the proposals in repository smartup/1_general_forum, which does not exist",
        "name another repository as 1_general_forum under [forgejo.repositories]",
    ]);
    assert_eq!(writes(&forumless.log()), Vec::<String>::new());

    let mut elsewhere = fixture(EVERYONE);
    elsewhere["orgs"][0]["name"] = json!("another-org");
    for repo in elsewhere["repos"].as_array_mut().expect("repos") {
        repo["owner"] = json!("another-org");
    }
    let other = Double::start(&sb, &elsewhere);
    configure(&sb, &ledger, &other, "");
    sync(&sb, &ledger, Some(SYNC_TOKEN), &[])
        .code(3)
        .stderr_has(&["answered 404", "there is no organisation \"smartup\" on http://127.0.0.1"]);
}

#[test]
fn objectives_can_be_issues_instead_of_milestones() {
    let sb = Sandbox::new();
    let ledger = sb.demo();
    let double = Double::start(&sb, &fixture(EVERYONE));
    configure(&sb, &ledger, &double, "objectives_as = \"issues\"\n");
    // As the post-receive hook runs it on the server: the ledger repository is named by
    // Forgejo's hook environment (the demo's origin is a local folder).
    let hook_env = [("GITEA_REPO_USER_NAME", ORG), ("GITEA_REPO_NAME", "ledger")];
    sync_with_env(&sb, &ledger, Some(SYNC_TOKEN), &[], &hook_env).ok();
    let link = format!(
        "]({}/{ORG}/ledger/src/branch/main/tables/objectives/1/01.csv?display=source#L2) create-objective",
        double.url
    );
    let issues = double.issues();
    assert_eq!(issues.len(), 2);
    let marker = "<!-- smartup:begin objective=5_2_1 ";
    let objective = issues
        .iter()
        .find(|i| i["body"].as_str().is_some_and(|b| b.contains(marker)))
        .expect("an issue for the objective");
    assert_eq!(objective["title"], "5_2_1 — A brand people recognise");
    assert_eq!(label_names(objective), ["kind/objective", "team/3_2_design_team"]);
    assert_eq!(logins(objective), ["maya"], "the mission leader");
    assert_eq!(objective["state"], "closed", "its one task is paid, so the objective has ended");
    assert!(objective["body"].as_str().unwrap_or("").contains(&link), "{objective:#}");
    assert_eq!(issue_of(&issues, "6_2_1_1")["milestone"], Value::Null);
    assert_eq!(double.state()["repos"][format!("{ORG}/{DESIGN_REPO}")]["milestones"], json!([]));
    let again = sync_with_env(&sb, &ledger, Some(SYNC_TOKEN), &["--json"], &hook_env).ok().json();
    assert_eq!(again["changes"], json!([]), "{again:#}");

    // A new task: the objective has work left, and its issue is reopened with a word why.
    create_task(&sb, &ledger, "6_2_1_2_colours", "Choose the colours");
    sync_with_env(&sb, &ledger, Some(SYNC_TOKEN), &[], &hook_env).ok();
    let issues = double.issues();
    let objective = issues
        .iter()
        .find(|i| i["body"].as_str().is_some_and(|b| b.contains(marker)))
        .expect("an issue for the objective");
    assert_eq!(objective["state"], "open");
    let comments = objective["comment_bodies"].to_string();
    assert!(comments.contains("has tasks that are not paid yet"), "{objective:#}");
    double.assert_followed_the_spec();
}

// ---------------------------------------------------------------------------------------
// The double keeps to the spec and to NOTES.md
// ---------------------------------------------------------------------------------------

#[test]
fn the_double_answers_as_forgejo_does() {
    let sb = Sandbox::new();
    let double = Double::start(&sb, &fixture(EVERYONE));
    let repo = format!("/api/v1/repos/{ORG}/{DESIGN_REPO}");
    let ask = |token: Option<&str>, method: &str, path: &str, body: Option<Value>| double.request(token, method, path, body);
    let t = Some(SYNC_TOKEN);

    // Only the spec's methods and paths exist; a token is required, in the header only.
    assert_eq!(ask(t, "GET", "/api/v1/no/such/path", None).0, 404);
    assert_eq!(ask(t, "PUT", &format!("{repo}/issues"), Some(json!({}))).0, 404);
    assert_eq!(ask(None, "GET", "/api/v1/user", None).0, 401);
    assert_eq!(ask(None, "GET", &format!("/api/v1/user?token={SYNC_TOKEN}"), None).0, 401);
    assert_eq!(ask(Some("wrong"), "GET", "/api/v1/user", None).0, 401);
    let (status, _, body) = ask(
        Some(READ_ONLY_TOKEN),
        "POST",
        &format!("{repo}/issues"),
        Some(json!({"title": "x"})),
    );
    assert_eq!(
        (status, body["message"].as_str().unwrap_or("")),
        (403, "token does not have at least one of required scope(s): [write:issue]")
    );

    // Bodies are checked against the operation's schema, errors in Forgejo's shape.
    let (status, _, body) = ask(t, "POST", &format!("{repo}/issues"), Some(json!({"body": "no title"})));
    assert_eq!(status, 422);
    assert_eq!(body["message"], "[Title]: Required");
    assert!(body["url"].is_string());
    let (status, _, body) = ask(t, "POST", &format!("{repo}/issues"), Some(json!({"title": "x", "colour": "red"})));
    assert_eq!((status, body["message"].as_str().unwrap_or("")), (422, "[colour]: unknown field"));
    assert_eq!(
        ask(t, "POST", &format!("{repo}/issues/1/times"), Some(json!({"time": "an hour"}))).0,
        422
    );

    // Colours come back lowercase without '#'; PATCH issue answers 201, POST times 200.
    let label = double.api(
        "owner-token",
        "POST",
        &format!("/orgs/{ORG}/labels"),
        Some(json!({"name": "scope/a", "color": "#ABCDEF", "exclusive": true})),
        201,
    );
    assert_eq!(label["color"], "abcdef");
    let issue = double.api(
        SYNC_TOKEN,
        "POST",
        &format!("/repos/{ORG}/{DESIGN_REPO}/issues"),
        Some(json!({"title": "first words"})),
        201,
    );
    assert_eq!(issue["assignees"], Value::Null, "unset values are null");
    assert_eq!(issue["milestone"], Value::Null);
    assert_eq!(issue["closed_at"], Value::Null);
    double.api(
        SYNC_TOKEN,
        "PATCH",
        &format!("/repos/{ORG}/{DESIGN_REPO}/issues/1"),
        Some(json!({"body": "b"})),
        201,
    );
    double.api(
        SYNC_TOKEN,
        "POST",
        &format!("/repos/{ORG}/{DESIGN_REPO}/issues/1/times"),
        Some(json!({"time": 60})),
        200,
    );
    assert_eq!(ask(t, "POST", &format!("{repo}/issues/1/times"), Some(json!({"time": 0}))).0, 400);
    // A PATCH without is_archived un-archives a label.
    let id = label["id"].to_string();
    double.api(
        "owner-token",
        "PATCH",
        &format!("/orgs/{ORG}/labels/{id}"),
        Some(json!({"is_archived": true})),
        200,
    );
    let unarchived = double.api(
        "owner-token",
        "PATCH",
        &format!("/orgs/{ORG}/labels/{id}"),
        Some(json!({"description": "d"})),
        200,
    );
    assert_eq!(unarchived["is_archived"], false);

    // Pagination: 30 by default, at most 50, X-Total-Count and Link joined without spaces.
    for i in 0..59 {
        double.api(
            SYNC_TOKEN,
            "POST",
            &format!("/repos/{ORG}/{DESIGN_REPO}/issues"),
            Some(json!({"title": format!("issue {i}")})),
            201,
        );
    }
    let (_, headers, page) = ask(t, "GET", &format!("{repo}/issues?state=all"), None);
    assert_eq!(page.as_array().map(Vec::len), Some(30));
    assert_eq!(headers["x-total-count"], "60");
    let (_, headers, page) = ask(t, "GET", &format!("{repo}/issues?state=all&limit=100&page=2"), None);
    assert_eq!(page.as_array().map(Vec::len), Some(10));
    let link = headers["link"].to_str().unwrap_or("");
    assert!(
        link.contains(r#"page=1&state=all>; rel="first",<"#) && link.contains(r#"rel="prev""#),
        "{link}"
    );
    assert!(!link.contains(r#"rel="next""#) && !link.contains(", "), "{link}");
    let (_, headers, _) = ask(t, "GET", &format!("{repo}/issues/1/times?page=1&limit=50"), None);
    assert!(
        headers.get("link").is_none() && headers["x-total-count"] == "1",
        "tracked times: X-Total-Count only"
    );

    // labels= matches issues carrying all the named labels; unknown names are dropped.
    let other = double.api(
        "owner-token",
        "POST",
        &format!("/orgs/{ORG}/labels"),
        Some(json!({"name": "other", "color": "000000"})),
        201,
    );
    double.api(
        SYNC_TOKEN,
        "PUT",
        &format!("/repos/{ORG}/{DESIGN_REPO}/issues/2/labels"),
        Some(json!({"labels": [label["id"], other["id"]]})),
        200,
    );
    double.api(
        SYNC_TOKEN,
        "PUT",
        &format!("/repos/{ORG}/{DESIGN_REPO}/issues/3/labels"),
        Some(json!({"labels": ["scope/a"]})),
        200,
    );
    let count = |query: &str| {
        ask(t, "GET", &format!("{repo}/issues?state=all&limit=50&{query}"), None)
            .2
            .as_array()
            .map_or(0, Vec::len)
    };
    assert_eq!(count("labels=scope/a,other"), 1);
    assert_eq!(count("labels=scope/a,typo"), 2);
    assert_eq!(count("labels=typo"), 50, "no known name: no filter at all");
    // The search index lags behind: a just-created issue is not found by q.
    double.api(
        SYNC_TOKEN,
        "POST",
        &format!("/repos/{ORG}/{DESIGN_REPO}/issues"),
        Some(json!({"title": "zebra crossing"})),
        201,
    );
    assert_eq!(count("q=zebra"), 0);
    for _ in 0..5 {
        ask(t, "GET", "/api/v1/version", None);
    }
    assert_eq!(count("q=zebra"), 1);
    double.assert_followed_the_spec();
}

// ---------------------------------------------------------------------------------------
// Refusals of one object do not block the rest; --json answers even an early failure
// ---------------------------------------------------------------------------------------

#[test]
fn a_refused_issue_is_skipped_with_its_changes_and_the_rest_still_arrives() {
    let (sb, ledger, double) = demo_with_open_task(EVERYONE);
    // Forgejo refuses the design team's first issue for good (422): its tracked time cannot
    // be booked either.
    let design_issues = format!("/{DESIGN_REPO}/issues$");
    double.fail(json!({"method": "POST", "path": design_issues, "kind": "status", "status": 422}));
    let out = sync(&sb, &ledger, Some(SYNC_TOKEN), &[]).code(1).stderr_has(&[
        "warning: skipped: create issue",
        "answered 422",
        "Forgejo refused an earlier change of it",
        "Forgejo refused",
        "which were skipped",
        "then sync again",
    ]);
    assert!(
        !out.stderr.contains("finishes the job"),
        "a refusal is not fixed by running again: {out:?}"
    );
    assert_eq!(double.issues().len(), 1, "the other task's issue arrived");
    let proposals = proposals(&sb, &ledger).len();
    assert_eq!(double.forum_issues().len(), proposals, "the proposals' issues arrived");
    assert_eq!(double.org_labels().len(), MANAGED_LABELS, "the labels arrived");

    // Once Forgejo takes it, the next run creates it and books its time: in step.
    let report = sync_ok(&sb, &ledger);
    assert_eq!(report["skipped"], json!([]), "{report:#}");
    assert_eq!(double.issues().len(), 2);
    assert_in_step(&sb, &ledger, &double);
    double.assert_followed_the_spec();
}

#[test]
fn a_refusal_in_json_lists_what_was_skipped_and_an_early_failure_still_answers_in_json() {
    let (sb, ledger, double) = demo_with_open_task(EVERYONE);
    // The design team's first issue, which has tracked time.
    let design_issues = format!("/{DESIGN_REPO}/issues$");
    double.fail(json!({"method": "POST", "path": design_issues, "kind": "status", "status": 412}));
    let out = sync(&sb, &ledger, Some(SYNC_TOKEN), &["--json"]).code(1);
    let report = out.json();
    assert_eq!(report["ok"], false, "{report:#}");
    let skipped = report["skipped"].as_array().expect("skipped changes");
    assert!(skipped.len() >= 2, "the issue and its tracked time: {report:#}");
    assert!(skipped[0]["reason"].as_str().unwrap_or("").contains("412"), "{report:#}");
    assert!(skipped.iter().all(|s| s["object"] == skipped[0]["object"]), "{report:#}");

    for (token, words) in [(None, "no Forgejo token"), (Some("not-a-token"), "answered 401")] {
        let out = sync(&sb, &ledger, token, &["--json"]).code(3);
        let report = out.json();
        assert_eq!(report["ok"], false, "{report:#}");
        assert!(report["error"].as_str().unwrap_or("").contains(words), "{report:#}");
        assert_eq!(report["changes"], json!([]), "{report:#}");
    }
}

#[test]
fn a_persons_label_in_a_managed_exclusive_scope_is_left_in_place_and_the_sync_settles() {
    let (sb, ledger, double) = demo_with_open_task(EVERYONE);
    sync_ok(&sb, &ledger);
    let repo = format!("/repos/{ORG}/{DESIGN_REPO}");
    let number = issue_of(&double.issues(), "6_2_1_2")["number"].as_i64().expect("a number");
    let label = |name: &str, exclusive: bool| -> i64 {
        let body = json!({"name": name, "color": "#aa3300", "exclusive": exclusive});
        double.api(SYNC_TOKEN, "POST", &format!("{repo}/labels"), Some(body), 201)["id"]
            .as_i64()
            .expect("an id")
    };
    let (waiting, blocked) = (label("status/waiting", true), label("status/blocked", false));

    // An exclusive label of people's in the status scope: Forgejo drops the ledger's status.
    double.api(
        SYNC_TOKEN,
        "POST",
        &format!("{repo}/issues/{number}/labels"),
        Some(json!({"labels": [waiting]})),
        200,
    );
    // The run after the edit reads the issue and warns; later runs change nothing (they read
    // the issue again only when it was edited in the second a run began, so they may or may
    // not repeat the warning: that depends on the clock, not on the sync).
    for run in 0..2 {
        let report = sync_ok(&sb, &ledger);
        assert_eq!(report["changes"], json!([]), "nothing to change, run after run: {report:#}");
        let warnings = report["warnings"].to_string();
        assert!(
            run > 0 || warnings.contains("status/waiting, a label people set, holds the scope status/"),
            "{report:#}"
        );
    }
    assert!(label_names(issue_of(&double.issues(), "6_2_1_2")).contains(&"status/waiting".to_string()));

    // A non-exclusive one: setting the ledger's exclusive status would take it off; it stays.
    let mut ids: Vec<i64> = issue_of(&double.issues(), "6_2_1_2")["labels"]
        .as_array()
        .expect("labels")
        .iter()
        .filter_map(|l| l["id"].as_i64())
        .filter(|id| *id != waiting)
        .collect();
    ids.push(blocked);
    double.api(
        SYNC_TOKEN,
        "PUT",
        &format!("{repo}/issues/{number}/labels"),
        Some(json!({"labels": ids})),
        200,
    );
    for run in 0..2 {
        let report = sync_ok(&sb, &ledger);
        assert_eq!(report["changes"], json!([]), "{report:#}");
        assert!(run > 0 || report["warnings"].to_string().contains("status/blocked"), "{report:#}");
    }
    let names = label_names(issue_of(&double.issues(), "6_2_1_2"));
    assert!(names.contains(&"status/blocked".to_string()), "the person's label stays: {names:?}");
    double.assert_followed_the_spec();
}

#[test]
fn a_replaced_issue_body_is_found_again_its_section_restored_and_nothing_made_twice() {
    let (sb, ledger, double) = demo_with_double(EVERYONE);
    sync_ok(&sb, &ledger);
    let before = issue_of(&double.issues(), "6_2_1_1").clone();
    let number = before["number"].as_i64().expect("a number");
    let times = before["times"].as_array().map(Vec::len);
    assert_eq!(times, Some(2));
    let path = format!("/repos/{ORG}/{DESIGN_REPO}/issues/{number}");
    double.api(
        SYNC_TOKEN,
        "PATCH",
        &path,
        Some(json!({"body": "I rewrote this whole description."})),
        201,
    );

    let report = sync_ok(&sb, &ledger);
    let changes = report["changes"].as_array().expect("changes");
    assert!(changes.iter().all(|c| c["action"] != "create"), "no second issue: {report:#}");
    assert!(report["warnings"].to_string().contains("lost its smartup section"), "{report:#}");
    let issues = double.issues();
    assert_eq!(issues.len(), 1, "one issue for the task");
    let after = issue_of(&issues, "6_2_1_1");
    assert_eq!(after["number"], before["number"]);
    assert_eq!(after["times"].as_array().map(Vec::len), times, "no session booked twice");
    let body = after["body"].as_str().unwrap_or("");
    assert!(
        body.starts_with("I rewrote this whole description.\n\n<!-- smartup:begin"),
        "{body}"
    );
    assert_eq!(sync_ok(&sb, &ledger)["changes"], json!([]), "settled");
    double.assert_followed_the_spec();
}

#[test]
fn a_paid_issue_that_cannot_close_for_a_dependency_does_not_hold_up_the_rest() {
    let (sb, ledger, double) = demo_with_open_task(EVERYONE);
    sync_ok(&sb, &ledger);
    let issues = double.issues();
    let (paid, open) = (
        issue_of(&issues, "6_2_1_1")["number"].clone(),
        issue_of(&issues, "6_2_1_2")["number"].clone(),
    );
    let repo = format!("/repos/{ORG}/{DESIGN_REPO}");
    // A person reopens the paid task's issue and makes it depend on the open one.
    double.api(
        SYNC_TOKEN,
        "PATCH",
        &format!("{repo}/issues/{paid}"),
        Some(json!({"state": "open"})),
        201,
    );
    let meta = json!({"owner": ORG, "repo": DESIGN_REPO, "index": open});
    double.api(SYNC_TOKEN, "POST", &format!("{repo}/issues/{paid}/dependencies"), Some(meta), 201);
    // Meanwhile the ledger gets a new task, whose issue comes after the paid one in the plan.
    create_task(&sb, &ledger, "6_2_1_3_fonts", "Pick the fonts");

    for _ in 0..2 {
        // A run of its own second: the refused issue is not among those updated since the
        // last run began, and must still be read again (by its number), not created twice.
        std::thread::sleep(std::time::Duration::from_millis(1100));
        sync(&sb, &ledger, Some(SYNC_TOKEN), &[]).code(1).stderr_has(&[
            "warning: skipped: close issue",
            "answered 412",
            "open dependencies",
            "Forgejo refused 1 of",
        ]);
        let issues = double.issues();
        assert_eq!(issues.len(), 3, "the new task's issue arrived all the same");
        issue_of(&issues, "6_2_1_3");
        assert_eq!(issue_of(&issues, "6_2_1_1")["state"], "open", "Forgejo kept it open");
    }
    double.assert_followed_the_spec();
}

#[test]
fn tracked_time_is_read_with_one_paged_list_per_repository_not_per_issue() {
    let (sb, ledger, double) = demo_with_open_task(EVERYONE);
    sync_ok(&sb, &ledger);
    let before = double.log().len();
    let report = sync(&sb, &ledger, Some(SYNC_TOKEN), &["--json", "--full"]).ok().json();
    assert_eq!(report["changes"], json!([]), "{report:#}");
    let log: Vec<Value> = double.log().into_iter().skip(before).collect();
    let per_issue: Vec<&Value> = log
        .iter()
        .filter(|e| e["path"].as_str().is_some_and(|p| p.contains("/issues/") && p.ends_with("/times")))
        .collect();
    assert!(per_issue.is_empty(), "no request per issue: {per_issue:?}");
    let repo_times = requests(&log, "GET", &format!("/repos/{ORG}/{DESIGN_REPO}/times"));
    assert_eq!(repo_times.len(), 1, "one list for the repository: {log:#?}");
    double.assert_followed_the_spec();
}

#[test]
fn watch_syncs_again_and_again_so_new_entries_arrive_without_a_sync_command() {
    let (sb, ledger, double) = demo_with_double(EVERYONE);
    let mut command = sb.command(common::SMARTUP);
    command
        .args(["--ledger", common::s(&ledger.dir), "forgejo", "sync", "--watch", "1s"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    to_the_double(&mut command, Some(SYNC_TOKEN), &[]);
    let mut child = command.spawn().expect("smartup forgejo sync --watch");
    let wait_for = |what: &str, done: &dyn Fn() -> bool| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !done() {
            assert!(std::time::Instant::now() < deadline, "the watch did not sync {what} in 30 s");
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    };
    wait_for("the first time", &|| double.issues().len() == 1);
    create_task(&sb, &ledger, "6_2_1_2_colours", "Choose the colours");
    wait_for("the new task", &|| double.issues().len() == 2);
    child.kill().expect("stop the watch");
    child.wait().expect("the watch ended");
    assert!(
        requests(&double.log(), "GET", &format!("/orgs/{ORG}")).len() >= 2,
        "it synced more than once"
    );
    double.assert_followed_the_spec();
}

#[test]
fn doctor_checks_the_forgejo_token_organisation_and_team_repositories() {
    let (sb, ledger, double) = demo_with_double(EVERYONE);
    ledger.act(&sb, "founder", None, &["push"]).ok();
    let forge = sb.path().join("demo/forge.git");
    let doctor = |token: Option<&str>| sb.smartup_with(&["doctor", "--repo", common::s(&forge)], |c| to_the_double(c, token, &[]));
    let healthy = doctor(Some(SYNC_TOKEN)).ok();
    assert!(
        healthy
            .stdout
            .contains(&format!("ok       forgejo organisation: {ORG} is readable")),
        "{healthy:?}"
    );
    assert!(
        healthy
            .stdout
            .contains("ok       forgejo token scopes: the token may manage the organisation's labels (write:organization)"),
        "{healthy:?}"
    );
    // The design team's repository, and the general forum's for the demo's proposals.
    for repo in [DESIGN_REPO, FORUM_REPO] {
        assert!(
            healthy
                .stdout
                .contains(&format!("ok       forgejo repository: {ORG}/{repo} is readable"))
                && healthy.stdout.contains(&format!(
                    "ok       forgejo token scopes: the token may write issues in {ORG}/{repo} (write:issue)"
                )),
            "{healthy:?}"
        );
    }
    let read_only = doctor(Some(READ_ONLY_TOKEN)).code(1);
    assert!(
        read_only
            .stdout
            .contains("PROBLEM  forgejo token scopes: the token may not manage the organisation's labels")
            && read_only.stdout.contains("give the token the scope write:organization")
            && read_only.stdout.contains("give the token the scope write:issue"),
        "{read_only:?}"
    );
    // The probes are creates that Forgejo refuses either way: nothing was written.
    let refused: Vec<u64> = double
        .log()
        .iter()
        .filter(|e| e["method"] != "GET")
        .filter_map(|e| e["status"].as_u64())
        .collect();
    assert!(!refused.is_empty() && refused.iter().all(|s| [403, 422].contains(s)), "{refused:?}");
    assert_eq!(
        (double.issues().len(), double.forum_issues().len()),
        (0, 0),
        "the probes created nothing"
    );
    let no_token = doctor(None).code(1);
    assert!(no_token.stdout.contains("PROBLEM  forgejo token"), "{no_token:?}");
    let wrong = doctor(Some("not-a-token")).code(1);
    assert!(
        wrong.stdout.contains("PROBLEM  forgejo organisation") && wrong.stdout.contains("401"),
        "{wrong:?}"
    );
    double.assert_followed_the_spec();
}

/// The reading requests of a log slice, as `GET path?query`.
fn reads(log: &[Value]) -> Vec<String> {
    log.iter()
        .filter(|e| e["method"] == "GET")
        .map(|e| format!("GET {}", e["path"].as_str().unwrap_or("")))
        .collect()
}

/// The most a quiet sync of the demo reads: the organisation and its labels, then for each of
/// its two repositories the repository and a page of the issues updated since (the general
/// forum's holds the demo's proposals), and the design team's milestones; one to spare.
const QUIET_READS: usize = 2 + 2 * 2 + 1 + 1;

/// After a sync, the next one reads what that run changed and what people changed since;
/// once the organisation is quiet a sync reads no issue one by one and no tracked time. A new
/// task, a person's edit and a lost cursor are each caught.
#[test]
fn a_sync_reads_only_what_changed_since_the_last_one() {
    let (sb, ledger, double) = demo_with_open_task(EVERYONE);
    sync_ok(&sb, &ledger);
    // Forgejo keeps whole seconds: a run that begins in the second of the last write reads
    // that write again. The pauses keep this test's runs in seconds of their own.
    let next_second = || std::thread::sleep(std::time::Duration::from_millis(1100));
    next_second();
    let again = sync_ok(&sb, &ledger); // reads again what the first run wrote
    assert_eq!(again["changes"], json!([]), "{again:#}");
    let quiet = |double: &Double| {
        next_second();
        let before = double.log().len();
        let report = sync_ok(&sb, &ledger);
        assert_eq!(report["changes"], json!([]), "{report:#}");
        let log: Vec<Value> = double.log().into_iter().skip(before).collect();
        reads(&log)
    };
    let read = quiet(&double);
    let by_number = read.iter().filter(|r| r.contains("/issues/")).count();
    let times = read.iter().filter(|r| r.ends_with("/times")).count();
    assert_eq!((by_number, times), (0, 0), "nothing read one by one, no time: {read:#?}");
    assert!(read.len() <= QUIET_READS, "a quiet sync reads a handful of lists: {read:#?}");

    // A new task: its issue is created (and its objective's milestone lists it).
    create_task(&sb, &ledger, "6_2_1_3_fonts", "Pick the fonts");
    let report = sync_ok(&sb, &ledger);
    let changes = report["changes"].as_array().unwrap();
    let created: Vec<&Value> = changes
        .iter()
        .filter(|c| c["action"] == "create" && c["object"] == "issue")
        .collect();
    assert_eq!(created.len(), 1, "{report:#}");
    assert!(report["requests"]["read"].as_u64().unwrap() <= QUIET_READS as u64, "{report:#}");
    issue_of(&double.issues(), "6_2_1_3");

    // A person replaces the managed section of an issue: the next sync puts it back.
    let issues = double.issues();
    let number = issue_of(&issues, "6_2_1_2")["number"].clone();
    let body = issue_of(&issues, "6_2_1_2")["body"].as_str().unwrap().to_string();
    let (head, _) = body.split_once("<!-- smartup:end -->").unwrap();
    let edited = body.replace(head, &format!("{}\nEDITED BY A PERSON\n", head.lines().next().unwrap()));
    let path = format!("/repos/{ORG}/{DESIGN_REPO}/issues/{number}");
    double.api(SYNC_TOKEN, "PATCH", &path, Some(json!({"body": edited})), 201);
    let report = sync_ok(&sb, &ledger);
    assert_eq!(report["changes"].as_array().unwrap().len(), 1, "the section comes back: {report:#}");
    assert!(!issue_of(&double.issues(), "6_2_1_2")["body"]
        .as_str()
        .unwrap()
        .contains("EDITED BY A PERSON"));
    quiet(&double); // what that run wrote is read once more
    let read = quiet(&double);
    assert!(read.len() <= QUIET_READS, "{read:#?}");

    // Without the cursor the sync reads everything again (and still plans nothing).
    std::fs::remove_file(ledger.dir.join(".git/smartup/forgejo-sync.json")).unwrap();
    let read = quiet(&double);
    assert!(
        read.iter().any(|r| r.ends_with("/times")),
        "a full reconcile reads the time: {read:#?}"
    );
    double.assert_followed_the_spec();
}

/// An objective's milestone is closed when all its tasks are paid, reopened when it gets a new
/// task, and reopened again when a person closes it while work is left.
#[test]
fn a_milestone_closes_when_all_its_tasks_are_paid() {
    let (sb, ledger, double) = demo_with_double(EVERYONE);
    let path = format!("/repos/{ORG}/{DESIGN_REPO}/milestones");
    let state = |double: &Double| {
        let list = double.api(SYNC_TOKEN, "GET", &format!("{path}?state=all&page=1"), None, 200);
        let brand: Vec<Value> = list
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["title"].as_str().unwrap().starts_with("5_2_1 "))
            .cloned()
            .collect();
        assert_eq!(brand.len(), 1, "{list:#}");
        (brand[0]["id"].as_i64().unwrap(), brand[0]["state"].as_str().unwrap().to_string())
    };
    sync_ok(&sb, &ledger);
    assert_eq!(state(&double).1, "closed", "its one task is paid");
    assert_in_step(&sb, &ledger, &double);

    create_task(&sb, &ledger, "6_2_1_2_colours", "Choose the colours");
    let report = sync_ok(&sb, &ledger);
    assert!(report.to_string().contains("reopened: it has unpaid tasks"), "{report:#}");
    let (id, now) = state(&double);
    assert_eq!(now, "open");

    double.api(SYNC_TOKEN, "PATCH", &format!("{path}/{id}"), Some(json!({"state": "closed"})), 200);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    sync_ok(&sb, &ledger);
    assert_eq!(state(&double).1, "open", "the ledger says there is work left");
    assert_in_step(&sb, &ledger, &double);
    double.assert_followed_the_spec();
}

/// `smartup forgejo provision ARGS` with the sync bot's token (a site administrator).
fn provision(sb: &Sandbox, ledger: &Ledger, args: &[&str]) -> common::Run {
    let identities = sb.path().join("private/identities.toml");
    let mut all = vec![
        "--ledger",
        common::s(&ledger.dir),
        "forgejo",
        "provision",
        "--identities",
        common::s(&identities),
    ];
    all.extend_from_slice(args);
    sb.smartup_with(&all, |command| to_the_double(command, Some(SYNC_TOKEN), &[]))
}

#[test]
fn provision_gives_owners_accounts_their_ledger_keys_and_their_teams_and_touches_nothing_else() {
    let sb = Sandbox::new();
    let ledger = sb.demo();
    // alice and bob have no account yet; maya has a key of her own; an outsider is in the
    // forum team; someone else already uses the e-mail bob would get.
    let mut fx = fixture(&[]);
    let own_key = std::fs::read_to_string(sb.keygen("maya-laptop").with_extension("pub")).unwrap();
    let users: Vec<Value> = fx["users"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["login"] != "alice" && u["login"] != "bob")
        .map(|u| {
            if u["login"] == "maya" {
                json!({"login": "maya", "keys": [{"key": own_key.trim(), "title": "laptop"}]})
            } else {
                u.clone()
            }
        })
        .chain([json!({"login": "taken", "email": "bob@users.example.org"})])
        .collect();
    fx["users"] = Value::Array(users);
    fx["orgs"][0]["teams"] = json!([{"name": "1_general_forum", "members": ["captain"]}]);
    let double = Double::start(&sb, &fx);
    configure(&sb, &ledger, &double, "");
    let identities = sb.path().join("private/identities.toml");
    std::fs::create_dir_all(identities.parent().unwrap()).unwrap();
    std::fs::write(&identities, "[[contributor]]\nslug = \"alice-a\"\nemail = \"alice@mail.example.org\"\nhandle = \"alice\"\nfirst_seen = \"2026-11-10\"\nlast_seen = \"2026-11-10\"\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&identities, std::fs::Permissions::from_mode(0o600)).unwrap();
    }

    let dry = provision(&sb, &ledger, &["--dry-run", "--placeholder-email-domain", "users.example.org"]).ok();
    assert!(
        dry.stdout
            .contains("would create the account alice (e-mail alice@mail.example.org, from the identity file"),
        "{dry:?}"
    );
    assert!(writes(&double.log()).is_empty(), "a dry run writes nothing");

    let out = provision(&sb, &ledger, &["--placeholder-email-domain", "users.example.org", "--json"]);
    assert_eq!(out.code, 1, "bob's account is refused: {out:?}");
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    let refused = &report["refused"][0];
    assert!(
        refused["step"].as_str().unwrap().starts_with("create the account bob"),
        "{report:#}"
    );
    assert!(
        refused["why"].as_str().unwrap().contains("e-mail already in use")
            && refused["why"].as_str().unwrap().contains("correct it in the private identity file"),
        "{report:#}"
    );
    assert!(
        refused["skipped"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s.as_str().unwrap().starts_with("add key")),
        "bob's key waits for his account: {report:#}"
    );
    assert_eq!(
        report["passwords"].as_array().unwrap().len(),
        1,
        "alice's first password is shown once: {report:#}"
    );

    let state = double.state();
    let alice = &state["users"]["alice"];
    assert_eq!(
        (alice["email"].as_str(), alice["must_change_password"].as_bool()),
        (Some("alice@mail.example.org"), Some(true))
    );
    let signers = ledger.read(&sb, &["keys", "allowed-signers"]).ok().stdout;
    for who in ["founder", "carla", "maya", "alice"] {
        let key = signers
            .lines()
            .find(|l| l.starts_with(&format!("{who} ")))
            .unwrap()
            .split_whitespace()
            .nth(3)
            .unwrap()
            .to_string();
        let keys = state["users"][who]["keys"].as_array().unwrap();
        assert!(
            keys.iter().any(|k| k["key"].as_str().unwrap().contains(&key)),
            "{who}'s ledger key is on their account: {keys:?}"
        );
    }
    assert_eq!(state["users"]["maya"]["keys"].as_array().unwrap().len(), 2, "maya's own key stays");
    let teams = state["orgs"][ORG]["teams"].as_array().unwrap();
    let members = |name: &str| -> Vec<String> {
        let team = teams
            .iter()
            .find(|t| t["name"] == name)
            .unwrap_or_else(|| panic!("no team {name}: {teams:?}"));
        team["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        members("1_general_forum"),
        ["alice", "captain", "carla", "founder", "maya"],
        "the outsider stays; bob has no account"
    );
    assert_eq!(members("3_1_leadership_team"), ["founder"]);
    assert_eq!(members("3_2_design_team"), ["alice", "carla", "maya"]);

    // With bob's e-mail fixed in the identity file, a second run makes only what is missing,
    // and a third plans nothing.
    let mut text = std::fs::read_to_string(&identities).unwrap();
    text.push_str("\n[[contributor]]\nslug = \"bo-berg\"\nemail = \"bob@mail.example.org\"\nhandle = \"bob\"\nfirst_seen = \"2026-11-10\"\nlast_seen = \"2026-11-10\"\n");
    std::fs::write(&identities, text).unwrap();
    let before = writes(&double.log()).len();
    let second = provision(&sb, &ledger, &["--json"]).ok().json();
    let added = writes(&double.log())[before..].to_vec();
    assert_eq!(added.len(), second["applied"].as_u64().unwrap() as usize, "{second:#}");
    assert!(
        added.iter().all(|w| w.contains("bob") || w.starts_with("POST /api/v1/admin/users")),
        "only bob's account, key and teams: {added:?}"
    );
    let third = provision(&sb, &ledger, &["--json"]).ok().json();
    assert_eq!(third["steps"], json!([]), "a third run plans nothing: {third:#}");
    double.assert_followed_the_spec();
}

// ---------------------------------------------------------------------------------------
// Proposals: one issue each, in the general forum's repository
// ---------------------------------------------------------------------------------------

/// A sync with the ledger's clock pinned at `now` (proposals' windows follow it); its JSON
/// report, or its run when it fails.
fn sync_at(sb: &Sandbox, ledger: &Ledger, now: &str, args: &[&str]) -> common::Run {
    sync_with_env(sb, ledger, Some(SYNC_TOKEN), args, &[("SMARTUP_NOW", now)])
}

/// A sync at `now` with nothing to do: no change planned, not one write request.
#[track_caller]
fn assert_in_step_at(sb: &Sandbox, ledger: &Ledger, double: &Double, now: &str) {
    let before = double.log().len();
    let report = sync_at(sb, ledger, now, &["--json"]).ok().json();
    assert_eq!(report["changes"], json!([]), "a sync right after a sync plans nothing: {report:#}");
    assert_eq!(writes(&double.log()[before..]), Vec::<String>::new(), "no write request");
}

#[track_caller]
fn assert_body_shows(issue: &Value, parts: &[&str]) {
    let body = issue["body"].as_str().unwrap_or("");
    for part in parts {
        assert!(body.contains(part), "the issue should show {part:?}:\n{body}");
    }
}

#[test]
fn a_proposal_is_an_issue_in_the_forum_with_its_tally_then_closed_with_its_result() {
    let (sb, ledger, double) = demo_with_double(EVERYONE);
    let remote = format!("{}/{ORG}/ledger.git", double.url);
    sb.git_ok(&ledger.dir, &["remote", "set-url", "origin", &remote]);
    // The demo's own proposals (33 and 35, both decided) get their closed issues in the same
    // syncs; this one comes after them (its seq follows the demo's rows and the [forgejo]
    // amendment).
    let demo_proposals = proposals(&sb, &ledger);
    // The proposal's rows lie ahead of the real clock; every command here pins its own. The
    // founder holds 40 SK and maya 5: their votes weigh 1.040 and 1.005, the others' 1.000.
    let at = |hours: i64| ago(-hours * 3600);
    let text = sb.path().join("bootstrap.md");
    std::fs::write(&text, "The bootstrap phase ends: decisions need proposals.\n").expect("the text");
    let link = format!("{}/{ORG}/{FORUM_REPO}/wiki/Bootstrap", double.url);
    let proposed = ledger
        .act(
            &sb,
            "founder",
            Some(&at(1)),
            &[
                "propose",
                "binding-vote",
                "--title",
                "End the bootstrap phase",
                "--text",
                s(&text),
                "--link",
                &link,
            ],
        )
        .ok();
    let seq: u64 = proposed
        .stdout
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.trim_end_matches(':').parse().ok())
        .unwrap_or_else(|| panic!("the propose row's seq: {proposed:?}"));
    let number = seq.to_string();
    ledger.act(&sb, "alice", Some(&at(2)), &["vote", &number, "yes"]).ok();
    ledger.act(&sb, "maya", Some(&at(2)), &["vote", &number, "no"]).ok();
    let title = format!("#{seq} End the bootstrap phase (binding-vote)");

    // The dry run shows the plan and writes nothing.
    let before = double.log().len();
    let dry = sync_at(&sb, &ledger, &at(3), &["--dry-run"]).ok();
    assert!(dry.stdout.contains(&format!("  create issue {FORUM_REPO}: {title}\n")), "{dry:?}");
    assert!(dry.stdout.contains("  create label kind/proposal\n"), "{dry:?}");
    assert_eq!(writes(&double.log()[before..]), Vec::<String>::new());

    // Open, labelled, with the tally so far.
    let report = sync_at(&sb, &ledger, &at(3), &["--json"]).ok().json();
    assert_eq!(report["warnings"], json!([]), "{report:#}");
    let issues = double.forum_issues();
    assert_eq!(issues.len(), demo_proposals.len() + 1, "one issue per proposal: {issues:#?}");
    let issue = issue_of_proposal(&issues, seq);
    assert_eq!(issue["title"], title.as_str());
    assert_eq!(issue["state"], "open");
    assert_eq!(label_names(issue), ["kind/proposal", "status/voting"]);
    let digest = <sha2::Sha256 as sha2::Digest>::digest(std::fs::read(&text).expect("the text"));
    let hash: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    assert_body_shows(
        issue,
        &[
            &format!("<!-- smartup:begin proposal={seq} ledger="),
            "| Status | voting; it would fail if it closed now |",
            "| Kind | binding-vote |",
            "| Proposer | @founder |",
            &format!("| Full text | [full text]({link}) · sha256:{hash} |"),
            "| Tally | yes 1.000 · no 1.005 · abstain 0.000 votes |",
            "| Participation | 39.74% of 5.045 eligible votes (quorum 25.00%): reached |",
            "| Threshold | yes above 50.00% of yes + no: not met |",
            "| Voters | 2: @alice (yes), @maya (no) |",
            &format!("[seq {seq}]({}/{ORG}/ledger/src/branch/main/", double.url),
        ],
    );
    assert_in_step_at(&sb, &ledger, &double, &at(3));

    // More votes, then the close after the window: closed, with the result.
    ledger.act(&sb, "bob", Some(&at(4)), &["vote", &number, "yes"]).ok();
    ledger.act(&sb, "carla", Some(&at(4)), &["vote", &number, "yes"]).ok();
    ledger.act(&sb, "alice", Some(&at(170)), &["close-proposal", &number]).ok();
    let out = sync_at(&sb, &ledger, &at(171), &[]).ok();
    let repo_issue = format!("{FORUM_REPO}#{} (proposal {seq})", issue["number"]);
    for line in [
        format!("close issue {repo_issue}: body"),
        format!("set labels of issue {repo_issue}: +status/passed -status/voting"),
        format!("comment on issue {repo_issue}"),
    ] {
        assert!(out.stdout.contains(&line), "{line:?} in {out:?}");
    }
    let issue = issue_of_proposal(&double.forum_issues(), seq).clone();
    assert_eq!(issue["state"], "closed");
    assert_eq!(label_names(&issue), ["kind/proposal", "status/passed"]);
    assert_body_shows(
        &issue,
        &[
            "| Status | passed |",
            "| Tally | yes 3.000 · no 1.005 · abstain 0.000 votes |",
            "| Voters | 4: @alice (yes), @bob (yes), @carla (yes), @maya (no) |",
            "| Result | **passed** at ",
            ") close-proposal",
        ],
    );
    let comments = issue["comment_bodies"].as_array().cloned().unwrap_or_default();
    assert_eq!(comments.len(), 1, "{comments:?}");
    let comment = comments[0].as_str().unwrap_or("");
    assert!(comment.contains(&format!("proposal #{seq} **passed** at")), "{comment}");
    assert!(comment.contains("yes 3.000 · no 1.005 · abstain 0.000 votes"), "{comment}");
    assert_in_step_at(&sb, &ledger, &double, &at(171));

    // Reopened by a person: closed again, and the comment says why; then quiet.
    let path = format!("/repos/{ORG}/{FORUM_REPO}/issues/{}", issue["number"]);
    double.api(ALICE_TOKEN, "PATCH", &path, Some(json!({"state": "open"})), 201);
    let out = sync_at(&sb, &ledger, &at(172), &[]).ok();
    assert!(out.stdout.contains("2 change(s) applied"), "{out:?}");
    let issues = double.forum_issues();
    let issue = issue_of_proposal(&issues, seq);
    assert_eq!(issue["state"], "closed");
    assert_eq!(issue["comment_bodies"].as_array().map(Vec::len), Some(2));
    // The demo's proposals' issues were left as they were made: closed, without a comment.
    for proposal in &demo_proposals {
        let demo = issue_of_proposal(&issues, proposal["seq"].as_u64().expect("seq"));
        assert_eq!((&demo["state"], &demo["comment_bodies"]), (&json!("closed"), &json!([])));
    }
    assert_in_step_at(&sb, &ledger, &double, &at(172));
    double.assert_followed_the_spec();
}
