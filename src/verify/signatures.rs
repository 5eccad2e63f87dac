//! Row and commit signatures checked in the background: batches go to worker threads while
//! the main thread keeps parsing and applying rules, so both cores stay busy. Row and commit
//! signatures are checked in the same batches (a commit's key and namespace were read with the
//! line of history, see `signers`; the work here is the cryptography).

use crate::ledger::row::{Location, Row};
use crate::repo::Finding;
use crate::sign::{signed_data, verify_signed, ArmoredSignature, KeyScreen, PublicKey, SignedData};
use std::collections::HashMap;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

const BATCH: usize = 2048;

/// One row signature to check, with what a finding needs to point at it.
struct Item {
    /// The key's number in its batch's `keys`.
    key: u32,
    message: Vec<u8>,
    signature: [u8; 64],
    seq: u64,
    actor: String,
    location: Location,
    commit: git2::Oid,
}

/// One commit signature to check.
struct CommitItem {
    /// The key's number in its batch's `keys`.
    key: u32,
    /// The SSHSIG signed data (the commit's hash, not the commit: a few hundred bytes less
    /// for each commit queued).
    signed: Vec<u8>,
    signature: [u8; 64],
    commit: git2::Oid,
}

/// What one batch holds.
#[derive(Default)]
struct Batch {
    /// The namespace of the row signatures (the ledger's).
    namespace: std::sync::Arc<str>,
    /// The keys its signatures are made with, each once (a batch of thousands of signatures
    /// is made by a few keys; a decoded key is a few hundred bytes).
    keys: Vec<PublicKey>,
    rows: Vec<Item>,
    commits: Vec<CommitItem>,
}

impl Batch {
    /// The number of `key` in this batch's keys (added when new); `numbers` maps key bytes
    /// to numbers for this batch.
    fn key_number(&mut self, key: PublicKey, numbers: &mut HashMap<[u8; 32], u32>) -> u32 {
        let next = self.keys.len() as u32;
        let number = *numbers.entry(*key.as_bytes()).or_insert(next);
        if number == next {
            self.keys.push(key);
        }
        number
    }
}

/// A pool of workers checking signatures in batches.
pub struct SignaturePipeline {
    batch: Batch,
    /// The numbers of the keys in `batch`.
    key_numbers: HashMap<[u8; 32], u32>,
    sender: Option<SyncSender<Batch>>,
    workers: Vec<JoinHandle<Vec<Finding>>>,
}

impl SignaturePipeline {
    /// Starts `threads` workers, with as many full batches queued for them at most (each
    /// batch is up to a megabyte; while the line of history is read, the queue is full).
    pub fn start(threads: usize) -> SignaturePipeline {
        let (sender, receiver) = sync_channel::<Batch>(threads);
        let receiver = Arc::new(Mutex::new(receiver));
        let workers = (0..threads.max(1))
            .map(|_| {
                let receiver = Arc::clone(&receiver);
                std::thread::spawn(move || work(&receiver))
            })
            .collect();
        SignaturePipeline {
            batch: Batch::default(),
            key_numbers: HashMap::new(),
            sender: Some(sender),
            workers,
        }
    }

    /// Queues the signature of a row (already known to decode) made with `key` in the
    /// ledger's `namespace`.
    pub fn push(&mut self, row: &Row, ledger_id: &str, namespace: &str, key: PublicKey, location: &Location, commit: git2::Oid) {
        let Some(signature) = crate::sign::decode_signature(&row.signature) else {
            return;
        };
        if *self.batch.namespace != *namespace {
            self.flush();
            self.batch.namespace = namespace.into();
        }
        let key = self.batch.key_number(key, &mut self.key_numbers);
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

    /// Queues the check of a commit's signature (already parsed) over the bytes it signs,
    /// which are hashed here.
    pub fn push_commit(&mut self, signature: ArmoredSignature, data: &[u8], commit: git2::Oid) {
        let signed = signature.signed_data(data);
        let key = self.batch.key_number(signature.key, &mut self.key_numbers);
        self.batch.commits.push(CommitItem {
            signed,
            key,
            signature: signature.signature,
            commit,
        });
        self.flush_when_full();
    }

    fn flush_when_full(&mut self) {
        if self.batch.rows.len() + self.batch.commits.len() >= BATCH {
            self.flush();
        }
    }

    fn flush(&mut self) {
        self.key_numbers.clear();
        let namespace = self.batch.namespace.clone();
        let batch = std::mem::replace(
            &mut self.batch,
            Batch {
                namespace,
                ..Batch::default()
            },
        );
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
                    "a signature worker crashed; signatures were not all checked",
                )),
            }
        }
        findings.sort_by_key(|f| f.seq);
        findings
    }
}

fn work(receiver: &Mutex<Receiver<Batch>>) -> Vec<Finding> {
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
                key: &batch.keys[c.key as usize],
                data: c.signed.clone(),
                signature: c.signature,
            })
            .collect();
        checks.extend(batch.rows.iter().map(|i| SignedData {
            key: &batch.keys[i.key as usize],
            data: signed_data(&batch.namespace, &i.message),
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
                    batch.keys[item.key as usize].fingerprint()
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
