//! Typed access to a row's own columns, remembering which ones an action used so that the
//! others can be required to be empty.

use super::violation::{violation, Violation};
use crate::ledger::ids::{self, IdKind};
use crate::ledger::row::Row;
use crate::money::Amount;
use crate::time::Timestamp;
use std::cell::Cell;

/// A row's columns as one action reads them.
pub struct Columns<'r> {
    row: &'r Row,
    used: Cell<u64>,
}

fn malformed(column: &str, reason: impl std::fmt::Display) -> Violation {
    violation("malformed-value", format!("column {column}: {reason}"))
}

impl<'r> Columns<'r> {
    /// Starts reading a row.
    pub fn new(row: &'r Row) -> Columns<'r> {
        Columns { row, used: Cell::new(0) }
    }

    /// A column's text, possibly empty.
    pub fn text(&self, name: &str) -> &'r str {
        match self.row.schema().column(name) {
            Some(i) => {
                self.used.set(self.used.get() | (1 << i));
                self.row.columns.get(i).map_or("", String::as_str)
            }
            None => "",
        }
    }

    /// A column that must not be empty.
    pub fn required(&self, name: &str) -> Result<&'r str, Violation> {
        let value = self.text(name);
        if value.is_empty() {
            return Err(malformed(name, format!("{} needs a value here", self.row.action)));
        }
        Ok(value)
    }

    /// An owner handle.
    pub fn handle(&self, name: &str) -> Result<&'r str, Violation> {
        let value = self.required(name)?;
        ids::check_handle(value).map_err(|e| malformed(name, e))?;
        Ok(value)
    }

    /// A numbered identifier: returns it as written and its numeric identity.
    pub fn id(&self, name: &str, kind: IdKind) -> Result<(&'r str, String), Violation> {
        let value = self.required(name)?;
        let identity = ids::numeric_identity(value, kind).map_err(|e| malformed(name, e))?;
        Ok((value, identity))
    }

    /// A non-negative amount.
    pub fn amount(&self, name: &str) -> Result<Amount, Violation> {
        let value: Amount = self.required(name)?.parse().map_err(|e| malformed(name, e))?;
        if value.0 < 0 {
            return Err(malformed(name, "amounts are never negative"));
        }
        Ok(value)
    }

    /// An assessment score from 1 to 10.
    pub fn score(&self, name: &str) -> Result<u32, Violation> {
        let text = self.required(name)?;
        match text.parse::<u32>() {
            Ok(n) if (1..=10).contains(&n) && text == n.to_string() => Ok(n),
            _ => Err(violation(
                "assessment",
                format!("column {name}: {text:?} is not a score from 1 to 10"),
            )),
        }
    }

    /// A positive whole number.
    pub fn integer(&self, name: &str) -> Result<u64, Violation> {
        let text = self.required(name)?;
        match text.parse::<u64>() {
            Ok(n) if text == n.to_string() => Ok(n),
            _ => Err(malformed(name, format!("{text:?} is not a whole number"))),
        }
    }

    /// A UTC timestamp.
    pub fn timestamp(&self, name: &str) -> Result<Timestamp, Violation> {
        self.required(name)?.parse().map_err(|e| malformed(name, e))
    }

    /// A calendar date, as a day number.
    pub fn date(&self, name: &str) -> Result<i64, Violation> {
        let text = self.required(name)?;
        crate::time::parse_date(text).ok_or_else(|| malformed(name, format!("{text:?} is not a date like 2026-11-26")))
    }

    /// Fails when a column the action did not read holds a value.
    pub fn done(&self) -> Result<(), Violation> {
        let schema = self.row.schema();
        for (i, column) in schema.columns.iter().enumerate() {
            let value = self.row.columns.get(i).map_or("", String::as_str);
            if self.used.get() & (1 << i) == 0 && !value.is_empty() {
                return Err(malformed(
                    &column.name,
                    format!("{} leaves this column empty, found {value:?}", self.row.action),
                ));
            }
        }
        Ok(())
    }
}
