//! What the site knows beyond the state at its commit, folded row by row while the history is
//! verified: who signed what, each task's history in words, the treasury and SC over time,
//! deposits and payouts by month, the policy's amendments and the latest events. The audit
//! log is not kept: its pages are handed out as they fill ([`Model::observe`] returns them),
//! so memory stays flat however long the ledger is.

use crate::ledger::action::ActionKind;
use crate::ledger::ids::{numeric_identity, IdKind};
use crate::ledger::row::{Location, Row};
use crate::money::Amount;
use crate::rules::State;
use crate::time::{format_date, Timestamp};
use crate::view::events::{event_of, Event};
use std::collections::{BTreeMap, VecDeque};

/// Rows per audit-log page.
pub const LOG_PAGE_ROWS: u64 = 500;
/// Events the overview shows.
pub const RECENT_EVENTS: usize = 10;

/// The audit-log page (from 1) that holds the row `seq`.
pub fn log_page_of(seq: u64) -> u64 {
    seq.saturating_sub(1) / LOG_PAGE_ROWS + 1
}

/// A row an owner signed, as their page lists it.
#[derive(Clone, Debug)]
pub struct Signed {
    /// Its seq.
    pub seq: u64,
    /// When it was recorded.
    pub at: Timestamp,
    /// Its action.
    pub action: ActionKind,
}

/// A row of a task's history, in words.
#[derive(Clone, Debug)]
pub struct Told {
    /// Its seq.
    pub seq: u64,
    /// When it was recorded.
    pub at: Timestamp,
    /// What it did.
    pub words: String,
}

/// One line of the audit log.
#[derive(Clone, Debug)]
pub struct LogLine {
    /// The event (seq, time, actor, words).
    pub event: Event,
    /// The action.
    pub action: String,
    /// Fingerprint of the signing key.
    pub key: String,
    /// The commit that added the row.
    pub commit: String,
    /// Where the row is stored.
    pub location: Location,
}

/// The money position at the end of a day with rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Point {
    /// The day (days since 1970-01-01).
    pub day: i64,
    /// EUR in the treasury.
    pub treasury: Amount,
    /// SC outstanding.
    pub outstanding: Amount,
}

/// EUR in and out of the treasury in one month.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flows {
    /// Deposits.
    pub deposits: Amount,
    /// Payouts.
    pub payouts: Amount,
}

/// A change of the policy: genesis or an amendment.
#[derive(Clone, Debug)]
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

/// A full audit-log page: its number (from 1) and its lines.
pub struct LogPage {
    /// Page number, from 1.
    pub number: u64,
    /// Its rows in seq order.
    pub lines: Vec<LogLine>,
}

/// The folded history.
#[derive(Default)]
pub struct Model {
    /// Rows each owner signed, by handle.
    pub signed: BTreeMap<String, Vec<Signed>>,
    /// Each task's rows in words, by numeric task id.
    pub tasks: BTreeMap<String, Vec<Told>>,
    /// When each owner joined (seq, time).
    pub joined: BTreeMap<String, (u64, Timestamp)>,
    /// The money position at the end of each day with rows.
    pub days: Vec<Point>,
    /// Deposits and payouts by month (`2026-01`).
    pub months: BTreeMap<String, Flows>,
    /// Genesis and every amendment of the policy.
    pub amendments: Vec<Amendment>,
    /// The latest events, newest last.
    pub recent: VecDeque<Event>,
    /// The audit-log page being filled.
    log: Vec<LogLine>,
    /// Rows seen.
    pub rows: u64,
    /// The row before this one, waiting for the state after it (its treasury change).
    previous: Option<(Timestamp, Amount)>,
}

impl Model {
    /// Takes in one row of `commit`, given the state `before` it; returns the audit-log page
    /// this row's arrival completed, if any.
    pub fn observe(&mut self, row: &Row, location: &Location, commit: git2::Oid, before: &State) -> Option<LogPage> {
        self.settle(before);
        self.rows += 1;
        let event = event_of(row, before);
        let action = ActionKind::parse(&row.action);
        if let Some(action) = action {
            let signed = Signed {
                seq: row.seq,
                at: row.timestamp,
                action,
            };
            self.signed.entry(row.actor.clone()).or_default().push(signed);
        }
        if let Some(task) = numeric_identity(row.get("task"), IdKind::Task).ok().filter(|t| !t.is_empty()) {
            let told = Told {
                seq: row.seq,
                at: row.timestamp,
                words: event.words.clone(),
            };
            self.tasks.entry(task).or_default().push(told);
        }
        match row.action.as_str() {
            "create-owner" => {
                self.joined.entry(row.get("owner").to_string()).or_insert((row.seq, row.timestamp));
            }
            "register-smartup" | "amend-policy" => self.amendments.push(Amendment {
                seq: row.seq,
                at: row.timestamp,
                actor: row.actor.clone(),
                reference: row.get("reference").to_string(),
            }),
            _ => {}
        }
        self.previous = Some((row.timestamp, before.treasury));
        self.recent.push_back(event.clone());
        if self.recent.len() > RECENT_EVENTS {
            self.recent.pop_front();
        }
        let filling = self.log.first().map(|l| log_page_of(l.event.seq));
        let done = filling.filter(|&page| page != log_page_of(row.seq)).map(|number| LogPage {
            number,
            lines: std::mem::take(&mut self.log),
        });
        self.log.push(LogLine {
            event,
            action: row.action.clone(),
            key: row.key.clone(),
            commit: commit.to_string(),
            location: location.clone(),
        });
        done
    }

    /// Ends the fold with the final state; returns the last audit-log page.
    pub fn finish(&mut self, state: &State) -> Option<LogPage> {
        self.settle(state);
        let lines = std::mem::take(&mut self.log);
        let number = lines.first().map(|l| log_page_of(l.event.seq))?;
        Some(LogPage { number, lines })
    }

    /// Books the previous row's treasury change and the day's closing position, now that
    /// `after` (the state after it) is known.
    fn settle(&mut self, after: &State) {
        let Some((at, treasury_before)) = self.previous.take() else { return };
        let change = after.treasury.minus(treasury_before);
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::Book;

    /// Folds every row of `b` into a model, returning it and the audit-log pages handed out.
    fn fold(b: &Book) -> (Model, Vec<LogPage>) {
        let mut state = b.genesis.clone();
        let mut model = Model::default();
        let mut pages = Vec::new();
        for (row, location) in &b.rows {
            pages.extend(model.observe(row, location, git2::Oid::ZERO_SHA1, &state));
            crate::rules::apply(&mut state, row, None).expect("the book's rows are valid");
        }
        pages.extend(model.finish(&state));
        (model, pages)
    }

    #[test]
    fn a_paid_task_is_folded_into_histories_money_and_one_log_page() {
        let b = Book::paid_after_one_session();
        let (model, pages) = fold(&b);
        assert_eq!(model.rows, b.state.last_seq);
        assert_eq!(pages.len(), 1, "fewer than {LOG_PAGE_ROWS} rows make one page");
        assert_eq!(pages[0].number, 1);
        let seqs: Vec<u64> = pages[0].lines.iter().map(|l| l.event.seq).collect();
        assert_eq!(seqs, (1..=b.state.last_seq).collect::<Vec<_>>());
        let signed: usize = model.signed.values().map(Vec::len).sum();
        assert_eq!(signed as u64, b.state.last_seq, "every row is someone's signed row");
        let task = &model.tasks["6_2_1_1"];
        assert!(task.first().is_some_and(|t| t.words.contains("created the task")), "{task:?}");
        assert!(task.iter().any(|t| t.words.contains("validated")), "{task:?}");
        let deposits: Amount = model.months.values().fold(Amount::ZERO, |sum, f| sum.plus(f.deposits));
        assert_eq!(deposits, b.state.treasury, "every euro in the treasury came in as a deposit");
        let last = model.days.last().expect("a day with rows");
        assert_eq!((last.treasury, last.outstanding), (b.state.treasury, b.state.outstanding));
        assert_eq!(model.amendments.first().map(|a| a.seq), Some(1), "genesis sets the first policy");
        assert_eq!(model.recent.len(), RECENT_EVENTS.min(b.rows.len()));
        assert_eq!(model.recent.back().map(|e| e.seq), Some(b.state.last_seq));
    }

    #[test]
    fn log_pages_hold_500_rows_each() {
        assert_eq!(log_page_of(1), 1);
        assert_eq!(log_page_of(LOG_PAGE_ROWS), 1);
        assert_eq!(log_page_of(LOG_PAGE_ROWS + 1), 2);
    }
}
