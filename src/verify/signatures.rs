//! Row and commit signatures checked in the background: batches go to worker threads while
//! the main thread keeps parsing and applying rules, so both cores stay busy. Row and commit
//! signatures are checked in the same batches (a commit's key and namespace were read on the
//! main thread, which needs them at once; the work here is the cryptography).

use crate::ledger::row::{Location, Row};
use crate::repo::Finding;
use crate::sign::{signed_data, verify_signed, ArmoredSignature, KeyCache, KeyScreen, PublicKey, SignedData};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

const BATCH: usize = 2048;

/// One row signature to check, with what a finding needs to point at it.
struct Item {
    key: PublicKey,
    message: Vec<u8>,
    signature: [u8; 64],
    seq: u64,
    actor: String,
    location: Location,
    commit: git2::Oid,
}

/// One commit signature to check.
struct CommitItem {
    signature: ArmoredSignature,
    data: Vec<u8>,
    commit: git2::Oid,
}

/// What one batch holds.
#[derive(Default)]
struct Batch {
    rows: Vec<Item>,
    commits: Vec<CommitItem>,
}

/// A pool of workers checking signatures in batches.
pub struct SignaturePipeline {
    /// The keys commit signatures carry, decoded once each (on the walk's thread).
    pub keys: KeyCache,
    namespace: String,
    batch: Batch,
    sender: Option<SyncSender<Batch>>,
    workers: Vec<JoinHandle<Vec<Finding>>>,
}

impl SignaturePipeline {
    /// Starts `threads` workers for signatures in `namespace`.
    pub fn start(namespace: &str, threads: usize) -> SignaturePipeline {
        let (sender, receiver) = sync_channel::<Batch>(threads * 2);
        let receiver = Arc::new(Mutex::new(receiver));
        let workers = (0..threads.max(1))
            .map(|_| {
                let receiver = Arc::clone(&receiver);
                let namespace = namespace.to_string();
                std::thread::spawn(move || work(&namespace, &receiver))
            })
            .collect();
        SignaturePipeline {
            keys: KeyCache::default(),
            namespace: namespace.to_string(),
            batch: Batch::default(),
            sender: Some(sender),
            workers,
        }
    }

    /// Queues the signature of a row (already known to decode) made with `key`.
    pub fn push(&mut self, row: &Row, ledger_id: &str, key: PublicKey, location: &Location, commit: git2::Oid) {
        let Some(signature) = crate::sign::decode_signature(&row.signature) else {
            return;
        };
        self.batch.rows.push(Item {
            key,
            message: row.message(ledger_id),
            signature,
            seq: row.seq,
            actor: row.actor.clone(),
            location: location.clone(),
            commit,
        });
        self.flush_when_full();
    }

    /// Queues the check of a commit's signature (already parsed) over its signed data.
    pub fn push_commit(&mut self, signature: ArmoredSignature, data: Vec<u8>, commit: git2::Oid) {
        self.batch.commits.push(CommitItem { signature, data, commit });
        self.flush_when_full();
    }

    fn flush_when_full(&mut self) {
        if self.batch.rows.len() + self.batch.commits.len() >= BATCH {
            self.flush();
        }
    }

    fn flush(&mut self) {
        let batch = std::mem::take(&mut self.batch);
        if let Some(sender) = &self.sender {
            // A send fails only when every worker has died; `finish` reports that.
            let _ = sender.send(batch);
        }
    }

    /// Waits for every queued check and returns one finding per bad signature, in seq order.
    pub fn finish(mut self) -> Vec<Finding> {
        self.flush();
        self.sender = None;
        let mut findings = Vec::new();
        for worker in self.workers.drain(..) {
            match worker.join() {
                Ok(found) => findings.extend(found),
                Err(_) => findings.push(Finding::general(
                    "bad-signature",
                    format!(
                        "a signature worker for namespace {} crashed; signatures were not all checked",
                        self.namespace
                    ),
                )),
            }
        }
        findings.sort_by_key(|f| f.seq);
        findings
    }
}

fn work(namespace: &str, receiver: &Mutex<Receiver<Batch>>) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut screen = KeyScreen::default();
    loop {
        let batch = match receiver.lock() {
            Ok(r) => r.recv(),
            Err(_) => break,
        };
        let Ok(batch) = batch else { break };
        // Commit signatures first, then rows: one batch, so commits cost what rows cost.
        let mut checks: Vec<SignedData> = batch
            .commits
            .iter()
            .map(|c| SignedData {
                key: &c.signature.key,
                data: c.signature.signed_data(&c.data),
                signature: c.signature.signature,
            })
            .collect();
        checks.extend(batch.rows.iter().map(|i| SignedData {
            key: &i.key,
            data: signed_data(namespace, &i.message),
            signature: i.signature,
        }));
        let commits = batch.commits.len();
        for bad in verify_signed(&checks, &mut screen) {
            let Some(bad) = bad.checked_sub(commits) else {
                let commit = batch.commits[bad].commit;
                findings.push(
                    Finding::general(
                        "commit-signature",
                        format!("commit {commit}: the SSH signature does not match the commit"),
                    )
                    .in_commit(commit),
                );
                continue;
            };
            let item = &batch.rows[bad];
            findings.push(Finding {
                code: "bad-signature",
                message: format!(
                    "the signature does not match this row and key {} (forged, copied or altered)",
                    item.key.fingerprint()
                ),
                commit: Some(item.commit.to_string()),
                location: Some(item.location.clone()),
                seq: Some(item.seq),
                actor: Some(item.actor.clone()),
            });
        }
    }
    findings
}
