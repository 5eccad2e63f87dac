//! Balances: per owner SC, SK after decay, pending SC and vote weight; the treasury's EUR,
//! the SC outstanding and pending (assessed, and in the tranches of retrospective awards),
//! and the 3x rule.

use super::shown;
use super::status::awaiting_validation;
use crate::money::Amount;
use crate::rules::state::State;
use crate::time::Timestamp;
use serde::Serialize;

/// One owner's balances.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OwnerBalance {
    /// Handle.
    pub owner: String,
    /// campaign, watch, work or organizational.
    pub license: String,
    /// Validated SC held.
    #[serde(serialize_with = "shown::text")]
    pub sc: Amount,
    /// Social Karma after decay.
    #[serde(serialize_with = "shown::text")]
    pub sk: Amount,
    /// SC assessed to them and not yet validated.
    #[serde(serialize_with = "shown::text")]
    pub pending_sc: Amount,
    /// Vote weight: `min(1.5, 1 + SK/1000)`, in votes to three places (`1.020`).
    pub vote_weight: String,
}

/// The treasury and the 3x rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Treasury {
    /// EUR held.
    #[serde(serialize_with = "shown::text")]
    pub eur: Amount,
    /// Validated SC held by owners.
    #[serde(serialize_with = "shown::text")]
    pub sc_outstanding: Amount,
    /// SC assessed and not yet validated.
    #[serde(serialize_with = "shown::text")]
    pub sc_pending: Amount,
    /// SC pending in the tranches of retrospective awards: never outstanding until released.
    #[serde(serialize_with = "shown::text")]
    pub sc_pending_in_tranches: Amount,
    /// The most SC that may be outstanding: the policy's multiple (3) × the EUR held.
    #[serde(serialize_with = "shown::text")]
    pub sc_limit: Amount,
    /// Whether the outstanding SC are within that limit.
    pub three_x_rule_ok: bool,
}

/// Every owner's balances and the treasury.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Balances {
    /// The instant SK decay is computed for.
    #[serde(serialize_with = "shown::text")]
    pub at: Timestamp,
    /// Owners by handle.
    pub owners: Vec<OwnerBalance>,
    /// The treasury.
    pub treasury: Treasury,
}

/// SC assessed to `owner` (as Attacker or Defender) and not yet validated.
pub fn pending_sc_of(state: &State, owner: &str) -> Amount {
    state
        .tasks
        .values()
        .filter_map(|t| awaiting_validation(t).map(|p| (t, p)))
        .fold(Amount::ZERO, |sum, (t, p)| {
            let mut sum = sum;
            if t.attacker.as_deref() == Some(owner) {
                sum = sum.plus(p.attacker_left);
            }
            if t.defender.as_deref() == Some(owner) {
                sum = sum.plus(p.defender_left);
            }
            sum
        })
}

/// The balances of the ledger `state` at `now` (never before its last row: SK does not
/// un-decay for a clock that is behind).
pub fn balances(state: &State, now: Timestamp) -> Balances {
    let at = state.last_timestamp.map_or(now, |last| now.max(last));
    let mut owners: Vec<OwnerBalance> = state
        .owners
        .iter()
        .map(|(handle, o)| OwnerBalance {
            owner: handle.clone(),
            license: o.license.clone(),
            sc: o.sc,
            sk: state.karma(handle, at),
            pending_sc: pending_sc_of(state, handle),
            vote_weight: crate::rules::governance::format_weight(state.vote_weight(handle, at)),
        })
        .collect();
    owners.sort_by(|a, b| a.owner.cmp(&b.owner));
    let sc_limit = state.treasury.times(state.policy.sc.treasury_multiple.0);
    Balances {
        at,
        owners,
        treasury: Treasury {
            eur: state.treasury,
            sc_outstanding: state.outstanding,
            sc_pending: state.pending,
            sc_pending_in_tranches: state.tranches_pending(),
            sc_limit,
            three_x_rule_ok: state.outstanding <= sc_limit,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::Book;
    use crate::time::DAY;

    fn of<'b>(b: &'b Balances, owner: &str) -> &'b OwnerBalance {
        b.owners.iter().find(|o| o.owner == owner).expect("owner listed")
    }

    #[test]
    fn pending_then_validated_sc_and_the_treasury() {
        let mut b = Book::assessed_after_one_session();
        let pending = balances(&b.state, b.now);
        assert_eq!(of(&pending, "alice").pending_sc.to_string(), "44.55");
        assert_eq!(of(&pending, "bob").pending_sc.to_string(), "4.95");
        assert_eq!(of(&pending, "alice").sc, Amount::ZERO);
        assert_eq!(pending.treasury.sc_pending.to_string(), "49.50");
        b.later(48);
        b.validate();
        let paid = balances(&b.state, b.now);
        assert_eq!(of(&paid, "alice").sc.to_string(), "44.55");
        assert_eq!(of(&paid, "alice").pending_sc, Amount::ZERO);
        assert_eq!(paid.treasury.eur.to_string(), "1000.00");
        assert_eq!(paid.treasury.sc_outstanding.to_string(), "49.50");
        assert_eq!(paid.treasury.sc_limit.to_string(), "3000.00");
        assert!(paid.treasury.three_x_rule_ok);
        let handles: Vec<&str> = paid.owners.iter().map(|o| o.owner.as_str()).collect();
        assert_eq!(
            handles,
            ["alice", "bob", "cap", "carol", "dave", "founder", "maya"],
            "sorted by handle"
        );
        let json = serde_json::to_value(&paid).unwrap();
        assert_eq!(json["treasury"]["sc_outstanding"], "49.50");
        assert_eq!(json["treasury"]["sc_pending_in_tranches"], "82200.00");
        assert_eq!(json["owners"][0]["sc"], "44.55");
    }

    #[test]
    fn sk_decays_at_the_pinned_now_and_weighs_votes() {
        let mut b = Book::organisation();
        let earned = b.now;
        b.award_governance("alice");
        let fresh = balances(&b.state, earned);
        assert_eq!(of(&fresh, "alice").sk.to_string(), "20.00");
        assert_eq!(of(&fresh, "alice").vote_weight, "1.020");
        let later = balances(&b.state, earned.plus(60 * DAY));
        assert_eq!(of(&later, "alice").sk.to_string(), "18.00");
        assert_eq!(later.at, earned.plus(60 * DAY));
        let behind = balances(&b.state, earned.plus(-100 * DAY));
        assert_eq!(behind.at, b.state.last_timestamp.unwrap(), "never before the last row");
        assert_eq!(of(&behind, "alice").sk.to_string(), "20.00");
    }
}
