//! The ledger's money as a plain-text accounting journal (the syntax hledger and Ledger read):
//! one transaction per row that moved money, so that an accountant can check the treasury and
//! the SC owed to owners with the tools they know.
//!
//! A transaction is made from what the row changed, not from what its action is meant to do:
//! the EUR treasury and the SC each owner holds before and after it. Accounts:
//! - `assets:treasury` (EUR);
//! - `liabilities:sc:<owner>` (SC, a claim on 1 EUR each, owed to the owner: negative);
//! - the other side of each currency: `income:deposits` (a deposit), `expenses:sc-payouts`
//!   (EUR paid for SC), `equity:treasury` (any other change of the treasury),
//!   `expenses:work` (SC awarded for validated work), `expenses:prior-work` (SC of a tranche
//!   of a retrospective award released) and `equity:sc-redeemed` (SC paid out).
//!
//! So `hledger balance assets:treasury` is the treasury and `hledger balance liabilities:sc`
//! the SC outstanding, owner by owner, as `smartup balance` shows them.

use crate::ledger::row::Row;
use crate::money::Amount;
use crate::rules::State;
use std::collections::BTreeMap;
use std::fmt::Write;

/// What the journal follows at one point of the ledger.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Money {
    /// EUR in the treasury.
    pub treasury: Amount,
    /// Validated SC each owner holds (owners holding none are left out).
    pub sc: BTreeMap<String, Amount>,
}

impl Money {
    /// The money of a state.
    pub fn of(state: &State) -> Money {
        Money {
            treasury: state.treasury,
            sc: state
                .owners
                .iter()
                .filter(|(_, o)| o.sc != Amount::ZERO)
                .map(|(handle, o)| (handle.clone(), o.sc))
                .collect(),
        }
    }
}

/// The journal's opening comment: which ledger, at which commit, and what the commodities are.
pub fn header(name: &str, ledger_id: &str, commit: &str) -> String {
    format!(
        "; The money of the smartup ledger {name} ({ledger_id}) at commit {commit}, written by smartup.\n\
         ; EUR: the treasury. SC: Smartup Credits owed to owners, each a claim on 1 EUR.\n\n\
         commodity 1000.00 EUR\n\
         commodity 1000.00 SC\n\n"
    )
}

/// One posting of a transaction: the account, the amount and its commodity (`EUR` or `SC`).
pub type Posting = (String, Amount, &'static str);

/// The transaction of `row` (told in `words`) given the money `before` and `after` it, or
/// `None` when it moved no money.
pub fn transaction(row: &Row, words: &str, before: &Money, after: &Money) -> Option<String> {
    let postings = postings(row, before, after);
    if postings.is_empty() {
        return None;
    }
    let mut text = String::new();
    let description = words.replace(';', ",");
    let _ = writeln!(text, "{} * {description}", &row.timestamp.to_string()[..10]);
    let _ = writeln!(text, "    ; seq: {}, action: {}, actor: {}", row.seq, row.action, row.actor);
    for posting in &postings {
        text.push_str(&posting_line(posting));
    }
    text.push('\n');
    Some(text)
}

/// A posting as a journal line (indented, with its line end).
pub fn posting_line((account, amount, commodity): &Posting) -> String {
    format!("    {account:<40} {:>14} {commodity}\n", amount.to_string())
}

/// The postings of the money `row` moved, given the money `before` and `after` it (none when
/// it moved no money).
pub fn postings(row: &Row, before: &Money, after: &Money) -> Vec<Posting> {
    let mut postings: Vec<Posting> = Vec::new();
    let treasury = after.treasury.minus(before.treasury);
    if treasury != Amount::ZERO {
        let other = match row.action.as_str() {
            "deposit-eur" | "refund-eur" => "income:deposits",
            "payout-sc" => "expenses:sc-payouts",
            _ => "equity:treasury",
        };
        postings.push(("assets:treasury".into(), treasury, "EUR"));
        postings.push((other.into(), Amount::ZERO.minus(treasury), "EUR"));
    }
    let owners = before.sc.keys().chain(after.sc.keys()).collect::<std::collections::BTreeSet<_>>();
    let mut issued = Amount::ZERO;
    for owner in owners {
        let held = |m: &Money| m.sc.get(owner).copied().unwrap_or(Amount::ZERO);
        let change = held(after).minus(held(before));
        if change != Amount::ZERO {
            postings.push((format!("liabilities:sc:{owner}"), Amount::ZERO.minus(change), "SC"));
            issued = issued.plus(change);
        }
    }
    if issued != Amount::ZERO {
        let other = match (issued.is_positive(), row.action.as_str()) {
            (true, "release-tranche") => "expenses:prior-work",
            (true, _) => "expenses:work",
            (false, _) => "equity:sc-redeemed",
        };
        postings.push((other.into(), issued, "SC"));
    }
    postings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::Book;

    /// The transactions of every row of a book, replayed from its genesis state.
    fn journal(book: &Book) -> String {
        let mut state = book.genesis.clone();
        let mut text = String::new();
        for (row, _) in &book.rows {
            let before = Money::of(&state);
            let words = crate::view::events::event_of(row, &state).words;
            crate::rules::apply(&mut state, row, None).unwrap();
            text.extend(transaction(row, &words, &before, &Money::of(&state)));
        }
        text
    }

    #[test]
    fn deposits_and_validated_work_become_balanced_transactions() {
        let mut book = Book::assessed_well();
        book.later(48);
        let validate_all = [("task", "6_2_1_1"), ("attacker_sc", "44.55"), ("defender_sc", "4.95")];
        book.ok("cap", "validate-pending-sc", &validate_all);
        let text = journal(&book);
        let deposit = text.split("\n\n").find(|t| t.contains("deposit-eur")).expect("a deposit");
        assert!(
            deposit.contains("assets:treasury") && deposit.contains("income:deposits"),
            "{deposit}"
        );
        let validation = text
            .split("\n\n")
            .find(|t| t.contains("validate-pending-sc"))
            .expect("a validation");
        assert!(
            validation.contains("liabilities:sc:") && validation.contains("expenses:work"),
            "{validation}"
        );
        // Every transaction balances in each commodity.
        for transaction in text.split("\n\n").filter(|t| !t.trim().is_empty()) {
            for commodity in ["EUR", "SC"] {
                let sum: i64 = transaction
                    .lines()
                    .filter_map(|l| l.strip_suffix(&format!(" {commodity}")))
                    .map(|l| l.split_whitespace().last().unwrap().parse::<Amount>().unwrap().0)
                    .sum();
                assert_eq!(sum, 0, "{commodity} in {transaction}");
            }
        }
        // Rows that move no money write nothing.
        assert!(!text.contains("start-work") && !text.contains("create-task"), "{text}");
    }

    #[test]
    fn a_released_tranche_is_prior_work_owed_to_its_recipient_and_decisions_move_no_money() {
        use crate::rules::governance::{Choice, Kind};
        use crate::view::proposals::testing::{close, propose, vote};
        let mut book = Book::organisation();
        let seq = propose(&mut book, "founder", Kind::TrancheRelease, "Design tranche", |p| {
            p.tranche = Some("design".into());
        });
        vote(&mut book, "cap", seq, Choice::Yes);
        book.later(168);
        close(&mut book, "cap", seq);
        let release = crate::rules::draft::Intent::ReleaseTranche {
            tranche: "design".into(),
            amount: Some("1000".parse().unwrap()),
            proposal: None,
            note: String::new(),
        };
        book.act("cap", &release);
        let text = journal(&book);
        let released = text.split("\n\n").find(|t| t.contains("release-tranche")).expect("the release");
        assert!(released.contains("tranche design released: 1000.00 SC to founder"), "{released}");
        assert!(
            released.contains("liabilities:sc:founder") && released.contains("expenses:prior-work"),
            "{released}"
        );
        assert!(!text.contains("action: propose") && !text.contains("action: vote"), "{text}");
    }
}
