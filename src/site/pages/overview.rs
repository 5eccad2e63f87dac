//! The overview: the organisation at a glance.

use super::{cell, money, owner_link, row_link, when, Context};
use crate::site::doc::{link, text, Block, Inline, Page, Table};
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
    let t = &ctx.balances.treasury;
    let mut table = Table::new("The financial position", &["What", "Amount#"]);
    table.row(vec![vec![link("EUR treasury", "finances")], cell(money(t.eur, "EUR"))]);
    table.row(vec![cell("SC outstanding (validated)"), cell(money(t.sc_outstanding, "SC"))]);
    table.row(vec![cell("SC pending validation"), cell(money(t.sc_pending, "SC"))]);
    table.row(vec![cell("SC limit (3 × treasury)"), cell(money(t.sc_limit, "SC"))]);
    page.push(Block::Table(table));
    let health = RuleHealth::of(t.sc_outstanding, t.sc_limit);
    page.para(vec![
        text("The 3x rule is "),
        Inline::Strong(health.word().into()),
        text(format!(": {} of the limit is used.", used(t.sc_outstanding, t.sc_limit))),
    ]);

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Amount;

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
