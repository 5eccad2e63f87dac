//! Tranches of retrospective awards (the founder's prior work): pending SC the policy lists,
//! released by `release-tranche` once the tranche's trigger holds and, when the policy names
//! voters, a tranche-release proposal passed. Their recipient never validates them.

use super::super::columns::Columns;
use super::super::credits::check_treasury;
use super::super::state::State;
use super::super::{ensure, violation, Violation};
use super::{apply_decision, passed_decision, Kind};
use crate::ledger::governance::{Tranche, VoterGroup};
use crate::ledger::row::Row;
use std::collections::BTreeSet;

/// The policy's tranche with this id.
pub(super) fn tranche<'s>(state: &'s State, id: &str) -> Result<&'s Tranche, Violation> {
    state.policy.governance.tranche(id).ok_or_else(|| {
        let ids: Vec<&str> = state.policy.governance.tranches.iter().map(|t| t.id.as_str()).collect();
        violation(
            "unknown-id",
            format!("the policy has no tranche {id:?} (its tranches: {})", ids.join(", ")),
        )
    })
}

/// Whether a tranche's trigger holds now: any one of its conditions.
pub fn trigger_holds(state: &State, tranche: &Tranche) -> bool {
    let trigger = &tranche.trigger;
    let captains: BTreeSet<&str> = state
        .roles
        .values()
        .filter(|r| r.position == "captain")
        .filter_map(|r| r.holder.as_deref())
        .collect();
    trigger.captains_at_least.is_some_and(|n| captains.len() as u64 >= n)
        || trigger.owners_at_least.is_some_and(|n| state.owners.len() as u64 >= n)
        || trigger.declared.iter().any(|name| state.declared.contains_key(name))
}

/// Refuses the release (or its proposal) of a tranche whose trigger does not hold or that
/// nothing is left of.
pub(super) fn check_releasable(state: &State, id: &str, row: &Row) -> Result<(), Violation> {
    let tranche = tranche(state, id)?;
    ensure(trigger_holds(state, tranche), "tranche", || {
        format!(
            "tranche {id} is released only after its trigger ({}), which does not hold at seq {}",
            tranche.trigger.describe(),
            row.seq
        )
    })?;
    ensure(state.tranche_left(id).is_positive(), "tranche", || {
        format!("tranche {id} is released in full already")
    })
}

/// Who votes on a tranche's release: `None` for every owner, else the groups' members.
pub(super) fn voters(state: &State, groups: &[VoterGroup]) -> Option<BTreeSet<String>> {
    if groups.contains(&VoterGroup::Owners) {
        return None;
    }
    let members = state
        .roles
        .values()
        .filter(|r| {
            (groups.contains(&VoterGroup::Captains) && r.position == "captain")
                || (groups.contains(&VoterGroup::Leadership) && r.team == crate::rules::state::LEADERSHIP_TEAM)
        })
        .filter_map(|r| r.holder.clone())
        .collect();
    Some(members)
}

/// `release-tranche`: anyone but the recipient releases (part of) a tranche once its trigger
/// holds and, when its release is voted, a tranche-release proposal for it passed; the SC
/// become outstanding under the 3x rule (not the daily cap: they were earned before the
/// ledger).
pub fn release_tranche(state: &mut State, row: &Row, c: &Columns) -> Result<(), Violation> {
    let id = c.required("tranche")?;
    let amount = c.amount("amount")?;
    let proposal = if c.text("proposal").is_empty() {
        None
    } else {
        Some(c.integer("proposal")?)
    };
    c.text("note");
    c.done()?;
    let t = tranche(state, id)?;
    let recipient = state.tranche_recipient(&t.recipient).to_string();
    ensure(row.actor != recipient, "self-validation", || {
        format!("{recipient} receives tranche {id} and can never validate it")
    })?;
    check_releasable(state, id, row)?;
    let decision = if t.voters.is_empty() {
        ensure(proposal.is_none(), "malformed-value", || {
            format!("column proposal: tranche {id} is released without a vote")
        })?;
        None
    } else {
        let named = proposal.ok_or_else(|| {
            violation(
                "governance",
                format!("tranche {id} is released by a vote: name the passed tranche-release proposal (column proposal)"),
            )
        })?;
        let passed = passed_decision(state, Kind::TrancheRelease, |p| p.seq == named && p.tranche.as_deref() == Some(id));
        ensure(passed.is_some(), "governance", || {
            format!("seq {named} is not a passed tranche-release proposal of tranche {id} whose release is still to be recorded")
        })?;
        passed
    };
    ensure(amount.is_positive(), "tranche", || {
        "a release releases more than zero SC".to_string()
    })?;
    let left = state.tranche_left(id);
    ensure(amount <= left, "tranche", || {
        format!("only {left} SC of tranche {id} are left to release")
    })?;
    let owner = state
        .owners
        .get(&recipient)
        .ok_or_else(|| violation("unknown-owner", format!("{recipient} is not in the Book of Owners")))?;
    ensure(
        state.policy.licenses.get(&owner.license).is_some_and(|l| l.earns_sc),
        "license",
        || format!("{recipient} holds a {} license, which cannot earn SC", owner.license),
    )?;
    check_treasury(state, state.outstanding.plus(amount), state.treasury)?;
    if let Some(o) = state.owners.get_mut(&recipient) {
        o.sc = o.sc.plus(amount);
    }
    state.outstanding = state.outstanding.plus(amount);
    let released = state.released.entry(id.to_string()).or_default();
    *released = released.plus(amount);
    if let Some(seq) = decision {
        apply_decision(state, seq, row);
    }
    Ok(())
}
