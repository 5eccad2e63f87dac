//! Walking a ledger's history: from the root commit along first parents, each commit's new
//! rows are replayed through the rules in `seq` order. With signatures on, every row
//! signature and every commit signature is checked too (`smartup verify`); without, the walk
//! yields the state the CLI drafts new entries against. The walk reads git and attributes;
//! the rules judge: rows by `rules::apply`, whole commits by `rules::commit` on the facts the
//! walk gathers (the new `ledger.toml`, the committer's key, the shape of a merge).

pub mod cache;
mod readahead;
mod signatures;
mod signers;
pub mod witness;

use crate::ledger::row::{Location, Row};
use crate::repo::{self, Chain, Finding, RowStream};
use crate::rules::commit::{CommitFacts, SignerFacts};
use crate::rules::{self, State};
use crate::time::Timestamp;
use anyhow::Result;
use git2::{Oid, Repository};
use readahead::ReadCommit;
use signatures::SignaturePipeline;
use signers::{CommitSigners, LineSigners};
use std::ops::Range;

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
    /// Read long histories on reader threads (see `readahead`), each opening the repository
    /// again by its path: only for history in the repository itself, not for objects a hook
    /// sees in a push's quarantine.
    pub read_ahead: bool,
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

/// One commit of a walk, as much as a later check of time needs: 32 bytes, kept for every
/// commit of history.
#[derive(Clone, Copy)]
pub struct Walked {
    /// The commit.
    pub commit: Oid,
    /// Rows it added (at most `u32::MAX` are counted: no commit holds billions of rows).
    rows: u32,
    /// The recorded time of its first row; meaningless while it has none.
    first_row_time: Timestamp,
}

const _: () = assert!(std::mem::size_of::<Walked>() == 32);

impl Walked {
    /// A commit walked with no rows yet.
    fn new(commit: Oid) -> Walked {
        Walked {
            commit,
            rows: 0,
            first_row_time: Timestamp(0),
        }
    }

    /// Counts a row recorded at `time`.
    fn add_row(&mut self, time: Timestamp) {
        if self.rows == 0 {
            self.first_row_time = time;
        }
        self.rows = self.rows.saturating_add(1);
    }

    /// Rows it added.
    pub fn rows(&self) -> u64 {
        u64::from(self.rows)
    }

    /// The recorded time of its first row (rows never go back in time), if it has rows.
    pub fn first_recorded(&self) -> Option<Timestamp> {
        (self.rows > 0).then_some(self.first_row_time)
    }
}

impl std::fmt::Debug for Walked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Walked")
            .field("commit", &self.commit)
            .field("rows", &self.rows)
            .field("first_recorded", &self.first_recorded())
            .finish()
    }
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
    // From genesis, each commit's signature is read with the line and its check queued at
    // once (the workers are busy while the line is read). A walk on from a base (a push)
    // reads its few commits' signatures once the line is known to continue the base: a
    // force-push would otherwise have every signature of history checked, for nothing.
    let mut reading = options.check_signatures.then(Reading::start);
    let with_line = base.is_none();
    let chain = match reading.as_mut().filter(|_| with_line) {
        Some(Reading { pipeline, signers }) => {
            let mut note = |header| signers.note(header, pipeline);
            repo::read_chain(repo, tip, base, Some(&mut note))?
        }
        None => repo::read_chain(repo, tip, base, None)?,
    };
    let Some(chain) = chain else {
        let base = base.map(|b| b.to_string()).unwrap_or_default();
        let finding = Finding::general(
            "history",
            format!("{tip} does not continue the ledger from {base} along first parents (a force-push or a rewrite)"),
        );
        return Ok(Report::stopped(start.map(|(_, state)| state), tip, finding));
    };
    if let (Some(anchor), Some(root), None) = (options.genesis, chain.links.first(), base) {
        if root.id != anchor {
            let finding = Finding::general(
                "genesis",
                format!("history starts at commit {}, not at the pinned genesis {anchor}", root.id),
            );
            return Ok(Report::stopped(None, tip, finding));
        }
    }
    if let (Some(Reading { pipeline, signers }), false) = (reading.as_mut(), with_line) {
        for link in chain.links.iter().rev() {
            signers.note(repo::read_commit_header(repo, link.id, true)?, pipeline);
        }
    }
    let checks = reading.map(|Reading { pipeline, signers }| Checks {
        pipeline,
        signers: signers.in_line_order(),
    });
    let range = 0..chain.links.len();
    walk_chain(repo, start.map(|(_, state)| state), &chain, range, checks, tip, options)
}

/// The signature checks of a walk while its line of history is read: the workers, and each
/// commit's signer as read, newest first.
struct Reading {
    pipeline: SignaturePipeline,
    signers: CommitSigners,
}

impl Reading {
    fn start() -> Reading {
        Reading {
            pipeline: SignaturePipeline::start(SIGNATURE_THREADS),
            signers: CommitSigners::default(),
        }
    }
}

/// The signature checks of a walk: the workers, and each commit's signer in the order of
/// the line.
struct Checks {
    pipeline: SignaturePipeline,
    signers: LineSigners,
}

/// Threads that check signatures (a machine's cores, beside the walk and the readers).
const SIGNATURE_THREADS: usize = 2;

impl Report {
    /// A report of a walk that could not start: `finding` says why.
    fn stopped(state: Option<State>, tip: Oid, finding: Finding) -> Report {
        Report {
            state,
            rows: 0,
            commits: 0,
            findings: vec![finding],
            tip,
            accepted: Vec::new(),
            walked: Vec::new(),
        }
    }
}

/// Walks the commits `range` of `chain`, the last of which is `tip`, from `start`: the state
/// after the commit before the range (the link before it, or the commit `chain` continues),
/// or from the root commit when `start` is `None`. With `checks`, signatures are checked
/// (each commit's signer read with `chain`).
fn walk_chain(
    repo: &Repository,
    start: Option<State>,
    chain: &Chain,
    range: Range<usize>,
    mut checks: Option<Checks>,
    tip: Oid,
    options: &Options,
) -> Result<Report> {
    repo::tune_object_reading();
    let mut report = Report {
        state: start,
        rows: 0,
        commits: 0,
        findings: Vec::new(),
        tip,
        accepted: Vec::new(),
        walked: Vec::new(),
    };
    let mut trees = repo::Trees::new(repo);
    let (mut next, total) = (range.start, range.len());
    let progress = |next: usize| {
        if let Some(progress) = options.progress {
            progress(next - range.start, total);
        }
    };
    // Commits are read here until the state is known (the root commit's policy gives it) and
    // while too few remain to be worth reader threads.
    while next < range.end && (report.state.is_none() || !options.read_ahead || range.end - next < readahead::WORTH_READERS) {
        check_deadline(options)?;
        let commit = readahead::read_commit(&mut trees, chain, next)?;
        next += 1;
        let ok = walk_commit(commit, &mut trees, options, &mut report, checks.as_mut())?;
        report.commits += 1;
        progress(next);
        if !ok {
            return Ok(finish(report, checks, chain));
        }
    }
    if let (Some(state), true) = (report.state.as_ref(), next < range.end) {
        let segment_rows = state.policy.ledger.segment_rows;
        readahead::read_ahead(repo, chain, next..range.end, segment_rows, READERS, |commit| {
            check_deadline(options)?;
            let ok = walk_commit(commit, &mut trees, options, &mut report, checks.as_mut())?;
            report.commits += 1;
            next += 1;
            progress(next);
            Ok(ok)
        })?;
    }
    Ok(finish(report, checks, chain))
}

/// Threads that read history ahead of the rules (on a machine's cores, beside the
/// signature workers).
const READERS: usize = 2;

/// Adds the signature findings once every queued check is done.
fn finish(mut report: Report, checks: Option<Checks>, chain: &Chain) -> Report {
    if let Some(Checks { pipeline, signers }) = checks {
        report.findings.extend(signers.reached_only(pipeline.finish(), chain));
    }
    report
}

fn check_deadline(options: &Options) -> Result<()> {
    match options.deadline {
        Some(deadline) if std::time::Instant::now() > deadline => anyhow::bail!("the time budget for checking ledger history ran out"),
        _ => Ok(()),
    }
}

/// The state exists once the root commit's policy is read: makes it from `commit` when it
/// is still missing (false, with a finding, when the root commit's policy is unusable).
fn ensure_state(report: &mut Report, commit: &ReadCommit) -> bool {
    if report.state.is_none() {
        match rules::commit::genesis(commit.changes.policy.as_deref()) {
            Ok(state) => report.state = Some(state),
            Err(v) => {
                report.findings.push(Finding::of(v).in_commit(commit.id));
                return false;
            }
        }
    }
    true
}

/// Replays one commit; returns false when history cannot be followed past it. Its rows are
/// those a reader read, or, when it left them (a commit of many segments, or no reader),
/// streamed here through `trees` one segment at a time, so a huge commit never sits in
/// memory whole and the deadline is checked as it is read.
fn walk_commit(
    commit: ReadCommit,
    trees: &mut repo::Trees,
    options: &Options,
    report: &mut Report,
    checks: Option<&mut Checks>,
) -> Result<bool> {
    let id = commit.id;
    if !ensure_state(report, &commit) {
        return Ok(false);
    }
    let (mut pipeline, committer_key) = match checks {
        Some(Checks { pipeline, signers }) => (Some(pipeline), signers.signer(commit.position, id, &mut report.findings)),
        None => (None, None),
    };
    if !commit.changes.findings.is_empty() {
        report.findings.extend(commit.changes.findings.into_iter().map(|f| f.in_commit(id)));
        return Ok(false);
    }
    let Some(state) = report.state.as_mut() else { return Ok(false) };
    let valid_before = committer_key.is_some_and(|fp| rules::commit::key_valid(state, fp));

    let mut walked = Walked::new(id);
    let read = commit.rows.into_iter().map(Ok).chain(commit.broken.map(Err));
    let mut stream = RowStream::new(trees, commit.changes.sources, state.policy.ledger.segment_rows);
    let streamed = std::iter::from_fn(|| stream.next_row().transpose());
    for next in read.chain(streamed) {
        let (row, location) = match next {
            Ok(next) => next,
            Err(finding) => {
                report.findings.push(finding.in_commit(id));
                return Ok(false);
            }
        };
        report.rows += 1;
        if report.rows.is_multiple_of(4096) {
            check_deadline(options)?;
        }
        walked.add_row(row.timestamp);
        if let Some(pipeline) = pipeline.as_mut() {
            if let Ok(key) = rules::signer_key(state, &row) {
                pipeline.push(&row, &state.ledger_id, &state.policy.ledger.namespace, key, &location, id);
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
        root: commit.root,
        policy_file: commit.changes.policy.as_deref(),
        signer: committer_key.map(|fingerprint| SignerFacts {
            fingerprint,
            valid_before,
            empty_merge: commit.empty_merge,
        }),
    };
    let violations = rules::commit::end_commit(state, &facts);
    report.findings.extend(violations.into_iter().map(|v| Finding::of(v).in_commit(id)));
    Ok(true)
}
