//! Feeds arbitrary bytes to the segment parser of every table: it must answer with rows or a
//! precise error, never panic, and whatever it accepts must re-encode to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smartup::ledger::{schema, segment};

fuzz_target!(|data: &[u8]| {
    for table in 0..schema::tables().len() {
        if let Ok(rows) = segment::parse_segment(table, "fuzz.csv", data) {
            let mut again = segment::header_line(table);
            for (row, _) in &rows {
                segment::encode_row(row, &mut again);
            }
            assert_eq!(again, data, "an accepted segment must be canonical");
        }
    }
});
