//! A task's status, the one word list every front end shows (`status`, the Forgejo labels),
//! and the task board: tasks with their status, people, budget and window, open sessions and
//! pending SC, beside the open proposals and the SC pending in tranches.

use super::proposals::{open_proposals, ProposalView};
use super::shown;
use crate::ledger::policy::Policy;
use crate::money::Amount;
use crate::rules::state::{Pending, State, Task, TaskState};
use crate::rules::window_end;
use crate::time::{Timestamp, HOUR};
use serde::Serialize;

/// A task's status: the ledger's state, with an assessed task split by its lazy-consensus
/// window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum TaskStatus {
    /// Created, nobody assigned.
    #[serde(rename = "open")]
    Open,
    /// Attacker and Defender assigned.
    #[serde(rename = "assigned")]
    Assigned,
    /// Started by its Attacker.
    #[serde(rename = "in progress")]
    InProgress,
    /// Assessed, lazy-consensus window open.
    #[serde(rename = "assessed")]
    Assessed,
    /// Window closed, waiting for a captain's validation.
    #[serde(rename = "pending validation")]
    PendingValidation,
    /// All SC validated.
    #[serde(rename = "paid")]
    Paid,
}

impl TaskStatus {
    /// Every status, in the order of a task's life.
    pub const ALL: [TaskStatus; 6] = [
        TaskStatus::Open,
        TaskStatus::Assigned,
        TaskStatus::InProgress,
        TaskStatus::Assessed,
        TaskStatus::PendingValidation,
        TaskStatus::Paid,
    ];

    /// The word shown to people (and in `--json`, and in Forgejo's `status/...` labels).
    pub fn word(self) -> &'static str {
        match self {
            TaskStatus::Open => "open",
            TaskStatus::Assigned => "assigned",
            TaskStatus::InProgress => "in progress",
            TaskStatus::Assessed => "assessed",
            TaskStatus::PendingValidation => "pending validation",
            TaskStatus::Paid => "paid",
        }
    }
}

/// The status of a task at `now`.
pub fn task_status(task: &Task, policy: &Policy, now: Timestamp) -> TaskStatus {
    match task.state {
        TaskState::Created => TaskStatus::Open,
        TaskState::Assigned => TaskStatus::Assigned,
        TaskState::Started => TaskStatus::InProgress,
        TaskState::Paid => TaskStatus::Paid,
        TaskState::Assessed => match &task.pending {
            Some(p) if now < window_end(policy, p) => TaskStatus::Assessed,
            _ => TaskStatus::PendingValidation,
        },
    }
}

/// The pending SC of a task that waits for validation (assessed, not yet paid).
pub fn awaiting_validation(task: &Task) -> Option<&Pending> {
    task.pending.as_ref().filter(|_| task.state == TaskState::Assessed)
}

/// One task on the board.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BoardTask {
    /// The id as written.
    pub task: String,
    /// Title.
    pub title: String,
    /// The ledger's life-cycle state (`created`, `started`, ...).
    pub state: TaskState,
    /// Its status now.
    pub status: TaskStatus,
    /// Budget in SC.
    #[serde(serialize_with = "shown::text")]
    pub budget: Amount,
    /// Attacker, once assigned.
    pub attacker: Option<String>,
    /// Defender, once assigned.
    pub defender: Option<String>,
    /// Seconds of closed sessions.
    pub worked_seconds: i64,
    /// The end of the lazy-consensus window, while the task waits for validation.
    #[serde(serialize_with = "shown::optional")]
    pub window_ends: Option<Timestamp>,
}

impl BoardTask {
    /// Its status in words, with the window: `assessed, window until T` or
    /// `pending validation since T`.
    pub fn describe(&self) -> String {
        match (self.status, self.window_ends) {
            (TaskStatus::Assessed, Some(end)) => format!("assessed, window until {end}"),
            (TaskStatus::PendingValidation, Some(end)) => format!("pending validation since {end}"),
            (status, _) => status.word().to_string(),
        }
    }
}

/// A work session open now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BoardSession {
    /// Who works.
    pub owner: String,
    /// Session id (seq of its start-work row).
    pub session: u64,
    /// Numeric identity of the task.
    pub task: String,
    /// Clock-in.
    #[serde(serialize_with = "shown::text")]
    pub since: Timestamp,
}

/// Pending SC of one task on their way to validation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PendingSc {
    /// The task id as written.
    pub task: String,
    /// The task's status now (assessed or pending validation).
    pub status: TaskStatus,
    /// Attacker's SC not yet validated.
    #[serde(serialize_with = "shown::text")]
    pub attacker_sc: Amount,
    /// Defender's SC not yet validated.
    #[serde(serialize_with = "shown::text")]
    pub defender_sc: Amount,
    /// When the lazy-consensus window ends (or ended).
    #[serde(serialize_with = "shown::text")]
    pub window_ends: Timestamp,
    /// Whole hours until then, rounded up; 0 once it has ended.
    pub hours_left: i64,
    /// Owners whose objections are open.
    pub objections: Vec<String>,
    /// Owners who approved.
    pub approvals: Vec<String>,
}

/// The state of work at one instant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Board {
    /// The smartup's name.
    pub ledger: String,
    /// Seq of the last row.
    pub last_seq: u64,
    /// Time of the last row.
    #[serde(serialize_with = "shown::optional")]
    pub last_at: Option<Timestamp>,
    /// The instant the board shows.
    #[serde(serialize_with = "shown::text")]
    pub now: Timestamp,
    /// Every task, in id order.
    pub tasks: Vec<BoardTask>,
    /// Open sessions, by owner.
    pub open_sessions: Vec<BoardSession>,
    /// Pending SC per task, in id order.
    pub pending: Vec<PendingSc>,
    /// All SC assessed and not yet validated.
    #[serde(serialize_with = "shown::text")]
    pub pending_total: Amount,
    /// The open proposals, oldest first, with their tally and time left.
    pub proposals: Vec<ProposalView>,
    /// SC pending in the tranches of retrospective awards (never outstanding until released).
    #[serde(serialize_with = "shown::text")]
    pub sc_pending_in_tranches: Amount,
}

impl Board {
    /// The tasks with a status, in id order.
    pub fn with_status(&self, status: TaskStatus) -> impl Iterator<Item = &BoardTask> {
        self.tasks.iter().filter(move |t| t.status == status)
    }
}

/// The board of the ledger `state` at `now`.
pub fn board(state: &State, now: Timestamp) -> Board {
    let policy = &state.policy;
    let tasks = state
        .tasks
        .values()
        .map(|t| BoardTask {
            task: t.id.clone(),
            title: t.title.clone(),
            state: t.state,
            status: task_status(t, policy, now),
            budget: t.budget,
            attacker: t.attacker.clone(),
            defender: t.defender.clone(),
            worked_seconds: t.worked_seconds,
            window_ends: awaiting_validation(t).map(|p| window_end(policy, p)),
        })
        .collect();
    let mut open_sessions: Vec<BoardSession> = state
        .sessions
        .iter()
        .map(|(owner, o)| BoardSession {
            owner: owner.clone(),
            session: o.session,
            task: o.task.clone(),
            since: o.started,
        })
        .collect();
    open_sessions.sort_by(|a, b| a.owner.cmp(&b.owner));
    let pending = state
        .tasks
        .values()
        .filter_map(|t| awaiting_validation(t).map(|p| (t, p)))
        .map(|(t, p)| {
            let ends = window_end(policy, p);
            PendingSc {
                task: t.id.clone(),
                status: task_status(t, policy, now),
                attacker_sc: p.attacker_left,
                defender_sc: p.defender_left,
                window_ends: ends,
                hours_left: ((ends.0 - now.0).max(0) + HOUR - 1) / HOUR,
                objections: p.objectors.clone(),
                approvals: p.approvals.clone(),
            }
        })
        .collect();
    Board {
        ledger: state.name.clone(),
        last_seq: state.last_seq,
        last_at: state.last_timestamp,
        now,
        tasks,
        open_sessions,
        pending,
        pending_total: state.pending,
        proposals: open_proposals(state, now),
        sc_pending_in_tranches: state.tranches_pending(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::Book;

    #[test]
    fn a_task_moves_through_every_status_and_the_window_splits_assessed() {
        let mut b = Book::organisation();
        let status = |b: &Book, now: Timestamp| task_status(&b.state.tasks["6_2_1_1"], &b.state.policy, now);
        assert_eq!(status(&b, b.now), TaskStatus::Open);
        b.assign();
        assert_eq!(status(&b, b.now), TaskStatus::Assigned);
        b.start();
        assert_eq!(status(&b, b.now), TaskStatus::InProgress);
        b.session("alice", 2);
        b.assess();
        let assessed = b.now;
        assert_eq!(status(&b, assessed.plus(48 * HOUR - 1)), TaskStatus::Assessed);
        assert_eq!(status(&b, assessed.plus(48 * HOUR)), TaskStatus::PendingValidation);
        b.later(48);
        b.validate();
        assert_eq!(status(&b, b.now), TaskStatus::Paid);
        let words: Vec<&str> = TaskStatus::ALL.iter().map(|s| s.word()).collect();
        let json: Vec<String> = TaskStatus::ALL
            .iter()
            .map(|s| serde_json::to_value(s).unwrap().as_str().unwrap_or("").to_string())
            .collect();
        assert_eq!(words, json, "the JSON word is the word people read");
    }

    #[test]
    fn the_board_shows_people_sessions_and_the_window() {
        let mut b = Book::organisation();
        b.assign();
        b.start();
        b.session("alice", 2);
        b.open_session("bob");
        let working = board(&b.state, b.now);
        assert_eq!(working.last_seq, b.state.last_seq);
        assert_eq!(working.open_sessions.len(), 1);
        assert_eq!(working.open_sessions[0].owner, "bob");
        let task = &working.tasks[0];
        assert_eq!(task.status, TaskStatus::InProgress);
        assert_eq!(task.worked_seconds, 2 * HOUR);
        assert_eq!(task.attacker.as_deref(), Some("alice"));
        assert_eq!(task.window_ends, None);
        assert!(working.pending.is_empty());

        let mut b = Book::organisation();
        b.assign();
        b.start();
        b.session("alice", 2);
        b.assess();
        let assessed = b.now;
        let early = board(&b.state, assessed.plus(HOUR + 1));
        assert_eq!(early.pending.len(), 1);
        assert_eq!(early.pending[0].hours_left, 47);
        assert_eq!(early.pending[0].attacker_sc.to_string(), "44.55");
        assert_eq!(early.pending_total.to_string(), "49.50");
        let end = assessed.plus(48 * HOUR);
        assert_eq!(early.tasks[0].describe(), format!("assessed, window until {end}"));
        let late = board(&b.state, end);
        assert_eq!(late.pending[0].hours_left, 0);
        assert_eq!(late.tasks[0].describe(), format!("pending validation since {end}"));
        let json = serde_json::to_value(&late).unwrap();
        assert_eq!(json["tasks"][0]["status"], "pending validation");
        assert_eq!(json["tasks"][0]["state"], "assessed");
        assert_eq!(json["tasks"][0]["budget"], "55.00");
        assert_eq!(json["pending"][0]["window_ends"], end.to_string());
        assert_eq!(json["proposals"], serde_json::json!([]));
        assert_eq!(json["sc_pending_in_tranches"], "82200.00", "the template's three tranches");
    }

    #[test]
    fn the_board_shows_the_open_proposals_and_the_sc_pending_in_tranches() {
        let (mut b, d) = crate::view::proposals::testing::debating();
        let open = board(&b.state, b.now);
        let seqs: Vec<u64> = open.proposals.iter().map(|p| p.seq).collect();
        assert_eq!(seqs, [d.amendment, d.lazy]);
        assert_eq!(open.proposals[0].yes, "2.000");
        assert_eq!(open.sc_pending_in_tranches.to_string(), "82200.00");
        b.later(168);
        crate::view::proposals::testing::close(&mut b, "dave", d.lazy);
        let later = board(&b.state, b.now);
        assert_eq!(later.proposals.len(), 1, "closed proposals leave the board");
    }
}
