//! The pages of the site, each built from the verified state at the site's commit, the read
//! model of `view` and the folded history of [`super::model`].

mod finances;
mod log;
mod overview;
mod owners;
mod rules;
mod tasks;
mod verify;

pub use log::{log_index, log_page};
pub use owners::signed_page;

use super::doc::{link, link_to, seq_anchor, text, Inline, Page};
use super::histories::TaskHistories;
use super::model::{log_page_of, Model};
use crate::ledger::ids::{numeric_identity, IdKind};
use crate::money::Amount;
use crate::rules::State;
use crate::time::{format_date, Timestamp};
use crate::view::balances::Balances;
use crate::view::status::Board;
use anyhow::Result;

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
    /// The commit the site is built from.
    pub commit: String,
    /// The ledger's root commit (the trust anchor readers pin).
    pub genesis: String,
    /// The ledger repository in the Forgejo web UI (`https://forge/org/ledger/`), if known.
    pub web: Option<String>,
}

/// Where built pages go, one at a time.
pub trait Sink {
    /// Takes a built page.
    fn page(&mut self, page: Page) -> Result<()>;
}

/// Hands the pages that show the state to `sink`: the main pages, every owner's page, and
/// the page of every task that got rows in this build or whose line on the board changed
/// since `before` (the board of the build this one goes on from; every task without one).
/// The audit log's and the owners' numbered pages of rows are built as the history is read.
pub fn each(ctx: &Context, tasks: &mut TaskHistories, before: Option<&Board>, sink: &mut dyn Sink) -> Result<()> {
    sink.page(overview::page(ctx))?;
    sink.page(finances::page(ctx)?)?;
    sink.page(owners::index(ctx))?;
    sink.page(tasks::index(ctx))?;
    sink.page(rules::page(ctx))?;
    sink.page(verify::page(ctx))?;
    sink.page(log_index(ctx.state.last_seq))?;
    owners::each_page(ctx, sink)?;
    tasks::each_page(ctx, tasks, before, sink)
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
        assert_eq!(when("2026-01-07T13:05:09Z".parse().unwrap()), "2026-01-07 13:05 UTC");
    }
}
