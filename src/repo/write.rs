//! Writing rows: segment blobs, the few trees on their paths and one SSH-signed commit, then moving the
//! branch with a compare-and-swap. Objects are written before the ref moves, so a crash at
//! any point leaves the ledger exactly as it was (at worst with unreachable objects).

use crate::ledger::row::Row;
use crate::ledger::schema::{self, TableId};
use crate::ledger::segment;
use crate::ledger::TABLES_DIR;
use crate::repo::{layout, worktree};
use crate::sign::SigningKey;
use crate::time::Timestamp;
use anyhow::{anyhow, bail, Context, Result};
use git2::{ObjectType, Oid, Repository, Tree};

/// Who a commit is by.
pub struct Author {
    /// The owner's handle (the commit's name).
    pub handle: String,
    /// E-mail address for the commit.
    pub email: String,
}

/// A file at the root of the ledger to write with the commit (`ledger.toml`, `README.md`).
pub struct RootFile<'a> {
    /// File name.
    pub name: &'a str,
    /// Its new content.
    pub bytes: &'a [u8],
}

/// Builds and signs a commit that appends `rows` to the ledger at `parent` (a new ledger when
/// `None`). Each table's rows go at the end of its last segment, and into new segments once
/// that holds `segment_rows` rows; no row already written changes. Moves no ref.
#[allow(clippy::too_many_arguments)]
pub fn commit_rows(
    repo: &Repository,
    parent: Option<&git2::Commit>,
    rows: &[Row],
    root_files: &[RootFile],
    segment_rows: u64,
    signer: &SigningKey,
    author: &Author,
    message: &str,
    time: Timestamp,
) -> Result<Oid> {
    let parent_tree = parent
        .map(|p| p.tree())
        .transpose()
        .context("cannot read the parent commit's tree")?;
    let mut root = repo.treebuilder(parent_tree.as_ref()).context("cannot start a tree")?;
    let old_tables = match parent_tree.as_ref().and_then(|t| t.get_name(TABLES_DIR)) {
        Some(e) => Some(repo.find_tree(e.id()).context("cannot read tables/")?),
        None => None,
    };
    let mut tables = repo.treebuilder(old_tables.as_ref()).context("cannot start the tables tree")?;
    for (id, table) in schema::tables().iter().enumerate() {
        let ours: Vec<&Row> = rows.iter().filter(|r| r.table == id).collect();
        if ours.is_empty() {
            continue;
        }
        let folder = match old_tables.as_ref().and_then(|t| t.get_name(&table.name)) {
            Some(e) if e.kind() == Some(ObjectType::Tree) => Some(repo.find_tree(e.id())?),
            _ => None,
        };
        let dir = format!("{TABLES_DIR}/{}", table.name);
        let new_folder = append_to_table(repo, id, folder, &dir, &ours, segment_rows)?;
        tables.insert(&table.name, new_folder, 0o040000)?;
    }
    root.insert(TABLES_DIR, tables.write()?, 0o040000)?;
    for file in root_files {
        root.insert(file.name, repo.blob(file.bytes)?, 0o100644)?;
    }
    let tree = repo.find_tree(root.write()?)?;
    sign_and_write(repo, parent, &tree, signer, author, message, time)
}

/// Appends `rows` to a table folder: to its last segment until that holds `segment_rows`
/// rows, then as new full segments and a last one with what remains; returns the new folder.
fn append_to_table<'r>(
    repo: &'r Repository,
    table: TableId,
    mut folder: Option<Tree<'r>>,
    dir: &str,
    rows: &[&Row],
    segment_rows: u64,
) -> Result<Oid> {
    let per_segment = usize::try_from(segment_rows).unwrap_or(usize::MAX).max(1);
    let last = match &folder {
        Some(f) => layout::last_segment(&mut super::Trees::new(repo), f, dir)?,
        None => None,
    };
    let (mut number, mut content, mut held) = match last {
        Some((n, blob)) => {
            let bytes = repo
                .find_blob(blob)
                .with_context(|| format!("cannot read the last segment of {dir}"))?
                .content()
                .to_vec();
            let held = usize::try_from(segment::rows_in(&bytes)).unwrap_or(usize::MAX);
            (n, bytes, held)
        }
        None => (1, segment::header_line(table), 0),
    };
    let mut id = folder.as_ref().map(Tree::id);
    let mut rest = rows;
    while !rest.is_empty() {
        if held >= per_segment {
            number += 1;
            content = segment::header_line(table);
            held = 0;
        }
        let take = rest.len().min(per_segment - held);
        for row in &rest[..take] {
            segment::encode_row(row, &mut content);
        }
        held += take;
        rest = &rest[take..];
        let new = layout::insert_segment(repo, folder.as_ref(), number, repo.blob(&content)?)?;
        folder = Some(repo.find_tree(new)?);
        id = Some(new);
    }
    id.ok_or_else(|| anyhow!("no rows to write to {dir}"))
}

/// Writes a commit of `tree` on `parent`, SSH-signed with `signer`, authored and committed
/// by `author` at `time`. Moves no ref.
pub fn sign_and_write(
    repo: &Repository,
    parent: Option<&git2::Commit>,
    tree: &Tree,
    signer: &SigningKey,
    author: &Author,
    message: &str,
    time: Timestamp,
) -> Result<Oid> {
    let who = git2::Signature::new(&author.handle, &author.email, &git2::Time::new(time.0, 0)).context("invalid author for the commit")?;
    let parents: Vec<&git2::Commit> = parent.into_iter().collect();
    let buffer = repo
        .commit_create_buffer(&who, &who, message, tree, &parents)
        .context("cannot build the commit")?;
    let text = buffer.as_str().map_err(|_| anyhow!("the commit is not UTF-8"))?;
    let signature = signer.sign_git_commit(text.as_bytes());
    repo.commit_signed(text, &signature, None).context("cannot write the signed commit")
}

/// Moves `branch` from `expected` (None: the branch must not exist yet) to `new`, refusing if
/// someone else moved it meanwhile.
pub fn advance_branch(repo: &Repository, branch: &str, expected: Option<Oid>, new: Oid, log: &str) -> Result<()> {
    let name = format!("refs/heads/{branch}");
    match expected {
        Some(old) => {
            repo.reference_matching(&name, new, true, old, log)
                .with_context(|| format!("{branch} moved while the entry was being written; nothing was changed, try again"))?;
        }
        None => {
            repo.reference(&name, new, false, log)
                .with_context(|| format!("cannot create branch {branch}"))?;
        }
    }
    Ok(())
}

/// Loose objects in `objects/17/` above which git's own `gc --auto` would pack (its default
/// `gc.auto` of 6700 objects over 256 folders, the same estimate git makes).
const LOOSE_OBJECTS_PER_FOLDER: usize = 27;

/// Keeps the clone healthy: each entry adds a few small loose objects; once there are about
/// as many as git's `gc --auto` threshold, runs `git gc --auto` (which packs them in the
/// background). Costs one folder listing otherwise; a failure only leaves objects loose.
pub fn tidy_objects(repo: &Repository) {
    let loose = std::fs::read_dir(repo.path().join("objects").join("17")).map_or(0, |d| d.count());
    if loose > LOOSE_OBJECTS_PER_FOLDER {
        let _ = std::process::Command::new("git")
            .arg("--git-dir")
            .arg(repo.path())
            .args(["gc", "--auto", "--quiet"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
}

/// The files that differ between two trees (`None`: an empty tree), as repository paths.
/// Folders whose ids are equal are skipped, so this reads only the few small trees the
/// commits in between rewrote, however large the ledger (libgit2's tree diff read them all).
pub fn changed_paths(repo: &Repository, old: Option<Oid>, new: Oid) -> Result<Vec<String>> {
    let old = old.map(|t| repo.find_tree(t)).transpose().context("cannot read the old tree")?;
    let new = repo.find_tree(new).context("cannot read the new tree")?;
    let mut paths = Vec::new();
    diff_into(repo, old.as_ref(), Some(&new), "", &mut paths)?;
    Ok(paths)
}

fn diff_into(repo: &Repository, old: Option<&Tree>, new: Option<&Tree>, prefix: &str, paths: &mut Vec<String>) -> Result<()> {
    let mut names: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    for tree in [old, new].into_iter().flatten() {
        names.extend(tree.iter().filter_map(|e| e.name().ok().map(str::to_string)));
    }
    let subtree = |entry: &Option<git2::TreeEntry>| -> Result<Option<Tree>> {
        match entry {
            Some(e) if e.kind() == Some(ObjectType::Tree) => Ok(Some(repo.find_tree(e.id())?)),
            _ => Ok(None),
        }
    };
    let is_file = |entry: &Option<git2::TreeEntry>| entry.as_ref().is_some_and(|e| e.kind() != Some(ObjectType::Tree));
    for name in names {
        let before = old.and_then(|t| t.get_name(&name));
        let after = new.and_then(|t| t.get_name(&name));
        let key = |e: &Option<git2::TreeEntry>| e.as_ref().map(|e| (e.id(), e.filemode()));
        if key(&before) == key(&after) {
            continue;
        }
        let path = format!("{prefix}{name}");
        let (old_folder, new_folder) = (subtree(&before)?, subtree(&after)?);
        if old_folder.is_some() || new_folder.is_some() {
            diff_into(repo, old_folder.as_ref(), new_folder.as_ref(), &format!("{path}/"), paths)?;
        }
        if is_file(&before) || is_file(&after) {
            paths.push(path);
        }
    }
    Ok(())
}

/// Brings the given paths of the working tree and index in line with HEAD after a commit
/// (the paths the commit changed, see [`changed_paths`]); nothing else of the working tree is
/// read or touched, so an entry costs the same however many files the ledger holds. Callers
/// check those paths with [`ensure_clean`] first.
pub fn refresh_worktree(repo: &Repository, paths: &[String]) -> Result<()> {
    if repo.is_bare() || paths.is_empty() {
        return Ok(());
    }
    let checked_out = || -> Result<()> {
        let head = repo.head()?.peel_to_tree()?;
        if worktree::check_out(repo, &head, paths)? {
            return Ok(());
        }
        let mut options = git2::build::CheckoutBuilder::new();
        options.force().disable_pathspec_match(true);
        for path in paths {
            options.path(path);
        }
        Ok(repo.checkout_head(Some(&mut options))?)
    };
    // Those paths were clean before the entry (see `ensure_clean`): resetting them loses nothing.
    let listed = paths.join(" ");
    checked_out().with_context(|| {
        format!(
            "the entry is committed, but the working tree could not be updated; bring its files in line with \
             `git reset -q -- {listed} && git checkout -- {listed}`"
        )
    })
}

/// Fails when any of `paths` (those an entry is about to write) holds something in the
/// working tree or index that differs from HEAD, so that an entry never overwrites a file
/// and hand edits are never mixed with signed entries. Other paths are not read: smartup
/// builds commits from trees, never from the working tree, and leaves hand edits elsewhere
/// alone (the hook refuses them if someone commits them).
pub fn ensure_clean(repo: &Repository, paths: &[String]) -> Result<()> {
    if repo.is_bare() || paths.is_empty() {
        return Ok(());
    }
    let head = match repo.head() {
        Ok(head) => Some(head.peel_to_tree().context("cannot read HEAD's tree")?),
        Err(e) if matches!(e.code(), git2::ErrorCode::UnbornBranch | git2::ErrorCode::NotFound) => None,
        Err(e) => return Err(e).context("cannot read HEAD"),
    };
    let dirty = match worktree::dirty_paths(repo, head.as_ref(), paths)? {
        Some(dirty) => dirty,
        None => dirty_by_status(repo, paths)?,
    };
    if !dirty.is_empty() {
        bail!(
            "the ledger's working tree has changes that are not committed where this entry writes: {}. smartup writes only signed entries \
             and never overwrites a file: put those changes aside with `git stash push --include-untracked -- {}` \
             (`--all` instead also takes files git ignores) and try again",
            dirty.join(", "),
            dirty.join(" ")
        );
    }
    Ok(())
}

/// The paths among `paths` that libgit2's status finds changed, staged, untracked or ignored
/// (an ignored file is a file all the same: an entry does not overwrite it).
fn dirty_by_status(repo: &Repository, paths: &[String]) -> Result<Vec<String>> {
    let mut options = git2::StatusOptions::new();
    options
        .include_untracked(true)
        .recurse_untracked_dirs(true)
        .include_ignored(true)
        .disable_pathspec_match(true);
    for path in paths {
        options.pathspec(path);
    }
    let statuses = repo.statuses(Some(&mut options)).context("cannot read the working tree's status")?;
    Ok(statuses.iter().filter_map(|s| s.path().ok().map(str::to_string)).collect())
}
