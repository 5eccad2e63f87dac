//! Reading history from git, the larger part of a walk's work, on reader threads ahead of the
//! rules. What a commit adds can be read without the ledger state (only the segment size,
//! fixed at genesis, is needed), so the chain is cut into runs of [`RUN`] commits dealt out
//! to the readers in turn, each with its own repository handle; the walk takes the commits
//! back in order, in batches (a hand-over per commit cost more in thread wake-ups than the
//! reading saved). Each reader holds at most [`AHEAD_ROWS`] rows the walk has not taken
//! yet, so memory stays bounded however long the history is.

use crate::ledger::row::{Location, Row};
use crate::repo::{self, Chain, Changes, Finding, Link, RowStream, Trees};
use anyhow::{Context, Result};
use git2::{Oid, Repository};
use std::ops::Range;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Condvar, Mutex};

/// Commits one reader reads in a row before the next reader's turn (its trees stay at hand).
const RUN: usize = 256;
/// Rows one reader may have read that the walk has not taken yet.
const AHEAD_ROWS: usize = 512;
/// A reader hands over its commits in batches of at most this many commits or rows.
const BATCH: usize = 64;
/// Below this many commits, reading on the walk's own thread is cheaper than starting readers.
pub const WORTH_READERS: usize = 512;
/// A reader reads the rows of a commit of at most this many segments (2,048 rows); larger
/// commits' rows are left to the walk, which streams them a segment at a time.
const READ_SEGMENTS: usize = 64;

/// A commit as a walk needs it from git.
pub struct ReadCommit {
    /// The commit.
    pub id: Oid,
    /// Its place in the line of history walked.
    pub position: usize,
    /// True for a root commit.
    pub root: bool,
    /// True when the commit is a merge adding nothing of its own (its tree is a parent's).
    pub empty_merge: bool,
    /// What it changes relative to its first parent; the sources left are the segments
    /// whose rows are still to be read (all of them unless a reader read them).
    pub changes: Changes,
    /// The rows a reader read, in `seq` order, with where each is stored.
    pub rows: Vec<(Row, Location)>,
    /// What stopped the reader after `rows`, if anything.
    pub broken: Option<Box<Finding>>,
}

/// Reads what commit `i` of `chain` changes, not its rows (see [`read_rows`]). The line
/// holds the commit's tree and its parent's; only a merge's object is read again, for its
/// other parents.
pub fn read_commit(trees: &mut Trees, chain: &Chain, i: usize) -> Result<ReadCommit> {
    let link = chain.links[i];
    let parent_tree = chain.parent_tree(i);
    let changes = repo::read_changes(trees, link.id, link.tree, parent_tree)?;
    let empty_merge = link.parents > 1 && is_empty_merge(trees.repo, &link, parent_tree)?;
    Ok(ReadCommit {
        id: link.id,
        position: i,
        root: link.parents == 0,
        empty_merge,
        changes,
        rows: Vec::new(),
        broken: None,
    })
}

/// Whether merge `link` (whose first parent's tree is `first_parent_tree`) has the tree of
/// one of its parents: it adds nothing of its own.
fn is_empty_merge(repo: &Repository, link: &Link, first_parent_tree: Option<Oid>) -> Result<bool> {
    if first_parent_tree == Some(link.tree) {
        return Ok(true);
    }
    let merge = repo::read_commit_header(repo, link.id, false)?;
    for parent in merge.parents.iter().skip(1) {
        let header =
            repo::read_commit_header(repo, *parent, false).with_context(|| format!("cannot read a parent of merge {}", link.id))?;
        if header.tree == link.tree {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Reads the rows a commit adds (segments of `segment_rows` rows), unless what it changes
/// is already broken or it adds more than [`READ_SEGMENTS`] segments.
fn read_rows(trees: &mut Trees, commit: &mut ReadCommit, segment_rows: u64) {
    if !commit.changes.findings.is_empty() || commit.changes.sources.len() > READ_SEGMENTS {
        return;
    }
    let sources = std::mem::take(&mut commit.changes.sources);
    let mut stream = RowStream::new(trees, sources, segment_rows);
    loop {
        match stream.next_row() {
            Ok(Some(next)) => commit.rows.push(next),
            Ok(None) => break,
            Err(finding) => {
                commit.broken = Some(finding);
                break;
            }
        }
    }
}

/// How far each reader is ahead of the walk.
struct Flow {
    /// Rows each reader has handed over that the walk has not taken yet.
    ahead: Vec<usize>,
    /// Whether each reader waits for the walk to take rows.
    waiting: Vec<bool>,
    /// Set when the walk stops early: readers give up.
    stopped: bool,
}

/// The readers' shared flow control.
struct Gate {
    flow: Mutex<Flow>,
    moved: Condvar,
}

impl Gate {
    /// Waits until `reader` may hand over `rows` more rows; false when the walk stopped.
    fn admit(&self, reader: usize, rows: usize) -> bool {
        let Ok(mut flow) = self.flow.lock() else { return false };
        while !flow.stopped && flow.ahead[reader] > 0 && flow.ahead[reader] + rows > AHEAD_ROWS {
            flow.waiting[reader] = true;
            flow = match self.moved.wait(flow) {
                Ok(flow) => flow,
                Err(_) => return false,
            };
        }
        flow.waiting[reader] = false;
        flow.ahead[reader] += rows;
        !flow.stopped
    }

    /// The walk took `rows` rows of `reader`; wakes the readers if that one waits.
    fn taken(&self, reader: usize, rows: usize) {
        let Ok(mut flow) = self.flow.lock() else { return };
        flow.ahead[reader] -= rows;
        if flow.waiting[reader] {
            self.moved.notify_all();
        }
    }

    fn stop(&self) {
        if let Ok(mut flow) = self.flow.lock() {
            flow.stopped = true;
        }
        self.moved.notify_all();
    }
}

/// Stops the readers however the walk ends (an error, a deadline, a broken commit).
struct StopOnDrop<'g>(&'g Gate);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.stop();
    }
}

/// Reads the commits `range` of `chain` (commits of `repo`) on `readers` threads and hands
/// each commit, rows read, to `each` in chain order, until `each` returns `false` or fails.
pub fn read_ahead(
    repo: &Repository,
    chain: &Chain,
    range: Range<usize>,
    segment_rows: u64,
    readers: usize,
    mut each: impl FnMut(ReadCommit) -> Result<bool>,
) -> Result<()> {
    let readers = readers.max(1);
    let gate = Gate {
        flow: Mutex::new(Flow {
            ahead: vec![0; readers],
            waiting: vec![false; readers],
            stopped: false,
        }),
        moved: Condvar::new(),
    };
    let path = repo.path().to_path_buf();
    let runs = runs(range);
    std::thread::scope(|scope| {
        let _stop = StopOnDrop(&gate);
        let mut inboxes: Vec<Receiver<Result<Vec<ReadCommit>>>> = Vec::with_capacity(readers);
        for reader in 0..readers {
            let (sender, inbox) = channel();
            inboxes.push(inbox);
            let (gate, path) = (&gate, &path);
            let mine = runs.iter().skip(reader).step_by(readers).cloned();
            scope.spawn(move || read_runs(path, chain, mine, reader, segment_rows, gate, &sender));
        }
        for (run, commits) in runs.iter().enumerate() {
            let reader = run % readers;
            let mut left = commits.len();
            while left > 0 {
                let batch = inboxes[reader]
                    .recv()
                    .context("a history reader stopped before reading its commits")??;
                left = left.saturating_sub(batch.len());
                let rows = batch.iter().map(|c| c.rows.len()).sum();
                for commit in batch {
                    if !each(commit)? {
                        return Ok(());
                    }
                }
                gate.taken(reader, rows);
            }
        }
        Ok(())
    })
}

/// `range` cut into runs of [`RUN`] commits.
fn runs(range: Range<usize>) -> Vec<Range<usize>> {
    range
        .clone()
        .step_by(RUN)
        .map(|start| start..(start + RUN).min(range.end))
        .collect()
}

/// One reader: reads the commits of `runs` (of `chain`), sent to `outbox` in batches that
/// never span two runs; a failure is sent as the reader's last message.
fn read_runs(
    path: &std::path::Path,
    chain: &Chain,
    runs: impl Iterator<Item = Range<usize>>,
    reader: usize,
    segment_rows: u64,
    gate: &Gate,
    outbox: &Sender<Result<Vec<ReadCommit>>>,
) {
    let repo = match Repository::open(path).with_context(|| format!("cannot open {} to read history", path.display())) {
        Ok(repo) => repo,
        Err(e) => {
            let _ = outbox.send(Err(e));
            return;
        }
    };
    for run in runs {
        // Each run starts afresh: its first commit's parent was read by another reader.
        let mut trees = Trees::new(&repo);
        let (mut batch, mut rows) = (Vec::with_capacity(BATCH), 0);
        let last = run.end - 1;
        for i in run {
            match read_commit(&mut trees, chain, i) {
                Ok(mut commit) => {
                    read_rows(&mut trees, &mut commit, segment_rows);
                    rows += commit.rows.len();
                    batch.push(commit);
                }
                Err(e) => {
                    // The commits before it first, as one thread reading them would.
                    if !batch.is_empty() && gate.admit(reader, rows) {
                        let _ = outbox.send(Ok(batch));
                    }
                    let _ = outbox.send(Err(e));
                    return;
                }
            }
            if batch.len() >= BATCH || rows >= BATCH || i == last {
                if !gate.admit(reader, rows) || outbox.send(Ok(std::mem::take(&mut batch))).is_err() {
                    return;
                }
                rows = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::policy::{Policy, TEMPLATE};
    use crate::ledger::schema::table_id;
    use crate::repo::write::{commit_rows, Author, RootFile};
    use crate::sign::SigningKey;
    use crate::time::Timestamp;

    /// Rows of the one large commit some tests put in their history: more segments than a
    /// reader reads.
    const LARGE: usize = (READ_SEGMENTS + 6) * 32;

    /// A repository of `commits` commits after a root holding the policy, each adding one to
    /// three rows ([`LARGE`] for commit number `large`); returns it, its chain (root first)
    /// and the number of rows.
    fn history(dir: &std::path::Path, commits: usize, large: Option<usize>) -> (Repository, Vec<Oid>, u64) {
        let repo = Repository::init_bare(dir).unwrap();
        let policy = Policy::render_template(TEMPLATE, "0123456789abcdef0123", "Test");
        let key = SigningKey::from_seed([7; 32], "test");
        let author = Author {
            handle: "founder".into(),
            email: "founder@example.org".into(),
        };
        let teams = table_id("teams").unwrap();
        let (mut chain, mut seq) = (Vec::new(), 0);
        for n in 0..=commits {
            let count = if Some(n) == large { LARGE } else { n % 3 + usize::from(n > 0) };
            let rows: Vec<Row> = (0..count)
                .map(|_| {
                    seq += 1;
                    let name = format!("team {seq}");
                    Row::draft(
                        teams,
                        seq,
                        Timestamp(1_700_000_000 + seq as i64),
                        "founder",
                        "create-team",
                        &[("name", &name)],
                    )
                    .unwrap()
                })
                .collect();
            let files = [RootFile {
                name: "ledger.toml",
                bytes: policy.as_bytes(),
            }];
            let parent = chain.last().map(|id| repo.find_commit(*id).unwrap());
            let root = if n == 0 { &files[..] } else { &[] };
            let id = commit_rows(
                &repo,
                parent.as_ref(),
                &rows,
                root,
                32,
                &key,
                &author,
                "test",
                Timestamp(1_700_000_000),
            )
            .unwrap();
            chain.push(id);
        }
        (repo, chain, seq)
    }

    /// The line of history of `ids` (root first), as a walk reads it.
    fn line(repo: &Repository, ids: &[Oid]) -> Chain {
        let line = repo::read_chain(repo, *ids.last().unwrap(), None, None).unwrap().unwrap();
        assert_eq!(line.ids(), ids);
        line
    }

    /// Each commit of `range` and the seqs of its rows, read on this thread.
    fn read_here(repo: &Repository, chain: &Chain, range: Range<usize>) -> Vec<(Oid, Vec<u64>)> {
        let mut trees = Trees::new(repo);
        range
            .map(|i| {
                let mut commit = read_commit(&mut trees, chain, i).unwrap();
                read_rows(&mut trees, &mut commit, 32);
                assert!(commit.broken.is_none() && commit.changes.findings.is_empty());
                assert_eq!((commit.id, commit.position), (chain.links[i].id, i));
                (commit.id, commit.rows.iter().map(|(row, _)| row.seq).collect())
            })
            .collect()
    }

    #[test]
    fn readers_hand_back_every_commit_in_order_as_one_thread_reads_it() {
        let dir = tempfile::tempdir().unwrap();
        let (repo, ids, rows) = history(dir.path(), 2 * RUN + 100, None);
        let chain = line(&repo, &ids);
        let expected = read_here(&repo, &chain, 1..ids.len());
        let seqs: Vec<u64> = expected.iter().flat_map(|(_, seqs)| seqs.clone()).collect();
        assert_eq!(seqs, (1..=rows).collect::<Vec<u64>>(), "every row, once, in order");
        for readers in [1, 2, 3] {
            let mut seen = Vec::new();
            read_ahead(&repo, &chain, 1..ids.len(), 32, readers, |commit| {
                seen.push((commit.id, commit.rows.iter().map(|(row, _)| row.seq).collect()));
                Ok(true)
            })
            .unwrap();
            assert_eq!(seen, expected, "{readers} readers");
        }
    }

    #[test]
    fn the_walk_stops_readers_early_and_their_errors_reach_it() {
        let dir = tempfile::tempdir().unwrap();
        let (repo, ids, _) = history(dir.path(), RUN + 50, None);
        let chain = line(&repo, &ids);
        let all = 0..ids.len();
        let mut calls = 0;
        read_ahead(&repo, &chain, all.clone(), 32, 2, |_| {
            calls += 1;
            Ok(calls < 10)
        })
        .unwrap();
        assert_eq!(calls, 10, "nothing is handed over after the walk said stop");

        let error = read_ahead(&repo, &chain, all.clone(), 32, 2, |commit| {
            anyhow::ensure!(commit.id != ids[RUN + 3], "stop here");
            Ok(true)
        })
        .unwrap_err();
        assert_eq!(error.to_string(), "stop here");

        // A commit whose tree is gone (in the second reader's run): the commits before it
        // arrive, then the reader's error.
        let lost = ids[RUN + 7];
        let hex = chain.links[RUN + 7].tree.to_string();
        std::fs::remove_file(dir.path().join("objects").join(&hex[..2]).join(&hex[2..])).unwrap();
        let mut arrived = 0;
        let error = read_ahead(&repo, &chain, all, 32, 2, |_| {
            arrived += 1;
            Ok(true)
        })
        .unwrap_err();
        assert_eq!(arrived, RUN + 7);
        assert!(
            format!("{error:#}").contains(&format!("cannot read the tree of commit {lost}")),
            "{error:#}"
        );
    }

    #[test]
    fn a_walk_reports_the_same_with_readers_as_without() {
        let dir = tempfile::tempdir().unwrap();
        // One commit past the readers' start adds more segments than a reader reads: the
        // walk streams its rows itself.
        let large = WORTH_READERS + 20;
        let (repo, mut chain, rows) = history(dir.path(), WORTH_READERS + RUN, Some(large));
        let mut left_to_the_walk = Vec::new();
        read_ahead(&repo, &line(&repo, &chain), 1..chain.len(), 32, 2, |commit| {
            if !commit.changes.sources.is_empty() {
                left_to_the_walk.push((commit.id, commit.rows.len(), commit.changes.sources.len() > READ_SEGMENTS));
            }
            Ok(true)
        })
        .unwrap();
        assert_eq!(left_to_the_walk, [(chain[large], 0, true)]);
        // A commit that adds a stray file stops the walk past the readers' start.
        let stop = WORTH_READERS + 100;
        let parent = repo.find_commit(chain[stop]).unwrap();
        let mut root = repo.treebuilder(Some(&parent.tree().unwrap())).unwrap();
        root.insert("notes.txt", repo.blob(b"hello").unwrap(), 0o100644).unwrap();
        let tree = repo.find_tree(root.write().unwrap()).unwrap();
        let key = SigningKey::from_seed([7; 32], "test");
        let author = Author {
            handle: "founder".into(),
            email: "founder@example.org".into(),
        };
        let stray =
            crate::repo::write::sign_and_write(&repo, Some(&parent), &tree, &key, &author, "stray", Timestamp(1_700_000_000)).unwrap();
        let tips = [*chain.last().unwrap(), stray];
        chain.truncate(stop + 1);
        chain.push(stray);
        for tip in tips {
            let report = |read_ahead: bool| {
                let options = crate::verify::Options {
                    check_signatures: true,
                    read_ahead,
                    ..crate::verify::Options::default()
                };
                crate::verify::walk(&repo, tip, &options).unwrap()
            };
            let (alone, with_readers) = (report(false), report(true));
            assert_eq!(format!("{:?}", alone.findings), format!("{:?}", with_readers.findings));
            assert_eq!((alone.rows, alone.commits), (with_readers.rows, with_readers.commits));
            assert_eq!(format!("{:?}", alone.walked), format!("{:?}", with_readers.walked));
            if tip == stray {
                assert_eq!(with_readers.commits as usize, chain.len());
                let last = with_readers
                    .findings
                    .iter()
                    .find(|f| f.code == "unexpected-file")
                    .expect("the stray file is found");
                assert!(
                    last.message.starts_with("notes.txt does not belong in a ledger"),
                    "{}",
                    last.message
                );
            } else {
                assert_eq!(with_readers.rows, rows);
            }
        }
    }
}
