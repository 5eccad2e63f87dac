//! The server-side gate through real `git push`: a demo ledger is cloned bare as the "forge",
//! `smartup hook install` puts the pre-receive hook in it, and every test pushes from a clone.
//! Rejected pushes must name the violation on a `remote:` line and leave the forge's `main`
//! where it was; accepted pushes must leave a forge that `smartup verify` accepts.
//!
//! Rows the command line would refuse to write (bad signatures, replays, wrong seq, ...) are
//! signed with the library and appended by hand; the tampering commits are SSH-signed with a
//! ledger key (`git -c gpg.format=ssh commit -S`) so that the row-level check is what decides.

mod common;
#[path = "common/hook.rs"]
mod hook_common;

use common::{s, SMARTUP};
use hook_common::{append_bytes, lines_of, write_lines, Forge, Rng, Started, DEMO_ROWS, PEOPLE};
use smartup::time::Timestamp;
use std::path::{Path, PathBuf};

/// The first transactions segment: the founder's first deposit (of the import) at seq 4.
const TRANSACTIONS: &str = "tables/transactions/1/01.csv";

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn write(path: &Path, bytes: impl AsRef<[u8]>) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("cannot create {}: {e}", parent.display()));
    }
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

/// The policy file of the working clone with one line replaced, written next to the clone
/// for `amend-policy`.
#[track_caller]
fn amended_policy(f: &Forge, from: &str, to: &str) -> PathBuf {
    let text = read(&f.work.join("ledger.toml"));
    assert!(text.contains(from), "ledger.toml has no {from:?}");
    let path = f.sb.path().join("amended.toml");
    write(&path, text.replacen(from, to, 1));
    path
}

/// Makes `main` of the working clone a merge: the commits on `main` since the forge's `main`
/// move to a side branch, `main` goes back to the forge's, and the side is merged with
/// `--no-ff`, the merge commit signed with `key`.
#[track_caller]
fn merge_local_commits_from_a_side_branch(f: &Forge, key: &Path) {
    f.git_ok(&["branch", "-f", "side"]);
    f.git_ok(&["reset", "-q", "--hard", "origin/main"]);
    f.git_signing(key, &["merge", "-q", "--no-ff", "-S", "-m", "Merge branch side", "side"]);
    let parents = f.git_ok(&["rev-list", "--parents", "-n", "1", "HEAD"]);
    assert_eq!(parents.split_whitespace().count(), 3, "HEAD must be a merge commit: {parents}");
}

// ---------------------------------------------------------------------------------------
// Accepted pushes
// ---------------------------------------------------------------------------------------

#[test]
fn a_normal_push_is_accepted() {
    let f = Forge::new();
    let before = f.forge_main();
    f.act("carla", &["award-sk", "bob", "review"]);
    let out = f.push();
    f.assert_accepted(&out);
    assert!(
        out.stderr
            .contains("remote: smartup: accepted 1 entries in 1 commits on main: award-sk bob by carla"),
        "{out:?}"
    );
    assert_eq!(f.assert_forge_verifies(), DEMO_ROWS + 1);
    // `hook install` left a checkpoint of the state it found; a one-action push adds none (the
    // next push replays it from the checkpoint); post-receive logged the push.
    let tip = f.forge_main();
    let cached = read(&f.forge.join("smartup/state").join(format!("{before}.json")));
    assert!(cached.starts_with(&format!("smartup-state-v4 {before} ")), "{cached:.200}");
    assert!(!f.forge.join("smartup/state").join(format!("{tip}.json")).exists());
    let log = read(&f.forge.join("smartup/post-receive.log"));
    assert!(log.contains(&format!("{before} {tip} refs/heads/main")), "{log}");
}

#[test]
fn post_receive_starts_the_configured_follow_up_without_affecting_the_push() {
    let f = Forge::new();
    let forge = f.forge.to_str().unwrap().to_string();
    // A follow-up that runs in the forge's git dir (as a Forgejo sync would) and one that fails.
    f.git_in(
        &f.forge,
        &["config", "smartup.postReceive", "git rev-parse main > follow-up.txt; exit 7"],
    )
    .ok();
    f.act("carla", &["award-sk", "bob", "review"]);
    let out = f.push();
    f.assert_accepted(&out);
    let tip = f.forge_main();
    let marker = std::path::Path::new(&forge).join("follow-up.txt");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !marker.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(read(&marker).trim(), tip, "the follow-up ran after the push landed");
    let log = read(&f.forge.join("smartup/post-receive.log"));
    assert!(log.contains("-> starting"), "{log}");
}

#[test]
fn a_push_of_many_commits_at_once_is_accepted() {
    let f = Forge::new();
    let before = f.forge_main();
    for i in 0..20 {
        match i % 4 {
            0 | 2 => {
                let amount = (i + 1).to_string();
                f.act("founder", &["deposit-eur", &amount, "--reason", "donation"]);
            }
            1 => {
                f.act("carla", &["award-sk", "alice", "review"]);
            }
            _ => {
                f.act("carla", &["award-sk", "bob", "documentation"]);
            }
        }
    }
    let range = format!("{before}..HEAD");
    assert_eq!(f.git_ok(&["rev-list", "--count", &range]), "20");
    let out = f.push();
    f.assert_accepted(&out);
    assert!(out.stderr.contains("accepted 20 entries in 20 commits on main"), "{out:?}");
    assert_eq!(f.assert_forge_verifies(), DEMO_ROWS + 20);
}

#[test]
fn a_merge_commit_of_two_valid_branches_is_accepted() {
    let f = Forge::new();
    // A side branch with two entries, merged into a main that did not move.
    f.act("carla", &["award-sk", "alice", "review"]);
    f.act("founder", &["deposit-eur", "50", "--reason", "donation"]);
    merge_local_commits_from_a_side_branch(&f, &f.key("carla"));
    let out = f.push();
    f.assert_accepted(&out);
    assert!(out.stderr.contains("accepted 2 entries in 1 commits on main"), "{out:?}");
    assert_eq!(f.assert_forge_verifies(), DEMO_ROWS + 2);

    // Two branches that both moved: main has a new entry, the side branch a README change.
    let base = f.forge_main();
    f.git_ok(&["branch", "-f", "readme", &base]);
    f.act("carla", &["award-sk", "bob", "review"]);
    f.git_ok(&["checkout", "-q", "readme"]);
    append_bytes(&f.work.join("README.md"), b"\nContact: the design team.\n");
    f.commit_as("alice", "README: contact");
    f.git_ok(&["checkout", "-q", "main"]);
    f.git_signing(
        &f.key("maya"),
        &["merge", "-q", "--no-ff", "-S", "-m", "Merge branch readme", "readme"],
    );
    let out = f.push();
    f.assert_accepted(&out);
    assert_eq!(f.assert_forge_verifies(), DEMO_ROWS + 3);
    assert!(read(&f.work.join("README.md")).contains("Contact: the design team."));
}

#[test]
fn a_whole_ledger_pushed_into_an_empty_forge_is_accepted_and_a_broken_one_is_not() {
    let f = Forge::new();
    let demo = f.demo.join("ledger");
    for (name, broken) in [("empty.git", false), ("other.git", true)] {
        let empty = f.sb.path().join(name);
        f.git_in(f.sb.path(), &["init", "-q", "--bare", "--initial-branch=main", s(&empty)])
            .ok();
        f.smartup(&["hook", "install", "--repo", s(&empty)]).ok();
        let target = s(&empty).to_string();
        if broken {
            // The demo's history with an unsigned commit on top.
            f.act("carla", &["award-sk", "alice", "review"]);
            f.commit_unsigned("unsigned");
            let out = f.push_args(&[&target, "main"], &[]);
            assert_ne!(out.code, 0, "{out:?}");
            assert!(out.stderr.contains("pre-receive hook declined"), "{out:?}");
            assert!(out.stderr.contains("[commit-signature]"), "{out:?}");
            let refs = f.git_in(&empty, &["for-each-ref"]).ok().out();
            assert_eq!(refs, "", "nothing landed");
        } else {
            let out = f.git_in(&demo, &["push", &target, "main"]);
            assert_eq!(out.code, 0, "{out:?}");
            let commits = f.git_in(&demo, &["rev-list", "--count", "main"]).ok().out();
            let accepted = format!("accepted {DEMO_ROWS} entries in {commits} commits on main");
            assert!(out.stderr.contains(&accepted), "{out:?}");
            let (verify, report) = f.verify(&empty);
            assert_eq!(report["rows"], DEMO_ROWS, "{verify:?}");
        }
    }
}

#[test]
fn a_policy_amendment_is_accepted() {
    let f = Forge::new();
    let file = amended_policy(&f, "lazy_consensus_hours = 48", "lazy_consensus_hours = 72");
    f.act("founder", &["amend-policy", s(&file)]);
    f.assert_accepted(&f.push());
    assert_eq!(f.assert_forge_verifies(), DEMO_ROWS + 1);
}

// ---------------------------------------------------------------------------------------
// History: rows and headers never change
// ---------------------------------------------------------------------------------------

#[test]
fn editing_an_existing_row_is_rejected() {
    let f = Forge::new();
    let before = f.forge_main();
    let path = f.work.join(TRANSACTIONS);
    let text = read(&path);
    assert!(text.contains(",EUR,4604.75,license,"), "{text}");
    write(&path, text.replacen(",EUR,4604.75,license,", ",EUR,9604.75,license,", 1));
    f.commit_as("founder", "a bigger deposit");
    f.assert_rejected(
        &f.push(),
        &before,
        &["[history]", "tables/transactions/1/01.csv:2", "an existing row was edited"],
    );

    // Even when the edited row is signed again, properly, by its own actor.
    f.reset();
    let old = lines_of(&path);
    let original = String::from_utf8(old[1].clone()).unwrap();
    let fields: Vec<&str> = original.split(',').collect();
    let mut craft = f.deposit();
    craft.seq = fields[0].parse().unwrap();
    craft.at = fields[1].parse().unwrap();
    craft.values = vec![
        ("currency".into(), "EUR".into()),
        ("amount".into(), "9000.00".into()),
        ("reason".into(), "license".into()),
    ];
    let mut lines = old.clone();
    lines[1] = craft.line();
    assert_ne!(lines[1], old[1]);
    write_lines(&path, &lines);
    f.commit_as("founder", "a bigger deposit, re-signed");
    f.assert_rejected(
        &f.push(),
        &before,
        &["[history]", "tables/transactions/1/01.csv:2", "an existing row was edited"],
    );
}

#[test]
fn deleting_an_existing_row_is_rejected() {
    let f = Forge::new();
    let before = f.forge_main();
    let path = f.work.join(TRANSACTIONS);
    let mut lines = lines_of(&path);
    lines.remove(1);
    write_lines(&path, &lines);
    f.commit_as("founder", "forget the deposit");
    f.assert_rejected(&f.push(), &before, &["[history]", "tables/transactions/1/01.csv:2"]);

    // The newest row, the one a rewrite would most like to drop.
    f.reset();
    let mut lines = lines_of(&path);
    lines.pop();
    write_lines(&path, &lines);
    f.commit_as("carla", "forget the award");
    f.assert_rejected(
        &f.push(),
        &before,
        &["[history]", "an existing row was edited, deleted or reordered"],
    );

    // A whole table.
    f.reset();
    std::fs::remove_dir_all(f.work.join("tables/work_clock")).unwrap();
    f.commit_as("founder", "no clock");
    f.assert_rejected(&f.push(), &before, &["[history]", "tables/work_clock was deleted"]);
}

#[test]
fn reordering_existing_rows_is_rejected() {
    let f = Forge::new();
    let before = f.forge_main();
    // The demo has six transactions in one segment: swap the first two.
    let path = f.work.join(TRANSACTIONS);
    let mut lines = lines_of(&path);
    assert_eq!(lines.len(), 7, "the header, the demo's four deposits, an SK award and a donation");
    lines.swap(1, 2);
    write_lines(&path, &lines);
    f.commit_as("founder", "reorder");
    f.assert_rejected(&f.push(), &before, &["[history]", "tables/transactions/1/01.csv:2", "reordered"]);
}

#[test]
fn a_segment_begun_before_the_last_is_full_is_rejected() {
    let f = Forge::new();
    let before = f.forge_main();
    // A validly signed deposit, written as a new segment although the demo's transactions
    // segment holds only six rows of its 32.
    let craft = f.deposit();
    let mut bytes = smartup::ledger::segment::header_line(smartup::ledger::schema::table_id("transactions").unwrap());
    bytes.extend_from_slice(&craft.line_of(&craft.sign()));
    write(&f.work.join("tables/transactions/1/02.csv"), bytes);
    f.commit_as("founder", "a segment of its own");
    f.assert_rejected(
        &f.push(),
        &before,
        &[
            "[history]",
            "tables/transactions/1/02.csv begins while tables/transactions/1/01.csv holds 6 of its 32 rows",
        ],
    );
}

#[test]
fn changing_a_header_is_rejected() {
    let f = Forge::new();
    let before = f.forge_main();
    let path = f.work.join(TRANSACTIONS);
    let text = read(&path);
    write(&path, text.replacen("seq,timestamp,", "seq,time,", 1));
    f.commit_as("founder", "shorter header");
    f.assert_rejected(
        &f.push(),
        &before,
        &["[history]", "tables/transactions/1/01.csv:1", "the header was changed"],
    );
}

// ---------------------------------------------------------------------------------------
// Row signatures and keys
// ---------------------------------------------------------------------------------------

#[test]
fn a_row_with_a_forged_signature_is_rejected() {
    let f = Forge::new();
    let before = f.forge_main();
    // The key column names carla's key; the signature is made by a key that is not hers.
    let mut craft = f.award("carla", "alice");
    craft.signer = f.stranger_key("mallory");
    f.append(&craft);
    f.commit_as("carla", "an award");
    f.assert_rejected(
        &f.push(),
        &before,
        &["[bad-signature]", "seq 45", "by carla", "forged, copied or altered"],
    );

    // A validly signed row whose amount was changed after signing.
    f.reset();
    let mut line = String::from_utf8(f.deposit().line()).unwrap();
    line = line.replacen(",10.00,", ",10000.00,", 1);
    f.add_rows("transactions", line.as_bytes());
    f.commit_as("founder", "a deposit");
    f.assert_rejected(&f.push(), &before, &["[bad-signature]", "seq 45", "by founder"]);
}

#[test]
fn a_row_with_a_missing_signature_is_rejected() {
    let f = Forge::new();
    let before = f.forge_main();
    let craft = f.deposit();
    let mut row = craft.sign();
    row.signature = String::new();
    f.add_rows("transactions", &craft.line_of(&row));
    f.commit_as("founder", "unsigned deposit");
    f.assert_rejected(
        &f.push(),
        &before,
        &["[bad-signature]", "seq 45", "does not hold a base64 ed25519 signature"],
    );
}

#[test]
fn a_row_with_a_copied_signature_is_rejected() {
    let f = Forge::new();
    let before = f.forge_main();
    // The signature of the founder's deposit at seq 4, on a new deposit by the founder.
    let first = String::from_utf8(lines_of(&f.work.join(TRANSACTIONS))[1].clone()).unwrap();
    assert!(first.starts_with("4,"), "{first}");
    let copied = first.trim_end().rsplit_once(',').unwrap().1.to_string();
    let craft = f.deposit();
    let mut row = craft.sign();
    row.signature = copied;
    f.add_rows("transactions", &craft.line_of(&row));
    f.commit_as("founder", "deposit with an old signature");
    f.assert_rejected(&f.push(), &before, &["[bad-signature]", "seq 45", "forged, copied or altered"]);
}

#[test]
fn a_valid_row_replayed_again_is_rejected() {
    let f = Forge::new();
    let before = f.forge_main();
    let path = f.segment("transactions");
    let last = lines_of(&path).pop().unwrap();
    // The demo's last transaction: its donation, seq 34.
    assert!(last.starts_with(b"34,"), "{}", String::from_utf8_lossy(&last));

    // The same line once more.
    f.add_rows("transactions", &last);
    f.commit_as("carla", "again");
    f.assert_rejected(&f.push(), &before, &["[sequence]", "seq 34"]);

    // The same row under the next seq number: its signature does not cover the new seq.
    f.reset();
    let text = String::from_utf8(last).unwrap();
    let renumbered = format!("{}{}", DEMO_ROWS + 1, &text[2..]);
    f.add_rows("transactions", renumbered.as_bytes());
    f.commit_as("carla", "again, renumbered");
    f.assert_rejected(&f.push(), &before, &["[bad-signature]", "seq 45"]);
}

#[test]
fn a_valid_row_replayed_from_another_ledger_is_rejected() {
    let f = Forge::new();
    let before = f.forge_main();
    let (last, _) = f.last();
    // Another ledger founded with the same founder key, grown to the same length, where the
    // founder's next deposit is a perfectly valid row.
    let other = f.sb.path().join("other");
    f.act_in(&other, "founder", &["init", "--name", "Another Smartup"]).ok();
    let mut args = vec!["bootstrap-teams".to_string()];
    for n in 1..last {
        args.push("--team".into());
        args.push(format!("3_{n}_team_{n}=Team {n}"));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    f.act_in(&other, "founder", &args).ok();
    f.act_in(&other, "founder", &["deposit-eur", "10", "--reason", "donation"]).ok();
    let (out, report) = f.verify(&other);
    assert_eq!(report["ok"], true, "the other ledger is valid: {out:?}");
    let replayed = lines_of(&other.join(common::last_segment(&other, "transactions"))).pop().unwrap();
    assert!(replayed.starts_with(format!("{},", last + 1).as_bytes()));
    let other_policy = read(&other.join("ledger.toml"));
    assert!(
        !other_policy.contains(&f.policy().ledger.id),
        "the two ledgers must have different ids"
    );

    f.add_rows("transactions", &replayed);
    f.commit_as("founder", "a deposit from elsewhere");
    f.assert_rejected(
        &f.push(),
        &before,
        &["[bad-signature]", "seq 45", "by founder", "forged, copied or altered"],
    );
}

#[test]
fn a_row_signed_by_a_revoked_key_is_rejected() {
    let f = Forge::new();
    let fingerprint = f.sb.fingerprint(&f.key("carla"));
    // carla revokes her own key (only she may: the founder could not, see below).
    f.act("carla", &["revoke-key", "carla", &fingerprint]);
    f.assert_accepted(&f.push());
    let before = f.forge_main();

    // carla's award, signed with her revoked key.
    f.append(&f.award("carla", "alice"));
    f.commit_as("founder", "an award");
    f.assert_rejected(&f.push(), &before, &["[key-not-valid]", "seq 46", "by carla", "was revoked"]);

    // A good entry in a commit signed with the revoked key.
    f.reset();
    f.act("founder", &["deposit-eur", "5", "--reason", "donation"]);
    f.git_signing(&f.key("carla"), &["commit", "--amend", "-q", "--no-edit", "-S"]);
    f.assert_rejected(&f.push(), &before, &["[commit-signature]", "not a valid key of this ledger"]);
}

#[test]
fn a_row_signed_with_someone_elses_key_is_rejected() {
    let f = Forge::new();
    let before = f.forge_main();
    // The founder's deposit, signed by carla with her own (registered) key.
    let mut craft = f.deposit();
    craft.signer = f.key("carla");
    craft.named_key = f.key("carla");
    f.append(&craft);
    f.commit_as("carla", "a deposit for the founder");
    f.assert_rejected(
        &f.push(),
        &before,
        &["[key-not-valid]", "seq 45", "belongs to carla, not to founder"],
    );

    // The same, but the key column claims the founder's key.
    f.reset();
    let mut craft = f.deposit();
    craft.signer = f.key("carla");
    f.append(&craft);
    f.commit_as("carla", "a deposit for the founder");
    f.assert_rejected(&f.push(), &before, &["[bad-signature]", "seq 45", "by founder"]);
}

// ---------------------------------------------------------------------------------------
// Only you sign as you: keys of others and their recovery
// ---------------------------------------------------------------------------------------

/// A row of the keys table by `actor`, signed with their key, as the next row, now.
fn key_row(f: &Forge, actor: &str, action: &str, values: &[(&str, &str)]) -> hook_common::Craft {
    let mut craft = f.deposit();
    craft.table = "keys".into();
    craft.action = action.into();
    craft.actor = actor.into();
    craft.values = values.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    craft.signer = f.key(actor);
    craft.named_key = f.key(actor);
    craft
}

#[test]
fn a_captain_adding_a_key_to_the_founder_is_rejected() {
    let f = Forge::new();
    let before = f.forge_main();
    // carla, captain of the design team (3_2), gives the founder (3_1) a key of her own making.
    let evil = read(&common::public_of(&f.stranger_key("evil")));
    f.append(&key_row(
        &f,
        "carla",
        "register-key",
        &[("owner", "founder"), ("public_key", evil.trim())],
    ));
    f.commit_as("carla", "a spare key for the founder");
    f.assert_rejected(
        &f.push(),
        &before,
        &["[key-authority]", "seq 45", "by carla", "only founder adds keys"],
    );
}

#[test]
fn a_captain_revoking_the_founders_key_is_rejected() {
    let f = Forge::new();
    let before = f.forge_main();
    let founder = f.sb.fingerprint(&f.key("founder"));
    f.append(&key_row(&f, "carla", "revoke-key", &[("owner", "founder"), ("revokes", &founder)]));
    f.commit_as("carla", "the founder's key is gone");
    f.assert_rejected(
        &f.push(),
        &before,
        &["[key-authority]", "seq 45", "by carla", "carla may not change the keys of founder"],
    );
}

/// carla asks to give alice a new key in place of her current one (through the command
/// line); returns the request's seq, the new key line and alice's old fingerprint.
fn request_for_alice(f: &Forge) -> (u64, String, String) {
    let new = common::public_of(&f.stranger_key("alice-new"));
    let old = f.sb.fingerprint(&f.key("alice"));
    f.act(
        "carla",
        &["request-recovery", "alice", "--public-key", s(&new), "--note", "laptop stolen"],
    );
    let (seq, _) = f.last();
    (seq, read(&new).trim().to_string(), old)
}

#[test]
fn a_recovery_completed_by_one_authority_alone_is_rejected() {
    let f = Forge::new();
    let (request, new, old) = request_for_alice(&f);
    f.assert_accepted(&f.push());
    let before = f.forge_main();
    let request = request.to_string();
    f.append(&key_row(
        &f,
        "carla",
        "complete-recovery",
        &[("owner", "alice"), ("public_key", &new), ("revokes", &old), ("request", &request)],
    ));
    f.commit_as("carla", "alice's new key, on my word alone");
    f.assert_rejected(
        &f.push(),
        &before,
        &["[recovery]", "seq 46", "by carla", "a second authority must confirm it first"],
    );
}

#[test]
fn a_recovery_cancelled_by_the_owner_cannot_be_completed() {
    let f = Forge::new();
    let (request, new, old) = request_for_alice(&f);
    let seq = request.to_string();
    f.act("founder", &["confirm-recovery", &seq]);
    let (confirmation, _) = f.last();
    f.act("alice", &["cancel-recovery", &seq, "--note", "I still have my key"]);
    f.assert_accepted(&f.push());
    let before = f.forge_main();
    let confirmation = confirmation.to_string();
    f.append(&key_row(
        &f,
        "carla",
        "complete-recovery",
        &[
            ("owner", "alice"),
            ("public_key", &new),
            ("revokes", &old),
            ("request", &seq),
            ("confirmation", &confirmation),
        ],
    ));
    f.commit_as("carla", "alice's new key anyway");
    f.assert_rejected(
        &f.push(),
        &before,
        &["[recovery]", "seq 48", "by carla", "no open recovery", "cancelled"],
    );
}

// ---------------------------------------------------------------------------------------
// Rules: roles, seq, time
// ---------------------------------------------------------------------------------------

#[test]
fn an_action_the_actors_role_does_not_allow_is_rejected() {
    let f = Forge::new();
    let before = f.forge_main();
    // bob, a junior, awards SK, which only captains do.
    f.append(&f.award("bob", "alice"));
    f.commit_as("bob", "an award by bob");
    f.assert_rejected(&f.push(), &before, &["[not-permitted]", "seq 45", "by bob", "bob is not a captain"]);
}

#[test]
fn an_action_allowed_before_a_role_change_is_rejected_after_it() {
    let f = Forge::new();
    // carla awards SK as a captain; then the founder vacates her captain role.
    f.act("carla", &["award-sk", "alice", "review"]);
    f.act("founder", &["set-role", "4_1_2"]);
    f.assert_accepted(&f.push());
    let before = f.forge_main();
    f.append(&f.award("carla", "bob"));
    f.commit_as("carla", "an award after losing the role");
    f.assert_rejected(
        &f.push(),
        &before,
        &["[not-permitted]", "seq 47", "by carla", "carla is not a captain"],
    );
}

#[test]
fn a_gap_in_seq_is_rejected() {
    let f = Forge::new();
    let before = f.forge_main();
    let mut craft = f.deposit();
    craft.seq += 1;
    f.append(&craft);
    f.commit_as("founder", "a deposit");
    f.assert_rejected(&f.push(), &before, &["[sequence]", "seq 46", "without gap or repeat"]);
}

#[test]
fn a_duplicate_seq_is_rejected() {
    let f = Forge::new();
    let before = f.forge_main();
    let mut craft = f.deposit();
    craft.seq -= 1;
    f.append(&craft);
    f.commit_as("founder", "a deposit");
    f.assert_rejected(&f.push(), &before, &["[sequence]", "seq 44", "without gap or repeat"]);
}

#[test]
fn a_timestamp_in_the_future_is_rejected() {
    let f = Forge::new();
    let before = f.forge_main();
    let mut craft = f.deposit();
    craft.at = Timestamp::now().plus(86_400);
    f.append(&craft);
    f.commit_as("founder", "tomorrow's deposit");
    f.assert_rejected(&f.push(), &before, &["[time-order]", "seq 45", "in the future"]);

    // Nor before the previous row.
    f.reset();
    let (_, last) = f.last();
    let mut craft = f.deposit();
    craft.at = last.plus(-3_600);
    f.append(&craft);
    f.commit_as("founder", "yesterday's deposit");
    f.assert_rejected(&f.push(), &before, &["[time-order]", "seq 45", "before the previous row"]);

    // A minute ahead of the server's clock is within the skew the hook allows.
    f.reset();
    let mut craft = f.deposit();
    craft.at = Timestamp::now().plus(60);
    f.append(&craft);
    f.commit_as("founder", "a deposit a minute from now");
    f.assert_accepted(&f.push());
}

// ---------------------------------------------------------------------------------------
// Refs: force-push, deletion, other refs
// ---------------------------------------------------------------------------------------

#[test]
fn a_force_push_is_rejected() {
    let f = Forge::new();
    let before = f.forge_main();
    // Drop the demo's last commit and record something else in its place.
    f.git_ok(&["reset", "-q", "--hard", "HEAD~1"]);
    f.act("carla", &["award-sk", "alice", "review"]);
    let plain = f.push();
    assert_ne!(plain.code, 0, "git itself refuses a non-fast-forward: {plain:?}");
    let forced = f.push_args(&["--force", "origin", "main"], &[]);
    f.assert_rejected(&forced, &before, &["[history]", "does not continue the ledger", "force-push"]);

    // Rewinding to an older commit.
    f.reset();
    f.git_ok(&["reset", "-q", "--hard", "HEAD~3"]);
    let rewind = f.push_args(&["--force", "origin", "main"], &[]);
    f.assert_rejected(&rewind, &before, &["[history]", "does not continue the ledger"]);
}

#[test]
fn deleting_the_ledger_branch_is_rejected() {
    let f = Forge::new();
    let before = f.forge_main();
    let out = f.push_args(&["origin", ":main"], &[]);
    f.assert_rejected(&out, &before, &["[history]", "deleting the ledger branch is never allowed"]);
    let out = f.push_args(&["--delete", "origin", "main"], &[]);
    f.assert_rejected(&out, &before, &["[history]", "deleting the ledger branch is never allowed"]);
}

#[test]
fn the_hook_judges_a_push_with_typed_findings() {
    use smartup::hook::pre_receive::{check, PushEnv, Update};
    let f = Forge::new();
    let main = f.forge_main();
    f.commit_unsigned("an unsigned commit");
    let unsigned = f.head();
    // The commit's objects reach the forge by a fetch, which runs no hook.
    f.git_ok(&["branch", "unsigned"]);
    f.git_in(&f.forge, &["fetch", "-q", s(&f.work), "unsigned:refs/fetched/unsigned"])
        .ok();
    let repo = git2::Repository::open_bare(&f.forge).expect("the forge opens");
    let oid = |text: &str| text.parse::<git2::Oid>().expect("an object id");
    let update = |old: git2::Oid, new: git2::Oid, name: &str| Update {
        old,
        new,
        name: name.into(),
    };
    let updates = [
        update(oid(&main), oid(&unsigned), "refs/heads/main"),
        update(git2::Oid::ZERO_SHA1, oid(&main), "refs/tags/v1"),
    ];
    let verdict = check(&repo, &updates, &PushEnv::default(), Timestamp::now()).expect("a verdict");
    assert!(!verdict.accepted());
    assert!(verdict.notes.is_empty(), "{verdict:?}");
    let found: Vec<(&str, Option<&str>)> = verdict.problems.iter().map(|p| (p.code, p.commit.as_deref())).collect();
    assert_eq!(
        found,
        [("commit-signature", Some(unsigned.as_str())), ("ref-policy", None)],
        "{verdict:?}"
    );
    assert_eq!(
        verdict.problems[0].message,
        format!("commit {unsigned} is not signed; every ledger commit is SSH-signed")
    );

    // Each update is judged on its own: the tag alone is refused for what it is.
    let verdict = check(&repo, &updates[1..], &PushEnv::default(), Timestamp::now()).expect("a verdict");
    let codes: Vec<&str> = verdict.problems.iter().map(|p| p.code).collect();
    assert_eq!(codes, ["ref-policy"], "{verdict:?}");
}

#[test]
fn refs_other_than_the_ledger_branch_are_refused_unless_the_policy_allows_them() {
    let f = Forge::new();
    let before = f.forge_main();
    let draft = f.push_args(&["origin", "HEAD:refs/heads/drafts/alice"], &[]);
    f.assert_rejected(
        &draft,
        &before,
        &["[ref-policy]", "refs/heads/drafts/alice: only refs/heads/main may be pushed"],
    );
    f.git_ok(&["tag", "v1"]);
    let tag = f.push_args(&["origin", "v1"], &[]);
    f.assert_rejected(&tag, &before, &["[ref-policy]", "refs/tags/v1: only refs/heads/main may be pushed"]);
    let refs = f.git_in(&f.forge, &["for-each-ref", "--format=%(refname)"]).ok().out();
    assert_eq!(refs, "refs/heads/main", "nothing but main on the forge");

    // The policy can open a namespace for drafts; tags stay refused.
    let file = amended_policy(&f, "allow_refs = []", "allow_refs = [\"refs/heads/drafts/*\"]");
    f.act("founder", &["amend-policy", s(&file)]);
    f.assert_accepted(&f.push());
    let draft = f.push_args(&["origin", "HEAD:refs/heads/drafts/alice"], &[]);
    assert_eq!(draft.code, 0, "{draft:?}");
    assert!(draft
        .stderr
        .contains("refs/heads/drafts/alice is not the ledger; accepted as the policy allows"));
    let tag = f.push_args(&["origin", "v1"], &[]);
    f.assert_rejected(
        &tag,
        &f.forge_main(),
        &["[ref-policy]", "refs/tags/v1: only refs/heads/main may be pushed"],
    );
}

// ---------------------------------------------------------------------------------------
// Commit signatures
// ---------------------------------------------------------------------------------------

#[test]
fn an_unsigned_commit_is_rejected() {
    let f = Forge::new();
    let before = f.forge_main();
    // Good rows, but the commit that carries them lost its signature.
    f.act("carla", &["award-sk", "alice", "review"]);
    f.git_ok(&[
        "-c",
        "user.name=x",
        "-c",
        "user.email=x@y",
        "commit",
        "--amend",
        "-q",
        "--no-edit",
        "--no-gpg-sign",
    ]);
    f.assert_rejected(&f.push(), &before, &["[commit-signature]", "is not signed"]);

    // An empty unsigned commit on top of a good one.
    f.reset();
    f.act("carla", &["award-sk", "alice", "review"]);
    f.commit_unsigned("nothing");
    f.assert_rejected(&f.push(), &before, &["[commit-signature]", "is not signed"]);
}

#[test]
fn a_commit_signed_by_an_unknown_key_is_rejected() {
    let f = Forge::new();
    let before = f.forge_main();
    f.act("carla", &["award-sk", "alice", "review"]);
    let stranger = f.stranger_key("stranger");
    f.git_signing(&stranger, &["commit", "--amend", "-q", "--no-edit", "-S"]);
    let fingerprint = f.sb.fingerprint(&stranger);
    f.assert_rejected(
        &f.push(),
        &before,
        &["[commit-signature]", &fingerprint, "not a valid key of this ledger"],
    );
}

// ---------------------------------------------------------------------------------------
// Files: the policy, files outside the tables, huge and binary files
// ---------------------------------------------------------------------------------------

#[test]
fn a_change_to_ledger_toml_without_amendment_is_rejected() {
    let f = Forge::new();
    let before = f.forge_main();
    let path = f.work.join("ledger.toml");
    let text = read(&path);
    write(&path, text.replacen("lazy_consensus_hours = 48", "lazy_consensus_hours = 1", 1));
    f.commit_as("founder", "faster consensus");
    f.assert_rejected(&f.push(), &before, &["[policy]", "without an amend-policy row naming that hash"]);

    // Together with a good entry, it is still refused.
    f.reset();
    f.act("founder", &["deposit-eur", "5", "--reason", "donation"]);
    write(&path, text.replacen("lazy_consensus_hours = 48", "lazy_consensus_hours = 1", 1));
    f.git_ok(&["add", "-A"]);
    f.git_signing(&f.key("founder"), &["commit", "--amend", "-q", "--no-edit", "-S"]);
    f.assert_rejected(&f.push(), &before, &["[policy]"]);
}

#[test]
fn a_file_outside_the_tables_is_rejected() {
    let f = Forge::new();
    let before = f.forge_main();
    for (path, message) in [
        ("notes.txt", "notes.txt does not belong in a ledger"),
        ("docs/guide.md", "docs does not belong in a ledger"),
        ("tables/notes.txt", "tables/notes.txt is not a table"),
        ("tables/payroll/000001.csv", "tables/payroll is not a table"),
        ("tables/transactions/notes.txt", "tables/transactions/notes.txt does not belong"),
    ] {
        f.reset();
        write(&f.work.join(path), "seq\n1\n");
        f.commit_as("founder", "a file");
        f.assert_rejected(&f.push(), &before, &["[unexpected-file]", message]);
    }

    // A segment that is executable is not a plain file.
    f.reset();
    f.git_ok(&["update-index", "--chmod=+x", TRANSACTIONS]);
    f.git_signing(&f.key("founder"), &["commit", "-q", "-S", "-m", "executable"]);
    f.assert_rejected(
        &f.push(),
        &before,
        &["[unexpected-file]", "tables/transactions/1/01.csv does not belong"],
    );
}

#[test]
fn a_huge_file_is_rejected() {
    let f = Forge::new();
    let before = f.forge_main();
    // A new segment above 16 MiB, made of copies of a real row.
    let row = lines_of(&f.work.join(TRANSACTIONS)).pop().unwrap();
    let mut bytes = Vec::new();
    while bytes.len() <= 17 << 20 {
        bytes.extend_from_slice(&row);
    }
    let huge = f.add_rows("transactions", &bytes);
    f.commit_as("carla", "many awards");
    f.assert_rejected(
        &f.push(),
        &before,
        &["[unexpected-file]", &format!("{huge} is"), "more than the 16777216"],
    );

    // A README above 1 MiB.
    f.reset();
    write(&f.work.join("README.md"), "readme\n".repeat(200_000));
    f.commit_as("carla", "a long README");
    f.assert_rejected(&f.push(), &before, &["[unexpected-file]", "README.md"]);
}

#[test]
fn a_binary_file_is_rejected() {
    let f = Forge::new();
    let before = f.forge_main();
    // Binary bytes as a new row.
    let binary = f.add_rows("transactions", b"\x89PNG\x00\x01\xfe\xff,\x00\n");
    let line = lines_of(&f.work.join(&binary)).len();
    f.commit_as("founder", "binary");
    f.assert_rejected(&f.push(), &before, &["[unreadable]", &format!("{binary}:{line}")]);

    // A binary file at the root.
    f.reset();
    write(&f.work.join("logo.png"), b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe");
    f.commit_as("founder", "logo");
    f.assert_rejected(&f.push(), &before, &["[unexpected-file]", "logo.png"]);

    // A binary ledger.toml.
    f.reset();
    write(&f.work.join("ledger.toml"), b"\x00\xff\xfe binary");
    f.commit_as("founder", "binary policy");
    f.assert_rejected(&f.push(), &before, &["[policy]"]);
}

// ---------------------------------------------------------------------------------------
// Merges
// ---------------------------------------------------------------------------------------

#[test]
fn a_merge_that_smuggles_a_bad_row_in_from_a_side_branch_is_rejected() {
    let f = Forge::new();
    let before = f.forge_main();
    // The side branch: one good entry, then an award by bob, who may not award SK.
    f.act("carla", &["award-sk", "alice", "review"]);
    f.append(&f.award("bob", "alice"));
    f.commit_as("bob", "an award by bob");
    merge_local_commits_from_a_side_branch(&f, &f.key("carla"));
    f.assert_rejected(&f.push(), &before, &["[not-permitted]", "seq 46", "by bob", "bob is not a captain"]);

    // A side branch whose bad row carries a forged signature.
    f.reset();
    let mut craft = f.award("carla", "alice");
    craft.signer = f.stranger_key("mallory");
    f.append(&craft);
    f.commit_as("carla", "a forged award");
    merge_local_commits_from_a_side_branch(&f, &f.key("maya"));
    f.assert_rejected(&f.push(), &before, &["[bad-signature]", "seq 45", "by carla"]);
}

#[test]
fn a_merge_bringing_in_an_unsigned_side_commit_is_rejected() {
    let f = Forge::new();
    let before = f.forge_main();
    f.act("carla", &["award-sk", "alice", "review"]);
    f.commit_unsigned("an unsigned commit on the side branch");
    merge_local_commits_from_a_side_branch(&f, &f.key("carla"));
    f.assert_rejected(
        &f.push(),
        &before,
        &["[commit-signature]", "(merged in) has no valid SSH signature"],
    );

    // Signed, but by a key that is not the ledger's.
    f.reset();
    f.act("carla", &["award-sk", "alice", "review"]);
    let stranger = f.stranger_key("stranger");
    f.git_signing(&stranger, &["commit", "--amend", "-q", "--no-edit", "-S"]);
    merge_local_commits_from_a_side_branch(&f, &f.key("carla"));
    f.assert_rejected(&f.push(), &before, &["[commit-signature]", "(merged in) is signed by"]);
}

#[test]
fn a_merge_that_takes_an_edited_row_from_a_side_branch_is_rejected() {
    let f = Forge::new();
    let before = f.forge_main();
    // A side branch that edits an old row; the merge commit takes the side's tree.
    let path = f.work.join(TRANSACTIONS);
    let text = read(&path);
    write(&path, text.replacen(",EUR,4604.75,", ",EUR,9604.75,", 1));
    f.commit_as("founder", "edit");
    let side = f.head();
    f.git_ok(&["reset", "-q", "--hard", "origin/main"]);
    let tree = format!("{side}^{{tree}}");
    let merge = f
        .git_signing(
            &f.key("founder"),
            &["commit-tree", "-S", &tree, "-p", &before, "-p", &side, "-m", "Merge side"],
        )
        .out();
    f.git_ok(&["reset", "-q", "--hard", &merge]);
    f.assert_rejected(
        &f.push(),
        &before,
        &["[history]", "tables/transactions/1/01.csv:2", "an existing row was edited"],
    );

    // A merge whose first parent is an older commit: it holds every row of the forge's main,
    // but its first-parent line does not continue it.
    f.reset();
    let tree = format!("{before}^{{tree}}");
    let older = format!("{before}~1");
    let merge = f
        .git_signing(
            &f.key("founder"),
            &[
                "commit-tree",
                "-S",
                &tree,
                "-p",
                &older,
                "-p",
                &before,
                "-m",
                "Merge main into an older commit",
            ],
        )
        .out();
    f.git_ok(&["reset", "-q", "--hard", &merge]);
    f.assert_rejected(&f.push(), &before, &["[history]", "does not continue the ledger"]);
}

#[test]
fn a_pull_request_merge_signed_by_the_forges_key_is_accepted_only_when_it_adds_nothing() {
    let f = Forge::new();
    let instance = f.stranger_key("forgejo-instance");
    let public = read(&common::public_of(&instance)).trim().to_string();

    // Before the policy names the instance key, a merge signed by it is refused.
    f.act("carla", &["award-sk", "alice", "review"]);
    merge_local_commits_from_a_side_branch(&f, &instance);
    let before = f.forge_main();
    f.assert_rejected(&f.push(), &before, &["[commit-signature]", "not a valid key of this ledger"]);

    f.reset();
    let file = amended_policy(&f, "instance_keys = []", &format!("instance_keys = [\"{public}\"]"));
    f.act("founder", &["amend-policy", s(&file)]);
    f.assert_accepted(&f.push());

    f.act("carla", &["award-sk", "alice", "review"]);
    merge_local_commits_from_a_side_branch(&f, &instance);
    f.assert_accepted(&f.push());

    // A merge by the instance key that changes something of its own is refused.
    let before = f.forge_main();
    f.act("carla", &["award-sk", "bob", "review"]);
    f.git_ok(&["branch", "-f", "side"]);
    f.git_ok(&["reset", "-q", "--hard", "origin/main"]);
    f.git_signing(&instance, &["merge", "-q", "--no-ff", "--no-commit", "side"]);
    append_bytes(&f.work.join("README.md"), b"\nmerged by the forge\n");
    f.git_ok(&["add", "-A"]);
    f.git_signing(&instance, &["commit", "-q", "-S", "-m", "Merge with a change"]);
    f.assert_rejected(&f.push(), &before, &["[commit-signature]", "not a valid key of this ledger"]);
}

// ---------------------------------------------------------------------------------------
// Forgejo: the push's details, the registered-pusher policy, the hook layout
// ---------------------------------------------------------------------------------------

#[test]
fn forgejo_push_details_appear_in_the_hooks_messages() {
    let f = Forge::new();
    let before = f.forge_main();
    let env = [
        ("GITEA_PUSHER_NAME", "mallory"),
        ("GITEA_REPO_USER_NAME", "smartup-zero"),
        ("GITEA_REPO_NAME", "ledger"),
        ("GITEA_PR_ID", "7"),
    ];
    f.act("carla", &["award-sk", "alice", "review"]);
    f.commit_unsigned("unsigned");
    let out = f.push_args(&["origin", "main"], &env);
    f.assert_rejected(
        &out,
        &before,
        &[
            "smartup: push rejected (pusher mallory, repository smartup-zero/ledger, pull request #7)",
            "[commit-signature]",
        ],
    );

    f.reset();
    f.act("carla", &["award-sk", "alice", "review"]);
    let out = f.push_args(&["origin", "main"], &env[..3]);
    f.assert_accepted(&out);
    assert!(
        out.stderr
            .contains("accepted 1 entries in 1 commits on main (pusher mallory, repository smartup-zero/ledger)"),
        "{out:?}"
    );
}

#[test]
fn the_policy_can_require_a_registered_pusher() {
    let f = Forge::new();
    let file = amended_policy(&f, "require_registered_pusher = false", "require_registered_pusher = true");
    f.act("founder", &["amend-policy", s(&file)]);
    f.assert_accepted(&f.push_args(&["origin", "main"], &[("GITEA_PUSHER_NAME", "founder")]));
    let before = f.forge_main();

    f.act("carla", &["award-sk", "alice", "review"]);
    let out = f.push_args(&["origin", "main"], &[("GITEA_PUSHER_NAME", "mallory")]);
    f.assert_rejected(&out, &before, &["[pusher]", "the pusher mallory is not an owner of this ledger"]);
    let out = f.push();
    f.assert_rejected(&out, &before, &["[pusher]", "GITEA_PUSHER_NAME"]);
    let out = f.push_args(&["origin", "main"], &[("GITEA_PUSHER_NAME", "carla")]);
    f.assert_accepted(&out);
}

/// What Forgejo writes as `hooks/pre-receive`: it runs every hook in `pre-receive.d`.
const FORGEJO_DISPATCHER: &str = r#"#!/usr/bin/env bash
# AUTO GENERATED BY GITEA, DO NOT MODIFY
data=$(cat)
exitcodes=""
hookname=$(basename $0)
GIT_DIR=${GIT_DIR:-$(dirname $0)/..}

for hook in ${GIT_DIR}/hooks/${hookname}.d/*; do
  test -x "${hook}" && test -f "${hook}" || continue
  echo "${data}" | "${hook}"
  exitcodes="${exitcodes} $?"
done

for i in ${exitcodes}; do
  [ ${i} -eq 0 ] || exit ${i}
done
"#;

#[cfg(unix)]
fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[cfg(not(unix))]
fn make_executable(_path: &Path) {}

#[test]
fn hook_install_into_a_forgejo_layout_uses_pre_receive_d_and_still_gates() {
    let f = Forge::without_hook();
    let hooks = f.forge.join("hooks");
    let ran = f.sb.path().join("gitea-ran.log");
    let gitea = format!("#!/bin/sh\ncat >> '{}'\nexit 0\n", s(&ran));
    for name in ["pre-receive", "post-receive"] {
        write(&hooks.join(name), FORGEJO_DISPATCHER);
        make_executable(&hooks.join(name));
        write(&hooks.join(format!("{name}.d/gitea")), &gitea);
        make_executable(&hooks.join(format!("{name}.d/gitea")));
    }
    let installed = f.install();
    let files: Vec<&str> = installed.stdout.lines().collect();
    assert_eq!(files.len(), 2, "{installed:?}");
    assert!(files[0].ends_with("hooks/pre-receive.d/smartup"), "{installed:?}");
    assert!(files[1].ends_with("hooks/post-receive.d/smartup"), "{installed:?}");
    assert_eq!(read(&hooks.join("pre-receive")), FORGEJO_DISPATCHER, "Forgejo's own hook stays");
    assert_eq!(read(&hooks.join("pre-receive.d/gitea")), gitea, "Forgejo's own hook stays");
    assert!(read(&hooks.join("pre-receive.d/smartup")).contains(SMARTUP));

    f.clone_forge(&f.work);
    let before = f.forge_main();
    f.act("carla", &["award-sk", "alice", "review"]);
    f.commit_unsigned("unsigned");
    f.assert_rejected(&f.push(), &before, &["[commit-signature]", "is not signed"]);
    assert!(read(&ran).contains(&before), "Forgejo's hook ran too");

    f.reset();
    f.act("carla", &["award-sk", "alice", "review"]);
    f.assert_accepted(&f.push());
    // Installing again changes nothing and keeps Forgejo's hooks.
    f.install();
    assert_eq!(read(&hooks.join("pre-receive.d/gitea")), gitea);
}

// ---------------------------------------------------------------------------------------
// The state cache
// ---------------------------------------------------------------------------------------

fn cache_files(f: &Forge) -> Vec<PathBuf> {
    let dir = f.forge.join("smartup/state");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| {
            d.map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "json"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

#[test]
fn a_corrupt_state_cache_is_rebuilt_and_the_next_valid_push_is_accepted() {
    let f = Forge::new();
    let files = cache_files(&f);
    assert!(!files.is_empty(), "hook install leaves a checkpoint");
    let install_tip = f.forge_main();
    let install_state = std::fs::read(f.forge.join("smartup/state").join(format!("{install_tip}.json"))).unwrap();

    // Garbage in every checkpoint.
    for file in &files {
        write(file, "not a state");
    }
    f.act("carla", &["award-sk", "bob", "review"]);
    f.assert_accepted(&f.push());

    // A checkpoint cut in half.
    write(&files[0], &install_state[..install_state.len() / 2]);
    f.act("founder", &["deposit-eur", "5", "--reason", "donation"]);
    f.assert_accepted(&f.push());

    // Another commit's state, intact, under the tip's name.
    let tip = f.forge_main();
    write(&f.forge.join("smartup/state").join(format!("{tip}.json")), &install_state);
    f.act("founder", &["deposit-eur", "6", "--reason", "donation"]);
    f.assert_accepted(&f.push());

    // No cache at all.
    std::fs::remove_dir_all(f.forge.join("smartup/state")).unwrap();
    f.act("founder", &["deposit-eur", "7", "--reason", "donation"]);
    f.assert_accepted(&f.push());

    // A damaged cache does not open the gate.
    for file in cache_files(&f) {
        write(&file, "{}");
    }
    let before = f.forge_main();
    f.append(&f.award("bob", "alice"));
    f.commit_as("bob", "an award by bob");
    f.assert_rejected(&f.push(), &before, &["[not-permitted]", "bob is not a captain"]);
    assert_eq!(f.assert_forge_verifies(), DEMO_ROWS + 4);
}

// ---------------------------------------------------------------------------------------
// Property: random mutations of a valid push are rejected or harmless
// ---------------------------------------------------------------------------------------

/// Every segment file of the working clone.
fn segments(work: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for table in std::fs::read_dir(work.join("tables")).unwrap() {
        let table = table.unwrap().path();
        if table.is_dir() {
            let name = table.file_name().unwrap().to_string_lossy().into_owned();
            out.extend(common::segments_of(work, &name).iter().map(|p| work.join(p)));
        }
    }
    out.sort();
    out
}

fn relative(f: &Forge, path: &Path) -> String {
    path.strip_prefix(&f.work).unwrap().display().to_string()
}

/// A random segment with at least one line, if any is left.
fn some_segment(f: &Forge, rng: &mut Rng) -> Option<PathBuf> {
    let candidates: Vec<PathBuf> = segments(&f.work).into_iter().filter(|p| !lines_of(p).is_empty()).collect();
    (!candidates.is_empty()).then(|| rng.pick(&candidates).clone())
}

/// Applies one random mutation to the working clone; returns what it did.
fn mutate(f: &Forge, rng: &mut Rng) -> String {
    let all = segments(&f.work);
    let new_rows = f.segment("transactions");
    // The new row is what a push adds: half of the draws go to it.
    let choice = match rng.below(24) {
        0..=5 => 0,
        6..=8 => 3,
        9..=11 => 12,
        n => n - 11,
    };
    let Some(path) = some_segment(f, rng) else {
        return "no segment left to mutate".into();
    };
    let has_new_row = new_rows.exists() && lines_of(&new_rows).len() > 1;
    match choice {
        0 | 3 | 12 if !has_new_row => format!("no new row left in {TRANSACTIONS}"),
        12 => {
            let mut lines = lines_of(&new_rows);
            let last = String::from_utf8_lossy(&lines.pop().unwrap()).into_owned();
            let mut fields: Vec<&str> = last.trim_end_matches('\n').split(',').collect();
            if fields.len() < 2 {
                return "no fields to swap in the new row".into();
            }
            let i = rng.below(fields.len());
            let j = (i + 1 + rng.below(fields.len() - 1)) % fields.len();
            fields.swap(i, j);
            lines.push(format!("{}\n", fields.join(",")).into_bytes());
            write_lines(&new_rows, &lines);
            format!("swap fields {i} and {j} of the new row")
        }
        0 => {
            let mut lines = lines_of(&new_rows);
            let last = lines.len() - 1;
            let i = rng.below(lines[last].len());
            lines[last][i] ^= rng.nonzero_byte();
            write_lines(&new_rows, &lines);
            format!("flip byte {i} of the new row")
        }
        1 => {
            let mut bytes = std::fs::read(&path).unwrap();
            let i = rng.below(bytes.len());
            bytes[i] ^= rng.nonzero_byte();
            write(&path, &bytes);
            format!("flip byte {i} of {}", relative(f, &path))
        }
        2 => {
            let mut lines = lines_of(&path);
            if lines.len() < 2 {
                return format!("nothing to swap in {}", relative(f, &path));
            }
            let i = rng.below(lines.len());
            let j = (i + 1 + rng.below(lines.len() - 1)) % lines.len();
            lines.swap(i, j);
            write_lines(&path, &lines);
            format!("swap lines {} and {} of {}", i + 1, j + 1, relative(f, &path))
        }
        3 => {
            let mut lines = lines_of(&new_rows);
            let last = String::from_utf8_lossy(&lines.pop().unwrap()).into_owned();
            let (rest, signature) = last.trim_end().rsplit_once(',').unwrap_or((last.trim_end(), ""));
            let (what, replacement) = match rng.below(3) {
                0 => ("drop the new row's signature", String::new()),
                1 => {
                    let donor = lines_of(&path);
                    let donor = String::from_utf8_lossy(&donor[rng.below(donor.len())]).into_owned();
                    let copied = donor.trim_end().rsplit_once(',').map_or("", |(_, s)| s).to_string();
                    ("copy another line's signature onto the new row", copied)
                }
                _ => {
                    let mut chars: Vec<char> = signature.chars().collect();
                    if chars.is_empty() {
                        chars.push('A');
                    }
                    let i = rng.below(chars.len().saturating_sub(2).max(1));
                    chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
                    ("alter one character of the new row's signature", chars.into_iter().collect())
                }
            };
            lines.push(format!("{rest},{replacement}\n").into_bytes());
            write_lines(&new_rows, &lines);
            what.to_string()
        }
        4 => {
            let mut lines = lines_of(&path);
            let i = rng.below(lines[0].len());
            lines[0][i] ^= rng.nonzero_byte();
            write_lines(&path, &lines);
            format!("flip byte {i} of the header of {}", relative(f, &path))
        }
        5 => {
            let name = *rng.pick(&[
                "notes.txt",
                "docs/guide.md",
                ".gitattributes",
                "tables/notes.txt",
                "tables/payroll/000001.csv",
                "tables/transactions/000002.csv",
                "tables/keys/000001.csv.orig",
                "tables/transactions/1/99.csv",
                "tables/transactions/2/01/0100.csv",
                "tables/keys/1/00.csv",
            ]);
            write(&f.work.join(name), "seq,timestamp\n1,2026-01-01T00:00:00Z\n");
            format!("add {name}")
        }
        6 => {
            let mut lines = lines_of(&path);
            let i = rng.below(lines.len());
            lines.remove(i);
            write_lines(&path, &lines);
            format!("delete line {} of {}", i + 1, relative(f, &path))
        }
        7 => {
            let mut lines = lines_of(&path);
            let i = rng.below(lines.len());
            let copy = lines[i].clone();
            lines.push(copy);
            write_lines(&path, &lines);
            format!("append a copy of line {} of {}", i + 1, relative(f, &path))
        }
        8 => {
            let policy = f.work.join("ledger.toml");
            let Ok(mut bytes) = std::fs::read(&policy) else {
                return "no ledger.toml left to mutate".into();
            };
            let i = rng.below(bytes.len());
            bytes[i] ^= rng.nonzero_byte();
            write(&policy, &bytes);
            format!("flip byte {i} of ledger.toml")
        }
        9 => {
            let choices: Vec<PathBuf> = all
                .iter()
                .cloned()
                .chain([f.work.join("README.md"), f.work.join("ledger.toml")])
                .collect();
            let victim = rng.pick(&choices).clone();
            let _ = std::fs::remove_file(&victim);
            format!("delete {}", relative(f, &victim))
        }
        10 => {
            let readme = f.work.join("README.md");
            let mut text = std::fs::read(&readme).unwrap_or_default();
            text.extend_from_slice(b"\nA line added to the README.\n");
            write(&readme, text);
            "append to README.md".into()
        }
        _ => {
            let mut bytes = std::fs::read(&path).unwrap();
            bytes.pop();
            write(&path, &bytes);
            format!("drop the last byte of {}", relative(f, &path))
        }
    }
}

#[test]
fn mutated_pushes_are_rejected_or_leave_a_ledger_that_verifies() {
    const ROUNDS: usize = 60;
    let f = Forge::new();
    f.act("carla", &["award-sk", "alice", "review"]);
    f.assert_accepted(&f.push());
    let mut rng = Rng::new(0x5EED_F00D_1234_ABCD);
    let (mut rejected, mut accepted) = (0, 0);
    for round in 0..ROUNDS {
        f.reset();
        let before = f.forge_main();
        let amount = (round + 1).to_string();
        f.act("founder", &["deposit-eur", &amount, "--reason", "donation"]);
        let count = 1 + rng.below(2);
        let mutations: Vec<String> = (0..count).map(|_| mutate(&f, &mut rng)).collect();
        let signer = *rng.pick(&PEOPLE);
        let amend = rng.below(2) == 0;
        f.git_ok(&["add", "-A"]);
        if amend {
            f.git_signing(&f.key(signer), &["commit", "--amend", "-q", "--allow-empty", "--no-edit", "-S"]);
        } else {
            f.git_signing(&f.key(signer), &["commit", "-q", "--allow-empty", "-S", "-m", "mutation"]);
        }
        let context = format!(
            "round {round}: {mutations:?}, {} signed by {signer}",
            if amend { "amended commit" } else { "new commit" }
        );
        eprintln!("{context}");
        let out = f.push();
        if out.code == 0 {
            accepted += 1;
            assert_eq!(f.forge_main(), f.head(), "{context}: {out:?}");
            let (verify, report) = f.verify(&f.forge);
            assert_eq!(
                verify.code, 0,
                "{context}: the hook accepted a push that verify refuses: {report:#}\n{out:?}"
            );
        } else {
            rejected += 1;
            f.assert_rejected(&out, &before, &[]);
            // verify, on the pushing clone, finds the same ledger broken.
            let (verify, report) = f.verify(&f.work);
            assert_eq!(
                verify.code, 1,
                "{context}: the hook rejected a push that verify accepts or cannot judge: {verify:?}\n{report:#}\n{out:?}"
            );
        }
    }
    eprintln!("{rejected} mutated pushes rejected, {accepted} accepted");
    assert!(rejected >= ROUNDS / 2, "most mutations must be caught: {rejected} of {ROUNDS}");
    assert!(accepted > 0, "some mutations (of README.md) are harmless and must be accepted");
    f.assert_forge_verifies();
}

// ---------------------------------------------------------------------------------------
// Concurrent contributors and `smartup push`
// ---------------------------------------------------------------------------------------

#[test]
fn a_second_contributor_lands_with_smartup_push_after_the_first_pushed() {
    let f = Forge::new();
    let other = f.sb.path().join("other");
    f.clone_forge(&other);
    // Both record seq 45 on the same base.
    f.act("carla", &["award-sk", "alice", "review"]);
    f.act_in(&other, "founder", &["deposit-eur", "25", "--reason", "donation"]).ok();
    f.assert_accepted(&f.push());
    let before = f.forge_main();
    let plain = f.git_in(&other, &["push", "origin", "main"]);
    assert_ne!(plain.code, 0, "plain git refuses the non-fast-forward: {plain:?}");
    assert_eq!(f.forge_main(), before);

    let out = f.act_in(&other, "founder", &["push"]);
    assert_eq!(out.code, 0, "smartup push re-bases and lands: {out:?}");
    let head = f.git_in(&other, &["rev-parse", "HEAD"]).ok().out();
    assert_eq!(f.forge_main(), head, "the forge has the re-based entry: {out:?}");
    assert_eq!(f.assert_forge_verifies(), DEMO_ROWS + 2);
    let log = f.log(&f.forge);
    let tail: Vec<(u64, &str, &str)> = log[log.len() - 2..]
        .iter()
        .map(|r| {
            (
                r["seq"].as_u64().unwrap(),
                r["actor"].as_str().unwrap(),
                r["action"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(tail, [(45, "carla", "award-sk"), (46, "founder", "deposit-eur")]);
}

/// Three appenders push at once, round after round (two of them the same person in two
/// clones): with re-basing and jittered back-off every push lands, and the forge verifies.
#[test]
fn three_appenders_pushing_at_once_for_50_rounds_all_land_and_verify() {
    const ROUNDS: usize = 50;
    let f = Forge::new();
    let clones: Vec<(PathBuf, &str, usize)> = [("a", "founder", 1), ("b", "carla", 0), ("c", "founder", 1000)]
        .into_iter()
        .map(|(dir, who, base)| (f.sb.path().join(dir), who, base))
        .collect();
    for (dir, _, _) in &clones {
        f.clone_forge(dir);
    }
    let owners = ["alice", "bob", "maya"];
    let push = |dir: &Path, who: &str| {
        let mut command = f.command(SMARTUP);
        let key = f.key(who);
        command.args(["--ledger", s(dir), "push", "--handle", who, "--key", s(&key)]);
        Started::spawn(command)
    };
    for round in 0..ROUNDS {
        for (dir, who, base) in &clones {
            // The founder's two clones deposit different amounts: two identical entries made in
            // the same second would be the same commit.
            let args: Vec<String> = match *who {
                "carla" => vec!["award-sk".into(), owners[round % 3].into(), "review".into()],
                _ => vec![
                    "deposit-eur".into(),
                    (base + round).to_string(),
                    "--reason".into(),
                    "donation".into(),
                ],
            };
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            f.act_in(dir, who, &args).ok();
        }
        let started: Vec<Started> = clones.iter().map(|(dir, who, _)| push(dir, who)).collect();
        for (n, run) in started.into_iter().map(Started::wait).enumerate() {
            assert_eq!(run.code, 0, "round {round}, appender {n}: {run:?}");
        }
    }
    let rows = f.assert_forge_verifies();
    assert_eq!(rows, DEMO_ROWS + 3 * ROUNDS as u64, "every entry of every clone landed");
    let (out, report) = f.verify(&f.forge);
    assert_eq!(report["ok"], true, "{out:?}");
}

// ---------------------------------------------------------------------------------------
// Time is witnessed, not chosen by the signer

/// `smartup ARGS` in the working clone as `who`, on a clock pinned at `at` (SMARTUP_NOW).
fn act_at(f: &Forge, who: &str, at: Timestamp, args: &[&str]) -> common::Run {
    let key = f.key(who);
    let mut command = f.command(SMARTUP);
    command
        .args(["--ledger", s(&f.work)])
        .args(args)
        .env("SMARTUP_HANDLE", who)
        .env("SMARTUP_KEY", &key)
        .env("SMARTUP_NOW", at.to_string());
    common::run(command)
}

/// `git push origin main` with the forge's clock pinned at `at`.
fn push_at(f: &Forge, at: Timestamp) -> common::Run {
    f.push_args(&["origin", "main"], &[("SMARTUP_NOW", &at.to_string())])
}

#[test]
fn a_row_recorded_longer_ago_than_the_lag_is_refused() {
    let f = Forge::new();
    let before = f.forge_main();
    let now = Timestamp::now();
    let mut craft = f.deposit();
    craft.at = now.plus(-16 * 60);
    f.append(&craft);
    f.commit_as("founder", "a deposit recorded 16 minutes ago");
    let seq = format!("seq {}", craft.seq);
    f.assert_rejected(&push_at(&f, now), &before, &["[recorded-late]", &seq, "max_recording_lag_minutes"]);
    f.reset();
    craft.at = now.plus(-14 * 60);
    f.append(&craft);
    f.commit_as("founder", "a deposit recorded 14 minutes ago");
    f.assert_accepted(&push_at(&f, now));
}

#[test]
fn an_assessment_and_its_validation_back_dated_and_pushed_together_are_refused() {
    let f = Forge::new();
    let before = f.forge_main();
    // The ledger has been quiet for three days when the forge receives the push.
    let server = Timestamp::now().plus(72 * 3600);
    let early = server.plus(-51 * 3600);
    let steps: [(&str, &[&str]); 4] = [
        (
            "carla",
            &[
                "create-task",
                "6_2_1_2_icons",
                "--objective",
                "5_2_1",
                "--title",
                "Icons",
                "--size",
                "small",
                "--phase",
                "design",
            ],
        ),
        ("maya", &["assign-task", "6_2_1_2", "--attacker", "alice", "--defender", "bob"]),
        ("alice", &["start-task", "6_2_1_2"]),
        ("alice", &["start-work", "6_2_1_2"]),
    ];
    for (who, args) in steps {
        act_at(&f, who, early, args).ok();
    }
    act_at(&f, "alice", early.plus(3600), &["stop-work"]).ok();
    let assess = ["assess-work", "6_2_1_2", "--scores", "9,8,8", "--share", "90"];
    act_at(&f, "maya", early.plus(2 * 3600), &assess).ok();
    // On the rows' own clocks the 48-hour window has passed: the rules alone accept it.
    act_at(&f, "carla", server, &["validate-pending-sc", "6_2_1_2"]).ok();
    let out = push_at(&f, server);
    f.assert_rejected(&out, &before, &["[recorded-late]", "maya"]);
    assert!(!out.stderr.contains("[lazy-consensus]"), "{out:?}");
}

#[test]
fn a_retroactive_claim_dated_inside_the_limit_but_recorded_outside_it_is_refused() {
    let f = Forge::new();
    let before = f.forge_main();
    let server = Timestamp::now().plus(12 * 86_400);
    let earned = server.plus(-40 * 86_400).to_string()[..10].to_string();
    let mut craft = f.award("carla", "maya");
    for (name, value) in craft.values.iter_mut() {
        if name == "earned_on" {
            *value = earned.clone();
        }
    }
    // Dated 11 days before the server's clock: 29 days after the work, inside the limit.
    craft.at = Timestamp::now().plus(86_400);
    f.append(&craft);
    f.commit_as("carla", "SK for work 40 days old, dated 29 days after it");
    f.assert_rejected(&push_at(&f, server), &before, &["[recorded-late]"]);
    // Recorded when it reaches the forge, the same claim is 40 days late.
    f.reset();
    craft.at = server;
    f.append(&craft);
    f.commit_as("carla", "SK for work 40 days old");
    f.assert_rejected(&push_at(&f, server), &before, &["[retroactive]", &earned]);
}

#[test]
fn push_re_stamps_and_re_signs_rows_recorded_offline() {
    let f = Forge::new();
    let offline = Timestamp::now().plus(-2 * 3600);
    act_at(&f, "founder", offline, &["deposit-eur", "10", "--reason", "donation"]).ok();
    let key = f.key("founder");
    let mut command = f.command(SMARTUP);
    command.args(["--ledger", s(&f.work), "push", "--handle", "founder", "--key", s(&key)]);
    let out = common::run(command).ok();
    assert!(out.stderr.contains("re-stamped"), "{out:?}");
    let rows = f.log(&f.forge);
    let last = rows.last().expect("the forge has rows");
    assert_eq!(last["action"], "deposit-eur", "{last}");
    let at: Timestamp = last["timestamp"].as_str().expect("a timestamp").parse().expect("a valid timestamp");
    assert!(at >= Timestamp::now().plus(-300), "the row landed re-stamped, not at {at}");
    assert_eq!(f.assert_forge_verifies(), DEMO_ROWS + 1);
}

/// Runs the forge's post-receive companion as a witness with `key`, its clock pinned at `at`.
fn witness_at(f: &Forge, key: &Path, at: Timestamp) {
    let mut command = f.command(SMARTUP);
    command
        .args(["hook", "post-receive"])
        .env("GIT_DIR", &f.forge)
        .env("SMARTUP_WITNESS_KEY", key)
        .env("SMARTUP_NOW", at.to_string());
    common::run(command).ok();
}

#[test]
fn verify_reports_a_row_the_forge_witnessed_later_than_the_lag() {
    let f = Forge::new();
    let instance = f.sb.keygen("instance");
    let public = std::fs::read_to_string(common::public_of(&instance)).expect("the instance's public key");
    let policy = std::fs::read_to_string(f.work.join("ledger.toml")).expect("ledger.toml");
    let amended = policy.replace("instance_keys = []", &format!("instance_keys = [{:?}]", public.trim()));
    assert_ne!(amended, policy, "the template lists no instance key");
    let file = f.sb.path().join("amended.toml");
    std::fs::write(&file, amended).expect("write the amendment");
    f.act("founder", &["amend-policy", s(&file)]).ok();
    f.assert_accepted(&f.push());
    let now = Timestamp::now();
    witness_at(&f, &instance, now);
    let (out, report) = f.verify(&f.forge);
    assert_eq!(report["ok"], true, "{out:?}");
    assert_eq!(report["witnessed"]["witnesses"], 1, "{report}");
    // A row the forge accepted but witnessed only an hour later (a forge without the lag check).
    let mut craft = f.deposit();
    craft.at = now;
    f.append(&craft);
    f.commit_as("founder", "a deposit");
    f.assert_accepted(&f.push());
    witness_at(&f, &instance, now.plus(3600));
    let (out, report) = f.verify(&f.forge);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(common::codes(&report), vec!["recorded-late"], "{report}");
    assert_eq!(report["violations"][0]["seq"], craft.seq, "{report}");
    assert_eq!(report["witnessed"]["witnesses"], 2, "{report}");
    assert_eq!(report["witnessed"]["covered"], 1, "{report}");
    assert_eq!(report["witnessed"]["before_witnessing"], DEMO_ROWS + 1, "{report}");
}
