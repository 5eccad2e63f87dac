//! Reading the ledger: `status`, `balance`, `proposals`, `log`, `events`, `metrics` and
//! `export`.

use super::context::open;
use super::exit::Unknown;
use super::Global;
use crate::ledger::action::ActionKind;
use crate::ledger::row::Row;
use crate::ledger::schema;
use crate::ledger::segment;
use crate::time::Timestamp;
use crate::view;
use crate::view::log::LogEntry;
use crate::view::status::TaskStatus;
use anyhow::{anyhow, Context, Result};
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

/// Prints the state of work: tasks by status, open sessions, pending SC with their windows,
/// the SC pending in tranches and the open proposals.
pub fn status(global: &Global) -> Result<()> {
    let ledger = open(global)?;
    let board = view::status::board(&ledger.state, Timestamp::now());
    if global.json {
        return print_json(&board);
    }
    println!(
        "{} — {} rows, last at {}",
        board.ledger,
        board.last_seq,
        board.last_at.map_or("-".into(), |t| t.to_string())
    );
    for status in TaskStatus::ALL {
        let of: Vec<_> = board.with_status(status).collect();
        println!("\n{} tasks: {}", status.word(), of.len());
        for t in of {
            let people = match (&t.attacker, &t.defender) {
                (Some(a), Some(d)) => format!(" (A: {a}, D: {d})"),
                _ => String::new(),
            };
            println!("  {:<16} {:>8} SC  {}{}", t.task, t.budget.to_string(), t.title, people);
        }
    }
    println!("\nopen sessions: {}", board.open_sessions.len());
    for o in &board.open_sessions {
        println!("  {} on {} since {}", o.owner, o.task, o.since);
    }
    println!("\npending SC: {}", board.pending_total);
    for p in &board.pending {
        let window = if p.hours_left > 0 {
            format!("window closes in {} h", p.hours_left)
        } else {
            "window closed: ready to validate".into()
        };
        println!("  {}: {} + {} SC, {window}", p.task, p.attacker_sc, p.defender_sc);
    }
    println!("SC pending in tranches: {}", board.sc_pending_in_tranches);
    println!("\nopen proposals: {}", board.proposals.len());
    for p in &board.proposals {
        println!("  {}", p.summary());
    }
    Ok(())
}

/// Prints one view as one JSON document.
fn print_json(view: &impl serde::Serialize) -> Result<()> {
    println!("{}", serde_json::to_string(view).context("cannot write JSON")?);
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
    let mut view = view::balances::balances(&ledger.state, Timestamp::now());
    if let Some(h) = &args.handle {
        if !ledger.state.owners.contains_key(h) {
            let words = format!("{h} is not in the Book of Owners");
            return Err(Unknown(crate::rules::violation("unknown-owner", words)).into());
        }
        view.owners.retain(|o| o.owner == *h);
    }
    if global.json {
        return print_json(&view);
    }
    println!(
        "{:<20} {:<15} {:>12} {:>10} {:>12} {:>6}",
        "owner", "license", "SC", "SK", "pending SC", "vote"
    );
    for o in &view.owners {
        println!(
            "{:<20} {:<15} {:>12} {:>10} {:>12} {:>6}",
            o.owner,
            o.license,
            o.sc.to_string(),
            o.sk.to_string(),
            o.pending_sc.to_string(),
            o.vote_weight.to_string()
        );
    }
    let t = &view.treasury;
    println!(
        "\ntreasury {} EUR; SC outstanding {} (limit {} under the 3x rule: {}); SC pending {}; SC pending in tranches {}",
        t.eur,
        t.sc_outstanding,
        t.sc_limit,
        if t.three_x_rule_ok { "ok" } else { "BROKEN" },
        t.sc_pending,
        t.sc_pending_in_tranches
    );
    Ok(())
}

/// Arguments of `proposals`.
#[derive(Args, Debug, Clone)]
pub struct ProposalsArgs {
    /// Show this proposal whole (its number: the seq of its propose row)
    #[arg(value_name = "N")]
    pub proposal: Option<u64>,
    /// List closed proposals too
    #[arg(long, conflicts_with = "proposal")]
    pub all: bool,
}

/// Prints the open proposals (all with `--all`) and the tranches, or one proposal whole.
pub fn proposals(global: &Global, args: &ProposalsArgs) -> Result<()> {
    let ledger = open(global)?;
    let now = Timestamp::now();
    let Some(seq) = args.proposal else {
        let agenda = view::proposals::agenda(&ledger.state, now, args.all);
        if global.json {
            return print_json(&agenda);
        }
        print_agenda(&agenda, args.all);
        return Ok(());
    };
    let Some(proposal) = view::proposals::find(&ledger.state, seq, now) else {
        let words = format!("seq {seq} is not a proposal; `smartup proposals --all` lists them");
        return Err(Unknown(crate::rules::violation("unknown-id", words)).into());
    };
    if global.json {
        return print_json(&proposal);
    }
    print_proposal(&proposal);
    Ok(())
}

/// The list of `proposals`, then the tranches.
fn print_agenda(agenda: &view::proposals::Agenda, all: bool) {
    let which = if all { "proposals" } else { "open proposals" };
    println!("{which}: {}", agenda.proposals.len());
    for p in &agenda.proposals {
        println!("  {}", p.summary());
    }
    println!("\ntranches: {}", agenda.tranches.len());
    for t in &agenda.tranches {
        println!("  {}", t.summary());
    }
}

/// One proposal whole: who made it, its text, effect, window, tally and how it ended.
fn print_proposal(p: &view::proposals::ProposalView) {
    println!("#{} {}: {}", p.seq, p.kind, p.title);
    println!("  proposed by {} at {}", p.proposer, p.created_at);
    let link = if p.link.is_empty() {
        String::new()
    } else {
        format!(" at {}", p.link)
    };
    println!("  text: {}{link}", p.text_hash);
    println!("  effect if it passes: {}", p.effect);
    println!("  status: {}", p.window_words());
    println!("  tally: {}", p.tally_words());
    if !p.objectors.is_empty() {
        println!("  objected: {}", p.objectors.join(", "));
    }
    if let Some(closed) = p.closed_by {
        let applied = p.applied_by.map_or(String::new(), |seq| format!("; carried out at seq {seq}"));
        println!("  closed at seq {closed}{applied}");
    }
}

/// Arguments of `log`.
#[derive(Args, Debug, Clone)]
pub struct LogArgs {
    /// Only rows by this actor
    #[arg(long)]
    pub actor: Option<String>,
    /// Only rows of this action
    #[arg(long, value_parser = action_name)]
    pub action: Option<String>,
    /// Only rows of this table
    #[arg(long, value_parser = table_name)]
    pub table: Option<String>,
    /// Only rows after this seq (reads only the commits that hold them)
    #[arg(long, value_name = "SEQ", default_value_t = 0)]
    pub since: u64,
}

/// A table's name, checked against the schemas.
fn table_name(text: &str) -> Result<String, String> {
    match schema::table_id(text) {
        Some(_) => Ok(text.to_string()),
        None => Err(format!("not a table; the tables are {}", table_names())),
    }
}

/// An action's name, checked against the list of actions.
fn action_name(text: &str) -> Result<String, String> {
    match ActionKind::parse(text) {
        Some(_) => Ok(text.to_string()),
        None => {
            let names: Vec<&str> = ActionKind::ALL.iter().map(|a| a.name()).collect();
            Err(format!("not an action; the actions are {}", names.join(", ")))
        }
    }
}

/// Calls `each` for every row at HEAD after seq `since` in seq order (0: all of them).
fn each_row(global: &Global, since: u64, mut each: impl FnMut(Row) -> Result<()>) -> Result<()> {
    let ledger = open(global)?;
    if since > 0 {
        return ledger.rows_since(since)?.into_iter().try_for_each(|(row, _)| each(row));
    }
    ledger.for_each_row(|row, _| {
        each(row)?;
        Ok(true)
    })
}

/// Prints the audit log.
pub fn log(global: &Global, args: &LogArgs) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    each_row(global, args.since, |row| {
        let keep = args.actor.as_ref().is_none_or(|a| *a == row.actor)
            && args.action.as_ref().is_none_or(|a| *a == row.action)
            && args.table.as_ref().is_none_or(|t| *t == row.schema().name);
        if !keep {
            return Ok(());
        }
        let entry = LogEntry::of(&row);
        let result = if global.json {
            serde_json::to_string(&entry)
                .map_err(std::io::Error::other)
                .and_then(|line| writeln!(out, "{line}"))
        } else {
            writeln!(
                out,
                "{:>6}  {}  {:<12} {:<20} {}",
                entry.seq,
                entry.timestamp,
                entry.actor,
                entry.action,
                entry.detail()
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

/// Arguments of `events`.
#[derive(Args, Debug, Clone)]
pub struct EventsArgs {
    /// Only what happened after this seq
    #[arg(long, value_name = "SEQ", default_value_t = 0)]
    pub since: u64,
}

/// An event as one line of `events --json`.
#[derive(serde::Serialize)]
struct EventLine<'a> {
    r#type: &'static str,
    #[serde(flatten)]
    event: &'a crate::view::events::Event,
}

/// Prints what happened after `--since`, one event per row, in words (or JSON Lines).
pub fn events(global: &Global, args: &EventsArgs) -> Result<()> {
    let ledger = open(global)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for event in ledger.events_since(args.since)? {
        if global.json {
            let line = serde_json::to_string(&EventLine {
                r#type: "event",
                event: &event,
            })?;
            writeln!(out, "{line}")
        } else {
            writeln!(out, "{:>6}  {}  {}", event.seq, event.at, event.words)
        }
        .context("cannot write the events")?;
    }
    out.flush().context("cannot write the events")
}

/// Arguments of `metrics`.
#[derive(Args, Debug, Clone)]
pub struct MetricsArgs {
    /// Write the gauges to this file atomically (for node_exporter's textfile collector)
    /// instead of standard output
    #[arg(long, value_name = "FILE")]
    pub textfile: Option<PathBuf>,
}

/// Prints (or writes atomically) the ledger's Prometheus gauges.
pub fn metrics(global: &Global, args: &MetricsArgs) -> Result<()> {
    let ledger = open(global)?;
    let mut rows = std::collections::BTreeMap::new();
    for table in schema::tables() {
        rows.insert(table.name.clone(), 0);
    }
    ledger.for_each_row(|row, _| {
        *rows.entry(row.schema().name.clone()).or_insert(0) += 1;
        Ok(true)
    })?;
    let refusals = crate::hook::refusals::counts(ledger.repo.path());
    let text = view::metrics::render(
        &ledger.state,
        &view::metrics::Counts {
            rows: &rows,
            refusals: &refusals,
        },
    );
    match &args.textfile {
        Some(path) => write_atomically(path, text.as_bytes()),
        None => std::io::stdout()
            .write_all(text.as_bytes())
            .context("cannot write to standard output"),
    }
}

/// Arguments of `export`.
#[derive(Args, Debug, Clone)]
pub struct ExportArgs {
    /// The table (book-of-owners, roles, task-budgets, ...)
    #[arg(value_parser = table_name)]
    pub table: String,
    /// Write to this file instead of standard output
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

/// Writes one table as a single CSV file with its header.
pub fn export(global: &Global, args: &ExportArgs) -> Result<()> {
    let table = schema::table_id(&args.table).context("the table was checked when parsing")?;
    let mut bytes = segment::header_line(table);
    each_row(global, 0, |row| {
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
