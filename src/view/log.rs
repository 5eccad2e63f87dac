//! The audit log: one row as `log` shows it, and as `log --json` writes it (one JSON object
//! per line, `"type": "row"`).

use super::shown;
use crate::ledger::row::Row;
use crate::time::Timestamp;
use serde::ser::{Serialize, SerializeMap, Serializer};

/// The non-empty columns of a row, in schema order (a JSON object keeps that order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Columns(pub Vec<(String, String)>);

impl Serialize for Columns {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// One row of the audit log.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct LogEntry {
    /// Always `row`: the kind of line in a JSON Lines stream.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Its seq.
    pub seq: u64,
    /// When it happened.
    #[serde(serialize_with = "shown::text")]
    pub timestamp: Timestamp,
    /// Who signed it.
    pub actor: String,
    /// Its action.
    pub action: String,
    /// Its table.
    pub table: String,
    /// Its non-empty columns.
    pub columns: Columns,
    /// Fingerprint of the signing key.
    pub key: String,
}

impl LogEntry {
    /// The log entry of a row.
    pub fn of(row: &Row) -> LogEntry {
        let schema = row.schema();
        let columns = schema
            .columns
            .iter()
            .zip(&row.columns)
            .filter(|(_, v)| !v.is_empty())
            .map(|(c, v)| (c.name.clone(), v.clone()))
            .collect();
        LogEntry {
            kind: "row",
            seq: row.seq,
            timestamp: row.timestamp,
            actor: row.actor.clone(),
            action: row.action.clone(),
            table: schema.name.clone(),
            columns: Columns(columns),
            key: row.key.clone(),
        }
    }

    /// Its columns as `name=value` words, for people.
    pub fn detail(&self) -> String {
        let words: Vec<String> = self.columns.0.iter().map(|(c, v)| format!("{c}={v}")).collect();
        words.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::Book;

    #[test]
    fn a_row_becomes_one_typed_json_object_with_its_columns_in_order() {
        let b = Book::organisation();
        let (row, _) = b.rows.last().unwrap();
        let entry = LogEntry::of(row);
        let json = serde_json::to_string(&entry).unwrap();
        assert!(json.starts_with(r#"{"type":"row","seq":"#), "{json}");
        assert!(json.contains(r#""columns":{"task":"6_2_1_1_logo","objective":"5_2_1","#), "{json}");
        assert!(!json.contains('\n'));
        assert_eq!(entry.detail().split(' ').next(), Some("task=6_2_1_1_logo"));
        assert_eq!(entry.table, "task-budgets");
    }
}
