//! Walking a ledger's history: from the root commit along first parents, each commit's new
//! rows are replayed through the rules in `seq` order. With signatures on, every row
//! signature and every commit signature is checked too (`smartup verify`); without, the walk
//! yields the state the CLI drafts new entries against. The walk reads git and attributes;
//! the rules judge: rows by `rules::apply`, whole commits by `rules::commit` on the facts the
//! walk gathers (the new `ledger.toml`, the committer's key, the shape of a merge).

pub mod cache;
mod signatures;
pub mod witness;

use crate::ledger::row::{Location, Row};
use crate::repo::{self, Finding, RowStream};
use crate::rules::commit::{CommitFacts, SignerFacts};
use crate::rules::{self, State};
use crate::time::Timestamp;
use anyhow::{Context, Result};
use git2::{Oid, Repository};
use signatures::SignaturePipeline;

/// What a walk calls with each row: the row, where it is stored, its commit, and the state
/// before it is applied.
pub type Observer<'a> = dyn Fn(&Row, &Location, Oid, &State) + 'a;

/// How to walk.
#[derive(Default)]
pub struct Options<'p> {
    /// Check row and commit signatures (verify) or trust them (drafting).
    pub check_signatures: bool,
    /// The root commit the walk must start from (the trust anchor).
    pub genesis: Option<Oid>,
    /// Upper bound for row timestamps (the clock), if any.
    pub not_after: Option<Timestamp>,
    /// Lower bound for row timestamps (the clock minus the recording lag), if any.
    pub not_before: Option<Timestamp>,
    /// Called after each commit with (commits done, commits in all).
    pub progress: Option<&'p dyn Fn(usize, usize)>,
    /// Give up (with an error) when the walk is still running at this instant.
    pub deadline: Option<std::time::Instant>,
    /// Called with each row, where it is stored, its commit and the state before it is
    /// applied (a front end folding history while it is verified, as the site does).
    pub observe: Option<&'p Observer<'p>>,
}

/// How many row summaries a report keeps (for messages such as the hook's).
const SUMMARIES: usize = 20;

/// What a walk found.
pub struct Report {
    /// The state after the last row, if the policy could be read at all.
    pub state: Option<State>,
    /// Rows read.
    pub rows: u64,
    /// Commits walked.
    pub commits: u64,
    /// Everything wrong, in order of discovery (signature findings last, by seq).
    pub findings: Vec<Finding>,
    /// The commit walked to.
    pub tip: Oid,
    /// Summaries of the first rows accepted (`create-task 6_1_2_3 by alice`), at most 20.
    pub accepted: Vec<String>,
    /// Each commit walked, in order, with its row count and first recorded time.
    pub walked: Vec<Walked>,
}

/// One commit of a walk, as much as a later check of time needs.
#[derive(Clone, Copy, Debug)]
pub struct Walked {
    /// The commit.
    pub commit: Oid,
    /// Rows it added.
    pub rows: u64,
    /// The recorded time of its first row (rows never go back in time), if it has rows.
    pub first_recorded: Option<Timestamp>,
}

/// Walks the first-parent history that ends at `tip`, from the root commit.
pub fn walk(repo: &Repository, tip: Oid, options: &Options) -> Result<Report> {
    walk_from(repo, None, tip, options)
}

/// Walks the commits after `start` (a commit and the state after it) up to `tip`; from the
/// root commit when `start` is `None`. When `tip` does not continue `start`'s commit along
/// first parents, the report holds one `history` finding.
pub fn walk_from(repo: &Repository, start: Option<(Oid, State)>, tip: Oid, options: &Options) -> Result<Report> {
    repo::tune_object_reading();
    let base = start.as_ref().map(|(oid, _)| *oid);
    let mut report = Report {
        state: start.map(|(_, state)| state),
        rows: 0,
        commits: 0,
        findings: Vec::new(),
        tip,
        accepted: Vec::new(),
        walked: Vec::new(),
    };
    let Some(chain) = repo::chain_after(repo, tip, base)? else {
        let base = base.map(|b| b.to_string()).unwrap_or_default();
        report.findings.push(Finding::general(
            "history",
            format!("{tip} does not continue the ledger from {base} along first parents (a force-push or a rewrite)"),
        ));
        return Ok(report);
    };
    if let (Some(anchor), Some(root), None) = (options.genesis, chain.first(), base) {
        if *root != anchor {
            report.findings.push(Finding::general(
                "genesis",
                format!("history starts at commit {root}, not at the pinned genesis {anchor}"),
            ));
            return Ok(report);
        }
    }
    let mut pipeline: Option<SignaturePipeline> = None;
    let mut trees = repo::Trees::new(repo);
    for (done, oid) in chain.iter().enumerate() {
        check_deadline(options)?;
        let commit = repo.find_commit(*oid).with_context(|| format!("cannot read commit {oid}"))?;
        let ok = walk_commit(&mut trees, &commit, options, &mut report, &mut pipeline)?;
        report.commits += 1;
        if let Some(progress) = options.progress {
            progress(done + 1, chain.len());
        }
        if !ok {
            break;
        }
    }
    if let Some(pipeline) = pipeline {
        report.findings.extend(pipeline.finish());
    }
    Ok(report)
}

fn check_deadline(options: &Options) -> Result<()> {
    match options.deadline {
        Some(deadline) if std::time::Instant::now() > deadline => anyhow::bail!("the time budget for checking ledger history ran out"),
        _ => Ok(()),
    }
}

/// Replays one commit; returns false when history cannot be followed past it.
fn walk_commit(
    trees: &mut repo::Trees,
    commit: &git2::Commit,
    options: &Options,
    report: &mut Report,
    pipeline: &mut Option<SignaturePipeline>,
) -> Result<bool> {
    let repo = trees.repo;
    let id = commit.id();
    let changes = repo::read_changes(trees, commit)?;
    if report.state.is_none() {
        match rules::commit::genesis(changes.policy.as_deref()) {
            Ok(state) => report.state = Some(state),
            Err(v) => {
                report.findings.push(Finding::of(v).in_commit(id));
                return Ok(false);
            }
        }
    }
    if let (true, None, Some(state)) = (options.check_signatures, pipeline.as_ref(), report.state.as_ref()) {
        *pipeline = Some(SignaturePipeline::start(&state.policy.ledger.namespace, 2));
    }
    let committer_key = match pipeline.as_mut() {
        Some(pipeline) => commit_signer(repo, id, pipeline, &mut report.findings),
        None => None,
    };
    if !changes.findings.is_empty() {
        report.findings.extend(changes.findings.into_iter().map(|f| f.in_commit(id)));
        return Ok(false);
    }
    let Some(state) = report.state.as_mut() else { return Ok(false) };
    let valid_before = committer_key.as_deref().is_some_and(|fp| rules::commit::key_valid(state, fp));

    let mut stream = RowStream::new(trees, changes.sources, state.policy.ledger.segment_rows);
    let mut walked = Walked {
        commit: id,
        rows: 0,
        first_recorded: None,
    };
    loop {
        let (row, location) = match stream.next_row() {
            Ok(Some(next)) => next,
            Ok(None) => break,
            Err(finding) => {
                report.findings.push(finding.in_commit(id));
                return Ok(false);
            }
        };
        report.rows += 1;
        walked.rows += 1;
        walked.first_recorded.get_or_insert(row.timestamp);
        if report.rows.is_multiple_of(4096) {
            check_deadline(options)?;
        }
        if let Some(pipeline) = pipeline.as_mut() {
            if let Ok(key) = rules::signer_key(state, &row) {
                pipeline.push(&row, &state.ledger_id, key, &location, id);
            }
        }
        if let Some(observe) = options.observe {
            observe(&row, &location, id, state);
        }
        // The rules first (their codes are more precise); a late row is refused all the same.
        match rules::apply(state, &row, options.not_after).and_then(|()| rules::recorded_in_time(&row, options.not_before)) {
            Ok(()) if report.accepted.len() < SUMMARIES => report.accepted.push(row.summary()),
            Ok(()) => {}
            Err(v) => {
                report.findings.push(Finding::for_row(v, &row, &location).in_commit(id));
                rules::skip(state, &row);
            }
        }
    }
    report.walked.push(walked);
    let text_id = id.to_string();
    let facts = CommitFacts {
        id: &text_id,
        root: commit.parent_count() == 0,
        policy_file: changes.policy.as_deref(),
        signer: committer_key.as_deref().map(|fingerprint| SignerFacts {
            fingerprint,
            valid_before,
            empty_merge: empty_merge(commit),
        }),
    };
    let violations = rules::commit::end_commit(state, &facts);
    report.findings.extend(violations.into_iter().map(|v| Finding::of(v).in_commit(id)));
    Ok(true)
}

/// True when a commit is a merge that adds nothing of its own: its tree is one of its
/// parents' trees.
fn empty_merge(commit: &git2::Commit) -> bool {
    commit.parent_count() > 1 && commit.parents().any(|p| p.tree_id() == commit.tree_id())
}

/// Reads a commit's SSH signature and returns the signing key's fingerprint; the signature
/// itself is checked by the pipeline in the background (a bad one becomes a finding there).
fn commit_signer(repo: &Repository, id: Oid, pipeline: &mut SignaturePipeline, findings: &mut Vec<Finding>) -> Option<String> {
    let Ok((signature, data)) = repo.extract_signature(&id, None) else {
        findings.push(
            Finding::general(
                "commit-signature",
                format!("commit {id} is not signed; every ledger commit is SSH-signed"),
            )
            .in_commit(id),
        );
        return None;
    };
    let parsed = std::str::from_utf8(&signature)
        .map_err(|_| "the signature is not text".to_string())
        .and_then(|text| crate::sign::parse_armored(text).map_err(|e| e.to_string()))
        .and_then(|parsed| match parsed.namespace.as_str() {
            "git" => Ok(parsed),
            other => Err(format!("the signature is made for namespace {other:?}, not git's")),
        });
    match parsed {
        Ok(parsed) => {
            let fingerprint = parsed.key.fingerprint();
            pipeline.push_commit(parsed, data.to_vec(), id);
            Some(fingerprint)
        }
        Err(e) => {
            findings.push(Finding::general("commit-signature", format!("commit {id}: {e}")).in_commit(id));
            None
        }
    }
}
