//! Task histories on disk: each task's rows in words in its own small file
//! (`<site>/.smartup-site/tasks/<task>.json`), so a build holds only the tasks it is working
//! on and a later build reads only the tasks new rows touch.
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

/// The task histories of one site.
pub struct TaskHistories {
    dir: PathBuf,
    valid_up_to: u64,
    loaded: BTreeMap<String, Vec<Told>>,
    loaded_rows: usize,
    changed: BTreeSet<String>,
    touched: BTreeSet<String>,
}

impl TaskHistories {
    /// The histories in `dir`, of which rows after seq `valid_up_to` are not part (a build
    /// that did not finish wrote them).
    pub fn open(dir: &Path, valid_up_to: u64) -> Result<TaskHistories> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(TaskHistories {
            dir: dir.to_path_buf(),
            valid_up_to,
            loaded: BTreeMap::new(),
            loaded_rows: 0,
            changed: BTreeSet::new(),
            touched: BTreeSet::new(),
        })
    }

    /// Empty histories in `dir` (a build from genesis): what was there is removed.
    pub fn new(dir: &Path) -> Result<TaskHistories> {
        match std::fs::remove_dir_all(dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot clear {}", dir.display())),
        }
        TaskHistories::open(dir, u64::MAX)
    }

    fn file(&self, task: &str) -> PathBuf {
        self.dir.join(format!("{task}.json"))
    }

    /// Reads a task's history from its file (empty without one).
    fn read(&self, task: &str) -> Result<Vec<Told>> {
        let path = self.file(task);
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

    /// Appends a row to a task's history.
    pub fn push(&mut self, task: &str, told: Told) -> Result<()> {
        if !self.loaded.contains_key(task) {
            let rows = self.read(task)?;
            self.loaded_rows += rows.len();
            self.loaded.insert(task.to_string(), rows);
        }
        self.loaded.get_mut(task).expect("loaded above").push(told);
        self.loaded_rows += 1;
        self.changed.insert(task.to_string());
        self.touched.insert(task.to_string());
        if self.loaded_rows > IN_MEMORY_ROWS {
            self.save()?;
            self.loaded.clear();
            self.loaded_rows = 0;
        }
        Ok(())
    }

    /// A task's whole history.
    pub fn history(&mut self, task: &str) -> Result<Vec<Told>> {
        match self.loaded.get(task) {
            Some(rows) => Ok(rows.clone()),
            None => self.read(task),
        }
    }

    /// The tasks that got rows in this build.
    pub fn touched(&self) -> &BTreeSet<String> {
        &self.touched
    }

    /// Writes the histories that changed to their files.
    pub fn save(&mut self) -> Result<()> {
        for task in std::mem::take(&mut self.changed) {
            let Some(rows) = self.loaded.get(&task) else { continue };
            let path = self.file(&task);
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
        let mut h = TaskHistories::new(dir.path()).unwrap();
        for seq in 1..=4 {
            h.push("6_1_1_1", told(seq)).unwrap();
        }
        h.save().unwrap();
        let mut again = TaskHistories::open(dir.path(), 2).unwrap();
        let seqs: Vec<u64> = again.history("6_1_1_1").unwrap().iter().map(|t| t.seq).collect();
        assert_eq!(seqs, [1, 2], "rows 3 and 4 came from a build that did not finish");
        again.push("6_1_1_1", told(3)).unwrap();
        assert_eq!(again.history("6_1_1_1").unwrap().len(), 3);
        assert!(again.history("6_9_9_9").unwrap().is_empty());
        assert_eq!(again.touched().iter().collect::<Vec<_>>(), ["6_1_1_1"]);
    }
}
