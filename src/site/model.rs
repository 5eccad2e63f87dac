//! What the site knows beyond the state at its commit, folded row by row while the history is
//! verified: the rows each owner signed, each task's history in words, the treasury and SC
//! over time, deposits and payouts by month, the policy's amendments and the latest events.
//!
//! Memory stays flat however long the ledger is: audit-log pages and pages of an owner's
//! signed rows are handed out as they fill ([`Model::observe`] returns them), and the
//! histories of tasks and proposals live in a [`Histories`] store on disk. The model itself is small and is saved
//! with the site, so the next build folds only the rows that came after.

use super::histories::{proposal_key, Histories};
use crate::ledger::ids::{numeric_identity, IdKind};
use crate::ledger::row::{Location, Row};
use crate::money::Amount;
use crate::rules::State;
use crate::time::{format_date, Timestamp};
use crate::view::events::{event_of, EventKind};
use crate::view::log::LogEntry;
use anyhow::Result;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;

/// Rows per audit-log page, and per page of an owner's signed rows.
pub const LOG_PAGE_ROWS: u64 = 500;
/// Events the overview shows, and signed rows an owner's page shows.
pub const RECENT_EVENTS: usize = 10;
/// Signed rows an owner's own page shows (the latest).
pub const LATEST_SIGNED: usize = 20;

/// The audit-log page (from 1) that holds the row `seq`.
pub fn log_page_of(seq: u64) -> u64 {
    seq.saturating_sub(1) / LOG_PAGE_ROWS + 1
}

/// A row an owner signed, as their pages list it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signed {
    /// Its seq.
    pub seq: u64,
    /// When it was recorded.
    pub at: Timestamp,
    /// Its action.
    pub action: String,
}

/// A row in words: a line of a task's or a proposal's history, or one of the latest events.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Told {
    /// Its seq.
    pub seq: u64,
    /// When it was recorded.
    pub at: Timestamp,
    /// What it did.
    pub words: String,
}

/// One line of the audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    /// Its seq.
    pub seq: u64,
    /// When it was recorded.
    pub at: Timestamp,
    /// Who signed it.
    pub actor: String,
    /// The action.
    pub action: String,
    /// What it did, in words.
    pub words: String,
    /// Fingerprint of the signing key.
    pub key: String,
    /// The commit that added the row.
    pub commit: String,
    /// Where the row is stored.
    pub location: Location,
}

/// The money position at the end of a day with rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Point {
    /// The day (days since 1970-01-01).
    pub day: i64,
    /// EUR in the treasury.
    pub treasury: Amount,
    /// SC outstanding.
    pub outstanding: Amount,
}

/// EUR in and out of the treasury in one month.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flows {
    /// Deposits.
    pub deposits: Amount,
    /// Payouts.
    pub payouts: Amount,
}

/// A change of the policy: genesis or an amendment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Amendment {
    /// Seq of the row.
    pub seq: u64,
    /// When.
    pub at: Timestamp,
    /// Who signed it.
    pub actor: String,
    /// The policy reference it names (its hash).
    pub reference: String,
}

/// The rows one owner signed: how many, the page being filled and the latest few.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnerRows {
    /// Rows signed in all.
    pub count: u64,
    /// The rows of the page being filled (page `count / LOG_PAGE_ROWS + 1`).
    pub filling: Vec<Signed>,
    /// The latest rows, newest last.
    pub latest: VecDeque<Signed>,
}

impl OwnerRows {
    /// How many pages their signed rows fill.
    pub fn pages(&self) -> u64 {
        self.count.div_ceil(LOG_PAGE_ROWS)
    }
}

/// A full page of rows handed out by the fold.
pub enum Filled {
    /// Audit-log page `number` (from 1), and whether more pages follow.
    Log {
        /// Page number.
        number: u64,
        /// Its rows in seq order.
        lines: Vec<LogLine>,
        /// True for the last page (at the end of the fold).
        last: bool,
    },
    /// Page `number` (from 1) of the rows `owner` signed.
    Signed {
        /// Whose rows.
        owner: String,
        /// Page number.
        number: u64,
        /// The rows.
        rows: Vec<Signed>,
    },
}

/// The folded history (what the site saves beside its pages, without the histories of tasks
/// and proposals).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Model {
    /// The ledger's root commit.
    pub genesis: String,
    /// The rows each owner signed, by handle.
    pub signed: BTreeMap<String, OwnerRows>,
    /// Rows about each task (by numeric id): how many, and the seq of the last.
    pub task_rows: BTreeMap<String, (u64, u64)>,
    /// When each owner joined (seq, time).
    pub joined: BTreeMap<String, (u64, Timestamp)>,
    /// The money position at the end of each day with rows.
    pub days: Vec<Point>,
    /// Deposits and payouts by month (`2026-01`).
    pub months: BTreeMap<String, Flows>,
    /// Genesis and every amendment of the policy.
    pub amendments: Vec<Amendment>,
    /// The rows that released (part of) each tranche of a retrospective award, by tranche id.
    pub releases: BTreeMap<String, Vec<u64>>,
    /// The latest events, newest last.
    pub recent: VecDeque<Told>,
    /// The audit-log page being filled.
    pub log: Vec<LogLine>,
    /// Rows seen.
    pub rows: u64,
    /// The last row seen, waiting for the state after it.
    previous: Option<Unsettled>,
}

/// The last row seen, until the state after it is known: the treasury change it made, and
/// the decision it carried out without naming it (an amendment of the policy, an appointment).
#[derive(Debug, Serialize, Deserialize)]
struct Unsettled {
    /// The row in words.
    told: Told,
    /// The proposal it names, whose history it is already in.
    names: Option<u64>,
    /// The treasury before it.
    treasury: Amount,
}

impl Model {
    /// Takes in one row of `commit`, given the state `before` it: its words go to the history
    /// of its task or proposal in `histories`; the pages this row completed go to `filled`.
    pub fn observe(
        &mut self,
        row: &Row,
        location: &Location,
        commit: &str,
        before: &State,
        histories: &mut Histories,
        filled: &mut Vec<Filled>,
    ) -> Result<()> {
        self.settle(before, histories)?;
        self.rows += 1;
        let words = words_of(row, before);
        let told = Told {
            seq: row.seq,
            at: row.timestamp,
            words,
        };
        let signed = Signed {
            seq: row.seq,
            at: row.timestamp,
            action: row.action.clone(),
        };
        self.sign(&row.actor, signed, filled);
        if let Some(task) = numeric_identity(row.get("task"), IdKind::Task).ok().filter(|t| !t.is_empty()) {
            let counted = self.task_rows.entry(task.clone()).or_default();
            *counted = (counted.0 + 1, row.seq);
            histories.push(&task, told.clone())?;
        }
        let names = proposal_of(row);
        if let Some(proposal) = names {
            histories.push(&proposal_key(proposal), told.clone())?;
        }
        match row.action.as_str() {
            "create-owner" => {
                self.joined.entry(row.get("owner").to_string()).or_insert((row.seq, row.timestamp));
            }
            "join" => {
                self.joined.entry(row.actor.clone()).or_insert((row.seq, row.timestamp));
            }
            "release-tranche" => self.releases.entry(row.get("tranche").to_string()).or_default().push(row.seq),
            "register-smartup" | "amend-policy" => self.amendments.push(Amendment {
                seq: row.seq,
                at: row.timestamp,
                actor: row.actor.clone(),
                reference: row.get("reference").to_string(),
            }),
            _ => {}
        }
        self.previous = Some(Unsettled {
            told: told.clone(),
            names,
            treasury: before.treasury,
        });
        self.recent.push_back(told.clone());
        if self.recent.len() > RECENT_EVENTS {
            self.recent.pop_front();
        }
        if let Some(first) = self.log.first().map(|l| l.seq) {
            if log_page_of(first) != log_page_of(row.seq) {
                filled.push(Filled::Log {
                    number: log_page_of(first),
                    lines: std::mem::take(&mut self.log),
                    last: false,
                });
            }
        }
        self.log.push(LogLine {
            seq: row.seq,
            at: row.timestamp,
            actor: row.actor.clone(),
            action: row.action.clone(),
            words: told.words,
            key: row.key.clone(),
            commit: commit.to_string(),
            location: location.clone(),
        });
        Ok(())
    }

    /// Counts a row `owner` signed; a page of their rows that fills goes to `filled`.
    fn sign(&mut self, owner: &str, signed: Signed, filled: &mut Vec<Filled>) {
        let rows = self.signed.entry(owner.to_string()).or_default();
        rows.count += 1;
        rows.latest.push_back(signed.clone());
        if rows.latest.len() > LATEST_SIGNED {
            rows.latest.pop_front();
        }
        rows.filling.push(signed);
        if rows.filling.len() as u64 == LOG_PAGE_ROWS {
            filled.push(Filled::Signed {
                owner: owner.to_string(),
                number: rows.count / LOG_PAGE_ROWS,
                rows: std::mem::take(&mut rows.filling),
            });
        }
    }

    /// Ends the fold with the final state: the last row is settled, the pages still being
    /// filled (the audit log's last page, each owner's last page of signed rows) go to
    /// `filled`, and the model keeps them, so that the next build can go on filling them.
    pub fn finish(&mut self, state: &State, histories: &mut Histories, filled: &mut Vec<Filled>) -> Result<()> {
        self.settle(state, histories)?;
        if let Some(first) = self.log.first() {
            filled.push(Filled::Log {
                number: log_page_of(first.seq),
                lines: self.log.clone(),
                last: true,
            });
        }
        for (owner, rows) in &self.signed {
            if !rows.filling.is_empty() {
                filled.push(Filled::Signed {
                    owner: owner.clone(),
                    number: rows.pages(),
                    rows: rows.filling.clone(),
                });
            }
        }
        Ok(())
    }

    /// Books the previous row's treasury change and the day's closing position, now that
    /// `after` (the state after it) is known; a decision the row carried out without naming
    /// it gets the row in its history.
    fn settle(&mut self, after: &State, histories: &mut Histories) -> Result<()> {
        let Some(Unsettled { told, names, treasury }) = self.previous.take() else {
            return Ok(());
        };
        for p in after.decided.values() {
            let carried_out = p.outcome.as_ref().is_some_and(|o| o.applied == Some(told.seq));
            if carried_out && names != Some(p.seq) {
                histories.push(&proposal_key(p.seq), told.clone())?;
            }
        }
        let at = told.at;
        let change = after.treasury.minus(treasury);
        let month = format_date(at.day())[..7].to_string();
        let flows = self.months.entry(month).or_default();
        if change.is_positive() {
            flows.deposits = flows.deposits.plus(change);
        } else if change != Amount::ZERO {
            flows.payouts = flows.payouts.plus(Amount::ZERO.minus(change));
        }
        let point = Point {
            day: at.day(),
            treasury: after.treasury,
            outstanding: after.outstanding,
        };
        match self.days.last_mut() {
            Some(last) if last.day == point.day => *last = point,
            _ => self.days.push(point),
        }
        Ok(())
    }
}

/// The proposal a row is about: its own seq for a `propose` row, else the proposal it names
/// (an objection, a vote, a closing, a release a vote decided).
pub fn proposal_of(row: &Row) -> Option<u64> {
    if row.action == "propose" {
        Some(row.seq)
    } else {
        row.get("proposal").parse().ok()
    }
}

/// What a row did, in the words of the event timeline; a row the timeline has no words for
/// is shown as `smartup log` shows it (`actor: action column=value …`), so that no row of the
/// audit log or of a history says less than the ledger holds.
fn words_of(row: &Row, before: &State) -> String {
    let event = event_of(row, before);
    if !matches!(event.kind, EventKind::Other) {
        return event.words;
    }
    let mut words = event.words;
    for (name, value) in LogEntry::of(row).columns.0 {
        let _ = write!(words, " {name}={value}");
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::Book;
    use crate::site::pages::fixture::fold;

    #[test]
    fn a_paid_task_is_folded_into_histories_money_and_pages() {
        let dir = tempfile::tempdir().unwrap();
        let b = Book::paid_after_one_session();
        let (model, mut tasks, filled) = fold(&b, dir.path());
        assert_eq!(model.rows, b.state.last_seq);
        let logs: Vec<(u64, bool, Vec<u64>)> = filled
            .iter()
            .filter_map(|f| match f {
                Filled::Log { number, lines, last } => Some((*number, *last, lines.iter().map(|l| l.seq).collect())),
                Filled::Signed { .. } => None,
            })
            .collect();
        assert_eq!(
            logs,
            vec![(1, true, (1..=b.state.last_seq).collect())],
            "fewer than {LOG_PAGE_ROWS} rows make one page"
        );
        let signed: u64 = model.signed.values().map(|o| o.count).sum();
        assert_eq!(signed, b.state.last_seq, "every row is someone's signed row");
        let owner_pages = filled.iter().filter(|f| matches!(f, Filled::Signed { number: 1, .. })).count();
        assert_eq!(owner_pages, model.signed.len(), "each signer's one page of rows");
        let task = tasks.history("6_2_1_1").unwrap();
        assert!(task.first().is_some_and(|t| t.words.contains("created the task")), "{task:?}");
        assert!(task.iter().any(|t| t.words.contains("validated")), "{task:?}");
        assert_eq!(model.task_rows["6_2_1_1"].0, task.len() as u64);
        let deposits: Amount = model.months.values().fold(Amount::ZERO, |sum, f| sum.plus(f.deposits));
        assert_eq!(deposits, b.state.treasury, "every euro in the treasury came in as a deposit");
        let last = model.days.last().expect("a day with rows");
        assert_eq!((last.treasury, last.outstanding), (b.state.treasury, b.state.outstanding));
        assert_eq!(model.amendments.first().map(|a| a.seq), Some(1), "genesis sets the first policy");
        assert_eq!(model.recent.back().map(|e| e.seq), Some(b.state.last_seq));
    }

    #[test]
    fn a_model_saved_and_loaded_folds_on_as_if_never_stopped() {
        let b = Book::paid_after_one_session();
        let half = b.rows.len() / 2;
        let (dir_all, dir_parts) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (whole, _, _) = fold(&b, dir_all.path());

        let mut state = b.genesis.clone();
        let mut model = Model::default();
        let mut tasks = Histories::new(dir_parts.path()).unwrap();
        let mut filled = Vec::new();
        for (i, (row, location)) in b.rows.iter().enumerate() {
            if i == half {
                tasks.save().unwrap();
                let json = serde_json::to_vec(&model).unwrap();
                model = serde_json::from_slice(&json).unwrap();
                tasks = Histories::open(dir_parts.path(), u64::MAX).unwrap();
            }
            model.observe(row, location, "c0ffee", &state, &mut tasks, &mut filled).unwrap();
            crate::rules::apply(&mut state, row, None).unwrap();
        }
        model.finish(&state, &mut tasks, &mut filled).unwrap();
        assert_eq!(serde_json::to_value(&model).unwrap(), serde_json::to_value(&whole).unwrap());
        assert_eq!(tasks.history("6_2_1_1").unwrap().len() as u64, whole.task_rows["6_2_1_1"].0);
    }

    #[test]
    fn rows_about_a_proposal_make_its_history_and_releases_are_kept_by_tranche() {
        let dir = tempfile::tempdir().unwrap();
        let mut g = crate::site::pages::fixture::governed(dir.path());
        let history = g.histories.history(&proposal_key(g.passed)).unwrap();
        let seqs: Vec<u64> = history.iter().map(|t| t.seq).collect();
        assert_eq!(seqs, (g.passed..=g.passed + 5).collect::<Vec<_>>(), "propose, four votes, close");
        let lazy = g.histories.history(&proposal_key(g.lazy)).unwrap();
        assert_eq!(lazy.iter().map(|t| t.seq).collect::<Vec<_>>(), [g.lazy, g.lazy + 1]);
        assert_eq!(g.model.releases["organisation"], [g.release]);
    }

    #[test]
    fn a_row_that_carries_out_a_decision_without_naming_it_joins_the_decisions_history() {
        use crate::rules::governance::Kind;
        use crate::site::pages::fixture::{amended, intent, propose};
        let mut b = Book::organisation();
        let (proposal, amended) = amended(&mut b);
        let history = |b: &Book| {
            let dir = tempfile::tempdir().unwrap();
            let (_, mut histories, _) = fold(b, dir.path());
            let told = histories.history(&proposal_key(proposal)).unwrap();
            told.iter().map(|t| t.seq).collect::<Vec<u64>>()
        };
        let expected: Vec<u64> = (proposal..=amended).collect();
        assert_eq!(
            history(&b),
            expected,
            "propose, three votes, close and the amendment, last of all rows"
        );
        propose(&mut b, &intent(Kind::LazyConsensus, "Move the weekly call"));
        assert_eq!(history(&b), expected, "the amendment, settled by the row after it, once");
        assert_eq!(b.state.decided[&proposal].outcome.as_ref().and_then(|o| o.applied), Some(amended));
    }

    #[test]
    fn a_row_the_timeline_has_no_words_for_is_shown_with_its_columns() {
        let dir = tempfile::tempdir().unwrap();
        let g = crate::site::pages::fixture::governed(dir.path());
        // Rows are kept from seq 1: the row after the propose row is alice's vote.
        let (vote, _) = &g.book.rows[usize::try_from(g.voting).unwrap()];
        assert_eq!(vote.action, "vote");
        let words = words_of(vote, &g.book.state);
        let event = event_of(vote, &g.book.state);
        if matches!(event.kind, EventKind::Other) {
            assert_eq!(words, format!("alice: vote proposal={} choice=yes", g.voting));
        } else {
            assert_eq!(words, event.words, "the timeline's words, once it has them");
        }
    }

    #[test]
    fn log_pages_hold_500_rows_each() {
        assert_eq!(log_page_of(1), 1);
        assert_eq!(log_page_of(LOG_PAGE_ROWS), 1);
        assert_eq!(log_page_of(LOG_PAGE_ROWS + 1), 2);
    }
}
