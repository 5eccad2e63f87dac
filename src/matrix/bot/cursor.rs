//! Where the bot stopped, kept in a small file so that a restart resumes there: the last
//! `/sync` batch (commands sent while it was away are answered; nothing twice) and the last
//! seq it announced. The file is replaced atomically (write, then rename) after every step,
//! and a lock beside it keeps two bot processes (`bot run` and a `bot announce` of the
//! post-receive companion) from announcing at once: each takes it only while it announces or
//! saves.

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::path::{Path, PathBuf};

/// What the bot keeps between runs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// The `next_batch` of the last `/sync` whose events were all handled.
    #[serde(default)]
    pub since: Option<String>,
    /// The last seq whose announcements were all sent.
    #[serde(default)]
    pub announced: u64,
}

/// The cursor file. Every read-change-save happens under its lock ([`CursorFile::hold`]).
pub struct CursorFile {
    path: PathBuf,
    /// The cursor of a file that does not exist yet.
    start: Cursor,
}

/// The cursor, read under the lock, which is held until this is dropped.
pub struct Held<'f> {
    file: &'f CursorFile,
    _lock: File,
    /// The cursor as the file held it.
    pub cursor: Cursor,
}

impl CursorFile {
    /// The cursor at `path`; `start` is what a missing file means.
    pub fn new(path: &Path, start: Cursor) -> Result<CursorFile> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        Ok(CursorFile {
            path: path.to_path_buf(),
            start,
        })
    }

    /// Takes the lock (waiting for another bot process to let go of it) and reads the cursor.
    pub fn hold(&self) -> Result<Held<'_>> {
        let lock_path = self.path.with_extension("lock");
        let lock = File::create(&lock_path).with_context(|| format!("cannot create the lock {}", lock_path.display()))?;
        lock.lock().with_context(|| format!("cannot lock {}", lock_path.display()))?;
        let cursor = match std::fs::read_to_string(&self.path) {
            Ok(text) => serde_json::from_str(&text).with_context(|| {
                format!(
                    "{} is not the bot's cursor file (damaged?); move it away to start over, with `--since SEQ` to skip what was announced",
                    self.path.display()
                )
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => self.start.clone(),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", self.path.display())),
        };
        Ok(Held {
            file: self,
            _lock: lock,
            cursor,
        })
    }
}

impl Held<'_> {
    /// Saves the cursor: a new file renamed over the old one, so a crash leaves one or the other.
    pub fn save(&self) -> Result<()> {
        let path = &self.file.path;
        let temporary = path.with_extension("tmp");
        let text = serde_json::to_string(&self.cursor).context("cannot encode the cursor")?;
        std::fs::write(&temporary, text).with_context(|| format!("cannot write {}", temporary.display()))?;
        std::fs::rename(&temporary, path).with_context(|| format!("cannot replace {}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_survives_a_restart_and_a_damaged_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bot/cursor.json");
        let start = Cursor { since: None, announced: 3 };
        let file = CursorFile::new(&path, start.clone()).unwrap();
        {
            let mut held = file.hold().unwrap();
            assert_eq!(held.cursor, start);
            held.cursor = Cursor {
                since: Some("s1".into()),
                announced: 7,
            };
            held.save().unwrap();
        }
        let again = CursorFile::new(&path, Cursor::default()).unwrap();
        assert_eq!(again.hold().unwrap().cursor.announced, 7);
        std::fs::write(&path, "{half").unwrap();
        let error = again.hold().err().unwrap().to_string();
        assert!(error.contains("is not the bot's cursor file"), "{error}");
    }
}
