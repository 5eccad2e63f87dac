//! The rows of the governance intents: a proposal with the policy's numbers copied in, an
//! objection, a vote, the closing row with the tally the rules will recompute, a tranche's
//! release (by default all that is left, under the passed proposal that allows it).

use super::super::draft::Entry;
use super::super::state::State;
use super::super::violation::{violation, Violation};
use super::{passed_decision, Choice, Kind};
use crate::ledger::action::ActionKind as A;
use crate::ledger::ids::{numeric_identity, IdKind};
use crate::money::Amount;

/// What a new proposal says and does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProposalIntent {
    /// Its kind.
    pub kind: Kind,
    /// Its title.
    pub title: String,
    /// `sha256:` of its full text.
    pub text_hash: String,
    /// Where the full text lives.
    pub link: String,
    /// policy-amendment: `sha256:` of the new `ledger.toml`.
    pub reference: Option<String>,
    /// captain-election and -recall: the captain role.
    pub role: Option<String>,
    /// captain-election and -recall: its team (by default the role's team).
    pub team: Option<String>,
    /// captain-election and -recall: who is elected or recalled.
    pub owner: Option<String>,
    /// award-review: the task.
    pub task: Option<String>,
    /// tranche-release: the tranche id.
    pub tranche: Option<String>,
    /// binding-vote: what it declares.
    pub declares: Option<String>,
    /// Free text.
    pub note: String,
}

impl ProposalIntent {
    /// A proposal of `kind` with its title and text, doing nothing beyond them until the
    /// fields of its kind are set.
    pub fn new(kind: Kind, title: &str, text_hash: &str, link: &str) -> ProposalIntent {
        ProposalIntent {
            kind,
            title: title.to_string(),
            text_hash: text_hash.to_string(),
            link: link.to_string(),
            reference: None,
            role: None,
            team: None,
            owner: None,
            task: None,
            tranche: None,
            declares: None,
            note: String::new(),
        }
    }
}

fn missing(what: &str, kind: Kind) -> Violation {
    violation("malformed-value", format!("a {} proposal names {what}", kind.word()))
}

/// The propose row, with the policy's window, objections, quorum and threshold copied in.
pub fn propose(state: &State, p: &ProposalIntent) -> Result<Vec<Entry>, Violation> {
    let g = &state.policy.governance;
    let window = if p.kind.lazy() { g.lazy_consensus_hours } else { g.vote_hours };
    let mut values: Vec<(&'static str, String)> = vec![
        ("kind", p.kind.word().into()),
        ("title", p.title.clone()),
        ("text_hash", p.text_hash.clone()),
        ("link", p.link.clone()),
        ("window_hours", window.to_string()),
        ("vote_hours", g.vote_hours.to_string()),
        ("objections", g.objections_to_vote.to_string()),
        ("quorum_percent", g.quorum_percent.0.to_string()),
        ("threshold_percent", g.threshold_percent.0.to_string()),
        ("note", p.note.clone()),
    ];
    let need = |value: &Option<String>, what: &str| value.clone().ok_or_else(|| missing(what, p.kind));
    match p.kind {
        Kind::LazyConsensus => {}
        Kind::BindingVote => values.push(("declares", p.declares.clone().unwrap_or_default())),
        Kind::PolicyAmendment => values.push(("reference", need(&p.reference, "the new policy (its sha256)")?)),
        Kind::CaptainElection | Kind::CaptainRecall => {
            let role = need(&p.role, "a captain role")?;
            let identity = numeric_identity(&role, IdKind::Role).map_err(|e| violation("malformed-value", e))?;
            let team = match (&p.team, state.roles.get(&identity)) {
                (Some(team), _) => team.clone(),
                (None, Some(existing)) => existing.team.clone(),
                (None, None) => return Err(missing("the team of a new captain role", p.kind)),
            };
            values.push(("role", role));
            values.push(("team", team));
            values.push(("owner", need(&p.owner, "who is elected or recalled")?));
        }
        Kind::AwardReview => values.push(("task", need(&p.task, "the task whose award is reviewed")?)),
        Kind::TrancheRelease => values.push(("tranche", need(&p.tranche, "the tranche")?)),
    }
    Ok(vec![Entry::owned(A::Propose, values)])
}

/// The open proposal `seq`.
fn open(state: &State, seq: u64) -> Result<&super::Proposal, Violation> {
    state.proposals.get(&seq).ok_or_else(|| match state.decided.get(&seq) {
        Some(_) => violation("proposal", format!("proposal {seq} is closed already")),
        None => violation("unknown-id", format!("seq {seq} is not a proposal")),
    })
}

/// An objection, with its reason.
pub fn object(state: &State, proposal: u64, note: &str) -> Result<Vec<Entry>, Violation> {
    open(state, proposal)?;
    Ok(vec![Entry::owned(
        A::Object,
        vec![("proposal", proposal.to_string()), ("note", note.into())],
    )])
}

/// A vote.
pub fn vote(state: &State, proposal: u64, choice: Choice, note: &str) -> Result<Vec<Entry>, Violation> {
    open(state, proposal)?;
    Ok(vec![Entry::owned(
        A::Vote,
        vec![
            ("proposal", proposal.to_string()),
            ("choice", choice.word().into()),
            ("note", note.into()),
        ],
    )])
}

/// The closing row, stating the result and tally of the proposal's rows so far.
pub fn close(state: &State, proposal: u64, note: &str) -> Result<Vec<Entry>, Violation> {
    let p = open(state, proposal)?;
    let tally = p.final_tally();
    let result = if p.passes() { "passed" } else { "failed" };
    Ok(vec![Entry::owned(
        A::CloseProposal,
        vec![
            ("proposal", proposal.to_string()),
            ("result", result.into()),
            ("yes", tally.yes.to_string()),
            ("no", tally.no.to_string()),
            ("abstain", tally.abstain.to_string()),
            ("eligible", p.eligible.to_string()),
            ("voters", tally.voters.to_string()),
            ("note", note.into()),
        ],
    )])
}

/// A tranche's release: by default all that is left, under the passed tranche-release
/// proposal still to be carried out (when the tranche's release is voted).
pub fn release_tranche(
    state: &State,
    tranche: &str,
    amount: Option<Amount>,
    proposal: Option<u64>,
    note: &str,
) -> Result<Vec<Entry>, Violation> {
    let t = super::tranches::tranche(state, tranche)?;
    let left = state.tranche_left(tranche);
    if !left.is_positive() {
        return Err(violation("tranche", format!("tranche {tranche} is released in full already")));
    }
    let proposal = match proposal {
        Some(seq) => Some(seq),
        None if t.voters.is_empty() => None,
        None => Some(
            passed_decision(state, Kind::TrancheRelease, |p| p.tranche.as_deref() == Some(tranche)).ok_or_else(|| {
                violation(
                    "governance",
                    format!(
                        "tranche {tranche} is released by a vote, and no passed tranche-release proposal of it is waiting: propose one"
                    ),
                )
            })?,
        ),
    };
    let amount = amount.unwrap_or(left);
    Ok(vec![Entry::owned(
        A::ReleaseTranche,
        vec![
            ("tranche", tranche.into()),
            ("amount", amount.to_string()),
            ("proposal", proposal.map(|s| s.to_string()).unwrap_or_default()),
            ("note", note.into()),
        ],
    )])
}
