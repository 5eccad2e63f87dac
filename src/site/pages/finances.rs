//! Finances: the treasury, SC outstanding and pending, the 3x rule, money by month and a plot
//! over time with its data beside it.

use super::overview::rule_standing;
use super::{cell, money, owner_link, row_link, task_key, task_link, when, Context};
use crate::site::doc::{link, text, Block, Inline, Page, Table};
use crate::site::model::Point;
use crate::site::plot;
use crate::time::format_date;
use anyhow::Result;
use std::collections::BTreeMap;

/// The finances page.
pub fn page(ctx: &Context) -> Result<Page> {
    let t = &ctx.balances.treasury;
    let mut page = Page::new("finances", "Finances");
    let mut intro = vec![text(format!(
        "1 SC is a claim on 1 EUR of the treasury. Validated SC are outstanding; assessed SC stay pending until a \
         captain validates them after the {}-hour lazy-consensus window, and retrospective awards stay pending in \
         tranches until a decision releases them. The 3x rule: SC outstanding never exceed 3 × the EUR treasury. It \
         is ",
        ctx.state.policy.sc.lazy_consensus_hours
    ))];
    intro.extend(rule_standing(t));
    page.para(intro);
    page.push(Block::Table(position(ctx, false)));
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

    tranches(ctx, &mut page);

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

/// The financial position as of the last row: EUR treasury, SC outstanding, SC pending
/// validation, SC pending in tranches (never outstanding) and the 3x limit; `linked` names the
/// finances page from the first line (on the overview).
pub fn position(ctx: &Context, linked: bool) -> Table {
    let t = &ctx.balances.treasury;
    let eur = if linked {
        vec![link("EUR treasury", "finances")]
    } else {
        cell("EUR treasury")
    };
    let mut table = Table::new("The financial position as of the last row", &["What", "Amount#"]);
    table.row(vec![eur, cell(money(t.eur, "EUR"))]);
    table.row(vec![cell("SC outstanding (validated)"), cell(money(t.sc_outstanding, "SC"))]);
    table.row(vec![cell("SC pending validation"), cell(money(t.sc_pending, "SC"))]);
    table.row(vec![
        cell("SC pending in tranches"),
        cell(money(ctx.state.tranches_pending(), "SC")),
    ]);
    table.row(vec![cell("SC limit (3 × treasury)"), cell(money(t.sc_limit, "SC"))]);
    table
}

/// The tranches of retrospective awards: what each holds, what is released and pending, its
/// trigger and who votes on its release.
fn tranches(ctx: &Context, page: &mut Page) {
    page.heading("Retrospective awards in tranches");
    if ctx.tranches.is_empty() {
        page.para(vec![text("The policy lists no tranches.")]);
        return;
    }
    page.para(vec![text(format!(
        "Work done before the ledger is awarded as SC pending in tranches: {} in all. They are not outstanding and do \
         not count under the 3x rule until a release row moves them to their recipient, once the tranche's \
         trigger holds and, where the policy names voters, a tranche-release proposal passed. Their recipient can \
         never release them.",
        money(ctx.state.tranches_pending(), "SC")
    ))]);
    let mut table = Table::new(
        "Tranches of retrospective awards",
        &[
            "Tranche",
            "Recipient",
            "Reason",
            "Amount#",
            "Released#",
            "Pending#",
            "Trigger",
            "Released by",
            "Release rows",
        ],
    );
    for t in &ctx.tranches {
        let holds = if t.triggered { "holds" } else { "does not hold yet" };
        let voters = if t.voters.is_empty() {
            "no vote: anyone but the recipient, once triggered".to_string()
        } else {
            format!("a vote of {}", t.voters.join(" and "))
        };
        let rows: Vec<Inline> = ctx.model.releases.get(&t.id).map_or_else(Vec::new, |seqs| {
            seqs.iter()
                .enumerate()
                .flat_map(|(i, seq)| [text(if i == 0 { "" } else { ", " }), row_link(*seq)])
                .collect()
        });
        table.row(vec![
            cell(&t.id),
            vec![owner_link(&t.recipient)],
            cell(&t.reason),
            cell(money(t.amount, "SC")),
            cell(money(t.released, "SC")),
            cell(money(t.pending, "SC")),
            cell(format!("{} ({holds})", t.trigger)),
            cell(voters),
            if rows.is_empty() { cell("none yet") } else { rows },
        ]);
    }
    page.push(Block::Table(table));
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

#[cfg(test)]
mod tests {
    use super::super::fixture::{governed, log_link, row, table};
    use super::*;

    #[test]
    fn sc_pending_in_tranches_are_a_line_of_their_own_and_each_tranche_shows_its_releases() {
        let dir = tempfile::tempdir().unwrap();
        let g = governed(dir.path());
        let ctx = Context::new(&g.book.state, &g.model, "c0ffee".into(), None);
        let page = page(&ctx).unwrap();
        let position = table(&page, "The financial position as of the last row");
        // The template's tranches hold 82,200 SC; the fixture released 100 of them.
        assert_eq!(row(position, "SC pending in tranches")[1], "82,100.00 SC");
        assert_eq!(
            row(position, "SC outstanding (validated)")[1],
            "100.00 SC",
            "only the release is outstanding"
        );
        assert_eq!(row(position, "SC pending validation")[1], "0.00 SC");

        let tranches = table(&page, "Tranches of retrospective awards");
        assert_eq!(
            row(tranches, "organisation")[1..],
            [
                "[founder](owners/founder)",
                "organisation phase of ten years of prior work",
                "24,660.00 SC",
                "100.00 SC",
                "24,560.00 SC",
                "market-launch declared by vote (holds)",
                "no vote: anyone but the recipient, once triggered",
                &log_link(g.release),
            ]
        );
        let production = row(tranches, "production");
        assert_eq!(production[5], "32,880.00 SC");
        assert!(production[6].ends_with("(does not hold yet)"), "{production:?}");
        assert_eq!(production[7..], ["a vote of owners", "none yet"]);
    }
}
