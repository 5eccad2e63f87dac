//! The read model: pure functions of (state, rows, now) that return serialisable views of the
//! ledger. No git, no files, no clock: callers read the rows and pass `now`, so every front end
//! (the CLI, the Forgejo sync, later the site and the bot) shows the same thing, and tests pin
//! the time.
//!
//! - [`status`]: a task's status (the one word list) and the task board;
//! - [`balances`]: SC, SK after decay, pending SC and vote weight per owner, and the treasury;
//! - [`history`]: per-task and per-owner histories, with the rows behind each fact;
//! - [`events`]: the event timeline: what each row did, in words;
//! - [`log`]: the audit log: one row as people and scripts read it;
//! - [`journal`]: the money as a plain-text accounting journal (hledger, Ledger);
//! - [`proposals`]: proposals with their status, tally and time left, and the tranches.

pub mod balances;
pub mod events;
pub mod history;
pub mod journal;
pub mod log;
pub mod metrics;
pub mod proposals;
pub mod status;

use crate::ledger::row::Row;
use crate::money::Amount;
use crate::time::HOUR;

/// A length of time for people: `4 h 05 min`.
pub fn duration(seconds: i64) -> String {
    format!("{} h {:02} min", seconds / HOUR, (seconds % HOUR) / 60)
}

/// An amount column of a row (rows at HEAD passed the rules, so it parses; anything else
/// counts as zero).
fn amount_of(row: &Row, column: &str) -> Amount {
    row.get(column).parse().unwrap_or(Amount::ZERO)
}

/// Serialisers that write amounts and times as the ledger writes them (`44.55`,
/// `2026-01-07T13:00:00Z`), not as their inner integers.
mod shown {
    use serde::Serializer;
    use std::fmt::Display;

    /// A value as its text.
    pub fn text<T: Display, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(value)
    }

    /// An optional value as its text, or null.
    pub fn optional<T: Display, S: Serializer>(value: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(v) => s.collect_str(v),
            None => s.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations_read_as_hours_and_minutes() {
        assert_eq!(super::duration(4 * super::HOUR + 5 * 60 + 59), "4 h 05 min");
        assert_eq!(super::duration(59), "0 h 00 min");
    }
}
