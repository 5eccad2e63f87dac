//! The hub: `smartup matrix sync` makes the homeserver mirror the ledger, like the Forgejo
//! sync: desired (from the ledger) → observed (from the homeserver) → plan → apply, and a
//! second run plans nothing.
//!
//! - a space for the smartup, and rooms for the general forum, each team, each objective and
//!   each open task as its children, with aliases from the ledger ids (`#3_2_design_team`,
//!   `#6_2_1_1`), names and topics from the ledger;
//! - membership from the ledger, for the accounts proven to be owners' ([`accounts`]):
//!   everyone in the forum, role holders in their team, a task's Attacker, Defender and
//!   mission leader in its room; captains moderate their team's room; whoever no longer
//!   belongs is removed with the reason; a paid task's room is archived (read-only).
//!
//! An account is an owner's when the owner's own `link-matrix` row names it and the account
//! posted that row's code to the bot. The bot keeps that proof where everyone can see it: a
//! state event [`LINK_EVENT`] of the space, keyed by the account ([`link_state_key`]), naming
//! the owner and the seq of the link row. Only the bot may write state in the space.

pub mod desired;
pub mod plan;
pub mod remote;

pub use super::config::Settings;
use crate::matrix::client::{Client, MatrixError, StateEvent};
use crate::rules::state::State;
use crate::time::Timestamp;
use desired::{desired, Accounts};
use plan::{plan, People, Step};
use remote::{apply, observe, Applied};
use std::collections::{BTreeMap, BTreeSet};

/// The state event type of a proven link, in the space.
pub const LINK_EVENT: &str = "org.smartup.link";

/// The content of a [`LINK_EVENT`]: the owner an account proved it belongs to, by the seq of
/// their link row, and the event in which the account posted the code.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Proof {
    /// The owner.
    pub owner: String,
    /// The seq of the `link-matrix` row the code matched.
    pub seq: u64,
    /// The event id of the account's message with the code.
    #[serde(default)]
    pub event_id: String,
}

/// The state key of `account`'s proof in the space: the account behind an underscore
/// (`_@jane:example.org`). Matrix lets only the user itself set state under a key that
/// starts with `@` (Synapse: "You are not allowed to set others state"), and the bot writes
/// every proof; MatrixRTC's `m.call.member` keys get around the same rule the same way.
pub fn link_state_key(account: &str) -> String {
    format!("_{account}")
}

/// The proofs among a space's state events, by account: the [`LINK_EVENT`]s keyed by
/// [`link_state_key`] whose content reads as a [`Proof`].
pub fn proofs(space_state: &[StateEvent]) -> BTreeMap<String, Proof> {
    space_state
        .iter()
        .filter(|event| event.event_type == LINK_EVENT)
        .filter_map(|event| {
            let account = event.state_key.strip_prefix('_').filter(|a| a.starts_with('@'))?;
            let proof = serde_json::from_value(event.content.clone()).ok()?;
            Some((account.to_string(), proof))
        })
        .collect()
}

/// The proven accounts by owner: a proof counts while it names the owner's current link (a
/// later `link-matrix` row, to another account or with a new code, needs a new proof).
pub fn accounts(state: &State, proofs: &BTreeMap<String, Proof>) -> Accounts {
    proofs
        .iter()
        .filter(|(account, proof)| {
            state
                .owners
                .get(&proof.owner)
                .and_then(|o| o.matrix.as_ref())
                .is_some_and(|link| &link.user == *account && link.seq == proof.seq)
        })
        .map(|(account, proof)| (proof.owner.clone(), account.clone()))
        .collect()
}

/// How a sync runs: only planning (`dry_run`), inviting `rejoin` again where they left, and
/// stopping between steps once `stop` is set (the bot's SIGTERM).
#[derive(Clone, Copy)]
pub struct Run<'a> {
    /// Plan only.
    pub dry_run: bool,
    /// Accounts invited again even to rooms they left.
    pub rejoin: &'a BTreeSet<String>,
    /// Set when the process should stop: the steps left are skipped.
    pub stop: Option<&'a std::sync::atomic::AtomicBool>,
}

/// What a sync planned, and what applying it did (none in a dry run).
#[derive(Debug)]
pub struct Synced {
    /// The plan.
    pub steps: Vec<Step>,
    /// What applying it did.
    pub applied: Option<Applied>,
}

/// Makes the homeserver hold what the ledger at `state` wants (or, with `run.dry_run`, only
/// plans it), as the bot `client` whose user id is the policy's bot. Accounts that left a
/// room themselves are invited again only when they are among `run.rejoin`.
pub fn sync(client: &Client, settings: &Settings, state: &State, now: Timestamp, run: &Run) -> Result<Synced, MatrixError> {
    let Run { dry_run, rejoin, stop } = *run;
    // Rooms are found as the space's children; by alias only the rooms the ledger wants now
    // (a paid task's room is a child of the space, so its alias is not looked up each time).
    let everything = desired(state, settings, &Accounts::new(), &BTreeSet::new(), now);
    let wanted: BTreeSet<String> = everything.all().map(|r| r.key.clone()).collect();
    let mut remote = observe(client, settings, &wanted)?;
    let accounts = accounts(state, &remote.proofs);
    let target = desired(state, settings, &accounts, &remote.task_keys(), now);
    let mut owners: BTreeMap<String, String> = remote.proofs.iter().map(|(a, p)| (a.clone(), p.owner.clone())).collect();
    owners.extend(accounts.iter().map(|(owner, account)| (account.clone(), owner.clone())));
    let people = People {
        bot: &settings.bot,
        owners: &owners,
        rejoin,
    };
    let steps = plan(&target, &remote.rooms, &people);
    let applied = (!dry_run).then(|| apply(client, settings, &mut remote, &steps, stop));
    Ok(Synced { steps, applied })
}

#[cfg(test)]
mod tests;
