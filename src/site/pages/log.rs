//! The audit log: every row in seq order, 500 to a page, with who signed it, what it did in
//! words, the signing key, the commit, and where the row is stored.

use super::{cell, owner_link, when};
use crate::site::doc::{link, seq_anchor, text, Block, Inline, Page, Table, Target};
use crate::site::model::{log_page_of, LogLine, LOG_PAGE_ROWS};

/// The page listing the audit-log pages (`log/index`) of a ledger whose last row is `last_seq`.
pub fn log_index(last_seq: u64) -> Page {
    let mut page = Page::new("log/index", "Audit log");
    page.para(vec![text(format!(
        "Every row of the ledger in seq order, {LOG_PAGE_ROWS} to a page: {last_seq} rows in all. Each row is signed \
         by its actor's key; the fingerprint is shown so anyone can check it."
    ))]);
    let pages = if last_seq == 0 { 0 } else { log_page_of(last_seq) };
    let items = (1..=pages)
        .map(|n| {
            let first = (n - 1) * LOG_PAGE_ROWS + 1;
            let last = (n * LOG_PAGE_ROWS).min(last_seq);
            vec![link(format!("Rows {first} to {last}"), &format!("log/{n}"))]
        })
        .collect();
    page.push(Block::List(items));
    page
}

/// Audit-log page `n` of `lines`; `last` when no page follows it. `web` is where Forgejo
/// shows the ledger's files (`…/owner/repo/`).
pub fn log_page(n: u64, lines: &[LogLine], last: bool, web: Option<&str>) -> Page {
    let mut out = Page::new(&format!("log/{n}"), format!("Audit log, page {n}"));
    let mut nav = vec![link("All pages", "log/index")];
    if n > 1 {
        nav.push(text(" · "));
        nav.push(link("previous page", &format!("log/{}", n - 1)));
    }
    if !last {
        nav.push(text(" · "));
        nav.push(link("next page", &format!("log/{}", n + 1)));
    }
    out.para(nav.clone());
    let mut table = Table::new(
        format!(
            "Rows {} to {}",
            lines.first().map_or(0, |l| l.seq),
            lines.last().map_or(0, |l| l.seq)
        ),
        &[
            "Seq#",
            "Recorded",
            "Actor",
            "Action",
            "What it did",
            "Signing key",
            "Commit",
            "Stored in",
        ],
    );
    for l in lines {
        let short = &l.commit[..l.commit.len().min(10)];
        let place = format!("{}:{}", l.location.file, l.location.line);
        let (commit, stored) = match web {
            Some(web) => (
                vec![Inline::Link(
                    short.to_string(),
                    Target::External(format!("{web}commit/{}", l.commit)),
                )],
                vec![Inline::Link(
                    place,
                    Target::External(format!("{web}src/commit/{}/{}#L{}", l.commit, l.location.file, l.location.line)),
                )],
            ),
            None => (vec![Inline::Code(short.to_string())], vec![Inline::Code(place)]),
        };
        table.anchored_row(
            seq_anchor(l.seq),
            vec![
                cell(l.seq.to_string()),
                cell(when(l.at)),
                vec![owner_link(&l.actor)],
                cell(&l.action),
                cell(&l.words),
                vec![Inline::Code(l.key.clone())],
                commit,
                stored,
            ],
        );
    }
    out.push(Block::Table(table));
    out.para(nav);
    out
}
