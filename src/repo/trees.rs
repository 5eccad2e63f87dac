//! Reading trees and segments commit after commit. A walk reads each commit against its first
//! parent, and the parent's trees are the ones the walk read for the commits before: keeping
//! the trees read last makes each tree of history read about once instead of two or three
//! times. Likewise a commit that grows a table's last segment is checked against the version
//! the commit before wrote, which is kept from reading that commit.

use anyhow::{Context, Result};
use git2::{Blob, Oid, Repository, Tree};

/// How many trees a reader keeps: the spine of every table folder (a dozen tables, a few
/// levels each) fits, so a commit's parent side is always at hand.
const KEEP: usize = 128;

/// How many segment blobs a reader keeps: the last segment of every table fits.
const KEEP_SEGMENTS: usize = 16;

/// A tree and segment reader that remembers the trees and segments it read last.
pub struct Trees<'r> {
    /// The repository the trees come from.
    pub repo: &'r Repository,
    /// The trees read last and their ids, the most recent at the end.
    kept: Vec<(Oid, Tree<'r>)>,
    /// The segment blobs read last, the most recent at the end.
    segments: Vec<Blob<'r>>,
}

impl<'r> Trees<'r> {
    /// A reader that remembers nothing yet.
    pub fn new(repo: &'r Repository) -> Trees<'r> {
        Trees {
            repo,
            kept: Vec::with_capacity(KEEP),
            segments: Vec::with_capacity(KEEP_SEGMENTS),
        }
    }

    /// The tree `id`, from the trees read last or from the repository; `what` names it in
    /// the error.
    pub fn find(&mut self, id: Oid, what: impl FnOnce() -> String) -> Result<Tree<'r>> {
        let tree = match self.kept.iter().rposition(|(kept, _)| *kept == id) {
            Some(i) => self.kept.remove(i).1,
            None => self.repo.find_tree(id).with_context(|| format!("cannot read {}", what()))?,
        };
        if self.kept.len() == KEEP {
            self.kept.remove(0);
        }
        self.kept.push((id, tree.clone()));
        Ok(tree)
    }

    /// The segment blob `id`, from the segments read last or from the repository.
    pub fn segment(&mut self, id: Oid) -> Result<Blob<'r>, git2::Error> {
        let blob = match self.segments.iter().rposition(|kept| kept.id() == id) {
            Some(i) => self.segments.remove(i),
            None => self.repo.find_blob(id)?,
        };
        if self.segments.len() == KEEP_SEGMENTS {
            self.segments.remove(0);
        }
        self.segments.push(blob.clone());
        Ok(blob)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_each_tree_by_id_also_past_what_it_keeps() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init_bare(dir.path()).unwrap();
        let ids: Vec<Oid> = (0..KEEP + 10)
            .map(|i| {
                let blob = repo.blob(format!("{i}\n").as_bytes()).unwrap();
                let mut builder = repo.treebuilder(None).unwrap();
                builder.insert("f.csv", blob, 0o100644).unwrap();
                builder.write().unwrap()
            })
            .collect();
        let mut trees = Trees::new(&repo);
        for round in 0..2 {
            for (i, id) in ids.iter().enumerate() {
                let tree = trees.find(*id, || format!("tree {i}")).unwrap();
                assert_eq!(tree.id(), *id, "round {round}");
            }
        }
        assert_eq!(trees.kept.len(), KEEP);
        let missing = Oid::from_str("0123456789abcdef0123456789abcdef01234567").unwrap();
        let error = trees.find(missing, || "the lost tree".into()).unwrap_err();
        assert!(format!("{error:#}").starts_with("cannot read the lost tree"), "{error:#}");
    }
}
