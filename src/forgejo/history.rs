//! The histories Forgejo shows, read from the rows at HEAD in one walk: the read model's
//! [`History`] (rows, sessions, phase and assessment of each task and objective) and, for
//! each proposal, its rows, objections with their reasons and each voter's latest choice
//! (the state forgets a closed proposal's votes).

use crate::ledger::row::{Location, Row};
use crate::repo::for_each_row;
use crate::view::history::{History, Objection, RowRef};
use anyhow::Result;
use git2::{Oid, Repository};
use std::collections::BTreeMap;

/// The table of proposals, objections, votes and closing rows.
const PROPOSALS_TABLE: &str = "proposals";

/// Everything the sync shows beyond the replayed state.
#[derive(Debug, Default)]
pub struct Histories {
    /// Tasks, objectives and owners.
    pub work: History,
    /// Proposals, by the seq of their propose row.
    pub proposals: BTreeMap<u64, ProposalHistory>,
    /// Rows that carry out a decision without naming it (an amendment, an appointment, a
    /// validation), by seq: a proposal's history gains the one that carried it out.
    carriers: BTreeMap<u64, RowRef>,
}

/// Actions whose row may carry out a passed proposal without naming it.
const CARRIERS: [&str; 4] = ["amend-policy", "assign-role", "set-role", "validate-pending-sc"];

/// A proposal's rows and what they say beyond the state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProposalHistory {
    /// Its rows in seq order: propose, objections, votes, the closing row, and a
    /// release-tranche row that names it (with [`Histories::proposal`], also the row that
    /// carried it out).
    pub rows: Vec<RowRef>,
    /// Its objections with their reasons, in seq order.
    pub objections: Vec<Objection>,
    /// Each voter's latest choice (`yes`, `no`, `abstain`), by handle.
    pub votes: BTreeMap<String, String>,
}

impl Histories {
    /// Files one row (read at `at`).
    pub fn add(&mut self, row: &Row, at: &Location) {
        if &*at.table == PROPOSALS_TABLE {
            self.add_to_proposal(row, at);
        }
        if CARRIERS.contains(&row.action.as_str()) {
            self.carriers.insert(row.seq, RowRef::of(row, at));
        }
        self.work.add(row, at);
    }

    /// Proposal `seq`'s history, with the row that carried it out (`applied`, from the
    /// state) among its rows.
    pub fn proposal(&self, seq: u64, applied: Option<u64>) -> ProposalHistory {
        let mut history = self.proposals.get(&seq).cloned().unwrap_or_default();
        if let Some(row) = applied.and_then(|a| self.carriers.get(&a)) {
            if !history.rows.iter().any(|r| r.seq == row.seq) {
                history.rows.push(row.clone());
                history.rows.sort_by_key(|r| r.seq);
            }
        }
        history
    }

    /// Files a row of the proposals table under the proposal it is (propose) or names.
    fn add_to_proposal(&mut self, row: &Row, at: &Location) {
        let seq = match row.action.as_str() {
            "propose" => Some(row.seq),
            _ => row.get("proposal").parse().ok(),
        };
        let Some(seq) = seq else { return };
        let reference = RowRef::of(row, at);
        let entry = self.proposals.entry(seq).or_default();
        match row.action.as_str() {
            "object" => entry.objections.push(Objection {
                by: row.actor.clone(),
                reason: row.get("note").to_string(),
                row: reference.clone(),
            }),
            "vote" => {
                entry.votes.insert(row.actor.clone(), row.get("choice").to_string());
            }
            _ => {}
        }
        entry.rows.push(reference);
    }
}

/// Reads the rows of the ledger at `head` into its histories.
pub fn read(repo: &Repository, head: Oid, segment_rows: u64) -> Result<Histories> {
    let mut histories = Histories::default();
    for_each_row(repo, head, segment_rows, |row, location| {
        histories.add(&row, &location);
        Ok(true)
    })?;
    Ok(histories)
}
