//! Re-basing unpushed entries onto a newer upstream tip: each of your commits becomes a new
//! commit on top of it, its rows renumbered (`seq`, session ids), re-dated only when they
//! would come before the upstream's last row, re-signed with your key and checked again by
//! the rules. Nothing moves unless every entry still passes.

use super::context::{settle_policy, Ledger};
use super::identity::Signer;
use super::Refused;
use crate::ledger::row::Row;
use crate::ledger::POLICY_FILE;
use crate::repo::write::{self, RootFile};
use crate::repo::{commit_changes, RowStream};
use crate::rules::{self, violation, State};
use crate::time::Timestamp;
use crate::verify::{walk, Options};
use anyhow::{anyhow, bail, Context, Result};
use git2::Oid;
use std::collections::HashMap;

/// One of your unpushed commits: its rows, its policy file if it amended one, its message.
struct Pending {
    rows: Vec<Row>,
    policy: Option<Vec<u8>>,
    message: String,
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

/// Re-bases the ledger's unpushed commits onto `upstream` and moves the branch there.
pub fn rebase(ledger: &mut Ledger, upstream: Oid, signer: &Signer) -> Result<Rebased> {
    let repo = &ledger.repo;
    let local = ledger.head;
    let base = repo
        .merge_base(local, upstream)
        .context("your branch and the remote's have no history in common")?;
    if base == upstream {
        return Ok(Rebased::AlreadyOnTop);
    }
    let ours = crate::repo::chain_after(repo, local, Some(base))?
        .ok_or_else(|| anyhow!("the common history of your branch and the remote's is not on your first-parent line; re-base by hand"))?;
    let pending = collect(ledger, &ours)?;
    let fingerprint = signer.key.public().fingerprint();
    for commit in &pending {
        if let Some(row) = commit.rows.iter().find(|r| r.key != fingerprint) {
            bail!("unpushed seq {} ({}) is signed by {}, not by your key {fingerprint}: only your own entries can be re-signed; re-base by hand", row.seq, row.summary(), row.key);
        }
    }
    let report = walk(repo, upstream, &Options::default())?;
    if let Some(first) = report.findings.first() {
        bail!("the remote's ledger is broken ({first}); not building on it");
    }
    let mut state = report.state.context("the remote's branch holds no ledger")?;
    let mut head = upstream;
    if pending.is_empty() {
        write::advance_branch(repo, &ledger.branch, Some(local), upstream, "smartup push: fast-forward")?;
    }
    let mut renumber = Renumbering::default();
    for commit in &pending {
        let rows = renumber.apply(&mut state, &commit.rows, signer)?;
        let parent = repo.find_commit(head)?;
        let files: Vec<RootFile> = commit.policy.iter().map(|bytes| RootFile { name: POLICY_FILE, bytes }).collect();
        settle_policy(&mut state, &files)?;
        let author = signer.author();
        let at = rows.last().map_or(Timestamp::now(), |r| r.timestamp);
        head = write::commit_rows(
            repo,
            Some(&parent),
            &rows,
            &files,
            state.policy.ledger.segment_rows,
            &signer.key,
            &author,
            &commit.message,
            at,
        )?;
    }
    if !pending.is_empty() {
        write::advance_branch(repo, &ledger.branch, Some(local), head, "smartup push: re-based unpushed entries")?;
    }
    write::refresh_worktree(repo)?;
    ledger.head = head;
    ledger.state = state;
    Ok(if pending.is_empty() {
        Rebased::FastForwarded
    } else {
        Rebased::Moved(pending.len())
    })
}

fn collect(ledger: &Ledger, commits: &[Oid]) -> Result<Vec<Pending>> {
    let repo = &ledger.repo;
    let segment_rows = ledger.state.policy.ledger.segment_rows;
    let mut out = Vec::new();
    for oid in commits {
        let commit = repo.find_commit(*oid)?;
        let changes = commit_changes(repo, &commit)?;
        if let Some(f) = changes.findings.first() {
            bail!("your unpushed commit {oid} is not a clean append ({f})");
        }
        let mut stream = RowStream::new(repo, changes.sources, segment_rows);
        let mut rows = Vec::new();
        while let Some((row, _)) = stream.next_row().map_err(|f| anyhow!("{f}"))? {
            rows.push(row);
        }
        let message = commit.message().unwrap_or("smartup entry").to_string();
        out.push(Pending {
            rows,
            policy: changes.policy,
            message,
        });
    }
    Ok(out)
}

/// Old seq → new seq and time of re-based rows, for the columns that name other rows.
#[derive(Default)]
struct Renumbering {
    seq: HashMap<u64, (u64, Timestamp)>,
}

impl Renumbering {
    fn apply(&mut self, state: &mut State, rows: &[Row], signer: &Signer) -> Result<Vec<Row>> {
        let mut out = Vec::with_capacity(rows.len());
        for original in rows {
            let mut row = original.clone();
            row.seq = state.last_seq + 1;
            row.timestamp = state.last_timestamp.map_or(row.timestamp, |last| row.timestamp.max(last));
            self.seq.insert(original.seq, (row.seq, row.timestamp));
            self.rewrite_references(&mut row, out.last());
            signer.sign(&mut row, state);
            rules::apply(state, &row, Some(Timestamp::now().plus(300))).map_err(|v| {
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

    /// A session is named by the seq of its start-work row, and its log repeats the times
    /// of its clock rows (the stop row is `previous`, the row written right before the log).
    fn rewrite_references(&self, row: &mut Row, previous: Option<&Row>) {
        let schema = row.schema();
        let Some(i) = schema.column("session") else { return };
        let moved = row.columns[i].parse::<u64>().ok().and_then(|old| self.seq.get(&old).copied());
        if let Some((session, _)) = moved {
            row.columns[i] = session.to_string();
        }
        let (Some(s), Some(e), Some(d)) = (schema.column("started"), schema.column("stopped"), schema.column("seconds")) else {
            return;
        };
        if let Some((_, started)) = moved {
            row.columns[s] = started.to_string();
        }
        if let Some(stop) = previous {
            row.columns[e] = stop.timestamp.to_string();
        }
        if let (Ok(started), Ok(stopped)) = (row.columns[s].parse::<Timestamp>(), row.columns[e].parse::<Timestamp>()) {
            row.columns[d] = (stopped.0 - started.0).to_string();
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
    fn sessions_and_their_logs_follow_the_renumbering() {
        let mut renumbering = Renumbering::default();
        // The start row (old seq 10) became seq 12 at 09:00; its stop (old 11) seq 13 at 10:30.
        renumbering.seq.insert(10, (12, "2026-01-05T09:00:00Z".parse().unwrap()));
        renumbering.seq.insert(11, (13, "2026-01-05T10:30:00Z".parse().unwrap()));
        let mut stop = row(
            "work_clock",
            13,
            "2026-01-05T10:30:00Z",
            &[("session", "10"), ("task", "6_1_1_1"), ("owner", "alice")],
        );
        renumbering.rewrite_references(&mut stop, None);
        assert_eq!(stop.get("session"), "12");
        let old_log = [
            ("session", "10"),
            ("task", "6_1_1_1"),
            ("owner", "alice"),
            ("started", "2026-01-05T08:00:00Z"),
            ("stopped", "2026-01-05T10:00:00Z"),
            ("seconds", "7200"),
        ];
        let mut log = row("session_logs", 14, "2026-01-05T10:30:00Z", &old_log);
        renumbering.rewrite_references(&mut log, Some(&stop));
        assert_eq!(
            (log.get("session"), log.get("started"), log.get("stopped")),
            ("12", "2026-01-05T09:00:00Z", "2026-01-05T10:30:00Z")
        );
        assert_eq!(log.get("seconds"), "5400");
    }
}
