//! Rules for the work itself: objectives, tasks, assignment, start, and work sessions.

use super::columns::Columns;
use super::state::{AwaitedLog, Objective, OpenSession, State, Task, TaskState};
use super::{ensure, violation, Violation};
use crate::ledger::ids::IdKind;
use crate::ledger::row::Row;
use crate::time::{Timestamp, DAY, HOUR};

fn task<'s>(state: &'s State, identity: &str) -> Result<&'s Task, Violation> {
    state
        .tasks
        .get(identity)
        .ok_or_else(|| violation("unknown-id", format!("task {identity} does not exist")))
}

fn in_state(task: &Task, expected: &[TaskState], doing: &str) -> Result<(), Violation> {
    ensure(expected.contains(&task.state), "task-state", || {
        let words: Vec<&str> = expected.iter().map(|s| s.word()).collect();
        format!("task {} is {}; {doing} needs it {}", task.id, task.state.word(), words.join(" or "))
    })
}

/// `create-objective`: a captain opens an objective in their team.
pub fn create_objective(state: &mut State, row: &Row, c: &Columns) -> Result<(), Violation> {
    let (id, identity) = c.id("objective", IdKind::Objective)?;
    let (_, team) = c.id("team", IdKind::Team)?;
    let title = c.required("title")?;
    c.text("note");
    c.done()?;
    ensure(state.teams.contains_key(&team), "unknown-id", || {
        format!("team {team} does not exist")
    })?;
    ensure(state.is_captain_of(&row.actor, &team), "not-permitted", || {
        format!("{} is not a captain of team {team}", row.actor)
    })?;
    ensure(!state.objectives.contains_key(&identity), "duplicate-id", || {
        format!("objective {identity} already exists")
    })?;
    state.objectives.insert(
        identity,
        Objective {
            id: id.to_string(),
            team,
            title: title.to_string(),
        },
    );
    Ok(())
}

/// `create-task`: a captain creates a task with a budget of size times phase multiplier.
pub fn create_task(state: &mut State, row: &Row, c: &Columns) -> Result<(), Violation> {
    let (id, identity) = c.id("task", IdKind::Task)?;
    let (_, objective) = c.id("objective", IdKind::Objective)?;
    let (_, team) = c.id("team", IdKind::Team)?;
    let title = c.required("title")?;
    let size = c.required("size")?;
    let phase = c.required("phase")?;
    let budget = c.amount("budget")?;
    c.done()?;
    let owner_team = &state
        .objectives
        .get(&objective)
        .ok_or_else(|| violation("unknown-id", format!("objective {objective} does not exist")))?
        .team;
    ensure(*owner_team == team, "malformed-value", || {
        format!("objective {objective} belongs to team {owner_team}, not {team}")
    })?;
    ensure(state.is_captain_of(&row.actor, &team), "not-permitted", || {
        format!("{} is not a captain of team {team}, who create its tasks", row.actor)
    })?;
    ensure(!state.tasks.contains_key(&identity), "duplicate-id", || {
        format!("task {identity} already exists")
    })?;
    let base = state
        .policy
        .size_budget(size)
        .ok_or_else(|| violation("budget", format!("{size:?} is not a task size or special budget of the policy")))?;
    let multiplier = state
        .policy
        .phases
        .get(phase)
        .ok_or_else(|| violation("budget", format!("{phase:?} is not a phase of the policy")))?
        .0;
    let expected = base.times(multiplier);
    ensure(budget == expected, "budget", || {
        format!("a {size} task in the {phase} phase has a budget of {base} x {multiplier} = {expected} SC, not {budget}")
    })?;
    state.tasks.insert(identity, Task::new(id, objective, team, title, size, budget));
    Ok(())
}

/// `assign-task`: the mission leader (or a captain of the team) names Attacker and Defender.
pub fn assign_task(state: &mut State, row: &Row, c: &Columns) -> Result<(), Violation> {
    let (_, identity) = c.id("task", IdKind::Task)?;
    let attacker = c.handle("attacker")?;
    let defender = c.handle("defender")?;
    c.done()?;
    let t = task(state, &identity)?;
    in_state(t, &[TaskState::Created, TaskState::Assigned], "assign-task")?;
    ensure(
        state.is_mission_leader_of(&row.actor, &t.objective) || state.is_captain_of(&row.actor, &t.team),
        "not-permitted",
        || {
            format!(
                "{} is neither the mission leader of objective {} nor a captain of team {}",
                row.actor, t.objective, t.team
            )
        },
    )?;
    ensure(attacker != defender, "not-permitted", || {
        format!("{attacker} cannot be both Attacker and Defender")
    })?;
    for (who, position) in [(attacker, "senior"), (defender, "junior")] {
        let owner = state
            .owners
            .get(who)
            .ok_or_else(|| violation("unknown-owner", format!("{who} is not in the Book of Owners")))?;
        ensure(
            state.policy.licenses.get(&owner.license).is_some_and(|l| l.earns_sc),
            "license",
            || format!("{who} holds a {} license, which cannot claim work or earn SC", owner.license),
        )?;
        ensure(state.holds_position_in(who, position, &t.team), "not-permitted", || {
            format!("{who} holds no {position} role in team {}", t.team)
        })?;
    }
    if let Some(t) = state.tasks.get_mut(&identity) {
        t.attacker = Some(attacker.to_string());
        t.defender = Some(defender.to_string());
        t.state = TaskState::Assigned;
    }
    Ok(())
}

/// `start-task`: the Attacker claims the assigned task.
pub fn start_task(state: &mut State, row: &Row, c: &Columns) -> Result<(), Violation> {
    let (_, identity) = c.id("task", IdKind::Task)?;
    let attacker = c.handle("attacker")?;
    let defender = c.handle("defender")?;
    c.done()?;
    let t = task(state, &identity)?;
    in_state(t, &[TaskState::Assigned], "start-task")?;
    ensure(
        t.attacker.as_deref() == Some(attacker) && t.defender.as_deref() == Some(defender),
        "malformed-value",
        || {
            format!(
                "task {} is assigned to {} and {}",
                t.id,
                t.attacker.clone().unwrap_or_default(),
                t.defender.clone().unwrap_or_default()
            )
        },
    )?;
    ensure(row.actor == attacker, "not-permitted", || {
        format!("only the Attacker ({attacker}) starts task {}", t.id)
    })?;
    if let Some(t) = state.tasks.get_mut(&identity) {
        t.state = TaskState::Started;
    }
    Ok(())
}

/// When a clock row says the work happened (`happened_at`): never after the row was recorded,
/// nor longer before it than the retroactive limit.
fn happened_at(state: &State, row: &Row, c: &Columns) -> Result<Timestamp, Violation> {
    let at = c.timestamp("happened_at")?;
    ensure(at <= row.timestamp, "retroactive", || {
        format!("happened_at {at} is after the row was recorded ({})", row.timestamp)
    })?;
    let limit = state.policy.sc.retroactive_days;
    ensure(row.timestamp.0 - at.0 <= limit * DAY, "retroactive", || {
        format!(
            "happened_at {at} is more than {limit} days before the row was recorded ({})",
            row.timestamp
        )
    })?;
    Ok(at)
}

/// `start-work` (clock in): the Attacker or Defender of a started task opens a session.
pub fn start_work(state: &mut State, row: &Row, c: &Columns) -> Result<(), Violation> {
    let session = c.integer("session")?;
    let (_, identity) = c.id("task", IdKind::Task)?;
    let owner = c.handle("owner")?;
    let started = happened_at(state, row, c)?;
    c.done()?;
    ensure(session == row.seq, "session", || {
        format!("a session is named by the seq of its start-work row ({}), not {session}", row.seq)
    })?;
    ensure(owner == row.actor, "session", || {
        format!("{} cannot clock in for {owner}", row.actor)
    })?;
    let t = task(state, &identity)?;
    in_state(t, &[TaskState::Started], "start-work")?;
    ensure(
        t.attacker.as_deref() == Some(owner) || t.defender.as_deref() == Some(owner),
        "session",
        || format!("{owner} is neither Attacker nor Defender of task {}", t.id),
    )?;
    if let Some(open) = state.sessions.get(owner) {
        return Err(violation(
            "session",
            format!(
                "{owner} already has session {} open on task {}; clock out first",
                open.session, open.task
            ),
        ));
    }
    state.sessions.insert(
        owner.to_string(),
        OpenSession {
            session,
            task: identity.clone(),
            started,
        },
    );
    if let Some(t) = state.tasks.get_mut(&identity) {
        t.open_sessions += 1;
    }
    Ok(())
}

/// `stop-work` (clock out): the session's owner closes it; its session log row must follow.
pub fn stop_work(state: &mut State, row: &Row, c: &Columns) -> Result<(), Violation> {
    let session = c.integer("session")?;
    let (task_id, identity) = c.id("task", IdKind::Task)?;
    let owner = c.handle("owner")?;
    let stopped = happened_at(state, row, c)?;
    c.done()?;
    ensure(owner == row.actor, "session", || {
        format!("only its owner closes a session; {} cannot clock out {owner}", row.actor)
    })?;
    let open = state
        .sessions
        .get(owner)
        .ok_or_else(|| violation("session", format!("{owner} has no open session")))?;
    ensure(open.session == session && open.task == identity, "session", || {
        format!(
            "{owner}'s open session is {} on task {}, not {session} on {identity}",
            open.session, open.task
        )
    })?;
    let started = open.started;
    ensure(stopped >= started, "session", || {
        format!("session {session} was clocked in at {started}; it cannot end before, at {stopped}")
    })?;
    let shift = state.policy.work.max_shift_hours;
    ensure(stopped.0 - started.0 <= shift * HOUR, "shift", || {
        format!(
            "session {session} ran from {started} to {stopped}, longer than a {shift}-hour shift ([work] max_shift_hours): clock out at most {shift} hours after clocking in, and clock in again for more"
        )
    })?;
    state.sessions.remove(owner);
    state.awaited_log = Some(AwaitedLog {
        after_seq: row.seq,
        session,
        task: task_id.to_string(),
        owner: owner.to_string(),
        started,
        stopped,
    });
    if let Some(t) = state.tasks.get_mut(&identity) {
        t.open_sessions = t.open_sessions.saturating_sub(1);
    }
    Ok(())
}

/// The `session_logs` row of a `stop-work`: must repeat the session exactly.
pub fn log_session(state: &mut State, row: &Row, c: &Columns) -> Result<(), Violation> {
    let session = c.integer("session")?;
    let (task_id, identity) = c.id("task", IdKind::Task)?;
    let owner = c.handle("owner")?;
    let started = c.timestamp("started")?;
    let stopped = c.timestamp("stopped")?;
    let seconds = c.integer("seconds")?;
    c.done()?;
    let awaited = state
        .awaited_log
        .as_ref()
        .ok_or_else(|| violation("session", "a session log row must directly follow its stop-work row"))?;
    let matches = awaited.session == session
        && awaited.task == task_id
        && awaited.owner == owner
        && awaited.started == started
        && awaited.stopped == stopped;
    ensure(matches, "session", || {
        format!(
            "the session log must say session {} on {} by {} from {} to {}",
            awaited.session, awaited.task, awaited.owner, awaited.started, awaited.stopped
        )
    })?;
    let duration = stopped.0 - started.0;
    ensure(seconds as i64 == duration, "session", || {
        format!("the session lasted {duration} seconds by its clock rows, not {seconds}")
    })?;
    ensure(row.actor == owner, "session", || {
        format!("{owner}'s session log is signed by {owner}, not {}", row.actor)
    })?;
    state.awaited_log = None;
    if let Some(t) = state.tasks.get_mut(&identity) {
        t.closed_sessions += 1;
        t.worked_seconds += duration;
        t.last_session_end = Some(stopped);
    }
    Ok(())
}
