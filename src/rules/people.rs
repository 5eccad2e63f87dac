//! Rules for the organisation itself: genesis, policy, owners, licenses, teams, roles.

use super::columns::Columns;
use super::governance::{apply_decision, passed_decision, Kind};
use super::keys::{public_key, register};
use super::state::{Owner, RoleRecord, State, Team, FOUNDER_ROLE, LEADERSHIP_TEAM, LICENSES};
use super::{ensure, signer_key, violation, Violation};
use crate::ledger::ids::{self, IdKind};
use crate::ledger::row::Row;
use crate::money::Amount;

/// A new owner of `license` as of this row, entered by the row's actor.
pub(super) fn new_owner(license: &str, row: &Row) -> Owner {
    Owner {
        license: license.to_string(),
        sc: Amount::ZERO,
        sk: Amount::ZERO,
        sk_since: row.timestamp,
        day: row.timestamp.day(),
        sc_today: Amount::ZERO,
        sk_today: Amount::ZERO,
        creator: row.actor.clone(),
        matrix: None,
        since: row.seq,
    }
}

/// Refuses a handle that is not in the Book of Owners.
pub fn require_owner(state: &State, handle: &str) -> Result<(), Violation> {
    ensure(state.owners.contains_key(handle), "unknown-owner", || {
        format!("{handle} is not in the Book of Owners")
    })
}

/// `register-smartup`: the genesis row. The founder becomes an organizational owner holding
/// the founder role (captain of the leadership team) with the key that signs the row.
pub fn register_smartup(state: &mut State, row: &Row, c: &Columns) -> Result<(), Violation> {
    let name = c.required("subject")?;
    let reference = c.required("reference")?;
    let key = public_key(c, "public_key")?;
    c.text("note");
    c.done()?;
    ids::check_handle(&row.actor).map_err(|e| violation("malformed-value", format!("actor: {e}")))?;
    signer_key(state, row)?;
    ensure(reference == state.policy_reference, "policy", || {
        format!(
            "the genesis row names policy {reference} but ledger.toml is {}",
            state.policy_reference
        )
    })?;
    state.name = name.to_string();
    state.founder = row.actor.clone();
    state.owners.insert(row.actor.clone(), new_owner("organizational", row));
    register(state, &row.actor, key, row);
    state.roles.insert(
        FOUNDER_ROLE.to_string(),
        RoleRecord {
            id: FOUNDER_ROLE.to_string(),
            holder: Some(row.actor.clone()),
            team: LEADERSHIP_TEAM.to_string(),
            position: "captain".into(),
        },
    );
    Ok(())
}

/// `amend-policy`: a leadership captain announces the hash of the new `ledger.toml`, which the
/// same commit must carry.
pub fn amend_policy(state: &mut State, row: &Row, c: &Columns) -> Result<(), Violation> {
    let subject = c.required("subject")?;
    let reference = c.required("reference")?;
    c.text("note");
    c.done()?;
    ensure(subject == crate::ledger::POLICY_FILE, "malformed-value", || {
        format!("column subject: amend-policy amends ledger.toml, not {subject:?}")
    })?;
    ensure(
        reference.len() == 71
            && reference.starts_with("sha256:")
            && reference[7..].bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
        "malformed-value",
        || format!("column reference: {reference:?} is not sha256:<64 hex digits>"),
    )?;
    let decision = passed_decision(state, Kind::PolicyAmendment, |p| p.reference.as_deref() == Some(reference));
    if decision.is_none() {
        ensure(state.policy.bootstrap.active, "governance", || {
            format!("outside the bootstrap phase the policy changes only through a passed policy-amendment proposal naming {reference}")
        })?;
        ensure(state.is_captain_of(&row.actor, LEADERSHIP_TEAM), "not-permitted", || {
            format!(
                "{} is not a captain of the leadership team (3_1), who alone may amend the policy without a passed proposal",
                row.actor
            )
        })?;
    }
    state.amended_policy = Some(reference.to_string());
    if let Some(seq) = decision {
        apply_decision(state, seq, row);
    }
    Ok(())
}

/// The `license` column: one of the four licenses.
pub(super) fn license<'r>(c: &Columns<'r>) -> Result<&'r str, Violation> {
    let license = c.required("license")?;
    ensure(LICENSES.contains(&license), "malformed-value", || {
        format!("column license: {license:?} is not one of {}", LICENSES.join(", "))
    })?;
    Ok(license)
}

/// The deposit a license row names in its `payment` column, checked against the license's
/// price: required outside the bootstrap phase when the license costs anything; a deposit
/// pays for one license only (an invitation it paid for that closed unused, or was
/// withdrawn, frees it again). Returns the deposit's seq, to be spent by [`spend`].
pub(super) fn payment(state: &State, row: &Row, c: &Columns, license: &str) -> Result<Option<u64>, Violation> {
    let price = state.policy.price(license);
    if c.text("payment").is_empty() {
        ensure(state.policy.bootstrap.active || !price.is_positive(), "license-payment", || {
            format!("a {license} license costs {price} EUR: name the deposit-eur row that paid it (column payment)")
        })?;
        return Ok(None);
    }
    let seq = c.integer("payment")?;
    let deposit = state
        .deposits
        .get(&seq)
        .ok_or_else(|| violation("license-payment", format!("seq {seq} is not a deposit-eur row")))?;
    if let Some(by) = deposit.refunded {
        return Err(violation(
            "license-payment",
            format!("the deposit at seq {seq} was refunded at seq {by} and pays for nothing"),
        ));
    }
    let spent_by = deposit.paid_for.filter(|by| {
        state
            .invitations
            .get(by)
            .is_none_or(|invitation| invitation.joined.is_some() || invitation.open_at(row.timestamp))
    });
    if let Some(by) = spent_by {
        return Err(violation(
            "license-payment",
            format!("the deposit at seq {seq} paid for the license of seq {by} already; a deposit pays for one license"),
        ));
    }
    ensure(deposit.paid >= price, "license-payment", || {
        format!(
            "the deposit at seq {seq} paid {} EUR; a {license} license costs {price} EUR",
            deposit.paid
        )
    })?;
    Ok(Some(seq))
}

/// Marks the deposit (if any) as spent on this row's license.
pub(super) fn spend(state: &mut State, deposit: Option<u64>, row: &Row) {
    if let Some(d) = deposit.and_then(|seq| state.deposits.get_mut(&seq)) {
        d.paid_for = Some(row.seq);
    }
}

/// `create-owner`: a captain adds an owner to the Book of Owners (and becomes the one who
/// may give them a first key); outside the bootstrap phase a deposit pays for the license.
pub fn create_owner(state: &mut State, row: &Row, c: &Columns) -> Result<(), Violation> {
    let owner = c.handle("owner")?;
    let license = license(c)?;
    c.text("note");
    ensure(state.is_captain(&row.actor), "not-permitted", || {
        format!("{} is not a team captain; only captains create owners", row.actor)
    })?;
    ensure(!state.owners.contains_key(owner), "duplicate-id", || {
        format!("{owner} is already an owner")
    })?;
    let paid_by = payment(state, row, c, license)?;
    c.done()?;
    state.owners.insert(owner.to_string(), new_owner(license, row));
    spend(state, paid_by, row);
    Ok(())
}

/// `change-license`: a leadership captain records a license bought or changed; moving up
/// needs the SK the policy names and, outside the bootstrap phase, a deposit that paid the
/// new license's price; no one changes their own license.
pub fn change_license(state: &mut State, row: &Row, c: &Columns) -> Result<(), Violation> {
    let owner = c.handle("owner")?;
    let license = license(c)?;
    c.text("note");
    require_owner(state, owner)?;
    ensure(state.is_captain_of(&row.actor, LEADERSHIP_TEAM), "not-permitted", || {
        format!("{} is not a captain of the leadership team (3_1), who record licenses", row.actor)
    })?;
    ensure(row.actor != owner, "self-validation", || {
        format!("{owner} cannot change their own license")
    })?;
    let current = state.owners[owner].license.clone();
    ensure(current != license, "license", || {
        format!("{owner} already holds a {license} license")
    })?;
    let rank = |l: &str| LICENSES.iter().position(|x| *x == l);
    let mut paid_by = None;
    if rank(license) > rank(&current) {
        let needed = state.policy.upgrades.get(license).map_or(Amount::ZERO, |d| d.0);
        let sk = state.karma(owner, row.timestamp);
        ensure(sk >= needed, "karma-threshold", || {
            format!("{owner} has {sk} SK; a {license} license needs at least {needed}")
        })?;
        paid_by = payment(state, row, c, license)?;
    }
    c.done()?;
    if let Some(o) = state.owners.get_mut(owner) {
        o.license = license.to_string();
    }
    spend(state, paid_by, row);
    Ok(())
}

/// `bootstrap-teams`: the founder creates a team (one row per team).
pub fn bootstrap_team(state: &mut State, row: &Row, c: &Columns) -> Result<(), Violation> {
    let (id, identity) = c.id("team", IdKind::Team)?;
    let name = c.required("name")?;
    c.text("note");
    c.done()?;
    ensure(state.is_founder(&row.actor), "not-permitted", || {
        format!(
            "{} does not hold the founder role ({FOUNDER_ROLE}), which bootstraps teams",
            row.actor
        )
    })?;
    ensure(!state.teams.contains_key(&identity), "duplicate-id", || {
        format!("team {identity} already exists")
    })?;
    state.teams.insert(
        identity,
        Team {
            id: id.to_string(),
            name: name.to_string(),
        },
    );
    Ok(())
}

/// The position a role id stands for: `4_1_Y` captain, `4_2_Y` senior, `4_3_Y` junior,
/// `5_X_Y` mission leader of that objective.
fn position_of(role: &str) -> Option<&'static str> {
    match ids::numbers(role).as_slice() {
        [4, 1, _] => Some("captain"),
        [4, 2, _] => Some("senior"),
        [4, 3, _] => Some("junior"),
        [5, _, _] => Some("mission_leader"),
        _ => None,
    }
}

/// The SK a role needs, and what it is, in words: any role in the leadership team 500;
/// mission leader of an objective while already leading another (leading missions) 200;
/// captain or mission leader 100; the highest that applies. `None` when none does.
fn karma_needed(state: &State, owner: &str, position: &str, role: &str, team: &str) -> Option<(Amount, &'static str)> {
    let sk = &state.policy.sk;
    if team == LEADERSHIP_TEAM {
        return Some((sk.leadership_team.0, "a role in the leadership team"));
    }
    let mut needed = match position {
        "captain" => Some((sk.captain.0, "a captain")),
        "mission_leader" => Some((sk.mission_leader.0, "a mission leader")),
        _ => None,
    };
    let leads_another = state
        .roles
        .iter()
        .any(|(id, r)| id != role && r.position == "mission_leader" && r.holder.as_deref() == Some(owner));
    if position == "mission_leader" && leads_another && sk.lead_missions.0 > needed.map_or(Amount::ZERO, |n| n.0) {
        needed = Some((sk.lead_missions.0, "leading missions (mission leader of a second objective)"));
    }
    needed
}

/// `assign-role` (the role must be vacant) and `set-role` (gives the role to a new holder, or
/// vacates it when the owner is empty).
pub fn assign_role(state: &mut State, row: &Row, c: &Columns, set: bool) -> Result<(), Violation> {
    let role_text = c.required("role")?;
    let kind = if role_text.starts_with("5_") {
        IdKind::Objective
    } else {
        IdKind::Role
    };
    let (role, identity) = c.id("role", kind)?;
    let owner = if set && c.text("owner").is_empty() {
        None
    } else {
        Some(c.handle("owner")?)
    };
    let (_, team) = c.id("team", IdKind::Team)?;
    let position = c.required("position")?;
    c.text("note");
    c.done()?;

    let expected = position_of(&identity).ok_or_else(|| {
        violation(
            "malformed-value",
            format!("column role: {role} is not a role id (4_1_Y, 4_2_Y, 4_3_Y or an objective 5_X_Y)"),
        )
    })?;
    ensure(position == expected, "malformed-value", || {
        format!("column position: role {role} is a {expected} role, not {position}")
    })?;
    let team_known = state.teams.contains_key(&team) || (identity == FOUNDER_ROLE && team == LEADERSHIP_TEAM);
    ensure(team_known, "unknown-id", || format!("team {team} does not exist"))?;
    if expected == "mission_leader" {
        let objective = state
            .objectives
            .get(&identity)
            .ok_or_else(|| violation("unknown-id", format!("objective {identity} does not exist")))?;
        ensure(objective.team == team, "malformed-value", || {
            format!("objective {identity} belongs to team {}, not {team}", objective.team)
        })?;
    }
    let current = state.roles.get(&identity);
    if let Some(existing) = current {
        ensure(existing.team == team, "malformed-value", || {
            format!("role {identity} belongs to team {}, not {team}", existing.team)
        })?;
    }
    let held_by = current.and_then(|r| r.holder.clone());
    if !set {
        ensure(held_by.is_none(), "duplicate-id", || {
            format!(
                "role {identity} is held by {}; use set-role to hand it over",
                held_by.clone().unwrap_or_default()
            )
        })?;
    } else if owner.is_none() {
        ensure(held_by.is_some(), "unknown-id", || format!("role {identity} is vacant already"))?;
    }

    let actor = row.actor.as_str();
    if identity == FOUNDER_ROLE {
        ensure(state.is_founder(actor), "not-permitted", || {
            format!("only the holder of the founder role {FOUNDER_ROLE} may hand it over")
        })?;
    } else if expected == "captain" {
        ensure(state.is_captain_of(actor, LEADERSHIP_TEAM), "not-permitted", || {
            format!("{actor} is not a captain of the leadership team (3_1), who appoint captains")
        })?;
    } else {
        ensure(
            state.is_captain_of(actor, &team) || state.is_captain_of(actor, LEADERSHIP_TEAM),
            "not-permitted",
            || format!("{actor} is not a captain of team {team} (nor of the leadership team) and may not assign its roles"),
        )?;
    }

    let founder_bootstrap = state.policy.bootstrap.active && state.is_founder(actor);
    if let Some(owner) = owner {
        require_owner(state, owner)?;
        ensure(owner != actor || state.policy.bootstrap.active, "self-validation", || {
            format!("{actor} cannot give a role to themselves")
        })?;
        if let (Some((needed, what)), false) = (karma_needed(state, owner, expected, &identity, &team), founder_bootstrap) {
            let sk = state.karma(owner, row.timestamp);
            ensure(sk >= needed, "karma-threshold", || {
                format!("{owner} has {sk} SK; {what} needs at least {needed}")
            })?;
        }
        if matches!(expected, "senior" | "junior") {
            let license = &state.owners[owner].license;
            ensure(state.policy.licenses.get(license).is_some_and(|l| l.earns_sc), "license", || {
                format!("{owner} holds a {license} license; {expected} roles need a Work license")
            })?;
        }
    }
    let decisions = if expected == "captain" && !state.policy.bootstrap.active {
        captain_decisions(state, actor, &identity, owner, held_by.as_deref())?
    } else {
        Vec::new()
    };
    state.roles.insert(
        identity,
        RoleRecord {
            id: role.to_string(),
            holder: owner.map(str::to_string),
            team,
            position: expected.to_string(),
        },
    );
    for seq in decisions {
        apply_decision(state, seq, row);
    }
    Ok(())
}

/// Outside the bootstrap phase a captain is appointed only by a passed captain-election of
/// that role and owner, and removed (other than by resigning) only by a passed recall:
/// the proposals that allow this change.
fn captain_decisions(state: &State, actor: &str, role: &str, new: Option<&str>, old: Option<&str>) -> Result<Vec<u64>, Violation> {
    let decided =
        |kind: Kind, who: &str| passed_decision(state, kind, |p| p.role.as_deref() == Some(role) && p.owner.as_deref() == Some(who));
    let mut seqs = Vec::new();
    if let Some(new) = new {
        let seq = decided(Kind::CaptainElection, new).ok_or_else(|| {
            violation(
                "governance",
                format!("outside the bootstrap phase captains are elected: {new} needs a passed captain-election proposal for role {role}"),
            )
        })?;
        seqs.push(seq);
    }
    if let Some(old) = old.filter(|old| *old != actor) {
        let seq = decided(Kind::CaptainRecall, old).ok_or_else(|| {
            violation(
                "governance",
                format!("outside the bootstrap phase a captain leaves by resigning or by recall: removing {old} from role {role} needs a passed captain-recall proposal"),
            )
        })?;
        seqs.push(seq);
    }
    Ok(seqs)
}
