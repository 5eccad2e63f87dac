//! Reading Smartup Zero's files kept before the ledger: the treasury's `balance.csv`
//! (`timestamp,event_type,amount_eur_delta,total_eur_balance,sc_outstanding,sc_liability_eur,
//! ratio,notes,reference`) and the social karma `transactions.csv` (`timestamp,type,amount,
//! from,to,reference,description,awarded_by,category,evidence_link`), both with `#` comment
//! lines. Each record becomes an `import-legacy` intent with its original time and reference;
//! what does not add up (a running total, a person the ledger does not know) is reported with
//! its line, never fixed silently.

use crate::money::Amount;
use crate::rules::draft::LegacyRecord;
use crate::rules::State;
use crate::time::Timestamp;

/// The treasury file's name.
pub const BALANCE: &str = "balance.csv";
/// The social karma file's name.
pub const KARMA: &str = "transactions.csv";

const BALANCE_COLUMNS: [&str; 9] = [
    "timestamp",
    "event_type",
    "amount_eur_delta",
    "total_eur_balance",
    "sc_outstanding",
    "sc_liability_eur",
    "ratio",
    "notes",
    "reference",
];
const KARMA_COLUMNS: [&str; 10] = [
    "timestamp",
    "type",
    "amount",
    "from",
    "to",
    "reference",
    "description",
    "awarded_by",
    "category",
    "evidence_link",
];

/// The records of one file, and what did not add up.
#[derive(Debug, Default)]
pub struct Read {
    /// The records to import, in file order.
    pub records: Vec<LegacyRecord>,
    /// Inconsistencies, each with its line: reported, not fixed.
    pub problems: Vec<String>,
}

/// Reads `balance.csv`: every line is a change of the treasury; its running total is checked.
pub fn balance(bytes: &[u8]) -> Result<Read, String> {
    let mut read = Read::default();
    let mut total: Option<Amount> = None;
    for row in rows(bytes, BALANCE, &BALANCE_COLUMNS)? {
        let line = row.number;
        let delta = amount(row.get("amount_eur_delta"), line, "amount_eur_delta")?;
        let running = total.unwrap_or(Amount::ZERO).plus(delta);
        match row.get("total_eur_balance") {
            "" => {}
            text => {
                let stated = amount(text, line, "total_eur_balance")?;
                if stated != running {
                    let before = if total.is_none() {
                        "the file's first change"
                    } else {
                        "the changes above"
                    };
                    read.problems.push(format!(
                        "{BALANCE} line {line}: total_eur_balance says {stated} EUR, but {before} add up to {running} EUR"
                    ));
                }
            }
        }
        total = Some(running);
        read.records.push(LegacyRecord {
            source: BALANCE.into(),
            line,
            happened_at: time(row.get("timestamp"), line)?,
            kind: required(row.get("event_type"), line, "event_type")?,
            owner: String::new(),
            currency: "EUR".into(),
            amount: delta,
            reference: row.get("reference").to_string(),
            note: row.get("notes").to_string(),
        });
    }
    Ok(read)
}

/// Reads `transactions.csv`: every line gives (or, negative, takes) SK to `to`, who must be an
/// owner of `state`; a line of someone unknown is reported and left out.
pub fn karma(bytes: &[u8], state: &State) -> Result<Read, String> {
    let mut read = Read::default();
    for row in rows(bytes, KARMA, &KARMA_COLUMNS)? {
        let line = row.number;
        let to = row.get("to");
        for (column, who) in [("to", to), ("from", row.get("from")), ("awarded_by", row.get("awarded_by"))] {
            if !who.is_empty() && !state.owners.contains_key(who) {
                read.problems
                    .push(format!("{KARMA} line {line}: {column} {who:?} is not an owner of the ledger"));
            }
        }
        if !state.owners.contains_key(to) {
            continue;
        }
        let mut note = [row.get("category"), row.get("description")]
            .iter()
            .filter(|t| !t.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(": ");
        for (label, value) in [
            ("awarded by", row.get("awarded_by")),
            ("from", row.get("from")),
            ("evidence", row.get("evidence_link")),
        ] {
            if !value.is_empty() {
                note.push_str(&format!(" ({label} {value})"));
            }
        }
        read.records.push(LegacyRecord {
            source: KARMA.into(),
            line,
            happened_at: time(row.get("timestamp"), line)?,
            kind: required(row.get("type"), line, "type")?,
            owner: to.to_string(),
            currency: "SK".into(),
            amount: amount(row.get("amount"), line, "amount")?,
            reference: row.get("reference").to_string(),
            note: note.trim().to_string(),
        });
    }
    Ok(read)
}

/// One data line of a file: its values by header name.
struct Line {
    number: u64,
    header: std::rc::Rc<Vec<String>>,
    values: csv::StringRecord,
}

impl Line {
    fn get(&self, name: &str) -> &str {
        self.header
            .iter()
            .position(|h| h == name)
            .and_then(|i| self.values.get(i))
            .unwrap_or("")
    }
}

/// The data lines of a file with their line numbers, after its `#` comment lines; the header
/// must hold every column the file is known by.
fn rows(bytes: &[u8], file: &str, columns: &[&str]) -> Result<Vec<Line>, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("{file} is not UTF-8 text ({e})"))?;
    // Comment lines are left out; `original[i]` is the file's line number of kept line i + 1.
    let mut cleaned = String::with_capacity(text.len());
    let mut original = Vec::new();
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if !line.trim_start().starts_with('#') {
            cleaned.push_str(line);
            original.push(i as u64 + 1);
        }
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(cleaned.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| format!("{file}: {e}"))?
        .iter()
        .map(str::to_string)
        .collect();
    if let Some(missing) = columns.iter().find(|c| !header.iter().any(|h| h == *c)) {
        return Err(format!(
            "{file} has no column {missing:?}; its header must be {}",
            columns.join(",")
        ));
    }
    let header = std::rc::Rc::new(header);
    let mut out = Vec::new();
    for record in reader.into_records() {
        let values = record.map_err(|e| format!("{file}: {e}"))?;
        let kept = values.position().map_or(0, |p| p.line()) as usize;
        let number = original.get(kept.saturating_sub(1)).copied().unwrap_or(0);
        out.push(Line {
            number,
            header: header.clone(),
            values,
        });
    }
    Ok(out)
}

fn required(value: &str, line: u64, column: &str) -> Result<String, String> {
    if value.is_empty() {
        return Err(format!("line {line}: {column} is empty"));
    }
    Ok(value.to_string())
}

fn amount(text: &str, line: u64, column: &str) -> Result<Amount, String> {
    text.strip_prefix('+')
        .unwrap_or(text)
        .parse()
        .map_err(|_| format!("line {line}: {column} {text:?} is not an amount with at most two decimals"))
}

/// `2025-06-01T10:00:00Z`, without its `Z`, with a space for the `T`, or a date alone
/// (midnight): all UTC.
fn time(text: &str, line: u64) -> Result<Timestamp, String> {
    let mut t = text.replacen(' ', "T", 1);
    if t.len() == 10 {
        t.push_str("T00:00:00");
    }
    if !t.ends_with('Z') {
        t.push('Z');
    }
    t.parse()
        .map_err(|_| format!("line {line}: timestamp {text:?} is not a UTC time like 2025-06-01T10:00:00Z"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::Book;

    #[test]
    fn comments_are_skipped_line_numbers_stay_true_and_times_read_in_every_written_form() {
        let text = "# kept by hand\ntimestamp,event_type,amount_eur_delta,total_eur_balance,sc_outstanding,sc_liability_eur,ratio,notes,reference\n\
                    2025-03-01T10:00:00Z,sale,+200,200,0,0,0,\"a, b\",R1\n# a comment\n2025-03-02 08:15:00,fee,-0.5,199.50,0,0,0,,\n2025-03-03,gift,1,200.50,0,0,0,,R3\n";
        let read = balance(text.as_bytes()).unwrap();
        assert!(read.problems.is_empty(), "{:?}", read.problems);
        let lines: Vec<u64> = read.records.iter().map(|r| r.line).collect();
        assert_eq!(lines, [3, 5, 6]);
        let times: Vec<String> = read.records.iter().map(|r| r.happened_at.to_string()).collect();
        assert_eq!(times, ["2025-03-01T10:00:00Z", "2025-03-02T08:15:00Z", "2025-03-03T00:00:00Z"]);
        assert_eq!(read.records[0].amount, Amount(20000));
        assert_eq!(read.records[0].note, "a, b");
        assert_eq!(read.records[1].amount, Amount(-50));
        let bad = text.replace("2025-03-03,gift,1,", "March 3rd,gift,1,");
        assert_eq!(
            balance(bad.as_bytes()).unwrap_err(),
            "line 6: timestamp \"March 3rd\" is not a UTC time like 2025-06-01T10:00:00Z"
        );
        let bad = text.replace(",-0.5,", ",-0.505,");
        assert!(balance(bad.as_bytes())
            .unwrap_err()
            .starts_with("line 5: amount_eur_delta \"-0.505\""));
    }

    #[test]
    fn karma_of_someone_unknown_is_reported_and_left_out() {
        let b = Book::organisation();
        let text = "timestamp,type,amount,from,to,reference,description,awarded_by,category,evidence_link\n\
                    2025-03-02T10:00:00Z,award,15,,maya,SK-1,Docs,cap,documentation,https://x\n2025-03-03T10:00:00Z,award,5,,zoe,SK-2,Review,nobody,review,\n";
        let read = karma(text.as_bytes(), &b.state).unwrap();
        assert_eq!(read.records.len(), 1);
        assert_eq!(read.records[0].note, "documentation: Docs (awarded by cap) (evidence https://x)");
        assert_eq!(
            read.problems,
            [
                "transactions.csv line 3: to \"zoe\" is not an owner of the ledger",
                "transactions.csv line 3: awarded_by \"nobody\" is not an owner of the ledger"
            ]
        );
    }
}
