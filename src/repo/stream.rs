//! Streams the rows of many segment sources in `seq` order, one segment in memory per table.
//! Every segment is read whole: it holds its header and 1 to `segment_rows` rows.

use super::changes::Source;
use super::findings::Finding;
use crate::ledger::row::{Location, Row};
use crate::ledger::schema;
use crate::ledger::segment::{self, SegmentError};
use git2::Repository;
use std::collections::VecDeque;

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
pub struct RowStream<'r> {
    repo: &'r Repository,
    cursors: Vec<Cursor>,
    segment_rows: u64,
}

impl<'r> RowStream<'r> {
    /// A stream over sources (grouped per table, in segment order). Each segment holds at
    /// least one row and at most `segment_rows`.
    pub fn new(repo: &'r Repository, sources: Vec<Source>, segment_rows: u64) -> RowStream<'r> {
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
            repo,
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
        let blob = self.repo.find_blob(source.blob).map_err(|e| {
            Box::new(Finding::general(
                "unreadable",
                format!("cannot read {}: {}", source.file, e.message()),
            ))
        })?;
        let bytes = blob.content();
        let table_name = &schema::table(source.table).name;
        let body = segment::check_header(source.table, &source.file, bytes)?;
        let rows = &mut self.cursors[i].rows;
        let mut last_line = 1;
        segment::parse_body(source.table, &source.file, &bytes[body..], 2, |row, line| {
            last_line = line;
            rows.push_back((
                row,
                Location {
                    table: table_name.clone(),
                    file: source.file.clone(),
                    line,
                },
            ));
            Ok::<(), Box<Finding>>(())
        })?;
        let count = last_line - 1;
        if count == 0 || count > self.segment_rows {
            return Err(Box::new(
                Finding::general(
                    "history",
                    format!(
                        "{} holds {count} rows; a segment holds at least 1 and at most {}",
                        source.file, self.segment_rows
                    ),
                )
                .at(table_name, &source.file, last_line),
            ));
        }
        Ok(())
    }
}
