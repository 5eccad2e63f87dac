//! Streams the rows of many segment sources in `seq` order, one segment in memory per table.
//! A new segment is read whole; a grown one from where the parent's version of it ended,
//! after checking that it starts with that version's bytes. Every segment holds 1 to
//! `segment_rows` rows, and exactly `segment_rows` when another follows it.

use super::changes::Source;
use super::findings::Finding;
use super::layout;
use super::trees::Trees;
use crate::ledger::row::{Location, Row};
use crate::ledger::schema;
use crate::ledger::segment::{self, SegmentError};
use crate::ledger::TABLES_DIR;
use git2::Oid;
use std::collections::VecDeque;
use std::sync::Arc;

impl From<SegmentError> for Box<Finding> {
    fn from(e: SegmentError) -> Box<Finding> {
        Box::new(Finding::general("unreadable", e.to_string()))
    }
}

/// The rows of one table still to be read.
struct Cursor {
    sources: VecDeque<Source>,
    rows: VecDeque<(Row, Location)>,
}

/// Rows of several tables merged by `seq`.
pub struct RowStream<'a, 'r> {
    trees: &'a mut Trees<'r>,
    cursors: Vec<Cursor>,
    segment_rows: u64,
}

impl<'a, 'r> RowStream<'a, 'r> {
    /// A stream over sources (grouped per table, in segment order). Each segment holds at
    /// least one row and at most `segment_rows`, and exactly that when another follows it.
    /// Segments are read through `trees`, which keeps the last ones read: in a walk, a
    /// segment the next commit grows is then at hand.
    pub fn new(trees: &'a mut Trees<'r>, sources: Vec<Source>, segment_rows: u64) -> RowStream<'a, 'r> {
        let mut cursors: Vec<Cursor> = Vec::new();
        for source in sources {
            match cursors.last_mut() {
                Some(c) if c.sources.back().is_some_and(|s| s.table == source.table) => c.sources.push_back(source),
                _ => cursors.push(Cursor {
                    sources: VecDeque::from([source]),
                    rows: VecDeque::new(),
                }),
            }
        }
        RowStream {
            trees,
            cursors,
            segment_rows,
        }
    }

    /// The next row in `seq` order, `None` at the end, or the finding that stops the stream.
    pub fn next_row(&mut self) -> Result<Option<(Row, Location)>, Box<Finding>> {
        let mut best: Option<usize> = None;
        for i in 0..self.cursors.len() {
            while self.cursors[i].rows.is_empty() && !self.cursors[i].sources.is_empty() {
                self.load(i)?;
            }
            let Some((row, _)) = self.cursors[i].rows.front() else { continue };
            if best.is_none_or(|b| self.cursors[b].rows.front().is_some_and(|(r, _)| row.seq < r.seq)) {
                best = Some(i);
            }
        }
        Ok(best.and_then(|b| self.cursors[b].rows.pop_front()))
    }

    fn load(&mut self, i: usize) -> Result<(), Box<Finding>> {
        let Some(source) = self.cursors[i].sources.pop_front() else {
            return Ok(());
        };
        let is_last = self.cursors[i].sources.is_empty();
        let table_name = &schema::table(source.table).name;
        let dir = format!("{TABLES_DIR}/{table_name}");
        if let Some((file, blob)) = &source.follows {
            let count = segment::rows_in(self.read(file, *blob)?.content());
            if count != self.segment_rows {
                return Err(Box::new(Finding::general(
                    "history",
                    format!(
                        "{} begins while {file} holds {count} of its {} rows; new rows go to the last segment until it is full",
                        source.file, self.segment_rows
                    ),
                )));
            }
        }
        let blob = self.read(&source.file, source.blob)?;
        let bytes = blob.content();
        let (body, first_line, kept) = match source.grows {
            Some(old) => {
                let old = self.read(&source.file, old)?;
                let old = old.content();
                if !bytes.starts_with(old) {
                    return Err(Box::new(layout::rewritten(&dir, &source.file, old, bytes)));
                }
                let kept = segment::rows_in(old);
                (old.len(), kept + 2, kept)
            }
            None => (segment::check_header(source.table, &source.file, bytes)?, 2, 0),
        };
        let rows = &mut self.cursors[i].rows;
        let mut last_line = first_line - 1;
        let (table, file): (Arc<str>, Arc<str>) = (table_name.as_str().into(), source.file.as_str().into());
        segment::parse_body(source.table, &source.file, &bytes[body..], first_line, |row, line| {
            last_line = line;
            rows.push_back((
                row,
                Location {
                    table: Arc::clone(&table),
                    file: Arc::clone(&file),
                    line,
                },
            ));
            Ok::<(), Box<Finding>>(())
        })?;
        let count = last_line - 1;
        let added = count - kept;
        if added == 0 || count > self.segment_rows || (!is_last && count != self.segment_rows) {
            let what = if is_last {
                format!(
                    "at least 1 row{} and at most {}",
                    if kept > 0 { " more" } else { "" },
                    self.segment_rows
                )
            } else {
                format!("{} (it is full before the next begins)", self.segment_rows)
            };
            return Err(Box::new(
                Finding::general(
                    "history",
                    format!("{} holds {count} rows; this segment must hold {what}", source.file),
                )
                .at(table_name, &source.file, last_line),
            ));
        }
        Ok(())
    }

    /// The blob of a segment, or the finding that it cannot be read.
    fn read(&mut self, file: &str, blob: Oid) -> Result<git2::Blob<'r>, Box<Finding>> {
        self.trees
            .segment(blob)
            .map_err(|e| Box::new(Finding::general("unreadable", format!("cannot read {file}: {}", e.message()))))
    }
}
