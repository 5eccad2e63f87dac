//! The Book of Owners, a page per owner, and the owner's signed rows, page by page.

use super::{cell, money, owner_link, row_link, task_link, when, Context, Sink};
use crate::site::doc::{link, text, Block, Inline, Page, Table};
use crate::site::model::Signed;
use crate::view::balances::OwnerBalance;
use anyhow::Result;

/// Rows on one page of an owner's signed rows.
const ROWS_PER_PAGE: usize = 500;
/// Rows the owner's own page shows (the latest).
const LATEST: usize = 20;

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
fn rows_page_id(handle: &str, n: usize) -> String {
    format!("owner-rows/{handle}/{n}")
}

fn signed_table(caption: String, rows: &[Signed]) -> Table {
    let mut table = Table::new(caption, &["Row", "Recorded", "Action"]);
    for s in rows {
        table.row(vec![vec![row_link(s.seq)], cell(when(s.at)), cell(s.action.name())]);
    }
    table
}

fn owner_pages(ctx: &Context, o: &OwnerBalance, sink: &mut dyn Sink) -> Result<()> {
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
            let position = if t.attacker.as_deref() == Some(handle) { "Attacker" } else { "Defender" };
            [task_link(&t.id), text(format!(" ({position}); "))]
        })
        .collect();
    page.heading("Tasks");
    page.para(if tasks.is_empty() { vec![text("None.")] } else { tasks });

    let signed = ctx.model.signed.get(handle).map_or(&[][..], Vec::as_slice);
    page.heading("Rows signed");
    let latest = &signed[signed.len().saturating_sub(LATEST)..];
    page.push(Block::Table(signed_table(format!("The latest {} of {} rows {handle} signed", latest.len(), signed.len()), latest)));
    let chunks: Vec<&[Signed]> = signed.chunks(ROWS_PER_PAGE).collect();
    let mut all = vec![text("All of them: ")];
    for (i, chunk) in chunks.iter().enumerate() {
        let (first, last) = (chunk[0].seq, chunk[chunk.len() - 1].seq);
        all.push(link(format!("seq {first}–{last}"), &rows_page_id(handle, i + 1)));
        all.push(text(if i + 1 < chunks.len() { ", " } else { "." }));
    }
    if !chunks.is_empty() {
        page.para(all);
    }
    sink.page(page)?;
    for (i, chunk) in chunks.iter().enumerate() {
        let id = rows_page_id(handle, i + 1);
        let inputs = format!("{}-{}-{}", chunk[0].seq, chunk[chunk.len() - 1].seq, chunk.len());
        if sink.kept(&id, &inputs) {
            continue;
        }
        let mut rows = Page::new(&id, format!("Rows {handle} signed, page {}", i + 1));
        rows.para(vec![text("Back to "), owner_link(handle), text(".")]);
        rows.push(Block::Table(signed_table(format!("Rows {handle} signed, page {}", i + 1), chunk)));
        sink.page(rows)?;
    }
    Ok(())
}

/// Hands each owner's page and their signed-row pages to `sink`.
pub fn each_page(ctx: &Context, sink: &mut dyn Sink) -> Result<()> {
    ctx.balances.owners.iter().try_for_each(|o| owner_pages(ctx, o, sink))
}
