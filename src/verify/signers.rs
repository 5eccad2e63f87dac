//! Who signed each commit of the line a walk follows. The line is read from the tip back
//! before the walk starts (`repo::read_chain`); each commit's SSH signature is parsed as it
//! is read and its check queued at once, so the signature workers check commit signatures
//! while the line is still being read. The walk then only looks up each commit's signer.

use super::signatures::{KeyNumbers, SignaturePipeline};
use crate::repo::{Chain, CommitHeader, Finding};
use crate::sign::{KeyCache, PublicKey};
use git2::Oid;
use std::collections::{HashMap, HashSet};

/// The signer number of a commit whose signature cannot be used (see `problems`).
const NO_SIGNER: u32 = u32::MAX;

/// The signers of a line's commits as they are read, newest first.
#[derive(Default)]
pub struct CommitSigners {
    /// The fingerprint of each signing key, by number.
    fingerprints: KeyNumbers<String>,
    /// The keys signatures carry, decoded once each.
    keys: KeyCache,
    /// Each commit's signer number (its check is queued), newest first; [`NO_SIGNER`] when
    /// the commit is not signed or its signature cannot be used.
    of: Vec<u32>,
    /// Why, for each commit whose signer is [`NO_SIGNER`].
    problems: HashMap<Oid, Box<str>>,
}

impl CommitSigners {
    /// Reads the signature of the commit `header` holds and queues its check in `pipeline`.
    /// Commits are noted newest first, as the line is read from its tip.
    pub fn note(&mut self, header: CommitHeader, pipeline: &mut SignaturePipeline) {
        let id = header.id;
        let Some((signature, data)) = header.signature else {
            self.problems
                .insert(id, format!("commit {id} is not signed; every ledger commit is SSH-signed").into());
            self.of.push(NO_SIGNER);
            return;
        };
        let parsed = std::str::from_utf8(&signature)
            .map_err(|_| "the signature is not text".to_string())
            .and_then(|text| crate::sign::parse_armored_with(text, &mut self.keys).map_err(|e| e.to_string()))
            .and_then(|parsed| match parsed.namespace.as_str() {
                "git" => Ok(parsed),
                other => Err(format!("the signature is made for namespace {other:?}, not git's")),
            });
        let number = match parsed {
            Ok(parsed) => {
                let number = self.fingerprints.number(&parsed.key, PublicKey::fingerprint);
                pipeline.push_commit(parsed, &data, id);
                number
            }
            Err(e) => {
                self.problems.insert(id, format!("commit {id}: {e}").into());
                NO_SIGNER
            }
        };
        self.of.push(number);
    }

    /// The signers in the order of the line (oldest first), once it is read whole.
    pub fn in_line_order(mut self) -> LineSigners {
        self.of.reverse();
        LineSigners { noted: self, reached: 0 }
    }
}

/// The signers of a line's commits, oldest first, as the walk asks for them.
pub struct LineSigners {
    noted: CommitSigners,
    /// How many commits of the line the walk reached (asked the signer of).
    reached: usize,
}

impl LineSigners {
    /// The fingerprint of the key that signed commit `i` of the line (`id`); `None`, with a
    /// finding, when it is not signed or its signature cannot be used. The walk asks in
    /// order: commits after the last one asked about were not reached.
    pub fn signer(&mut self, i: usize, id: Oid, findings: &mut Vec<Finding>) -> Option<&str> {
        self.reached = self.reached.max(i + 1);
        let noted = &self.noted;
        if let Some(fingerprint) = noted.of.get(i).and_then(|number| noted.fingerprints.values.get(*number as usize)) {
            return Some(fingerprint);
        }
        let problem = match noted.problems.get(&id) {
            Some(problem) => problem.to_string(),
            None => format!("commit {id}: its signature was not read with the line of history"),
        };
        findings.push(Finding::general("commit-signature", problem).in_commit(id));
        None
    }

    /// Of the findings the signature workers made (those without a seq first, then rows by
    /// seq), all but those about commits the walk did not reach, commit findings in the order
    /// of `chain`: the checks of every commit's signature were queued before the walk, which
    /// may have stopped early.
    pub fn reached_only(&self, findings: Vec<Finding>, chain: &Chain) -> Vec<Finding> {
        let (mut commits, rows): (Vec<Finding>, Vec<Finding>) = findings.into_iter().partition(|f| f.seq.is_none());
        if !commits.is_empty() {
            let commit_of = |f: &Finding| f.commit.as_deref().and_then(|c| Oid::from_str(c).ok());
            let named: HashSet<Oid> = commits.iter().filter_map(commit_of).collect();
            let position: HashMap<Oid, usize> = chain
                .links
                .iter()
                .enumerate()
                .filter(|(_, link)| named.contains(&link.id))
                .map(|(i, link)| (link.id, i))
                .collect();
            let at = |f: &Finding| commit_of(f).and_then(|c| position.get(&c)).copied();
            // A finding about no commit of the line (a worker that crashed) is always kept.
            commits.retain(|f| at(f).is_none_or(|i| i < self.reached));
            commits.sort_by_key(|f| at(f).unwrap_or(usize::MAX));
        }
        commits.extend(rows);
        commits
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::Link;

    fn oid(n: u8) -> Oid {
        Oid::from_bytes(&[n; 20]).unwrap()
    }

    #[test]
    fn only_findings_about_unreached_commits_are_dropped_and_commits_come_in_line_order() {
        let links = (1..=4)
            .map(|n| Link {
                id: oid(n),
                tree: oid(100 + n),
                parents: 1,
            })
            .collect();
        let chain = Chain { links, base_tree: None };
        let about = |n: u8| Finding::general("commit-signature", format!("commit {n}")).in_commit(oid(n));
        let crashed = Finding::general("bad-signature", "a signature worker crashed; signatures were not all checked");
        let mut row = Finding::general("bad-signature", "row 7");
        row.seq = Some(7);
        let mut signers = CommitSigners::default().in_line_order();
        signers.reached = 2;
        let found = signers.reached_only(vec![about(2), about(3), crashed, about(1), row], &chain);
        let messages: Vec<&str> = found.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "commit 1",
                "commit 2",
                "a signature worker crashed; signatures were not all checked",
                "row 7"
            ],
            "commit 3 was not reached; the crash and the row are kept"
        );
    }
}
