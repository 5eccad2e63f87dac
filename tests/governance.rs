//! Decisions through the forge's hook: a policy amendment that ends the bootstrap phase, a
//! declaration and a tranche of the founder's retrospective award, each passed by vote
//! through the command line and accepted by the forge, after which the founder can no longer
//! amend the policy alone; and the governance rules
//! broken by hand-written rows with valid signatures, each refused by the hook with its
//! violation and leaving the forge's `main` where it was.
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

/// The working clone's `ledger.toml` with one line replaced, written beside it.
fn policy_with(f: &Forge, name: &str, from: &str, to: &str) -> PathBuf {
    let current = std::fs::read_to_string(f.work.join("ledger.toml")).expect("ledger.toml");
    assert!(current.contains(from), "ledger.toml has no {from:?}");
    text(f, name, &current.replacen(from, to, 1))
}

/// carla awards the founder 20 SK for governance: with the 40 SK of the demo's two passed
/// proposals, enough to propose outside the bootstrap phase (50).
fn founder_may_propose(f: &Forge, at: Timestamp) {
    f.act_at(at, "carla", &["award-sk", "founder", "governance"]);
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
fn decisions_passed_by_vote_land_and_bind_the_forge_once_the_bootstrap_phase_is_over() {
    let f = Forge::new();
    assert!(f.policy().bootstrap.active, "the demo runs in the bootstrap phase");
    let start = Timestamp::now();
    founder_may_propose(&f, start);
    let why = text(&f, "end-bootstrap.md", "The founding team is in place: end the bootstrap phase.\n");
    let new_policy = policy_with(&f, "no-bootstrap.toml", "active = true", "active = false");
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
    let mvp = text(&f, "mvp.md", "The product works: declare the working MVP.\n");
    f.act_at(
        start,
        "founder",
        &[
            "propose",
            "binding-vote",
            "--title",
            "The MVP works",
            "--text",
            s(&mvp),
            "--declares",
            "working-mvp",
        ],
    );
    let declaration = last_seq(&f);
    for who in ["carla", "maya", "alice"] {
        f.act_at(start, who, &["vote", &amendment, "yes"]);
        f.act_at(start, who, &["vote", &declaration, "yes"]);
    }
    f.act_at(start, "bob", &["vote", &amendment, "no"]);
    f.assert_accepted(&f.push_at(start));

    // Closing before the window ends is refused by the command line, with the time it ends.
    f.act_in(&f.work, "maya", &["close-proposal", &amendment])
        .fails()
        .stderr_has(&["[proposal]", "is open until"]);

    // A week later: both pass; the amendment is recorded by an owner who is no captain.
    let week = start.plus(169 * HOUR);
    f.act_at(week, "maya", &["close-proposal", &amendment]);
    f.act_at(week, "maya", &["close-proposal", &declaration]);
    f.act_at(week, "bob", &["amend-policy", s(&new_policy)]);
    // The declared MVP triggers the production tranche: the owners vote, the founder excepted.
    let production = text(&f, "production.md", "Release part of the production-phase tranche.\n");
    f.act_at(
        week,
        "founder",
        &[
            "propose",
            "tranche-release",
            "--title",
            "Production tranche",
            "--text",
            s(&production),
            "--tranche",
            "production",
        ],
    );
    let tranche = last_seq(&f);
    for who in ["carla", "maya"] {
        f.act_at(week, who, &["vote", &tranche, "yes"]);
    }
    f.assert_landed(&f.push_at(week));
    assert!(!f.policy().bootstrap.active, "the amendment took effect");
    // The founder's own vote on the release, written by hand with a valid signature.
    refused(
        &f,
        &crafted(&f, "founder", "vote", &[("proposal", &tranche), ("choice", "yes")], week),
        week,
        &["[self-validation]", "cannot vote on it"],
    );

    // Another week: the release passes; the treasury allows 149.85 SC more under the 3x rule.
    let fortnight = week.plus(169 * HOUR);
    f.act_at(fortnight, "alice", &["close-proposal", &tranche]);
    f.try_act_at(fortnight, "carla", &["release-tranche", "production"])
        .fails()
        .stderr_has(&["[treasury]", "3x rule"]);
    f.act_at(fortnight, "carla", &["release-tranche", "production", "--amount", "100"]);
    f.assert_landed(&f.push_at(fortnight));
    verifies_at(&f, fortnight);

    // Outside the bootstrap phase the founder no longer amends the policy alone: the command
    // line refuses, and so does the hook for a row written by hand with the file.
    let again = policy_with(&f, "again.toml", "quorum_percent = \"25\"", "quorum_percent = \"10\"");
    f.try_act_at(fortnight, "founder", &["amend-policy", s(&again)])
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
        fortnight,
    );
    amend.table = "master-events".into();
    f.append(&amend);
    f.commit_as("founder", "the founder amends alone");
    f.assert_rejected(&f.push_at(fortnight), &before, &["[governance]", "passed policy-amendment"]);
}

#[test]
fn decisions_written_by_hand_against_the_rules_are_refused_by_the_hook() {
    let f = Forge::new();
    let start = Timestamp::now();
    founder_may_propose(&f, start);
    let why = text(&f, "logo.md", "Adopt the new logo.\n");
    f.act_at(
        start,
        "founder",
        &["propose", "binding-vote", "--title", "Adopt the logo", "--text", s(&why)],
    );
    let vote = last_seq(&f);
    f.act_at(start, "carla", &["vote", &vote, "yes"]);
    f.assert_accepted(&f.push_at(start));

    let after = start.plus(169 * HOUR);
    refused(
        &f,
        &crafted(&f, "maya", "vote", &[("proposal", &vote), ("choice", "yes")], after),
        after,
        &["[vote]", "by maya", "closed at"],
    );
    // carla's yes (1.000) of about five votes eligible is below the 25% quorum: it failed.
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
        &["[proposal]", "the policy in force says 25.00"],
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
