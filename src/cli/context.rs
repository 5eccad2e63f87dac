//! What every command shares: the ledger folder, opening it, and printing recorded rows.

use super::Global;
use crate::clerk::Ledger;
use crate::ledger::row::Row;
use anyhow::Result;
use std::path::PathBuf;

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
