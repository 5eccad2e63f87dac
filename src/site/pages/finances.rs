//! Finances: the treasury, SC outstanding and pending, the 3x rule, money by month and a plot
//! over time with its data beside it.

use super::overview::{used, RuleHealth};
use super::{cell, money, owner_link, task_key, task_link, when, Context};
use crate::site::doc::{text, Block, Inline, Page, Table};
use crate::site::model::Point;
use crate::site::plot;
use crate::time::format_date;
use anyhow::Result;
use std::collections::BTreeMap;

/// The finances page.
pub fn page(ctx: &Context) -> Result<Page> {
    let t = &ctx.balances.treasury;
    let mut page = Page::new("finances", "Finances");
    let health = RuleHealth::of(t.sc_outstanding, t.sc_limit);
    page.para(vec![
        text(format!(
            "1 SC is a claim on 1 EUR of the treasury. Validated SC are outstanding; assessed SC stay pending until a \
             captain validates them after the {}-hour lazy-consensus window. The 3x rule: SC outstanding never exceed \
             3 × the EUR treasury. It is ",
            ctx.state.policy.sc.lazy_consensus_hours
        )),
        Inline::Strong(health.word().into()),
        text(format!(" ({} of the limit used).", used(t.sc_outstanding, t.sc_limit))),
    ]);
    let mut table = Table::new("The position as of the last row", &["What", "Amount#"]);
    table.row(vec![cell("EUR treasury"), cell(money(t.eur, "EUR"))]);
    table.row(vec![cell("SC outstanding"), cell(money(t.sc_outstanding, "SC"))]);
    table.row(vec![cell("SC pending"), cell(money(t.sc_pending, "SC"))]);
    table.row(vec![cell("SC limit (3 × treasury)"), cell(money(t.sc_limit, "SC"))]);
    page.push(Block::Table(table));

    page.heading("SC pending validation");
    let mut table = Table::new(
        "Pending SC per task",
        &[
            "Task",
            "Attacker",
            "Attacker SC#",
            "Defender",
            "Defender SC#",
            "Window ends",
            "Status",
        ],
    );
    for p in &ctx.board.pending {
        let Some(task) = ctx.state.tasks.get(&task_key(&p.task)) else {
            continue;
        };
        let person = |who: &Option<String>| who.as_deref().map_or_else(|| cell("-"), |h| vec![owner_link(h)]);
        table.row(vec![
            vec![task_link(&p.task)],
            person(&task.attacker),
            cell(money(p.attacker_sc, "SC")),
            person(&task.defender),
            cell(money(p.defender_sc, "SC")),
            cell(when(p.window_ends)),
            cell(p.status.word()),
        ]);
    }
    if ctx.board.pending.is_empty() {
        page.para(vec![text("No SC are pending.")]);
    } else {
        page.push(Block::Table(table));
    }

    page.heading("Over time");
    let multiple = ctx.state.policy.sc.treasury_multiple.0;
    let alt = describe(&ctx.model.days);
    let svg = plot::money_over_time(&ctx.model.days, multiple, &alt)?;
    page.push(Block::Figure {
        svg,
        file: "finances-over-time.svg".into(),
        alt,
    });
    let mut table = Table::new(
        "The data of the plot: the position at the end of each month",
        &["Month", "EUR treasury#", "3 × treasury#", "SC outstanding#"],
    );
    for (month, p) in month_ends(&ctx.model.days) {
        table.row(vec![
            cell(month),
            cell(money(p.treasury, "EUR")),
            cell(money(p.treasury.times(multiple), "SC")),
            cell(money(p.outstanding, "SC")),
        ]);
    }
    page.push(Block::Table(table));

    page.heading("Deposits and payouts by month");
    let mut table = Table::new("EUR into and out of the treasury", &["Month", "Deposits#", "Payouts#"]);
    for (month, f) in &ctx.model.months {
        table.row(vec![cell(month), cell(money(f.deposits, "EUR")), cell(money(f.payouts, "EUR"))]);
    }
    page.push(Block::Table(table));
    Ok(page)
}

/// The last position of each month.
fn month_ends(days: &[Point]) -> BTreeMap<String, Point> {
    days.iter().map(|p| (format_date(p.day)[..7].to_string(), *p)).collect()
}

/// The plot in words: its span and where each line starts and ends.
fn describe(days: &[Point]) -> String {
    match (days.first(), days.last()) {
        (Some(first), Some(last)) => format!(
            "Line chart from {} to {}: the EUR treasury went from {} to {}, SC outstanding from {} to {}; the 3 × \
             treasury line is the limit SC outstanding must stay under.",
            format_date(first.day),
            format_date(last.day),
            money(first.treasury, "EUR"),
            money(last.treasury, "EUR"),
            money(first.outstanding, "SC"),
            money(last.outstanding, "SC"),
        ),
        _ => "Line chart of the treasury and SC outstanding: the ledger has no rows yet.".into(),
    }
}
