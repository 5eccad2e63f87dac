//! The decision rules, accepting and refusing: passing, failing on quorum and threshold at
//! their exact boundaries, ties, escalation by objections, changed votes, weights as of the
//! proposal, who may vote, closing tallies, and what decisions allow.

use super::Choice;
use crate::rules::test_support::{Book, ASSESS_WELL};
use crate::time::format_date;

/// The numbers a propose row copies from the policy in force.
fn copied(b: &Book, lazy: bool) -> Vec<(&'static str, String)> {
    let g = &b.state.policy.governance;
    let window = if lazy { g.lazy_consensus_hours } else { g.vote_hours };
    vec![
        ("window_hours", window.to_string()),
        ("vote_hours", g.vote_hours.to_string()),
        ("objections", g.objections_to_vote.to_string()),
        ("quorum_percent", g.quorum_percent.0.to_string()),
        ("threshold_percent", g.threshold_percent.0.to_string()),
    ]
}

const TEXT: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
const NEW_POLICY: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

/// A propose row's values: the copied numbers, with `extra` added or replacing them.
fn propose_values(b: &Book, kind: &str, extra: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    let lazy = matches!(kind, "lazy-consensus" | "award-review");
    let mut values = vec![
        ("kind", kind.to_string()),
        ("title", "A proposal".to_string()),
        ("text_hash", TEXT.to_string()),
    ];
    values.extend(copied(b, lazy));
    for (column, value) in extra {
        values.retain(|(c, _)| c != column);
        values.push((column, value.to_string()));
    }
    values
}

fn borrowed<'a>(values: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    values.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// `actor` proposes; returns the proposal's seq.
fn propose(b: &mut Book, actor: &str, kind: &str, extra: &[(&'static str, &str)]) -> String {
    let values = propose_values(b, kind, extra);
    b.ok(actor, "propose", &borrowed(&values));
    b.state.last_seq.to_string()
}

fn vote(b: &mut Book, who: &str, seq: &str, choice: &str) {
    b.ok(who, "vote", &[("proposal", seq), ("choice", choice)]);
}

fn close_values(seq: &str, result: &str, tally: [u64; 3], eligible: u64, voters: u64) -> Vec<(&'static str, String)> {
    vec![
        ("proposal", seq.to_string()),
        ("result", result.to_string()),
        ("yes", tally[0].to_string()),
        ("no", tally[1].to_string()),
        ("abstain", tally[2].to_string()),
        ("eligible", eligible.to_string()),
        ("voters", voters.to_string()),
    ]
}

fn close(b: &mut Book, seq: &str, result: &str, tally: [u64; 3], eligible: u64, voters: u64) {
    b.ok(
        "dave",
        "close-proposal",
        &borrowed(&close_values(seq, result, tally, eligible, voters)),
    );
}

fn refuse_close(b: &mut Book, code: &str, seq: &str, result: &str, tally: [u64; 3], eligible: u64, voters: u64) -> String {
    b.refused(
        code,
        "dave",
        "close-proposal",
        &borrowed(&close_values(seq, result, tally, eligible, voters)),
    )
}

/// The organisation (7 owners of weight 1.000: eligible 7.000) and a binding vote by the
/// founder (bootstrap phase: no SK needed).
fn vote_running() -> (Book, String) {
    let mut b = Book::organisation();
    let seq = propose(&mut b, "founder", "binding-vote", &[]);
    (b, seq)
}

#[test]
fn a_vote_with_quorum_and_majority_passes_and_rewards_its_proposer() {
    let (mut b, seq) = vote_running();
    vote(&mut b, "cap", &seq, "yes");
    vote(&mut b, "maya", &seq, "yes");
    vote(&mut b, "alice", &seq, "no");
    let msg = refuse_close(&mut b, "proposal", &seq, "passed", [2000, 1000, 0], 7000, 3);
    assert!(msg.contains("open until"), "{msg}");
    b.later(168);
    refuse_close(&mut b, "tally", &seq, "failed", [2000, 1000, 0], 7000, 3);
    close(&mut b, &seq, "passed", [2000, 1000, 0], 7000, 3);
    let p = &b.state.decided[&seq.parse().unwrap()];
    assert!(p.outcome.as_ref().unwrap().passed);
    assert!(p.votes.is_empty(), "closed proposals keep no individual votes");
    assert_eq!(b.state.karma("founder", b.now).to_string(), "20.00");
    b.refused("proposal", "cap", "vote", &[("proposal", &seq), ("choice", "yes")]);
}

#[test]
fn a_vote_below_quorum_fails_and_exactly_at_quorum_passes() {
    // 20% of 7.000 is 1.400: one vote of 1.000 is below it.
    let (mut b, seq) = vote_running();
    vote(&mut b, "cap", &seq, "yes");
    b.later(168);
    refuse_close(&mut b, "tally", &seq, "passed", [1000, 0, 0], 7000, 1);
    close(&mut b, &seq, "failed", [1000, 0, 0], 7000, 1);
    assert_eq!(
        b.state.karma("founder", b.now).to_string(),
        "0.00",
        "a failed proposal earns nothing"
    );

    // Five owners of 1.000: a quorum of 40% needs exactly 2.000.
    let mut b = Book::with_policy(|t| t.replace("quorum_percent = \"20\"", "quorum_percent = \"40\""));
    for h in ["a1", "a2", "a3", "a4"] {
        b.owner("founder", h, "work");
    }
    let seq = propose(&mut b, "founder", "binding-vote", &[]);
    vote(&mut b, "a1", &seq, "yes");
    vote(&mut b, "a2", &seq, "abstain");
    b.later(168);
    b.ok(
        "a3",
        "close-proposal",
        &borrowed(&close_values(&seq, "passed", [1000, 0, 1000], 5000, 2)),
    );
}

#[test]
fn the_threshold_is_strict_and_a_tie_fails() {
    let mut b = Book::organisation();
    b.state.policy.governance.threshold_percent = crate::ledger::policy::Dec("60".parse().unwrap());
    // 3 of 5 is exactly 60%: not strictly above.
    let at_threshold = propose(&mut b, "founder", "binding-vote", &[]);
    let above = propose(&mut b, "founder", "binding-vote", &[]);
    let tie = propose(&mut b, "founder", "binding-vote", &[]);
    for (who, choice) in [("cap", "yes"), ("maya", "yes"), ("alice", "yes"), ("bob", "no"), ("carol", "no")] {
        vote(&mut b, who, &at_threshold, choice);
    }
    for (who, choice) in [
        ("cap", "yes"),
        ("maya", "yes"),
        ("alice", "yes"),
        ("bob", "yes"),
        ("carol", "no"),
        ("dave", "no"),
    ] {
        vote(&mut b, who, &above, choice);
    }
    for (who, choice) in [("cap", "yes"), ("maya", "no"), ("alice", "yes"), ("bob", "no")] {
        vote(&mut b, who, &tie, choice);
    }
    b.later(168);
    refuse_close(&mut b, "tally", &at_threshold, "passed", [3000, 2000, 0], 7000, 5);
    close(&mut b, &at_threshold, "failed", [3000, 2000, 0], 7000, 5);
    close(&mut b, &above, "passed", [4000, 2000, 0], 7000, 6);
    close(&mut b, &tie, "failed", [2000, 2000, 0], 7000, 4);
}

#[test]
fn objections_escalate_a_lazy_proposal_at_exactly_the_policys_number() {
    let mut b = Book::organisation();
    let seq = propose(&mut b, "founder", "lazy-consensus", &[]);
    b.refused("proposal", "cap", "vote", &[("proposal", &seq), ("choice", "no")]);
    b.ok("cap", "object", &[("proposal", &seq), ("note", "too soon")]);
    b.refused("proposal", "cap", "object", &[("proposal", &seq), ("note", "again")]);
    b.refused("malformed-value", "maya", "object", &[("proposal", &seq)]);
    b.ok("maya", "object", &[("proposal", &seq), ("note", "unclear")]);
    let p = &b.state.proposals[&seq.parse().unwrap()];
    assert!(p.escalated_at.is_none(), "two objections of three do not escalate");
    b.later(10);
    b.ok("alice", "object", &[("proposal", &seq), ("note", "no")]);
    let p = &b.state.proposals[&seq.parse().unwrap()];
    assert_eq!(p.escalated_at, Some(b.now), "the third objection escalates");
    assert_eq!(p.closes_at(), b.now.plus(168 * 3600));
    b.refused("proposal", "bob", "object", &[("proposal", &seq), ("note", "late")]);
    vote(&mut b, "bob", &seq, "yes");
    // The lazy window (48 h) is over, but the vote runs 168 h from the escalation.
    b.later(48);
    refuse_close(&mut b, "proposal", &seq, "passed", [0, 0, 0], 7000, 0);
    b.later(120);
    close(&mut b, &seq, "failed", [1000, 0, 0], 7000, 1);
}

#[test]
fn a_lazy_proposal_with_fewer_objections_passes_at_window_end_with_an_empty_tally() {
    let mut b = Book::organisation();
    let seq = propose(&mut b, "founder", "lazy-consensus", &[]);
    b.ok("cap", "object", &[("proposal", &seq), ("note", "hmm")]);
    b.later(48);
    b.refused("proposal", "maya", "object", &[("proposal", &seq), ("note", "late")]);
    refuse_close(&mut b, "tally", &seq, "failed", [0, 0, 0], 7000, 0);
    close(&mut b, &seq, "passed", [0, 0, 0], 7000, 0);
}

#[test]
fn the_latest_vote_counts_after_two_changes() {
    let (mut b, seq) = vote_running();
    vote(&mut b, "alice", &seq, "yes");
    vote(&mut b, "alice", &seq, "no");
    vote(&mut b, "alice", &seq, "abstain");
    vote(&mut b, "bob", &seq, "yes");
    let p = &b.state.proposals[&seq.parse().unwrap()];
    assert_eq!((p.tally.yes, p.tally.no, p.tally.abstain, p.tally.voters), (1000, 0, 1000, 2));
    assert_eq!(p.votes["alice"].0, Choice::Abstain);
}

#[test]
fn weights_are_taken_as_of_the_proposal() {
    let mut b = Book::organisation();
    b.award_governance("alice");
    let before = propose(&mut b, "founder", "binding-vote", &[]);
    // alice's SK grows after the proposal (and decays later): her weight stays 1.020 on it.
    b.later(1);
    b.award_governance("alice");
    let after = propose(&mut b, "founder", "binding-vote", &[]);
    vote(&mut b, "alice", &before, "yes");
    vote(&mut b, "alice", &after, "yes");
    b.later(24);
    vote(&mut b, "alice", &before, "no");
    let weight = |b: &Book, seq: &str| b.state.proposals[&seq.parse().unwrap()].votes["alice"].1;
    assert_eq!(weight(&b, &before), 1020);
    assert_eq!(weight(&b, &after), 1040);
    // The eligible weight was counted when each was made: 6 x 1.000 + alice.
    assert_eq!(b.state.proposals[&before.parse().unwrap()].eligible, 7020);
    assert_eq!(b.state.proposals[&after.parse().unwrap()].eligible, 7040);
}

#[test]
fn only_eligible_owners_vote_and_only_while_the_vote_runs() {
    let (mut b, seq) = vote_running();
    // Someone who is not an owner.
    b.refused("unknown-owner", "zed", "vote", &[("proposal", &seq), ("choice", "yes")]);
    // An owner who joined after the proposal.
    b.owner("founder", "newbie", "work");
    let msg = b.refused("vote", "newbie", "vote", &[("proposal", &seq), ("choice", "yes")]);
    assert!(msg.contains("not an owner when proposal"), "{msg}");
    // A vote signed with a revoked key.
    let fp = b.keys["alice"].clone();
    b.ok("alice", "revoke-key", &[("owner", "alice"), ("revokes", &fp)]);
    b.refused("key-not-valid", "alice", "vote", &[("proposal", &seq), ("choice", "yes")]);
    // Malformed choice, unknown proposal.
    b.refused("malformed-value", "bob", "vote", &[("proposal", &seq), ("choice", "maybe")]);
    b.refused("unknown-id", "bob", "vote", &[("proposal", "3"), ("choice", "yes")]);
    // After the window.
    b.later(168);
    let msg = b.refused("vote", "bob", "vote", &[("proposal", &seq), ("choice", "yes")]);
    assert!(msg.contains("closed at"), "{msg}");
}

#[test]
fn a_closing_row_with_a_wrong_tally_eligible_weight_or_count_is_refused() {
    let (mut b, seq) = vote_running();
    vote(&mut b, "cap", &seq, "yes");
    vote(&mut b, "maya", &seq, "yes");
    b.later(168);
    refuse_close(&mut b, "tally", &seq, "passed", [2001, 0, 0], 7000, 2);
    refuse_close(&mut b, "tally", &seq, "passed", [2000, 0, 0], 6000, 2);
    let msg = refuse_close(&mut b, "tally", &seq, "passed", [2000, 0, 0], 7000, 3);
    assert!(msg.contains("yes 2000, no 0, abstain 0 of 7000 eligible (2 voters)"), "{msg}");
    refuse_close(&mut b, "malformed-value", &seq, "won", [2000, 0, 0], 7000, 2);
}

#[test]
fn proposing_needs_the_license_the_karma_and_the_policys_numbers() {
    let mut b = Book::organisation();
    let values = propose_values(&b, "binding-vote", &[]);
    b.refused("license", "carol", "propose", &borrowed(&values));
    let msg = b.refused("karma-threshold", "alice", "propose", &borrowed(&values));
    assert!(msg.contains("needs at least 50"), "{msg}");
    let wrong = propose_values(&b, "binding-vote", &[("quorum_percent", "10.00")]);
    let msg = b.refused("proposal", "founder", "propose", &borrowed(&wrong));
    assert!(msg.contains("the policy in force says 20.00"), "{msg}");
    let lazy_window = propose_values(&b, "binding-vote", &[("window_hours", "48")]);
    b.refused("proposal", "founder", "propose", &borrowed(&lazy_window));
    let unknown = propose_values(&b, "referendum", &[]);
    b.refused("malformed-value", "founder", "propose", &borrowed(&unknown));
    let stray = propose_values(&b, "binding-vote", &[("task", "6_2_1_1")]);
    b.refused("malformed-value", "founder", "propose", &borrowed(&stray));
    let no_reference = propose_values(&b, "policy-amendment", &[]);
    b.refused("malformed-value", "founder", "propose", &borrowed(&no_reference));
    // Outside the bootstrap phase the founder needs the SK like everyone.
    b.state.policy.bootstrap.active = false;
    b.refused("karma-threshold", "founder", "propose", &borrowed(&values));
}

/// The organisation after the bootstrap phase (as if an amendment had ended it).
fn after_bootstrap() -> Book {
    let mut b = Book::organisation();
    b.state.policy.bootstrap.active = false;
    b
}

/// Gives `who` 100 SK today (four conflict resolutions, awarded by cap).
fn hundred_sk(b: &mut Book, who: &str) {
    let today = format_date(b.now.day());
    for _ in 0..4 {
        b.ok(
            "cap",
            "award-sk",
            &[
                ("owner", who),
                ("currency", "SK"),
                ("amount", "25"),
                ("reason", "conflict_resolution"),
                ("earned_on", &today),
            ],
        );
    }
}

#[test]
fn outside_the_bootstrap_phase_the_policy_changes_only_through_a_passed_amendment() {
    let mut b = Book::organisation();
    b.ok("founder", "amend-policy", &[("subject", "ledger.toml"), ("reference", NEW_POLICY)]);
    b.state.amended_policy = None;
    b.state.policy.bootstrap.active = false;
    let amend = [("subject", "ledger.toml"), ("reference", NEW_POLICY)];
    let msg = b.refused("governance", "founder", "amend-policy", &amend);
    assert!(msg.contains("passed policy-amendment"), "{msg}");
    hundred_sk(&mut b, "alice");
    let seq = propose(&mut b, "alice", "policy-amendment", &[("reference", NEW_POLICY)]);
    for who in ["cap", "maya", "bob"] {
        vote(&mut b, who, &seq, "yes");
    }
    b.later(168);
    b.refused("governance", "founder", "amend-policy", &amend);
    close(&mut b, &seq, "passed", [3000, 0, 0], 7100, 3);
    // Any owner records the decided amendment, once.
    b.ok("bob", "amend-policy", &amend);
    assert_eq!(b.state.amended_policy.as_deref(), Some(NEW_POLICY));
    b.state.amended_policy = None;
    b.refused("governance", "bob", "amend-policy", &amend);
}

#[test]
fn outside_the_bootstrap_phase_captains_are_elected_and_recalled() {
    let mut b = after_bootstrap();
    hundred_sk(&mut b, "dave");
    let msg = b.refused(
        "governance",
        "founder",
        "assign-role",
        &[("role", "4_1_3"), ("owner", "dave"), ("team", "3_2"), ("position", "captain")],
    );
    assert!(msg.contains("captain-election"), "{msg}");
    hundred_sk(&mut b, "alice");
    let election = propose(
        &mut b,
        "alice",
        "captain-election",
        &[("role", "4_1_3"), ("team", "3_2"), ("owner", "dave")],
    );
    // The team's members vote: cap, maya, alice, bob; dave is not one of them.
    b.refused("vote", "dave", "vote", &[("proposal", &election), ("choice", "yes")]);
    assert_eq!(b.state.proposals[&election.parse().unwrap()].eligible, 4100);
    for who in ["cap", "maya"] {
        vote(&mut b, who, &election, "yes");
    }
    b.later(168);
    close(&mut b, &election, "passed", [2000, 0, 0], 4100, 2);
    let assign = [("role", "4_1_3"), ("owner", "dave"), ("team", "3_2"), ("position", "captain")];
    b.ok("founder", "assign-role", &assign);
    assert!(b.state.is_captain_of("dave", "3_2"));
    // Removing cap needs a recall; resigning does not.
    let vacate = [("role", "4_1_2"), ("team", "3_2"), ("position", "captain")];
    b.refused("governance", "founder", "set-role", &vacate);
    let recall = propose(
        &mut b,
        "alice",
        "captain-recall",
        &[("role", "4_1_2"), ("team", "3_2"), ("owner", "cap")],
    );
    for who in ["maya", "bob", "dave"] {
        vote(&mut b, who, &recall, "yes");
    }
    b.later(168);
    // dave (100 SK: 1.100) is a member now; alice earned 20 SK for the passed election.
    close(&mut b, &recall, "passed", [3100, 0, 0], 5220, 3);
    b.ok("founder", "set-role", &vacate);
    assert!(!b.state.is_captain("cap"));
    let msg = b.refused(
        "proposal",
        "alice",
        "propose",
        &borrowed(&propose_values(
            &b,
            "captain-recall",
            &[("role", "4_1_2"), ("team", "3_2"), ("owner", "cap")],
        )),
    );
    assert!(msg.contains("only its holder can be recalled"), "{msg}");
}

/// The organisation with a treasury that covers the design tranche under the 3x rule.
fn funded() -> Book {
    let mut b = Book::organisation();
    b.ok(
        "founder",
        "deposit-eur",
        &[("currency", "EUR"), ("amount", "9000"), ("reason", "donation")],
    );
    b
}

#[test]
fn a_tranche_is_released_by_its_vote_and_never_by_its_recipient() {
    let mut b = funded();
    assert_eq!(b.state.tranches_pending().to_string(), "82200.00");
    let seq = propose(&mut b, "founder", "tranche-release", &[("tranche", "design")]);
    // Captains and the leadership vote, the founder (the recipient) excepted: cap alone.
    let p = &b.state.proposals[&seq.parse().unwrap()];
    assert_eq!(p.eligible, 1000);
    b.refused("self-validation", "founder", "vote", &[("proposal", &seq), ("choice", "yes")]);
    b.refused("vote", "alice", "vote", &[("proposal", &seq), ("choice", "yes")]);
    let release = [("tranche", "design"), ("amount", "24660"), ("proposal", seq.as_str())];
    b.refused("governance", "cap", "release-tranche", &release);
    vote(&mut b, "cap", &seq, "yes");
    b.later(168);
    close(&mut b, &seq, "passed", [1000, 0, 0], 1000, 1);
    b.refused("self-validation", "founder", "release-tranche", &release);
    b.refused(
        "tranche",
        "cap",
        "release-tranche",
        &[("tranche", "design"), ("amount", "24660.01"), ("proposal", &seq)],
    );
    b.refused(
        "governance",
        "cap",
        "release-tranche",
        &[("tranche", "design"), ("amount", "24660")],
    );
    b.ok("cap", "release-tranche", &release);
    assert_eq!(b.state.owners["founder"].sc.to_string(), "24660.00");
    assert_eq!(b.state.outstanding.to_string(), "24660.00");
    assert_eq!(b.state.tranches_pending().to_string(), "57540.00");
    b.refused("tranche", "cap", "release-tranche", &release);
}

#[test]
fn a_tranche_is_not_released_before_its_trigger_nor_beyond_the_treasury() {
    // Only the founder is a captain: the design tranche needs two.
    let mut b = Book::new();
    b.ok(
        "founder",
        "bootstrap-teams",
        &[("team", "3_1_leadership_team"), ("name", "Leadership")],
    );
    b.owner("founder", "ann", "work");
    let values = propose_values(&b, "tranche-release", &[("tranche", "design")]);
    let msg = b.refused("tranche", "founder", "propose", &borrowed(&values));
    assert!(msg.contains("at least 2 team captains"), "{msg}");
    // The production tranche waits for 50 owners or a declared working MVP.
    let mut b = Book::organisation();
    let values = propose_values(&b, "tranche-release", &[("tranche", "production")]);
    b.refused("tranche", "founder", "propose", &borrowed(&values));
    let mvp = propose(&mut b, "founder", "binding-vote", &[("declares", "working-mvp")]);
    for who in ["cap", "maya"] {
        vote(&mut b, who, &mvp, "yes");
    }
    b.later(168);
    close(&mut b, &mvp, "passed", [2000, 0, 0], 7000, 2);
    propose(&mut b, "founder", "tranche-release", &[("tranche", "production")]);
    // The organisation tranche is released without a vote at a declared market launch.
    let launch = [("tranche", "organisation"), ("amount", "100")];
    b.refused("tranche", "cap", "release-tranche", &launch);
    let values = propose_values(&b, "tranche-release", &[("tranche", "organisation")]);
    b.refused("tranche", "founder", "propose", &borrowed(&values));
    let market = propose(&mut b, "founder", "binding-vote", &[("declares", "market-launch")]);
    for who in ["cap", "maya"] {
        vote(&mut b, who, &market, "yes");
    }
    b.later(168);
    // The founder's 20 SK for the passed MVP vote count on this later proposal.
    close(&mut b, &market, "passed", [2000, 0, 0], 7020, 2);
    // The treasury of 1000 EUR covers 3000 SC outstanding: 24660 SC would break the 3x rule.
    b.refused(
        "treasury",
        "cap",
        "release-tranche",
        &[("tranche", "organisation"), ("amount", "24660")],
    );
    b.ok("cap", "release-tranche", &launch);
    b.refused("unknown-id", "cap", "release-tranche", &[("tranche", "bonus"), ("amount", "1")]);
}

/// Task 6_2_1_2 of `size` (design phase: `budget`) created by cap, assigned by `by` to
/// `attacker` and bob, started, and a session of the attacker opened; returns its id.
fn second_task_in_session(b: &mut Book, size: &str, budget: &str, by: &str, attacker: &str) -> String {
    b.ok(
        "cap",
        "create-task",
        &[
            ("task", "6_2_1_2"),
            ("objective", "5_2_1"),
            ("team", "3_2"),
            ("title", "Site"),
            ("size", size),
            ("phase", "design"),
            ("budget", budget),
        ],
    );
    let pair = [("task", "6_2_1_2"), ("attacker", attacker), ("defender", "bob")];
    b.ok(by, "assign-task", &pair);
    b.ok(attacker, "start-task", &pair);
    let session = (b.state.last_seq + 1).to_string();
    b.ok(
        attacker,
        "start-work",
        &[("session", &session), ("task", "6_2_1_2"), ("owner", attacker)],
    );
    session
}

#[test]
fn outside_the_bootstrap_phase_a_large_award_needs_a_passed_review() {
    let mut b = after_bootstrap();
    b.ok(
        "founder",
        "deposit-eur",
        &[("currency", "EUR"), ("amount", "1000"), ("reason", "donation")],
    );
    let started = b.now.to_string();
    let s = second_task_in_session(&mut b, "complex", "220.00", "maya", "alice");
    b.later(3);
    let stopped = b.now.to_string();
    b.ok("alice", "stop-work", &[("session", &s), ("task", "6_2_1_2"), ("owner", "alice")]);
    b.ok(
        "alice",
        "stop-work",
        &[
            ("session", &s),
            ("task", "6_2_1_2"),
            ("owner", "alice"),
            ("started", &started),
            ("stopped", &stopped),
            ("seconds", "10800"),
        ],
    );
    // 100% of 220 SC: 198 to alice, 22 to bob, above the 200 SC of community review.
    let assess = [
        ("task", "6_2_1_2"),
        ("attacker_score", "10"),
        ("defender_score", "10"),
        ("collaboration_score", "10"),
        ("share", "100"),
        ("attacker_sc", "198.00"),
        ("defender_sc", "22.00"),
    ];
    b.ok("maya", "assess-work", &assess);
    b.later(48);
    let validate = [("task", "6_2_1_2"), ("attacker_sc", "198.00"), ("defender_sc", "22.00")];
    let msg = b.refused("governance", "cap", "validate-pending-sc", &validate);
    assert!(msg.contains("award-review"), "{msg}");
    hundred_sk(&mut b, "dave");
    let review = propose(&mut b, "dave", "award-review", &[("task", "6_2_1_2")]);
    b.later(48);
    close(&mut b, &review, "passed", [0, 0, 0], 7100, 0);
    b.ok("cap", "validate-pending-sc", &validate);
    assert_eq!(
        b.state.decided[&review.parse().unwrap()].outcome.as_ref().unwrap().applied,
        Some(b.state.last_seq)
    );
}

#[test]
fn a_shift_lasts_at_most_eight_hours() {
    let mut b = Book::started();
    let seq = b.open_session("alice");
    b.later(9);
    let msg = b.refused(
        "shift",
        "alice",
        "stop-work",
        &[("session", &seq), ("task", "6_2_1_1"), ("owner", "alice")],
    );
    assert!(msg.contains("8-hour shift"), "{msg}");
    // Clocking out within the shift, after the fact, is accepted.
    let within = b.now.plus(-3600).to_string();
    b.ok(
        "alice",
        "stop-work",
        &[("session", &seq), ("task", "6_2_1_1"), ("owner", "alice"), ("happened_at", &within)],
    );
}

#[test]
fn a_mission_leader_past_their_shift_does_not_assess() {
    // maya is also the Attacker of a second task here (bootstrap), clocked in for 9 hours.
    let mut b = Book::started();
    b.session("alice", 2);
    b.role("cap", "4_2_2", "maya", "3_2", "senior");
    second_task_in_session(&mut b, "small", "27.50", "cap", "maya");
    b.later(9);
    let msg = b.refused("shift", "maya", "assess-work", &ASSESS_WELL);
    assert!(msg.contains("clock out before assessing"), "{msg}");
}

/// A tiny deterministic generator for the order-independence property.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: usize) -> usize {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % below
    }
}

#[test]
fn the_tally_does_not_depend_on_the_order_of_the_votes() {
    let voters = ["cap", "maya", "alice", "bob", "carol", "dave"];
    let choices = ["yes", "no", "abstain"];
    for seed in 1..=40u64 {
        let mut rng = Lcg(seed);
        // Each voter's own sequence of votes (their latest counts), 1 to 3 votes each.
        let sequences: Vec<Vec<&str>> = voters
            .iter()
            .map(|_| (0..1 + rng.next(3)).map(|_| choices[rng.next(3)]).collect())
            .collect();
        let mut tallies = Vec::new();
        for _ in 0..3 {
            let mut b = Book::organisation();
            b.award_governance("alice");
            b.award_governance("bob");
            let seq = propose(&mut b, "founder", "binding-vote", &[]);
            // Interleave the voters' sequences in a random order, each voter's kept in order.
            let mut next = vec![0usize; voters.len()];
            let mut left: usize = sequences.iter().map(Vec::len).sum();
            while left > 0 {
                let v = rng.next(voters.len());
                if next[v] < sequences[v].len() {
                    vote(&mut b, voters[v], &seq, sequences[v][next[v]]);
                    next[v] += 1;
                    left -= 1;
                }
            }
            tallies.push(b.state.proposals[&seq.parse().unwrap()].tally);
        }
        assert!(tallies.windows(2).all(|w| w[0] == w[1]), "seed {seed}: {tallies:?}");
        let last: Vec<&str> = sequences.iter().map(|s| *s.last().unwrap()).collect();
        let expected_yes: u64 = voters
            .iter()
            .zip(&last)
            .filter(|(_, c)| **c == "yes")
            .map(|(v, _)| if matches!(*v, "alice" | "bob") { 1020 } else { 1000 })
            .sum();
        assert_eq!(tallies[0].yes, expected_yes, "seed {seed}");
        assert_eq!(tallies[0].voters, voters.len() as u64);
    }
}
