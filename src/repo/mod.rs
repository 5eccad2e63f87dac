//! The ledger in git: reading tables out of commits, checking that each commit only appends
//! to its first parent, streaming the rows of a commit in `seq` order, and writing new rows
//! as one SSH-signed commit.

pub mod chain;
pub mod changes;
pub mod commit_header;
pub mod findings;
pub mod forge;
pub mod layout;
pub mod stream;
pub mod trees;
pub mod worktree;
pub mod write;

pub use chain::{chain_after, first_parent_chain, read_chain, Chain, Link};
pub use changes::{changes_of, commit_changes, head_sources, read_changes, Changes};
pub use commit_header::{read_commit_header, verified_signer, CommitHeader};
pub use findings::Finding;
pub use stream::RowStream;
pub use trees::Trees;

use anyhow::{Context, Result};
use git2::{Oid, Repository};

/// Sets how libgit2 reads objects in this process, once (later calls do nothing); call it
/// before the first object is read, as pack windows mapped earlier keep their size:
/// - no object cache: a walk reads each tree about twice (as a commit's and as its parent's),
///   while a bounded cache spent a third of a 100k-commit replay evicting entries and an
///   unbounded one grows with history;
/// - no re-hashing of every object read: git checks each object's hash when it arrives
///   (`index-pack` on fetch and on push, before the hook runs) and, like git itself, trusts
///   its own store afterwards (`git fsck` checks it). This was the largest cost of a replay;
/// - pack files are read through 1 MB mapped windows, at most 16 MB at once: libgit2 maps
///   1 GB windows up to 8 GB by default, so a replay that reads every object of a 100k-commit
///   ledger kept its whole 112 MB pack resident (177 MB peak, now 77 MB, in about the same
///   time; smaller limits made the replay remap windows and run slower).
pub fn tune_object_reading() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        git2::opts::enable_caching(false);
        git2::opts::strict_hash_verification(false);
        // SAFETY: libgit2's global options are set once, before this process reads any object.
        unsafe {
            let _ = git2::opts::set_mwindow_size(PACK_WINDOW_BYTES);
            let _ = git2::opts::set_mwindow_mapped_limit(MAPPED_PACK_BYTES);
        }
    });
}

/// The size of one mapped window of a pack file (see [`tune_object_reading`]).
const PACK_WINDOW_BYTES: usize = 1 << 20;

/// The most bytes of pack files libgit2 keeps mapped at once (see [`tune_object_reading`]).
const MAPPED_PACK_BYTES: usize = 16 << 20;

/// Opens the repository that holds (or is to hold) the ledger, searching upwards from `dir`.
pub fn open(dir: &std::path::Path) -> Result<Repository> {
    Repository::discover(dir).map_err(|_| {
        anyhow::anyhow!(
            "{} is not inside a git repository (run `smartup init` to create a ledger, or pass --ledger DIR)",
            dir.display()
        )
    })
}

/// HEAD's commit and the name of the branch it is on, in the ledger opened from `dir`
/// (named in the error when there is no commit yet).
pub fn head(repo: &Repository, dir: &std::path::Path) -> Result<(Oid, String)> {
    let head = repo
        .head()
        .map_err(|_| anyhow::anyhow!("{} has no commits: create a ledger with `smartup init`", dir.display()))?;
    let branch = head.shorthand().unwrap_or("main").to_string();
    Ok((head.peel_to_commit().context("HEAD does not point at a commit")?.id(), branch))
}

/// The commit a revision names (`HEAD`, a branch, a commit id).
pub fn resolve(repo: &Repository, rev: &str) -> Result<Oid> {
    let object = repo
        .revparse_single(rev)
        .with_context(|| format!("cannot find revision {rev:?} in this repository"))?;
    let commit = object.peel_to_commit().with_context(|| format!("{rev:?} does not name a commit"))?;
    Ok(commit.id())
}

/// The `ledger.toml` a commit holds (empty when it holds none).
pub fn policy_at(repo: &Repository, commit: Oid) -> Result<Vec<u8>> {
    let commit = repo.find_commit(commit).with_context(|| format!("cannot read commit {commit}"))?;
    let tree = commit
        .tree()
        .with_context(|| format!("cannot read the tree of commit {}", commit.id()))?;
    let blob = tree.get_name(crate::ledger::POLICY_FILE).map(|entry| entry.id());
    match blob {
        Some(id) => Ok(repo.find_blob(id).context("cannot read ledger.toml")?.content().to_vec()),
        None => Ok(Vec::new()),
    }
}

/// Calls `each` with every row of the ledger at `commit` (all tables, in `seq` order) and
/// where it stands; `each` returns `false` to stop early.
pub fn for_each_row(
    repo: &Repository,
    commit: Oid,
    segment_rows: u64,
    mut each: impl FnMut(crate::ledger::row::Row, crate::ledger::row::Location) -> Result<bool>,
) -> Result<()> {
    let commit = repo.find_commit(commit).with_context(|| format!("cannot read commit {commit}"))?;
    let (sources, _, findings) = head_sources(repo, &commit)?;
    if let Some(finding) = findings.first() {
        anyhow::bail!("the ledger at {} is broken: {finding}", commit.id());
    }
    let mut trees = Trees::new(repo);
    let mut stream = RowStream::new(&mut trees, sources, segment_rows);
    while let Some((row, location)) = stream.next_row().map_err(|f| anyhow::anyhow!("{f}"))? {
        if !each(row, location)? {
            break;
        }
    }
    Ok(())
}
