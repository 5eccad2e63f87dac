//! What a commit changes relative to its first parent, checked to be a pure append: closed
//! segments untouched, the newest segment only extended, new segments added in order, no
//! file outside the ledger's layout.

use super::findings::Finding;
use crate::ledger::schema::{self, TableId};
use crate::ledger::{segment_name, segment_number, POLICY_FILE, README_FILE, TABLES_DIR};
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

/// New rows of one segment file: the bytes of blob `blob` from `skip` on, starting at line
/// `first_line` (2 for a new segment, whose header is checked first).
#[derive(Clone, Debug)]
pub struct Source {
    /// The table.
    pub table: TableId,
    /// The segment's path in the repository.
    pub file: String,
    /// The segment blob as of the commit.
    pub blob: Oid,
    /// Bytes already known (the parent's copy of the segment); 0 for a new segment.
    pub skip: usize,
    /// Line number of the first new row.
    pub first_line: u64,
    /// The blob's bytes when they were already read (so they are inflated only once).
    pub preloaded: Option<Vec<u8>>,
}

/// What a commit changes.
#[derive(Debug, Default)]
pub struct Changes {
    /// New rows, per table in segment order.
    pub sources: Vec<Source>,
    /// The commit's `ledger.toml` when it differs from the parent's (always for a root commit).
    pub policy: Option<Vec<u8>>,
    /// Structural problems: history that is not an append. Nothing after them can be trusted.
    pub findings: Vec<Finding>,
}

/// The segments of one table folder, checked to be named 000001.csv, 000002.csv, ...
fn segments(repo: &Repository, tree: Option<&Tree>, table: &str, findings: &mut Vec<Finding>) -> Result<Vec<Oid>> {
    let Some(tree) = tree else { return Ok(Vec::new()) };
    let Some(entry) = tree.get_name(table) else { return Ok(Vec::new()) };
    let dir = format!("{TABLES_DIR}/{table}");
    if entry.kind() != Some(ObjectType::Tree) {
        findings.push(Finding::general("unexpected-file", format!("{dir} must be a folder of segments")));
        return Ok(Vec::new());
    }
    let folder = repo.find_tree(entry.id()).with_context(|| format!("cannot read folder {dir}"))?;
    let mut out = Vec::with_capacity(folder.len());
    for (i, e) in folder.iter().enumerate() {
        let name = e.name().unwrap_or("");
        if segment_number(name) != Some(i as u64 + 1) || e.kind() != Some(ObjectType::Blob) || e.filemode() != 0o100644 {
            findings.push(Finding::general(
                "unexpected-file",
                format!(
                    "{dir}/{name} does not belong: a table folder holds only segments 000001.csv, 000002.csv, ... in order, as plain files"
                ),
            ));
            continue;
        }
        out.push(e.id());
    }
    Ok(out)
}

fn line_count(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| b == b'\n').count() as u64
}

/// The tree of `tables/` in a root tree, if any.
fn tables_tree<'r>(repo: &'r Repository, root: Option<&Tree>) -> Result<Option<Tree<'r>>> {
    let Some(root) = root else { return Ok(None) };
    match root.get_name(TABLES_DIR) {
        Some(e) if e.kind() == Some(ObjectType::Tree) => Ok(Some(repo.find_tree(e.id()).context("cannot read folder tables")?)),
        _ => Ok(None),
    }
}

fn check_layout(repo: &Repository, root: &Tree, findings: &mut Vec<Finding>) -> Result<()> {
    for entry in root.iter() {
        let name = entry.name().unwrap_or("");
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
    if let Some(tables) = tables_tree(repo, Some(root))? {
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

fn blob_of<'r>(repo: &'r Repository, root: Option<&Tree>, name: &str) -> Result<Option<git2::Blob<'r>>> {
    match root.and_then(|t| t.get_name(name)) {
        Some(e) if e.kind() == Some(ObjectType::Blob) => Ok(Some(repo.find_blob(e.id()).with_context(|| format!("cannot read {name}"))?)),
        _ => Ok(None),
    }
}

/// The changes of a commit relative to its first parent (or to nothing, for a root commit).
pub fn commit_changes(repo: &Repository, commit: &git2::Commit, segment_rows: u64) -> Result<Changes> {
    let tree = commit
        .tree()
        .with_context(|| format!("cannot read the tree of commit {}", commit.id()))?;
    let parent_tree = match commit.parent_count() {
        0 => None,
        _ => Some(
            commit
                .parent(0)
                .and_then(|p| p.tree())
                .with_context(|| format!("cannot read the first parent of commit {}", commit.id()))?,
        ),
    };
    let mut changes = Changes::default();
    check_layout(repo, &tree, &mut changes.findings)?;

    let policy = blob_of(repo, Some(&tree), POLICY_FILE)?;
    let old_policy = blob_of(repo, parent_tree.as_ref(), POLICY_FILE)?;
    match (&policy, &old_policy) {
        (None, _) => changes.findings.push(Finding::general("policy", "ledger.toml is missing")),
        (Some(new), Some(old)) if new.id() == old.id() => {}
        (Some(new), _) => changes.policy = Some(new.content().to_vec()),
    }

    let tables = tables_tree(repo, Some(&tree))?;
    let old_tables = tables_tree(repo, parent_tree.as_ref())?;
    for (id, table) in schema::tables().iter().enumerate() {
        let name = table.name.as_str();
        let new = segments(repo, tables.as_ref(), name, &mut changes.findings)?;
        let old = segments(repo, old_tables.as_ref(), name, &mut Vec::new())?;
        diff_table(repo, id, &old, &new, segment_rows, &mut changes)?;
    }
    Ok(changes)
}

fn diff_table(repo: &Repository, table: TableId, old: &[Oid], new: &[Oid], segment_rows: u64, changes: &mut Changes) -> Result<()> {
    let name = &schema::table(table).name;
    let path = |n: usize| format!("{TABLES_DIR}/{name}/{}", segment_name(n as u64 + 1));
    if new.len() < old.len() {
        let what = if new.is_empty() {
            format!("table {name} was deleted")
        } else {
            format!("segment {} was deleted", path(new.len()))
        };
        changes.findings.push(Finding::general("history", what));
        return Ok(());
    }
    for (i, (a, b)) in old.iter().zip(new).enumerate() {
        let last = i + 1 == old.len();
        if a == b || too_large(repo, *b, &path(i), MAX_SEGMENT_BYTES, &mut changes.findings)? {
            continue;
        }
        if !last {
            changes.findings.push(Finding::general(
                "history",
                format!("{} is a closed segment and was changed; closed segments never change", path(i)),
            ));
            continue;
        }
        let after = repo
            .find_blob(*b)
            .with_context(|| format!("cannot read {}", path(i)))?
            .content()
            .to_vec();
        // The parent's segment is a prefix of the new one exactly when the new one's first
        // bytes hash to the parent's blob id: no need to inflate the parent's copy.
        let (before_len, _) = repo
            .odb()?
            .read_header(*a)
            .with_context(|| format!("cannot read the parent's {}", path(i)))?;
        let extends = before_len <= after.len() && Oid::hash_object(ObjectType::Blob, &after[..before_len])? == *a;
        if !extends {
            let before = repo
                .find_blob(*a)
                .with_context(|| format!("cannot read the parent's {}", path(i)))?;
            let before = before.content();
            let same = before.iter().zip(&after).take_while(|(x, y)| x == y).count();
            let line = line_count(&before[..same]) + 1;
            let what = if line == 1 {
                "the header was changed"
            } else {
                "an existing row was edited, deleted or reordered"
            };
            changes
                .findings
                .push(Finding::general("history", format!("{what}; rows are only ever appended")).at(name, &path(i), line));
            continue;
        }
        changes.sources.push(Source {
            table,
            file: path(i),
            blob: *b,
            skip: before_len,
            first_line: line_count(&after[..before_len]) + 1,
            preloaded: Some(after),
        });
    }
    if new.len() > old.len() && !old.is_empty() && old.last() == new.get(old.len() - 1) {
        let closed = repo
            .find_blob(new[old.len() - 1])
            .with_context(|| format!("cannot read {}", path(old.len() - 1)))?;
        let rows = line_count(closed.content()).saturating_sub(1);
        if rows != segment_rows {
            changes.findings.push(Finding::general(
                "history",
                format!(
                    "{} holds {rows} rows but a new segment follows it; a segment is closed only when it holds {segment_rows}",
                    path(old.len() - 1)
                ),
            ));
        }
    }
    for (i, blob) in new.iter().enumerate().skip(old.len()) {
        if too_large(repo, *blob, &path(i), MAX_SEGMENT_BYTES, &mut changes.findings)? {
            continue;
        }
        changes.sources.push(Source {
            table,
            file: path(i),
            blob: *blob,
            skip: 0,
            first_line: 1,
            preloaded: None,
        });
    }
    Ok(())
}

/// Every segment of every table in a commit, as sources from their first row, and the
/// commit's `ledger.toml`: what replaying a ledger from scratch reads.
pub fn head_sources(repo: &Repository, commit: &git2::Commit) -> Result<(Vec<Source>, Vec<u8>, Vec<Finding>)> {
    let tree = commit
        .tree()
        .with_context(|| format!("cannot read the tree of commit {}", commit.id()))?;
    let mut findings = Vec::new();
    check_layout(repo, &tree, &mut findings)?;
    let policy = blob_of(repo, Some(&tree), POLICY_FILE)?
        .map(|b| b.content().to_vec())
        .unwrap_or_default();
    let tables = tables_tree(repo, Some(&tree))?;
    let mut sources = Vec::new();
    for (id, table) in schema::tables().iter().enumerate() {
        for (i, blob) in segments(repo, tables.as_ref(), &table.name, &mut findings)?.into_iter().enumerate() {
            sources.push(Source {
                table: id,
                file: format!("{TABLES_DIR}/{}/{}", table.name, segment_name(i as u64 + 1)),
                blob,
                skip: 0,
                first_line: 1,
                preloaded: None,
            });
        }
    }
    Ok((sources, policy, findings))
}
