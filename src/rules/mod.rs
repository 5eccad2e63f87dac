//! The rules: a pure state machine. [`apply`] takes the state and the next row and either
//! moves the state forward or returns the [`Violation`] the row commits, leaving the state
//! exactly as it was. No I/O and no clock: time comes from the rows (and an upper bound the
//! caller passes). The CLI, the hook and `verify` all run this same code. What must hold of a
//! whole commit (its policy file, its session logs, its signer) is judged by [`commit`], on
//! facts the caller reads from git.

mod columns;
pub mod commit;
mod credits;
pub mod draft;
pub mod governance;
mod keys;
pub mod legacy;
pub mod matrix;
pub mod onboarding;
mod people;
pub mod state;
pub mod violation;
mod work;

pub use credits::window_end;
pub use state::{decayed, State};
pub use violation::{ensure, violation, Violation};

use crate::ledger::action::ActionKind;
use crate::ledger::row::Row;
use crate::sign::PublicKey;
use crate::time::Timestamp;
use columns::Columns;

/// Applies one row. On `Err` the state is unchanged.
///
/// `not_after` bounds timestamps from above (the server's or the user's clock); `None` when
/// re-checking history offline.
pub fn apply(state: &mut State, row: &Row, not_after: Option<Timestamp>) -> Result<(), Violation> {
    check_envelope(state, row, not_after)?;
    let columns = Columns::new(row);
    let table = row.schema().name.as_str();
    let wrong_table = || violation("wrong-table", format!("action {:?} does not write to table {table}", row.action));
    let kind = ActionKind::parse(&row.action)
        .filter(|kind| kind.writes_to(table))
        .ok_or_else(wrong_table)?;
    match kind {
        ActionKind::RegisterSmartup => people::register_smartup(state, row, &columns),
        ActionKind::AmendPolicy => people::amend_policy(state, row, &columns),
        ActionKind::RegisterKey => keys::register_key(state, row, &columns),
        ActionKind::RotateKey => keys::rotate_key(state, row, &columns),
        ActionKind::RevokeKey => keys::revoke_key(state, row, &columns),
        ActionKind::RequestRecovery => keys::request_recovery(state, row, &columns),
        ActionKind::ConfirmRecovery => keys::confirm_recovery(state, row, &columns),
        ActionKind::CancelRecovery => keys::cancel_recovery(state, row, &columns),
        ActionKind::CompleteRecovery => keys::complete_recovery(state, row, &columns),
        ActionKind::CreateOwner => people::create_owner(state, row, &columns),
        ActionKind::ChangeLicense => people::change_license(state, row, &columns),
        ActionKind::Invite => onboarding::invite(state, row, &columns),
        ActionKind::Join => onboarding::join(state, row, &columns),
        ActionKind::BootstrapTeams => people::bootstrap_team(state, row, &columns),
        ActionKind::AssignRole => people::assign_role(state, row, &columns, false),
        ActionKind::SetRole => people::assign_role(state, row, &columns, true),
        ActionKind::CreateObjective => work::create_objective(state, row, &columns),
        ActionKind::CreateTask => work::create_task(state, row, &columns),
        ActionKind::AssignTask => work::assign_task(state, row, &columns),
        ActionKind::StartTask => work::start_task(state, row, &columns),
        ActionKind::StartWork => work::start_work(state, row, &columns),
        ActionKind::StopWork if table == "session_logs" => work::log_session(state, row, &columns),
        ActionKind::StopWork => work::stop_work(state, row, &columns),
        ActionKind::AssessWork => credits::assess_work(state, row, &columns),
        ActionKind::ApprovePendingSc => credits::approve(state, row, &columns),
        ActionKind::ObjectPendingSc => credits::object(state, row, &columns),
        ActionKind::ResolveObjection => credits::resolve_objection(state, row, &columns),
        ActionKind::ValidatePendingSc => credits::validate(state, row, &columns),
        ActionKind::DepositEur => credits::deposit_eur(state, row, &columns),
        ActionKind::RefundEur => credits::refund_eur(state, row, &columns),
        ActionKind::PayoutSc => credits::payout_sc(state, row, &columns),
        ActionKind::AwardSk => credits::award_sk(state, row, &columns),
        ActionKind::ImportLegacy => legacy::import_legacy(state, row, &columns),
        ActionKind::LinkMatrix => matrix::link_matrix(state, row, &columns),
        ActionKind::Propose => governance::propose(state, row, &columns),
        ActionKind::Object => governance::object(state, row, &columns),
        ActionKind::Vote => governance::vote(state, row, &columns),
        ActionKind::CloseProposal => governance::close(state, row, &columns),
        ActionKind::ReleaseTranche => governance::release_tranche(state, row, &columns),
    }?;
    state.last_seq = row.seq;
    state.last_timestamp = Some(row.timestamp);
    Ok(())
}

/// Refuses a row recorded before `not_before` (the server's clock minus the policy's
/// `[hook] max_recording_lag_minutes`): a row's timestamp is when it was written, and the
/// forge does not take rows written long before it receives them. `None` offline.
pub fn recorded_in_time(row: &Row, not_before: Option<Timestamp>) -> Result<(), Violation> {
    match not_before {
        Some(limit) if row.timestamp < limit => Err(violation(
            "recorded-late",
            format!(
                "this row was recorded at {}, before {limit}: longer ago than the policy's recording lag \
                 ([hook] max_recording_lag_minutes); `smartup push` re-stamps and re-signs your own unpushed rows",
                row.timestamp
            ),
        )),
        _ => Ok(()),
    }
}

/// Moves the position (seq and time) past a row that was refused, so that one bad row does
/// not make every later row look out of order when a reviewer lists all violations.
pub fn skip(state: &mut State, row: &Row) {
    if row.seq > state.last_seq {
        state.last_seq = row.seq;
    }
    if state.last_timestamp.is_none_or(|t| row.timestamp > t) {
        state.last_timestamp = Some(row.timestamp);
    }
}

/// The key that must have signed a row: the actor's registered, unrevoked key named in the
/// row's `key` column (for the genesis row, the founder key the row itself carries; for a
/// join row, the newcomer's key it registers).
pub fn signer_key(state: &State, row: &Row) -> Result<PublicKey, Violation> {
    if row.action == ActionKind::RegisterSmartup.name() && state.last_seq == 0 {
        return carried_key(row, "the genesis row");
    }
    if row.action == ActionKind::Join.name() {
        return carried_key(row, "a join row");
    }
    match state.keys.get(&row.key) {
        Some(record) if record.owner != row.actor => Err(violation(
            "key-not-valid",
            format!(
                "key {} belongs to {}, not to {}: no one signs with someone else's key",
                row.key, record.owner, row.actor
            ),
        )),
        Some(record) if record.revoked.is_some() => Err(violation(
            "key-not-valid",
            format!(
                "key {} of {} was revoked at seq {} and signs nothing after that",
                row.key,
                row.actor,
                record.revoked.unwrap_or(0)
            ),
        )),
        Some(record) => Ok(record.public.clone()),
        None => Err(violation(
            "key-not-valid",
            format!("key {} is not registered in this ledger", row.key),
        )),
    }
}

/// The key a row carries in its `public_key` column, which must be the key that signs it.
fn carried_key(row: &Row, what: &str) -> Result<PublicKey, Violation> {
    let key =
        PublicKey::parse_openssh(row.get("public_key")).map_err(|e| violation("malformed-value", format!("column public_key: {e}")))?;
    ensure(key.fingerprint() == row.key, "key-not-valid", || {
        format!(
            "{what} must be signed by the key it registers ({}), not {}",
            key.fingerprint(),
            row.key
        )
    })?;
    Ok(key)
}

fn check_envelope(state: &State, row: &Row, not_after: Option<Timestamp>) -> Result<(), Violation> {
    ensure(row.seq == state.last_seq + 1, "sequence", || {
        format!(
            "this row has seq {} but the row before it has seq {}: rows are numbered without gap or repeat",
            row.seq, state.last_seq
        )
    })?;
    if let Some(last) = state.last_timestamp {
        ensure(row.timestamp >= last, "time-order", || {
            format!("timestamp {} is before the previous row's {last}", row.timestamp)
        })?;
    }
    if let Some(limit) = not_after {
        ensure(row.timestamp <= limit, "time-order", || {
            format!("timestamp {} is in the future (the clock says {limit})", row.timestamp)
        })?;
    }
    let genesis = row.action == ActionKind::RegisterSmartup.name();
    ensure(genesis == (state.last_seq == 0), "genesis", || {
        if genesis {
            "register-smartup may only be the first row of a ledger".to_string()
        } else {
            "the first row of a ledger must be register-smartup".to_string()
        }
    })?;
    if let Some(awaited) = &state.awaited_log {
        ensure(
            row.action == ActionKind::StopWork.name() && row.schema().name == "session_logs",
            "session",
            || {
                format!(
                    "the stop-work row at seq {} must be followed by its session log row",
                    awaited.after_seq
                )
            },
        )?;
    }
    if row.action == ActionKind::Join.name() {
        // A newcomer is not an owner yet: the key their row registers signs it.
        signer_key(state, row)?;
    } else if !genesis {
        ensure(state.owners.contains_key(&row.actor), "unknown-owner", || {
            format!("{} is not in the Book of Owners", row.actor)
        })?;
        signer_key(state, row)?;
    }
    crate::sign::decode_signature(&row.signature)
        .map(|_| ())
        .ok_or_else(|| violation("bad-signature", "the signature column does not hold a base64 ed25519 signature"))
}

#[cfg(test)]
pub mod test_support;
#[cfg(test)]
mod tests;
