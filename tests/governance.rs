//! Decisions through the forge's hook: a policy amendment and a tranche of the founder's
//! retrospective award, each passed by vote through the command line and accepted by the
//! forge; and the governance rules broken by hand-written rows with valid signatures, each
//! refused by the hook with its violation and leaving the forge's `main` where it was.
//!
//! The vote windows are 7 days: the command line and the hook run on a pinned clock
//! (`SMARTUP_NOW`) that the tests move past them.

mod common;
#[path = "common/hook.rs"]
mod hook_common;

use common::s;
use hook_common::{Craft, Forge};
use smartup::time::{Timestamp, HOUR};
use std::path::PathBuf;

/// A file holding a proposal's full text.
fn text(f: &Forge, name: &str, body: &str) -> PathBuf {
    let path = f.sb.path().join(name);
    std::fs::write(&path, body).expect("write the proposal's text");
    path
}

/// The working clone's `ledger.toml` with the bootstrap phase ended, written beside it.
fn policy_without_bootstrap(f: &Forge) -> PathBuf {
    let current = std::fs::read_to_string(f.work.join("ledger.toml")).expect("ledger.toml");
    assert!(current.contains("active = true"), "the demo runs in the bootstrap phase");
    text(f, "no-bootstrap.toml", &current.replacen("active = true", "active = false", 1))
}

/// A row of the proposals table by `actor`, signed with their own key, at `at`.
fn crafted(f: &Forge, actor: &str, action: &str, values: &[(&str, &str)], at: Timestamp) -> Craft {
    let mut craft = f.deposit();
    craft.table = "proposals".into();
    craft.action = action.into();
    craft.actor = actor.into();
    craft.values = values.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    craft.signer = f.key(actor);
    craft.named_key = f.key(actor);
    craft.at = at;
    craft
}

/// Appends a crafted row, commits it signed by its actor and pushes at `at`: the push must
/// be refused naming `parts`; the working clone is reset afterwards.
#[track_caller]
fn refused(f: &Forge, craft: &Craft, at: Timestamp, parts: &[&str]) {
    let before = f.forge_main();
    f.append(craft);
    f.commit_as(&craft.actor, "a hand-written decision");
    f.assert_rejected(&f.push_at(at), &before, parts);
    f.reset();
}

/// `smartup verify` of the forge on the pinned clock `at` must pass.
#[track_caller]
fn verifies_at(f: &Forge, at: Timestamp) {
    let mut command = f.command(common::SMARTUP);
    command.env("SMARTUP_NOW", at.to_string());
    command.args(["--ledger", s(&f.forge), "verify", "--json"]);
    let out = common::run(command).ok();
    assert!(out.stdout.contains("\"ok\":true"), "{out:?}");
}

/// The seq of the working clone's last row.
fn last_seq(f: &Forge) -> String {
    f.last().0.to_string()
}

#[test]
fn an_amendment_and_a_tranche_passed_by_vote_are_accepted_and_then_bind_the_forge() {
    let f = Forge::new();
    let start = Timestamp::now();
    let why = text(&f, "end-bootstrap.md", "The founding team is in place: end the bootstrap phase.\n");
    let new_policy = policy_without_bootstrap(&f);
    f.act_at(
        start,
        "founder",
        &[
            "propose",
            "policy-amendment",
            "--title",
            "End the bootstrap phase",
            "--text",
            s(&why),
            "--policy",
            s(&new_policy),
        ],
    );
    let amendment = last_seq(&f);
    f.act_at(start, "founder", &["deposit-eur", "3100", "--reason", "donation"]);
    let design = text(&f, "design.md", "Release the design-phase tranche of the founder's prior work.\n");
    f.act_at(
        start,
        "founder",
        &[
            "propose",
            "tranche-release",
            "--title",
            "Design tranche",
            "--text",
            s(&design),
            "--tranche",
            "design",
        ],
    );
    let tranche = last_seq(&f);
    for who in ["carla", "maya", "alice"] {
        f.act_at(start, who, &["vote", &amendment, "yes"]);
    }
    f.act_at(start, "carla", &["vote", &tranche, "yes"]);
    f.assert_accepted(&f.push_at(start));

    // Closing before the window ends is refused by the command line, with the time it ends.
    f.act_in(&f.work, "maya", &["close-proposal", &amendment])
        .fails()
        .stderr_has(&["[proposal]", "is open until"]);

    let later = start.plus(169 * HOUR);
    f.act_at(later, "maya", &["close-proposal", &amendment]);
    f.act_at(later, "maya", &["close-proposal", &tranche]);
    f.act_at(later, "alice", &["amend-policy", s(&new_policy)]);
    f.act_at(later, "carla", &["release-tranche", "design"]);
    f.assert_landed(&f.push_at(later));
    verifies_at(&f, later);
    assert!(!f.policy().bootstrap.active, "the amendment took effect");

    // Outside the bootstrap phase the founder no longer amends the policy alone: the command
    // line refuses, and so does the hook for a row written by hand with the file.
    let again = text(
        &f,
        "again.toml",
        &std::fs::read_to_string(f.work.join("ledger.toml"))
            .unwrap()
            .replacen("quorum_percent = \"20\"", "quorum_percent = \"10\"", 1),
    );
    f.try_act_at(later, "founder", &["amend-policy", s(&again)])
        .fails()
        .stderr_has(&["[governance]", "passed policy-amendment"]);
    let before = f.forge_main();
    std::fs::copy(&again, f.work.join("ledger.toml")).expect("replace ledger.toml");
    let reference = smartup::ledger::policy::file_reference(&std::fs::read(&again).unwrap());
    let mut amend = crafted(
        &f,
        "founder",
        "amend-policy",
        &[("subject", "ledger.toml"), ("reference", &reference)],
        later,
    );
    amend.table = "master-events".into();
    f.append(&amend);
    f.commit_as("founder", "the founder amends alone");
    f.assert_rejected(&f.push_at(later), &before, &["[governance]", "passed policy-amendment"]);
}

#[test]
fn decisions_written_by_hand_against_the_rules_are_refused_by_the_hook() {
    let f = Forge::new();
    let start = Timestamp::now();
    let why = text(&f, "logo.md", "Adopt the new logo.\n");
    f.act_at(
        start,
        "founder",
        &["propose", "binding-vote", "--title", "Adopt the logo", "--text", s(&why)],
    );
    let vote = last_seq(&f);
    f.act_at(
        start,
        "founder",
        &[
            "propose",
            "tranche-release",
            "--title",
            "Design tranche",
            "--text",
            s(&why),
            "--tranche",
            "design",
        ],
    );
    let tranche = last_seq(&f);
    f.act_at(start, "carla", &["vote", &vote, "yes"]);
    f.assert_accepted(&f.push_at(start));

    let after = start.plus(169 * HOUR);
    refused(
        &f,
        &crafted(&f, "maya", "vote", &[("proposal", &vote), ("choice", "yes")], after),
        after,
        &["[vote]", "by maya", "closed at"],
    );
    // carla's yes (1.000) of 5.005 eligible (maya holds 5 SK) is below the 20% quorum.
    let wrong = [
        ("proposal", vote.as_str()),
        ("result", "passed"),
        ("yes", "1000"),
        ("no", "0"),
        ("abstain", "0"),
        ("eligible", "5005"),
        ("voters", "1"),
    ];
    refused(
        &f,
        &crafted(&f, "alice", "close-proposal", &wrong, after),
        after,
        &["[tally]", "failed: yes 1000"],
    );
    refused(
        &f,
        &crafted(&f, "founder", "vote", &[("proposal", &tranche), ("choice", "yes")], start),
        start,
        &["[self-validation]", "cannot vote on it"],
    );
    refused(
        &f,
        &crafted(&f, "founder", "release-tranche", &[("tranche", "design"), ("amount", "100")], start),
        start,
        &["[self-validation]", "can never validate it"],
    );
    refused(
        &f,
        &crafted(&f, "carla", "release-tranche", &[("tranche", "production"), ("amount", "1")], start),
        start,
        &["[tranche]", "only after its trigger"],
    );
    let g = f.policy().governance;
    let low_quorum = [
        ("kind", "binding-vote"),
        ("title", "Cheap"),
        (
            "text_hash",
            "sha256:1111111111111111111111111111111111111111111111111111111111111111",
        ),
        ("window_hours", &g.vote_hours.to_string()),
        ("vote_hours", &g.vote_hours.to_string()),
        ("objections", &g.objections_to_vote.to_string()),
        ("quorum_percent", "1.00"),
        ("threshold_percent", &g.threshold_percent.0.to_string()),
    ];
    refused(
        &f,
        &crafted(&f, "founder", "propose", &low_quorum, start),
        start,
        &["[proposal]", "the policy in force says 20.00"],
    );
    // An outsider's vote, signed with a key the ledger never registered.
    let mut outsider = crafted(&f, "founder", "vote", &[("proposal", &vote), ("choice", "no")], start);
    outsider.actor = "mallory".into();
    outsider.signer = f.stranger_key("mallory");
    outsider.named_key = outsider.signer.clone();
    let before = f.forge_main();
    f.append(&outsider);
    f.commit_as("carla", "an outsider votes");
    f.assert_rejected(&f.push_at(start), &before, &["[unknown-owner]", "mallory"]);
}
