//! What a commit changes relative to its first parent, checked to be a pure append: segments
//! untouched, new segments added in order, no file outside the ledger's layout.

use super::findings::Finding;
use super::layout::added_segments;
use super::trees::Trees;
use crate::ledger::schema::{self, TableId};
use crate::ledger::{POLICY_FILE, README_FILE, TABLES_DIR};
use anyhow::{Context, Result};
use git2::{ObjectType, Oid, Repository, Tree};

/// The largest segment file accepted: far above `segment_rows` honest rows, far below what
/// would hurt a server.
pub const MAX_SEGMENT_BYTES: usize = 16 << 20;
/// The largest `ledger.toml` or `README.md` accepted.
pub const MAX_ROOT_FILE_BYTES: usize = 1 << 20;

/// Records a finding and returns true when a blob is larger than `limit`.
fn too_large(repo: &Repository, blob: Oid, path: &str, limit: usize, findings: &mut Vec<Finding>) -> Result<bool> {
    let (size, _) = repo.odb()?.read_header(blob).with_context(|| format!("cannot read {path}"))?;
    if size > limit {
        findings.push(Finding::general(
            "unexpected-file",
            format!("{path} is {size} bytes, more than the {limit} a ledger file may hold"),
        ));
        return Ok(true);
    }
    Ok(false)
}

/// The rows of one segment file to read: the whole blob, header first.
#[derive(Clone, Debug)]
pub struct Source {
    /// The table.
    pub table: TableId,
    /// The segment's path in the repository.
    pub file: String,
    /// The segment blob.
    pub blob: Oid,
}

/// What a commit changes.
#[derive(Debug, Default)]
pub struct Changes {
    /// New segments, per table in segment order.
    pub sources: Vec<Source>,
    /// The commit's `ledger.toml` when it differs from the parent's (always for a root commit).
    pub policy: Option<Vec<u8>>,
    /// Structural problems: history that is not an append. Nothing after them can be trusted.
    pub findings: Vec<Finding>,
}

/// The tree of `tables/` in a root tree, if any.
fn tables_tree<'r>(trees: &mut Trees<'r>, root: Option<&Tree>) -> Result<Option<Tree<'r>>> {
    let Some(root) = root else { return Ok(None) };
    match root.get_name(TABLES_DIR) {
        Some(e) if e.kind() == Some(ObjectType::Tree) => Ok(Some(trees.find(e.id(), || "folder tables".into())?)),
        _ => Ok(None),
    }
}

/// Checks the root of a commit's tree: only `tables/` (holding known tables), `ledger.toml`
/// and `README.md`. Entries the parent's root has unchanged were checked with the parent.
fn check_layout(trees: &mut Trees, root: &Tree, parent: Option<&Tree>, findings: &mut Vec<Finding>) -> Result<()> {
    let repo = trees.repo;
    for entry in root.iter() {
        let name = entry.name().unwrap_or("");
        let unchanged = parent
            .and_then(|p| p.get_name(name))
            .is_some_and(|before| before.id() == entry.id() && before.filemode() == entry.filemode());
        if unchanged {
            continue;
        }
        let ok = match name {
            TABLES_DIR => entry.kind() == Some(ObjectType::Tree),
            POLICY_FILE | README_FILE => {
                entry.kind() == Some(ObjectType::Blob)
                    && entry.filemode() == 0o100644
                    && !too_large(repo, entry.id(), name, MAX_ROOT_FILE_BYTES, findings)?
            }
            _ => false,
        };
        if !ok {
            findings.push(Finding::general(
                "unexpected-file",
                format!("{name} does not belong in a ledger: only tables/, ledger.toml and README.md do, as plain files"),
            ));
        }
    }
    if let Some(tables) = tables_tree(trees, Some(root))? {
        for entry in tables.iter() {
            let name = entry.name().unwrap_or("");
            if schema::table_id(name).is_none() {
                findings.push(Finding::general(
                    "unexpected-file",
                    format!("{TABLES_DIR}/{name} is not a table of this ledger (unknown table)"),
                ));
            }
        }
    }
    Ok(())
}

/// The blob id of a file at the root of a tree, if it is a file there.
fn blob_id(root: Option<&Tree>, name: &str) -> Option<Oid> {
    root.and_then(|t| t.get_name(name))
        .filter(|e| e.kind() == Some(ObjectType::Blob))
        .map(|e| e.id())
}

fn read_blob(repo: &Repository, blob: Oid, name: &str) -> Result<Vec<u8>> {
    Ok(repo
        .find_blob(blob)
        .with_context(|| format!("cannot read {name}"))?
        .content()
        .to_vec())
}

/// The changes of a commit relative to its first parent (or to nothing, for a root commit).
pub fn commit_changes(repo: &Repository, commit: &git2::Commit) -> Result<Changes> {
    read_changes(&mut Trees::new(repo), commit)
}

/// The changes of a commit relative to its first parent, read with `trees`: walking history
/// with one reader, each commit's parent trees are the ones read for the commit before.
pub fn read_changes(trees: &mut Trees, commit: &git2::Commit) -> Result<Changes> {
    let repo = trees.repo;
    let parent_root = trees.parent_root(commit)?;
    trees.start_commit(commit);
    let tree = trees.find(commit.tree_id(), || format!("the tree of commit {}", commit.id()))?;
    let parent_tree = match parent_root {
        Some(id) => Some(trees.find(id, || format!("the first parent of commit {}", commit.id()))?),
        None => None,
    };
    let mut changes = Changes::default();
    check_layout(trees, &tree, parent_tree.as_ref(), &mut changes.findings)?;

    match (blob_id(Some(&tree), POLICY_FILE), blob_id(parent_tree.as_ref(), POLICY_FILE)) {
        (None, _) => changes.findings.push(Finding::general("policy", "ledger.toml is missing")),
        (Some(new), Some(old)) if new == old => {}
        (Some(new), _) => changes.policy = Some(read_blob(repo, new, POLICY_FILE)?),
    }

    let tables = tables_tree(trees, Some(&tree))?;
    let old_tables = tables_tree(trees, parent_tree.as_ref())?;
    if tables.as_ref().map(Tree::id) != old_tables.as_ref().map(Tree::id) {
        for (id, table) in schema::tables().iter().enumerate() {
            let entry = |t: &Option<Tree>| t.as_ref().and_then(|t| t.get_name(&table.name)).map(|e| (e.id(), e.filemode()));
            if entry(&tables).is_some() && entry(&tables) == entry(&old_tables) {
                continue; // the table's folder is the parent's: nothing to read
            }
            let new = table_folder(trees, tables.as_ref(), &table.name, &mut changes.findings)?;
            let old = table_folder(trees, old_tables.as_ref(), &table.name, &mut Vec::new())?;
            add_sources(trees, id, old.as_ref(), new.as_ref(), &mut changes)?;
        }
    }
    Ok(changes)
}

/// A table's folder in `tables/`, if the table has one.
fn table_folder<'r>(trees: &mut Trees<'r>, tables: Option<&Tree>, name: &str, findings: &mut Vec<Finding>) -> Result<Option<Tree<'r>>> {
    let Some(entry) = tables.and_then(|t| t.get_name(name)) else {
        return Ok(None);
    };
    if entry.kind() != Some(ObjectType::Tree) {
        findings.push(Finding::general(
            "unexpected-file",
            format!("{TABLES_DIR}/{name} must be a folder of segments"),
        ));
        return Ok(None);
    }
    Ok(Some(trees.find(entry.id(), || format!("folder {TABLES_DIR}/{name}"))?))
}

/// Adds the segments `new` has beyond `old` as sources (checked: appended, bounded in size).
fn add_sources(trees: &mut Trees, table: TableId, old: Option<&Tree>, new: Option<&Tree>, changes: &mut Changes) -> Result<()> {
    let dir = format!("{TABLES_DIR}/{}", schema::table(table).name);
    let Some(new) = new else {
        if old.is_some() {
            changes
                .findings
                .push(Finding::general("history", format!("table folder {dir} was deleted")));
        }
        return Ok(());
    };
    if old.is_some_and(|o| o.id() == new.id()) {
        return Ok(());
    }
    for segment in added_segments(trees, old, new, &dir, &mut changes.findings)? {
        let file = format!("{dir}/{}", segment.path);
        if !too_large(trees.repo, segment.blob, &file, MAX_SEGMENT_BYTES, &mut changes.findings)? {
            changes.sources.push(Source {
                table,
                file,
                blob: segment.blob,
            });
        }
    }
    Ok(())
}

/// Every segment of every table in a commit, as sources from their first row, and the
/// commit's `ledger.toml`: what replaying a ledger from scratch reads.
pub fn head_sources(repo: &Repository, commit: &git2::Commit) -> Result<(Vec<Source>, Vec<u8>, Vec<Finding>)> {
    let tree = commit
        .tree()
        .with_context(|| format!("cannot read the tree of commit {}", commit.id()))?;
    let trees = &mut Trees::new(repo);
    let mut findings = Vec::new();
    check_layout(trees, &tree, None, &mut findings)?;
    let policy = match blob_id(Some(&tree), POLICY_FILE) {
        Some(blob) => read_blob(repo, blob, POLICY_FILE)?,
        None => Vec::new(),
    };
    let tables = tables_tree(trees, Some(&tree))?;
    let mut changes = Changes::default();
    for (id, table) in schema::tables().iter().enumerate() {
        let folder = table_folder(trees, tables.as_ref(), &table.name, &mut changes.findings)?;
        add_sources(trees, id, None, folder.as_ref(), &mut changes)?;
    }
    findings.extend(changes.findings);
    Ok((changes.sources, policy, findings))
}
