//! Reading the ledger: `status`, `balance`, `log` and `export`.

use super::context::open;
use super::Global;
use crate::ledger::row::Row;
use crate::ledger::schema;
use crate::ledger::segment;
use crate::money::Amount;
use crate::rules::state::TaskState;
use crate::time::{Timestamp, HOUR};
use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use serde_json::json;
use std::io::Write;
use std::path::PathBuf;

/// Prints the state of work: tasks by state, open sessions, pending SC with their windows.
pub fn status(global: &Global) -> Result<()> {
    let ledger = open(global)?;
    let s = &ledger.state;
    let now = Timestamp::now();
    let window = s.policy.sc.lazy_consensus_hours * HOUR;
    let tasks: Vec<_> = s
        .tasks
        .values()
        .map(|t| json!({"task": t.id, "title": t.title, "state": t.state.word(), "budget": t.budget.to_string(), "attacker": t.attacker, "defender": t.defender, "worked_seconds": t.worked_seconds}))
        .collect();
    let sessions: Vec<_> = s
        .sessions
        .iter()
        .map(|(owner, o)| json!({"owner": owner, "session": o.session, "task": o.task, "since": o.started.to_string()}))
        .collect();
    let pending: Vec<_> = s
        .tasks
        .values()
        .filter(|t| t.state == TaskState::Assessed)
        .filter_map(|t| t.pending.as_ref().map(|p| (t, p)))
        .map(|(t, p)| {
            let ends = p.assessed_at.plus(window);
            json!({"task": t.id, "attacker_sc": p.attacker_left.to_string(), "defender_sc": p.defender_left.to_string(), "window_ends": ends.to_string(), "hours_left": ((ends.0 - now.0).max(0) + HOUR - 1) / HOUR, "objections": p.objectors, "approvals": p.approvals})
        })
        .collect();
    if global.json {
        println!(
            "{}",
            json!({"ledger": s.name, "last_seq": s.last_seq, "tasks": tasks, "open_sessions": sessions, "pending": pending})
        );
        return Ok(());
    }
    println!(
        "{} — {} rows, last at {}",
        s.name,
        s.last_seq,
        s.last_timestamp.map_or("-".into(), |t| t.to_string())
    );
    for state in TaskState::ALL {
        let of: Vec<_> = s.tasks.values().filter(|t| t.state == state).collect();
        println!("\n{} tasks: {}", state.word(), of.len());
        for t in of {
            let people = match (&t.attacker, &t.defender) {
                (Some(a), Some(d)) => format!(" (A: {a}, D: {d})"),
                _ => String::new(),
            };
            println!("  {:<16} {:>8} SC  {}{}", t.id, t.budget.to_string(), t.title, people);
        }
    }
    println!("\nopen sessions: {}", s.sessions.len());
    for (owner, o) in &s.sessions {
        println!("  {owner} on {} since {}", o.task, o.started);
    }
    println!("\npending SC: {}", s.pending);
    for p in &pending {
        let left = p["hours_left"].as_i64().unwrap_or(0);
        let window = if left > 0 {
            format!("window closes in {left} h")
        } else {
            "window closed: ready to validate".into()
        };
        println!(
            "  {}: {} + {} SC, {window}",
            p["task"].as_str().unwrap_or(""),
            p["attacker_sc"].as_str().unwrap_or(""),
            p["defender_sc"].as_str().unwrap_or("")
        );
    }
    Ok(())
}

/// Arguments of `balance`.
#[derive(Args, Debug, Clone)]
pub struct BalanceArgs {
    /// Only this owner
    pub handle: Option<String>,
}

/// Prints SC, SK and pending SC per owner and the treasury position.
pub fn balance(global: &Global, args: &BalanceArgs) -> Result<()> {
    let ledger = open(global)?;
    let s = &ledger.state;
    let now = Timestamp::now().max(s.last_timestamp.unwrap_or(Timestamp(0)));
    let mut owners: Vec<&String> = s.owners.keys().collect();
    owners.sort();
    if let Some(h) = &args.handle {
        if !s.owners.contains_key(h) {
            bail!("{h} is not in the Book of Owners");
        }
        owners.retain(|o| *o == h);
    }
    let pending_of = |who: &str| {
        s.tasks
            .values()
            .filter_map(|t| t.pending.as_ref().map(|p| (t, p)))
            .fold(Amount::ZERO, |sum, (t, p)| {
                let mut sum = sum;
                if t.attacker.as_deref() == Some(who) {
                    sum = sum.plus(p.attacker_left);
                }
                if t.defender.as_deref() == Some(who) {
                    sum = sum.plus(p.defender_left);
                }
                sum
            })
    };
    let limit = s.treasury.times(s.policy.sc.treasury_multiple.0);
    let rows: Vec<_> = owners
        .iter()
        .map(|h| {
            let o = &s.owners[*h];
            json!({"owner": h, "license": o.license, "sc": o.sc.to_string(), "sk": s.karma(h, now).to_string(), "pending_sc": pending_of(h).to_string(), "vote_weight": s.vote_weight(h, now).to_string()})
        })
        .collect();
    let treasury = json!({"eur": s.treasury.to_string(), "sc_outstanding": s.outstanding.to_string(), "sc_pending": s.pending.to_string(), "sc_limit": limit.to_string(), "three_x_rule_ok": s.outstanding <= limit});
    if global.json {
        println!("{}", json!({"owners": rows, "treasury": treasury}));
        return Ok(());
    }
    println!(
        "{:<20} {:<15} {:>12} {:>10} {:>12} {:>6}",
        "owner", "license", "SC", "SK", "pending SC", "vote"
    );
    for r in &rows {
        let f = |k: &str| r[k].as_str().unwrap_or("").to_string();
        println!(
            "{:<20} {:<15} {:>12} {:>10} {:>12} {:>6}",
            f("owner"),
            f("license"),
            f("sc"),
            f("sk"),
            f("pending_sc"),
            f("vote_weight")
        );
    }
    println!(
        "\ntreasury {} EUR; SC outstanding {} (limit {} under the 3x rule: {}); SC pending {}",
        s.treasury,
        s.outstanding,
        limit,
        if s.outstanding <= limit { "ok" } else { "BROKEN" },
        s.pending
    );
    Ok(())
}

/// Arguments of `log`.
#[derive(Args, Debug, Clone)]
pub struct LogArgs {
    /// Only rows by this actor
    #[arg(long)]
    pub actor: Option<String>,
    /// Only rows of this action
    #[arg(long)]
    pub action: Option<String>,
    /// Only rows of this table
    #[arg(long)]
    pub table: Option<String>,
}

/// Calls `each` for every row at HEAD in seq order.
fn each_row(global: &Global, mut each: impl FnMut(Row) -> Result<()>) -> Result<()> {
    let ledger = open(global)?;
    crate::repo::for_each_row(&ledger.repo, ledger.head, ledger.state.policy.ledger.segment_rows, |row, _| {
        each(row)?;
        Ok(true)
    })
}

/// Prints the audit log.
pub fn log(global: &Global, args: &LogArgs) -> Result<()> {
    if let Some(t) = &args.table {
        if schema::table_id(t).is_none() {
            bail!("{t:?} is not a table ({})", table_names());
        }
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    each_row(global, |row| {
        let keep = args.actor.as_ref().is_none_or(|a| *a == row.actor)
            && args.action.as_ref().is_none_or(|a| *a == row.action)
            && args.table.as_ref().is_none_or(|t| *t == row.schema().name);
        if !keep {
            return Ok(());
        }
        let result = if global.json {
            let columns: serde_json::Map<String, serde_json::Value> = row
                .schema()
                .columns
                .iter()
                .zip(&row.columns)
                .filter(|(_, v)| !v.is_empty())
                .map(|(c, v)| (c.name.clone(), json!(v)))
                .collect();
            writeln!(
                out,
                "{}",
                json!({"seq": row.seq, "timestamp": row.timestamp.to_string(), "actor": row.actor, "action": row.action, "table": row.schema().name, "columns": columns, "key": row.key})
            )
        } else {
            let detail: Vec<String> = row
                .schema()
                .columns
                .iter()
                .zip(&row.columns)
                .filter(|(_, v)| !v.is_empty())
                .map(|(c, v)| format!("{}={v}", c.name))
                .collect();
            writeln!(
                out,
                "{:>6}  {}  {:<12} {:<20} {}",
                row.seq,
                row.timestamp,
                row.actor,
                row.action,
                detail.join(" ")
            )
        };
        result.map_err(|e| anyhow!("cannot write the log: {e}"))
    })?;
    out.flush().ok();
    Ok(())
}

fn table_names() -> String {
    schema::tables().iter().map(|t| t.name.as_str()).collect::<Vec<_>>().join(", ")
}

/// Arguments of `export`.
#[derive(Args, Debug, Clone)]
pub struct ExportArgs {
    /// The table (book-of-owners, roles, task-budgets, ...)
    pub table: String,
    /// Write to this file instead of standard output
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

/// Writes one table as a single CSV file with its header.
pub fn export(global: &Global, args: &ExportArgs) -> Result<()> {
    let table = schema::table_id(&args.table).ok_or_else(|| anyhow!("{:?} is not a table ({})", args.table, table_names()))?;
    let mut bytes = segment::header_line(table);
    each_row(global, |row| {
        if row.table == table {
            segment::encode_row(&row, &mut bytes);
        }
        Ok(())
    })?;
    match &args.output {
        Some(path) => write_atomically(path, &bytes),
        None => std::io::stdout().write_all(&bytes).context("cannot write to standard output"),
    }
}

/// Writes a file through a temporary file and a rename, so it is never half-written.
pub fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("out"),
        std::process::id()
    ));
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot move {} into place", path.display()))
}
