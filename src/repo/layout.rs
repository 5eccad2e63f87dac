//! The folders of a table: finding the segments a commit added or grew by descending only
//! where a tree changed, and writing segments into a table's folder.
//!
//! A table folder holds segments at the paths [`segment_path`] gives, numbered 1, 2, 3, ...
//! A commit may grow the parent's last segment at its end and add the next numbers; nothing
//! else changes. Because names sort like numbers, an append changes only the rightmost entry
//! of each folder on the path to the last segment and adds entries after it: the diff reads
//! those few small trees, whatever the size of the history.

use super::findings::Finding;
use super::trees::Trees;
use crate::ledger::{segment_number, segment_path, MAX_SEGMENT};
use anyhow::{Context, Result};
use git2::{ObjectType, Oid, Repository, Tree};

/// The mode of a segment file: a plain, non-executable file.
const FILE_MODE: i32 = 0o100644;
/// The mode of a folder.
const FOLDER_MODE: i32 = 0o040000;

/// A segment a commit added or grew.
#[derive(Clone, Debug)]
pub struct Segment {
    /// Its number (1-based).
    pub number: u64,
    /// Its path inside the table folder.
    pub path: String,
    /// Its blob.
    pub blob: Oid,
    /// The parent's version of this segment, when the commit appended rows to the parent's
    /// last segment: the new blob must start with its bytes.
    pub grows: Option<Oid>,
    /// For the first segment a commit adds after the parent's last segment left as it was:
    /// that segment (its path inside the folder and blob), which must be full.
    pub follows: Option<(String, Oid)>,
}

/// A file a commit added or changed in a table folder: its path inside the folder, blob,
/// mode, and the blob it replaced (the parent's last segment, when it grew).
type Found = (String, Oid, i32, Option<Oid>);

/// The segments in `new` that `old` (the parent's folder, if any) lacks or has a shorter
/// version of, in order: the parent's last segment when it grew, then the next numbers after
/// it. Problems (a changed or removed segment, a file that does not belong, a gap) become
/// findings about `dir`, the folder's path in the repository. That a grown segment only grew
/// at its end is checked where it is read ([`crate::repo::RowStream`]).
pub fn added_segments(trees: &mut Trees, old: Option<&Tree>, new: &Tree, dir: &str, findings: &mut Vec<Finding>) -> Result<Vec<Segment>> {
    let mut found = Vec::new();
    let before = findings.len();
    diff_folder(trees, old, new, "", dir, &mut found, findings)?;
    if findings.len() > before {
        return Ok(Vec::new());
    }
    let last = match old {
        Some(old) => last_segment(trees, old, dir)?,
        None => None,
    };
    let mut expected = last.as_ref().map_or(0, |(n, _)| *n) + 1;
    let mut follows = last.map(|(n, blob)| (segment_path(n), blob));
    let mut segments = Vec::with_capacity(found.len());
    for (path, blob, mode, grows) in found {
        let number = segment_number(&path).filter(|_| mode == FILE_MODE);
        match (number, grows) {
            (Some(n), Some(_)) if n + 1 == expected => {
                follows = None;
                segments.push(Segment {
                    number: n,
                    path,
                    blob,
                    grows,
                    follows: None,
                });
            }
            (Some(n), None) if n == expected => {
                segments.push(Segment {
                    number: n,
                    path,
                    blob,
                    grows: None,
                    follows: follows.take(),
                });
                expected += 1;
            }
            (Some(n), None) => {
                findings.push(Finding::general(
                    "history",
                    format!(
                        "{dir}/{path} is segment {n}, but the next segment of this table is {expected}: segments are numbered without gaps"
                    ),
                ));
                return Ok(Vec::new());
            }
            _ => {
                findings.push(Finding::general(
                    "unexpected-file",
                    format!(
                        "{dir}/{path} does not belong: a table folder holds only segments ({}, {}, ...) as plain files",
                        segment_path(expected),
                        segment_path(expected + 1)
                    ),
                ));
                return Ok(Vec::new());
            }
        }
    }
    Ok(segments)
}

/// Compares one folder level: `old`'s entries must all be in `new`, unchanged, except the last,
/// which may be a folder or a file that grew; entries after them are new.
fn diff_folder(
    trees: &mut Trees,
    old: Option<&Tree>,
    new: &Tree,
    prefix: &str,
    dir: &str,
    found: &mut Vec<Found>,
    findings: &mut Vec<Finding>,
) -> Result<()> {
    let kept = old.map_or(0, Tree::len);
    if let Some(old) = old {
        for (i, before) in old.iter().enumerate() {
            let path = || format!("{prefix}{}", before.name().unwrap_or("?"));
            let Some(after) = new.get(i).filter(|e| e.name_bytes() == before.name_bytes()) else {
                findings.push(Finding::general(
                    "history",
                    format!("{dir}/{} was removed or renamed; segments are never removed", path()),
                ));
                return Ok(());
            };
            if after.id() == before.id() && after.filemode() == before.filemode() {
                continue;
            }
            if after.id() == before.id() {
                findings.push(Finding::general(
                    "unexpected-file",
                    format!(
                        "{dir}/{} does not belong: its mode changed, and segments are plain files in plain folders",
                        path()
                    ),
                ));
                return Ok(());
            }
            let both = |kind| before.kind() == Some(kind) && after.kind() == Some(kind);
            if i + 1 == kept && both(ObjectType::Blob) {
                found.push((path(), after.id(), after.filemode(), Some(before.id())));
                continue;
            }
            if i + 1 < kept || !both(ObjectType::Tree) {
                findings.push(changed(trees.repo, &before, &after, dir, &path()));
                return Ok(());
            }
            let path = path();
            let before = trees.find(before.id(), || format!("folder {dir}/{path}"))?;
            let after = trees.find(after.id(), || format!("folder {dir}/{path}"))?;
            diff_folder(trees, Some(&before), &after, &format!("{path}/"), dir, found, findings)?;
        }
    }
    for entry in new.iter().skip(kept) {
        let path = format!("{prefix}{}", entry.name().unwrap_or("?"));
        match entry.kind() {
            Some(ObjectType::Tree) => {
                let sub = trees.find(entry.id(), || format!("folder {dir}/{path}"))?;
                if sub.is_empty() {
                    found.push((path, entry.id(), entry.filemode(), None));
                } else {
                    diff_folder(trees, None, &sub, &format!("{path}/"), dir, found, findings)?;
                }
            }
            _ => found.push((path, entry.id(), entry.filemode(), None)),
        }
    }
    Ok(())
}

/// The finding for a segment (or folder) that a commit changed other than by growing the
/// last one: for a segment, the first line that differs.
fn changed(repo: &Repository, before: &git2::TreeEntry, after: &git2::TreeEntry, dir: &str, path: &str) -> Finding {
    let file = format!("{dir}/{path}");
    let blobs = (before.kind(), after.kind()) == (Some(ObjectType::Blob), Some(ObjectType::Blob));
    let contents = blobs
        .then(|| Some((repo.find_blob(before.id()).ok()?, repo.find_blob(after.id()).ok()?)))
        .flatten();
    match contents {
        Some((old, new)) if new.content().starts_with(old.content()) => Finding::general(
            "history",
            format!("rows were added to {file}, which is not the table's last segment; only the last segment grows"),
        ),
        Some((old, new)) => rewritten(dir, &file, old.content(), new.content()),
        None => Finding::general("history", format!("{file} was changed; rows never change once written")),
    }
}

/// The finding for a segment whose new version (`new`) does not keep the old one's bytes
/// (`old`) as they were: names the first line that differs. `dir` is the table's folder.
pub fn rewritten(dir: &str, file: &str, old: &[u8], new: &[u8]) -> Finding {
    let same = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let line = old[..same].iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    let what = if line == 1 {
        "the header was changed"
    } else {
        "an existing row was edited, deleted or reordered"
    };
    let table = dir.rsplit('/').next().unwrap_or(dir);
    Finding::general(
        "history",
        format!("{what}; rows never change once written, a segment only grows at its end"),
    )
    .at(table, file, line)
}

/// The last segment of a table folder (its number and blob), following the rightmost entry
/// down; `None` for an empty folder.
pub fn last_segment(trees: &mut Trees, folder: &Tree, dir: &str) -> Result<Option<(u64, Oid)>> {
    let mut path = String::new();
    let mut tree = folder.clone();
    loop {
        let Some((kind, id)) = tree.iter().next_back().map(|entry| {
            if !path.is_empty() {
                path.push('/');
            }
            path.push_str(entry.name().unwrap_or("?"));
            (entry.kind(), entry.id())
        }) else {
            return Ok(None);
        };
        if kind != Some(ObjectType::Tree) {
            let n = segment_number(&path).with_context(|| format!("{dir}/{path} is not a segment"))?;
            return Ok(Some((n, id)));
        }
        tree = trees.find(id, || format!("folder {dir}/{path}"))?;
    }
}

/// Writes segment `number` (its blob) into a table folder (`None`: a new folder), adding it
/// or replacing the version there; returns the new folder's tree.
pub fn insert_segment(repo: &Repository, folder: Option<&Tree>, number: u64, blob: Oid) -> Result<Oid> {
    anyhow::ensure!(number <= MAX_SEGMENT, "a table holds at most {MAX_SEGMENT} segments");
    let path = segment_path(number);
    let parts: Vec<&str> = path.split('/').collect();
    insert_at(repo, folder, &parts, blob)
}

fn insert_at(repo: &Repository, folder: Option<&Tree>, parts: &[&str], blob: Oid) -> Result<Oid> {
    let mut builder = repo.treebuilder(folder).context("cannot start a tree")?;
    match parts {
        [file] => {
            builder.insert(file, blob, FILE_MODE)?;
        }
        [name, rest @ ..] => {
            let sub = match folder.and_then(|f| f.get_name(name)) {
                Some(e) if e.kind() == Some(ObjectType::Tree) => Some(repo.find_tree(e.id())?),
                _ => None,
            };
            let id = insert_at(repo, sub.as_ref(), rest, blob)?;
            builder.insert(name, id, FOLDER_MODE)?;
        }
        [] => anyhow::bail!("a segment path is never empty"),
    }
    Ok(builder.write()?)
}
