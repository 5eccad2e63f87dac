//! A working-tree clone's index and files, kept in step with the commits smartup writes, for
//! the few paths a commit changed.
//!
//! libgit2's status and checkout parse the whole index into entries, check its SHA-1 with
//! the slow collision-detecting SHA-1, and write it whole again: at 100,000 commits (4,600
//! files, a 440 KB index) that took about 9.5 ms of a one-row action's 24 ms, growing with
//! history. Here the index's bytes are read, checked with a plain SHA-1 and scanned, the
//! changed entries are replaced, and the file is written once under git's `index.lock`
//! (about 3 ms in all). Each path's file is compared with (or written from) its blob
//! directly, whatever the index's stat data says.
//!
//! Only the plain case is handled, that of a ledger cloned with git's defaults: an index of
//! version 2 or 3 without a mandatory extension, no attributes or line-ending conversion in
//! play, a case-sensitive, full (not sparse) checkout that keeps the executable bit, and
//! ledger paths. Anything else is left to libgit2.

use anyhow::{bail, Context, Result};
use git2::{ObjectType, Oid, Repository, Tree};
use sha1::{Digest, Sha1};
use std::collections::BTreeMap;
use std::ops::Range;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The bytes of an entry before its path: stat data (40), object id (20), flags (2).
const ENTRY_HEAD: usize = 62;
/// The flag bit of an entry that carries 2 more bytes of flags (index version 3).
const EXTENDED: u16 = 0x4000;
/// The flag bits of an entry's merge stage.
const STAGE: u16 = 0x3000;
/// The flag bits of an entry's path length (0xFFF: the path is longer; read up to its NUL).
const NAME_LENGTH: u16 = 0x0FFF;
/// The trailer: the SHA-1 of everything before it.
const CHECKSUM: usize = 20;
/// The one optional extension kept when the index is rewritten: the resolve-undo record is
/// about paths, not file stats. The cache tree, the untracked cache and the entry offset
/// tables would be stale and are dropped, as git drops what it does not keep up to date.
const KEPT_EXTENSION: &[u8; 4] = b"REUC";

/// The paths among `paths` whose index entry or working-tree file differs from what `head`
/// (`None`: no commit yet) holds: edited, staged, deleted, in conflict, or a file standing
/// where `head` has none (whether or not git ignores it). `None` when the clone is not the
/// plain case: ask libgit2.
pub fn dirty_paths(repo: &Repository, head: Option<&Tree>, paths: &[String]) -> Result<Option<Vec<String>>> {
    let Some(workdir) = repo.workdir().filter(|w| plain_checkout(repo, w, paths)) else {
        return Ok(None);
    };
    let Some(index) = Index::read(repo.path())? else { return Ok(None) };
    let mut dirty = Vec::new();
    for path in paths {
        let want = match head {
            Some(tree) => blob_at(tree, path)?,
            None => None,
        };
        let staged = match index.entries_of(path) {
            [] => None,
            [one] if one.flags & STAGE == 0 => index.blob(one),
            _ => {
                dirty.push(path.clone()); // in conflict
                continue;
            }
        };
        if staged != want || !real_folders(workdir, path) || !file_holds(&workdir.join(path), want)? {
            dirty.push(path.clone());
        }
    }
    Ok(Some(dirty))
}

/// Writes each of `paths` from `head` into the working tree (removing those `head` does not
/// hold) and its entry into the index, under git's `index.lock`; the caller checked with
/// [`dirty_paths`] that no hand edit stands there. `false` when the clone is not the plain
/// case: nothing was touched, ask libgit2.
pub fn check_out(repo: &Repository, head: &Tree, paths: &[String]) -> Result<bool> {
    let Some(workdir) = repo.workdir().filter(|w| plain_checkout(repo, w, paths)) else {
        return Ok(false);
    };
    let lock = IndexLock::take(repo.path())?;
    let Some(index) = Index::read(repo.path())? else { return Ok(false) };
    let mut replaced: BTreeMap<&[u8], Option<Vec<u8>>> = BTreeMap::new();
    for path in paths {
        let file = workdir.join(path);
        let entry = match blob_at(head, path)? {
            Some((oid, mode)) => {
                let blob = repo.find_blob(oid).with_context(|| format!("cannot read the blob of {path}"))?;
                write_file(&file, blob.content(), mode)?;
                Some(new_entry(&file, path, oid, mode)?)
            }
            None => {
                match std::fs::remove_file(&file) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(e).with_context(|| format!("cannot remove {}", file.display()))
                    }
                    _ => {}
                }
                None
            }
        };
        replaced.insert(path.as_bytes(), entry);
    }
    lock.commit(&index.rewritten(&replaced))?;
    Ok(true)
}

/// An index file as git writes it, read without libgit2.
struct Index {
    /// The file's bytes as read.
    bytes: Vec<u8>,
    /// Its version (2 or 3).
    version: u32,
    /// The entries in their order (by path, then stage).
    entries: Vec<Entry>,
    /// The extensions kept on rewriting, as they were.
    kept: Vec<Range<usize>>,
}

/// One entry of the index: where its bytes and its path lie in the file.
struct Entry {
    bytes: Range<usize>,
    path: Range<usize>,
    flags: u16,
}

impl Index {
    /// Reads the index in `git_dir`; `None` when it is in a form left to libgit2. A clone
    /// without an index file yet (a new `git init`) has an empty one.
    fn read(git_dir: &Path) -> Result<Option<Index>> {
        let file = git_dir.join("index");
        match std::fs::read(&file) {
            Ok(bytes) => Ok(Index::parse(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Some(Index::empty())),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", file.display())),
        }
    }

    fn empty() -> Index {
        let mut bytes = Vec::with_capacity(12 + CHECKSUM);
        bytes.extend_from_slice(b"DIRC");
        bytes.extend_from_slice(&2u32.to_be_bytes());
        bytes.extend_from_slice(&0u32.to_be_bytes());
        bytes.extend_from_slice(&Sha1::digest(&bytes));
        Index {
            bytes,
            version: 2,
            entries: Vec::new(),
            kept: Vec::new(),
        }
    }

    /// Parses an index file; `None` for any form but a well-formed version 2 or 3 index
    /// without a mandatory extension, and for a wrong checksum (libgit2 then says so).
    fn parse(bytes: Vec<u8>) -> Option<Index> {
        let body_end = bytes.len().checked_sub(CHECKSUM)?;
        if bytes.len() < 12 + CHECKSUM || &bytes[..4] != b"DIRC" {
            return None;
        }
        let trailer = &bytes[body_end..];
        if trailer.iter().any(|&b| b != 0) && Sha1::digest(&bytes[..body_end]).as_slice() != trailer {
            return None;
        }
        let version = be32(&bytes, 4)?;
        if version != 2 && version != 3 {
            return None;
        }
        let count = be32(&bytes, 8)? as usize;
        let mut entries = Vec::with_capacity(count.min(body_end / ENTRY_HEAD));
        let mut at = 12;
        for _ in 0..count {
            let entry = parse_entry(&bytes[..body_end], at, version)?;
            at = entry.bytes.end;
            entries.push(entry);
        }
        // Lookups search by path: the entries must be in git's order.
        let key = |e: &Entry| (&bytes[e.path.clone()], e.flags & STAGE);
        if entries.windows(2).any(|pair| key(&pair[0]) >= key(&pair[1])) {
            return None;
        }
        let mut kept = Vec::new();
        while at < body_end {
            let signature = bytes.get(at..at + 4)?;
            let size = be32(&bytes, at + 4)? as usize;
            let end = (at + 8).checked_add(size).filter(|&end| end <= body_end)?;
            if signature[0].is_ascii_lowercase() {
                return None; // mandatory: a split or sparse index
            }
            if signature == KEPT_EXTENSION {
                kept.push(at..end);
            }
            at = end;
        }
        Some(Index {
            bytes,
            version,
            entries,
            kept,
        })
    }

    fn path(&self, entry: &Entry) -> &[u8] {
        &self.bytes[entry.path.clone()]
    }

    /// The entries of `path`, at every stage.
    fn entries_of(&self, path: &str) -> &[Entry] {
        let start = self.entries.partition_point(|e| self.path(e) < path.as_bytes());
        let end = start + self.entries[start..].iter().take_while(|e| self.path(e) == path.as_bytes()).count();
        &self.entries[start..end]
    }

    /// The blob id and file mode an entry records.
    fn blob(&self, entry: &Entry) -> Option<(Oid, u32)> {
        let at = entry.bytes.start;
        Some((
            Oid::from_bytes(self.bytes.get(at + 40..at + 60)?).ok()?,
            be32(&self.bytes, at + 24)?,
        ))
    }

    /// The index with the entries of `replaced`'s paths (every stage) replaced by its
    /// entries (`None`: removed), in git's order, with a fresh checksum.
    fn rewritten(&self, replaced: &BTreeMap<&[u8], Option<Vec<u8>>>) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.bytes.len() + 256);
        out.extend_from_slice(b"DIRC");
        out.extend_from_slice(&self.version.to_be_bytes());
        out.extend_from_slice(&[0; 4]); // the count, set below
        let mut count: u32 = 0;
        let mut news = replaced.iter().peekable();
        for entry in &self.entries {
            let path = self.path(entry);
            while let Some((_, new)) = news.next_if(|(p, _)| **p <= path) {
                if let Some(bytes) = new {
                    out.extend_from_slice(bytes);
                    count += 1;
                }
            }
            if !replaced.contains_key(path) {
                out.extend_from_slice(&self.bytes[entry.bytes.clone()]);
                count += 1;
            }
        }
        for bytes in news.filter_map(|(_, new)| new.as_ref()) {
            out.extend_from_slice(bytes);
            count += 1;
        }
        out[8..12].copy_from_slice(&count.to_be_bytes());
        for extension in &self.kept {
            out.extend_from_slice(&self.bytes[extension.clone()]);
        }
        let checksum = Sha1::digest(&out);
        out.extend_from_slice(&checksum);
        out
    }
}

/// Reads the entry at `at`; `None` if it runs past `body` or is malformed.
fn parse_entry(body: &[u8], at: usize, version: u32) -> Option<Entry> {
    let flags = u16::from_be_bytes(body.get(at + 60..at + 62)?.try_into().ok()?);
    let extended = flags & EXTENDED != 0;
    if extended && version < 3 {
        return None;
    }
    let path_start = at + ENTRY_HEAD + if extended { 2 } else { 0 };
    let length = match flags & NAME_LENGTH {
        NAME_LENGTH => body.get(path_start..)?.iter().position(|&b| b == 0)?,
        n => n as usize,
    };
    let path_end = path_start + length;
    // Padded with 1 to 8 NULs to a multiple of 8 bytes from the entry's start.
    let end = at + ((path_end - at + 8) & !7);
    let padding = body.get(path_end..end)?;
    if padding.iter().any(|&b| b != 0) || body[path_start..path_end].contains(&0) {
        return None;
    }
    Some(Entry {
        bytes: at..end,
        path: path_start..path_end,
        flags,
    })
}

fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

/// The blob id and file mode at `path` in `tree`; `None` if there is no file there.
fn blob_at(tree: &Tree, path: &str) -> Result<Option<(Oid, u32)>> {
    match tree.get_path(Path::new(path)) {
        Ok(entry) if entry.kind() == Some(ObjectType::Blob) => Ok(Some((entry.id(), entry.filemode() as u32))),
        Ok(_) => Ok(None),
        Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot look up {path}")),
    }
}

/// Whether each folder on `path` in `workdir` is a real folder or not there yet: a symbolic
/// link or a file in its place would have the entry written somewhere else, or fail.
fn real_folders(workdir: &Path, path: &str) -> bool {
    let Some((folders, _file)) = path.rsplit_once('/') else {
        return true;
    };
    let mut folder = workdir.to_path_buf();
    for part in folders.split('/') {
        folder.push(part);
        match std::fs::symlink_metadata(&folder) {
            Ok(meta) if meta.is_dir() => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return true,
            _ => return false,
        }
    }
    true
}

/// Whether the working-tree `file` holds the blob `want` (`None`: nothing stands there).
fn file_holds(file: &Path, want: Option<(Oid, u32)>) -> Result<bool> {
    let meta = match std::fs::symlink_metadata(file) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(want.is_none()),
        Err(_) => return Ok(false), // e.g. a file where a folder of the path should be
    };
    let Some((oid, mode)) = want else { return Ok(false) };
    if !meta.is_file() || (meta.mode() & 0o100 != 0) != (mode == 0o100755) {
        return Ok(false);
    }
    let content = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    Ok(Oid::hash_object(ObjectType::Blob, &content)? == oid)
}

/// Writes `content` at `file` by a rename, so that a reader never sees half of it.
fn write_file(file: &Path, content: &[u8], mode: u32) -> Result<()> {
    let folder = file.parent().context("a path without a folder")?;
    std::fs::create_dir_all(folder).with_context(|| format!("cannot create {}", folder.display()))?;
    let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = folder.join(format!(".{name}.{}.smartup-tmp", std::process::id()));
    let written = std::fs::write(&tmp, content).and_then(|()| {
        if mode == 0o100755 {
            use std::os::unix::fs::PermissionsExt;
            let mut permissions = std::fs::metadata(&tmp)?.permissions();
            permissions.set_mode(permissions.mode() | (permissions.mode() & 0o444) >> 2);
            std::fs::set_permissions(&tmp, permissions)?;
        }
        std::fs::rename(&tmp, file)
    });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("cannot write {}", file.display()));
    }
    Ok(())
}

/// The index entry of the working-tree `file` just written from blob `oid`: its stat data as
/// git records it (each field cut to 32 bits), the id, and the path's length in the flags.
fn new_entry(file: &Path, path: &str, oid: Oid, mode: u32) -> Result<Vec<u8>> {
    let meta = std::fs::symlink_metadata(file).with_context(|| format!("cannot read {}", file.display()))?;
    let mut entry = Vec::with_capacity(ENTRY_HEAD + path.len() + 8);
    for field in [
        meta.ctime() as u32,
        meta.ctime_nsec() as u32,
        meta.mtime() as u32,
        meta.mtime_nsec() as u32,
        meta.dev() as u32,
        meta.ino() as u32,
        mode,
        meta.uid(),
        meta.gid(),
        meta.size() as u32,
    ] {
        entry.extend_from_slice(&field.to_be_bytes());
    }
    entry.extend_from_slice(oid.as_bytes());
    entry.extend_from_slice(&(path.len().min(NAME_LENGTH as usize) as u16).to_be_bytes());
    entry.extend_from_slice(path.as_bytes());
    let padded = (ENTRY_HEAD + path.len() + 8) & !7;
    entry.resize(padded, 0);
    Ok(entry)
}

/// git's lock on the index: `index.lock`, created exclusively, renamed over the index when
/// the new one is written, removed if anything fails.
struct IndexLock {
    lock: PathBuf,
    index: PathBuf,
    done: bool,
}

impl IndexLock {
    fn take(git_dir: &Path) -> Result<IndexLock> {
        let lock = git_dir.join("index.lock");
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&lock) {
            Ok(_) => Ok(IndexLock {
                lock,
                index: git_dir.join("index"),
                done: false,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => bail!(
                "{} exists: another git process is using this clone (if none is, remove the file)",
                lock.display()
            ),
            Err(e) => Err(e).with_context(|| format!("cannot create {}", lock.display())),
        }
    }

    fn commit(mut self, bytes: &[u8]) -> Result<()> {
        std::fs::write(&self.lock, bytes).with_context(|| format!("cannot write {}", self.lock.display()))?;
        std::fs::rename(&self.lock, &self.index).with_context(|| format!("cannot move {} into place", self.lock.display()))?;
        self.done = true;
        Ok(())
    }
}

impl Drop for IndexLock {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.lock);
        }
    }
}

/// Whether the clone at `workdir` checks files out byte for byte and case-sensitively, and
/// `paths` are plain ledger paths: no line-ending conversion, no attributes file that could
/// name a filter, no case folding.
fn plain_checkout(repo: &Repository, workdir: &Path, paths: &[String]) -> bool {
    let Ok(config) = repo.config() else { return false };
    let set = |name: &str| config.get_entry(name).is_ok();
    let is = |name: &str, value: bool| !set(name) || config.get_bool(name).is_ok_and(|on| on == value);
    let plain_config = is("core.autocrlf", false)
        && is("core.ignorecase", false)
        && is("core.filemode", true)
        && is("core.sparseCheckout", false)
        && !set("core.attributesFile");
    if !plain_config || !paths.iter().all(|p| plain_path(p)) {
        return false;
    }
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let xdg = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| home.map(|h| h.join(".config")));
    let mut attribute_files = vec![repo.path().join("info/attributes"), PathBuf::from("/etc/gitattributes")];
    attribute_files.extend(xdg.map(|x| x.join("git/attributes")));
    attribute_files.push(workdir.join(".gitattributes"));
    for path in paths {
        let mut folder = Path::new(path).parent();
        while let Some(f) = folder.filter(|f| !f.as_os_str().is_empty()) {
            attribute_files.push(workdir.join(f).join(".gitattributes"));
            folder = f.parent();
        }
    }
    !attribute_files.iter().any(|f| f.exists())
}

/// A relative path of plain names: no `.`, `..` or `.git` part, no backslash or NUL.
fn plain_path(path: &str) -> bool {
    !path.is_empty()
        && path.len() < NAME_LENGTH as usize
        && path.split('/').all(|part| {
            !part.is_empty() && part != "." && part != ".." && !part.eq_ignore_ascii_case(".git") && !part.contains(['\\', '\0'])
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::write::{ensure_clean, refresh_worktree};
    use crate::sign::test_support;

    /// `git` in `dir`, isolated from the user's configuration, committing as "t"; its stdout.
    fn git(dir: &Path, args: &[&str]) -> String {
        let identity = ["-c", "user.name=t", "-c", "user.email=t@t.invalid"];
        test_support::run_ok(test_support::git(dir).args(identity).args(args))
    }

    /// A clone whose first commit, made by git, holds `files`.
    fn clone_with(files: &[(&str, &str)]) -> (tempfile::TempDir, Repository) {
        let dir = tempfile::tempdir().unwrap();
        git(dir.path(), &["init", "-q", "-b", "main"]);
        for (path, text) in files {
            let file = dir.path().join(path);
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(file, text).unwrap();
        }
        git(dir.path(), &["add", "."]);
        git(dir.path(), &["commit", "-q", "-m", "first"]);
        let repo = Repository::open(dir.path()).unwrap();
        (dir, repo)
    }

    /// A commit on HEAD that writes `changes` (`None`: removes the file); HEAD is not moved.
    fn commit_on_head(repo: &Repository, changes: &[(&str, Option<&str>)]) -> Oid {
        let head = repo.head().unwrap().peel_to_commit().unwrap();
        let mut update = git2::build::TreeUpdateBuilder::new();
        for (path, text) in changes {
            match text {
                Some(text) => update.upsert(*path, repo.blob(text.as_bytes()).unwrap(), git2::FileMode::Blob),
                None => update.remove(*path),
            };
        }
        let tree = repo.find_tree(update.create_updated(repo, &head.tree().unwrap()).unwrap()).unwrap();
        let who = git2::Signature::now("t", "t@t.invalid").unwrap();
        repo.commit(None, &who, &who, "change", &tree, &[&head]).unwrap()
    }

    /// What an entry does: check the paths, move the branch, bring the working tree along.
    fn record(repo: &Repository, changes: &[(&str, Option<&str>)]) -> Result<()> {
        let paths: Vec<String> = changes.iter().map(|(p, _)| p.to_string()).collect();
        let commit = commit_on_head(repo, changes);
        ensure_clean(repo, &paths)?;
        repo.reference("refs/heads/main", commit, true, "test").unwrap();
        refresh_worktree(repo, &paths)
    }

    /// [`record`] through the fast path alone (failing if it would leave the clone to libgit2).
    fn record_fast(repo: &Repository, changes: &[(&str, Option<&str>)]) {
        let paths: Vec<String> = changes.iter().map(|(p, _)| p.to_string()).collect();
        let commit = commit_on_head(repo, changes);
        let head = repo.head().unwrap().peel_to_tree().unwrap();
        assert_eq!(dirty_paths(repo, Some(&head), &paths).unwrap(), Some(vec![]));
        repo.reference("refs/heads/main", commit, true, "test").unwrap();
        let head = repo.head().unwrap().peel_to_tree().unwrap();
        assert!(check_out(repo, &head, &paths).unwrap(), "the fast path wrote the index");
    }

    /// git's own view: nothing changed, staged or untracked, the index as HEAD, the index's
    /// checksum right (`git fsck` checks it).
    fn assert_in_step(dir: &Path) {
        // First, before `status` refreshes the index: the stat data matches each file.
        assert_eq!(git(dir, &["diff-files", "--name-only"]), "", "stat data as git records it");
        assert_eq!(git(dir, &["status", "--porcelain", "--untracked-files=all"]), "");
        let staged = git(dir, &["ls-files", "--stage"]);
        let committed = git(dir, &["ls-tree", "-r", "--format=%(objectmode) %(objectname) 0\t%(path)", "HEAD"]);
        assert_eq!(staged, committed);
        git(dir, &["fsck", "--no-dangling", "--no-progress"]);
    }

    fn files() -> Vec<(&'static str, &'static str)> {
        vec![
            ("README.md", "hello\n"),
            ("tables/a/1/01.csv", "1,a\n"),
            ("tables/a/1/02.csv", "2,b\n"),
            ("tables/b/1/01.csv", "3,c\n"),
        ]
    }

    #[test]
    fn appends_and_new_files_keep_git_in_step() {
        let (dir, repo) = clone_with(&files());
        record_fast(
            &repo,
            &[("tables/a/1/02.csv", Some("2,b\n4,d\n")), ("tables/a/2/03.csv", Some("5,e\n"))],
        );
        assert_eq!(std::fs::read_to_string(dir.path().join("tables/a/2/03.csv")).unwrap(), "5,e\n");
        assert_in_step(dir.path());
        // A path that sorts between existing ones, one that sorts first, and a removal.
        record_fast(
            &repo,
            &[
                ("tables/a/1/01b.csv", Some("x\n")),
                ("A.md", Some("y\n")),
                ("tables/b/1/01.csv", None),
            ],
        );
        // Through the callers' functions.
        record(&repo, &[("tables/a/1/01b.csv", Some("x\ny\n"))]).unwrap();
        assert!(!dir.path().join("tables/b/1/01.csv").exists());
        assert_in_step(dir.path());
    }

    #[test]
    fn other_entries_and_their_flags_are_kept() {
        let (dir, repo) = clone_with(&files());
        // skip-worktree makes an index of version 3 with an extended entry.
        git(dir.path(), &["update-index", "--skip-worktree", "tables/b/1/01.csv"]);
        record_fast(&repo, &[("tables/a/1/02.csv", Some("2,b\n4,d\n"))]);
        assert_eq!(git(dir.path(), &["ls-files", "-t", "tables/b/1/01.csv"]), "S tables/b/1/01.csv\n");
        git(dir.path(), &["update-index", "--no-skip-worktree", "tables/b/1/01.csv"]);
        assert_in_step(dir.path());
    }

    #[test]
    fn hand_edits_staged_changes_and_stray_files_are_refused() {
        let (dir, repo) = clone_with(&files());
        let target = dir.path().join("tables/a/1/02.csv");
        let refused = |changes: &[(&str, Option<&str>)]| {
            let paths: Vec<String> = changes.iter().map(|(p, _)| p.to_string()).collect();
            commit_on_head(&repo, changes);
            ensure_clean(&repo, &paths).unwrap_err().to_string()
        };
        let append = [("tables/a/1/02.csv", Some("2,b\n4,d\n"))];

        std::fs::write(&target, "2,b\nhand\n").unwrap();
        let error = refused(&append);
        let advice = "git stash push --include-untracked -- tables/a/1/02.csv";
        assert!(error.contains(advice), "{error}");
        // The advice works, and keeps the edit.
        git(
            dir.path(),
            &["stash", "push", "-q", "--include-untracked", "--", "tables/a/1/02.csv"],
        );
        record(&repo, &append).unwrap();
        assert_in_step(dir.path());
        assert!(git(dir.path(), &["stash", "show", "-p"]).contains("+hand"));
        let append = [("tables/a/1/02.csv", Some("2,b\n4,d\n5,e\n"))];
        std::fs::write(&target, "2,b\n4,d\nhand\n").unwrap();
        assert!(refused(&append).contains("tables/a/1/02.csv"));
        // Staged, then the file put back: the index still differs from HEAD.
        git(dir.path(), &["add", "tables/a/1/02.csv"]);
        std::fs::write(&target, "2,b\n4,d\n").unwrap();
        assert!(refused(&append).contains("tables/a/1/02.csv"));
        git(dir.path(), &["reset", "-q"]);
        // Deleted in the working tree.
        std::fs::remove_file(&target).unwrap();
        assert!(refused(&append).contains("tables/a/1/02.csv"));
        git(dir.path(), &["checkout", "--", "."]);
        // A file where a new segment goes, even one git ignores.
        std::fs::write(dir.path().join(".gitignore"), "*.csv\n").unwrap();
        std::fs::create_dir_all(dir.path().join("tables/a/2")).unwrap();
        std::fs::write(dir.path().join("tables/a/2/03.csv"), "mine\n").unwrap();
        assert!(refused(&[("tables/a/2/03.csv", Some("5,e\n"))]).contains("tables/a/2/03.csv"));
        assert_eq!(std::fs::read_to_string(dir.path().join("tables/a/2/03.csv")).unwrap(), "mine\n");
        // A symbolic link where a folder of the path should be: the entry would be written
        // outside the working tree.
        let outside = tempfile::tempdir().unwrap();
        std::fs::remove_dir_all(dir.path().join("tables/a/2")).unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("tables/a/2")).unwrap();
        assert!(refused(&[("tables/a/2/03.csv", Some("5,e\n"))]).contains("tables/a/2/03.csv"));
        assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0, "nothing was written outside");
        // The executable bit counts as a change.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(refused(&append).contains("tables/a/1/02.csv"));
    }

    #[test]
    fn a_held_index_lock_fails_before_any_file_is_written() {
        let (dir, repo) = clone_with(&files());
        std::fs::write(repo.path().join("index.lock"), "").unwrap();
        let error = format!("{:#}", record(&repo, &[("tables/a/1/02.csv", Some("2,b\n4,d\n"))]).unwrap_err());
        let advice = "git reset -q -- tables/a/1/02.csv && git checkout -- tables/a/1/02.csv";
        assert!(error.contains("index.lock exists") && error.contains(advice), "{error}");
        assert_eq!(std::fs::read_to_string(dir.path().join("tables/a/1/02.csv")).unwrap(), "2,b\n");
        assert!(repo.path().join("index.lock").exists(), "someone else's lock is left alone");
        // Once the other process is done, the advice brings the clone in step.
        std::fs::remove_file(repo.path().join("index.lock")).unwrap();
        git(dir.path(), &["reset", "-q", "--", "tables/a/1/02.csv"]);
        git(dir.path(), &["checkout", "--", "tables/a/1/02.csv"]);
        assert_in_step(dir.path());
    }

    #[test]
    fn other_forms_are_left_to_libgit2_which_keeps_git_in_step() {
        let change = [("tables/a/1/02.csv", Some("2,b\n4,d\n"))];
        let paths = vec!["tables/a/1/02.csv".to_string()];
        // Index version 4 (path compression).
        let (dir, repo) = clone_with(&files());
        git(dir.path(), &["update-index", "--index-version", "4"]);
        assert!(dirty_paths(&repo, None, &paths).unwrap().is_none());
        record(&repo, &change).unwrap();
        assert_in_step(dir.path());
        // Attributes that could convert line ends.
        let (dir, repo) = clone_with(&[
            ("README.md", "hello\n"),
            (".gitattributes", "*.csv text eol=crlf\n"),
            ("tables/a/1/02.csv", "2,b\n"),
        ]);
        assert!(dirty_paths(&repo, None, &paths).unwrap().is_none());
        record(&repo, &change).unwrap();
        assert_eq!(std::fs::read(dir.path().join("tables/a/1/02.csv")).unwrap(), b"2,b\r\n4,d\r\n");
        assert_in_step(dir.path());
        // Line-end conversion set in the configuration.
        let (dir, repo) = clone_with(&files());
        git(dir.path(), &["config", "core.autocrlf", "true"]);
        assert!(dirty_paths(&repo, None, &paths).unwrap().is_none());
        // A sparse checkout, whose entries outside the cone have no file.
        let (dir, repo) = clone_with(&files());
        git(dir.path(), &["config", "core.sparseCheckout", "true"]);
        assert!(dirty_paths(&repo, None, &paths).unwrap().is_none());
        // A damaged index: libgit2 reports it.
        let (_dir, repo) = clone_with(&files());
        let index = repo.path().join("index");
        let mut bytes = std::fs::read(&index).unwrap();
        bytes[20] ^= 1;
        std::fs::write(&index, bytes).unwrap();
        assert!(dirty_paths(&repo, None, &paths).unwrap().is_none());
        assert!(record(&repo, &change).is_err());
    }

    #[test]
    fn a_malformed_entry_is_left_to_libgit2() {
        let (_dir, repo) = clone_with(&files());
        let bytes = std::fs::read(repo.path().join("index")).unwrap();
        assert!(Index::parse(bytes.clone()).is_some());
        // The first entry's path is "README.md" (9 bytes): its padding starts at 12 + 62 + 9.
        let mut bad = bytes[..bytes.len() - CHECKSUM].to_vec();
        assert_eq!(&bad[12 + ENTRY_HEAD..12 + ENTRY_HEAD + 9], b"README.md");
        bad[12 + ENTRY_HEAD + 9] = b'x';
        let checksum = Sha1::digest(&bad);
        bad.extend_from_slice(&checksum);
        assert!(Index::parse(bad).is_none());
        // Cut short.
        assert!(Index::parse(bytes[..40].to_vec()).is_none());
        // The first two entries swapped: well formed, out of order.
        let index = Index::parse(bytes.clone()).unwrap();
        let (first, second) = (index.entries[0].bytes.clone(), index.entries[1].bytes.clone());
        let mut swapped = bytes[..12].to_vec();
        swapped.extend_from_slice(&bytes[second.clone()]);
        swapped.extend_from_slice(&bytes[first]);
        swapped.extend_from_slice(&bytes[second.end..bytes.len() - CHECKSUM]);
        let checksum = Sha1::digest(&swapped);
        swapped.extend_from_slice(&checksum);
        assert!(Index::parse(swapped).is_none());
    }

    #[test]
    fn a_new_clone_without_an_index_gets_one() {
        let dir = tempfile::tempdir().unwrap();
        git(dir.path(), &["init", "-q", "-b", "main"]);
        let repo = Repository::open(dir.path()).unwrap();
        let mut update = git2::build::TreeUpdateBuilder::new();
        update.upsert("tables/a/1/01.csv", repo.blob(b"1,a\n").unwrap(), git2::FileMode::Blob);
        let empty = repo.find_tree(repo.treebuilder(None).unwrap().write().unwrap()).unwrap();
        let tree = repo.find_tree(update.create_updated(&repo, &empty).unwrap()).unwrap();
        let who = git2::Signature::now("t", "t@t.invalid").unwrap();
        let paths = vec!["tables/a/1/01.csv".to_string()];
        ensure_clean(&repo, &paths).unwrap();
        repo.commit(Some("refs/heads/main"), &who, &who, "first", &tree, &[]).unwrap();
        refresh_worktree(&repo, &paths).unwrap();
        assert_in_step(dir.path());
    }
}
