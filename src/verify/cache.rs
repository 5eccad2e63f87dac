//! The state cache: checkpoints of the ledger state, stored under the repository's git dir so
//! that a push, or a command, costs what it adds, not what the ledger holds.
//!
//! A checkpoint is the state after one commit (`<git dir>/smartup/state/<commit>.json`),
//! written to a temporary file and renamed, so racing pushes never see a half-written file.
//! The first line carries a SHA-256 of the rest; a file that does not match is damaged and
//! ignored. The state at any commit is the nearest checkpoint on its first-parent line plus a
//! replay of the commits after it (rules only: history on this repository was checked when it
//! arrived). A checkpoint is written only when that replay grew long
//! ([`CHECKPOINT_EVERY`] commits), not per action, and a long rebuild writes checkpoints as
//! it goes ([`REBUILD_STRIDE`]), so one interrupted by a time budget resumes where it stopped.

use super::{walk_chain, Options};
use crate::rules::State;
use anyhow::{bail, Context, Result};
use git2::{Oid, Repository};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// A replay longer than this many commits ends with a checkpoint of its last state.
pub const CHECKPOINT_EVERY: usize = 16;
/// A long rebuild writes a checkpoint every this many commits.
pub const REBUILD_STRIDE: usize = 10_000;

const MAGIC: &str = "smartup-state-v4";
/// How many cached states are kept; older ones are pruned.
const KEEP: usize = 8;

/// The cache of one repository.
pub struct StateCache {
    dir: PathBuf,
}

/// What loading a cached state found.
pub enum Cached {
    /// A state whose checksum matched.
    Hit(Box<State>),
    /// No state for that commit.
    Missing,
    /// A file that is damaged (its reason), to be rebuilt.
    Damaged(String),
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl StateCache {
    /// The cache of the repository (under its git dir).
    pub fn of(repo: &Repository) -> StateCache {
        StateCache {
            dir: repo.path().join("smartup").join("state"),
        }
    }

    /// A cache in an explicit folder.
    pub fn at(dir: &Path) -> StateCache {
        StateCache { dir: dir.to_path_buf() }
    }

    fn file(&self, commit: Oid) -> PathBuf {
        self.dir.join(format!("{commit}.json"))
    }

    /// Loads the state after `commit`.
    pub fn load(&self, commit: Oid) -> Cached {
        let bytes = match std::fs::read(self.file(commit)) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Cached::Missing,
            Err(e) => return Cached::Damaged(format!("cannot read the cached state: {e}")),
        };
        let Some(split) = bytes.iter().position(|&b| b == b'\n') else {
            return Cached::Damaged("the cached state has no header line".into());
        };
        let (header, body) = (&bytes[..split], &bytes[split + 1..]);
        let expected = format!("{MAGIC} {commit} {}", hex(&Sha256::digest(body)));
        if header != expected.as_bytes() {
            return Cached::Damaged("the cached state's checksum does not match".into());
        }
        // Checked as UTF-8 once, so that the parser need not check each string again.
        let Ok(body) = std::str::from_utf8(body) else {
            return Cached::Damaged("the cached state is not UTF-8".into());
        };
        match serde_json::from_str::<State>(body) {
            Ok(state) => Cached::Hit(Box::new(state)),
            Err(e) => Cached::Damaged(format!("the cached state cannot be read: {e}")),
        }
    }

    /// The commits that have a checkpoint file (whether or not it is intact).
    fn checkpoints(&self) -> HashSet<Oid> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return HashSet::new();
        };
        entries
            .filter_map(Result::ok)
            .filter_map(|e| Oid::from_str(e.file_name().to_str()?.strip_suffix(".json")?).ok())
            .collect()
    }

    /// The newest intact checkpoint on `tip`'s first-parent line, to walk on from; `None`
    /// means walking from genesis.
    pub fn nearest(&self, repo: &Repository, tip: Oid) -> Result<Option<(Oid, State)>> {
        let mut known = self.checkpoints();
        let mut current = Some(repo.find_commit(tip).with_context(|| format!("cannot read commit {tip}"))?);
        while let Some(commit) = current.filter(|_| !known.is_empty()) {
            if known.remove(&commit.id()) {
                if let Cached::Hit(state) = self.load(commit.id()) {
                    return Ok(Some((commit.id(), *state)));
                }
            }
            current = commit.parents().next();
        }
        Ok(None)
    }

    /// The state after `commit`: the nearest checkpoint and a replay of what follows it
    /// (rules only, no signatures), writing checkpoints as [`CHECKPOINT_EVERY`] and
    /// [`REBUILD_STRIDE`] say. Past `deadline` it stops with [`Rebuilding`] (as the error),
    /// its progress saved.
    pub fn state_at(&self, repo: &Repository, commit: Oid, deadline: Option<Instant>) -> Result<State> {
        let mut start = self.nearest(repo, commit)?;
        let chain = crate::repo::read_chain(repo, commit, start.as_ref().map(|(oid, _)| *oid), None)?
            .context("a checkpoint is not on the commit's first-parent line")?;
        let total = chain.links.len();
        let began = Instant::now();
        let mut done = 0;
        for first in (0..total).step_by(REBUILD_STRIDE) {
            let stride = first..(first + REBUILD_STRIDE).min(total);
            let end = chain.links[stride.end - 1].id;
            let options = Options {
                deadline,
                read_ahead: true,
                ..Options::default()
            };
            let state = start.take().map(|(_, state)| state);
            let report = match walk_chain(repo, state, &chain, stride.clone(), None, end, &options) {
                Ok(report) => report,
                Err(_) if deadline.is_some_and(|d| Instant::now() > d) => {
                    return Err(anyhow::Error::new(Rebuilding {
                        done,
                        total,
                        seconds: began.elapsed().as_secs_f64(),
                    }))
                }
                Err(e) => return Err(e),
            };
            if let Some(first) = report.findings.first() {
                bail!("the ledger is broken at {first}; run `smartup verify` for the full list");
            }
            let state = report.state.context("the ledger has no ledger.toml")?;
            done += stride.len();
            if stride.len() >= CHECKPOINT_EVERY {
                // A checkpoint that cannot be written only costs speed next time.
                let _ = self.store(end, &state);
            }
            start = Some((end, state));
        }
        match start {
            Some((_, state)) => Ok(state),
            None => Ok(self.nearest(repo, commit)?.context("no ledger state at this commit")?.1),
        }
    }

    /// Stores the state after `commit` atomically, then prunes old entries.
    pub fn store(&self, commit: Oid, state: &State) -> Result<()> {
        std::fs::create_dir_all(&self.dir).with_context(|| format!("cannot create {}", self.dir.display()))?;
        let body = serde_json::to_vec(state).context("cannot serialise the ledger state")?;
        let mut bytes = format!("{MAGIC} {commit} {}\n", hex(&Sha256::digest(&body))).into_bytes();
        bytes.extend_from_slice(&body);
        let tmp = self.dir.join(format!(".{commit}.{}.tmp", std::process::id()));
        std::fs::write(&tmp, &bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
        std::fs::rename(&tmp, self.file(commit)).with_context(|| format!("cannot move {} into place", tmp.display()))?;
        self.prune();
        Ok(())
    }

    /// Keeps the newest few states; failures to prune are harmless and ignored.
    fn prune(&self) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return };
        let mut files: Vec<(std::time::SystemTime, PathBuf)> = entries
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
            .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
            .collect();
        files.sort_by_key(|(modified, _)| std::cmp::Reverse(*modified));
        for (_, path) in files.into_iter().skip(KEEP) {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// A rebuild of the state that ran out of time; its progress is saved in checkpoints.
#[derive(Debug, thiserror::Error)]
#[error(
    "the ledger state is being rebuilt ({percent}% done: {done} of {total} commits); retry in about {eta} s",
    percent = done * 100 / (*total).max(1),
    eta = eta_seconds(*done, *total, *seconds)
)]
pub struct Rebuilding {
    /// Commits replayed, in all attempts' checkpoints up to now (of this attempt).
    pub done: usize,
    /// Commits to replay in all.
    pub total: usize,
    /// Seconds this attempt spent.
    pub seconds: f64,
}

/// Seconds left at the rate seen so far (at least 1).
fn eta_seconds(done: usize, total: usize, seconds: f64) -> u64 {
    let rate = done.max(1) as f64 / seconds.max(0.001);
    ((total.saturating_sub(done)) as f64 / rate).ceil().max(1.0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::policy::{file_reference, Policy, TEMPLATE};

    fn state() -> State {
        let text = Policy::render_template(TEMPLATE, "0123456789abcdef0123", "Test");
        State::new(Policy::parse(&text).unwrap(), file_reference(text.as_bytes()))
    }

    #[test]
    fn stores_loads_and_detects_damage() {
        let dir = tempfile::tempdir().unwrap();
        let cache = StateCache::at(dir.path());
        let commit = Oid::from_str("0123456789abcdef0123456789abcdef01234567").unwrap();
        assert!(matches!(cache.load(commit), Cached::Missing));
        let mut s = state();
        s.last_seq = 41;
        cache.store(commit, &s).unwrap();
        match cache.load(commit) {
            Cached::Hit(loaded) => assert_eq!(loaded.last_seq, 41),
            _ => panic!("expected a hit"),
        }
        let path = dir.path().join(format!("{commit}.json"));
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 2;
        bytes[last] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        assert!(matches!(cache.load(commit), Cached::Damaged(_)));
        std::fs::write(&path, b"garbage").unwrap();
        assert!(matches!(cache.load(commit), Cached::Damaged(_)));
    }
}
