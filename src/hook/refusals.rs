//! The forge's tally of refused pushes: each refusal appends one line per problem,
//! `<time> <code>`, to `<git dir>/smartup/refusals.log` (codes only: nothing about who pushed
//! or what), which `smartup metrics` counts. Recording never affects the push. The file stays
//! small however many pushes are refused: past [`COMPACT_ABOVE`] bytes its lines are folded
//! into one `total <code> <count>` line per code, so the counts go on from where they were.

use crate::time::Timestamp;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The tally's file in a repository's git dir.
pub fn file(git_dir: &Path) -> PathBuf {
    git_dir.join("smartup").join("refusals.log")
}

/// The size above which the tally's lines are folded into totals (about 30,000 refusals).
pub const COMPACT_ABOVE: u64 = 1 << 20;

/// Appends one line per code, then folds the file into totals once it has grown past
/// [`COMPACT_ABOVE`]; failures are ignored (the push is refused all the same).
pub fn record(git_dir: &Path, at: Timestamp, codes: &[&str]) {
    let path = file(git_dir);
    if let Some(parent) = path.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    let lines: String = codes.iter().map(|code| format!("{at} {code}\n")).collect();
    if let Ok(mut log) = std::fs::OpenOptions::new().create(true).append(true).open(&path) {
        let _ = log.write_all(lines.as_bytes());
    }
    if std::fs::metadata(&path).is_ok_and(|m| m.len() > COMPACT_ABOVE) {
        compact(git_dir);
    }
}

/// Rewrites the tally as one `total <code> <count>` line per code (written aside, then
/// renamed into place). A refusal recorded by another push in the moment between reading
/// and renaming is not counted: the tally is a gauge of trouble, not an audit record.
fn compact(git_dir: &Path) {
    let path = file(git_dir);
    let totals: String = counts(git_dir).iter().map(|(code, n)| format!("total {code} {n}\n")).collect();
    let aside = path.with_extension(format!("log.{}.tmp", std::process::id()));
    if std::fs::write(&aside, totals).is_ok() && std::fs::rename(&aside, &path).is_err() {
        let _ = std::fs::remove_file(&aside);
    }
}

/// Refusals by code so far (none without a tally): a `<time> <code>` line counts one, a
/// `total <code> <count>` line its count; other lines are skipped.
pub fn counts(git_dir: &Path) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    let text = std::fs::read_to_string(file(git_dir)).unwrap_or_default();
    for line in text.lines() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        let (code, n) = match parts[..] {
            ["total", code, n] => (code, n.parse().ok()),
            [_, code] => (code, Some(1)),
            _ => continue,
        };
        if let (true, Some(n)) = (code.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'), n) {
            *counts.entry(code.to_string()).or_insert(0) += n;
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

    #[test]
    fn a_long_tally_is_folded_into_totals_and_counts_on() {
        let dir = tempfile::tempdir().unwrap();
        let line_bytes = format!("{} history\n", Timestamp(0)).len() as u64;
        let refusals = COMPACT_ABOVE / line_bytes + 10;
        for i in 0..refusals {
            let codes: &[&str] = if i % 1000 == 0 {
                &["history", "bad-signature"]
            } else {
                &["history"]
            };
            record(dir.path(), Timestamp(0), codes);
        }
        let size = std::fs::metadata(file(dir.path())).unwrap().len();
        assert!(size < 4096, "the tally was folded: {size} bytes");
        let signatures = refusals.div_ceil(1000);
        let counted: Vec<(String, u64)> = counts(dir.path()).into_iter().collect();
        assert_eq!(
            counted,
            [("bad-signature".to_string(), signatures), ("history".to_string(), refusals)]
        );
        record(dir.path(), Timestamp(60), &["history"]);
        assert_eq!(counts(dir.path())["history"], refusals + 1, "counting goes on after the fold");
        let text = std::fs::read_to_string(file(dir.path())).unwrap();
        assert!(text.starts_with("total bad-signature "), "{text}");
        assert_eq!(
            std::fs::read_dir(dir.path().join("smartup")).unwrap().count(),
            1,
            "nothing is left aside"
        );
    }
}
