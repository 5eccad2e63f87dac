//! Reading an Open Collective transactions export (CSV): the shape is chosen by the header
//! (A, B, C by their column ids, D by human labels), unknown columns are ignored, amounts are
//! read as exact cents. Personal data is never copied out: name columns are not read at all,
//! the description is kept only to find the tier at its end, and errors name lines and
//! columns, never values that could identify a person.

use crate::money::Amount;
use std::collections::HashMap;

/// Why an export cannot be imported. Every message names a line or a column, never a
/// contributor's data.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ExportError {
    /// The file is not UTF-8 CSV with a header.
    #[error("the file is not a CSV export of Open Collective: {0}")]
    NotCsv(String),
    /// A column the importer needs is missing.
    #[error("the export has no {what} column ({names}); export the transactions again with it")]
    MissingColumn {
        /// What the column holds.
        what: &'static str,
        /// The header names accepted for it.
        names: String,
    },
    /// The export was cut short by Open Collective's row limit.
    #[error("line {line}: the export is incomplete: Open Collective ended it with \"Warning: totalCount is ... and limit was ...\"; export again with all transactions (the dashboard's export, or fetchAll=1)")]
    Truncated {
        /// The line of the warning.
        line: u64,
    },
    /// A value that cannot be read.
    #[error("line {line}, column {column}: {reason}")]
    BadValue {
        /// The line in the file.
        line: u64,
        /// The header name.
        column: String,
        /// What is wrong, in words.
        reason: String,
    },
    /// A transaction in another currency than the treasury's.
    #[error("line {line}: the transaction is in {currency}, but the treasury keeps EUR; only an export in the collective's host currency EUR can be imported")]
    Currency {
        /// The line in the file.
        line: u64,
        /// The currency found.
        currency: String,
    },
}

/// One transaction of the export, with only what the importer needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transaction {
    /// Its line in the file (the header is line 1).
    pub line: u64,
    /// When (`YYYY-MM-DDTHH:mm:ss`, UTC, as exported: sorts as text).
    pub date: String,
    /// The transaction id (`legacyId` in shape A, `shortId` in B and C).
    pub id: String,
    /// The group (a purchase and its fees, or a refund) it belongs to.
    pub group: String,
    /// Its kind (CONTRIBUTION, PAYMENT_PROCESSOR_FEE, ...).
    pub kind: String,
    /// CREDIT (true) or DEBIT.
    pub credit: bool,
    /// Net amount in cents of EUR (negative for debits).
    pub net: Amount,
    /// Gross amount, when the export has the column and the cell.
    pub gross: Option<Amount>,
    /// Whether it is part of a refund.
    pub is_refund: bool,
    /// The refund's id (on a refunded transaction) or the refunded one's (on a refund).
    pub refund_id: String,
    /// The contributor's Open Collective slug (`oppositeAccountSlug`).
    pub contributor: String,
    /// The contributor's e-mail, when an admin's export (form D) has it. Private: it goes
    /// only into the private identity file.
    pub email: String,
    /// The description. Private (it names the contributor): read only for the tier at its end.
    pub description: String,
}

/// A parsed export: which shape it was, and its transactions in file order.
#[derive(Debug)]
pub struct Export {
    /// A, B, C or D, in words.
    pub shape: &'static str,
    /// The transactions.
    pub transactions: Vec<Transaction>,
}

/// The header names accepted for each field: shape A/B/C ids first, then form D's labels.
struct Field {
    what: &'static str,
    names: &'static [&'static str],
    required: bool,
}

const DATE: Field = field("date", &["effectiveDate", "datetime", "Effective Date & Time", "Date & Time"], true);
const ID: Field = field(
    "transaction id",
    &["legacyId", "shortId", "Transaction ID", "Short Transaction ID"],
    true,
);
const GROUP: Field = field("group", &["group", "shortGroup", "Group ID"], true);
const KIND: Field = field("kind", &["kind", "Kind"], true);
const TYPE: Field = field("credit/debit", &["type", "Credit/Debit"], true);
const NET: Field = field("net amount", &["netAmount", "Amount Single Column"], true);
const GROSS: Field = field("gross amount", &["amount", "Gross Amount"], false);
const CURRENCY: Field = field("currency", &["currency", "Currency"], true);
const IS_REFUND: Field = field("refund flag", &["isRefund", "Is Refund"], true);
const REFUND_ID: Field = field("refund id", &["refundId", "shortRefundId", "Refund ID"], false);
const CONTRIBUTOR: Field = field("contributor", &["oppositeAccountSlug", "Opposite Account Handle"], true);
const EMAIL: Field = field("contributor e-mail", &["Opposite Account Email"], false);
const DESCRIPTION: Field = field("description", &["description", "Description"], false);

const fn field(what: &'static str, names: &'static [&'static str], required: bool) -> Field {
    Field { what, names, required }
}

/// The column index of each field, found by header name.
struct Columns {
    index: HashMap<&'static str, usize>,
    header: Vec<String>,
}

impl Columns {
    fn find(header: &csv::StringRecord) -> Result<Columns, ExportError> {
        let header: Vec<String> = header.iter().map(str::to_string).collect();
        let mut index = HashMap::new();
        for f in [
            &DATE,
            &ID,
            &GROUP,
            &KIND,
            &TYPE,
            &NET,
            &GROSS,
            &CURRENCY,
            &IS_REFUND,
            &REFUND_ID,
            &CONTRIBUTOR,
            &EMAIL,
            &DESCRIPTION,
        ] {
            match f.names.iter().find_map(|n| header.iter().position(|h| h == n)) {
                Some(i) => {
                    index.insert(f.what, i);
                }
                None if f.required => {
                    return Err(ExportError::MissingColumn {
                        what: f.what,
                        names: f.names.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(" or "),
                    })
                }
                None => {}
            }
        }
        Ok(Columns { index, header })
    }

    fn shape(&self) -> &'static str {
        let has = |name: &str| self.header.iter().any(|h| h == name);
        if has("legacyId") {
            "A (the dashboard's export, since 2024)"
        } else if has("refundKind") {
            "C (the plain transactions URL)"
        } else if has("shortId") {
            "B (legacy platform default, before 2024)"
        } else {
            "D (a custom preset with labels)"
        }
    }

    fn get<'r>(&self, record: &'r csv::StringRecord, f: &Field) -> &'r str {
        self.index.get(f.what).and_then(|i| record.get(*i)).unwrap_or("")
    }

    fn name(&self, f: &Field) -> String {
        self.index
            .get(f.what)
            .map_or_else(|| f.what.to_string(), |i| self.header[*i].clone())
    }
}

/// Parses an export's bytes.
pub fn parse(bytes: &[u8]) -> Result<Export, ExportError> {
    let text = std::str::from_utf8(bytes).map_err(|e| ExportError::NotCsv(format!("it is not UTF-8 text ({e})")))?;
    if let Some(n) = text.lines().position(|l| l.starts_with("Warning: totalCount")) {
        return Err(ExportError::Truncated { line: n as u64 + 1 });
    }
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(text.as_bytes());
    let header = reader.headers().map_err(|e| ExportError::NotCsv(e.to_string()))?.clone();
    let columns = Columns::find(&header)?;
    let mut transactions = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| ExportError::NotCsv(e.to_string()))?;
        let line = record.position().map_or(0, |p| p.line());
        transactions.push(transaction(&columns, &record, line)?);
    }
    Ok(Export {
        shape: columns.shape(),
        transactions,
    })
}

fn transaction(c: &Columns, r: &csv::StringRecord, line: u64) -> Result<Transaction, ExportError> {
    let bad = |f: &Field, reason: String| ExportError::BadValue {
        line,
        column: c.name(f),
        reason,
    };
    let required = |f: &Field| -> Result<String, ExportError> {
        match c.get(r, f) {
            "" => Err(bad(f, "is empty".into())),
            value => Ok(value.to_string()),
        }
    };
    let amount = |f: &Field, text: &str| -> Result<Amount, ExportError> {
        text.parse()
            .map_err(|_| bad(f, format!("{text:?} is not an amount with at most two decimals")))
    };
    let currency = required(&CURRENCY)?;
    if currency != "EUR" {
        return Err(ExportError::Currency { line, currency });
    }
    let credit = match c.get(r, &TYPE) {
        "CREDIT" => true,
        "DEBIT" => false,
        other => return Err(bad(&TYPE, format!("{other:?} is neither CREDIT nor DEBIT"))),
    };
    let is_refund = match c.get(r, &IS_REFUND) {
        "REFUND" => true,
        "" => false,
        other => return Err(bad(&IS_REFUND, format!("{other:?} is neither REFUND nor empty"))),
    };
    let date = required(&DATE)?;
    if !looks_like_date(&date) {
        return Err(bad(&DATE, format!("{date:?} is not a time like 2026-11-30T09:15:00")));
    }
    let gross = match c.get(r, &GROSS) {
        "" => None,
        text => Some(amount(&GROSS, text)?),
    };
    Ok(Transaction {
        line,
        date,
        id: required(&ID)?,
        group: required(&GROUP)?,
        kind: required(&KIND)?,
        credit,
        net: amount(&NET, &required(&NET)?)?,
        gross,
        is_refund,
        refund_id: c.get(r, &REFUND_ID).to_string(),
        contributor: c.get(r, &CONTRIBUTOR).to_string(),
        email: c.get(r, &EMAIL).to_string(),
        description: c.get(r, &DESCRIPTION).to_string(),
    })
}

/// `YYYY-MM-DDTHH:mm:ss`, optionally with fractions or a zone after it.
fn looks_like_date(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() >= 19
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]
            .iter()
            .all(|i| b[*i].is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &[u8] = include_bytes!("../../tests/fixtures/opencollective/a.csv");
    const B: &[u8] = include_bytes!("../../tests/fixtures/opencollective/b.csv");
    const C: &[u8] = include_bytes!("../../tests/fixtures/opencollective/c.csv");
    const D: &[u8] = include_bytes!("../../tests/fixtures/opencollective/d.csv");
    const TRUNCATED: &[u8] = include_bytes!("../../tests/fixtures/opencollective/truncated.csv");

    #[test]
    fn the_four_shapes_are_told_apart_by_their_header_and_read_exactly() {
        let a = parse(A).unwrap();
        assert!(a.shape.starts_with("A "));
        assert_eq!(a.transactions.len(), 14);
        let jane = a.transactions.iter().find(|t| t.id == "100222").unwrap();
        assert_eq!(
            (jane.net, jane.credit, jane.kind.as_str()),
            (Amount(-610), false, "PAYMENT_PROCESSOR_FEE")
        );
        let quoted = a.transactions.iter().find(|t| t.id == "100233").unwrap();
        assert!(
            quoted.description.ends_with("of Berlin, Inc. (Watch License)"),
            "quotes and commas: {}",
            quoted.description
        );
        let refund = a.transactions.iter().find(|t| t.id == "100250").unwrap();
        assert!(refund.is_refund && refund.refund_id == "100240" && refund.net == Amount(-5000));
        let b = parse(B).unwrap();
        assert!(b.shape.starts_with("B "));
        let dora = b.transactions.iter().find(|t| t.id == "a1b2c3d4").unwrap();
        assert_eq!(
            (dora.gross, dora.net, dora.group.as_str()),
            (Some(Amount(20000)), Amount(19390), "f0e1d2c3")
        );
        let c = parse(C).unwrap();
        assert!(c.shape.starts_with("C "));
        assert_eq!(c.transactions[0].net, Amount(485050));
        let d = parse(D).unwrap();
        assert!(d.shape.starts_with("D "));
        assert_eq!(d.transactions[0].contributor, "hana-hoshi");
        assert_eq!(d.transactions[0].email, "hana.hoshino@example.org");
    }

    #[test]
    fn a_truncated_export_a_missing_column_another_currency_and_bad_values_are_refused_by_line() {
        assert_eq!(parse(TRUNCATED).unwrap_err(), ExportError::Truncated { line: 9 });
        let text = std::str::from_utf8(A).unwrap();
        let without = text.replace("\"oppositeAccountSlug\"", "\"somethingElse\"");
        let e = parse(without.as_bytes()).unwrap_err();
        assert!(
            e.to_string()
                .contains("no contributor column (\"oppositeAccountSlug\" or \"Opposite Account Handle\")"),
            "{e}"
        );
        let dollars = text.replacen("\"EUR\"", "\"USD\"", 1);
        assert_eq!(
            parse(dollars.as_bytes()).unwrap_err(),
            ExportError::Currency {
                line: 2,
                currency: "USD".into()
            }
        );
        let float = text.replacen(",-6.1,", ",-6.105,", 1);
        let e = parse(float.as_bytes()).unwrap_err().to_string();
        assert!(e.starts_with("line 14, column netAmount: \"-6.105\" is not an amount"), "{e}");
        let e = parse(b"not,a,transactions,file\n1,2,3,4\n").unwrap_err().to_string();
        assert!(e.contains("no date column"), "{e}");
        let short = text.replacen(",\"pi_3Q100250\"", "", 1);
        assert!(matches!(parse(short.as_bytes()).unwrap_err(), ExportError::NotCsv(_)));
    }

    #[test]
    fn no_error_repeats_a_contributors_data() {
        let text = std::str::from_utf8(A).unwrap();
        let broken = text.replacen("\"CREDIT\",\"CONTRIBUTION\",\"3f2a", "\"CREDITED\",\"CONTRIBUTION\",\"3f2a", 1);
        let e = parse(broken.as_bytes()).unwrap_err().to_string();
        assert!(e.contains("line 15, column type"), "{e}");
        for private in ["Jane", "Public", "jane-public"] {
            assert!(!e.contains(private), "{e}");
        }
    }
}
