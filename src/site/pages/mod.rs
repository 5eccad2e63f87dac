//! The pages of the site, each built from the verified state at the site's commit, the read
//! model of `view` and the folded history of [`super::model`].

mod decisions;
mod finances;
#[cfg(test)]
pub mod fixture;
mod log;
mod overview;
mod owners;
mod rules;
mod tasks;
mod verify;

pub use log::{log_index, log_page};
pub use owners::signed_page;

use super::doc::{link, link_to, seq_anchor, text, Inline, Page, Table};
use super::histories::Histories;
use super::model::{log_page_of, Model, Told};
use crate::ledger::ids::{numeric_identity, IdKind};
use crate::money::Amount;
use crate::rules::State;
use crate::time::{format_date, Timestamp, DAY, HOUR};
use crate::view::balances::{balances, Balances};
use crate::view::proposals::{all_proposals, tranches, ProposalView, TrancheView};
use crate::view::status::{board, Board};
use anyhow::Result;

/// The instant the site shows the ledger at: its last row (never the time of the build, so
/// the same ledger gives the same pages).
fn as_of(state: &State) -> Timestamp {
    state.last_timestamp.unwrap_or(Timestamp(0))
}

/// Everything a page is built from.
pub struct Context<'a> {
    /// The verified state at the site's commit.
    pub state: &'a State,
    /// The folded history.
    pub model: &'a Model,
    /// The task board as of the last row.
    pub board: Board,
    /// Balances as of the last row.
    pub balances: Balances,
    /// Every proposal, open and closed, oldest first, as of the last row.
    pub proposals: Vec<ProposalView>,
    /// The tranches of retrospective awards.
    pub tranches: Vec<TrancheView>,
    /// The commit the site is built from.
    pub commit: String,
    /// The ledger's root commit (the trust anchor readers pin).
    pub genesis: String,
    /// The ledger repository in the Forgejo web UI (`https://forge/org/ledger/`), if known.
    pub web: Option<String>,
}

impl<'a> Context<'a> {
    /// The context of the pages of `state` (the verified state at `commit`) and `model`.
    pub fn new(state: &'a State, model: &'a Model, commit: String, web: Option<String>) -> Context<'a> {
        let balances = balances(state, as_of(state));
        Context {
            state,
            model,
            board: board(state, balances.at),
            proposals: all_proposals(state, balances.at),
            tranches: tranches(state),
            balances,
            commit,
            genesis: model.genesis.clone(),
            web,
        }
    }
}

/// What the build a site goes on from showed: a task's or a proposal's page is built again
/// only when its line changed or it got rows.
pub struct Earlier {
    /// The task board then.
    pub board: Board,
    /// The proposals then.
    pub proposals: Vec<ProposalView>,
}

impl Earlier {
    /// What the pages showed of `state` (the state of the earlier build).
    pub fn of(state: &State) -> Earlier {
        Earlier {
            board: board(state, as_of(state)),
            proposals: all_proposals(state, as_of(state)),
        }
    }
}

/// Where built pages go, one at a time.
pub trait Sink {
    /// Takes a built page.
    fn page(&mut self, page: Page) -> Result<()>;
}

/// Hands the pages that show the state to `sink`: the main pages, every owner's page, and
/// the page of every task and proposal that got rows in this build or whose line changed
/// since `earlier` (what the build this one goes on from showed; every one without it).
/// The audit log's and the owners' numbered pages of rows are built as the history is read.
pub fn each(ctx: &Context, histories: &mut Histories, earlier: Option<&Earlier>, sink: &mut dyn Sink) -> Result<()> {
    sink.page(overview::page(ctx))?;
    sink.page(finances::page(ctx)?)?;
    sink.page(owners::index(ctx))?;
    sink.page(tasks::index(ctx))?;
    sink.page(decisions::index(ctx))?;
    sink.page(rules::page(ctx))?;
    sink.page(verify::page(ctx))?;
    sink.page(log_index(ctx.state.last_seq))?;
    owners::each_page(ctx, sink)?;
    tasks::each_page(ctx, histories, earlier.map(|e| &e.board), sink)?;
    decisions::each_page(ctx, histories, earlier.map(|e| e.proposals.as_slice()), sink)
}

/// A link to a row's line on the audit log: `seq 42`.
pub fn row_link(seq: u64) -> Inline {
    link_to(format!("seq {seq}"), &format!("log/{}", log_page_of(seq)), seq_anchor(seq))
}

/// A link to an owner's page.
pub fn owner_link(handle: &str) -> Inline {
    link(handle, &format!("owners/{handle}"))
}

/// A task's numeric identity (`6_2_1_1` of `6_2_1_1_logo`): the key of its page and of the
/// state's task map.
pub fn task_key(id: &str) -> String {
    numeric_identity(id, IdKind::Task).unwrap_or_else(|_| id.to_string())
}

/// A link to a task's page, named by its id as written.
pub fn task_link(id: &str) -> Inline {
    link(id, &format!("tasks/{}", task_key(id)))
}

/// A time as people read it: `2026-01-07 13:00 UTC`.
pub fn when(at: Timestamp) -> String {
    let shown = at.to_string();
    format!("{} {} UTC", format_date(at.day()), &shown[11..16])
}

/// A time still to run, as people read it: `6 days 23 h`, `5 h 30 min`, `12 min`.
pub fn time_left(seconds: i64) -> String {
    let (days, hours, minutes) = (seconds / DAY, seconds % DAY / HOUR, seconds % HOUR / 60);
    match (days, hours) {
        (0, 0) => format!("{minutes} min"),
        (0, _) => format!("{hours} h {minutes:02} min"),
        (1, _) => format!("1 day {hours} h"),
        _ => format!("{days} days {hours} h"),
    }
}

/// The rows of a task's or a proposal's history, each linked to the audit log.
pub fn history_table(caption: String, history: &[Told]) -> Table {
    let mut table = Table::new(caption, &["Row", "Recorded", "What happened"]);
    for told in history {
        table.row(vec![vec![row_link(told.seq)], cell(when(told.at)), cell(&told.words)]);
    }
    table
}

/// An amount with its unit: `1,234.50 EUR`.
pub fn money(amount: Amount, unit: &str) -> String {
    let plain = amount.to_string();
    let (sign, digits) = plain.strip_prefix('-').map_or(("", plain.as_str()), |d| ("-", d));
    let (whole, cents) = digits.split_once('.').unwrap_or((digits, "00"));
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}{grouped}.{cents} {unit}")
}

/// A percentage without trailing zeros: `20%`, `39.9%`, `100%`.
pub fn percent(value: Amount) -> String {
    let shown = value.to_string();
    format!("{}%", shown.trim_end_matches('0').trim_end_matches('.'))
}

/// A cell of plain text.
fn cell(words: impl Into<String>) -> Vec<Inline> {
    vec![text(words)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_grouped_and_times_are_readable() {
        assert_eq!(money("1234567.5".parse().unwrap(), "EUR"), "1,234,567.50 EUR");
        assert_eq!(money("-44.55".parse().unwrap(), "SC"), "-44.55 SC");
        assert_eq!(money(Amount::ZERO, "SC"), "0.00 SC");
        assert_eq!(percent(Amount::units(20)), "20%");
        assert_eq!(percent("39.90".parse().unwrap()), "39.9%");
        assert_eq!(percent("100".parse().unwrap()), "100%");
        assert_eq!(percent(Amount::ZERO), "0%");
        assert_eq!(when("2026-01-07T13:05:09Z".parse().unwrap()), "2026-01-07 13:05 UTC");
    }

    #[test]
    fn time_left_reads_in_days_hours_and_minutes() {
        assert_eq!(time_left(6 * DAY + 23 * HOUR + 59 * 60), "6 days 23 h");
        assert_eq!(time_left(DAY + 60), "1 day 0 h");
        assert_eq!(time_left(5 * HOUR + 30 * 60), "5 h 30 min");
        assert_eq!(time_left(12 * 60 + 59), "12 min");
        assert_eq!(time_left(0), "0 min");
    }
}
