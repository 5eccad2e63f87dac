//! What the ledger knows of a proposal: its kind and effect, the numbers it copied from the
//! policy, who may vote and with which weight, its objections, votes and running tally, and
//! how it ended. Weights and tallies are integers in thousandths of a vote, never floats.

use crate::money::Amount;
use crate::time::{Timestamp, HOUR};
use std::collections::{BTreeMap, BTreeSet};

/// One vote of full weight, in thousandths.
pub const ONE_VOTE: u64 = 1000;
/// The highest weight, in thousandths (1.5 votes, from 500 SK).
pub const MAX_WEIGHT: u64 = 1500;

/// The weight of an owner with `sk` Social Karma, in thousandths: `min(1.5, 1 + SK/1000)`.
/// SK are hundredths, so SK/1000 of a vote is `sk / 100` thousandths, rounded down.
pub fn weight(sk: Amount) -> u64 {
    let extra = u64::try_from(sk.0.max(0) / 100).unwrap_or(u64::MAX);
    ONE_VOTE.saturating_add(extra).min(MAX_WEIGHT)
}

/// Writes a weight in thousandths as a decimal number of votes (`1.125`).
pub fn format_weight(thousandths: u64) -> String {
    format!("{}.{:03}", thousandths / 1000, thousandths % 1000)
}

/// What a proposal is about; the kind decides whether it starts as a vote and what it does
/// when it passes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Passes at the end of its window unless enough objections make it a binding vote.
    LazyConsensus,
    /// An explicit vote of every owner; may declare something (`working-mvp`).
    BindingVote,
    /// A new `ledger.toml`, named by its hash.
    PolicyAmendment,
    /// A captain role for an owner, voted by the team's members.
    CaptainElection,
    /// A captain recalled from their role, voted by the team's members.
    CaptainRecall,
    /// The community review of an award above the policy's limit (lazy consensus).
    AwardReview,
    /// The release of a tranche of a retrospective award.
    TrancheRelease,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 7] = [
        Kind::LazyConsensus,
        Kind::BindingVote,
        Kind::PolicyAmendment,
        Kind::CaptainElection,
        Kind::CaptainRecall,
        Kind::AwardReview,
        Kind::TrancheRelease,
    ];

    /// The word in the `kind` column.
    pub fn word(self) -> &'static str {
        match self {
            Kind::LazyConsensus => "lazy-consensus",
            Kind::BindingVote => "binding-vote",
            Kind::PolicyAmendment => "policy-amendment",
            Kind::CaptainElection => "captain-election",
            Kind::CaptainRecall => "captain-recall",
            Kind::AwardReview => "award-review",
            Kind::TrancheRelease => "tranche-release",
        }
    }

    /// The kind a `kind` column names.
    pub fn parse(word: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.word() == word)
    }

    /// Whether it is decided by lazy consensus (objections may escalate it) rather than by a
    /// vote from the start.
    pub fn lazy(self) -> bool {
        matches!(self, Kind::LazyConsensus | Kind::AwardReview)
    }
}

/// A vote's choice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Choice {
    /// For.
    Yes,
    /// Against.
    No,
    /// Counts for participation only.
    Abstain,
}

impl Choice {
    /// The choice a `choice` column names.
    pub fn parse(word: &str) -> Option<Choice> {
        match word {
            "yes" => Some(Choice::Yes),
            "no" => Some(Choice::No),
            "abstain" => Some(Choice::Abstain),
            _ => None,
        }
    }

    /// The word in the `choice` column.
    pub fn word(self) -> &'static str {
        match self {
            Choice::Yes => "yes",
            Choice::No => "no",
            Choice::Abstain => "abstain",
        }
    }
}

/// Weights counted so far, in thousandths.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Tally {
    /// Weight of yes votes.
    pub yes: u64,
    /// Weight of no votes.
    pub no: u64,
    /// Weight of abstentions.
    pub abstain: u64,
    /// How many owners' votes count.
    pub voters: u64,
}

impl Tally {
    fn slot(&mut self, choice: Choice) -> &mut u64 {
        match choice {
            Choice::Yes => &mut self.yes,
            Choice::No => &mut self.no,
            Choice::Abstain => &mut self.abstain,
        }
    }

    /// Counts a vote, replacing the same owner's earlier one.
    pub fn count(&mut self, earlier: Option<(Choice, u64)>, choice: Choice, weight: u64) {
        match earlier {
            Some((old, old_weight)) => *self.slot(old) -= old_weight,
            None => self.voters += 1,
        }
        *self.slot(choice) += weight;
    }

    /// Whether participation reaches `quorum` percent of `eligible`: yes + no + abstain over
    /// the total weight of the eligible voters.
    pub fn quorate(&self, eligible: u64, quorum: Amount) -> bool {
        let cast = u128::from(self.yes + self.no + self.abstain);
        cast * 10_000 >= percent_hundredths(quorum) * u128::from(eligible)
    }

    /// Whether yes is strictly above `threshold` percent of yes + no (a tie fails).
    pub fn carried(&self, threshold: Amount) -> bool {
        u128::from(self.yes) * 10_000 > percent_hundredths(threshold) * u128::from(self.yes + self.no)
    }
}

fn percent_hundredths(percent: Amount) -> u128 {
    u128::try_from(percent.0.max(0)).unwrap_or(0)
}

/// How a proposal ended.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Outcome {
    /// Seq of the close-proposal row.
    pub seq: u64,
    /// When it was closed.
    pub at: Timestamp,
    /// Whether it passed.
    pub passed: bool,
    /// Seq of the row that carried out its effect (an amendment, an appointment, a release,
    /// a validation), once one did.
    pub applied: Option<u64>,
}

/// A proposal and everything needed to decide it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Proposal {
    /// Seq of its propose row: its number.
    pub seq: u64,
    /// What it is about.
    pub kind: Kind,
    /// Its title.
    pub title: String,
    /// `sha256:` of its full text.
    pub text_hash: String,
    /// Where the full text lives (may be empty).
    pub link: String,
    /// Who proposed it.
    pub proposer: String,
    /// When it was made: weights are taken as of this moment.
    pub created_at: Timestamp,
    /// policy-amendment: `sha256:` of the new `ledger.toml`.
    pub reference: Option<String>,
    /// captain-election and -recall: the captain role (numeric identity).
    pub role: Option<String>,
    /// captain-election and -recall: who is elected or recalled.
    pub owner: Option<String>,
    /// award-review: the task (numeric identity).
    pub task: Option<String>,
    /// tranche-release: the tranche id.
    pub tranche: Option<String>,
    /// binding-vote: what it declares when it passes.
    pub declares: Option<String>,
    /// Hours it stands (lazy) or its vote runs, from the policy when it was made.
    pub window_hours: i64,
    /// Hours a vote runs (also after escalation), from the policy when it was made.
    pub vote_hours: i64,
    /// Objections that escalate a lazy proposal, from the policy when it was made.
    pub objections_needed: u64,
    /// Quorum in percent, from the policy when it was made.
    pub quorum: Amount,
    /// Threshold in percent, from the policy when it was made.
    pub threshold: Amount,
    /// Who may vote, when not every owner of the Book as of the proposal: a team's members,
    /// or the groups a tranche names.
    pub voters: Option<BTreeSet<String>>,
    /// Someone who may not vote on it (a tranche's recipient).
    pub excluded: Option<String>,
    /// Total weight of the eligible voters as of the proposal, in thousandths.
    pub eligible: u64,
    /// Owners who objected (lazy consensus).
    pub objectors: Vec<String>,
    /// When the objections turned it into a binding vote.
    pub escalated_at: Option<Timestamp>,
    /// Each voter's latest choice and weight.
    pub votes: BTreeMap<String, (Choice, u64)>,
    /// The weights counted so far.
    pub tally: Tally,
    /// The weight as of the proposal of eligible owners whose SK changed after it.
    pub weights_then: BTreeMap<String, u64>,
    /// How it ended, once closed.
    pub outcome: Option<Outcome>,
}

impl Proposal {
    /// Whether votes are taken: a voting kind, or a lazy proposal its objections escalated.
    pub fn in_vote(&self) -> bool {
        !self.kind.lazy() || self.escalated_at.is_some()
    }

    /// When its window (lazy consensus, or the vote) ends.
    pub fn closes_at(&self) -> Timestamp {
        match self.escalated_at {
            Some(at) => at.plus(self.vote_hours * HOUR),
            None => self.created_at.plus(self.window_hours * HOUR),
        }
    }

    /// Whether it passes on the tally so far: a lazy proposal that was not escalated passes;
    /// a vote needs the quorum and yes strictly above the threshold of yes + no.
    pub fn passes(&self) -> bool {
        if !self.in_vote() {
            return true;
        }
        self.tally.quorate(self.eligible, self.quorum) && self.tally.carried(self.threshold)
    }

    /// The tally a closing row must state: the votes, or nothing for a lazy proposal that
    /// was never escalated.
    pub fn final_tally(&self) -> Tally {
        if self.in_vote() {
            self.tally
        } else {
            Tally::default()
        }
    }

    /// Participation so far, in hundredths of a percent of the eligible weight.
    pub fn participation(&self) -> u64 {
        let cast = self.tally.yes + self.tally.no + self.tally.abstain;
        (u128::from(cast) * 10_000)
            .checked_div(u128::from(self.eligible))
            .map_or(0, |p| p as u64)
    }

    /// Whether it passed and its effect was not yet carried out.
    pub fn passed_unapplied(&self) -> bool {
        self.outcome.as_ref().is_some_and(|o| o.passed && o.applied.is_none())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_are_thousandths_capped_at_one_and_a_half() {
        assert_eq!(weight(Amount::ZERO), 1000);
        assert_eq!(weight("120".parse().unwrap()), 1120);
        assert_eq!(weight("120.55".parse().unwrap()), 1120);
        assert_eq!(weight("499.99".parse().unwrap()), 1499);
        assert_eq!(weight("500".parse().unwrap()), 1500);
        assert_eq!(weight("9000".parse().unwrap()), 1500);
        assert_eq!(format_weight(1125), "1.125");
    }

    #[test]
    fn quorum_and_threshold_at_their_exact_boundaries() {
        let fifty = Amount::units(50);
        let twenty = Amount::units(20);
        // 2000 of 10000 cast: exactly 20% is quorate, one thousandth less is not.
        let t = Tally {
            yes: 2000,
            no: 0,
            abstain: 0,
            voters: 2,
        };
        assert!(t.quorate(10_000, twenty));
        let t = Tally { yes: 1999, ..t };
        assert!(!t.quorate(10_000, twenty));
        // A tie fails; one thousandth more carries.
        let tie = Tally {
            yes: 1500,
            no: 1500,
            abstain: 0,
            voters: 2,
        };
        assert!(!tie.carried(fifty));
        assert!(Tally { yes: 1501, ..tie }.carried(fifty));
        // Nobody voted yes or no: not carried.
        assert!(!Tally {
            yes: 0,
            no: 0,
            abstain: 1000,
            voters: 1
        }
        .carried(fifty));
    }

    #[test]
    fn a_changed_vote_moves_its_weight() {
        let mut t = Tally::default();
        t.count(None, Choice::Yes, 1200);
        t.count(Some((Choice::Yes, 1200)), Choice::No, 1200);
        t.count(Some((Choice::No, 1200)), Choice::Abstain, 1200);
        assert_eq!(
            t,
            Tally {
                yes: 0,
                no: 0,
                abstain: 1200,
                voters: 1
            }
        );
    }
}
