//! Rules for value: assessment, the lazy-consensus window, validation of pending SC, the EUR
//! treasury and the 3x rule, SC payouts and SK awards with their daily caps.

use super::columns::Columns;
use super::governance::{apply_decision, passed_decision, Kind};
use super::state::{decayed, Deposit, Owner, Pending, State, Task, TaskState, LEADERSHIP_TEAM};
use super::{ensure, violation, Violation};
use crate::ledger::ids::IdKind;
use crate::ledger::policy::Policy;
use crate::ledger::row::Row;
use crate::money::Amount;
use crate::time::{format_date, Timestamp, DAY, HOUR};

fn assessed_task<'s>(state: &'s State, identity: &str, doing: &str) -> Result<(&'s Task, &'s Pending), Violation> {
    let task = state
        .tasks
        .get(identity)
        .ok_or_else(|| violation("unknown-id", format!("task {identity} does not exist")))?;
    match &task.pending {
        Some(p) if task.state == TaskState::Assessed => Ok((task, p)),
        _ => Err(violation(
            "task-state",
            format!(
                "task {} is {}; {doing} needs pending SC from an assessment",
                task.id,
                task.state.word()
            ),
        )),
    }
}

fn is_recipient(task: &Task, who: &str) -> bool {
    task.attacker.as_deref() == Some(who) || task.defender.as_deref() == Some(who)
}

/// The end of the lazy-consensus window of pending SC: the one definition, which the rules
/// and every view of the ledger use.
pub fn window_end(policy: &Policy, pending: &Pending) -> Timestamp {
    pending.assessed_at.plus(policy.sc.lazy_consensus_hours * HOUR)
}

/// `assess-work`: the mission leader scores a started task whose sessions are all closed;
/// the share must lie in the band of the total and the pending SC follow budget x share,
/// split between Attacker and Defender as the policy says.
pub fn assess_work(state: &mut State, row: &Row, c: &Columns) -> Result<(), Violation> {
    let (_, identity) = c.id("task", IdKind::Task)?;
    let scores = [
        c.score("attacker_score")?,
        c.score("defender_score")?,
        c.score("collaboration_score")?,
    ];
    let share = c.amount("share")?;
    let attacker_sc = c.amount("attacker_sc")?;
    let defender_sc = c.amount("defender_sc")?;
    c.text("note");
    c.done()?;
    let task = state
        .tasks
        .get(&identity)
        .ok_or_else(|| violation("unknown-id", format!("task {identity} does not exist")))?;
    ensure(task.state == TaskState::Started, "task-state", || {
        format!("task {} is {}; only a started task is assessed", task.id, task.state.word())
    })?;
    ensure(state.is_mission_leader_of(&row.actor, &task.objective), "not-permitted", || {
        format!(
            "{} is not the mission leader of objective {}, who assesses its tasks",
            row.actor, task.objective
        )
    })?;
    ensure(
        !is_recipient(task, &row.actor) || (state.policy.bootstrap.active && state.is_captain_of(&row.actor, &task.team)),
        "self-validation",
        || {
            format!(
                "{} cannot assess a task they are paid for (in the bootstrap phase only a captain of team {} who is also the mission leader may)",
                row.actor, task.team
            )
        },
    )?;
    if let Some(open) = state.sessions.get(&row.actor) {
        let shift = state.policy.work.max_shift_hours;
        ensure(row.timestamp.0 - open.started.0 <= shift * HOUR, "shift", || {
            format!(
                "{} has been clocked in since {} (session {}), longer than a {shift}-hour shift ([work] max_shift_hours): clock out before assessing",
                row.actor, open.started, open.session
            )
        })?;
    }
    ensure(task.open_sessions == 0, "session", || {
        format!("task {} still has an open session; it is assessed once all are closed", task.id)
    })?;
    ensure(task.closed_sessions > 0, "session", || {
        format!("task {} has no closed work session to assess", task.id)
    })?;
    if let Some(end) = task.last_session_end {
        let limit = state.policy.sc.retroactive_days;
        ensure(row.timestamp.0 - end.0 <= limit * DAY, "retroactive", || {
            format!("the last session of task {} ended {end}, more than {limit} days ago", task.id)
        })?;
    }
    let total: u32 = scores.iter().sum();
    let band = state
        .policy
        .band(total)
        .ok_or_else(|| violation("assessment", format!("no assessment band covers a total of {total}")))?;
    ensure(share >= band.min_percent.0 && share <= band.max_percent.0, "assessment", || {
        format!(
            "a total score of {total} allows a share from {}% to {}%, not {share}%",
            band.min_percent.0, band.max_percent.0
        )
    })?;
    let pending = task.budget.percent(share);
    let expected_attacker = pending.percent(state.policy.adm.attacker_percent.0);
    let expected_defender = pending.minus(expected_attacker);
    ensure(
        attacker_sc == expected_attacker && defender_sc == expected_defender,
        "budget",
        || {
            format!(
            "{}% of the {} SC budget is {pending} SC: {expected_attacker} to the Attacker and {expected_defender} to the Defender, not {attacker_sc} and {defender_sc}",
            share, task.budget
        )
        },
    )?;
    let record = Pending {
        assessed_at: row.timestamp,
        assessor: row.actor.clone(),
        share,
        total: pending,
        attacker_left: attacker_sc,
        defender_left: defender_sc,
        approvals: Vec::new(),
        captain_approved: false,
        objectors: Vec::new(),
        assessed_seq: row.seq,
    };
    state.pending = state.pending.plus(pending);
    if let Some(t) = state.tasks.get_mut(&identity) {
        t.state = TaskState::Assessed;
        t.pending = Some(record);
    }
    Ok(())
}

/// `approve-pending-sc`: an owner who is not paid by the task approves its pending SC (a
/// captain's approval is what a share below the threshold needs; distinct approvals make
/// the community review of large awards).
pub fn approve(state: &mut State, row: &Row, c: &Columns) -> Result<(), Violation> {
    let (_, identity) = c.id("task", IdKind::Task)?;
    c.text("note");
    c.done()?;
    let (task, pending) = assessed_task(state, &identity, "approve-pending-sc")?;
    ensure(!is_recipient(task, &row.actor), "self-validation", || {
        format!("{} cannot approve their own reward", row.actor)
    })?;
    ensure(!pending.approvals.contains(&row.actor), "lazy-consensus", || {
        format!("{} has already approved task {}", row.actor, task.id)
    })?;
    let captain = state.is_captain_of(&row.actor, &task.team);
    if let Some(p) = state.tasks.get_mut(&identity).and_then(|t| t.pending.as_mut()) {
        p.approvals.push(row.actor.clone());
        p.captain_approved |= captain;
    }
    Ok(())
}

/// `object-pending-sc`: any owner objects within the lazy-consensus window, with a reason.
pub fn object(state: &mut State, row: &Row, c: &Columns) -> Result<(), Violation> {
    let (_, identity) = c.id("task", IdKind::Task)?;
    c.required("note")?;
    c.done()?;
    let (task, pending) = assessed_task(state, &identity, "object-pending-sc")?;
    let end = window_end(&state.policy, pending);
    ensure(row.timestamp < end, "lazy-consensus", || {
        format!("the objection window of task {} closed at {end}", task.id)
    })?;
    ensure(!pending.objectors.contains(&row.actor), "lazy-consensus", || {
        format!("{} already has an open objection on task {}", row.actor, task.id)
    })?;
    if let Some(p) = state.tasks.get_mut(&identity).and_then(|t| t.pending.as_mut()) {
        p.objectors.push(row.actor.clone());
    }
    Ok(())
}

/// `resolve-objection`: a captain of the team, neither paid by the task nor an objector,
/// rules on the open objections: `dismissed` lets validation go on, `sustained` voids the
/// assessment (the task is started again and can be re-assessed).
pub fn resolve_objection(state: &mut State, row: &Row, c: &Columns) -> Result<(), Violation> {
    let (_, identity) = c.id("task", IdKind::Task)?;
    let decision = c.required("decision")?;
    c.text("note");
    c.done()?;
    ensure(matches!(decision, "sustained" | "dismissed"), "malformed-value", || {
        format!("column decision: {decision:?} is neither sustained nor dismissed")
    })?;
    let (task, pending) = assessed_task(state, &identity, "resolve-objection")?;
    ensure(!pending.objectors.is_empty(), "lazy-consensus", || {
        format!("task {} has no open objection", task.id)
    })?;
    ensure(state.is_captain_of(&row.actor, &task.team), "not-permitted", || {
        format!("{} is not a captain of team {}", row.actor, task.team)
    })?;
    ensure(!is_recipient(task, &row.actor), "self-validation", || {
        format!("{} is paid by task {} and cannot rule on it", row.actor, task.id)
    })?;
    ensure(!pending.objectors.contains(&row.actor), "not-permitted", || {
        format!("{} objected and cannot rule on their own objection", row.actor)
    })?;
    let left = pending.attacker_left.plus(pending.defender_left);
    if decision == "sustained" {
        state.pending = state.pending.minus(left);
    }
    if let Some(t) = state.tasks.get_mut(&identity) {
        if decision == "sustained" {
            t.pending = None;
            t.state = TaskState::Started;
        } else if let Some(p) = t.pending.as_mut() {
            p.objectors.clear();
        }
    }
    Ok(())
}

/// Resets an owner's daily counters when the day has changed.
pub(super) fn roll_day(owner: &mut Owner, day: i64) {
    if owner.day != day {
        owner.day = day;
        owner.sc_today = Amount::ZERO;
        owner.sk_today = Amount::ZERO;
    }
}

pub(super) fn today(owner: &Owner, day: i64) -> (Amount, Amount) {
    if owner.day == day {
        (owner.sc_today, owner.sk_today)
    } else {
        (Amount::ZERO, Amount::ZERO)
    }
}

/// `validate-pending-sc`: after the window, with no open objection and the approvals the
/// amount needs, a captain of the team who is not paid by the task awards (part of) the
/// pending SC, within the daily caps and the treasury rule.
pub fn validate(state: &mut State, row: &Row, c: &Columns) -> Result<(), Violation> {
    let (_, identity) = c.id("task", IdKind::Task)?;
    let attacker_sc = c.amount("attacker_sc")?;
    let defender_sc = c.amount("defender_sc")?;
    c.text("note");
    c.done()?;
    let policy = &state.policy;
    let task = state
        .tasks
        .get(&identity)
        .ok_or_else(|| violation("unknown-id", format!("task {identity} does not exist")))?;
    ensure(task.state != TaskState::Paid, "lazy-consensus", || {
        format!("the pending SC of task {} are validated already", task.id)
    })?;
    let (task, pending) = assessed_task(state, &identity, "validate-pending-sc")?;
    ensure(state.is_captain_of(&row.actor, &task.team), "not-permitted", || {
        format!("{} is not a captain of team {}, who validate its SC", row.actor, task.team)
    })?;
    ensure(!is_recipient(task, &row.actor), "self-validation", || {
        format!("{} cannot validate their own reward", row.actor)
    })?;
    let end = window_end(&state.policy, pending);
    ensure(row.timestamp >= end, "lazy-consensus", || {
        format!("the lazy-consensus window of task {} runs until {end}", task.id)
    })?;
    ensure(pending.objectors.is_empty(), "lazy-consensus", || {
        format!("task {} has open objections by {}", task.id, pending.objectors.join(", "))
    })?;
    let threshold = policy.assessment.approval_needed_below_percent.0;
    ensure(pending.share >= threshold || pending.captain_approved, "lazy-consensus", || {
        format!(
            "a share of {}% is below {threshold}% and needs a captain's approve-pending-sc first",
            pending.share
        )
    })?;
    let review = policy.sc.community_review_above.0;
    let needed = policy.sc.community_review_approvals as usize;
    let mut decision = None;
    if pending.total > review && !policy.bootstrap.active {
        decision = passed_decision(state, Kind::AwardReview, |p| {
            p.task.as_deref() == Some(identity.as_str()) && p.seq > pending.assessed_seq
        });
        ensure(decision.is_some(), "governance", || {
            format!(
                "{} SC is above {review} SC and needs community review: a passed award-review proposal of task {} made after its assessment",
                pending.total, task.id
            )
        })?;
    } else {
        ensure(
            pending.total <= review || pending.approvals.len() >= needed,
            "lazy-consensus",
            || {
                format!(
                    "{} SC is above {review} SC and needs community review: {needed} approvals, {} so far",
                    pending.total,
                    pending.approvals.len()
                )
            },
        )?;
    }
    ensure(attacker_sc.plus(defender_sc).is_positive(), "lazy-consensus", || {
        "a validation awards more than zero SC".into()
    })?;
    ensure(
        attacker_sc <= pending.attacker_left && defender_sc <= pending.defender_left,
        "lazy-consensus",
        || {
            format!(
                "only {} SC (Attacker) and {} SC (Defender) of task {} are still pending",
                pending.attacker_left, pending.defender_left, task.id
            )
        },
    )?;
    let day = row.timestamp.day();
    for (who, amount) in [(task.attacker.as_deref(), attacker_sc), (task.defender.as_deref(), defender_sc)] {
        let (Some(who), true) = (who, amount.is_positive()) else { continue };
        let owner = state
            .owners
            .get(who)
            .ok_or_else(|| violation("unknown-owner", format!("{who} is not in the Book of Owners")))?;
        let license = policy
            .licenses
            .get(&owner.license)
            .ok_or_else(|| violation("license", format!("{who}'s license {} is unknown", owner.license)))?;
        ensure(license.earns_sc, "license", || {
            format!("{who} holds a {} license, which cannot earn SC", owner.license)
        })?;
        let (sc_today, _) = today(owner, day);
        ensure(sc_today.plus(amount) <= license.sc_per_day.0, "daily-cap", || {
            format!(
                "{who} has received {sc_today} SC on {}; {amount} more would pass the daily cap of {} SC",
                format_date(day),
                license.sc_per_day.0
            )
        })?;
    }
    let award = attacker_sc.plus(defender_sc);
    check_treasury(state, state.outstanding.plus(award), state.treasury)?;

    let (attacker, defender) = (task.attacker.clone(), task.defender.clone());
    for (who, amount) in [(attacker, attacker_sc), (defender, defender_sc)] {
        if let Some(owner) = who.and_then(|w| state.owners.get_mut(&w)) {
            roll_day(owner, day);
            owner.sc = owner.sc.plus(amount);
            owner.sc_today = owner.sc_today.plus(amount);
        }
    }
    state.outstanding = state.outstanding.plus(award);
    state.pending = state.pending.minus(award);
    if let Some(seq) = decision {
        apply_decision(state, seq, row);
    }
    if let Some(t) = state.tasks.get_mut(&identity) {
        if let Some(p) = t.pending.as_mut() {
            p.attacker_left = p.attacker_left.minus(attacker_sc);
            p.defender_left = p.defender_left.minus(defender_sc);
            if p.attacker_left == Amount::ZERO && p.defender_left == Amount::ZERO {
                t.state = TaskState::Paid;
            }
        }
    }
    Ok(())
}

pub(super) fn check_treasury(state: &State, outstanding: Amount, treasury: Amount) -> Result<(), Violation> {
    let multiple = state.policy.sc.treasury_multiple.0;
    let limit = treasury.times(multiple);
    ensure(outstanding <= limit, "treasury", || {
        format!("outstanding SC would be {outstanding}, above {multiple} x the EUR treasury of {treasury} = {limit} (the 3x rule)")
    })
}

fn require_leadership(state: &State, row: &Row) -> Result<(), Violation> {
    ensure(state.is_captain_of(&row.actor, LEADERSHIP_TEAM), "not-permitted", || {
        format!("{} is not a captain of the leadership team (3_1), who keep the treasury", row.actor)
    })
}

fn currency(c: &Columns, expected: &str) -> Result<(), Violation> {
    let found = c.required("currency")?;
    ensure(found == expected, "malformed-value", || {
        format!("column currency: {} is in {expected}, not {found}", c.text("currency"))
    })
}

/// `deposit-eur`: a leadership captain records EUR received by the treasury (the deposit may
/// later pay for one license). `gross`, when given, is what the payer paid before fees; an
/// outside `reference` (an Open Collective transaction) is recorded once.
pub fn deposit_eur(state: &mut State, row: &Row, c: &Columns) -> Result<(), Violation> {
    let payer = c.text("owner");
    currency(c, "EUR")?;
    let amount = c.amount("amount")?;
    let paid = if c.text("gross").is_empty() { amount } else { c.amount("gross")? };
    c.required("reason")?;
    let reference = c.text("reference");
    c.text("note");
    c.done()?;
    ensure(amount.is_positive(), "malformed-value", || {
        "column amount: a deposit is above zero".into()
    })?;
    ensure(paid >= amount, "malformed-value", || {
        format!("column gross: {paid} EUR paid cannot be less than the {amount} EUR that reached the treasury")
    })?;
    if !payer.is_empty() {
        ensure(state.owners.contains_key(payer), "unknown-owner", || {
            format!("{payer} is not in the Book of Owners")
        })?;
    }
    require_leadership(state, row)?;
    unrecorded(state, reference)?;
    state.treasury = state.treasury.plus(amount);
    state.deposits.insert(
        row.seq,
        Deposit {
            amount,
            paid,
            paid_for: None,
            refunded: None,
        },
    );
    record_reference(state, reference, row);
    Ok(())
}

/// `refund-eur`: a leadership captain records that a deposit was given back (a compensating
/// row: the deposit itself never changes). An invitation the deposit paid for and no one has
/// claimed yet is withdrawn; a license already granted stays until someone changes it.
pub fn refund_eur(state: &mut State, row: &Row, c: &Columns) -> Result<(), Violation> {
    currency(c, "EUR")?;
    let amount = c.amount("amount")?;
    c.required("reason")?;
    let reference = c.text("reference");
    let refunds = c.integer("refunds")?;
    c.text("note");
    c.done()?;
    ensure(amount.is_positive(), "malformed-value", || {
        "column amount: a refund is above zero".into()
    })?;
    require_leadership(state, row)?;
    unrecorded(state, reference)?;
    let deposit = state
        .deposits
        .get(&refunds)
        .ok_or_else(|| violation("unknown-id", format!("seq {refunds} is not a deposit-eur row")))?;
    if let Some(by) = deposit.refunded {
        return Err(violation(
            "duplicate-id",
            format!("the deposit at seq {refunds} was refunded already, at seq {by}"),
        ));
    }
    ensure(amount <= state.treasury, "treasury", || {
        format!("the treasury holds {} EUR, less than the {amount} EUR refund", state.treasury)
    })?;
    let paid_for = deposit.paid_for;
    state.treasury = state.treasury.minus(amount);
    if let Some(d) = state.deposits.get_mut(&refunds) {
        d.refunded = Some(row.seq);
    }
    if let Some(invitation) = paid_for.and_then(|seq| state.invitations.get_mut(&seq)) {
        if invitation.joined.is_none() {
            invitation.withdrawn = Some(row.seq);
        }
    }
    record_reference(state, reference, row);
    Ok(())
}

/// Refuses an outside reference that a row recorded already (an import run twice).
fn unrecorded(state: &State, reference: &str) -> Result<(), Violation> {
    match state.references.get(reference) {
        Some(seq) if !reference.is_empty() => Err(violation(
            "duplicate-id",
            format!("reference {reference} was recorded already, at seq {seq}; a payment is recorded once"),
        )),
        _ => Ok(()),
    }
}

fn record_reference(state: &mut State, reference: &str, row: &Row) {
    if !reference.is_empty() {
        state.references.insert(reference.to_string(), row.seq);
    }
}

/// `payout-sc`: a leadership captain pays an owner's SC out in EUR (1 SC = 1 EUR), leaving at
/// least the policy's reserve in the treasury.
pub fn payout_sc(state: &mut State, row: &Row, c: &Columns) -> Result<(), Violation> {
    let owner = c.handle("owner")?;
    currency(c, "SC")?;
    let amount = c.amount("amount")?;
    c.text("reason");
    c.text("note");
    c.done()?;
    ensure(amount.is_positive(), "malformed-value", || {
        "column amount: a payout is above zero".into()
    })?;
    require_leadership(state, row)?;
    ensure(row.actor != owner, "self-validation", || {
        format!("{owner} cannot pay themselves out")
    })?;
    let held = state
        .owners
        .get(owner)
        .ok_or_else(|| violation("unknown-owner", format!("{owner} is not in the Book of Owners")))?
        .sc;
    ensure(amount <= held, "treasury", || {
        format!("{owner} holds {held} SC, less than {amount}")
    })?;
    ensure(amount <= state.treasury, "treasury", || {
        format!("the treasury holds {} EUR, less than {amount}", state.treasury)
    })?;
    let reserve = state.policy.sc.treasury_reserve.0;
    let left = state.treasury.minus(amount);
    ensure(left >= reserve, "treasury-reserve", || {
        format!("paying {amount} out would leave {left} EUR in the treasury, less than the reserve of {reserve} EUR")
    })?;
    check_treasury(state, state.outstanding.minus(amount), left)?;
    if let Some(o) = state.owners.get_mut(owner) {
        o.sc = o.sc.minus(amount);
    }
    state.outstanding = state.outstanding.minus(amount);
    state.treasury = state.treasury.minus(amount);
    Ok(())
}

/// `award-sk`: a captain awards Social Karma for a reason the policy lists, at its amount,
/// for recent work, within the owner's daily SK cap; never to themselves.
pub fn award_sk(state: &mut State, row: &Row, c: &Columns) -> Result<(), Violation> {
    let owner = c.handle("owner")?;
    currency(c, "SK")?;
    let amount = c.amount("amount")?;
    let reason = c.required("reason")?;
    let earned_on = c.date("earned_on")?;
    c.text("note");
    c.done()?;
    let policy = &state.policy;
    let expected = policy.sk.awards.get(reason).ok_or_else(|| {
        let known: Vec<&str> = policy.sk.awards.keys().map(String::as_str).collect();
        violation(
            "malformed-value",
            format!("column reason: {reason:?} is not an SK reason of the policy ({})", known.join(", ")),
        )
    })?;
    ensure(amount == expected.0, "malformed-value", || {
        format!("{reason} earns {} SK, not {amount}", expected.0)
    })?;
    ensure(state.is_captain(&row.actor), "not-permitted", || {
        format!("{} is not a captain, who award SK", row.actor)
    })?;
    ensure(row.actor != owner, "self-validation", || {
        format!("{owner} cannot award SK to themselves")
    })?;
    let day = row.timestamp.day();
    ensure(earned_on <= day, "retroactive", || {
        format!("{} is in the future", format_date(earned_on))
    })?;
    ensure(day - earned_on <= policy.sc.retroactive_days, "retroactive", || {
        format!(
            "work of {} is more than {} days old and cannot be claimed now",
            format_date(earned_on),
            policy.sc.retroactive_days
        )
    })?;
    let o = state
        .owners
        .get(owner)
        .ok_or_else(|| violation("unknown-owner", format!("{owner} is not in the Book of Owners")))?;
    ensure(policy.may_earn_sk_for(&o.license, reason), "license", || {
        let reasons = policy.sk.license_reasons.get(&o.license).map(|r| r.join(", ")).unwrap_or_default();
        format!(
            "{owner} holds a {} license, which earns SK only for {reasons}, not for {reason}",
            o.license
        )
    })?;
    let cap = policy.licenses.get(&o.license).map_or(Amount::ZERO, |l| l.sk_per_day.0);
    let (_, sk_today) = today(o, day);
    ensure(sk_today.plus(amount) <= cap, "daily-cap", || {
        format!(
            "{owner} has earned {sk_today} SK on {}; {amount} more would pass the {} license's cap of {cap}",
            format_date(day),
            o.license
        )
    })?;
    let current = decayed(policy, o.sk, o.sk_since, row.timestamp);
    super::governance::set_karma(state, owner, current.plus(amount), row.timestamp);
    if let Some(o) = state.owners.get_mut(owner) {
        roll_day(o, day);
        o.sk_today = o.sk_today.plus(amount);
    }
    Ok(())
}
