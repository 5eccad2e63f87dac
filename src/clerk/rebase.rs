//! Re-basing unpushed entries onto a newer upstream tip: each of your commits becomes a new
//! commit on top of it, its rows renumbered (`seq`, session ids), re-stamped when they were
//! recorded so long ago that the forge would refuse them (half the policy's recording lag:
//! they are recorded again now) or would come before the upstream's last row, re-signed with
//! your key and checked again by the rules. Nothing moves unless every entry still passes.
//! A portable row you relayed for someone else (a newcomer's join) is renumbered and
//! re-stamped but keeps its own signature.

use super::ledger::{settle_commit, write_commit};
use super::{Ledger, Refused, Signer};
use crate::ledger::row::Row;
use crate::ledger::schema::SEQ_REFERENCE;
use crate::ledger::POLICY_FILE;
use crate::repo::write::{self, RootFile};
use crate::rules::commit::key_valid;
use crate::rules::{self, violation, State};
use crate::time::Timestamp;
use crate::verify::cache::StateCache;
use anyhow::{anyhow, bail, Context, Result};
use git2::Oid;
use std::collections::HashMap;

/// One of your unpushed commits: its rows and its policy file if it amended one.
struct Pending {
    rows: Vec<Row>,
    policy: Option<Vec<u8>>,
}

/// What re-basing did.
pub enum Rebased {
    /// Your branch already contained the upstream tip: nothing to do.
    AlreadyOnTop,
    /// Your branch was behind and is now at the upstream tip: nothing of yours to push.
    FastForwarded,
    /// This many of your commits now sit on top of the upstream tip.
    Moved(usize),
}

/// Re-bases the ledger's unpushed commits onto `upstream` and moves the branch there; rows
/// re-stamped are recorded again at `now`.
pub fn rebase(ledger: &mut Ledger, upstream: Oid, signer: &Signer, now: Timestamp) -> Result<Rebased> {
    let repo = &ledger.repo;
    let local = ledger.head;
    let base = repo
        .merge_base(local, upstream)
        .context("your branch and the remote's have no history in common")?;
    let pending = unpushed(ledger, base)?;
    let stale_before = stale_before(&ledger.state, now);
    if base == upstream && !pending.iter().flat_map(|c| &c.rows).any(|r| r.timestamp < stale_before) {
        return Ok(Rebased::AlreadyOnTop);
    }
    let fingerprint = signer.key.public().fingerprint();
    for commit in &pending {
        if let Some(row) = commit.rows.iter().find(|r| r.key != fingerprint && !r.is_portable()) {
            bail!("unpushed seq {} ({}) is signed by {}, not by your key {fingerprint}: only your own entries can be re-signed; re-base by hand", row.seq, row.summary(), row.key);
        }
    }
    // From the nearest checkpoint, not from genesis: a re-base must be quick to win a race.
    let mut state = StateCache::of(repo)
        .state_at(repo, upstream, None)
        .context("the remote's ledger cannot be replayed; not building on it")?;
    let mut head = upstream;
    let mut renumber = Renumbering::default();
    for commit in &pending {
        let valid_before = key_valid(&state, &fingerprint);
        let rows = renumber.apply(&mut state, &commit.rows, signer, now, stale_before)?;
        let parent = repo.find_commit(head)?;
        let files: Vec<RootFile> = commit.policy.iter().map(|bytes| RootFile { name: POLICY_FILE, bytes }).collect();
        settle_commit(&mut state, &files, signer, valid_before)?;
        let at = rows.last().map_or(now, |r| r.timestamp);
        // The message is made anew: it names the rows' new seqs.
        head = write_commit(repo, Some(&parent), &rows, &files, &state, signer, at)?;
    }
    let paths = write::changed_paths(repo, Some(repo.find_commit(local)?.tree_id()), repo.find_commit(head)?.tree_id())?;
    write::ensure_clean(repo, &paths)?;
    let log = if pending.is_empty() {
        "smartup push: fast-forward"
    } else {
        "smartup push: re-based unpushed entries"
    };
    write::advance_branch(repo, &ledger.branch, Some(local), head, log)?;
    write::refresh_worktree(repo, &paths)?;
    ledger.head = head;
    ledger.state = state;
    Ok(if pending.is_empty() {
        Rebased::FastForwarded
    } else {
        Rebased::Moved(pending.len())
    })
}

/// Whether some unpushed row (after `upstream`) was recorded so long ago that the forge
/// would refuse it at `now`: then [`rebase`] re-stamps it even when the remote has not moved.
pub fn needs_restamp(ledger: &Ledger, upstream: Oid, now: Timestamp) -> Result<bool> {
    let base = ledger
        .repo
        .merge_base(ledger.head, upstream)
        .context("your branch and the remote's have no history in common")?;
    let stale_before = stale_before(&ledger.state, now);
    Ok(unpushed(ledger, base)?
        .iter()
        .flat_map(|c| &c.rows)
        .any(|r| r.timestamp < stale_before))
}

/// Rows recorded before this are re-stamped: half the policy's recording lag before `now`,
/// so that they reach the forge well within the lag.
fn stale_before(state: &State, now: Timestamp) -> Timestamp {
    now.plus(-state.policy.hook.recording_lag_seconds() / 2)
}

/// Your commits after `base`, the common history with the remote.
fn unpushed(ledger: &Ledger, base: Oid) -> Result<Vec<Pending>> {
    let ours = crate::repo::chain_after(&ledger.repo, ledger.head, Some(base))?
        .ok_or_else(|| anyhow!("the common history of your branch and the remote's is not on your first-parent line; re-base by hand"))?;
    collect(ledger, &ours)
}

fn collect(ledger: &Ledger, commits: &[Oid]) -> Result<Vec<Pending>> {
    let mut out = Vec::new();
    for oid in commits {
        let added = ledger
            .commit_rows(&ledger.repo.find_commit(*oid)?)
            .with_context(|| format!("your unpushed commit {oid} cannot be re-based"))?;
        out.push(Pending {
            rows: added.rows.into_iter().map(|(row, _)| row).collect(),
            policy: added.policy,
        });
    }
    Ok(out)
}

/// Old seq → new seq of re-based rows, for the columns that name other rows.
#[derive(Default)]
struct Renumbering {
    seq: HashMap<u64, u64>,
}

impl Renumbering {
    /// Renumbers, re-stamps (rows recorded before `stale_before` are recorded again at
    /// `now`; none comes before the row before it), re-signs and re-checks `rows`.
    fn apply(&mut self, state: &mut State, rows: &[Row], signer: &Signer, now: Timestamp, stale_before: Timestamp) -> Result<Vec<Row>> {
        let mut out = Vec::with_capacity(rows.len());
        for original in rows {
            let mut row = original.clone();
            row.seq = state.last_seq + 1;
            let recorded = if row.timestamp < stale_before { now } else { row.timestamp };
            row.timestamp = state.last_timestamp.map_or(recorded, |last| recorded.max(last));
            self.seq.insert(original.seq, row.seq);
            // A portable row someone else signed (a relayed join) keeps its columns and its
            // signature, which covers neither seq nor time.
            if original.key == signer.key.public().fingerprint() || !original.is_portable() {
                self.rewrite_references(&mut row);
                signer.sign(&mut row, state);
            }
            rules::apply(state, &row, Some(now.plus(300))).map_err(|v| {
                Refused(violation(
                    v.code,
                    format!(
                        "your unpushed entry (was seq {}: {}) no longer fits on top of the remote: {}. Your branch is unchanged; \
                         fetch, look at what others recorded, and record what still applies",
                        original.seq,
                        original.summary(),
                        v.message
                    ),
                ))
            })?;
            out.push(row);
        }
        Ok(out)
    }

    /// Columns that name another row by its seq (`session`, `payment`, `request`,
    /// `confirmation`) follow that row's new seq when it is one of the re-based rows; the
    /// times of a session (`happened_at`, the log's `started` and `stopped`) say when the work
    /// happened and never move.
    fn rewrite_references(&self, row: &mut Row) {
        let schema = row.schema();
        for (column, value) in schema.columns.iter().zip(row.columns.iter_mut()) {
            if column.kind != SEQ_REFERENCE {
                continue;
            }
            if let Some(new) = value.parse::<u64>().ok().and_then(|old| self.seq.get(&old)) {
                *value = new.to_string();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::schema::table_id;

    fn row(table: &str, seq: u64, at: &str, values: &[(&str, &str)]) -> Row {
        Row::draft(table_id(table).unwrap(), seq, at.parse().unwrap(), "alice", "stop-work", values).unwrap()
    }

    #[test]
    fn sessions_follow_the_renumbering_and_their_times_stay() {
        let mut renumbering = Renumbering::default();
        // The start row (old seq 10) became seq 12.
        renumbering.seq.insert(10, 12);
        let old_log = [
            ("session", "10"),
            ("task", "6_1_1_1"),
            ("owner", "alice"),
            ("started", "2026-01-05T08:00:00Z"),
            ("stopped", "2026-01-05T10:00:00Z"),
            ("seconds", "7200"),
        ];
        let mut log = row("session_logs", 14, "2026-01-05T10:30:00Z", &old_log);
        renumbering.rewrite_references(&mut log);
        assert_eq!(
            (log.get("session"), log.get("started"), log.get("stopped"), log.get("seconds")),
            ("12", "2026-01-05T08:00:00Z", "2026-01-05T10:00:00Z", "7200")
        );
        let mut unrelated = row("session_logs", 15, "2026-01-05T10:30:00Z", &[("session", "9"), ("task", "6_1_1_1")]);
        renumbering.rewrite_references(&mut unrelated);
        assert_eq!(unrelated.get("session"), "9");
    }

    #[test]
    fn payments_and_recovery_requests_follow_the_renumbering_too() {
        let mut renumbering = Renumbering::default();
        // An unpushed deposit (old seq 10) and recovery request (old seq 11) moved up by two.
        renumbering.seq.insert(10, 12);
        renumbering.seq.insert(11, 13);
        let mut owner = row("book-of-owners", 14, "2026-01-05T10:30:00Z", &[("owner", "zoe"), ("payment", "10")]);
        renumbering.rewrite_references(&mut owner);
        assert_eq!(owner.get("payment"), "12", "the license names its deposit's new seq");
        let mut confirm = row("keys", 15, "2026-01-05T10:30:00Z", &[("owner", "zoe"), ("request", "11")]);
        renumbering.rewrite_references(&mut confirm);
        assert_eq!(confirm.get("request"), "13");
        // A reference to a row that was already on the forge keeps its seq.
        let mut pushed = row("book-of-owners", 16, "2026-01-05T10:30:00Z", &[("owner", "yan"), ("payment", "7")]);
        renumbering.rewrite_references(&mut pushed);
        assert_eq!(pushed.get("payment"), "7");
    }
}
