//! Proposals as people read them: the one status word list (`lazy consensus`, `voting`,
//! `closing`, `passed`, `failed`), the tally so far in votes (three decimals), participation
//! against the quorum, time left, and what a passed proposal does; and the tranches of
//! retrospective awards with what is pending, released and whether the trigger holds.
//! Every front end (status, log, the site, the bot, the Forgejo sync) shows these.

use super::shown;
use crate::money::Amount;
use crate::rules::governance::{format_weight, trigger_holds, Kind, Proposal};
use crate::rules::state::State;
use crate::time::Timestamp;
use serde::Serialize;

/// Where a proposal is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum ProposalStatus {
    /// A lazy-consensus proposal within its window: objections are taken.
    #[serde(rename = "lazy consensus")]
    LazyConsensus,
    /// A vote runs.
    #[serde(rename = "voting")]
    Voting,
    /// The window has ended; anyone may append the closing row.
    #[serde(rename = "closing")]
    Closing,
    /// Closed, passed.
    #[serde(rename = "passed")]
    Passed,
    /// Closed, failed.
    #[serde(rename = "failed")]
    Failed,
}

impl ProposalStatus {
    /// Every status.
    pub const ALL: [ProposalStatus; 5] = [
        ProposalStatus::LazyConsensus,
        ProposalStatus::Voting,
        ProposalStatus::Closing,
        ProposalStatus::Passed,
        ProposalStatus::Failed,
    ];

    /// The word shown to people (and in `--json`, and in Forgejo's labels).
    pub fn word(self) -> &'static str {
        match self {
            ProposalStatus::LazyConsensus => "lazy consensus",
            ProposalStatus::Voting => "voting",
            ProposalStatus::Closing => "closing",
            ProposalStatus::Passed => "passed",
            ProposalStatus::Failed => "failed",
        }
    }
}

/// The status of a proposal at `now`.
pub fn proposal_status(p: &Proposal, now: Timestamp) -> ProposalStatus {
    match &p.outcome {
        Some(o) if o.passed => ProposalStatus::Passed,
        Some(_) => ProposalStatus::Failed,
        None if now >= p.closes_at() => ProposalStatus::Closing,
        None if p.in_vote() => ProposalStatus::Voting,
        None => ProposalStatus::LazyConsensus,
    }
}

/// One proposal, as every front end shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProposalView {
    /// Its number: the seq of its propose row.
    pub seq: u64,
    /// Its kind (`policy-amendment`, ...).
    pub kind: &'static str,
    /// Its title.
    pub title: String,
    /// Who proposed it.
    pub proposer: String,
    /// Where its full text lives.
    pub link: String,
    /// `sha256:` of its full text.
    pub text_hash: String,
    /// What it does if it passes, in words.
    pub effect: String,
    /// Where it is.
    pub status: ProposalStatus,
    /// When it was made.
    #[serde(serialize_with = "shown::text")]
    pub created_at: Timestamp,
    /// When its window (lazy consensus or vote) ends.
    #[serde(serialize_with = "shown::text")]
    pub closes_at: Timestamp,
    /// Seconds until then (0 once it has passed).
    pub seconds_left: i64,
    /// Objections so far, and how many escalate it.
    pub objections: usize,
    /// Objections that turn it into a vote.
    pub objections_needed: u64,
    /// Weight of yes votes, in votes (`2.120`).
    pub yes: String,
    /// Weight of no votes.
    pub no: String,
    /// Weight of abstentions.
    pub abstain: String,
    /// Total weight of the eligible voters.
    pub eligible: String,
    /// How many owners voted.
    pub voters: u64,
    /// Participation so far in percent (`42.50`).
    #[serde(serialize_with = "shown::text")]
    pub participation: Amount,
    /// The quorum it needs, in percent.
    #[serde(serialize_with = "shown::text")]
    pub quorum: Amount,
    /// Yes must be strictly above this percent of yes + no.
    #[serde(serialize_with = "shown::text")]
    pub threshold: Amount,
    /// Whether it would pass if it closed on the tally so far.
    pub passing: bool,
    /// The seq of its closing row, once closed.
    pub closed_by: Option<u64>,
    /// The seq of the row that carried out its effect, once one did.
    pub applied_by: Option<u64>,
    /// Whether it is (or was) decided by a vote: a voting kind, or a lazy proposal its
    /// objections escalated.
    pub in_vote: bool,
}

/// What a proposal does when it passes, in words.
pub fn effect(p: &Proposal) -> String {
    let or = |v: &Option<String>| v.clone().unwrap_or_default();
    match p.kind {
        Kind::LazyConsensus => "nothing beyond its text".to_string(),
        Kind::BindingVote => match &p.declares {
            Some(name) => format!("declares {name}"),
            None => "nothing beyond its text".to_string(),
        },
        Kind::PolicyAmendment => format!("allows ledger.toml {}", or(&p.reference)),
        Kind::CaptainElection => format!("makes {} captain ({})", or(&p.owner), or(&p.role)),
        Kind::CaptainRecall => format!("recalls {} as captain ({})", or(&p.owner), or(&p.role)),
        Kind::AwardReview => format!("allows the validation of task {}", or(&p.task)),
        Kind::TrancheRelease => format!("releases tranche {}", or(&p.tranche)),
    }
}

/// Whether a passed proposal of `kind` (a [`ProposalView::kind`] word) is carried out by a
/// later row it allows (an amendment, an appointment or recall, a validation, a release,
/// shown as `applied_by`); a lazy-consensus proposal or a binding vote takes effect when it
/// closes (a declaration is made by the closing row).
pub fn carried_out_by_a_later_row(kind: &str) -> bool {
    Kind::parse(kind).is_some_and(|k| !matches!(k, Kind::LazyConsensus | Kind::BindingVote))
}

/// A proposal at `now`.
pub fn proposal(p: &Proposal, now: Timestamp) -> ProposalView {
    let closes_at = p.closes_at();
    let tally = p.final_tally();
    ProposalView {
        seq: p.seq,
        kind: p.kind.word(),
        title: p.title.clone(),
        proposer: p.proposer.clone(),
        link: p.link.clone(),
        text_hash: p.text_hash.clone(),
        effect: effect(p),
        status: proposal_status(p, now),
        created_at: p.created_at,
        closes_at,
        seconds_left: (closes_at.0 - now.0).max(0),
        objections: p.objectors.len(),
        objections_needed: p.objections_needed,
        yes: format_weight(tally.yes),
        no: format_weight(tally.no),
        abstain: format_weight(tally.abstain),
        eligible: format_weight(p.eligible),
        voters: tally.voters,
        participation: Amount(i64::try_from(p.participation()).unwrap_or(i64::MAX)),
        quorum: p.quorum,
        threshold: p.threshold,
        passing: p.passes(),
        closed_by: p.outcome.as_ref().map(|o| o.seq),
        applied_by: p.outcome.as_ref().and_then(|o| o.applied),
        in_vote: p.in_vote(),
    }
}

/// The open proposals, oldest first.
pub fn open_proposals(state: &State, now: Timestamp) -> Vec<ProposalView> {
    state.proposals.values().map(|p| proposal(p, now)).collect()
}

/// Every proposal, open and closed, oldest first.
pub fn all_proposals(state: &State, now: Timestamp) -> Vec<ProposalView> {
    let mut all: Vec<ProposalView> = state
        .proposals
        .values()
        .chain(state.decided.values())
        .map(|p| proposal(p, now))
        .collect();
    all.sort_by_key(|p| p.seq);
    all
}

/// The proposal `seq`, open or closed.
pub fn find(state: &State, seq: u64, now: Timestamp) -> Option<ProposalView> {
    state
        .proposals
        .get(&seq)
        .or_else(|| state.decided.get(&seq))
        .map(|p| proposal(p, now))
}

/// A tranche of a retrospective award.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TrancheView {
    /// Its id.
    pub id: String,
    /// Who receives it.
    pub recipient: String,
    /// What it was earned for.
    pub reason: String,
    /// Its SC in all.
    #[serde(serialize_with = "shown::text")]
    pub amount: Amount,
    /// SC released so far (outstanding SC of the recipient).
    #[serde(serialize_with = "shown::text")]
    pub released: Amount,
    /// SC still pending (never outstanding).
    #[serde(serialize_with = "shown::text")]
    pub pending: Amount,
    /// Its trigger, in words.
    pub trigger: String,
    /// Whether the trigger holds now.
    pub triggered: bool,
    /// Who votes on its release (`owners`, `captains`, `leadership`); empty: no vote.
    pub voters: Vec<String>,
}

/// The policy's tranches with what is released and pending.
pub fn tranches(state: &State) -> Vec<TrancheView> {
    state
        .policy
        .governance
        .tranches
        .iter()
        .map(|t| {
            let released = state.released.get(&t.id).copied().unwrap_or(Amount::ZERO);
            TrancheView {
                id: t.id.clone(),
                recipient: state.tranche_recipient(&t.recipient).to_string(),
                reason: t.reason.clone(),
                amount: t.amount.0,
                released,
                pending: state.tranche_left(&t.id),
                trigger: t.trigger.describe(),
                triggered: trigger_holds(state, t),
                voters: t.voters.iter().map(|g| g.word().to_string()).collect(),
            }
        })
        .collect()
}
