//! The ledger's data: tables and their schemas, rows and their signed encoding, segments,
//! identifiers and the policy file.

pub mod action;
pub mod governance;
pub mod ids;
pub mod policy;
pub mod row;
pub mod schema;
pub mod segment;

/// Where a ledger keeps its tables, relative to the repository root.
pub const TABLES_DIR: &str = "tables";
/// The policy file, relative to the repository root.
pub const POLICY_FILE: &str = "ledger.toml";
/// The ledger repository's README.
pub const README_FILE: &str = "README.md";

/// The storage format this code reads and writes (`[ledger] format` in `ledger.toml`).
///
/// Format 3: a table is a folder of segments in a bounded fan-out (see [`segment_path`]),
/// numbered without gaps. Every segment but the last holds exactly `[ledger] segment_rows`
/// rows; a commit appends rows to the last segment until it is full, then adds new ones.
/// Rows never change once written: a segment only ever grows at its end, and only while it
/// is the last.
pub const FORMAT: u32 = 3;

/// The largest segment number a path can hold (18 decimal digits).
pub const MAX_SEGMENT: u64 = 999_999_999_999_999_999;

/// The path of segment number `n` (1-based) inside its table's folder.
///
/// `n` is written with an even number of digits, `2d`, split into two-digit groups: the first
/// folder is `d`, then one folder per group but the last, then the file named by all the
/// digits. Every folder holds at most 100 entries (the first at most 9), so no tree a commit
/// rewrites grows with history, and git's name order is the segments' order:
/// `1/01.csv`, ..., `1/99.csv`, `2/01/0100.csv`, ..., `3/12/34/123456.csv`.
pub fn segment_path(n: u64) -> String {
    let mut digits = n.to_string();
    if digits.len() % 2 == 1 {
        digits.insert(0, '0');
    }
    let groups = digits.len() / 2;
    let mut path = groups.to_string();
    for g in 0..groups - 1 {
        path.push('/');
        path.push_str(&digits[2 * g..2 * g + 2]);
    }
    path.push('/');
    path.push_str(&digits);
    path.push_str(".csv");
    path
}

/// The segment number of a path inside a table folder, when it is exactly the path
/// [`segment_path`] gives that number.
pub fn segment_number(path: &str) -> Option<u64> {
    let file = path.rsplit('/').next()?;
    let digits = file.strip_suffix(".csv")?;
    if digits.len() % 2 != 0 || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = digits.parse().ok().filter(|n| *n > 0)?;
    (segment_path(n) == path).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_paths_sort_like_their_numbers_and_read_back() {
        assert_eq!(segment_path(1), "1/01.csv");
        assert_eq!(segment_path(99), "1/99.csv");
        assert_eq!(segment_path(100), "2/01/0100.csv");
        assert_eq!(segment_path(123_456), "3/12/34/123456.csv");
        assert_eq!(segment_path(MAX_SEGMENT).len(), 2 + 8 * 3 + 18 + 4);
        let mut previous = String::new();
        for n in (1..300_000).step_by(7).chain([MAX_SEGMENT]) {
            let path = segment_path(n);
            assert_eq!(segment_number(&path), Some(n));
            assert!(path > previous, "{path} sorts after {previous}");
            previous = path;
        }
        for bad in [
            "1/1.csv",
            "1/00.csv",
            "2/01/0099.csv",
            "1/01.CSV",
            "01.csv",
            "2/02/0100.csv",
            "1/01.csv/x",
        ] {
            assert_eq!(segment_number(bad), None, "{bad}");
        }
    }
}
