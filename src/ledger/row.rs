//! A ledger row: the envelope every row carries plus its table's own columns, and the exact
//! bytes its signature covers.

use super::schema::{self, TableId};
use crate::sign::{encode_signature, SigningKey};
use crate::time::Timestamp;
use std::sync::Arc;

/// The first line of every signed message: names the encoding so it can evolve.
pub const MESSAGE_PREFIX: &str = "smartup-row-v1";

/// One row of one table, as parsed from (or about to be written to) a segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// The table the row belongs to.
    pub table: TableId,
    /// Position in the total order of the ledger (gap-free across all tables).
    pub seq: u64,
    /// When the action happened (UTC).
    pub timestamp: Timestamp,
    /// The handle of the owner who performed the action and signed the row.
    pub actor: String,
    /// The action that produced the row (`create-task`, `start-work`, ...).
    pub action: String,
    /// The table's own columns, in schema order.
    pub columns: Vec<String>,
    /// Fingerprint (`SHA256:...`) of the signing key.
    pub key: String,
    /// Base64 of the raw 64-byte ed25519 signature (empty while unsigned).
    pub signature: String,
}

/// Where a row was read from, for messages that point at a file and line. The names are
/// shared: the rows of a segment point at one copy, so a location is cloned for every row
/// checked without allocating.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Location {
    /// Table name.
    pub table: Arc<str>,
    /// Segment file path inside the repository (`tables/roles/000001.csv`).
    pub file: Arc<str>,
    /// 1-based line number in that file.
    pub line: u64,
}

impl Row {
    /// A new unsigned row of `table` with the named columns set and the others empty.
    /// Fails on a column the table does not have.
    pub fn draft(
        table: TableId,
        seq: u64,
        timestamp: Timestamp,
        actor: &str,
        action: &str,
        values: &[(&str, &str)],
    ) -> Result<Row, String> {
        let schema = schema::table(table);
        let mut columns = vec![String::new(); schema.columns.len()];
        for (name, value) in values {
            let i = schema
                .column(name)
                .ok_or_else(|| format!("table {} has no column {name}", schema.name))?;
            columns[i] = value.to_string();
        }
        Ok(Row {
            table,
            seq,
            timestamp,
            actor: actor.to_string(),
            action: action.to_string(),
            columns,
            key: String::new(),
            signature: String::new(),
        })
    }

    /// The schema of the row's table.
    pub fn schema(&self) -> &'static schema::TableSchema {
        schema::table(self.table)
    }

    /// The value of one of the table's own columns ("" when the name is unknown).
    pub fn get(&self, column: &str) -> &str {
        self.schema()
            .column(column)
            .and_then(|i| self.columns.get(i))
            .map_or("", String::as_str)
    }

    /// Calls `each` with the index and bytes of every field in header order, as they are
    /// written to the CSV segment (before quoting). Allocates nothing per field: rows are
    /// encoded by the million when history is checked.
    pub fn each_field(&self, mut each: impl FnMut(usize, &[u8])) {
        let mut scratch = Vec::with_capacity(24);
        push_decimal(self.seq, &mut scratch);
        each(0, &scratch);
        scratch.clear();
        self.timestamp.write_to(&mut scratch);
        each(1, &scratch);
        let texts = [&self.actor, &self.action]
            .into_iter()
            .chain(&self.columns)
            .chain([&self.key, &self.signature]);
        for (i, text) in texts.enumerate() {
            each(i + 2, text.as_bytes());
        }
    }

    /// Signs the row as `key`'s holder for the ledger `ledger_id`: names the key in the `key`
    /// column, then signs [`Row::message`] in `namespace` (SSHSIG, raw signature in base64).
    /// The only place a row is signed.
    pub fn sign(&mut self, key: &SigningKey, ledger_id: &str, namespace: &str) {
        self.key = key.public().fingerprint();
        self.signature = encode_signature(&key.sign(namespace, &self.message(ledger_id)));
    }

    /// The exact bytes the row's signature covers: the ledger id, the table and every other
    /// column (the signature excepted), one `name=value` line each in header order.
    /// Values never contain control characters, so the encoding is unambiguous. A portable
    /// row ([`ActionKind::portable`](super::action::ActionKind::portable)) leaves `seq` and
    /// `timestamp` empty: its signer cannot know them; the commit that carries it is signed by
    /// the owner who gave it its place.
    pub fn message(&self, ledger_id: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        self.write_message(ledger_id, &mut out);
        out
    }

    /// Like [`Row::message`], writing into a reused buffer.
    pub fn write_message(&self, ledger_id: &str, out: &mut Vec<u8>) {
        let schema = self.schema();
        let mut line = |name: &str, value: &[u8]| {
            out.extend_from_slice(name.as_bytes());
            out.push(b'=');
            out.extend_from_slice(value);
            out.push(b'\n');
        };
        line(MESSAGE_PREFIX, b"");
        line("ledger", ledger_id.as_bytes());
        line("table", schema.name.as_bytes());
        if self.is_portable() {
            line("seq", b"");
            line("timestamp", b"");
        } else {
            let mut scratch = Vec::with_capacity(24);
            push_decimal(self.seq, &mut scratch);
            line("seq", &scratch);
            scratch.clear();
            self.timestamp.write_to(&mut scratch);
            line("timestamp", &scratch);
        }
        line("actor", self.actor.as_bytes());
        line("action", self.action.as_bytes());
        for (column, value) in schema.columns.iter().zip(&self.columns) {
            line(&column.name, value.as_bytes());
        }
        line("key", self.key.as_bytes());
    }

    /// Whether the row's action is portable (its signature leaves out seq and timestamp).
    pub fn is_portable(&self) -> bool {
        super::action::ActionKind::parse(&self.action).is_some_and(super::action::ActionKind::portable)
    }

    /// A one-line description for people: `create-task 6_1_2_3 by alice`. The subject is
    /// the column the schema names for the action (a proposal's kind), else the first.
    pub fn summary(&self) -> String {
        let mut summary = self.action.clone();
        let subject = self.columns.get(self.schema().subject(&self.action));
        if let Some(subject) = subject.filter(|s| !s.is_empty()) {
            summary.push(' ');
            summary.push_str(subject);
        }
        summary.push_str(" by ");
        summary.push_str(&self.actor);
        // An action's second table (the session log of stop-work) is named.
        if super::action::ActionKind::parse(&self.action).is_some_and(|a| a.table() != self.table) {
            summary.push_str(&format!(" ({})", self.schema().name));
        }
        summary
    }
}

/// Appends `n` in decimal digits to `out`.
fn push_decimal(n: u64, out: &mut Vec<u8>) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    let mut rest = n;
    loop {
        start -= 1;
        digits[start] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[start..]);
}

/// Why a value cannot go into a row.
pub fn check_value(value: &str) -> Result<(), String> {
    let bytes = value.as_bytes();
    let printable = |b: &u8| (b' '..=b'~').contains(b);
    if bytes.iter().all(printable) && bytes.first().is_none_or(|b| *b != b' ') && bytes.last().is_none_or(|b| *b != b' ') {
        // Printable ASCII (nearly every value), not starting or ending with a space: fine.
        return Ok(());
    }
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Err(format!(
            "contains the control character {c:?} (line breaks and tabs are not allowed in a value)"
        ));
    }
    if value.trim() != value {
        return Err("starts or ends with white space".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_names_ledger_table_and_every_column_but_the_signature() {
        let row = Row {
            table: schema::table_id("task_claimed").unwrap(),
            seq: 7,
            timestamp: "2026-01-02T03:04:05Z".parse().unwrap(),
            actor: "maya".into(),
            action: "assign-task".into(),
            columns: vec!["6_1_1_1".into(), "alice".into(), "bob".into()],
            key: "SHA256:abc".into(),
            signature: "SIG".into(),
        };
        let text = String::from_utf8(row.message("L1")).unwrap();
        assert_eq!(
            text,
            "smartup-row-v1=\nledger=L1\ntable=task_claimed\nseq=7\ntimestamp=2026-01-02T03:04:05Z\nactor=maya\naction=assign-task\ntask=6_1_1_1\nattacker=alice\ndefender=bob\nkey=SHA256:abc\n"
        );
        assert_eq!(row.get("defender"), "bob");
        let mut fields = Vec::new();
        row.each_field(|_, field| fields.push(String::from_utf8(field.to_vec()).unwrap()));
        assert_eq!(fields.len(), row.schema().header().len());
        assert_eq!(fields[..2], ["7", "2026-01-02T03:04:05Z"]);
        assert_eq!(fields[fields.len() - 1], "SIG");
    }

    #[test]
    fn a_portable_row_signs_neither_its_seq_nor_its_time() {
        let mut row = Row::draft(
            schema::table_id("invitations").unwrap(),
            9,
            "2026-01-02T03:04:05Z".parse().unwrap(),
            "newbie",
            "join",
            &[("invitation", "4")],
        )
        .unwrap();
        let before = row.message("L1");
        row.seq = 12;
        row.timestamp = "2026-01-03T00:00:00Z".parse().unwrap();
        assert_eq!(row.message("L1"), before);
        let text = String::from_utf8(before).unwrap();
        assert!(
            text.contains("\nseq=\ntimestamp=\nactor=newbie\naction=join\ninvitation=4\n"),
            "{text}"
        );
        row.actor = "other".into();
        assert_ne!(row.message("L1"), text.as_bytes());
    }

    #[test]
    fn values_with_line_breaks_are_refused() {
        assert!(check_value("a\nb").is_err());
        assert!(check_value(" padded").is_err());
        assert!(check_value("fine, \"quoted\" text").is_ok());
    }

    #[test]
    fn the_ascii_shortcut_judges_as_the_general_rule_does() {
        let general = |v: &str| !v.chars().any(char::is_control) && v.trim() == v;
        let chars = (0u32..0x250)
            .chain([0x2000, 0x2028, 0x3000, 0xfeff, 0x1f600])
            .filter_map(char::from_u32);
        for c in chars {
            for value in [format!("x{c}y"), format!("{c}x"), format!("x{c}"), c.to_string(), format!("{c}{c}")] {
                assert_eq!(check_value(&value).is_ok(), general(&value), "{value:?}");
            }
        }
        assert!(check_value("").is_ok());
    }
}
