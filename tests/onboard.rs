//! Onboarding through real pushes into a bare repository with the hook: an Open Collective
//! export imported by the founder, a newcomer joining with a key `smartup join` makes, an
//! owner relaying the row, and the newcomer working a task until they hold SC. Then the
//! privacy of it all, and the attacks the hook must refuse.

mod common;
#[path = "common/forgejo.rs"]
#[allow(dead_code)]
mod forgejo_double;
#[path = "common/hook.rs"]
mod hook_common;

use common::{run, s, Run, SMARTUP};
use forgejo_double::{fixture as forgejo_fixture, to_the_double, Double, ORG, SYNC_TOKEN};
use hook_common::{Craft, Forge};
use smartup::rules::onboarding::{proof_message, PROOF_NAMESPACE};
use smartup::sign::{encode_signature, Code, SigningKey};
use smartup::time::{Timestamp, HOUR};
use std::path::{Path, PathBuf};

/// Names, e-mails and addresses of the fixtures' contributors, and their slugs: none may
/// reach the ledger's history (slugs live in the private identity file only).
const PRIVATE: [&str; 14] = [
    "Jane Quinn Public",
    "Jane Q. Public",
    "Gustav Gast",
    "Robert Baumeister",
    "Bob Builder",
    "Zed Zimmermann",
    "of Berlin",
    "Ana Beatriz Lima",
    "Maximilian Mustermann",
    "Hana Hoshino",
    "hana.hoshino@example.org",
    "Hauptstraße",
    "treasurer@smartup.example",
    "Paid for",
];
const SLUGS: [&str; 5] = ["jane-public", "guest-3a9f0c2e", "incognito-7d1e4b2a", "zed-berlin", "hana-hoshi"];

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/opencollective/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// The pinned clock of a journey: starts after the demo's last row and only moves forward.
struct Clock(Timestamp);

impl Clock {
    fn later(&mut self, hours: i64) -> String {
        self.0 = self.0.plus(hours * HOUR + 60);
        self.0.to_string()
    }
}

/// `smartup --ledger REPO ARGS` at `now`, signing as `who` with `key` when given, with the
/// identity file in the sandbox.
fn smartup(f: &Forge, repo: &Path, now: &str, who: Option<(&str, &Path)>, args: &[&str]) -> Run {
    let mut command = f.command(SMARTUP);
    command.args(["--ledger", s(repo)]).args(args);
    command.env("SMARTUP_NOW", now).env("SMARTUP_IDENTITIES", identities(f));
    if let Some((handle, key)) = who {
        command.env("SMARTUP_HANDLE", handle).env("SMARTUP_KEY", key);
    }
    run(command)
}

fn identities(f: &Forge) -> PathBuf {
    f.sb.path().join("private/identities.toml")
}

/// `smartup forgejo provision --json` in the working clone at `now`, against the double.
fn provision(f: &Forge, now: &str) -> Run {
    let mut command = f.command(SMARTUP);
    command.args([
        "--ledger",
        s(&f.work),
        "forgejo",
        "provision",
        "--json",
        "--placeholder-email-domain",
        "users.example.org",
    ]);
    command.env("SMARTUP_NOW", now).env("SMARTUP_IDENTITIES", identities(f));
    to_the_double(&mut command, Some(SYNC_TOKEN), &[]);
    run(command)
}

/// `smartup push` as `who` from `repo` at `now`: must be accepted by the hook.
#[track_caller]
fn push(f: &Forge, repo: &Path, now: &str, who: (&str, &Path)) {
    let out = smartup(f, repo, now, Some(who), &["push"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stderr.contains("remote: smartup: accepted"), "{out:?}");
}

/// The invitation codes an import printed, by contributor slug.
fn codes(out: &Run) -> Vec<(String, String)> {
    out.stdout
        .lines()
        .filter(|l| l.contains("invitation seq"))
        .map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            (words[words.len() - 1].to_string(), words[0].to_string())
        })
        .collect()
}

#[test]
fn from_an_open_collective_export_to_an_owner_holding_sc() {
    let f = Forge::new();
    let founder = ("founder", f.key("founder"));
    let as_founder = Some((founder.0, founder.1.as_path()));
    let mut clock = Clock(Timestamp::now());
    let mut outputs = Vec::new();

    // The plan, then the import, then the same file again and an overlapping later export.
    let now = clock.later(0);
    let head = f.head();
    let dry = smartup(
        &f,
        &f.work,
        &now,
        as_founder,
        &["onboard", "import", &fixture("a.csv"), "--dry-run"],
    )
    .ok();
    assert!(
        dry.stdout.contains("Plan (dry run: nothing is written)") && dry.stdout.contains("would be seq"),
        "{dry:?}"
    );
    assert_eq!(f.head(), head, "a dry run writes nothing");
    assert!(!identities(&f).exists(), "a dry run writes no identity file");
    let import = smartup(&f, &f.work, &now, as_founder, &["onboard", "import", &fixture("a.csv")]).ok();
    let codes = codes(&import);
    assert_eq!(codes.iter().map(|(slug, _)| slug.as_str()).collect::<Vec<_>>(), SLUGS[..4]);
    assert!(import.stdout.contains("refund 50.00 EUR"), "{import:?}");
    push(&f, &f.work, &now, (founder.0, &founder.1));
    let again = smartup(&f, &f.work, &now, as_founder, &["onboard", "import", &fixture("a.csv")]).ok();
    assert!(again.stdout.contains("Nothing new to record"), "{again:?}");
    let later = smartup(&f, &f.work, &now, as_founder, &["onboard", "import", &fixture("a-later.csv")]).ok();
    assert!(later.stdout.contains("Recorded 3 rows"), "only the new purchases: {later:?}");
    let labels = smartup(&f, &f.work, &now, as_founder, &["onboard", "import", &fixture("d.csv")]).ok();
    assert!(
        labels.stdout.contains("shape D") && labels.stdout.contains("invite hana-hoshi"),
        "{labels:?}"
    );
    push(&f, &f.work, &now, (founder.0, &founder.1));
    outputs.extend([dry, import, again, later, labels]);
    let private = std::fs::read_to_string(identities(&f)).unwrap();
    assert!(
        private.contains("hana.hoshino@example.org") && private.contains("slug = \"jane-public\""),
        "{private}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(identities(&f)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the identity file is private");
    }

    // The newcomer: a clone, a code, a key made by `smartup join`, a file handed over.
    let home = f.sb.path().join("jane");
    f.git_in(f.sb.path(), &["clone", "-q", s(&f.forge), s(&home.join("ledger"))]).ok();
    let jane_key = home.join("keys/id_ed25519");
    let code = &codes[0].1;
    let now = clock.later(1);
    let joined = smartup(
        &f,
        &home.join("ledger"),
        &now,
        None,
        &["join", code, "--handle", "jane", "--key", s(&jane_key)],
    )
    .ok();
    assert!(
        jane_key.exists() && jane_key.with_extension("pub").exists(),
        "join made a key: {joined:?}"
    );
    assert!(joined.stderr.contains("created a new ed25519 key"), "{joined:?}");
    let file = home.join("join-jane.csv");
    assert!(file.exists(), "the join row is written beside the clone: {joined:?}");
    let relayed = smartup(&f, &f.work, &now, as_founder, &["relay", s(&file)]).ok();
    assert!(
        relayed.stdout.contains(": join ") && relayed.stdout.contains("jane joined"),
        "{relayed:?}"
    );
    push(&f, &f.work, &now, (founder.0, &founder.1));
    outputs.extend([joined, relayed]);

    // Forgejo follows: an account for jane with her ledger key, in the forum and workplace.
    let double = Double::start(&f.sb, &forgejo_fixture(&[]));
    let policy = f.sb.path().join("with-forgejo.toml");
    let text = std::fs::read_to_string(f.work.join("ledger.toml")).unwrap();
    std::fs::write(
        &policy,
        format!("{text}\n[forgejo]\nurl = \"{}\"\norganisation = \"{ORG}\"\n", double.url),
    )
    .unwrap();
    smartup(&f, &f.work, &now, as_founder, &["amend-policy", s(&policy)]).ok();
    push(&f, &f.work, &now, (founder.0, &founder.1));
    let provisioned = provision(&f, &now).ok();
    let plan: serde_json::Value = serde_json::from_str(&provisioned.stdout).unwrap();
    assert!(
        plan["steps"].as_array().unwrap().iter().any(|s| s
            .as_str()
            .unwrap()
            .starts_with("create the account jane (e-mail jane@users.example.org")),
        "{plan:#}"
    );
    let state = double.state();
    let fingerprint = SigningKey::load(&jane_key, None).unwrap().public().fingerprint();
    assert_eq!(
        state["users"]["jane"]["keys"][0]["fingerprint"],
        fingerprint.as_str(),
        "her ledger key is her push key"
    );
    let teams = state["orgs"][ORG]["teams"].as_array().unwrap().clone();
    for team in ["1_general_forum", "2_workplace"] {
        let t = teams.iter().find(|t| t["name"] == team).unwrap();
        assert!(t["members"].as_array().unwrap().iter().any(|m| m == "jane"), "{team}: {t}");
    }
    double.assert_followed_the_spec();
    outputs.push(provisioned);

    // Her row checks with stock ssh-keygen, against her own key.
    let log = f.log(&f.work);
    let seq = log.iter().find(|r| r["action"] == "join" && r["actor"] == "jane").unwrap()["seq"]
        .as_u64()
        .unwrap()
        .to_string();
    let armored = f.sb.path().join("join.sig");
    let message = f.sb.path().join("join.msg");
    std::fs::write(&armored, smartup(&f, &f.work, &now, None, &["sig", &seq]).ok().stdout).unwrap();
    std::fs::write(&message, smartup(&f, &f.work, &now, None, &["sig", &seq, "--message"]).ok().stdout).unwrap();
    let allowed = f.sb.path().join("allowed");
    std::fs::write(
        &allowed,
        format!("jane {}", std::fs::read_to_string(jane_key.with_extension("pub")).unwrap()),
    )
    .unwrap();
    let mut check = f.command("ssh-keygen");
    check.args([
        "-Y",
        "verify",
        "-f",
        s(&allowed),
        "-I",
        "jane",
        "-n",
        "smartup-ledger",
        "-s",
        s(&armored),
    ]);
    check.stdin(std::fs::File::open(&message).unwrap());
    let checked = run(check);
    assert_eq!(checked.code, 0, "ssh-keygen verifies the newcomer's row: {checked:?}");

    // A role, a task, paired sessions, an assessment, the window, validation: SC held.
    let key = |who: &str| f.key(who);
    let act = |now: &str, who: &str, args: &[&str]| smartup(&f, &f.work, now, Some((who, &key(who))), args).ok();
    let now = clock.later(0);
    act(&now, "carla", &["assign-role", "4_2_2", "jane", "--team", "3_2"]);
    act(
        &now,
        "carla",
        &[
            "create-task",
            "6_2_1_3_onboarding",
            "--objective",
            "5_2_1",
            "--title",
            "Onboarding guide",
            "--size",
            "small",
            "--phase",
            "design",
        ],
    );
    act(&now, "maya", &["assign-task", "6_2_1_3", "--attacker", "jane", "--defender", "bob"]);
    push(&f, &f.work, &now, ("carla", &key("carla")));
    let again: serde_json::Value = serde_json::from_str(&provision(&f, &now).ok().stdout).unwrap();
    assert_eq!(
        again["steps"],
        serde_json::json!(["add jane to the team 3_2_design_team"]),
        "her new role's team, nothing else"
    );
    // jane works from her own clone, with her own key.
    let jane = ("jane", jane_key.as_path());
    let mine = home.join("ledger");
    f.git_in(&mine, &["pull", "-q", "--ff-only", "origin", "main"]).ok();
    smartup(&f, &mine, &now, Some(jane), &["start-task", "6_2_1_3"]).ok();
    smartup(&f, &mine, &now, Some(jane), &["start-work", "6_2_1_3"]).ok();
    push(&f, &mine, &now, jane);
    f.git_in(&f.work, &["pull", "-q", "--ff-only", "origin", "main"]).ok();
    act(&now, "bob", &["start-work", "6_2_1_3"]);
    let now = clock.later(2);
    act(&now, "bob", &["stop-work"]);
    push(&f, &f.work, &now, ("bob", &key("bob")));
    f.git_in(&mine, &["pull", "-q", "--ff-only", "origin", "main"]).ok();
    smartup(&f, &mine, &now, Some(jane), &["stop-work"]).ok();
    push(&f, &mine, &now, jane);
    f.git_in(&f.work, &["pull", "-q", "--ff-only", "origin", "main"]).ok();
    act(&now, "maya", &["assess-work", "6_2_1_3", "--scores", "9,8,8"]);
    push(&f, &f.work, &now, ("maya", &key("maya")));
    let now = clock.later(49);
    act(&now, "carla", &["validate-pending-sc", "6_2_1_3"]);
    push(&f, &f.work, &now, ("carla", &key("carla")));
    let balance = smartup(&f, &f.work, &now, None, &["balance", "--json"]).ok();
    let owners: serde_json::Value = serde_json::from_str(&balance.stdout).unwrap();
    let jane_sc = owners["owners"].as_array().unwrap().iter().find(|o| o["owner"] == "jane").unwrap()["sc"].clone();
    // 25 SC x 1.1 = 27.50; scores 25 place the share at 87.5%; 90% of that to the Attacker.
    assert_eq!(jane_sc, "21.65", "{balance:?}");
    let verified = smartup(&f, &f.forge, &now, None, &["verify"]);
    assert_eq!(verified.code, 0, "the forge verifies (on the journey's clock): {verified:?}");

    // Privacy: no name, e-mail, address or slug in any object of the forge, in any output,
    // or on the site built from it.
    let mut all = f.command("git");
    all.args(["-C", s(&f.forge), "cat-file", "--batch-all-objects", "--batch"]);
    let objects = run(all).ok().stdout;
    let site = f.sb.path().join("site");
    outputs.push(smartup(&f, &f.forge, &now, None, &["site", "build", "--out", s(&site)]).ok());
    let mut pages = String::new();
    for entry in walk(&site) {
        pages.push_str(&String::from_utf8_lossy(&std::fs::read(entry).unwrap()));
    }
    assert!(pages.contains("jane"), "the site shows the new owner");
    for secret in PRIVATE.iter().chain(&SLUGS) {
        assert!(!objects.contains(secret), "{secret:?} is in the forge's history");
        assert!(!pages.contains(secret), "{secret:?} is on the site");
    }
    for out in &outputs {
        for secret in PRIVATE {
            assert!(
                !out.stdout.contains(secret) && !out.stderr.contains(secret),
                "{secret:?} in the output of {out:?}"
            );
        }
    }
}

/// Every file under a folder.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// The forge after the founder imported shape A and pushed; the codes by slug.
fn imported() -> (Forge, Vec<(String, String)>) {
    let f = Forge::new();
    let now = Timestamp::now().to_string();
    let founder = f.key("founder");
    let import = smartup(
        &f,
        &f.work,
        &now,
        Some(("founder", &founder)),
        &["onboard", "import", &fixture("a.csv")],
    )
    .ok();
    push(&f, &f.work, &now, ("founder", &founder));
    (f, codes(&import))
}

/// A join row as the next row: `handle` claims invitation `seq` with `code`, registering
/// `registers` and signed with `signs`.
fn join_craft(f: &Forge, seq: u64, code: &Code, handle: &str, registers: &Path, signs: &Path) -> Craft {
    let mut c = f.deposit();
    let public = std::fs::read_to_string(registers.with_extension("pub")).unwrap().trim().to_string();
    let fingerprint = SigningKey::load(registers, None).unwrap().public().fingerprint();
    let proof = code
        .key(&c.ledger_id)
        .sign(PROOF_NAMESPACE, &proof_message(&c.ledger_id, seq, handle, &fingerprint));
    c.table = "invitations".into();
    c.action = "join".into();
    c.actor = handle.into();
    c.values = vec![
        ("invitation".into(), seq.to_string()),
        ("public_key".into(), public.split_whitespace().take(2).collect::<Vec<_>>().join(" ")),
        ("proof".into(), encode_signature(&proof)),
    ];
    c.signer = signs.to_path_buf();
    c.named_key = signs.to_path_buf();
    c
}

/// Appends the craft, commits as the founder (who relays), pushes: the hook must refuse with
/// every one of `parts`; the clone is put back.
#[track_caller]
fn refused(f: &Forge, craft: &Craft, parts: &[&str]) {
    let before = f.forge_main();
    f.append(craft);
    f.commit_as("founder", "crafted");
    let out = f.push();
    f.assert_rejected(&out, &before, parts);
    f.reset();
}

/// The seq of the invite row made for a slug, from the import's output.
fn invitation_of(f: &Forge, slug: &str) -> u64 {
    let ids = std::fs::read_to_string(identities(f)).unwrap();
    let at = ids.find(&format!("slug = \"{slug}\"")).unwrap();
    let line = ids[at..].lines().find(|l| l.starts_with("invitation = ")).unwrap();
    line["invitation = ".len()..].parse().unwrap()
}

#[test]
fn the_hook_refuses_guessed_taken_foreign_reused_and_expired_claims() {
    let (f, codes) = imported();
    let code = Code::parse(&codes[0].1).unwrap();
    let seq = invitation_of(&f, "jane-public");
    let mallory = f.stranger_key("mallory");
    let other = f.stranger_key("other");
    refused(
        &f,
        &join_craft(&f, seq, &Code::generate(), "mallory", &mallory, &mallory),
        &["[invitation-code]", "the code is wrong"],
    );
    refused(
        &f,
        &join_craft(&f, seq, &code, "carla", &mallory, &mallory),
        &["[duplicate-id]", "the handle carla is taken"],
    );
    let mut foreign = join_craft(&f, seq, &code, "mallory", &mallory, &other);
    foreign.named_key = other.clone();
    refused(
        &f,
        &foreign,
        &["[key-not-valid]", "a join row must be signed by the key it registers"],
    );
    // The newcomer's own claim passes, in a commit the founder signs; then the code is spent.
    let jane = f.stranger_key("jane");
    f.append(&join_craft(&f, seq, &code, "jane", &jane, &jane));
    f.commit_as("founder", "relay jane");
    f.assert_accepted(&f.push());
    refused(
        &f,
        &join_craft(&f, seq, &code, "mallory", &mallory, &mallory),
        &["[invitation]", "claimed already, by jane"],
    );

    // An invitation that closes two minutes after it is made, claimed five minutes later.
    let short = Code::generate();
    let mut invite = f.deposit();
    invite.table = "invitations".into();
    invite.action = "invite".into();
    let expires = invite.at.plus(120).to_string();
    invite.values = vec![
        ("license".into(), "campaign".into()),
        ("invitation_key".into(), short.key(&invite.ledger_id).public().to_openssh()),
        ("expires".into(), expires),
    ];
    let made = f.append(&invite);
    f.commit_as("founder", "invite");
    f.assert_accepted(&f.push());
    let mut late = join_craft(&f, made.seq, &short, "late", &mallory, &mallory);
    late.at = made.timestamp.plus(300);
    let before = f.forge_main();
    f.append(&late);
    f.commit_as("founder", "late");
    let clock = late.at.plus(60).to_string();
    let out = f.push_args(&["origin", "main"], &[("SMARTUP_NOW", &clock)]);
    f.assert_rejected(&out, &before, &["[invitation]", "expired at"]);
}

#[test]
fn only_leadership_captains_import_and_a_payment_is_recorded_once() {
    let (f, _) = imported();
    let before = f.head();
    let now = Timestamp::now().to_string();
    let alice = f.key("alice");
    let out = smartup(
        &f,
        &f.work,
        &now,
        Some(("alice", &alice)),
        &["onboard", "import", &fixture("a-later.csv")],
    );
    assert_eq!(out.code, 1, "refused steps make the import fail: {out:?}");
    assert!(
        out.stdout
            .contains("REFUSED (not-permitted): alice is not a captain of the leadership team"),
        "{out:?}"
    );
    assert_eq!(f.head(), before, "nothing was written");
    let mut deposit = f.deposit();
    deposit.values.push(("reference".into(), "opencollective/3f2a1b9c/100221".into()));
    refused(
        &f,
        &deposit,
        &["[duplicate-id]", "reference opencollective/3f2a1b9c/100221 was recorded already"],
    );
    let mut by_alice = f.deposit();
    by_alice.actor = "alice".into();
    by_alice.signer = alice.clone();
    by_alice.named_key = alice.clone();
    refused(&f, &by_alice, &["[not-permitted]", "alice is not a captain of the leadership team"]);
    let mut invite = by_alice.clone();
    invite.table = "invitations".into();
    invite.action = "invite".into();
    invite.values = vec![
        ("license".into(), "work".into()),
        (
            "invitation_key".into(),
            Code::generate().key(&invite.ledger_id).public().to_openssh(),
        ),
        ("expires".into(), invite.at.plus(3600).to_string()),
    ];
    refused(&f, &invite, &["[not-permitted]", "alice is not a team captain"]);
}

#[test]
fn smartup_zeros_earlier_records_are_imported_once_with_what_does_not_add_up_reported() {
    let f = Forge::new();
    let now = Timestamp::now().to_string();
    let founder = f.key("founder");
    let legacy = format!("{}/tests/fixtures/legacy", env!("CARGO_MANIFEST_DIR"));
    let first = smartup(
        &f,
        &f.work,
        &now,
        Some(("founder", &founder)),
        &["onboard", "import-legacy", &legacy],
    );
    assert_eq!(
        first.code, 1,
        "inconsistencies make the import fail after writing what holds: {first:?}"
    );
    assert!(
        first.stdout.contains("6 records imported, 0 refused, 2 inconsistencies reported"),
        "{first:?}"
    );
    assert!(
        first
            .stderr
            .contains("balance.csv line 8: total_eur_balance says 280.00 EUR, but the changes above add up to 270.00 EUR"),
        "{first:?}"
    );
    assert!(
        first
            .stderr
            .contains("transactions.csv line 5: to \"zoe\" is not an owner of the ledger"),
        "{first:?}"
    );
    push(&f, &f.work, &now, ("founder", &founder));
    let again = smartup(
        &f,
        &f.work,
        &now,
        Some(("founder", &founder)),
        &["onboard", "import-legacy", &legacy],
    );
    assert!(
        again.stdout.contains("0 records imported") && again.stdout.contains("imported before, at seq"),
        "{again:?}"
    );
    let log = f.log(&f.work);
    let imported: Vec<&serde_json::Value> = log.iter().filter(|r| r["action"] == "import-legacy").collect();
    assert_eq!(imported.len(), 6);
    let balance = smartup(&f, &f.work, &now, None, &["balance", "--json"]).ok();
    let value: serde_json::Value = serde_json::from_str(&balance.stdout).unwrap();
    assert_eq!(
        value["treasury"]["eur"], "8556.45",
        "the demo's 8286.45 EUR and the file's 270.00: {balance:?}"
    );
    let maya = value["owners"].as_array().unwrap().iter().find(|o| o["owner"] == "maya").unwrap();
    assert_eq!(maya["sk"], "20.00", "5 SK of the demo and 15 from the file");

    // Only the founder imports them, whatever the signature.
    let mut craft = f.deposit();
    craft.table = "legacy-records".into();
    craft.action = "import-legacy".into();
    craft.actor = "carla".into();
    craft.signer = f.key("carla");
    craft.named_key = f.key("carla");
    craft.values = vec![
        ("source".into(), "balance.csv".into()),
        ("source_line".into(), "99".into()),
        ("happened_at".into(), "2025-01-01T00:00:00Z".into()),
        ("kind".into(), "donation".into()),
        ("currency".into(), "EUR".into()),
        ("amount".into(), "1000.00".into()),
    ];
    refused(&f, &craft, &["[not-permitted]", "carla does not hold the founder role"]);

    // A file without the columns it is known by is refused as a whole, naming the column.
    let broken = f.sb.path().join("broken");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(broken.join("balance.csv"), "timestamp,event_type,amount\n2025-01-01,donation,5\n").unwrap();
    let out = smartup(
        &f,
        &f.work,
        &now,
        Some(("founder", &founder)),
        &["onboard", "import-legacy", s(&broken)],
    );
    assert_eq!(out.code, 3, "{out:?}");
    assert!(out.stderr.contains("balance.csv has no column \"amount_eur_delta\""), "{out:?}");
}
