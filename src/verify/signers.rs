//! Who signed each commit of the line a walk follows. The line is read from the tip back
//! before the walk starts (`repo::read_chain`); each commit's SSH signature is parsed as it
//! is read and its check queued at once, so the signature workers check commit signatures
//! while the line is still being read. The walk then only looks up each commit's signer.

use super::signatures::SignaturePipeline;
use crate::repo::{Chain, CommitHeader, Finding};
use crate::sign::{KeyCache, PublicKey};
use git2::Oid;
use std::collections::HashMap;

/// The signer number of a commit whose signature cannot be used (see `problems`).
const NO_SIGNER: u32 = u32::MAX;

/// The signers of a first-parent line's commits, oldest first once the line is read.
#[derive(Default)]
pub struct CommitSigners {
    /// The fingerprint of each signing key, by number.
    fingerprints: Vec<String>,
    /// The number of each signing key.
    numbers: HashMap<PublicKey, u32>,
    /// The keys signatures carry, decoded once each.
    keys: KeyCache,
    /// Each commit's signer number (its check is queued), in the order the commits were read;
    /// [`NO_SIGNER`] when the commit is not signed or its signature cannot be used.
    of: Vec<u32>,
    /// Why, for each commit whose signer is [`NO_SIGNER`].
    problems: HashMap<Oid, Box<str>>,
    /// How many commits of the line the walk reached (asked the signer of).
    reached: usize,
}

impl CommitSigners {
    /// Reads the signature of the commit `header` holds and queues its check in `pipeline`.
    /// Commits are noted newest first, as the line is read; call [`CommitSigners::oldest_first`]
    /// once it is read.
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
                let next = u32::try_from(self.fingerprints.len()).unwrap_or(NO_SIGNER);
                let number = *self.numbers.entry(parsed.key.clone()).or_insert(next);
                if number == next {
                    self.fingerprints.push(parsed.key.fingerprint());
                }
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

    /// Puts the signers noted in the order of the line (oldest first).
    pub fn oldest_first(&mut self) {
        self.of.reverse();
    }

    /// The fingerprint of the key that signed commit `i` of the line (`id`); `None`, with a
    /// finding, when it is not signed or its signature cannot be used. The walk asks in
    /// order: commits after the last one asked about were not reached.
    pub fn signer(&mut self, i: usize, id: Oid, findings: &mut Vec<Finding>) -> Option<&str> {
        self.reached = self.reached.max(i + 1);
        if let Some(fingerprint) = self.of.get(i).and_then(|number| self.fingerprints.get(*number as usize)) {
            return Some(fingerprint);
        }
        let problem = match self.problems.get(&id) {
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
            let position: HashMap<String, usize> = chain.links.iter().enumerate().map(|(i, link)| (link.id.to_string(), i)).collect();
            let at = |f: &Finding| f.commit.as_ref().and_then(|c| position.get(c)).copied();
            // A finding about no commit of the line (a worker that crashed) is always kept.
            commits.retain(|f| at(f).is_none_or(|i| i < self.reached));
            commits.sort_by_key(|f| at(f).unwrap_or(usize::MAX));
        }
        commits.extend(rows);
        commits
    }
}
