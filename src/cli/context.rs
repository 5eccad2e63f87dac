//! What every command shares: the ledger folder, opening it, and printing recorded rows.

use super::exit::Usage;
use super::Global;
use crate::clerk::Ledger;
use crate::ledger::row::Row;
use anyhow::Result;
use std::path::{Path, PathBuf};

/// The folder a command works on.
pub fn ledger_dir(global: &Global) -> PathBuf {
    global.ledger.clone().unwrap_or_else(|| PathBuf::from("."))
}

/// Opens the ledger the command works on.
pub fn open(global: &Global) -> Result<Ledger> {
    Ledger::open(&ledger_dir(global))
}

/// A recorded row, as `--json` prints it.
#[derive(serde::Serialize)]
struct Recorded<'a> {
    seq: u64,
    timestamp: String,
    actor: &'a str,
    action: &'a str,
    table: &'a str,
    summary: String,
}

/// Prints what was recorded: one line per row, or one JSON array.
pub fn print_rows(global: &Global, rows: &[Row]) {
    if global.json {
        let list: Vec<Recorded> = rows
            .iter()
            .map(|r| Recorded {
                seq: r.seq,
                timestamp: r.timestamp.to_string(),
                actor: &r.actor,
                action: &r.action,
                table: &r.schema().name,
                summary: r.summary(),
            })
            .collect();
        println!("{}", serde_json::to_string(&list).unwrap_or_default());
    } else {
        for row in rows {
            println!("seq {}: {}", row.seq, row.summary());
        }
    }
}

/// Refuses a path inside the ledger's working tree for what a command writes beside the
/// ledger (`flag` names its option, `what` the thing, `beside` a name to suggest next to the
/// clone): there it would show in `git status`, and a commit of it would be refused (only
/// `tables/`, `ledger.toml` and `README.md` belong in a ledger) or, for private files, leak.
pub fn outside_the_ledger(repo: &git2::Repository, path: &Path, flag: &str, what: &str, beside: &str) -> Result<()> {
    let Some(workdir) = repo.workdir().and_then(|w| w.canonicalize().ok()) else {
        return Ok(());
    };
    if resolved(path).starts_with(&workdir) {
        return Err(Usage(format!(
            "{flag} {} is inside the ledger's working tree ({}), where {what} would show in `git status` and could be committed; \
             keep it outside, e.g. {flag} {}",
            path.display(),
            workdir.display(),
            workdir.parent().unwrap_or(&workdir).join(beside).display()
        ))
        .into());
    }
    Ok(())
}

/// `path` made absolute, with the part that exists resolved (symbolic links, `..`).
fn resolved(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut existing = absolute.as_path();
    let mut missing = Vec::new();
    while !existing.exists() {
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                missing.push(name);
                existing = parent;
            }
            _ => break,
        }
    }
    let mut out = existing.canonicalize().unwrap_or_else(|_| existing.to_path_buf());
    out.extend(missing.iter().rev());
    out
}
