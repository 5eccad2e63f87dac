//! Segment files: strict parsing of the CSV that holds a table's rows, and the one canonical
//! way rows are written.
//!
//! A segment is UTF-8 without BOM, LF line ends, the table's exact header on line 1 and one
//! row per line, each line byte-for-byte the canonical encoding of its fields (a field is
//! quoted only when it contains a comma or a quote). Anything else is refused with the file
//! and line, so a hand edit can never slip in under a different spelling.

use super::row::{check_value, Row};
use super::schema::{self, TableId};
use crate::time::Timestamp;
use std::borrow::Cow;

/// Why a segment cannot be read.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum SegmentError {
    /// The file starts with a UTF-8 byte-order mark.
    #[error("{file}:1: the file starts with a byte-order mark (BOM); ledger files are UTF-8 without BOM")]
    Bom { file: String },
    /// A carriage return (CRLF line end or a stray `\r`).
    #[error("{file}:{line}: carriage return found (CRLF line end?); ledger files use LF line ends only")]
    CarriageReturn { file: String, line: u64 },
    /// The last line is not terminated: a half-written row.
    #[error("{file}:{line}: the last line has no line end (a half-written row?)")]
    Unterminated { file: String, line: u64 },
    /// The header differs from the table's schema.
    #[error("{file}:1: the header is {found:?} but table {table} has {expected:?}")]
    Header {
        file: String,
        table: String,
        found: String,
        expected: String,
    },
    /// A line is not valid CSV or not UTF-8.
    #[error("{file}:{line}: malformed CSV: {reason}")]
    Malformed { file: String, line: u64, reason: String },
    /// A line has the wrong number of fields.
    #[error("{file}:{line}: {found} fields, but the header has {expected}")]
    FieldCount {
        file: String,
        line: u64,
        found: usize,
        expected: usize,
    },
    /// A line is valid CSV but not written the canonical way (quoting, spacing).
    #[error(
        "{file}:{line}: the line is not written the way smartup writes it (quoting or spacing differs); rows are never edited by hand"
    )]
    NotCanonical { file: String, line: u64 },
    /// A field holds a value no row may hold.
    #[error("{file}:{line}: column {column}: {reason}")]
    Value {
        file: String,
        line: u64,
        column: String,
        reason: String,
    },
}

/// The header line of a table, with its line end.
pub fn header_line(table: TableId) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, name) in schema::table(table).header().iter().enumerate() {
        encode_field(i, name.as_bytes(), &mut out);
    }
    out.push(b'\n');
    out
}

/// Appends the canonical CSV line of a row (with its line end) to `out`.
pub fn encode_row(row: &Row, out: &mut Vec<u8>) {
    row.each_field(|i, field| encode_field(i, field, out));
    out.push(b'\n');
}

/// Appends field number `index` of a line: after a comma unless it is the first, quoted
/// (with its quotes doubled) only when it holds a comma or a quote.
fn encode_field(index: usize, field: &[u8], out: &mut Vec<u8>) {
    if index > 0 {
        out.push(b',');
    }
    if field.iter().any(|&b| b == b',' || b == b'"') {
        out.push(b'"');
        for &b in field {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(field);
    }
}

/// Checks the framing of a whole segment (BOM, line ends, header) and returns the byte offset
/// where its rows begin.
pub fn check_header(table: TableId, file: &str, bytes: &[u8]) -> Result<usize, SegmentError> {
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return Err(SegmentError::Bom { file: file.into() });
    }
    let end = match bytes.iter().position(|&b| b == b'\n') {
        Some(end) => end,
        None => {
            return Err(SegmentError::Unterminated {
                file: file.into(),
                line: 1,
            })
        }
    };
    let expected = header_line(table);
    if bytes[..=end] != expected[..] {
        if bytes[..end].contains(&b'\r') {
            return Err(SegmentError::CarriageReturn {
                file: file.into(),
                line: 1,
            });
        }
        return Err(SegmentError::Header {
            file: file.into(),
            table: schema::table(table).name.clone(),
            found: String::from_utf8_lossy(&bytes[..end]).into_owned(),
            expected: String::from_utf8_lossy(&expected[..expected.len() - 1]).into_owned(),
        });
    }
    Ok(end + 1)
}

/// Parses the rows of a whole segment (header included).
pub fn parse_segment(table: TableId, file: &str, bytes: &[u8]) -> Result<Vec<(Row, u64)>, SegmentError> {
    let body = check_header(table, file, bytes)?;
    let mut rows = Vec::new();
    parse_body(table, file, &bytes[body..], 2, |row, line| {
        rows.push((row, line));
        Ok(())
    })?;
    Ok(rows)
}

/// How many rows a whole segment (header included) holds: its lines after the header.
pub fn rows_in(segment: &[u8]) -> u64 {
    (segment.iter().filter(|&&b| b == b'\n').count() as u64).saturating_sub(1)
}

/// Parses rows (no header) starting at line `first_line` of `file`, handing each row and its
/// line number to `sink`. Stops at the first error, of the framing or of the sink.
pub fn parse_body<E: From<SegmentError>>(
    table: TableId,
    file: &str,
    bytes: &[u8],
    first_line: u64,
    mut sink: impl FnMut(Row, u64) -> Result<(), E>,
) -> Result<(), E> {
    if let Some(pos) = bytes.iter().position(|&b| b == b'\r') {
        let line = first_line + bytes[..pos].iter().filter(|&&b| b == b'\n').count() as u64;
        return Err(SegmentError::CarriageReturn { file: file.into(), line }.into());
    }
    if !bytes.is_empty() && !bytes.ends_with(b"\n") {
        let line = first_line + bytes.iter().filter(|&&b| b == b'\n').count() as u64;
        return Err(SegmentError::Unterminated { file: file.into(), line }.into());
    }
    let width = schema::table(table).header().len();
    let mut timestamp = Vec::with_capacity(32);
    let mut record = Vec::with_capacity(width);
    for (line, text) in (first_line..).zip(bytes.split_inclusive(|&b| b == b'\n')) {
        let content = &text[..text.len() - 1];
        if content.is_empty() {
            return Err(SegmentError::NotCanonical { file: file.into(), line }.into());
        }
        let quoted_canonically = split_fields(content, &mut record).map_err(|reason| SegmentError::Malformed {
            file: file.into(),
            line,
            reason: reason.into(),
        })?;
        if record.len() != width {
            return Err(SegmentError::FieldCount {
                file: file.into(),
                line,
                found: record.len(),
                expected: width,
            }
            .into());
        }
        let row = row_from_record(table, file, line, &record)?;
        // The line is canonical (what `encode_row` writes) when its quoting is and its time
        // is written as `Timestamp` writes it: every other field is kept as it was read, and
        // `row_from_record` took only a `seq` written as `u64` writes it.
        timestamp.clear();
        row.timestamp.write_to(&mut timestamp);
        if !quoted_canonically || *record[1] != timestamp[..] {
            return Err(SegmentError::NotCanonical { file: file.into(), line }.into());
        }
        sink(row, line)?;
    }
    Ok(())
}

/// Splits one line (without its line end) into `fields` (emptied first): separated by
/// commas, a field in double quotes may hold commas and doubled quotes; a quote in a field
/// that is not quoted is refused. Returns whether the quoting is canonical: every quoted
/// field holds a comma or a quote (those that are not quoted cannot).
fn split_fields<'a>(line: &'a [u8], fields: &mut Vec<Cow<'a, [u8]>>) -> Result<bool, &'static str> {
    fields.clear();
    let mut canonical = true;
    let mut i = 0;
    loop {
        if line.get(i) == Some(&b'"') {
            let mut value = Vec::new();
            i += 1;
            loop {
                match line.get(i) {
                    None => return Err("a quoted field is not closed on its line"),
                    Some(b'"') if line.get(i + 1) == Some(&b'"') => {
                        value.push(b'"');
                        i += 2;
                    }
                    Some(b'"') => {
                        i += 1;
                        break;
                    }
                    Some(&b) => {
                        value.push(b);
                        i += 1;
                    }
                }
            }
            canonical &= value.iter().any(|&b| b == b',' || b == b'"');
            fields.push(Cow::Owned(value));
            match line.get(i) {
                None => return Ok(canonical),
                Some(b',') => i += 1,
                Some(_) => return Err("text follows a closing quote"),
            }
        } else {
            let end = line[i..].iter().position(|&b| b == b',').map_or(line.len(), |p| i + p);
            if line[i..end].contains(&b'"') {
                return Err("a quote inside a field that is not quoted");
            }
            fields.push(Cow::Borrowed(&line[i..end]));
            if end == line.len() {
                return Ok(canonical);
            }
            i = end + 1;
        }
    }
}

fn row_from_record(table: TableId, file: &str, line: u64, record: &[Cow<'_, [u8]>]) -> Result<Row, SegmentError> {
    let header = schema::table(table).header();
    let mut fields = Vec::with_capacity(record.len());
    for (i, raw) in record.iter().enumerate() {
        let value = std::str::from_utf8(raw).map_err(|_| SegmentError::Malformed {
            file: file.into(),
            line,
            reason: format!("column {} is not UTF-8", header[i]),
        })?;
        check_value(value).map_err(|reason| SegmentError::Value {
            file: file.into(),
            line,
            column: header[i].clone(),
            reason,
        })?;
        fields.push(value.to_string());
    }
    let bad = |column: &str, reason: String| SegmentError::Value {
        file: file.into(),
        line,
        column: column.into(),
        reason,
    };
    let n = fields.len();
    let signature = fields.pop().unwrap_or_default();
    let key = fields.pop().unwrap_or_default();
    let mut leading = fields.drain(..4.min(n));
    let seq_text = leading.next().unwrap_or_default();
    let ts_text = leading.next().unwrap_or_default();
    let actor = leading.next().unwrap_or_default();
    let action = leading.next().unwrap_or_default();
    drop(leading);
    // Only the digits of a positive number, without leading zeros: what `u64` writes.
    let seq = seq_text
        .parse::<u64>()
        .ok()
        .filter(|s| *s > 0 && !seq_text.starts_with('0') && seq_text.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| bad("seq", format!("{seq_text:?} is not a sequence number (1, 2, 3, ...)")))?;
    let timestamp: Timestamp = ts_text
        .parse()
        .map_err(|e: crate::time::BadTimestamp| bad("timestamp", e.to_string()))?;
    Ok(Row {
        table,
        seq,
        timestamp,
        actor,
        action,
        columns: fields,
        key,
        signature,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn teams() -> TableId {
        schema::table_id("teams").unwrap()
    }

    fn sample(seq: u64, name: &str) -> Row {
        Row {
            table: teams(),
            seq,
            timestamp: "2026-01-01T00:00:00Z".parse().unwrap(),
            actor: "founder".into(),
            action: "bootstrap-teams".into(),
            columns: vec!["3_1_leadership_team".into(), name.into(), String::new()],
            key: "SHA256:k".into(),
            signature: "c2ln".into(),
        }
    }

    fn segment(rows: &[Row]) -> Vec<u8> {
        let mut bytes = header_line(teams());
        for row in rows {
            encode_row(row, &mut bytes);
        }
        bytes
    }

    #[test]
    fn round_trips_rows_with_commas_and_quotes() {
        let rows = vec![sample(1, "Leadership"), sample(2, "Design, \"the\" team")];
        let parsed = parse_segment(teams(), "t.csv", &segment(&rows)).unwrap();
        assert_eq!(parsed.iter().map(|(r, _)| r.clone()).collect::<Vec<_>>(), rows);
        assert_eq!(parsed[1].1, 3);
    }

    fn error_of(bytes: &[u8]) -> SegmentError {
        parse_segment(teams(), "t.csv", bytes).unwrap_err()
    }

    #[test]
    fn refuses_every_kind_of_hand_edit() {
        let good = segment(&[sample(1, "Leadership"), sample(2, "Design")]);
        let text = String::from_utf8(good.clone()).unwrap();

        let mut bom = vec![0xEF, 0xBB, 0xBF];
        bom.extend_from_slice(&good);
        assert!(matches!(error_of(&bom), SegmentError::Bom { .. }));
        assert!(matches!(
            error_of(text.replace('\n', "\r\n").as_bytes()),
            SegmentError::CarriageReturn { line: 1, .. }
        ));
        assert!(matches!(
            error_of(&good[..good.len() - 1]),
            SegmentError::Unterminated { line: 3, .. }
        ));
        assert!(matches!(
            error_of(text.replacen("seq,", "Seq,", 1).as_bytes()),
            SegmentError::Header { .. }
        ));
        assert!(matches!(
            error_of(text.replace(",Design,", ",Design,extra,").as_bytes()),
            SegmentError::FieldCount { line: 3, found: 10, .. }
        ));
        assert!(matches!(
            error_of(text.replace(",Design,", ",\"Design\",").as_bytes()),
            SegmentError::NotCanonical { line: 3, .. }
        ));
        assert!(matches!(
            error_of(text.replace(",Design,", ",\"De\nsign\",").as_bytes()),
            SegmentError::Malformed { line: 3, .. }
        ));
        assert!(matches!(
            error_of(text.replace(",Design,", ",De\"sign,").as_bytes()),
            SegmentError::NotCanonical { .. } | SegmentError::Malformed { .. }
        ));
        assert!(matches!(
            error_of(text.replacen("\n2,", "\n02,", 1).as_bytes()),
            SegmentError::Value { .. }
        ));
        assert!(matches!(
            error_of(text.replacen("2026-01-01T00:00:00Z", "yesterday", 1).as_bytes()),
            SegmentError::Value { line: 2, .. }
        ));
        assert!(matches!(
            error_of(format!("{text}\n").as_bytes()),
            SegmentError::NotCanonical { line: 4, .. }
        ));
        assert!(matches!(
            error_of(text.replacen("\n2,", "\n\n2,", 1).as_bytes()),
            SegmentError::NotCanonical { line: 3, .. }
        ));
        let mut latin1 = good.clone();
        let at = latin1.len() - 20;
        latin1[at] = 0xE9;
        assert!(matches!(error_of(&latin1), SegmentError::Malformed { .. }));
    }

    /// Whether a line is accepted as the parser first judged it: it splits into as many
    /// fields as the header has, into a row whose `seq` reads back the same, and writing that
    /// row again gives the line.
    fn accepted_by_writing_again(line: &[u8]) -> bool {
        let mut record = Vec::new();
        let content = &line[..line.len() - 1];
        if content.is_empty() || split_fields(content, &mut record).is_err() {
            return false;
        }
        if record.len() != schema::table(teams()).header().len() {
            return false;
        }
        // The first rule for seq; the row is read with a stand-in, so that the parser's own
        // rule for seq plays no part here.
        let seq_text = std::str::from_utf8(&record[0]).unwrap_or("");
        let Some(seq) = seq_text.parse::<u64>().ok().filter(|s| *s > 0 && seq_text == s.to_string()) else {
            return false;
        };
        record[0] = Cow::Borrowed(b"1");
        let Ok(mut row) = row_from_record(teams(), "t.csv", 2, &record) else {
            return false;
        };
        row.seq = seq;
        let mut written = Vec::new();
        encode_row(&row, &mut written);
        written == line
    }

    #[test]
    fn judges_canonical_lines_as_writing_them_again_does() {
        let mut canonical = Vec::new();
        encode_row(&sample(12, "Design, \"the\" team"), &mut canonical);
        // Also from a line quoting a field it need not quote, a step from canonical.
        let quoted = String::from_utf8(canonical.clone()).unwrap().replace(",founder,", ",\"founder\",");
        let bases = [canonical, quoted.into_bytes()];
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = move |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        // Bytes of `é` and `€` (alone, not UTF-8) and a tab, too.
        let alphabet = b",\"0+-19aZT:. \xC3\xA9\xE2\x82\xAC\t";
        let (mut accepted, mut refused) = (0, 0);
        for _ in 0..20_000 {
            let base = &bases[next(bases.len())];
            let mut line = base[..base.len() - 1].to_vec();
            for _ in 0..next(3) {
                let at = next(line.len() + 1);
                match next(3) {
                    0 if at < line.len() => line[at] = alphabet[next(alphabet.len())],
                    1 if at < line.len() => {
                        line.remove(at);
                    }
                    _ => line.insert(at, alphabet[next(alphabet.len())]),
                }
            }
            line.push(b'\n');
            let parsed = parse_body(teams(), "t.csv", &line, 2, |_, _| Ok::<(), SegmentError>(())).is_ok();
            assert_eq!(parsed, accepted_by_writing_again(&line), "{}", String::from_utf8_lossy(&line));
            if parsed {
                accepted += 1;
            } else {
                refused += 1;
            }
        }
        assert!(accepted > 100 && refused > 100, "{accepted} accepted, {refused} refused");
    }
}
