//! The sync cursor: what the last sync left in step, so that the next one reads and changes
//! only what changed since. Kept in the ledger repository's git dir
//! (`<git dir>/smartup/forgejo-sync.json`), where people's edits on Forgejo cannot reach it.
//!
//! For each task and objective issue it holds a digest of what the sync wanted it to show and
//! its number. An issue whose wanted state has the same digest, and that Forgejo does not list
//! as updated since the last run began, is in step and is neither read nor planned; every
//! other issue is read (by number, or from the list of issues updated since) and planned as in
//! a full sync. "Since" is Forgejo's own clock, the `Date` of its first answer; Forgejo lists
//! issues whose `updated_unix >= since`, both in whole seconds, so an edit in the very second
//! a run began is read again. So a person's edit, an issue a failed run created, and a label
//! that changes with the clock alone are all caught, while a sync after a push costs requests
//! in proportion to what the push and people changed.
//!
//! A full reconcile (every issue read) runs when asked (`--full`), when there is no cursor
//! (lost, damaged, or written for another instance, organisation, ledger, set of team
//! repositories or smartup version), and when the last full one is older than
//! [`FULL_EVERY_SECONDS`] (an issue deleted by hand is then created again).

use super::desired::{Desired, WantedIssue};
use super::section::Key;
use super::step::issue_object;
use crate::time::Timestamp;
use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

/// When Forgejo sent no `Date`, the run is taken to begin this much before this machine's
/// clock says: the two clocks may disagree.
pub const LOCAL_CLOCK_MARGIN_SECONDS: i64 = 3600;
/// A full reconcile at least this often.
pub const FULL_EVERY_SECONDS: i64 = 24 * 3600;

/// What the last sync left in step.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Cursor {
    /// What the cursor is valid for ([`scope_of`]).
    scope: String,
    /// When the run that wrote it began.
    pub started: Timestamp,
    /// When the last full reconcile began.
    pub full: Timestamp,
    /// Issues in step, by [`issue_object`]: their number (when known) and the digest of what
    /// the sync wanted them to show.
    issues: BTreeMap<String, Synced>,
}

/// One issue in step.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Synced {
    number: Option<i64>,
    digest: String,
}

/// What an incremental run reads in one repository.
#[derive(Debug, Default)]
pub struct ToRead {
    /// Issues updated since this time (the last run's start, by Forgejo's clock).
    pub since: Option<Timestamp>,
    /// Numbers of the issues whose wanted state changed, to read one by one.
    pub numbers: Vec<i64>,
    /// Keys whose wanted state changed (or that the cursor does not know).
    pub changed: BTreeSet<Key>,
}

/// Feeds what `Hash` writes into SHA-256, for a digest that does not depend on a process's
/// random hash keys.
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn finish(&self) -> u64 {
        0 // only `write` is used; the digest is read from the inner state
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

/// The digest of what the sync wants an issue to show.
fn digest(wanted: &WantedIssue) -> String {
    let mut hasher = Sha256Hasher(Sha256::new());
    wanted.hash(&mut hasher);
    hasher.0.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The scope a cursor is valid for: smartup's version, the instance, the organisation, the
/// ledger and the team repositories (a changed `[forgejo.repositories]` means a full
/// reconcile).
fn scope_of(instance: &str, organisation: &str, desired: &Desired) -> String {
    let repos: Vec<&str> = desired.repos.keys().map(String::as_str).collect();
    format!(
        "smartup {} {instance} {organisation} {} {}",
        env!("CARGO_PKG_VERSION"),
        desired.ledger,
        repos.join(",")
    )
}

/// When a run began, for the next cursor: Forgejo's clock at its first answer, or this
/// machine's clock at `local` less [`LOCAL_CLOCK_MARGIN_SECONDS`] when Forgejo did not say.
pub fn run_start(forgejo_clock: Option<Timestamp>, local: Timestamp) -> Timestamp {
    forgejo_clock.unwrap_or(local.plus(-LOCAL_CLOCK_MARGIN_SECONDS))
}

/// Where a repository's cursor lives.
pub fn path_in(git_dir: &Path) -> PathBuf {
    git_dir.join("smartup").join("forgejo-sync.json")
}

impl Cursor {
    /// The cursor at `path` when it is intact and written for this instance, organisation,
    /// ledger and team repositories by this version of smartup; `None` otherwise (a full
    /// reconcile follows).
    pub fn load(path: &Path, instance: &str, organisation: &str, desired: &Desired) -> Option<Cursor> {
        let bytes = std::fs::read(path).ok()?;
        let cursor: Cursor = serde_json::from_slice(&bytes).ok()?;
        (cursor.scope == scope_of(instance, organisation, desired)).then_some(cursor)
    }

    /// True when a full reconcile is due at `now`.
    pub fn full_due(&self, now: Timestamp) -> bool {
        now.0.saturating_sub(self.full.0) >= FULL_EVERY_SECONDS
    }

    /// What to read in repository `repo` (whose wanted issues are `wanted`).
    pub fn to_read(&self, repo: &str, wanted: &[WantedIssue]) -> ToRead {
        let mut read = ToRead {
            since: Some(self.started),
            ..ToRead::default()
        };
        for issue in wanted {
            let synced = self.issues.get(&issue_object(repo, &issue.key));
            if synced.is_some_and(|s| s.digest == digest(issue)) {
                continue;
            }
            read.changed.insert(issue.key.clone());
            if let Some(number) = synced.and_then(|s| s.number) {
                read.numbers.push(number);
            }
        }
        read
    }

    /// The cursor after a run that began at `started` (a full one when `full`), planned what
    /// `desired` wants, read the issues `checked` (by repository and key, with the numbers
    /// Forgejo showed) and had the objects `refused` skipped: a checked issue is in step now
    /// unless its changes were refused (then it keeps its number and no digest, so the next
    /// run reads it again by number); an issue not checked keeps its entry.
    pub fn after_run(previous: Option<&Cursor>, instance: &str, organisation: &str, desired: &Desired, run: &Run) -> Cursor {
        let mut issues = BTreeMap::new();
        for (repo, view) in &desired.repos {
            for wanted in &view.issues {
                let object = issue_object(repo, &wanted.key);
                let key = (repo.clone(), wanted.key.clone());
                let before = previous.and_then(|p| p.issues.get(&object));
                let entry = if run.full || run.checked.contains(&key) {
                    Some(Synced {
                        number: run.numbers.get(&key).copied().or(before.and_then(|b| b.number)),
                        digest: if run.refused.contains(&object) {
                            String::new()
                        } else {
                            digest(wanted)
                        },
                    })
                } else {
                    before.cloned()
                };
                if let Some(entry) = entry {
                    issues.insert(object, entry);
                }
            }
        }
        Cursor {
            scope: scope_of(instance, organisation, desired),
            started: run.started,
            full: match (run.full, previous) {
                (false, Some(p)) => p.full,
                _ => run.started,
            },
            issues,
        }
    }

    /// Writes the cursor to `path` (a temporary file renamed into place).
    pub fn save(&self, path: &Path) -> Result<()> {
        let dir = path.parent().context("the cursor's path has no folder")?;
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let tmp = dir.join(format!(".forgejo-sync.{}.tmp", std::process::id()));
        let bytes = serde_json::to_vec(self).context("cannot serialise the sync cursor")?;
        std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
        std::fs::rename(&tmp, path).with_context(|| format!("cannot move {} into place", tmp.display()))
    }
}

/// What a run did, as the next cursor needs it.
pub struct Run {
    /// When it began.
    pub started: Timestamp,
    /// Whether every issue was read.
    pub full: bool,
    /// The issues read and planned, by repository and key.
    pub checked: HashSet<(String, Key)>,
    /// Their numbers on Forgejo.
    pub numbers: BTreeMap<(String, Key), i64>,
    /// Objects whose changes Forgejo refused ([`super::step::Step::object`]).
    pub refused: HashSet<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forgejo::desired::RepoView;

    fn issue(id: &str, title: &str) -> WantedIssue {
        WantedIssue {
            key: Key::Task(id.into()),
            title: title.into(),
            section: String::new(),
            labels: vec!["status/open".into()],
            people: Vec::new(),
            milestone: None,
            closed: false,
            closing_comment: None,
            times: Vec::new(),
        }
    }

    fn desired(issues: Vec<WantedIssue>) -> Desired {
        let view = RepoView {
            team: "3_2".into(),
            milestones: Vec::new(),
            issues,
        };
        Desired {
            ledger: "L".into(),
            labels: Vec::new(),
            repos: BTreeMap::from([("design".to_string(), view)]),
        }
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn only_what_changed_is_read_and_refused_objects_are_read_again() {
        let first = desired(vec![issue("6_1_1_1", "a"), issue("6_1_1_2", "b")]);
        let run = Run {
            started: at("2026-11-01T10:00:00Z"),
            full: true,
            checked: HashSet::new(),
            numbers: BTreeMap::from([
                (("design".to_string(), Key::Task("6_1_1_1".into())), 1),
                (("design".to_string(), Key::Task("6_1_1_2".into())), 2),
            ]),
            refused: HashSet::from([issue_object("design", &Key::Task("6_1_1_2".into()))]),
        };
        let cursor = Cursor::after_run(None, "https://f/", "org", &first, &run);
        let read = cursor.to_read("design", &first.repos["design"].issues);
        assert_eq!(
            read.changed,
            BTreeSet::from([Key::Task("6_1_1_2".into())]),
            "the refused one is read again"
        );
        assert_eq!(read.numbers, [2], "by its number");
        assert_eq!(read.since, Some(at("2026-11-01T10:00:00Z")));

        let second = desired(vec![issue("6_1_1_1", "a, renamed"), issue("6_1_1_2", "b"), issue("6_1_1_3", "c")]);
        let read = cursor.to_read("design", &second.repos["design"].issues);
        let keys: Vec<String> = read.changed.iter().map(|k| k.id().to_string()).collect();
        assert_eq!(keys, ["6_1_1_1", "6_1_1_2", "6_1_1_3"]);
        assert_eq!(read.numbers, [1, 2], "the renamed issue is read by its number, and the refused one");
        assert!(!cursor.full_due(at("2026-11-02T09:59:59Z")));
        assert!(cursor.full_due(at("2026-11-02T10:00:00Z")));
    }

    #[test]
    fn a_cursor_of_another_scope_or_damaged_is_not_used() {
        let dir = tempfile::tempdir().unwrap();
        let path = path_in(dir.path());
        let run = Run {
            started: at("2026-11-01T10:00:00Z"),
            full: true,
            checked: HashSet::new(),
            numbers: BTreeMap::new(),
            refused: HashSet::new(),
        };
        let wanted = desired(vec![]);
        Cursor::after_run(None, "https://f/", "org", &wanted, &run).save(&path).unwrap();
        assert!(Cursor::load(&path, "https://f/", "org", &wanted).is_some());
        assert!(Cursor::load(&path, "https://f/", "other", &wanted).is_none());
        let other_ledger = Desired {
            ledger: "M".into(),
            ..wanted.clone()
        };
        assert!(Cursor::load(&path, "https://f/", "org", &other_ledger).is_none());
        let mut other_repos = wanted.clone();
        other_repos.repos.insert("brand".into(), RepoView::default());
        assert!(Cursor::load(&path, "https://f/", "org", &other_repos).is_none());
        std::fs::write(&path, b"{not json").unwrap();
        assert!(Cursor::load(&path, "https://f/", "org", &wanted).is_none());
    }
}
