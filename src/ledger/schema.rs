//! Table schemas, loaded from the `schemas/*.toml` files compiled into the binary.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The columns every row carries before its table's own columns.
pub const LEADING_ENVELOPE: [&str; 4] = ["seq", "timestamp", "actor", "action"];
/// The columns every row carries after its table's own columns.
pub const TRAILING_ENVELOPE: [&str; 2] = ["key", "signature"];

const SOURCES: [&str; 16] = [
    include_str!("../../schemas/master-events.toml"),
    include_str!("../../schemas/keys.toml"),
    include_str!("../../schemas/book-of-owners.toml"),
    include_str!("../../schemas/teams.toml"),
    include_str!("../../schemas/roles.toml"),
    include_str!("../../schemas/objectives.toml"),
    include_str!("../../schemas/task-budgets.toml"),
    include_str!("../../schemas/task_claimed.toml"),
    include_str!("../../schemas/work_clock.toml"),
    include_str!("../../schemas/session_logs.toml"),
    include_str!("../../schemas/pending-sc.toml"),
    include_str!("../../schemas/transactions.toml"),
    include_str!("../../schemas/invitations.toml"),
    include_str!("../../schemas/legacy-records.toml"),
    include_str!("../../schemas/matrix-accounts.toml"),
    include_str!("../../schemas/proposals.toml"),
];

/// One column of a table, as its schema file describes it.
#[derive(Debug, Deserialize)]
pub struct Column {
    /// The header name.
    pub name: String,
    /// The kind of value (documentation; actions check values when they parse a row), except
    /// [`SEQ_REFERENCE`], which marks a column naming another row by its seq.
    #[serde(rename = "type")]
    pub kind: String,
    /// What the column holds, in words.
    pub doc: String,
}

/// A table: its name, its own columns and the actions that append to it.
#[derive(Debug, Deserialize)]
pub struct TableSchema {
    /// The table's name: its folder under `tables/` and its exported file name.
    #[serde(rename = "table")]
    pub name: String,
    /// The actions whose rows go into this table.
    pub actions: Vec<String>,
    /// The table's own columns, between the envelope columns.
    pub columns: Vec<Column>,
    /// The column a row of an action is about, for summaries, where it is not the first.
    #[serde(default)]
    pub subjects: BTreeMap<String, String>,
    #[serde(skip)]
    header: Vec<String>,
}

impl TableSchema {
    /// The full header line's fields: envelope, own columns, signature envelope.
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// Index of an own column by name.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// Index of the own column a row of `action` is about: the first, unless `subjects`
    /// names another.
    pub fn subject(&self, action: &str) -> usize {
        self.subjects.get(action).and_then(|name| self.column(name)).unwrap_or(0)
    }
}

/// The kind of a column that names another row by its seq (a session, a payment, a
/// recovery request): re-basing renumbers such columns with the rows they name.
pub const SEQ_REFERENCE: &str = "seq";

/// Identifies a table by its position in [`tables`].
pub type TableId = usize;

/// All tables, in a fixed order.
pub fn tables() -> &'static [TableSchema] {
    static TABLES: OnceLock<Vec<TableSchema>> = OnceLock::new();
    TABLES.get_or_init(|| {
        SOURCES
            .iter()
            .map(|source| {
                // The schema files are part of the binary and checked by a unit test.
                let mut table: TableSchema = toml::from_str(source).unwrap_or_else(|e| panic!("built-in schema is invalid: {e}"));
                table.header = LEADING_ENVELOPE
                    .iter()
                    .map(|s| s.to_string())
                    .chain(table.columns.iter().map(|c| c.name.clone()))
                    .chain(TRAILING_ENVELOPE.iter().map(|s| s.to_string()))
                    .collect();
                table
            })
            .collect()
    })
}

/// Finds a table by name.
pub fn table_id(name: &str) -> Option<TableId> {
    tables().iter().position(|t| t.name == name)
}

/// The schema of a table.
pub fn table(id: TableId) -> &'static TableSchema {
    &tables()[id]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_schemas_load_with_unique_names_and_columns() {
        let all = tables();
        assert_eq!(all.len(), SOURCES.len());
        let mut names: Vec<_> = all.iter().map(|t| t.name.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), all.len());
        for t in all {
            let mut cols = t.header().to_vec();
            cols.sort();
            cols.dedup();
            assert_eq!(cols.len(), t.header().len(), "duplicate column in {}", t.name);
        }
        assert_eq!(table(table_id("roles").unwrap()).header()[4], "role");
        for t in all {
            for (action, column) in &t.subjects {
                assert!(t.actions.contains(action), "{}: subject of an unknown action {action}", t.name);
                assert!(t.column(column).is_some(), "{}: subject column {column} does not exist", t.name);
            }
        }
    }
}
