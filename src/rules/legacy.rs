//! The import of records kept before the ledger (Smartup Zero's unsigned treasury and karma
//! files): the founder alone writes them, each once, with its original time; EUR records move
//! the treasury and SK records an owner's karma, by their signed amounts.

use super::columns::Columns;
use super::decayed;
use super::{ensure, violation, State, Violation};
use crate::ledger::row::Row;
use crate::money::Amount;

/// The key under which a legacy record is remembered: by its reference, else by its line.
pub fn record_key(source: &str, reference: &str, line: &str) -> String {
    if reference.is_empty() {
        format!("legacy/{source}/line {line}")
    } else {
        format!("legacy/{source}/{reference}")
    }
}

/// `import-legacy`: one record of an old file, by the founder.
pub fn import_legacy(state: &mut State, row: &Row, c: &Columns) -> Result<(), Violation> {
    let source = c.required("source")?;
    let line = c.integer("source_line")?.to_string();
    let happened = c.timestamp("happened_at")?;
    c.required("kind")?;
    let owner = c.text("owner");
    let currency = c.required("currency")?;
    let text = c.required("amount")?;
    let amount: Amount = text.parse().map_err(|_| {
        violation(
            "malformed-value",
            format!("column amount: {text:?} is not an amount with at most two decimals"),
        )
    })?;
    let reference = c.text("reference");
    c.text("note");
    c.done()?;
    ensure(state.is_founder(&row.actor), "not-permitted", || {
        format!(
            "{} does not hold the founder role, which alone imports the records kept before the ledger",
            row.actor
        )
    })?;
    ensure(happened <= row.timestamp, "time-order", || {
        format!("column happened_at: {happened} is after the import itself ({})", row.timestamp)
    })?;
    let key = record_key(source, reference, &line);
    if let Some(seq) = state.references.get(&key) {
        return Err(violation("duplicate-id", format!("{key} was imported already, at seq {seq}")));
    }
    match currency {
        "EUR" => {
            ensure(owner.is_empty(), "malformed-value", || {
                "column owner: a treasury record names no owner".into()
            })?;
            let after = state.treasury.plus(amount);
            ensure(after.0 >= 0, "treasury", || {
                format!("the treasury holds {} EUR; {amount} EUR would take it below zero", state.treasury)
            })?;
            state.treasury = after;
        }
        "SK" => {
            let o = state
                .owners
                .get(owner)
                .ok_or_else(|| violation("unknown-owner", format!("{owner:?} is not in the Book of Owners")))?;
            let after = decayed(&state.policy, o.sk, o.sk_since, row.timestamp).plus(amount);
            ensure(after.0 >= 0, "malformed-value", || format!("{owner}'s SK would fall below zero"))?;
            super::governance::set_karma(state, owner, after, row.timestamp);
        }
        other => {
            return Err(violation(
                "malformed-value",
                format!("column currency: a legacy record is in EUR or SK, not {other}"),
            ))
        }
    }
    state.references.insert(key, row.seq);
    Ok(())
}
