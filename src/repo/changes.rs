//! What a commit changes relative to its first parent, checked to be a pure append: the last
//! segment of a table grown or left alone, new segments added in order, nothing else touched,
//! no file outside the ledger's layout.

use super::commit_header::{read_commit_header, CommitHeader};
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

/// The rows of one segment file to read: the whole blob, or what it added to the parent's
/// version of it.
#[derive(Clone, Debug)]
pub struct Source {
    /// The table.
    pub table: TableId,
    /// The segment's path in the repository.
    pub file: String,
    /// The segment blob.
    pub blob: Oid,
    /// The parent's version of the segment when the commit grew it: only the rows after its
    /// bytes are read, and the blob must start with them.
    pub grows: Option<Oid>,
    /// The segment before this one, left as it was by the commit (its path in the repository
    /// and blob): it must be full for this one to begin.
    pub follows: Option<(String, Oid)>,
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
    changes_of(&mut Trees::new(repo), &CommitHeader::of(commit))
}

/// The changes of the commit `header` reads, relative to its first parent (whose header is
/// read here).
pub fn changes_of(trees: &mut Trees, header: &CommitHeader) -> Result<Changes> {
    let parent_tree = match header.first_parent() {
        Some(parent) => Some(
            read_commit_header(trees.repo, parent, false)
                .with_context(|| format!("cannot read the first parent of commit {}", header.id))?
                .tree,
        ),
        None => None,
    };
    read_changes(trees, header.id, header.tree, parent_tree)
}

/// The changes of commit `id` (root tree `tree`) relative to its first parent's root tree
/// `parent_tree` (`None` for a root commit), read with `trees`: walking history with one
/// reader, each commit's parent trees are the ones read for the commit before.
pub fn read_changes(trees: &mut Trees, id: Oid, tree: Oid, parent_tree: Option<Oid>) -> Result<Changes> {
    let repo = trees.repo;
    let tree = trees.find(tree, || format!("the tree of commit {id}"))?;
    let parent_tree = match parent_tree {
        Some(parent) => Some(trees.find(parent, || format!("the first parent of commit {id}"))?),
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

/// Adds the segments `new` grew or has beyond `old` as sources (checked: appended, bounded in
/// size).
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
                grows: segment.grows,
                follows: segment.follows.map(|(path, blob)| (format!("{dir}/{path}"), blob)),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::row::Row;
    use crate::ledger::schema::table_id;
    use crate::repo::layout::insert_segment;
    use crate::repo::write::{commit_rows, sign_and_write, Author, RootFile};
    use crate::repo::RowStream;
    use crate::sign::SigningKey;

    /// Rows per segment in these tests: small, so that segments fill quickly.
    const FULL: u64 = 3;

    struct Ledger {
        _dir: tempfile::TempDir,
        repo: Repository,
        key: SigningKey,
        seq: u64,
    }

    impl Ledger {
        fn new() -> Ledger {
            let dir = tempfile::tempdir().unwrap();
            let repo = Repository::init_bare(dir.path()).unwrap();
            Ledger {
                _dir: dir,
                repo,
                key: SigningKey::from_seed([7; 32], "test"),
                seq: 0,
            }
        }

        fn deposits(&mut self, n: usize) -> Vec<Row> {
            (0..n)
                .map(|_| {
                    self.seq += 1;
                    let values = [("currency", "EUR"), ("amount", "10.00"), ("reason", "donation")];
                    let mut row = Row::draft(
                        table_id("transactions").unwrap(),
                        self.seq,
                        "2026-01-05T09:00:00Z".parse().unwrap(),
                        "alice",
                        "deposit-eur",
                        &values,
                    )
                    .unwrap();
                    row.key = self.key.public().fingerprint();
                    row.signature = crate::rules::test_support::SIG.into();
                    row
                })
                .collect()
        }

        fn head(&self) -> Option<git2::Commit<'_>> {
            self.repo.head().ok().map(|h| h.peel_to_commit().unwrap())
        }

        /// Commits `n` new deposits the way smartup writes them; returns the commit.
        fn append(&mut self, n: usize) -> Oid {
            let rows = self.deposits(n);
            let parent = self.head();
            let policy = [RootFile {
                name: POLICY_FILE,
                bytes: b"[ledger]\n",
            }];
            let files: &[RootFile] = if parent.is_none() { &policy } else { &[] };
            let author = Author {
                handle: "alice".into(),
                email: "alice@example.org".into(),
            };
            let time = "2026-01-05T09:00:00Z".parse().unwrap();
            let commit = commit_rows(&self.repo, parent.as_ref(), &rows, files, FULL, &self.key, &author, "rows", time).unwrap();
            self.advance(commit)
        }

        /// Commits a hand-made change of the transactions folder: `edit` gets the folder and
        /// returns the new one.
        fn hand_made(&mut self, edit: impl FnOnce(&Repository, &Tree) -> Oid) -> Oid {
            let parent = self.head().unwrap();
            let root = parent.tree().unwrap();
            let tables = self.repo.find_tree(root.get_name(TABLES_DIR).unwrap().id()).unwrap();
            let folder = self.repo.find_tree(tables.get_name("transactions").unwrap().id()).unwrap();
            let new_folder = edit(&self.repo, &folder);
            let mut tables = self.repo.treebuilder(Some(&tables)).unwrap();
            tables.insert("transactions", new_folder, 0o040000).unwrap();
            let mut root = self.repo.treebuilder(Some(&root)).unwrap();
            root.insert(TABLES_DIR, tables.write().unwrap(), 0o040000).unwrap();
            let tree = self.repo.find_tree(root.write().unwrap()).unwrap();
            let author = Author {
                handle: "alice".into(),
                email: "alice@example.org".into(),
            };
            let commit = sign_and_write(
                &self.repo,
                Some(&parent),
                &tree,
                &self.key,
                &author,
                "by hand",
                "2026-01-05T09:00:00Z".parse().unwrap(),
            )
            .unwrap();
            self.advance(commit)
        }

        fn advance(&self, commit: Oid) -> Oid {
            self.repo.reference("refs/heads/main", commit, true, "test").unwrap();
            self.repo.set_head("refs/heads/main").unwrap();
            commit
        }

        /// The rows `commit` adds, as (seq, file, line), or the first finding.
        fn read(&self, commit: Oid) -> Result<Vec<(u64, String, u64)>, String> {
            let changes = commit_changes(&self.repo, &self.repo.find_commit(commit).unwrap()).unwrap();
            if let Some(finding) = changes.findings.first() {
                return Err(finding.to_string());
            }
            let mut trees = Trees::new(&self.repo);
            let mut stream = RowStream::new(&mut trees, changes.sources, FULL);
            let mut rows = Vec::new();
            while let Some((row, at)) = stream.next_row().map_err(|f| f.to_string())? {
                rows.push((row.seq, at.file.trim_start_matches("tables/transactions/").to_string(), at.line));
            }
            Ok(rows)
        }

        /// Commits `bytes` by hand as the new version of segment 1, reads that commit, then
        /// moves the branch back: what reading it gave.
        fn grown_by_hand(&mut self, bytes: &[u8]) -> Result<Vec<(u64, String, u64)>, String> {
            let parent = self.head().unwrap().id();
            let commit = self.hand_made(|repo, folder| insert_segment(repo, Some(folder), 1, repo.blob(bytes).unwrap()).unwrap());
            let read = self.read(commit);
            self.advance(parent);
            read
        }

        /// A segment's bytes at HEAD.
        fn segment(&self, path: &str) -> Vec<u8> {
            let tree = self.head().unwrap().tree().unwrap();
            let entry = tree.get_path(std::path::Path::new(&format!("tables/transactions/{path}"))).unwrap();
            self.repo.find_blob(entry.id()).unwrap().content().to_vec()
        }
    }

    fn at(seq: u64, file: &str, line: u64) -> (u64, String, u64) {
        (seq, file.to_string(), line)
    }

    #[test]
    fn commits_grow_the_last_segment_until_it_is_full_and_only_their_rows_are_read() {
        let mut l = Ledger::new();
        let c = l.append(2);
        assert_eq!(l.read(c).unwrap(), [at(1, "1/01.csv", 2), at(2, "1/01.csv", 3)]);
        let c = l.append(1);
        assert_eq!(l.read(c).unwrap(), [at(3, "1/01.csv", 4)]);
        let c = l.append(1);
        assert_eq!(l.read(c).unwrap(), [at(4, "1/02.csv", 2)]);
        let c = l.append(5);
        let expected = [
            at(5, "1/02.csv", 3),
            at(6, "1/02.csv", 4),
            at(7, "1/03.csv", 2),
            at(8, "1/03.csv", 3),
            at(9, "1/03.csv", 4),
        ];
        assert_eq!(l.read(c).unwrap(), expected);
        assert_eq!(crate::ledger::segment::rows_in(&l.segment("1/01.csv")), 3);
    }

    #[test]
    fn a_new_segment_before_the_last_is_full_is_refused() {
        let mut l = Ledger::new();
        l.append(1);
        let lonely = l.deposits(1);
        let c = l.hand_made(|repo, folder| {
            let mut bytes = crate::ledger::segment::header_line(table_id("transactions").unwrap());
            crate::ledger::segment::encode_row(&lonely[0], &mut bytes);
            insert_segment(repo, Some(folder), 2, repo.blob(&bytes).unwrap()).unwrap()
        });
        let error = l.read(c).unwrap_err();
        assert!(
            error.contains("1/02.csv begins while tables/transactions/1/01.csv holds 1 of its 3 rows"),
            "{error}"
        );
    }

    #[test]
    fn rows_added_to_a_full_segment_that_is_not_the_last_are_refused() {
        let mut l = Ledger::new();
        l.append(4);
        let mut full = l.segment("1/01.csv");
        let extra = l.deposits(1);
        crate::ledger::segment::encode_row(&extra[0], &mut full);
        let error = l.grown_by_hand(&full).unwrap_err();
        assert!(
            error.contains("rows were added to tables/transactions/1/01.csv, which is not the table's last segment"),
            "{error}"
        );
    }

    #[test]
    fn growing_the_last_segment_must_keep_its_rows_byte_for_byte() {
        let mut l = Ledger::new();
        l.append(2);
        let old = l.segment("1/01.csv");
        let mut edited = String::from_utf8(old.clone())
            .unwrap()
            .replacen(",10.00,", ",90.00,", 2)
            .into_bytes();
        crate::ledger::segment::encode_row(&l.deposits(1)[0], &mut edited);
        let error = l.grown_by_hand(&edited).unwrap_err();
        assert!(
            error.contains("1/01.csv:2") && error.contains("an existing row was edited"),
            "{error}"
        );

        // Growing past full is refused too, and so is growing by nothing but a broken line.
        let mut overfull = old.clone();
        for row in l.deposits(2) {
            crate::ledger::segment::encode_row(&row, &mut overfull);
        }
        let error = l.grown_by_hand(&overfull).unwrap_err();
        assert!(
            error.contains("holds 4 rows; this segment must hold at least 1 row more and at most 3"),
            "{error}"
        );
        let mut half = old.clone();
        half.extend_from_slice(b"3,2026");
        let error = l.grown_by_hand(&half).unwrap_err();
        assert!(error.contains("1/01.csv:4") && error.contains("no line end"), "{error}");
    }
}
