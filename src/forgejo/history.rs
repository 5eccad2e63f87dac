//! The histories Forgejo shows (rows, sessions, phase and assessment of each task and
//! objective), read from the rows at HEAD into the read model's [`History`].

use crate::repo::for_each_row;
use crate::view::history::History;
use anyhow::Result;
use git2::{Oid, Repository};

/// Reads the rows of the ledger at `head` into a history.
pub fn read(repo: &Repository, head: Oid, segment_rows: u64) -> Result<History> {
    let mut history = History::default();
    for_each_row(repo, head, segment_rows, |row, location| {
        history.add(&row, location);
        Ok(true)
    })?;
    Ok(history)
}
