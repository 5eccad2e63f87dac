//! Currency rules: the policy in force, in words and tables, and its amendments.

use super::decisions::proposal_link;
use super::{cell, money, owner_link, row_link, when, Context};
use crate::ledger::policy::Dec;
use crate::site::doc::{text, Block, Inline, Page, Table};
use std::collections::BTreeMap;

fn amounts(caption: &str, head: &[&str], values: &BTreeMap<String, Dec>, unit: &str) -> Block {
    let mut table = Table::new(caption, head);
    for (name, value) in values {
        table.row(vec![cell(name.replace('_', " ")), cell(money(value.0, unit))]);
    }
    Block::Table(table)
}

/// The currency rules page (`rules`).
pub fn page(ctx: &Context) -> Page {
    let p = &ctx.state.policy;
    let mut page = Page::new("rules", "Currency rules");
    page.para(vec![text(
        "The rules in force, from the ledger's policy file (ledger.toml). Every change to it is a signed amendment row \
         naming the hash of the new file; they are listed at the end.",
    )]);

    page.heading("Smartup Credits (SC)");
    page.push(Block::List(vec![
        vec![text("1 SC is a claim on 1 EUR of the treasury; SC carry no voting power.")],
        vec![text(format!(
            "SC outstanding may be at most {} × the EUR treasury; a payout must leave {} in the treasury.",
            p.sc.treasury_multiple.0,
            money(p.sc.treasury_reserve.0, "EUR")
        ))],
        vec![text(format!(
            "Assessed SC stay pending for a lazy-consensus window of {} hours; then a captain who is not a recipient \
             validates them.",
            p.sc.lazy_consensus_hours
        ))],
        vec![text(format!(
            "Pending SC above {} need a community review with {} approvals by non-recipients.",
            money(p.sc.community_review_above.0, "SC"),
            p.sc.community_review_approvals
        ))],
        vec![text(format!(
            "Work older than {} days cannot be claimed. The Attacker receives {}% and the Defender {}% of a task's \
             payout.",
            p.sc.retroactive_days, p.adm.attacker_percent.0, p.adm.defender_percent.0
        ))],
    ]));
    page.push(amounts("Task budgets by size", &["Size", "Budget#"], &p.budgets.sizes, "SC"));
    page.push(amounts("Special budgets", &["Kind", "Budget#"], &p.budgets.specials, "SC"));
    let mut table = Table::new("Phase multipliers", &["Phase", "Multiplier#"]);
    for (phase, factor) in &p.phases {
        table.row(vec![cell(phase), cell(factor.0.to_string())]);
    }
    page.push(Block::Table(table));
    let mut table = Table::new(
        "Assessment: the three scores' total gives the payout share",
        &["Total from#", "Total to#", "Share from#", "Share to#"],
    );
    for band in &p.assessment.bands {
        table.row(vec![
            cell(band.min_total.to_string()),
            cell(band.max_total.to_string()),
            cell(format!("{}%", band.min_percent.0)),
            cell(format!("{}%", band.max_percent.0)),
        ]);
    }
    page.push(Block::Table(table));
    page.para(vec![text(format!(
        "A share below {}% needs a captain's approval.",
        p.assessment.approval_needed_below_percent.0
    ))]);

    page.heading("Licenses");
    let mut table = Table::new(
        "What each license allows",
        &[
            "License",
            "Earns SC",
            "SK per day at most#",
            "SC per day at most#",
            "Price#",
            "SK to move up#",
        ],
    );
    for (name, l) in &p.licenses {
        let price = p.prices.get(name).map_or("-".into(), |d| money(d.0, "EUR"));
        let upgrade = p.upgrades.get(name).map_or("-".into(), |d| d.0.to_string());
        table.row(vec![
            cell(name),
            cell(if l.earns_sc { "yes" } else { "no" }),
            cell(l.sk_per_day.0.to_string()),
            cell(if l.earns_sc { l.sc_per_day.0.to_string() } else { "-".into() }),
            cell(price),
            cell(upgrade),
        ]);
    }
    page.push(Block::Table(table));

    page.heading("Social Karma (SK)");
    page.para(vec![text(format!(
        "SK cannot be bought or transferred. It decays {}% a month after {} days without earning. The vote weight is \
         min(1.5, 1 + SK/1000).",
        p.sk.decay_percent_per_month.0, p.sk.decay_grace_days
    ))]);
    let mut table = Table::new("SK thresholds", &["To", "SK needed#"]);
    for (what, value) in [
        ("propose", p.sk.propose),
        ("become team captain", p.sk.captain),
        ("become mission leader", p.sk.mission_leader),
        ("lead missions", p.sk.lead_missions),
        ("join the leadership team", p.sk.leadership_team),
    ] {
        table.row(vec![cell(what), cell(value.0.to_string())]);
    }
    page.push(Block::Table(table));
    page.push(amounts("SK awards by reason", &["Reason", "SK#"], &p.sk.awards, "SK"));

    page.heading("Amendments");
    let mut table = Table::new(
        "Genesis and every amendment of the policy",
        &["Row", "Recorded", "By", "Allowed by", "Policy hash"],
    );
    for (i, a) in ctx.model.amendments.iter().enumerate() {
        let allowed = match ctx.proposals.iter().find(|p| p.applied_by == Some(a.seq)) {
            Some(p) => vec![text("proposal "), proposal_link(p)],
            None if i == 0 => cell("the founding of the ledger"),
            None => cell("a leadership captain, in the bootstrap phase"),
        };
        table.row(vec![
            vec![row_link(a.seq)],
            cell(when(a.at)),
            vec![owner_link(&a.actor)],
            allowed,
            vec![Inline::Code(a.reference.clone())],
        ]);
    }
    page.push(Block::Table(table));
    page
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{amended, fold, plain, row, table};
    use super::*;
    use crate::rules::test_support::Book;

    #[test]
    fn each_amendment_shows_what_allowed_it() {
        let mut b = Book::organisation();
        b.ok(
            "founder",
            "amend-policy",
            &[("subject", "ledger.toml"), ("reference", &format!("sha256:{}", "1".repeat(64)))],
        );
        let alone = b.state.last_seq;
        let (proposal, by_vote) = amended(&mut b);
        let dir = tempfile::tempdir().unwrap();
        let (model, _, _) = fold(&b, dir.path());
        let ctx = Context::new(&b.state, &model, "c0ffee".into(), None);
        let page = page(&ctx);
        let amendments = table(&page, "Genesis and every amendment of the policy");
        let allowed = |seq: u64| row(amendments, &plain(&[row_link(seq)]))[3].clone();
        assert_eq!(allowed(1), "the founding of the ledger");
        assert_eq!(allowed(alone), "a leadership captain, in the bootstrap phase");
        assert_eq!(
            allowed(by_vote),
            format!("proposal [{proposal}: A quorum of 25%](decisions/{proposal})")
        );
    }
}
