//! What every command shares: opening the ledger, the state at HEAD, and recording new
//! signed entries as one commit.

use super::identity::Signer;
use super::{Global, Refused};
use crate::ledger::row::Row;
use crate::ledger::schema::TableId;
use crate::repo::write::{self, RootFile};
use crate::rules::{self, State};
use crate::time::Timestamp;
use crate::verify::cache::StateCache;
use anyhow::{anyhow, bail, Context, Result};
use git2::{Oid, Repository};
use std::path::PathBuf;

/// An open ledger and its state at HEAD.
pub struct Ledger {
    /// The repository.
    pub repo: Repository,
    /// HEAD's commit.
    pub head: Oid,
    /// The ledger branch HEAD is on.
    pub branch: String,
    /// State after the last row.
    pub state: State,
}

/// The folder a command works on.
pub fn ledger_dir(global: &Global) -> PathBuf {
    global.ledger.clone().unwrap_or_else(|| PathBuf::from("."))
}

impl Ledger {
    /// Opens the ledger and replays it (without checking signatures; `verify` does that).
    pub fn open(global: &Global) -> Result<Ledger> {
        let dir = ledger_dir(global);
        let repo = crate::repo::open(&dir)?;
        let (head, branch) = {
            let head = repo
                .head()
                .map_err(|_| anyhow!("{} has no commits: create a ledger with `smartup init`", dir.display()))?;
            let branch = head.shorthand().unwrap_or("main").to_string();
            (head.peel_to_commit().context("HEAD does not point at a commit")?.id(), branch)
        };
        // Replay only what follows the nearest checkpoint of the local state cache.
        let state = StateCache::of(&repo).state_at(&repo, head, None).with_context(|| {
            format!(
                "{} holds no ledger that can be replayed; new entries are not written on top of a broken ledger",
                dir.display()
            )
        })?;
        if state.policy.ledger.branch != branch {
            bail!(
                "HEAD is on branch {branch}, but the ledger's branch is {}; switch with `git switch {}`",
                state.policy.ledger.branch,
                state.policy.ledger.branch
            );
        }
        Ok(Ledger { repo, head, branch, state })
    }
}

/// A row to write: its table, action and column values.
pub struct Entry {
    /// Target table.
    pub table: TableId,
    /// Action name.
    pub action: &'static str,
    /// Column values by name.
    pub values: Vec<(&'static str, String)>,
}

/// The time a new entry is recorded: now (the pinned clock `SMARTUP_NOW` when set), never
/// before the last row. `--at` never changes it: see [`happened_at`].
pub fn entry_time(state: Option<&State>) -> Result<Timestamp> {
    let now = Timestamp::now();
    if let Some(last) = state.and_then(|s| s.last_timestamp) {
        if now < last {
            return Err(Refused(rules::violation(
                "time-order",
                format!("the clock says {now}, before the last row of the ledger ({last}); entries are recorded in order"),
            ))
            .into());
        }
    }
    Ok(now)
}

/// When the action happened: `--at`, or `recorded` (the row's own time). Only actions that
/// say when something happened take `--at` (`takes_at`); it is never after `recorded`.
pub fn happened_at(global: &Global, takes_at: bool, recorded: Timestamp) -> Result<Timestamp> {
    match global.at {
        None => Ok(recorded),
        Some(_) if !takes_at => Err(Refused(rules::violation(
            "time-order",
            "--at says when work happened, which only start-work, stop-work and award-sk record; every row is recorded \
             now (scripts pin the clock with SMARTUP_NOW)"
                .to_string(),
        ))
        .into()),
        Some(at) if at > recorded => Err(Refused(rules::violation(
            "time-order",
            format!("--at {at} is in the future (now is {recorded})"),
        ))
        .into()),
        Some(at) => Ok(at),
    }
}

/// Builds, signs and checks rows against `state` (which they advance); a rule's refusal is
/// returned as [`Refused`].
pub fn sign_rows(state: &mut State, signer: &Signer, at: Timestamp, entries: &[Entry]) -> Result<Vec<Row>> {
    let mut rows = Vec::with_capacity(entries.len());
    for entry in entries {
        let values: Vec<(&str, &str)> = entry.values.iter().map(|(k, v)| (*k, v.as_str())).collect();
        for (name, value) in &values {
            crate::ledger::row::check_value(value).map_err(|e| anyhow!("--{}: {e}", name.replace('_', "-")))?;
        }
        let mut row = Row::draft(entry.table, state.last_seq + 1, at, &signer.handle, entry.action, &values).map_err(|e| anyhow!(e))?;
        signer.sign(&mut row, state);
        rules::apply(state, &row, Some(Timestamp::now())).map_err(Refused)?;
        rows.push(row);
    }
    Ok(rows)
}

/// Records entries as one signed commit on the ledger branch and updates the working tree.
pub fn record(ledger: &mut Ledger, signer: &Signer, at: Timestamp, entries: &[Entry], files: &[RootFile]) -> Result<Vec<Row>> {
    let mut state = ledger.state.clone();
    let rows = sign_rows(&mut state, signer, at, entries)?;
    settle_policy(&mut state, files)?;
    let parent = ledger.repo.find_commit(ledger.head)?;
    let message = commit_message(&rows);
    let author = signer.author();
    let commit = write::commit_rows(
        &ledger.repo,
        Some(&parent),
        &rows,
        files,
        state.policy.ledger.segment_rows,
        &signer.key,
        &author,
        &message,
        at,
    )?;
    // Only the objects are written so far: a refusal here leaves the ledger as it was.
    let paths = write::changed_paths(&ledger.repo, Some(parent.tree_id()), ledger.repo.find_commit(commit)?.tree_id())?;
    write::ensure_clean(&ledger.repo, &paths)?;
    write::advance_branch(
        &ledger.repo,
        &ledger.branch,
        Some(ledger.head),
        commit,
        &format!("smartup: {}", rows.first().map_or("", |r| r.action.as_str())),
    )?;
    write::refresh_worktree(&ledger.repo, &paths)?;
    write::tidy_objects(&ledger.repo);
    ledger.head = commit;
    ledger.state = state;
    Ok(rows)
}

/// Ends a commit in the state as the walker does: a new `ledger.toml` among `files` takes
/// effect (after its amend-policy row), so the state cached for the commit is the walker's.
pub fn settle_policy(state: &mut State, files: &[RootFile]) -> Result<()> {
    let policy = files.iter().find(|f| f.name == crate::ledger::POLICY_FILE).map(|f| f.bytes);
    rules::commit::switch_policy(state, policy, false).map_err(|v| Refused(v).into())
}

/// `action subject` on the first line, one line per row below.
pub fn commit_message(rows: &[Row]) -> String {
    let mut message = match rows.first() {
        Some(first) if rows.len() == 1 => first.summary(),
        Some(first) => format!("{} (+{} rows)", first.summary(), rows.len() - 1),
        None => "empty".to_string(),
    };
    message.push_str("\n\n");
    for row in rows {
        message.push_str(&format!("seq {}: {}\n", row.seq, row.summary()));
    }
    message
}

/// Prints what was recorded: one line per row, or JSON.
pub fn print_rows(global: &Global, rows: &[Row]) {
    if global.json {
        let list: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| serde_json::json!({"seq": r.seq, "timestamp": r.timestamp.to_string(), "actor": r.actor, "action": r.action, "table": r.schema().name, "summary": r.summary()}))
            .collect();
        println!("{}", serde_json::Value::Array(list));
    } else {
        for row in rows {
            println!("seq {}: {}", row.seq, row.summary());
        }
    }
}
