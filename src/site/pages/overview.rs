//! The overview: the organisation at a glance.

use super::decisions::{is_open, proposal_link, status};
use super::finances::position;
use super::{cell, owner_link, row_link, when, Context};
use crate::site::doc::{link, text, Block, Inline, Page, Table};
use crate::view::balances::Treasury;
use crate::view::proposals::ProposalStatus;
use crate::view::status::TaskStatus;
use std::collections::BTreeMap;

/// The state of the 3x rule: SC outstanding against 3 × the treasury.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleHealth {
    /// At most 80% of the limit is used.
    Ok,
    /// More than 80% of the limit is used.
    AtRisk,
    /// Outstanding SC exceed the limit.
    Broken,
}

impl RuleHealth {
    /// The health of `outstanding` against `limit`.
    pub fn of(outstanding: crate::money::Amount, limit: crate::money::Amount) -> RuleHealth {
        if outstanding > limit {
            RuleHealth::Broken
        } else if i128::from(outstanding.0) * 100 > i128::from(limit.0) * 80 {
            RuleHealth::AtRisk
        } else {
            RuleHealth::Ok
        }
    }

    /// The word people read.
    pub fn word(self) -> &'static str {
        match self {
            RuleHealth::Ok => "ok",
            RuleHealth::AtRisk => "at risk (above 80% of the limit)",
            RuleHealth::Broken => "broken (above the limit)",
        }
    }
}

/// The share of the limit in use, as `12.5%` (or `-` without a limit).
pub fn used(outstanding: crate::money::Amount, limit: crate::money::Amount) -> String {
    if limit.0 <= 0 {
        return "-".into();
    }
    let tenths = i128::from(outstanding.0) * 1000 / i128::from(limit.0);
    format!("{}.{}%", tenths / 10, tenths % 10)
}

/// How the 3x rule stands, to follow "The 3x rule is": `**ok**: 0.3% of the limit is used.`
pub fn rule_standing(t: &Treasury) -> Vec<Inline> {
    vec![
        Inline::Strong(RuleHealth::of(t.sc_outstanding, t.sc_limit).word().into()),
        text(format!(": {} of the limit is used.", used(t.sc_outstanding, t.sc_limit))),
    ]
}

/// The overview page (`index`).
pub fn page(ctx: &Context) -> Page {
    let state = ctx.state;
    let mut page = Page::new("index", format!("{} at a glance", state.name));
    page.para(vec![
        text(format!(
            "Everything on this site is computed from the signed ledger of {}, after checking every signature, as of row ",
            state.name
        )),
        row_link(state.last_seq),
        text(format!(" ({}).", ctx.board.last_at.map_or("-".into(), when))),
    ]);

    page.heading("Money");
    page.push(Block::Table(position(ctx, true)));
    let mut standing = vec![text("The 3x rule is ")];
    standing.extend(rule_standing(&ctx.balances.treasury));
    page.para(standing);

    page.heading("Owners");
    let mut by_license: BTreeMap<&str, usize> = BTreeMap::new();
    for o in &ctx.balances.owners {
        *by_license.entry(o.license.as_str()).or_default() += 1;
    }
    let mut table = Table::new("Owners by license", &["License", "Owners#"]);
    for (license, count) in &by_license {
        table.row(vec![cell(*license), cell(count.to_string())]);
    }
    page.push(Block::Table(table));
    page.para(vec![link("The Book of Owners", "owners/index"), text(" lists every owner.")]);

    page.heading("Teams");
    let mut table = Table::new("Teams and their captains", &["Team", "Name", "Captain"]);
    for (id, team) in &state.teams {
        let captain: Vec<Inline> = state
            .roles
            .values()
            .filter(|r| r.team == *id && r.position == "captain")
            .filter_map(|r| r.holder.as_deref())
            .map(owner_link)
            .collect();
        let captain = if captain.is_empty() { vec![text("none")] } else { captain };
        table.row(vec![cell(&team.id), cell(&team.name), captain]);
    }
    page.push(Block::Table(table));

    page.heading("Work");
    let mut table = Table::new("Tasks by status", &["Status", "Tasks#"]);
    for status in TaskStatus::ALL {
        table.row(vec![cell(status.word()), cell(ctx.board.with_status(status).count().to_string())]);
    }
    page.push(Block::Table(table));
    page.para(vec![link("Every task and objective", "tasks/index"), text(".")]);

    decisions(ctx, &mut page);

    page.heading("Latest events");
    let items = ctx
        .model
        .recent
        .iter()
        .rev()
        .map(|e| vec![row_link(e.seq), text(format!(" {}: {}", when(e.at), e.words))])
        .collect();
    page.push(Block::List(items));
    page.para(vec![link("The audit log", "log/index"), text(" has every row.")]);
    page
}

/// The open proposals, and a link to every decision.
fn decisions(ctx: &Context, page: &mut Page) {
    page.heading("Decisions");
    if ctx.proposals.is_empty() {
        page.para(vec![
            text("No proposal has been made yet. "),
            link("How decisions are made", "decisions/index"),
            text("."),
        ]);
        return;
    }
    let open: Vec<Vec<Inline>> = ctx
        .proposals
        .iter()
        .filter(|p| is_open(p))
        .map(|p| vec![proposal_link(p), text(format!(": {}, closes {}", status(p), when(p.closes_at)))])
        .collect();
    if open.is_empty() {
        page.para(vec![text("No proposal is open.")]);
    } else {
        page.para(vec![text("Open proposals:")]);
        page.push(Block::List(open));
    }
    let passed = ctx.proposals.iter().filter(|p| p.status == ProposalStatus::Passed).count();
    let failed = ctx.proposals.iter().filter(|p| p.status == ProposalStatus::Failed).count();
    page.para(vec![
        link("Every proposal and decision", "decisions/index"),
        text(format!(": {passed} passed and {failed} failed so far.")),
    ]);
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{governed, plain, row, table};
    use super::*;
    use crate::money::Amount;

    #[test]
    fn the_overview_shows_sc_pending_in_tranches_and_the_open_proposals() {
        let dir = tempfile::tempdir().unwrap();
        let g = governed(dir.path());
        let ctx = Context::new(&g.book.state, &g.model, "c0ffee".into(), None);
        let page = page(&ctx);
        let position = table(&page, "The financial position as of the last row");
        assert_eq!(row(position, "[EUR treasury](finances)")[1], "1,000.00 EUR");
        assert_eq!(row(position, "SC pending in tranches")[1], "82,100.00 SC");
        let open: Vec<String> = page
            .blocks
            .iter()
            .find_map(|b| match b {
                Block::List(items) if items.iter().any(|i| plain(i).contains("(decisions/")) => Some(items),
                _ => None,
            })
            .expect("a list of open proposals")
            .iter()
            .map(|i| plain(i))
            .collect();
        assert_eq!(open.len(), 2, "{open:?}");
        assert!(open[0].starts_with(&format!("[{}: Adopt the code of conduct](decisions/{})", g.voting, g.voting)));
        assert!(open[0].contains(": voting (failing so far), closes "), "{open:?}");
        assert!(open[1].contains(": lazy consensus, closes "), "{open:?}");
    }

    #[test]
    fn the_3x_rule_is_ok_at_risk_above_80_percent_and_broken_above_the_limit() {
        let limit = Amount::units(300);
        assert_eq!(RuleHealth::of(Amount::units(240), limit), RuleHealth::Ok);
        assert_eq!(RuleHealth::of("240.01".parse().unwrap(), limit), RuleHealth::AtRisk);
        assert_eq!(RuleHealth::of(Amount::units(300), limit), RuleHealth::AtRisk);
        assert_eq!(RuleHealth::of("300.01".parse().unwrap(), limit), RuleHealth::Broken);
        assert_eq!(RuleHealth::of(Amount::ZERO, Amount::ZERO), RuleHealth::Ok);
        assert_eq!(used(Amount::units(60), limit), "20.0%");
        assert_eq!(used(Amount::units(1), Amount::ZERO), "-");
    }
}
