//! Decisions: `propose`, `object`, `vote`, `close-proposal` and `release-tranche`, and the
//! checks other rules make that a decision was taken (an amendment, a captain's appointment
//! or recall, the review of a large award). A proposal copies its numbers from the policy when
//! it is made; weights are taken as of that moment; the closing row states a tally the rules
//! recompute. Counting is incremental, so closing costs nothing that grows with the ledger.

pub mod drafting;
pub mod proposal;
mod tranches;

pub use proposal::{format_weight, weight, Choice, Kind, Proposal, Tally};
pub use tranches::{release_tranche, trigger_holds};

use super::columns::Columns;
use super::credits::{roll_day, today};
use super::people::require_owner;
use super::state::{decayed, State, LEADERSHIP_TEAM};
use super::{ensure, violation, Violation};
use crate::ledger::ids::IdKind;
use crate::ledger::row::Row;
use crate::money::Amount;
use proposal::Outcome;
use std::collections::{BTreeMap, BTreeSet};

/// `propose`: an owner with the SK and license to propose (the founder in the bootstrap
/// phase) makes a proposal; its numbers must be the policy's in force.
pub fn propose(state: &mut State, row: &Row, c: &Columns) -> Result<(), Violation> {
    let word = c.required("kind")?;
    let kind = Kind::parse(word).ok_or_else(|| {
        let kinds: Vec<&str> = Kind::ALL.iter().map(|k| k.word()).collect();
        violation(
            "malformed-value",
            format!("column kind: {word:?} is not one of {}", kinds.join(", ")),
        )
    })?;
    let title = c.required("title")?;
    let text_hash = sha256_reference(c, "text_hash")?;
    let link = c.text("link");
    let window_hours = c.integer("window_hours")?;
    let vote_hours = c.integer("vote_hours")?;
    let objections = c.integer("objections")?;
    let quorum = c.amount("quorum_percent")?;
    let threshold = c.amount("threshold_percent")?;
    c.text("note");
    let mut proposal = Proposal {
        seq: row.seq,
        kind,
        title: title.to_string(),
        text_hash,
        link: link.to_string(),
        proposer: row.actor.clone(),
        created_at: row.timestamp,
        reference: None,
        role: None,
        owner: None,
        task: None,
        tranche: None,
        declares: None,
        window_hours: 0,
        vote_hours: 0,
        objections_needed: objections,
        quorum,
        threshold,
        voters: None,
        excluded: None,
        eligible: 0,
        objectors: Vec::new(),
        escalated_at: None,
        votes: BTreeMap::new(),
        tally: Tally::default(),
        weights_then: BTreeMap::new(),
        outcome: None,
    };
    effect(state, row, c, &mut proposal)?;
    c.done()?;

    let g = &state.policy.governance;
    let window = if kind.lazy() { g.lazy_consensus_hours } else { g.vote_hours };
    let copied = [
        ("window_hours", window_hours.to_string(), window.to_string()),
        ("vote_hours", vote_hours.to_string(), g.vote_hours.to_string()),
        ("objections", objections.to_string(), g.objections_to_vote.to_string()),
        ("quorum_percent", quorum.to_string(), g.quorum_percent.0.to_string()),
        ("threshold_percent", threshold.to_string(), g.threshold_percent.0.to_string()),
    ];
    for (column, found, policy) in copied {
        ensure(found == policy, "proposal", || {
            format!("column {column}: the policy in force says {policy}, not {found}; a proposal copies the policy's numbers")
        })?;
    }
    proposal.window_hours = window;
    proposal.vote_hours = g.vote_hours;
    may_propose(state, row)?;

    proposal.eligible = eligible_weight(state, &proposal);
    ensure(proposal.eligible > 0 || kind.lazy(), "proposal", || {
        "nobody could vote on this proposal: its voters hold no weight".to_string()
    })?;
    state.proposals.insert(row.seq, proposal);
    Ok(())
}

/// Reads the columns of the proposal's kind: what it does when it passes, and who votes.
fn effect(state: &State, row: &Row, c: &Columns, p: &mut Proposal) -> Result<(), Violation> {
    match p.kind {
        Kind::LazyConsensus => {}
        Kind::BindingVote => {
            let declares = c.text("declares");
            if !declares.is_empty() {
                ensure(is_slug(declares), "malformed-value", || {
                    format!("column declares: {declares:?} is not lower-case words joined by dashes, like working-mvp")
                })?;
                p.declares = Some(declares.to_string());
            }
        }
        Kind::PolicyAmendment => p.reference = Some(sha256_reference(c, "reference")?),
        Kind::CaptainElection | Kind::CaptainRecall => {
            let (role, identity) = c.id("role", IdKind::Role)?;
            let (_, team) = c.id("team", IdKind::Team)?;
            let owner = c.handle("owner")?;
            ensure(crate::ledger::ids::numbers(&identity).get(1) == Some(&1), "malformed-value", || {
                format!("column role: {role} is not a captain role (4_1_Y)")
            })?;
            ensure(state.teams.contains_key(&team) || team == LEADERSHIP_TEAM, "unknown-id", || {
                format!("team {team} does not exist")
            })?;
            require_owner(state, owner)?;
            let current = state.roles.get(&identity);
            if let Some(existing) = current {
                ensure(existing.team == team, "malformed-value", || {
                    format!("role {identity} belongs to team {}, not {team}", existing.team)
                })?;
            }
            let holder = current.and_then(|r| r.holder.as_deref());
            if p.kind == Kind::CaptainElection {
                ensure(holder != Some(owner), "proposal", || {
                    format!("{owner} holds role {identity} already")
                })?;
            } else {
                ensure(holder == Some(owner), "proposal", || {
                    format!("{owner} does not hold role {identity}; only its holder can be recalled")
                })?;
            }
            let members: BTreeSet<String> = state
                .roles
                .values()
                .filter(|r| r.team == team)
                .filter_map(|r| r.holder.clone())
                .collect();
            // A team without members yet is decided by every owner.
            p.voters = (!members.is_empty()).then_some(members);
            p.role = Some(identity);
            p.owner = Some(owner.to_string());
        }
        Kind::AwardReview => {
            let (task, identity) = c.id("task", IdKind::Task)?;
            let assessed = state.tasks.get(&identity).and_then(|t| t.pending.as_ref()).is_some();
            ensure(assessed, "proposal", || format!("task {task} has no assessment to review"))?;
            p.task = Some(identity);
        }
        Kind::TrancheRelease => {
            let id = c.required("tranche")?;
            let tranche = tranches::tranche(state, id)?;
            ensure(!tranche.voters.is_empty(), "tranche", || {
                format!("tranche {id} is released without a vote once its trigger holds: write release-tranche")
            })?;
            tranches::check_releasable(state, id, row)?;
            let recipient = state.tranche_recipient(&tranche.recipient).to_string();
            p.voters = tranches::voters(state, &tranche.voters);
            p.excluded = Some(recipient);
            p.tranche = Some(id.to_string());
        }
    }
    Ok(())
}

/// Whether the actor may propose: a license that may, and the policy's SK (the founder is
/// exempt in the bootstrap phase).
fn may_propose(state: &State, row: &Row) -> Result<(), Violation> {
    if state.policy.bootstrap.active && state.is_founder(&row.actor) {
        return Ok(());
    }
    let license = &state.owners[&row.actor].license;
    ensure(
        state.policy.licenses.get(license).is_some_and(|l| l.may_propose()),
        "license",
        || format!("{} holds a {license} license, which may not propose", row.actor),
    )?;
    let needed = state.policy.sk.propose.0;
    let sk = state.karma(&row.actor, row.timestamp);
    ensure(sk >= needed, "karma-threshold", || {
        format!("{} has {sk} SK; proposing needs at least {needed}", row.actor)
    })
}

/// Whether `owner` may vote on the proposal.
fn eligible(state: &State, p: &Proposal, owner: &str) -> bool {
    if p.excluded.as_deref() == Some(owner) {
        return false;
    }
    match &p.voters {
        Some(set) => set.contains(owner),
        None => state.owners.get(owner).is_some_and(|o| o.since < p.seq),
    }
}

/// The total weight of the proposal's voters as of now (when it is made).
fn eligible_weight(state: &State, p: &Proposal) -> u64 {
    let at = p.created_at;
    let of = |owner: &str| {
        if eligible(state, p, owner) {
            state.vote_weight(owner, at)
        } else {
            0
        }
    };
    match &p.voters {
        Some(set) => set.iter().map(|o| of(o)).sum(),
        None => state.owners.keys().map(|o| of(o)).sum(),
    }
}

/// An owner's weight on a proposal: as of the proposal, even if their SK changed since.
fn weight_on(state: &State, p: &Proposal, owner: &str) -> u64 {
    if let Some(w) = p.weights_then.get(owner) {
        return *w;
    }
    state
        .owners
        .get(owner)
        .map_or(0, |o| weight(decayed(&state.policy, o.sk, o.sk_since, p.created_at)))
}

/// Keeps, before an owner's SK changes, their weight as of every open proposal they may
/// vote on.
fn before_karma_change(state: &mut State, owner: &str) {
    let open: Vec<u64> = state
        .proposals
        .values()
        .filter(|p| !p.weights_then.contains_key(owner) && eligible(state, p, owner))
        .map(|p| p.seq)
        .collect();
    for seq in open {
        let then = weight_on(state, &state.proposals[&seq], owner);
        if let Some(p) = state.proposals.get_mut(&seq) {
            p.weights_then.insert(owner.to_string(), then);
        }
    }
}

/// The open proposal a row names in its `proposal` column.
fn open_proposal<'s>(state: &'s State, c: &Columns) -> Result<&'s Proposal, Violation> {
    let seq = c.integer("proposal")?;
    state.proposals.get(&seq).ok_or_else(|| match state.decided.get(&seq) {
        Some(p) => violation(
            "proposal",
            format!("proposal {seq} was closed at seq {}", p.outcome.as_ref().map_or(0, |o| o.seq)),
        ),
        None => violation("unknown-id", format!("seq {seq} is not a proposal")),
    })
}

/// `object`: an owner who may vote objects to a lazy-consensus proposal within its window,
/// with a reason, once; the policy's number of objections turns it into a binding vote.
pub fn object(state: &mut State, row: &Row, c: &Columns) -> Result<(), Violation> {
    let p = open_proposal(state, c)?;
    c.required("note")?;
    c.done()?;
    let seq = p.seq;
    ensure(p.kind.lazy(), "proposal", || {
        format!("proposal {seq} is a {} and goes to a vote: vote no instead", p.kind.word())
    })?;
    ensure(p.escalated_at.is_none(), "proposal", || {
        format!("proposal {seq} is a binding vote already: vote no instead")
    })?;
    let end = p.closes_at();
    ensure(row.timestamp < end, "proposal", || {
        format!("the window of proposal {seq} closed at {end}")
    })?;
    ensure(eligible(state, p, &row.actor), "vote", || not_eligible(p, &row.actor))?;
    ensure(!p.objectors.contains(&row.actor), "proposal", || {
        format!("{} has objected to proposal {seq} already", row.actor)
    })?;
    if let Some(p) = state.proposals.get_mut(&seq) {
        p.objectors.push(row.actor.clone());
        if p.objectors.len() as u64 >= p.objections_needed {
            p.escalated_at = Some(row.timestamp);
        }
    }
    Ok(())
}

fn not_eligible(p: &Proposal, owner: &str) -> String {
    if p.excluded.as_deref() == Some(owner) {
        return format!("{owner} receives what proposal {} decides and cannot vote on it", p.seq);
    }
    match p.voters {
        Some(_) => format!("{owner} is not among the voters of proposal {} ({})", p.seq, p.kind.word()),
        None => format!("{owner} was not an owner when proposal {} was made", p.seq),
    }
}

/// `vote`: an eligible owner votes yes, no or abstain while the vote runs; a later vote of
/// the same owner replaces the earlier one.
pub fn vote(state: &mut State, row: &Row, c: &Columns) -> Result<(), Violation> {
    let p = open_proposal(state, c)?;
    let word = c.required("choice")?;
    c.text("note");
    c.done()?;
    let choice =
        Choice::parse(word).ok_or_else(|| violation("malformed-value", format!("column choice: {word:?} is not yes, no or abstain")))?;
    let seq = p.seq;
    ensure(p.in_vote(), "proposal", || {
        format!(
            "proposal {seq} is decided by lazy consensus: object within its window (it becomes a vote after {} objections)",
            p.objections_needed
        )
    })?;
    let end = p.closes_at();
    ensure(row.timestamp < end, "vote", || {
        format!("the vote on proposal {seq} closed at {end}")
    })?;
    if p.excluded.as_deref() == Some(row.actor.as_str()) {
        return Err(violation("self-validation", not_eligible(p, &row.actor)));
    }
    ensure(eligible(state, p, &row.actor), "vote", || not_eligible(p, &row.actor))?;
    let weight = weight_on(state, p, &row.actor);
    if let Some(p) = state.proposals.get_mut(&seq) {
        let earlier = p.votes.insert(row.actor.clone(), (choice, weight));
        p.tally.count(earlier, choice, weight);
    }
    Ok(())
}

/// `close-proposal`: after the window, anyone closes a proposal with the result and tally
/// the rules recompute from its rows. A passed proposal earns its proposer the policy's
/// governance SK and makes its effect available.
pub fn close(state: &mut State, row: &Row, c: &Columns) -> Result<(), Violation> {
    let p = open_proposal(state, c)?;
    let result = c.required("result")?;
    let stated = Tally {
        yes: c.integer("yes")?,
        no: c.integer("no")?,
        abstain: c.integer("abstain")?,
        voters: c.integer("voters")?,
    };
    let eligible = c.integer("eligible")?;
    c.text("note");
    c.done()?;
    ensure(matches!(result, "passed" | "failed"), "malformed-value", || {
        format!("column result: {result:?} is neither passed nor failed")
    })?;
    let seq = p.seq;
    let end = p.closes_at();
    ensure(row.timestamp >= end, "proposal", || {
        format!("proposal {seq} is open until {end}; it is closed after its window")
    })?;
    let passed = p.passes();
    let expected = p.final_tally();
    let word = if passed { "passed" } else { "failed" };
    ensure(result == word && stated == expected && eligible == p.eligible, "tally", || {
        format!(
                "proposal {seq} {word}: yes {}, no {}, abstain {} of {} eligible ({} voters), not {result}: yes {}, no {}, abstain {} of {eligible} ({} voters)",
                expected.yes, expected.no, expected.abstain, p.eligible, expected.voters, stated.yes, stated.no, stated.abstain, stated.voters
            )
    })?;
    let Some(mut p) = state.proposals.remove(&seq) else { return Ok(()) };
    p.votes.clear();
    p.weights_then.clear();
    p.outcome = Some(Outcome {
        seq: row.seq,
        at: row.timestamp,
        passed,
        applied: None,
    });
    if passed {
        if let Some(name) = &p.declares {
            state.declared.entry(name.clone()).or_insert(row.seq);
        }
        reward_proposer(state, &p.proposer, row);
    }
    state.decided.insert(seq, p);
    Ok(())
}

/// The proposer of a passed proposal earns the policy's `governance` SK, as far as their
/// license may earn it and their daily cap allows.
fn reward_proposer(state: &mut State, proposer: &str, row: &Row) {
    let policy = &state.policy;
    let Some(award) = policy.sk.awards.get("governance").map(|d| d.0) else {
        return;
    };
    let Some(owner) = state.owners.get(proposer) else { return };
    if !policy.may_earn_sk_for(&owner.license, "governance") {
        return;
    }
    let cap = policy.licenses.get(&owner.license).map_or(Amount::ZERO, |l| l.sk_per_day.0);
    let day = row.timestamp.day();
    let (_, today) = today(owner, day);
    let amount = award.min(cap.minus(today).max(Amount::ZERO));
    if !amount.is_positive() {
        return;
    }
    let current = decayed(policy, owner.sk, owner.sk_since, row.timestamp);
    set_karma(state, proposer, current.plus(amount), row.timestamp);
    if let Some(o) = state.owners.get_mut(proposer) {
        roll_day(o, day);
        o.sk_today = o.sk_today.plus(amount);
    }
}

/// Sets an owner's SK to `value` as of `at` (decay restarts there). Every rule that changes
/// SK goes through here, which first keeps the owner's weight as of each open proposal:
/// weights are taken as of the proposal.
pub fn set_karma(state: &mut State, owner: &str, value: Amount, at: crate::time::Timestamp) {
    before_karma_change(state, owner);
    if let Some(o) = state.owners.get_mut(owner) {
        o.sk = value;
        o.sk_since = at;
    }
}

/// The passed, not yet applied proposal of `kind` that `matches`, if any: the decision a
/// rule needs outside the bootstrap phase.
pub fn passed_decision(state: &State, kind: Kind, matches: impl Fn(&Proposal) -> bool) -> Option<u64> {
    state
        .decided
        .values()
        .find(|p| p.kind == kind && p.passed_unapplied() && matches(p))
        .map(|p| p.seq)
}

/// Marks a passed proposal's effect as carried out by `row`.
pub fn apply_decision(state: &mut State, seq: u64, row: &Row) {
    if let Some(o) = state.decided.get_mut(&seq).and_then(|p| p.outcome.as_mut()) {
        o.applied = Some(row.seq);
    }
}

/// A `sha256:<64 lower-case hex digits>` reference.
fn sha256_reference(c: &Columns, column: &str) -> Result<String, Violation> {
    let value = c.required(column)?;
    let hex = value.strip_prefix("sha256:").unwrap_or("");
    ensure(
        hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "malformed-value",
        || format!("column {column}: {value:?} is not sha256:<64 lower-case hex digits>"),
    )?;
    Ok(value.to_string())
}

fn is_slug(text: &str) -> bool {
    !text.is_empty() && text.len() <= 64 && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests;
