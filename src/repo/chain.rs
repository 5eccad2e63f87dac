//! The first-parent line of history a walk follows, read once from the tip back to a base
//! (or to the root commit). Each commit's header is read on the way, so the line keeps what
//! a walk needs of it: its id, its root tree and how many parents it has. Readers then never
//! read a commit object again, and a commit's parent tree is the tree of the link before it.

use super::commit_header::{read_commit_header, CommitHeader};
use anyhow::{Context, Result};
use git2::{Oid, Repository};

/// One commit of a first-parent line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Link {
    /// The commit.
    pub id: Oid,
    /// Its root tree.
    pub tree: Oid,
    /// How many parents it has: 0 for the root commit, 2 or more for a merge.
    pub parents: u32,
}

/// A first-parent line, oldest commit first, and the tree of the commit it continues.
#[derive(Debug)]
pub struct Chain {
    /// The commits, oldest first.
    pub links: Vec<Link>,
    /// The root tree of the commit before the first link (`None` from the root commit).
    pub base_tree: Option<Oid>,
}

impl Chain {
    /// The root tree of link `i`'s first parent (`None` for the root commit).
    pub fn parent_tree(&self, i: usize) -> Option<Oid> {
        match i {
            0 => self.base_tree,
            _ => Some(self.links[i - 1].tree),
        }
    }

    /// The commit ids, oldest first.
    pub fn ids(&self) -> Vec<Oid> {
        self.links.iter().map(|link| link.id).collect()
    }
}

/// The first-parent chain from the root commit to `tip`, oldest first.
pub fn first_parent_chain(repo: &Repository, tip: Oid) -> Result<Vec<Oid>> {
    Ok(chain_after(repo, tip, None)?.unwrap_or_default())
}

/// The first-parent chain from just after `base` to `tip`, oldest first; `None` when `base`
/// is not on `tip`'s first-parent history (with `base` `None`: the chain from the root).
pub fn chain_after(repo: &Repository, tip: Oid, base: Option<Oid>) -> Result<Option<Vec<Oid>>> {
    Ok(read_chain(repo, tip, base, None)?.map(|chain| chain.ids()))
}

/// Reads the first-parent line from `tip` back to just after `base` (to the root commit when
/// `base` is `None`); `None` when `base` is not on it. With `signed`, each commit is read
/// with its signature and handed to `signed` as it is read, newest first.
pub fn read_chain(
    repo: &Repository,
    tip: Oid,
    base: Option<Oid>,
    mut signed: Option<&mut dyn FnMut(CommitHeader)>,
) -> Result<Option<Chain>> {
    let mut links: Vec<Link> = Vec::new();
    let mut current = Some(tip);
    while let Some(id) = current {
        if Some(id) == base {
            let base_tree = read_commit_header(repo, id, false)?.tree;
            links.reverse();
            return Ok(Some(Chain {
                links,
                base_tree: Some(base_tree),
            }));
        }
        let what = || match links.last() {
            Some(child) => unreadable_parent(repo, child.id),
            None => format!("cannot read commit {id}"),
        };
        let header = read_commit_header(repo, id, signed.is_some()).with_context(what)?;
        current = header.first_parent();
        links.push(Link {
            id,
            tree: header.tree,
            parents: u32::try_from(header.parents.len()).unwrap_or(u32::MAX),
        });
        if let Some(signed) = signed.as_mut() {
            signed(header);
        }
    }
    if base.is_some() {
        return Ok(None);
    }
    links.reverse();
    Ok(Some(Chain { links, base_tree: None }))
}

/// Why the first parent of `child` cannot be read, naming a shallow clone as such.
fn unreadable_parent(repo: &Repository, child: Oid) -> String {
    let shallow = if repo.is_shallow() {
        ": this is a shallow clone, and a ledger is read from its genesis (run `git fetch --unshallow`)"
    } else {
        ""
    };
    format!("cannot read the first parent of commit {child}{shallow}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sign::test_support::{git, run_ok};

    #[test]
    fn a_chain_follows_first_parents_and_a_shallow_clone_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let (full, shallow) = (dir.path().join("full"), dir.path().join("shallow"));
        std::fs::create_dir(&full).unwrap();
        run_ok(git(&full).args(["init", "-q", "-b", "main"]));
        for n in 0..3 {
            let message = format!("commit {n}");
            let args = [
                "-c",
                "user.name=A",
                "-c",
                "user.email=a@b",
                "commit",
                "-q",
                "--allow-empty",
                "-m",
                &message,
            ];
            run_ok(git(&full).args(args));
        }
        let repo = Repository::open(&full).unwrap();
        let tip = repo.head().unwrap().target().unwrap();
        let chain = chain_after(&repo, tip, None).unwrap().unwrap();
        assert_eq!(chain.len(), 3);
        assert_eq!(chain_after(&repo, tip, Some(chain[0])).unwrap().unwrap(), chain[1..]);
        assert_eq!(chain_after(&repo, chain[1], Some(chain[2])).unwrap(), None, "not on the line");

        // The links keep each commit's tree and parent count, and the tree before the first.
        let read = read_chain(&repo, tip, Some(chain[0]), None).unwrap().unwrap();
        let tree_of = |id: Oid| repo.find_commit(id).unwrap().tree_id();
        assert_eq!(read.base_tree, Some(tree_of(chain[0])));
        assert_eq!(read.parent_tree(1), Some(tree_of(chain[1])));
        for (link, id) in read.links.iter().zip(&chain[1..]) {
            assert_eq!((link.id, link.tree, link.parents), (*id, tree_of(*id), 1));
        }
        let mut seen = Vec::new();
        let mut note = |header: CommitHeader| seen.push(header.id);
        let from_root = read_chain(&repo, tip, None, Some(&mut note)).unwrap().unwrap();
        assert_eq!((from_root.base_tree, from_root.links[0].parents), (None, 0));
        assert_eq!(seen, [chain[2], chain[1], chain[0]], "headers are handed over newest first");

        let url = format!("file://{}", full.display());
        run_ok(git(dir.path()).args(["clone", "-q", "--depth", "1", &url, "shallow"]));
        let repo = Repository::open(&shallow).unwrap();
        let error = format!("{:#}", chain_after(&repo, tip, None).unwrap_err());
        assert!(
            error.starts_with(&format!("cannot read the first parent of commit {tip}: this is a shallow clone"))
                && error.contains("git fetch --unshallow"),
            "{error}"
        );
    }
}
