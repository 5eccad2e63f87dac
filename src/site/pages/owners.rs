//! The Book of Owners, a page per owner, and the owner's signed rows, page by page.

use super::{cell, money, owner_link, row_link, task_link, when, Context, Sink};
use crate::site::doc::{link, text, Block, Inline, Page, Table};
use crate::site::model::{Signed, LOG_PAGE_ROWS};
use crate::view::balances::OwnerBalance;
use anyhow::Result;

/// The roles `handle` holds, as written.
fn roles_of(ctx: &Context, handle: &str) -> Vec<String> {
    ctx.state.roles_of(handle).map(|r| r.id.clone()).collect()
}

/// The teams `handle` holds a role in, by name.
fn teams_of(ctx: &Context, handle: &str) -> Vec<String> {
    let mut teams: Vec<String> = ctx
        .state
        .roles_of(handle)
        .filter_map(|r| ctx.state.teams.get(&r.team).map(|t| t.name.clone()))
        .collect();
    teams.sort();
    teams.dedup();
    teams
}

fn joined(ctx: &Context, handle: &str) -> Vec<Inline> {
    match ctx.model.joined.get(handle) {
        Some((seq, at)) => vec![text(format!("{} (", when(*at))), row_link(*seq), text(")")],
        None => vec![text("at genesis")],
    }
}

fn listed(words: Vec<String>) -> Vec<Inline> {
    if words.is_empty() {
        vec![text("-")]
    } else {
        vec![text(words.join(", "))]
    }
}

/// The Book of Owners (`owners/index`).
pub fn index(ctx: &Context) -> Page {
    let mut page = Page::new("owners/index", "Book of Owners");
    page.para(vec![text(format!(
        "Every owner of {} by handle, as of the last row of the ledger. SK is shown after decay; the vote weight is \
         min(1.5, 1 + SK/1000), whatever the license cost or the SC held.",
        ctx.state.name
    ))]);
    let mut table = Table::new(
        "The owners",
        &["Handle", "License", "Roles", "Teams", "SC#", "SK#", "Vote weight#", "Joined"],
    );
    for o in &ctx.balances.owners {
        table.row(vec![
            vec![owner_link(&o.owner)],
            cell(&o.license),
            listed(roles_of(ctx, &o.owner)),
            listed(teams_of(ctx, &o.owner)),
            cell(money(o.sc, "SC")),
            cell(o.sk.to_string()),
            cell(o.vote_weight.to_string()),
            joined(ctx, &o.owner),
        ]);
    }
    page.push(Block::Table(table));
    page
}

/// The id of page `n` (from 1) of an owner's signed rows.
fn rows_page_id(handle: &str, n: u64) -> String {
    format!("owner-rows/{handle}/{n}")
}

fn signed_table(caption: String, rows: &[Signed]) -> Table {
    let mut table = Table::new(caption, &["Row", "Recorded", "Action"]);
    for s in rows {
        table.row(vec![vec![row_link(s.seq)], cell(when(s.at)), cell(&s.action)]);
    }
    table
}

/// Page `n` (from 1) of the rows `handle` signed.
pub fn signed_page(handle: &str, n: u64, rows: &[Signed]) -> Page {
    let mut page = Page::new(&rows_page_id(handle, n), format!("Rows {handle} signed, page {n}"));
    page.para(vec![text("Back to "), owner_link(handle), text(".")]);
    page.push(Block::Table(signed_table(format!("Rows {handle} signed, page {n}"), rows)));
    page
}

fn owner_page(ctx: &Context, o: &OwnerBalance) -> Page {
    let handle = &o.owner;
    let mut page = Page::new(&format!("owners/{handle}"), format!("Owner {handle}"));
    let mut table = Table::new(format!("{handle} as of the last row of the ledger"), &["What", "Value"]);
    table.row(vec![cell("License"), cell(&o.license)]);
    table.row(vec![cell("Roles"), listed(roles_of(ctx, handle))]);
    table.row(vec![cell("Teams"), listed(teams_of(ctx, handle))]);
    table.row(vec![cell("SC held"), cell(money(o.sc, "SC"))]);
    table.row(vec![cell("SC pending"), cell(money(o.pending_sc, "SC"))]);
    table.row(vec![cell("SK after decay"), cell(o.sk.to_string())]);
    table.row(vec![cell("Vote weight"), cell(o.vote_weight.to_string())]);
    table.row(vec![cell("Joined"), joined(ctx, handle)]);
    page.push(Block::Table(table));

    let tasks: Vec<Inline> = ctx
        .state
        .tasks
        .values()
        .filter(|t| t.attacker.as_deref() == Some(handle) || t.defender.as_deref() == Some(handle))
        .flat_map(|t| {
            let position = if t.attacker.as_deref() == Some(handle) {
                "Attacker"
            } else {
                "Defender"
            };
            [task_link(&t.id), text(format!(" ({position}); "))]
        })
        .collect();
    page.heading("Tasks");
    page.para(if tasks.is_empty() { vec![text("None.")] } else { tasks });

    page.heading("Rows signed");
    let Some(signed) = ctx.model.signed.get(handle) else {
        page.para(vec![text("None yet.")]);
        return page;
    };
    let latest: Vec<Signed> = signed.latest.iter().cloned().collect();
    let caption = format!("The latest {} of {} rows {handle} signed", latest.len(), signed.count);
    page.push(Block::Table(signed_table(caption, &latest)));
    let mut all = vec![text(format!("All of them, {LOG_PAGE_ROWS} to a page: "))];
    for n in 1..=signed.pages() {
        all.push(link(format!("page {n}"), &rows_page_id(handle, n)));
        all.push(text(if n < signed.pages() { ", " } else { "." }));
    }
    page.para(all);
    page
}

/// Hands each owner's page to `sink`.
pub fn each_page(ctx: &Context, sink: &mut dyn Sink) -> Result<()> {
    ctx.balances.owners.iter().try_for_each(|o| sink.page(owner_page(ctx, o)))
}
