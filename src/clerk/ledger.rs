//! An open ledger: its repository, the branch HEAD is on, the state at HEAD; recording new
//! entries as one signed commit, and reading rows back.

use super::Signer;
use crate::ledger::row::{Location, Row};
use crate::ledger::POLICY_FILE;
use crate::repo::write::{self, RootFile};
use crate::repo::{changes_of, CommitHeader, RowStream, Trees};
use crate::rules::commit::{end_commit, genesis, key_valid, CommitFacts, SignerFacts};
use crate::rules::draft::{draft, says_when, Intent};
use crate::rules::{self, violation, State, Violation};
use crate::time::Timestamp;
use crate::verify::cache::StateCache;
use crate::view::events::{self, Event};
use anyhow::{anyhow, bail, Context, Result};
use git2::{Oid, Repository};
use std::path::Path;

/// The rules refused an entry: nothing was written. Front ends branch on it (the CLI exits 1).
#[derive(Debug, thiserror::Error)]
#[error("refused: {0}")]
pub struct Refused(pub Violation);

/// What [`Ledger::record_batch`] wrote (or would write), and which intents the rules refused.
#[derive(Debug, Default)]
pub struct Batch {
    /// The rows, in seq order.
    pub rows: Vec<Row>,
    /// For each row, the index of the intent it records.
    pub of_intent: Vec<usize>,
    /// The index of each refused intent, and why.
    pub refused: Vec<(usize, Violation)>,
}

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

/// The rows one commit added, with where they stand, and the policy file it brought.
pub(super) struct CommitRows {
    /// The commit.
    pub commit: Oid,
    /// Its rows in seq order.
    pub rows: Vec<(Row, Location)>,
    /// Its new `ledger.toml`, if it changed it.
    pub policy: Option<Vec<u8>>,
}

impl Ledger {
    /// Opens the ledger in (or above) `dir` and replays it from the nearest checkpoint of the
    /// local state cache (without checking signatures; `verify` does that).
    pub fn open(dir: &Path) -> Result<Ledger> {
        let repo = crate::repo::open(dir)?;
        let (head, branch) = crate::repo::head(&repo, dir)?;
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

    /// Records what `signer` intends as one signed commit on the ledger branch, at `now`
    /// (when the rows are recorded). `happened` is when it happened, for the actions that
    /// say so (a session's clock-in or clock-out, the day SK were earned); never after `now`.
    /// A rule's refusal comes back as [`Refused`], with nothing written.
    pub fn record(&mut self, signer: &Signer, intent: &Intent, happened: Option<Timestamp>, now: Timestamp) -> Result<Vec<Row>> {
        let at = recording_time(Some(&self.state), now)?;
        let happened = happened_time(intent, happened, at)?;
        let draft = draft(&self.state, &signer.handle, happened, intent).map_err(Refused)?;
        let files: Vec<RootFile> = draft.policy.iter().map(|bytes| RootFile { name: POLICY_FILE, bytes }).collect();
        let mut state = self.state.clone();
        let rows = sign_rows(&mut state, signer, at, &draft.entries, now)?;
        self.commit(rows, &files, state, signer, at, &format!("smartup: {}", intent.kind()))
    }

    /// Records `intents` (none of which brings a policy file) in one signed commit, each
    /// drafted on the state the ones before it leave. An intent the rules refuse is left out
    /// and returned with its index, so a batch (an import) writes what passes and says what
    /// did not. With `write` false nothing is written: the rows are what would be.
    pub fn record_batch(&mut self, signer: &Signer, intents: &[Intent], now: Timestamp, write: bool) -> Result<Batch> {
        let at = recording_time(Some(&self.state), now)?;
        let mut state = self.state.clone();
        let mut batch = Batch::default();
        for (index, intent) in intents.iter().enumerate() {
            let mut trial = state.clone();
            let outcome = draft(&trial, &signer.handle, at, intent)
                .map_err(|v| anyhow::Error::from(Refused(v)))
                .and_then(|d| sign_rows(&mut trial, signer, at, &d.entries, now));
            match outcome {
                Ok(rows) => {
                    state = trial;
                    batch.of_intent.extend(std::iter::repeat_n(index, rows.len()));
                    batch.rows.extend(rows);
                }
                Err(e) => match e.downcast::<Refused>() {
                    Ok(Refused(violation)) => batch.refused.push((index, violation)),
                    Err(other) => return Err(other),
                },
            }
        }
        if write && !batch.rows.is_empty() {
            let log = format!("smartup: {} rows", batch.rows.len());
            batch.rows = self.commit(std::mem::take(&mut batch.rows), &[], state, signer, at, &log)?;
        }
        Ok(batch)
    }

    /// Appends a portable row someone else signed (a newcomer's join, handed over as a file):
    /// gives it the next seq and the recording time `now`, checks its signature and the
    /// rules, and commits it signed by `signer`, the owner who relays it.
    pub fn relay(&mut self, signer: &Signer, mut row: Row, now: Timestamp) -> Result<Row> {
        if !row.is_portable() {
            bail!(
                "seq {} ({}) is not a portable row: only a join row can be relayed; its author records anything else themselves",
                row.seq,
                row.summary()
            );
        }
        let at = recording_time(Some(&self.state), now)?;
        row.seq = self.state.last_seq + 1;
        row.timestamp = at;
        let key = rules::signer_key(&self.state, &row).map_err(Refused)?;
        let namespace = &self.state.policy.ledger.namespace;
        let signed = crate::sign::decode_signature(&row.signature)
            .is_some_and(|signature| key.verify(namespace, &row.message(&self.state.ledger_id), &signature));
        if !signed {
            return Err(Refused(violation(
                "bad-signature",
                format!("the {} row of {} does not carry a valid signature by {}: it was changed after it was signed, or made for another ledger", row.action, row.actor, row.key),
            ))
            .into());
        }
        let mut state = self.state.clone();
        rules::apply(&mut state, &row, Some(now)).map_err(Refused)?;
        let log = format!("smartup relay: {}", row.summary());
        let mut rows = self.commit(vec![row], &[], state, signer, at, &log)?;
        Ok(rows.remove(0))
    }

    /// Ends the commit of `rows` (already applied to `state`) as `verify` will, writes it
    /// signed by `signer`, moves the branch and the working tree, and keeps `state`.
    fn commit(
        &mut self,
        rows: Vec<Row>,
        files: &[RootFile],
        mut state: State,
        signer: &Signer,
        at: Timestamp,
        log: &str,
    ) -> Result<Vec<Row>> {
        let valid_before = key_valid(&self.state, &signer.key.public().fingerprint());
        settle_commit(&mut state, files, signer, valid_before)?;
        let parent = self.repo.find_commit(self.head)?;
        let commit = write_commit(&self.repo, Some(&parent), &rows, files, &state, signer, at)?;
        // Only the objects are written so far: a refusal here leaves the ledger as it was.
        let paths = write::changed_paths(&self.repo, Some(parent.tree_id()), self.repo.find_commit(commit)?.tree_id())?;
        write::ensure_clean(&self.repo, &paths)?;
        write::advance_branch(&self.repo, &self.branch, Some(self.head), commit, log)?;
        write::refresh_worktree(&self.repo, &paths)?;
        write::tidy_objects(&self.repo);
        self.head = commit;
        self.state = state;
        Ok(rows)
    }

    /// Calls `each` for every row at HEAD in seq order, until it returns `false`.
    pub fn for_each_row(&self, each: impl FnMut(Row, Location) -> Result<bool>) -> Result<()> {
        crate::repo::for_each_row(&self.repo, self.head, self.state.policy.ledger.segment_rows, each)
    }

    /// The rows after seq `after`, in seq order, reading only the commits that hold them
    /// (walking back from HEAD along first parents).
    pub fn rows_since(&self, after: u64) -> Result<Vec<(Row, Location)>> {
        Ok(self
            .commits_since(after)?
            .into_iter()
            .flat_map(|c| c.rows)
            .filter(|(row, _)| row.seq > after)
            .collect())
    }

    /// What happened after seq `after`, typed and in words: what front ends announce as new.
    /// The rows are read as [`Ledger::rows_since`] reads them and replayed from the state
    /// before the first of their commits (the nearest checkpoint and what follows it).
    pub fn events_since(&self, after: u64) -> Result<Vec<Event>> {
        let commits = self.commits_since(after)?;
        let Some(first) = commits.first() else {
            return Ok(Vec::new());
        };
        let mut state = match self.repo.find_commit(first.commit)?.parent_ids().next() {
            Some(parent) => StateCache::of(&self.repo).state_at(&self.repo, parent, None)?,
            None => genesis(first.policy.as_deref()).map_err(|v| anyhow!("the root commit: {v}"))?,
        };
        let broken = |v: Violation| anyhow!("the ledger at HEAD cannot be replayed: {v}");
        let mut all = Vec::new();
        for commit in commits {
            let root = state.last_seq == 0;
            all.extend(events::since(&mut state, commit.rows.into_iter().map(|(row, _)| row), after).map_err(broken)?);
            // What ends a commit: a stop-work's awaited log is dropped, a new policy applies.
            let _ = rules::commit::awaited_log(&mut state);
            if !root {
                rules::commit::switch_policy(&mut state, commit.policy.as_deref(), false).map_err(broken)?;
            }
        }
        Ok(all)
    }

    /// The commits holding the rows after seq `after`, oldest first.
    fn commits_since(&self, after: u64) -> Result<Vec<CommitRows>> {
        let mut commits = Vec::new();
        let mut current = Some(self.repo.find_commit(self.head)?);
        while let Some(commit) = current {
            let rows = self.commit_rows(&commit)?;
            let first = rows.rows.first().map_or(u64::MAX, |(r, _)| r.seq);
            if rows.rows.last().is_some_and(|(r, _)| r.seq <= after) {
                break;
            }
            commits.push(rows);
            if first <= after.saturating_add(1) {
                break;
            }
            current = commit.parents().next();
        }
        commits.reverse();
        Ok(commits)
    }

    /// The rows a commit added to its first parent and its new policy file.
    pub(super) fn commit_rows(&self, commit: &git2::Commit) -> Result<CommitRows> {
        let mut trees = Trees::new(&self.repo);
        let changes = changes_of(&mut trees, &CommitHeader::of(commit))?;
        if let Some(f) = changes.findings.first() {
            bail!("commit {} is not a clean append ({f})", commit.id());
        }
        let mut stream = RowStream::new(&mut trees, changes.sources, self.state.policy.ledger.segment_rows);
        let mut rows = Vec::new();
        while let Some(next) = stream.next_row().map_err(|f| anyhow!("{f}"))? {
            rows.push(next);
        }
        Ok(CommitRows {
            commit: commit.id(),
            rows,
            policy: changes.policy,
        })
    }
}

/// The time new entries are recorded: `now`, never before the last row of `state`.
pub(super) fn recording_time(state: Option<&State>, now: Timestamp) -> Result<Timestamp> {
    match state.and_then(|s| s.last_timestamp) {
        Some(last) if now < last => Err(Refused(violation(
            "time-order",
            format!("the clock says {now}, before the last row of the ledger ({last}); entries are recorded in order"),
        ))
        .into()),
        _ => Ok(now),
    }
}

/// When the intended action happened: `happened`, or `recorded` (the row's own time). Only
/// actions that say when something happened take another time, and never after `recorded`.
fn happened_time(intent: &Intent, happened: Option<Timestamp>, recorded: Timestamp) -> Result<Timestamp> {
    let refuse = |words: String| -> Result<Timestamp> { Err(Refused(violation("time-order", words)).into()) };
    match happened {
        None => Ok(recorded),
        Some(_) if !says_when(intent.kind()) => refuse(format!(
            "{} records no time of its own: every row is recorded now; only start-work, stop-work and award-sk say \
             when work happened",
            intent.kind()
        )),
        Some(at) if at > recorded => refuse(format!("{at} is in the future (now is {recorded})")),
        Some(at) => Ok(at),
    }
}

/// Builds, signs and checks rows against `state` (which they advance); a rule's refusal is
/// returned as [`Refused`].
pub(super) fn sign_rows(
    state: &mut State,
    signer: &Signer,
    at: Timestamp,
    entries: &[rules::draft::Entry],
    now: Timestamp,
) -> Result<Vec<Row>> {
    let mut rows = Vec::with_capacity(entries.len());
    for entry in entries {
        let values: Vec<(&str, &str)> = entry.values.iter().map(|(k, v)| (*k, v.as_str())).collect();
        for (name, value) in &values {
            crate::ledger::row::check_value(value).map_err(|e| Refused(violation("malformed-value", format!("{name}: {e}"))))?;
        }
        let mut row =
            Row::draft(entry.table, state.last_seq + 1, at, &signer.handle, entry.action.name(), &values).map_err(|e| anyhow!(e))?;
        signer.sign(&mut row, state);
        rules::apply(state, &row, Some(now)).map_err(Refused)?;
        rows.push(row);
    }
    Ok(rows)
}

/// Ends the entry's commit in `state` as `verify` will ([`end_commit`]): no session log left
/// awaited, a new `ledger.toml` among `files` in effect after its amend-policy row, and the
/// signer's key valid before or after the rows (`valid_before`: before). A broken rule is
/// returned as [`Refused`].
pub(super) fn settle_commit(state: &mut State, files: &[RootFile], signer: &Signer, valid_before: bool) -> Result<()> {
    let fingerprint = signer.key.public().fingerprint();
    let facts = CommitFacts {
        id: "being written",
        root: false,
        policy_file: files.iter().find(|f| f.name == POLICY_FILE).map(|f| f.bytes),
        signer: Some(SignerFacts {
            fingerprint: &fingerprint,
            valid_before,
            empty_merge: false,
        }),
    };
    match end_commit(state, &facts).into_iter().next() {
        Some(broken) => Err(Refused(broken).into()),
        None => Ok(()),
    }
}

/// Writes the signed commit of `rows` (and `files`) on top of `parent`, with the message
/// [`commit_message`] makes; moves no ref.
pub(super) fn write_commit(
    repo: &Repository,
    parent: Option<&git2::Commit>,
    rows: &[Row],
    files: &[RootFile],
    state: &State,
    signer: &Signer,
    at: Timestamp,
) -> Result<Oid> {
    write::commit_rows(
        repo,
        parent,
        rows,
        files,
        state.policy.ledger.segment_rows,
        &signer.key,
        &signer.author(),
        &commit_message(rows),
        at,
    )
}

/// `action subject` on the first line, one line per row below.
fn commit_message(rows: &[Row]) -> String {
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
