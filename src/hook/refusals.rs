//! The forge's tally of refused pushes: each refusal appends one line per problem,
//! `<time> <code>`, to `<git dir>/smartup/refusals.log` (codes only: nothing about who pushed
//! or what), which `smartup metrics` counts. Recording never affects the push.

use crate::time::Timestamp;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The tally's file in a repository's git dir.
pub fn file(git_dir: &Path) -> PathBuf {
    git_dir.join("smartup").join("refusals.log")
}

/// Appends one line per code; failures are ignored (the push is refused all the same).
pub fn record(git_dir: &Path, at: Timestamp, codes: &[&str]) {
    let path = file(git_dir);
    if let Some(parent) = path.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    let lines: String = codes.iter().map(|code| format!("{at} {code}\n")).collect();
    if let Ok(mut log) = std::fs::OpenOptions::new().create(true).append(true).open(&path) {
        let _ = log.write_all(lines.as_bytes());
    }
}

/// Refusals by code so far (none without a tally); lines that are not `<time> <code>` are
/// skipped.
pub fn counts(git_dir: &Path) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    let text = std::fs::read_to_string(file(git_dir)).unwrap_or_default();
    for line in text.lines() {
        let mut parts = line.split_whitespace();
        if let (Some(_), Some(code), None) = (parts.next(), parts.next(), parts.next()) {
            if code.bytes().all(|b| b.is_ascii_lowercase() || b == b'-') {
                *counts.entry(code.to_string()).or_insert(0) += 1;
            }
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_counted_by_code() {
        let dir = tempfile::tempdir().unwrap();
        assert!(counts(dir.path()).is_empty());
        record(dir.path(), Timestamp(0), &["history", "bad-signature"]);
        record(dir.path(), Timestamp(60), &["history"]);
        std::fs::OpenOptions::new()
            .append(true)
            .open(file(dir.path()))
            .unwrap()
            .write_all(b"garbage line with words\n")
            .unwrap();
        let counted: Vec<(String, u64)> = counts(dir.path()).into_iter().collect();
        assert_eq!(counted, [("bad-signature".to_string(), 1), ("history".to_string(), 2)]);
    }
}
