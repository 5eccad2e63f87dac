//! The forge as a witness of time. After each accepted push the forge's post-receive
//! companion appends a commit to [`WITNESS_REF`], SSH-signed with an instance key (`[hook]
//! instance_keys`), whose message says "at server time T the ledger's tip was commit C". A
//! reviewer who fetched that ref checks offline that no row was recorded (its `timestamp`)
//! longer than the policy's lag before the first witness that covers its commit.

use crate::ledger::policy::Policy;
use crate::repo::{self, Finding, RowStream};
use crate::rules::violation;
use crate::time::Timestamp;
use crate::verify::Report;
use anyhow::{Context, Result};
use git2::{Oid, Repository};
use std::collections::HashMap;

/// The ref holding the chain of witness commits (off the ledger branch, so that pushes never
/// race it).
pub const WITNESS_REF: &str = "refs/smartup/witness";

/// The first line of a witness commit's message.
const HEADER: &str = "smartup witness";

/// The message of a witness commit: the ledger tip and the server time it was seen at.
pub fn message(tip: Oid, time: Timestamp) -> String {
    format!("{HEADER}\n\ntip={tip}\ntime={time}\n")
}

/// Reads a witness commit's message back: the tip and the time, or `None` when it is not one.
pub fn parse(message: &str) -> Option<(Oid, Timestamp)> {
    let mut lines = message.lines();
    if lines.next() != Some(HEADER) {
        return None;
    }
    let (mut tip, mut time) = (None, None);
    for line in lines {
        if let Some(v) = line.strip_prefix("tip=") {
            tip = Oid::from_str(v).ok();
        } else if let Some(v) = line.strip_prefix("time=") {
            time = v.parse().ok();
        }
    }
    Some((tip?, time?))
}

/// What the witnesses said about a ledger.
#[derive(Debug, Default, serde::Serialize)]
pub struct Coverage {
    /// Witness statements read (signed by an instance key).
    pub witnesses: usize,
    /// Rows the first witness covers: recorded before the forge began witnessing, so no
    /// witness tells when the forge first saw them; they are not judged.
    pub before_witnessing: u64,
    /// Rows whose commit a later witness covers first, judged against its time.
    pub covered: u64,
    /// Rows after the last witness (not yet witnessed; not an error).
    pub unwitnessed: u64,
    /// Rows recorded too long before their first witness, and witnesses that do not verify.
    #[serde(skip)]
    pub findings: Vec<Finding>,
}

/// Checks a walk of the ledger's history (from genesis) against the witness ref, if the
/// repository has one (`None` otherwise). Only commits whose first row was recorded before a
/// witness's bound are read again, to name their late rows.
pub fn check(repo: &Repository, walk: &Report, policy: &Policy) -> Result<Option<Coverage>> {
    let Ok(witness_tip) = repo.refname_to_id(WITNESS_REF) else {
        return Ok(None);
    };
    let ledger = &walk.walked;
    let position: HashMap<Oid, usize> = ledger.iter().enumerate().map(|(i, w)| (w.commit, i)).collect();
    let lag = policy.hook.recording_lag_seconds();
    let mut coverage = Coverage::default();
    let mut next = 0; // the first ledger commit no witness covers yet
    for oid in repo::first_parent_chain(repo, witness_tip)? {
        let Some((seen, time)) = statement(repo, oid, policy, &mut coverage.findings)? else {
            continue;
        };
        coverage.witnesses += 1;
        let end = match position.get(&seen) {
            Some(i) => i + 1,
            // A witness of a later tip (this clone is behind it) covers everything here.
            None if repo.graph_descendant_of(seen, walk.tip).unwrap_or(false) => ledger.len(),
            None => continue,
        };
        let first = coverage.witnesses == 1;
        for walked in ledger.get(next..end).unwrap_or_default() {
            if first {
                coverage.before_witnessing += walked.rows();
                continue;
            }
            coverage.covered += walked.rows();
            let not_before = time.plus(-lag);
            if walked.first_recorded().is_some_and(|t| t < not_before) {
                late_rows(repo, walked.commit, policy, not_before, oid, &mut coverage.findings)?;
            }
        }
        next = next.max(end);
    }
    coverage.unwitnessed = walk.rows.saturating_sub(coverage.covered + coverage.before_witnessing);
    Ok(Some(coverage))
}

/// A witness commit's tip and time, when it is signed by an instance key of the policy.
fn statement(repo: &Repository, oid: Oid, policy: &Policy, findings: &mut Vec<Finding>) -> Result<Option<(Oid, Timestamp)>> {
    let commit = repo.find_commit(oid).with_context(|| format!("cannot read witness commit {oid}"))?;
    let signer = repo::verified_signer(repo, oid);
    let by_instance = signer.is_some_and(|key| {
        policy
            .hook
            .instance_keys
            .iter()
            .any(|k| crate::sign::PublicKey::parse_openssh(k).is_ok_and(|p| p.fingerprint() == key.fingerprint()))
    });
    if !by_instance {
        findings.push(Finding::general(
            "commit-signature",
            format!("witness commit {oid} ({WITNESS_REF}) is not signed by an instance key of the policy ([hook] instance_keys); it witnesses nothing"),
        ));
        return Ok(None);
    }
    let parsed = parse(commit.message().unwrap_or(""));
    if parsed.is_none() {
        findings.push(Finding::general(
            "unreadable",
            format!("witness commit {oid} ({WITNESS_REF}) does not say `tip=<commit>` and `time=<timestamp>`"),
        ));
    }
    Ok(parsed)
}

/// Reports the rows of one ledger commit recorded before `not_before`.
fn late_rows(
    repo: &Repository,
    commit: Oid,
    policy: &Policy,
    not_before: Timestamp,
    witness: Oid,
    findings: &mut Vec<Finding>,
) -> Result<()> {
    let mut trees = repo::Trees::new(repo);
    let changes = repo::changes_of(&mut trees, &repo::read_commit_header(repo, commit, false)?)?;
    let mut stream = RowStream::new(&mut trees, changes.sources, policy.ledger.segment_rows);
    // Unreadable rows are reported by the walk itself.
    while let Ok(Some((row, location))) = stream.next_row() {
        if row.timestamp >= not_before {
            continue;
        }
        let late = violation(
            "recorded-late",
            format!(
                "recorded at {}, but the forge first saw it at {} (witness {witness}): longer than the policy's recording lag",
                row.timestamp,
                not_before.plus(policy.hook.recording_lag_seconds())
            ),
        );
        findings.push(Finding::for_row(late, &row, &location).in_commit(commit));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_and_others_are_not_witnesses() {
        let tip = Oid::from_str("1111111111111111111111111111111111111111").unwrap();
        let time: Timestamp = "2026-11-30T12:00:00Z".parse().unwrap();
        assert_eq!(parse(&message(tip, time)), Some((tip, time)));
        assert_eq!(parse("smartup witness\n\ntip=xyz\ntime=2026-11-30T12:00:00Z\n"), None);
        assert_eq!(
            parse("a commit\n\ntip=1111111111111111111111111111111111111111\ntime=2026-11-30T12:00:00Z\n"),
            None
        );
    }
}
