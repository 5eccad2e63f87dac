//! Writing a site folder: files whose bytes changed are written to a staging folder first and
//! moved into place only when the build finishes (after its history verified), stale files
//! of an earlier build are removed, and a manifest (`.smartup-site.json`) marks the folder as
//! a smartup site and remembers what was written and which commit was verified. Beside it,
//! `.smartup-site/` holds what the next build goes on from (the model, the task histories).

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The manifest's file name inside the output folder.
pub const MANIFEST: &str = ".smartup-site.json";
/// The folder of what the next build goes on from, inside the output folder.
pub const STATE_DIR: &str = ".smartup-site";
const FORMAT: u32 = 1;

/// What an earlier build left in the folder.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Manifest {
    /// Manifest format.
    pub format: u32,
    /// The ledger the site shows.
    pub ledger_id: String,
    /// The commit the site was built from (its history verified up to there).
    pub commit: String,
    /// What the pages were rendered by and with (smartup's version, links): a build that says
    /// otherwise renders every page again.
    #[serde(default)]
    pub rendering: String,
    /// Every file written, by path relative to the folder, with its SHA-256.
    pub files: BTreeMap<String, String>,
}

/// Counts of one build's writing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Written {
    /// Files written (new or changed).
    pub written: usize,
    /// Files built again with the same bytes, left alone.
    pub unchanged: usize,
    /// Files of the earlier build no longer part of the site, removed.
    pub removed: usize,
}

/// A site folder being written.
pub struct Output {
    root: PathBuf,
    old: Manifest,
    new: Manifest,
    staged: Vec<String>,
    counts: Written,
    finished: bool,
}

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

impl Output {
    /// Opens `root` for a build of ledger `ledger_id` at `commit`, rendered as `rendering`
    /// says. A folder that holds anything but an earlier smartup site of this ledger is
    /// refused unless `force`.
    pub fn open(root: &Path, ledger_id: &str, commit: &str, rendering: &str, force: bool) -> Result<Output> {
        let old = read_manifest(root)?;
        match &old {
            Some(m) if m.ledger_id != ledger_id && !force => bail!(
                "{} holds the site of another ledger ({}); choose another folder, or pass --force to replace it",
                root.display(),
                m.ledger_id
            ),
            None if !force && has_entries(root)? => bail!(
                "{} is not empty and holds no smartup site (no {MANIFEST}); choose an empty or new folder, or pass \
                 --force to write into it",
                root.display()
            ),
            _ => {}
        }
        std::fs::create_dir_all(root).with_context(|| format!("cannot create {}", root.display()))?;
        let mut output = Output {
            root: root.to_path_buf(),
            old: old.filter(|m| m.ledger_id == ledger_id).unwrap_or_default(),
            new: Manifest {
                format: FORMAT,
                ledger_id: ledger_id.to_string(),
                commit: commit.to_string(),
                rendering: rendering.to_string(),
                files: BTreeMap::new(),
            },
            staged: Vec::new(),
            counts: Written::default(),
            finished: false,
        };
        if output.old.ledger_id.is_empty() {
            // Mark the folder as this ledger's site before anything lands in it, so a build
            // that stops half-way is finished by the next one, not refused as foreign.
            output.old.format = FORMAT;
            output.old.ledger_id = ledger_id.to_string();
            save(root, &output.old)?;
        }
        let _ = std::fs::remove_dir_all(output.staging());
        Ok(output)
    }

    /// The manifest of the earlier build (without commit or files when there was none).
    pub fn previous(&self) -> &Manifest {
        &self.old
    }

    /// The folder of what the next build goes on from.
    pub fn state_dir(&self) -> PathBuf {
        self.root.join(STATE_DIR)
    }

    fn staging(&self) -> PathBuf {
        self.state_dir().join("staging")
    }

    /// Keeps every file of the earlier build that this build does not write again (a build
    /// that goes on from the earlier one renders only what changed).
    pub fn carry_over(&mut self) {
        self.new.files = self.old.files.clone();
    }

    /// Writes `bytes` to `path` (relative, `/`-separated) unless the earlier build wrote the
    /// same bytes there and they are still on disk. The file is staged; it lands in place
    /// when the build finishes.
    pub fn write(&mut self, path: &str, bytes: &[u8]) -> Result<()> {
        if path.split('/').any(|part| part.is_empty() || part == "." || part == "..") || path.starts_with(STATE_DIR) {
            bail!("refusing to write outside the site's pages: {path:?}");
        }
        let hash = hex(bytes);
        let same = self.old.files.get(path) == Some(&hash) && self.root.join(path).is_file();
        if same {
            self.counts.unchanged += 1;
        } else {
            let file = self.staging().join(path);
            if let Some(parent) = file.parent() {
                std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
            }
            std::fs::write(&file, bytes).with_context(|| format!("cannot write {}", file.display()))?;
            self.staged.push(path.to_string());
            self.counts.written += 1;
        }
        self.new.files.insert(path.to_string(), hash);
        Ok(())
    }

    /// Moves the staged files into place, removes what the earlier build wrote and this one
    /// does not keep, then writes the manifest.
    pub fn finish(mut self) -> Result<Written> {
        for path in std::mem::take(&mut self.staged) {
            let (from, to) = (self.staging().join(&path), self.root.join(&path));
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
            }
            std::fs::rename(&from, &to).with_context(|| format!("cannot move {} into place", to.display()))?;
        }
        for path in self.old.files.keys().filter(|p| !self.new.files.contains_key(*p)) {
            match std::fs::remove_file(self.root.join(path)) {
                Ok(()) => self.counts.removed += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => bail!("cannot remove {} (no longer part of the site): {e}", path),
            }
        }
        save(&self.root, &self.new)?;
        self.finished = true;
        let _ = std::fs::remove_dir_all(self.staging());
        Ok(self.counts)
    }
}

impl Drop for Output {
    /// A build that did not finish leaves nothing of its own in the folder.
    fn drop(&mut self) {
        if !self.finished {
            let _ = std::fs::remove_dir_all(self.staging());
        }
    }
}

/// Writes `manifest` into `root` atomically.
fn save(root: &Path, manifest: &Manifest) -> Result<()> {
    let bytes = serde_json::to_vec(manifest).context("cannot write the site manifest")?;
    let tmp = root.join(format!("{MANIFEST}.tmp"));
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, root.join(MANIFEST)).context("cannot move the site manifest into place")
}

/// The manifest in `root`, if there is one; a damaged one is an error (never overwritten
/// silently).
fn read_manifest(root: &Path) -> Result<Option<Manifest>> {
    let path = root.join(MANIFEST);
    match std::fs::read(&path) {
        Ok(bytes) => match serde_json::from_slice::<Manifest>(&bytes) {
            Ok(m) if m.format == FORMAT => Ok(Some(m)),
            Ok(m) => bail!(
                "{} is of site format {}, this smartup writes {FORMAT}; build into a new folder",
                path.display(),
                m.format
            ),
            Err(e) => bail!("{} is damaged ({e}); remove it, or build into a new folder", path.display()),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => bail!("cannot read {}: {e}", path.display()),
    }
}

fn has_entries(root: &Path) -> Result<bool> {
    match std::fs::read_dir(root) {
        Ok(mut entries) => Ok(entries.next().is_some()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => bail!("cannot read {}: {e}", root.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_only_what_changed_removes_what_is_gone_and_guards_foreign_folders() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("site");
        let mut out = Output::open(&root, "L1", "c1", "r", false).unwrap();
        out.write("index.html", b"one").unwrap();
        out.write("owners/a.html", b"a").unwrap();
        assert!(!root.join("index.html").exists(), "staged until the build finishes");
        assert_eq!(out.finish().unwrap().written, 2);
        assert_eq!(std::fs::read(root.join("index.html")).unwrap(), b"one");

        let mut out = Output::open(&root, "L1", "c2", "r", false).unwrap();
        out.write("index.html", b"two").unwrap();
        let counts = out.finish().unwrap();
        assert_eq!((counts.written, counts.unchanged, counts.removed), (1, 0, 1));
        assert!(!root.join("owners/a.html").exists());

        let mut out = Output::open(&root, "L1", "c3", "r", false).unwrap();
        out.carry_over();
        out.write("log/2.html", b"new").unwrap();
        let counts = out.finish().unwrap();
        assert_eq!((counts.written, counts.removed), (1, 0), "carried-over files stay");
        assert!(root.join("index.html").exists());

        let mut out = Output::open(&root, "L1", "c4", "r", false).unwrap();
        out.write("index.html", b"refused").unwrap();
        drop(out);
        assert_eq!(
            std::fs::read(root.join("index.html")).unwrap(),
            b"two",
            "an unfinished build changes nothing"
        );
        assert!(!root.join(STATE_DIR).join("staging").exists());

        let err = Output::open(&root, "L2", "c", "r", false).err().unwrap().to_string();
        assert!(err.contains("another ledger"), "{err}");
        let foreign = dir.path().join("foreign");
        std::fs::create_dir_all(&foreign).unwrap();
        std::fs::write(foreign.join("notes.txt"), "mine").unwrap();
        let err = Output::open(&foreign, "L1", "c", "r", false).err().unwrap().to_string();
        assert!(err.contains("holds no smartup site"), "{err}");
        let mut out = Output::open(&foreign, "L1", "c", "r", true).unwrap();
        assert!(out.write("../escape.html", b"x").is_err());
        assert!(out.write(".smartup-site/model.json", b"x").is_err());
        std::fs::write(root.join(MANIFEST), "{").unwrap();
        let err = Output::open(&root, "L1", "c", "r", false).err().unwrap().to_string();
        assert!(err.contains("damaged"), "{err}");
    }
}
