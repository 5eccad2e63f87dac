//! `smartup journal`: the ledger's money as a plain-text accounting journal for hledger or
//! Ledger (see [`crate::view::journal`]).

use super::context::ledger_dir;
use super::read::write_atomically;
use super::Global;
use crate::ledger::row::Row;
use crate::rules::State;
use crate::verify::{self, Options};
use crate::view::events::event_of;
use crate::view::journal::{header, transaction, Money};
use anyhow::{Context, Result};
use clap::Args;
use std::cell::RefCell;
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `journal`.
#[derive(Args, Debug, Clone)]
pub struct JournalArgs {
    /// Write to this file instead of standard output
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

/// A row whose transaction waits for the state after it.
struct Waiting {
    row: Row,
    words: String,
    before: Money,
}

/// Replays the ledger from genesis and writes one transaction per row that moved money.
pub fn journal(global: &Global, args: &JournalArgs) -> Result<()> {
    // One replay from genesis: the state cache is not read, since every state is needed.
    let dir = ledger_dir(global);
    let repo = crate::repo::open(&dir)?;
    let (head, _) = crate::repo::head(&repo, &dir)?;
    let folding = RefCell::new((String::new(), None::<Waiting>));
    let observe = |row: &Row, _: &crate::ledger::row::Location, _: git2::Oid, before: &State| {
        let (out, waiting) = &mut *folding.borrow_mut();
        let now = Money::of(before);
        if let Some(w) = waiting.take() {
            out.extend(transaction(&w.row, &w.words, &w.before, &now));
        }
        *waiting = Some(Waiting {
            row: row.clone(),
            words: event_of(row, before).words,
            before: now,
        });
    };
    let options = Options {
        observe: Some(&observe),
        read_ahead: true,
        ..Options::default()
    };
    let report = verify::walk_from(&repo, None, head, &options)?;
    if let Some(first) = report.findings.first() {
        anyhow::bail!("the ledger is broken at {first}; run `smartup verify` for the full list");
    }
    let state = report.state.context("the ledger has no rows")?;
    let (transactions, waiting) = folding.into_inner();
    let mut text = header(&state.name, &state.ledger_id, &head.to_string());
    text.push_str(&transactions);
    if let Some(w) = waiting {
        text.extend(transaction(&w.row, &w.words, &w.before, &Money::of(&state)));
    }
    match &args.output {
        Some(path) => write_atomically(path, text.as_bytes()),
        None => std::io::stdout()
            .write_all(text.as_bytes())
            .context("cannot write to standard output"),
    }
}
