//! A commit's header read straight from its object's bytes: its tree, its parents and its SSH
//! signature with the bytes that signature covers. A walk needs nothing else of a commit, and
//! reading the object once this way costs half of what libgit2's full parse (people, times,
//! message) followed by its signature extraction (a second read of the object) did.
//!
//! The header is read as git writes and reads it: a `tree` line, then the `parent` lines,
//! then `author` and `committer`; the signature is the `gpgsig` header (continuation lines
//! begin with a space), and what it signs is the object without that header, as
//! `git_commit_extract_signature` gives it. Only the header is searched for it, as git does:
//! libgit2 also takes a message line that begins with `gpgsig ` for a signature. Grafts and
//! a shallow clone's boundary are not applied: a walk follows the parents the objects name.

use crate::sign::PublicKey;
use anyhow::{anyhow, Context, Result};
use git2::{ObjectType, Oid, Repository};

/// A commit's SSH signature (the armored text) and the bytes it signs.
pub type SignedCommit = (Vec<u8>, Vec<u8>);

/// What a walk reads of a commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitHeader {
    /// The commit.
    pub id: Oid,
    /// Its root tree.
    pub tree: Oid,
    /// Its parents, the first parent first.
    pub parents: Vec<Oid>,
    /// Its signature and the bytes that signature covers, when asked for and present.
    pub signature: Option<SignedCommit>,
}

impl CommitHeader {
    /// The header of a commit libgit2 has read already (without its signature).
    pub fn of(commit: &git2::Commit) -> CommitHeader {
        CommitHeader {
            id: commit.id(),
            tree: commit.tree_id(),
            parents: commit.parent_ids().collect(),
            signature: None,
        }
    }

    /// The first parent, unless this is a root commit.
    pub fn first_parent(&self) -> Option<Oid> {
        self.parents.first().copied()
    }
}

/// Reads commit `id`'s header, with its signature when `signature` is true.
pub fn read_commit_header(repo: &Repository, id: Oid, signature: bool) -> Result<CommitHeader> {
    let odb = repo.odb().with_context(|| format!("cannot read commit {id}"))?;
    let object = odb.read(id).with_context(|| format!("cannot read commit {id}"))?;
    if object.kind() != ObjectType::Commit {
        anyhow::bail!("cannot read commit {id}: it is a {}, not a commit", object.kind());
    }
    parse_commit(id, object.data(), signature).with_context(|| format!("cannot read commit {id}"))
}

/// The key whose SSH signature on commit `id` is valid over the bytes it covers; `None` for
/// a commit that cannot be read, is not signed, or whose signature does not hold.
pub fn verified_signer(repo: &Repository, id: Oid) -> Option<PublicKey> {
    let (signature, signed) = read_commit_header(repo, id, true).ok()?.signature?;
    crate::sign::verify_git_commit(std::str::from_utf8(&signature).ok()?, &signed).ok()
}

/// Parses the bytes of commit `id`'s object (with its signature when `with_signature`).
pub fn parse_commit(id: Oid, data: &[u8], with_signature: bool) -> Result<CommitHeader> {
    let mut lines = Lines { data, at: 0 };
    let tree = lines
        .oid_line(b"tree ")?
        .ok_or_else(|| anyhow!("the object does not begin with its tree"))?;
    let mut parents = Vec::new();
    while let Some(parent) = lines.oid_line(b"parent ")? {
        parents.push(parent);
    }
    for field in [&b"author "[..], b"committer "] {
        if !lines.next_line().is_some_and(|(start, _)| data[start..].starts_with(field)) {
            anyhow::bail!("no {} line where git writes it", String::from_utf8_lossy(field).trim());
        }
        // Some tools write more than one author line: git and libgit2 read the first.
        while data[lines.at..].starts_with(b"author ") {
            lines.next_line();
        }
    }
    let signature = if with_signature { signature(&mut lines) } else { None };
    Ok(CommitHeader {
        id,
        tree,
        parents,
        signature,
    })
}

/// The header's lines, each as (start, end past its `\n`): those before the blank line that
/// ends the header, or before the end of an object without a message.
struct Lines<'a> {
    data: &'a [u8],
    at: usize,
}

impl Lines<'_> {
    /// The next line of the header, if any (the last one may lack its `\n`).
    fn next_line(&mut self) -> Option<(usize, usize)> {
        let start = self.at;
        if start >= self.data.len() || self.data[start] == b'\n' {
            return None;
        }
        self.at = self.data[start..]
            .iter()
            .position(|b| *b == b'\n')
            .map_or(self.data.len(), |i| start + i + 1);
        Some((start, self.at))
    }

    /// The next line when it is `field` and an object id (`tree <hex>\n`); nothing read and
    /// `None` when the next line is another field.
    fn oid_line(&mut self, field: &[u8]) -> Result<Option<Oid>> {
        let rest = &self.data[self.at..];
        if !rest.starts_with(field) {
            return Ok(None);
        }
        let hex = &rest[field.len()..];
        let name = || String::from_utf8_lossy(field).trim().to_string();
        let valid = hex.len() > 40 && hex[40] == b'\n' && hex[..40].iter().all(u8::is_ascii_hexdigit);
        if !valid {
            anyhow::bail!("its {} line is not an object id", name());
        }
        self.at += field.len() + 41;
        // 40 ASCII hex digits always make an object id.
        Oid::from_str(std::str::from_utf8(&hex[..40])?)
            .map(Some)
            .map_err(|e| anyhow!("its {} line: {e}", name()))
    }
}

/// The `gpgsig` header among the lines left and the bytes it signs: the whole object
/// without the header. `None` when there is none or it is cut short.
fn signature(lines: &mut Lines) -> Option<SignedCommit> {
    const FIELD: &[u8] = b"gpgsig ";
    let data = lines.data;
    let (start, mut end) = std::iter::from_fn(|| lines.next_line()).find(|(s, _)| data[*s..].starts_with(FIELD))?;
    let mut text = data[start + FIELD.len()..end].to_vec();
    while data.get(end) == Some(&b' ') {
        let (_, next) = lines.next_line()?;
        text.extend_from_slice(&data[end + 1..next]);
        end = next;
    }
    // The last line must end (a lone space left at the end of the object adds nothing).
    if data[end - 1] != b'\n' {
        return None;
    }
    text.pop();
    let mut signed = Vec::with_capacity(data.len() - (end - start));
    signed.extend_from_slice(&data[..start]);
    signed.extend_from_slice(&data[end..]);
    Some((text, signed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::write::{sign_and_write, Author};
    use crate::sign::SigningKey;

    fn repo() -> (tempfile::TempDir, Repository) {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init_bare(dir.path()).unwrap();
        (dir, repo)
    }

    /// A commit object written as raw bytes.
    fn raw(repo: &Repository, text: &str) -> Oid {
        repo.odb().unwrap().write(ObjectType::Commit, text.as_bytes()).unwrap()
    }

    /// What libgit2 reads of a commit: its header and its signature extraction.
    fn libgit2(repo: &Repository, id: Oid) -> CommitHeader {
        let commit = repo.find_commit(id).unwrap();
        CommitHeader {
            signature: repo.extract_signature(&id, None).ok().map(|(s, d)| (s.to_vec(), d.to_vec())),
            ..CommitHeader::of(&commit)
        }
    }

    #[test]
    fn reads_what_libgit2_reads_of_signed_unsigned_merge_and_odd_commits() {
        let (_dir, repo) = repo();
        let tree = repo.treebuilder(None).unwrap().write().unwrap();
        let tree = repo.find_tree(tree).unwrap();
        let key = SigningKey::from_seed([7; 32], "test");
        let author = Author {
            handle: "alice".into(),
            email: "alice@example.org".into(),
        };
        let time = "2026-01-05T09:00:00Z".parse().unwrap();
        let root = sign_and_write(&repo, None, &tree, &key, &author, "root", time).unwrap();
        let parent = repo.find_commit(root).unwrap();
        let child = sign_and_write(
            &repo,
            Some(&parent),
            &tree,
            &key,
            &author,
            "gpgsig in the message\n\ngpgsig x\n",
            time,
        )
        .unwrap();
        let person = "A <a@example.org> 1700000000 +0000";
        let t = tree.id();
        let unsigned = raw(
            &repo,
            &format!("tree {t}\nparent {root}\nparent {child}\nauthor {person}\ncommitter {person}\n\nmerge\n"),
        );
        let no_message = raw(&repo, &format!("tree {t}\nauthor {person}\ncommitter {person}\n"));
        let two_authors = raw(
            &repo,
            &format!("tree {t}\nauthor {person}\nauthor B <b@example.org> 1 +0000\ncommitter {person}\n\nm\n"),
        );
        let signed_last = raw(
            &repo,
            &format!("tree {t}\nparent {root}\nauthor {person}\ncommitter {person}\nencoding UTF-8\ngpgsig line one\n line two\n  indented\n\nmessage\n"),
        );
        for id in [root, child, unsigned, no_message, two_authors, signed_last] {
            let ours = read_commit_header(&repo, id, true).unwrap();
            assert_eq!(ours, libgit2(&repo, id), "commit {id}");
        }
        let read = read_commit_header(&repo, signed_last, true).unwrap();
        let (text, signed) = read.signature.unwrap();
        assert_eq!(text, b"line one\nline two\n indented");
        assert!(String::from_utf8(signed).unwrap().ends_with("encoding UTF-8\n\nmessage\n"));
        assert_eq!(read_commit_header(&repo, unsigned, true).unwrap().parents, [root, child]);
        assert_eq!(read_commit_header(&repo, child, false).unwrap().signature, None);
        // A message line is never a signature (libgit2 would take this one).
        let in_message = raw(
            &repo,
            &format!("tree {t}\nauthor {person}\ncommitter {person}\n\ntitle\ngpgsig a\n b\n"),
        );
        assert!(libgit2(&repo, in_message).signature.is_some());
        assert_eq!(read_commit_header(&repo, in_message, true).unwrap().signature, None);
    }

    #[test]
    fn refuses_objects_that_are_not_commits_as_git_writes_them() {
        let (_dir, repo) = repo();
        let person = "A <a@example.org> 1700000000 +0000";
        let tree = repo.treebuilder(None).unwrap().write().unwrap();
        let cases = [
            (
                format!("parent {tree}\ntree {tree}\nauthor {person}\ncommitter {person}\n\nm\n"),
                "does not begin with its tree",
            ),
            (
                format!("tree {}\nauthor {person}\ncommitter {person}\n\nm\n", &tree.to_string()[..39]),
                "tree line is not an object id",
            ),
            (
                format!("tree {tree}\nparent xyz\nauthor {person}\ncommitter {person}\n\nm\n"),
                "parent line is not an object id",
            ),
            (format!("tree {tree}\ncommitter {person}\n\nm\n"), "no author line"),
            (format!("tree {tree}\nauthor {person}\n\nm\n"), "no committer line"),
        ];
        for (text, expected) in cases {
            let id = raw(&repo, &text);
            let error = format!("{:#}", read_commit_header(&repo, id, true).unwrap_err());
            assert!(
                error.starts_with(&format!("cannot read commit {id}")) && error.contains(expected),
                "{error}"
            );
        }
        let blob = repo.blob(b"not a commit").unwrap();
        let error = format!("{:#}", read_commit_header(&repo, blob, false).unwrap_err());
        assert!(error.contains("it is a blob, not a commit"), "{error}");
        let missing = Oid::from_str("0123456789abcdef0123456789abcdef01234567").unwrap();
        assert!(read_commit_header(&repo, missing, false).is_err());
    }

    #[test]
    fn the_signer_is_the_key_whose_signature_holds() {
        let (_dir, repo) = repo();
        let tree = repo.find_tree(repo.treebuilder(None).unwrap().write().unwrap()).unwrap();
        let key = SigningKey::from_seed([7; 32], "test");
        let author = Author {
            handle: "alice".into(),
            email: "alice@example.org".into(),
        };
        let signed = sign_and_write(&repo, None, &tree, &key, &author, "root", "2026-01-05T09:00:00Z".parse().unwrap()).unwrap();
        assert_eq!(verified_signer(&repo, signed).as_ref(), Some(key.public()));
        let text = String::from_utf8(repo.odb().unwrap().read(signed).unwrap().data().to_vec()).unwrap();
        let altered = raw(&repo, &text.replace("\nroot", "\nroof"));
        assert_eq!(verified_signer(&repo, altered), None);
        let unsigned = raw(
            &repo,
            &format!("tree {}\nauthor A <a@b> 1 +0000\ncommitter A <a@b> 1 +0000\n\nm\n", tree.id()),
        );
        assert_eq!(verified_signer(&repo, unsigned), None);
    }

    #[test]
    fn a_signature_cut_short_is_no_signature() {
        let (_dir, repo) = repo();
        let person = "A <a@example.org> 1700000000 +0000";
        let tree = repo.treebuilder(None).unwrap().write().unwrap();
        for end in ["\n two", "\n "] {
            let id = raw(&repo, &format!("tree {tree}\nauthor {person}\ncommitter {person}\ngpgsig one{end}"));
            assert_eq!(read_commit_header(&repo, id, true).unwrap().signature, None, "{end:?}");
            assert_eq!(libgit2(&repo, id).signature, None, "{end:?}");
        }
    }
}
