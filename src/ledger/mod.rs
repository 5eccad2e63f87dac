//! The ledger's data: tables and their schemas, rows and their signed encoding, segments,
//! identifiers and the policy file.

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

/// The file name of segment number `n` (1-based): `000001.csv`.
pub fn segment_name(n: u64) -> String {
    format!("{n:06}.csv")
}

/// The segment number of a file name, if it is one.
pub fn segment_number(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(".csv")?;
    (digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())?
        .filter(|n| *n > 0)
}
