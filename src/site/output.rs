//! Writing a site folder: every page in three formats, only the files whose bytes changed,
//! stale files of an earlier build removed, and a manifest (`.smartup-site.json`) that marks
//! the folder as a smartup site and remembers what was written and which commit was verified.

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The manifest's file name inside the output folder.
pub const MANIFEST: &str = ".smartup-site.json";
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
    /// Every file written, by path relative to the folder, with its SHA-256.
    pub files: BTreeMap<String, String>,
    /// What the site's pages were rendered by and with (smartup's version, links); pages are
    /// reused only from a build that says the same.
    #[serde(default)]
    pub rendering: String,
    /// Pages built from inputs that only a few pages can name cheaply (an audit-log page's
    /// rows): page id → a key of those inputs.
    #[serde(default)]
    pub inputs: BTreeMap<String, String>,
}

/// Counts of one build's writing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Written {
    /// Files written (new or changed).
    pub written: usize,
    /// Files left alone because their bytes did not change.
    pub unchanged: usize,
    /// Files of the earlier build no longer part of the site, removed.
    pub removed: usize,
}

/// A site folder being written.
pub struct Output {
    root: PathBuf,
    old: Manifest,
    new: Manifest,
    counts: Written,
}

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

impl Output {
    /// Opens `root` for a build of ledger `ledger_id` at `commit`. A folder that holds
    /// anything but an earlier smartup site is refused unless `force`.
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
        let new = Manifest {
            format: FORMAT,
            ledger_id: ledger_id.to_string(),
            commit: commit.to_string(),
            files: BTreeMap::new(),
            rendering: rendering.to_string(),
            inputs: BTreeMap::new(),
        };
        let mut output = Output {
            root: root.to_path_buf(),
            old: old.unwrap_or_default(),
            new,
            counts: Written::default(),
        };
        if output.old.ledger_id.is_empty() {
            // Mark the folder as this ledger's site before the first file lands, so a build
            // that stops half-way is finished by the next one, not refused as foreign.
            output.old.format = FORMAT;
            output.old.ledger_id = ledger_id.to_string();
            output.save(&output.old)?;
        }
        Ok(output)
    }

    /// The manifest of the earlier build (empty without one).
    pub fn previous(&self) -> &Manifest {
        &self.old
    }

    /// Writes `bytes` to `path` (relative, `/`-separated) unless the earlier build wrote the
    /// same bytes there and they are still on disk.
    pub fn write(&mut self, path: &str, bytes: &[u8]) -> Result<()> {
        if path.split('/').any(|part| part.is_empty() || part == "." || part == "..") {
            bail!("refusing to write outside the site folder: {path:?}");
        }
        let hash = hex(bytes);
        let file = self.root.join(path);
        let same = self.old.files.get(path) == Some(&hash) && file.is_file();
        if same {
            self.counts.unchanged += 1;
        } else {
            if let Some(parent) = file.parent() {
                std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
            }
            let tmp = file.with_extension("smartup-tmp");
            std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
            std::fs::rename(&tmp, &file).with_context(|| format!("cannot move {} into place", file.display()))?;
            self.counts.written += 1;
        }
        self.new.files.insert(path.to_string(), hash);
        Ok(())
    }

    /// True when the earlier build made the page `id` from the same `inputs`, with the same
    /// rendering, and its `files` are still there: they are kept as they are. Otherwise the
    /// caller writes them, and `inputs` is remembered for the next build.
    pub fn unchanged(&mut self, id: &str, inputs: &str, files: &[String]) -> bool {
        let same = self.old.rendering == self.new.rendering
            && self.old.inputs.get(id).is_some_and(|k| k == inputs)
            && files.iter().all(|f| self.old.files.contains_key(f) && self.root.join(f).is_file());
        self.new.inputs.insert(id.to_string(), inputs.to_string());
        if same {
            for f in files {
                if let Some(hash) = self.old.files.get(f) {
                    self.new.files.insert(f.clone(), hash.clone());
                }
            }
            self.counts.unchanged += files.len();
        }
        same
    }

    /// Removes what the earlier build wrote and this one did not, then writes the manifest.
    pub fn finish(mut self) -> Result<Written> {
        for path in self.old.files.keys().filter(|p| !self.new.files.contains_key(*p)) {
            match std::fs::remove_file(self.root.join(path)) {
                Ok(()) => self.counts.removed += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => bail!("cannot remove {} (no longer part of the site): {e}", path),
            }
        }
        self.save(&self.new)?;
        Ok(self.counts)
    }

    /// Writes `manifest` into the folder atomically.
    fn save(&self, manifest: &Manifest) -> Result<()> {
        let bytes = serde_json::to_vec(manifest).context("cannot write the site manifest")?;
        let tmp = self.root.join(format!("{MANIFEST}.tmp"));
        std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
        std::fs::rename(&tmp, self.root.join(MANIFEST)).context("cannot move the site manifest into place")
    }
}

/// The manifest in `root`, if there is one; a damaged one is an error (never overwritten
/// silently).
fn read_manifest(root: &Path) -> Result<Option<Manifest>> {
    let path = root.join(MANIFEST);
    match std::fs::read(&path) {
        Ok(bytes) => match serde_json::from_slice::<Manifest>(&bytes) {
            Ok(m) if m.format == FORMAT => Ok(Some(m)),
            Ok(m) => bail!("{} is of site format {}, this smartup writes {FORMAT}; build into a new folder", path.display(), m.format),
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
        assert_eq!(out.finish().unwrap().written, 2);

        let mut out = Output::open(&root, "L1", "c2", "r", false).unwrap();
        out.write("index.html", b"two").unwrap();
        let counts = out.finish().unwrap();
        assert_eq!((counts.written, counts.unchanged, counts.removed), (1, 0, 1));
        assert!(!root.join("owners/a.html").exists());

        let mut out = Output::open(&root, "L1", "c3", "r", false).unwrap();
        out.write("index.html", b"two").unwrap();
        assert_eq!(out.finish().unwrap().unchanged, 1);

        let err = Output::open(&root, "L2", "c", "r", false).err().unwrap().to_string();
        assert!(err.contains("another ledger"), "{err}");
        let foreign = dir.path().join("foreign");
        std::fs::create_dir_all(&foreign).unwrap();
        std::fs::write(foreign.join("notes.txt"), "mine").unwrap();
        let err = Output::open(&foreign, "L1", "c", "r", false).err().unwrap().to_string();
        assert!(err.contains("holds no smartup site"), "{err}");
        assert!(Output::open(&foreign, "L1", "c", "r", true).is_ok());
        std::fs::write(root.join(MANIFEST), "{").unwrap();
        let err = Output::open(&root, "L1", "c", "r", false).err().unwrap().to_string();
        assert!(err.contains("damaged"), "{err}");
        let mut out = Output::open(&foreign, "L1", "c", "r", true).unwrap();
        assert!(out.write("../escape.html", b"x").is_err());

        // A page made from the same inputs is kept, not rendered again.
        let files = vec!["log/1.html".to_string()];
        let mut out = Output::open(&foreign, "L1", "c", "r", false).unwrap();
        assert!(!out.unchanged("log/1", "1-500", &files));
        out.write("log/1.html", b"rows").unwrap();
        out.finish().unwrap();
        let mut out = Output::open(&foreign, "L1", "c", "r", false).unwrap();
        assert!(out.unchanged("log/1", "1-500", &files));
        assert!(!out.unchanged("log/2", "501-502", &files), "other inputs");
        out.finish().unwrap();
        let mut out = Output::open(&foreign, "L1", "c", "other rendering", false).unwrap();
        assert!(!out.unchanged("log/1", "1-500", &files), "another rendering renders again");
    }
}
