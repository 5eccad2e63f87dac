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
    namespace: Arc<str>,
    /// The keys its signatures are made with, each once (a batch of thousands of signatures
    /// is made by a few keys; a decoded key is a few hundred bytes).
    keys: KeyNumbers<PublicKey>,
    rows: Vec<Item>,
    commits: Vec<CommitItem>,
}

/// Numbers for public keys, in the order they are first seen, with a value kept for each
/// (the key itself, or its fingerprint).
pub struct KeyNumbers<V> {
    numbers: HashMap<PublicKey, u32>,
    /// The value of each key, by number.
    pub values: Vec<V>,
}

impl<V> Default for KeyNumbers<V> {
    fn default() -> Self {
        KeyNumbers {
            numbers: HashMap::new(),
            values: Vec::new(),
        }
    }
}

impl<V> KeyNumbers<V> {
    /// The number of `key`; a key seen for the first time gets the next number and the
    /// value `value` makes of it.
    pub fn number(&mut self, key: &PublicKey, value: impl FnOnce(&PublicKey) -> V) -> u32 {
        if let Some(number) = self.numbers.get(key) {
            return *number;
        }
        // Fewer keys than commits or rows in memory: far below u32::MAX.
        let number = self.values.len() as u32;
        self.values.push(value(key));
        self.numbers.insert(key.clone(), number);
        number
    }
}

/// A pool of workers checking signatures in batches.
pub struct SignaturePipeline {
    batch: Batch,
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
        let key = self.batch.keys.number(&key, PublicKey::clone);
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
        // The chain reader's thread hashes: while the line is read, it waits on the workers.
        let signed = signature.signed_data(data);
        let key = self.batch.keys.number(&signature.key, PublicKey::clone);
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

/// A pipeline left without [`SignaturePipeline::finish`] (a walk that never started) lets
/// its workers end: they check what is queued, then stop; none is left running.
impl Drop for SignaturePipeline {
    fn drop(&mut self) {
        self.sender = None;
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
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
        let Ok(Batch {
            namespace,
            keys,
            rows,
            commits,
        }) = batch
        else {
            break;
        };
        let keys = keys.values;
        // Commit signatures first, then rows: one batch, so commits cost what rows cost.
        let ids: Vec<git2::Oid> = commits.iter().map(|c| c.commit).collect();
        let mut checks: Vec<SignedData> = commits
            .into_iter()
            .map(|c| SignedData {
                key: &keys[c.key as usize],
                data: c.signed,
                signature: c.signature,
            })
            .collect();
        checks.extend(rows.iter().map(|i| SignedData {
            key: &keys[i.key as usize],
            data: signed_data(&namespace, &i.message),
            signature: i.signature,
        }));
        for bad in verify_signed(&checks, &mut screen) {
            let Some(bad) = bad.checked_sub(ids.len()) else {
                let commit = ids[bad];
                findings.push(
                    Finding::general(
                        "commit-signature",
                        format!("commit {commit}: the SSH signature does not match the commit"),
                    )
                    .in_commit(commit),
                );
                continue;
            };
            let item = &rows[bad];
            findings.push(Finding {
                code: "bad-signature",
                message: format!(
                    "the signature does not match this row and key {} (forged, copied or altered)",
                    keys[item.key as usize].fingerprint()
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
