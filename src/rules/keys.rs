//! Rules for signing keys. **Only you sign as you**: an owner changes their own keys with a
//! key they hold; the person who created an owner may give them their first key; beyond
//! that, keys change only by a recovery that one authority requests, a second, different
//! authority confirms, and that waits out a window in which the owner's valid key can
//! cancel it.

use super::columns::Columns;
use super::people::require_owner;
use super::state::{Confirmation, KeyRecord, Recovery, State, LEADERSHIP_TEAM};
use super::{ensure, violation, Violation};
use crate::ledger::row::Row;
use crate::sign::PublicKey;
use crate::time::HOUR;

/// A column holding an OpenSSH public key.
pub fn public_key(c: &Columns, name: &str) -> Result<PublicKey, Violation> {
    PublicKey::parse_openssh(c.required(name)?).map_err(|e| violation("malformed-value", format!("column {name}: {e}")))
}

/// Registers a key to an owner as of this row.
pub fn register(state: &mut State, owner: &str, key: PublicKey, row: &Row) {
    let record = KeyRecord {
        owner: owner.to_string(),
        public: key,
        registered: row.seq,
        registered_at: row.timestamp,
        revoked: None,
        revoked_at: None,
    };
    state.keys.insert(record.public.fingerprint(), record);
}

fn revoke(state: &mut State, fingerprint: &str, row: &Row) {
    if let Some(record) = state.keys.get_mut(fingerprint) {
        record.revoked = Some(row.seq);
        record.revoked_at = Some(row.timestamp);
    }
}

pub(super) fn unregistered(state: &State, key: &PublicKey) -> Result<(), Violation> {
    ensure(!state.keys.contains_key(&key.fingerprint()), "duplicate-id", || {
        format!(
            "key {} is already registered in this ledger (a key is registered once, even after revocation)",
            key.fingerprint()
        )
    })
}

fn new_key(state: &State, c: &Columns) -> Result<PublicKey, Violation> {
    let key = public_key(c, "public_key")?;
    unregistered(state, &key)?;
    Ok(key)
}

fn revocable(state: &State, owner: &str, fingerprint: &str) -> Result<(), Violation> {
    ensure(state.key_valid_for(fingerprint, owner), "key-not-valid", || {
        format!("{fingerprint} is not a valid key of {owner}")
    })
}

/// Only the owner changes their keys directly; anyone else needs a recovery.
fn owner_only(row: &Row, owner: &str) -> Result<(), Violation> {
    ensure(row.actor == owner, "key-authority", || {
        format!(
            "{} may not change the keys of {owner}: only {owner} does, with a key they hold; \
             if {owner} has lost their keys, two authorities can recover them (request-recovery)",
            row.actor
        )
    })
}

/// `register-key`: an owner adds a key of their own; or the owner's creator gives an owner
/// who never had a key their first one.
pub fn register_key(state: &mut State, row: &Row, c: &Columns) -> Result<(), Violation> {
    let owner = c.handle("owner")?;
    let key = new_key(state, c)?;
    c.text("note");
    c.done()?;
    require_owner(state, owner)?;
    if row.actor != owner {
        let creator = state.owners.get(owner).map_or("", |o| o.creator.as_str());
        let first = !state.ever_had_key(owner);
        ensure(first && row.actor == creator, "key-authority", || {
            if first {
                format!(
                    "{} did not create {owner}; only {creator}, who did, may give {owner} a first key",
                    row.actor
                )
            } else {
                format!("{owner} has had a key already: only {owner} adds keys now, or two authorities by a recovery (request-recovery)")
            }
        })?;
    }
    register(state, owner, key, row);
    Ok(())
}

/// `rotate-key`: the owner replaces one of their keys by a new one in one row.
pub fn rotate_key(state: &mut State, row: &Row, c: &Columns) -> Result<(), Violation> {
    let owner = c.handle("owner")?;
    let key = new_key(state, c)?;
    let old = c.required("revokes")?;
    c.text("note");
    c.done()?;
    require_owner(state, owner)?;
    owner_only(row, owner)?;
    revocable(state, owner, old)?;
    revoke(state, old, row);
    register(state, owner, key, row);
    Ok(())
}

/// `revoke-key`: the owner retires one of their keys from this row on.
pub fn revoke_key(state: &mut State, row: &Row, c: &Columns) -> Result<(), Violation> {
    let owner = c.handle("owner")?;
    let old = c.required("revokes")?;
    c.text("note");
    c.done()?;
    require_owner(state, owner)?;
    owner_only(row, owner)?;
    revocable(state, owner, old)?;
    revoke(state, old, row);
    Ok(())
}

/// Founders and leadership-team members are recovered by leadership-team members only.
fn guarded(state: &State, owner: &str) -> bool {
    state.is_founder(owner) || state.is_leadership_member(owner)
}

/// Who may request a recovery of `owner`'s keys: a captain of a team in which the owner
/// holds a role (of the leadership team when they hold none); for a founder or leadership
/// member, a member of the leadership team.
fn may_request(state: &State, actor: &str, owner: &str) -> Result<(), Violation> {
    let (allowed, who) = if guarded(state, owner) {
        (
            state.is_leadership_member(actor),
            "a member of the leadership team (3_1)".to_string(),
        )
    } else {
        let mut teams: Vec<&str> = state.roles_of(owner).map(|r| r.team.as_str()).collect();
        if teams.is_empty() {
            teams.push(LEADERSHIP_TEAM);
        }
        teams.sort_unstable();
        teams.dedup();
        let allowed = teams.iter().any(|team| state.is_captain_of(actor, team));
        (allowed, format!("a captain of team {}", teams.join(" or ")))
    };
    ensure(allowed, "key-authority", || {
        format!("{actor} may not ask to recover the keys of {owner}: that is for {who}")
    })
}

/// Who may confirm: any captain; for a founder or leadership member, a member of the
/// leadership team.
fn may_confirm(state: &State, actor: &str, owner: &str) -> Result<(), Violation> {
    let (allowed, who) = if guarded(state, owner) {
        (state.is_leadership_member(actor), "a member of the leadership team (3_1)")
    } else {
        (state.is_captain(actor), "a team captain")
    };
    ensure(allowed, "key-authority", || {
        format!("{actor} may not confirm a recovery of the keys of {owner}: that is for {who}")
    })
}

/// Refuses to leave a founder or leadership member without a valid key.
fn keeps_a_key(state: &State, owner: &str, gives_key: bool, revokes: &[String]) -> Result<(), Violation> {
    let left = state
        .valid_keys_of(owner)
        .into_iter()
        .filter(|k| !revokes.iter().any(|r| r.as_str() == *k))
        .count();
    ensure(gives_key || left > 0 || !guarded(state, owner), "recovery", || {
        format!("{owner} would be left without a valid key; a founder or leadership member is given a new key in the same recovery")
    })
}

fn fingerprints<'r>(c: &Columns<'r>) -> Vec<&'r str> {
    c.text("revokes").split(' ').filter(|f| !f.is_empty()).collect()
}

/// `request-recovery`: an authority asks to give an owner a new key and/or revoke keys of
/// theirs (lost or compromised). Nothing changes until a second authority confirms, the
/// window passes and the recovery is completed.
pub fn request_recovery(state: &mut State, row: &Row, c: &Columns) -> Result<(), Violation> {
    let owner = c.handle("owner")?;
    let key = if c.text("public_key").is_empty() {
        None
    } else {
        Some(new_key(state, c)?)
    };
    let revokes = fingerprints(c);
    c.text("note");
    c.done()?;
    ensure(key.is_some() || !revokes.is_empty(), "malformed-value", || {
        "a recovery gives a new key (public_key), revokes keys (revokes), or both".into()
    })?;
    require_owner(state, owner)?;
    ensure(row.actor != owner, "key-authority", || {
        format!("{owner} changes their own keys with register-key, rotate-key or revoke-key, not by a recovery")
    })?;
    may_request(state, &row.actor, owner)?;
    for fingerprint in &revokes {
        revocable(state, owner, fingerprint)?;
    }
    let revokes: Vec<String> = revokes.into_iter().map(str::to_string).collect();
    keeps_a_key(state, owner, key.is_some(), &revokes)?;
    if let Some((seq, _)) = state.recoveries.iter().find(|(_, r)| r.owner == owner) {
        return Err(violation(
            "recovery",
            format!("a recovery of {owner}'s keys is open already (requested at seq {seq})"),
        ));
    }
    state.recoveries.insert(
        row.seq,
        Recovery {
            owner: owner.to_string(),
            public_key: key.map(|k| k.to_openssh()),
            revokes,
            requested_by: row.actor.clone(),
            confirmation: None,
        },
    );
    Ok(())
}

/// The open recovery a row names by its `request` and `owner` columns.
fn open_recovery<'s>(state: &'s State, c: &Columns) -> Result<(u64, &'s Recovery), Violation> {
    let request = c.integer("request")?;
    let recovery = state.recoveries.get(&request).ok_or_else(|| {
        violation(
            "recovery",
            format!("there is no open recovery requested at seq {request} (never requested, cancelled or completed)"),
        )
    })?;
    let owner = c.handle("owner")?;
    ensure(recovery.owner == owner, "malformed-value", || {
        format!("column owner: the recovery of seq {request} is for {}, not {owner}", recovery.owner)
    })?;
    Ok((request, recovery))
}

/// `confirm-recovery`: a second authority, not the one who asked and not the owner,
/// confirms; the owner's veto window starts.
pub fn confirm_recovery(state: &mut State, row: &Row, c: &Columns) -> Result<(), Violation> {
    let (request, recovery) = open_recovery(state, c)?;
    c.text("note");
    c.done()?;
    let actor = row.actor.as_str();
    ensure(recovery.confirmation.is_none(), "recovery", || {
        format!("the recovery of seq {request} is confirmed already")
    })?;
    ensure(actor != recovery.requested_by, "recovery", || {
        format!("{actor} asked for this recovery; a second, different person confirms it")
    })?;
    ensure(actor != recovery.owner, "key-authority", || {
        format!("{actor} cannot confirm a recovery of their own keys")
    })?;
    may_confirm(state, actor, &recovery.owner)?;
    if let Some(r) = state.recoveries.get_mut(&request) {
        r.confirmation = Some(Confirmation {
            seq: row.seq,
            by: actor.to_string(),
            at: row.timestamp,
        });
    }
    Ok(())
}

/// `cancel-recovery`: the owner (signing with a valid key of theirs) vetoes a recovery, or
/// the one who asked for it withdraws it, any time before it is completed.
pub fn cancel_recovery(state: &mut State, row: &Row, c: &Columns) -> Result<(), Violation> {
    let (request, recovery) = open_recovery(state, c)?;
    c.text("note");
    c.done()?;
    ensure(
        row.actor == recovery.owner || row.actor == recovery.requested_by,
        "key-authority",
        || {
            format!(
                "only {} (with a valid key) or {}, who asked, may cancel the recovery of seq {request}",
                recovery.owner, recovery.requested_by
            )
        },
    )?;
    state.recoveries.remove(&request);
    Ok(())
}

/// `complete-recovery`: after the window, one of the two authorities carries the recovery
/// out: the listed keys are revoked and the new key registered. The row repeats the key and
/// fingerprints of the request and names the request and the confirmation.
pub fn complete_recovery(state: &mut State, row: &Row, c: &Columns) -> Result<(), Violation> {
    let (request, recovery) = open_recovery(state, c)?;
    let public_key = c.text("public_key");
    let revokes = fingerprints(c);
    c.text("note");
    let owner = recovery.owner.as_str();
    let confirmation = recovery.confirmation.as_ref().ok_or_else(|| {
        violation(
            "recovery",
            format!(
                "the recovery of seq {request} was asked for by {} alone; a second authority must confirm it first",
                recovery.requested_by
            ),
        )
    })?;
    let named_confirmation = c.integer("confirmation")?;
    c.done()?;
    ensure(named_confirmation == confirmation.seq, "malformed-value", || {
        format!(
            "column confirmation: the recovery of seq {request} was confirmed at seq {}, not {named_confirmation}",
            confirmation.seq
        )
    })?;
    ensure(
        public_key == recovery.public_key.as_deref().unwrap_or("") && revokes == recovery.revokes,
        "malformed-value",
        || format!("the completion repeats the new key and the fingerprints of the request at seq {request}"),
    )?;
    ensure(
        row.actor == recovery.requested_by || row.actor == confirmation.by,
        "key-authority",
        || {
            format!(
                "the recovery of seq {request} is completed by {} or {}, who asked and confirmed",
                recovery.requested_by, confirmation.by
            )
        },
    )?;
    let hours = state.policy.keys.recovery_window_hours;
    let end = confirmation.at.plus(hours * HOUR);
    ensure(row.timestamp >= end, "recovery", || {
        format!("{owner} may cancel this recovery until {end} ({hours} hours after its confirmation); it is completed after that")
    })?;
    let key = match &recovery.public_key {
        Some(line) => {
            let key = PublicKey::parse_openssh(line).map_err(|e| violation("malformed-value", format!("column public_key: {e}")))?;
            unregistered(state, &key)?;
            Some(key)
        }
        None => None,
    };
    let still_valid: Vec<String> = recovery.revokes.iter().filter(|f| state.key_valid_for(f, owner)).cloned().collect();
    keeps_a_key(state, owner, key.is_some(), &still_valid)?;
    let owner = owner.to_string();
    for fingerprint in &still_valid {
        revoke(state, fingerprint, row);
    }
    if let Some(key) = key {
        register(state, &owner, key, row);
    }
    state.recoveries.remove(&request);
    Ok(())
}
