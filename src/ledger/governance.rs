//! `[governance]` of `ledger.toml`: how proposals are decided (windows, objections, quorum,
//! threshold) and the tranches of retrospective awards with their triggers and who votes on
//! their release. The rules read these numbers; a proposal copies them when it is made.

use super::policy::{Dec, PolicyError};
use crate::money::Amount;
use serde::{Deserialize, Serialize};

/// `[governance]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct GovernanceSection {
    /// Hours a lazy-consensus proposal stands before it passes without escalation.
    pub lazy_consensus_hours: i64,
    /// Objections that turn a lazy-consensus proposal into a binding vote.
    pub objections_to_vote: u64,
    /// Hours a binding vote runs.
    pub vote_hours: i64,
    /// Participation (yes + no + abstain over the eligible weight) a vote needs, in percent.
    pub quorum_percent: Dec,
    /// Yes must be strictly above this percent of yes + no.
    pub threshold_percent: Dec,
    /// Retrospective awards, pending in tranches until a decision releases each.
    pub tranches: Vec<Tranche>,
}

impl Default for GovernanceSection {
    fn default() -> Self {
        GovernanceSection {
            lazy_consensus_hours: 48,
            objections_to_vote: 3,
            vote_hours: 7 * 24,
            quorum_percent: Dec(Amount::units(20)),
            threshold_percent: Dec(Amount::units(50)),
            tranches: Vec::new(),
        }
    }
}

/// Who may vote on a tranche's release.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum VoterGroup {
    /// Every owner.
    Owners,
    /// Holders of a captain role of any team.
    Captains,
    /// Holders of any role in the leadership team.
    Leadership,
}

impl VoterGroup {
    /// The word in the policy (`owners`, `captains`, `leadership`).
    pub fn word(self) -> &'static str {
        match self {
            VoterGroup::Owners => "owners",
            VoterGroup::Captains => "captains",
            VoterGroup::Leadership => "leadership",
        }
    }
}

/// One tranche of a retrospective award: pending SC that a decision releases once its
/// trigger holds. Its recipient never validates it.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Tranche {
    /// Its id (`design`, `production`, ...), named by proposals and release rows.
    pub id: String,
    /// Who receives it: a handle, or `founder` for whoever registered the smartup.
    pub recipient: String,
    /// The SC it holds.
    pub amount: Dec,
    /// What it was earned for, in words.
    #[serde(default)]
    pub reason: String,
    /// When it may be released (any one condition suffices).
    pub trigger: Trigger,
    /// Who votes on its release; empty: released without a vote once the trigger holds.
    #[serde(default)]
    pub voters: Vec<VoterGroup>,
}

/// The conditions that make a tranche releasable; any one that is set suffices.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Trigger {
    /// At least this many owners hold a captain role.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub captains_at_least: Option<u64>,
    /// At least this many owners are in the Book of Owners.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owners_at_least: Option<u64>,
    /// A passed binding vote declared one of these (`working-mvp`, `market-launch`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub declared: Vec<String>,
}

impl Trigger {
    /// The trigger in words, for messages and pages.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(n) = self.captains_at_least {
            parts.push(format!("at least {n} team captains"));
        }
        if let Some(n) = self.owners_at_least {
            parts.push(format!("at least {n} owners"));
        }
        for name in &self.declared {
            parts.push(format!("{name} declared by vote"));
        }
        parts.join(" or ")
    }
}

impl GovernanceSection {
    /// The tranche with this id.
    pub fn tranche(&self, id: &str) -> Option<&Tranche> {
        self.tranches.iter().find(|t| t.id == id)
    }

    /// Checks what the rules rely on.
    pub(super) fn check(&self) -> Result<(), PolicyError> {
        let fail = |m: String| Err(PolicyError(format!("[governance] {m}")));
        if self.lazy_consensus_hours < 1 || self.vote_hours < 1 {
            return fail("lazy_consensus_hours and vote_hours must be at least 1".into());
        }
        if self.objections_to_vote == 0 {
            return fail("objections_to_vote must be at least 1".into());
        }
        for (name, value) in [
            ("quorum_percent", self.quorum_percent),
            ("threshold_percent", self.threshold_percent),
        ] {
            if value.0 < Amount::ZERO || value.0 > Amount::units(100) {
                return fail(format!("{name} must lie between 0 and 100, not {}", value.0));
            }
        }
        for (i, tranche) in self.tranches.iter().enumerate() {
            if tranche.id.is_empty()
                || !tranche
                    .id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                return fail(format!("tranche {:?}: an id is lower-case letters, digits and dashes", tranche.id));
            }
            if self.tranches[..i].iter().any(|t| t.id == tranche.id) {
                return fail(format!("tranche {:?} is listed twice", tranche.id));
            }
            if !tranche.amount.0.is_positive() {
                return fail(format!("tranche {:?}: the amount must be above zero", tranche.id));
            }
            let trigger = &tranche.trigger;
            if trigger.captains_at_least.is_none() && trigger.owners_at_least.is_none() && trigger.declared.is_empty() {
                return fail(format!(
                    "tranche {:?} needs a trigger: captains_at_least, owners_at_least or declared",
                    tranche.id
                ));
            }
        }
        Ok(())
    }
}
