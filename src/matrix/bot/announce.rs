//! Which rooms an accepted ledger event is announced in, and in which words: a task's events
//! in its team's room and its own room; roles and objectives in their team's room; new owners,
//! policy amendments, money, keys and every decision (proposals, objections, votes, results,
//! released tranches) in the general forum. Pure.

use crate::ledger::ids::{numeric_identity, IdKind};
use crate::matrix::hub::desired::{room_key, RoomKind, FORUM};
use crate::rules::state::State;
use crate::rules::window_end;
use crate::time::HOUR;
use crate::view::events::{Event, EventKind};
use crate::view::proposals::effect;

/// One announcement: the event's seq, the rooms (by key) and the words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Announcement {
    /// The seq of the event's row.
    pub seq: u64,
    /// Room keys, in order.
    pub rooms: Vec<String>,
    /// What is said.
    pub text: String,
}

/// The room key of a team's numeric identity, if the team exists.
fn team_room(state: &State, team: &str) -> Option<String> {
    state.teams.get(team).map(|t| room_key(&t.id, RoomKind::Team))
}

/// The rooms of a task: its team's and its own.
fn task_rooms(state: &State, task: &str) -> Vec<String> {
    let Some(t) = state.tasks.get(task) else {
        return vec![FORUM.to_string()];
    };
    team_room(state, &t.team)
        .into_iter()
        .chain([room_key(task, RoomKind::Task)])
        .collect()
}

/// The announcement of `event`, read against the state at the commit the bot follows (which
/// is at or after the event); `None` for rows that repeat another's news (a session's log row
/// follows its clock row).
pub fn announcement(event: &Event, state: &State) -> Option<Announcement> {
    let mut text = event.words.clone();
    let rooms = match &event.kind {
        EventKind::SessionLogged { .. } => return None,
        EventKind::Assessed { task, .. } => {
            if let Some(pending) = state.tasks.get(task).and_then(|t| t.pending.as_ref()) {
                text.push_str(&format!("; objections are heard until {}", window_end(&state.policy, pending)));
            }
            task_rooms(state, task)
        }
        EventKind::TaskCreated { task, .. }
        | EventKind::TaskAssigned { task, .. }
        | EventKind::TaskStarted { task }
        | EventKind::WorkStarted { task, .. }
        | EventKind::WorkStopped { task, .. }
        | EventKind::Approved { task }
        | EventKind::Objection { task }
        | EventKind::ObjectionResolved { task, .. }
        | EventKind::ScValidated { task, .. } => task_rooms(state, task),
        EventKind::RoleAssigned { role, .. } => {
            let identity = numeric_identity(role, IdKind::Role).or_else(|_| numeric_identity(role, IdKind::Objective));
            let team = identity.ok().and_then(|r| state.roles.get(&r)).map(|r| r.team.clone());
            team.and_then(|t| team_room(state, &t)).into_iter().collect()
        }
        EventKind::Proposed { proposal, .. } => {
            text.push_str(&how_to_take_part(state, *proposal).unwrap_or_default());
            vec![FORUM.to_string()]
        }
        EventKind::ProposalClosed {
            proposal, passed: true, ..
        } => {
            text.push_str(&what_it_does(state, *proposal).unwrap_or_default());
            vec![FORUM.to_string()]
        }
        EventKind::ProposalObjected { .. }
        | EventKind::Voted { .. }
        | EventKind::ProposalClosed { .. }
        | EventKind::TrancheReleased { .. } => {
            vec![FORUM.to_string()]
        }
        EventKind::ObjectiveCreated { objective } => {
            let team = numeric_identity(objective, IdKind::Objective)
                .ok()
                .and_then(|o| state.objectives.get(&o))
                .map(|o| o.team.clone());
            team.and_then(|t| team_room(state, &t)).into_iter().collect()
        }
        _ => vec![FORUM.to_string()],
    };
    let rooms = if rooms.is_empty() { vec![FORUM.to_string()] } else { rooms };
    Some(Announcement {
        seq: event.seq,
        rooms,
        text,
    })
}

/// How owners take part in a new proposal, judged by its first window (a lazy proposal that
/// objections escalate later is announced again by the objection that did).
fn how_to_take_part(state: &State, seq: u64) -> Option<String> {
    let p = state.proposals.get(&seq).or_else(|| state.decided.get(&seq))?;
    let end = p.created_at.plus(p.window_hours * HOUR);
    Some(if p.kind.lazy() {
        format!(
            "; it passes at {end} unless {} owners object (`smartup object {seq} --note WHY`)",
            p.objections_needed
        )
    } else {
        format!("; the vote runs until {end} (`smartup vote {seq} yes|no|abstain`)")
    })
}

/// What a passed proposal does.
fn what_it_does(state: &State, seq: u64) -> Option<String> {
    state.decided.get(&seq).map(|p| format!("; effect: {}", effect(p)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::Book;
    use crate::view::events::since;

    #[test]
    fn task_events_go_to_the_team_and_task_rooms_and_people_to_the_forum() {
        let b = Book::paid_after_one_session();
        let events = since(&mut b.genesis.clone(), b.rows.iter().map(|(r, _)| r.clone()), 0).unwrap();
        let said: Vec<Announcement> = events.iter().filter_map(|e| announcement(e, &b.state)).collect();
        let of = |needle: &str| {
            said.iter()
                .find(|a| a.text.contains(needle))
                .unwrap_or_else(|| panic!("{needle}: {said:?}"))
        };
        assert_eq!(of("created the task 6_2_1_1").rooms, ["3_2_design_team", "6_2_1_1"]);
        assert_eq!(of("joined as an owner").rooms, [FORUM]);
        let assessed = of("pending validation");
        assert!(assessed.text.contains("objections are heard until 20"), "{}", assessed.text);
        assert_eq!(of("alice started work").rooms, ["3_2_design_team", "6_2_1_1"]);
        assert!(
            !said.iter().any(|a| a.text.contains("was logged")),
            "the log row repeats the clock row"
        );
        assert_eq!(said.len(), events.len() - 1);
    }

    #[test]
    fn decisions_are_announced_in_the_forum_with_how_to_take_part() {
        use crate::view::proposals::testing::{close, debating};
        let (mut b, d) = debating();
        b.later(168);
        close(&mut b, "dave", d.amendment);
        let events = since(&mut b.genesis.clone(), b.rows.iter().map(|(r, _)| r.clone()), d.amendment - 1).unwrap();
        let said: Vec<Announcement> = events.iter().filter_map(|e| announcement(e, &b.state)).collect();
        assert_eq!(said.len(), events.len(), "every decision row is news");
        assert!(said.iter().all(|a| a.rooms == [FORUM]), "{said:?}");
        let text = |seq: u64| said.iter().find(|a| a.seq == seq).map(|a| a.text.clone()).unwrap_or_default();
        let proposed = b.state.decided[&d.amendment].created_at;
        assert_eq!(
            text(d.amendment),
            format!(
                "founder proposed #{0} (policy-amendment): End bootstrap; the vote runs until {1} (`smartup vote {0} yes|no|abstain`)",
                d.amendment,
                proposed.plus(168 * HOUR)
            )
        );
        assert!(
            text(d.lazy).ends_with(&format!("unless 3 owners object (`smartup object {} --note WHY`)", d.lazy)),
            "{}",
            text(d.lazy)
        );
        assert_eq!(text(d.amendment + 1), format!("cap voted yes on #{}", d.amendment));
        let closed = text(b.state.last_seq);
        assert!(
            closed.starts_with(&format!("#{} passed: yes 2.000, no 1.000", d.amendment))
                && closed.ends_with(&format!("; effect: allows ledger.toml sha256:{}", "b".repeat(64))),
            "{closed}"
        );
    }
}
