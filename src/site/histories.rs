//! Histories on disk: the rows in words of each task (`6_2_1_1`) and of each proposal
//! (`proposal-33`, see [`proposal_key`]), each in its own small file
//! (`<site>/.smartup-site/histories/<key>.json`), so a build holds only the histories it is
//! working on and a later build reads only the ones new rows touch.
//!
//! Files are appended to as the history is folded, before the build knows that the history
//! verifies; the rows past the last row of the saved model (`valid_up_to`) are dropped when a
//! file is read, so a build that was refused or stopped half-way leaves nothing behind.

use super::model::Told;
use anyhow::{Context, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Rows kept in memory before the loaded histories are written out and dropped.
const IN_MEMORY_ROWS: usize = 100_000;

/// The key of a proposal's history: `proposal-33` (no task id looks like it).
pub fn proposal_key(seq: u64) -> String {
    format!("proposal-{seq}")
}

/// The task and proposal histories of one site, by key.
pub struct Histories {
    dir: PathBuf,
    valid_up_to: u64,
    loaded: BTreeMap<String, Vec<Told>>,
    loaded_rows: usize,
    changed: BTreeSet<String>,
    touched: BTreeSet<String>,
}

impl Histories {
    /// The histories in `dir`, of which rows after seq `valid_up_to` are not part (a build
    /// that did not finish wrote them).
    pub fn open(dir: &Path, valid_up_to: u64) -> Result<Histories> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(Histories {
            dir: dir.to_path_buf(),
            valid_up_to,
            loaded: BTreeMap::new(),
            loaded_rows: 0,
            changed: BTreeSet::new(),
            touched: BTreeSet::new(),
        })
    }

    /// Empty histories in `dir` (a build from genesis): what was there is removed.
    pub fn new(dir: &Path) -> Result<Histories> {
        match std::fs::remove_dir_all(dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot clear {}", dir.display())),
        }
        Histories::open(dir, u64::MAX)
    }

    fn file(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.json"))
    }

    /// Reads a history from its file (empty without one).
    fn read(&self, key: &str) -> Result<Vec<Told>> {
        let path = self.file(key);
        let mut rows: Vec<Told> = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).with_context(|| {
                format!(
                    "{} is damaged: remove the site folder's .smartup-site and build again",
                    path.display()
                )
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        rows.retain(|t| t.seq <= self.valid_up_to);
        Ok(rows)
    }

    /// Appends a row to the history of `key` (a task's numeric id, or a [`proposal_key`]).
    pub fn push(&mut self, key: &str, told: Told) -> Result<()> {
        if !self.loaded.contains_key(key) {
            let rows = self.read(key)?;
            self.loaded_rows += rows.len();
            self.loaded.insert(key.to_string(), rows);
        }
        self.loaded.get_mut(key).expect("loaded above").push(told);
        self.loaded_rows += 1;
        self.changed.insert(key.to_string());
        self.touched.insert(key.to_string());
        if self.loaded_rows > IN_MEMORY_ROWS {
            self.save()?;
            self.loaded.clear();
            self.loaded_rows = 0;
        }
        Ok(())
    }

    /// The whole history of `key`.
    pub fn history(&mut self, key: &str) -> Result<Vec<Told>> {
        match self.loaded.get(key) {
            Some(rows) => Ok(rows.clone()),
            None => self.read(key),
        }
    }

    /// The keys (tasks, proposals) that got rows in this build.
    pub fn touched(&self) -> &BTreeSet<String> {
        &self.touched
    }

    /// Writes the histories that changed to their files.
    pub fn save(&mut self) -> Result<()> {
        for key in std::mem::take(&mut self.changed) {
            let Some(rows) = self.loaded.get(&key) else { continue };
            let path = self.file(&key);
            let tmp = path.with_extension("json.tmp");
            std::fs::write(&tmp, serde_json::to_vec(rows)?).with_context(|| format!("cannot write {}", tmp.display()))?;
            std::fs::rename(&tmp, &path).with_context(|| format!("cannot move {} into place", path.display()))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Timestamp;

    fn told(seq: u64) -> Told {
        Told {
            seq,
            at: Timestamp(seq as i64),
            words: format!("row {seq}"),
        }
    }

    #[test]
    fn rows_past_the_saved_model_are_dropped_when_read() {
        let dir = tempfile::tempdir().unwrap();
        let mut h = Histories::new(dir.path()).unwrap();
        for seq in 1..=4 {
            h.push("6_1_1_1", told(seq)).unwrap();
        }
        h.save().unwrap();
        let mut again = Histories::open(dir.path(), 2).unwrap();
        let seqs: Vec<u64> = again.history("6_1_1_1").unwrap().iter().map(|t| t.seq).collect();
        assert_eq!(seqs, [1, 2], "rows 3 and 4 came from a build that did not finish");
        again.push("6_1_1_1", told(3)).unwrap();
        assert_eq!(again.history("6_1_1_1").unwrap().len(), 3);
        assert!(again.history("6_9_9_9").unwrap().is_empty());
        assert_eq!(again.touched().iter().collect::<Vec<_>>(), ["6_1_1_1"]);
    }
}
