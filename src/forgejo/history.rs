//! What the replayed state does not keep but Forgejo shows: the rows that concern each task
//! and objective (with file and line, to link to them), every closed work session, each
//! task's phase and the scores of its latest assessment. Read from the rows at HEAD.

use crate::ledger::ids::{numeric_identity, IdKind};
use crate::ledger::row::{Location, Row};
use crate::repo::for_each_row;
use crate::time::Timestamp;
use anyhow::Result;
use git2::{Oid, Repository};
use std::collections::HashMap;

/// A row, as far as a link to it needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowRef {
    /// Its seq.
    pub seq: u64,
    /// The action that wrote it.
    pub action: String,
    /// Segment file (`tables/task-budgets/1/01.csv`).
    pub file: String,
    /// Line in that file.
    pub line: u64,
}

/// A closed work session, from its session-log row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// The seq of its start-work row.
    pub session: u64,
    /// Who worked.
    pub owner: String,
    /// Clock-in.
    pub started: Timestamp,
    /// Length in seconds.
    pub seconds: i64,
}

/// The three scores of an assessment, as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scores {
    /// Attacker effort.
    pub attacker: String,
    /// Defender learning.
    pub defender: String,
    /// Collaboration quality.
    pub collaboration: String,
}

/// Everything about one task beyond its state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskHistory {
    /// Its rows, in seq order.
    pub rows: Vec<RowRef>,
    /// Its phase (from create-task).
    pub phase: String,
    /// Its closed sessions, in seq order.
    pub sessions: Vec<Session>,
    /// The scores of its latest assessment.
    pub scores: Option<Scores>,
}

/// Task and objective histories by numeric identity.
#[derive(Clone, Debug, Default)]
pub struct History {
    /// By task.
    pub tasks: HashMap<String, TaskHistory>,
    /// The rows of each objective (creation, mission-leader appointments).
    pub objectives: HashMap<String, Vec<RowRef>>,
}

impl History {
    /// Reads the rows of the ledger at `head`.
    pub fn read(repo: &Repository, head: Oid, segment_rows: u64) -> Result<History> {
        let mut history = History::default();
        for_each_row(repo, head, segment_rows, |row, location| {
            history.add(&row, location);
            Ok(true)
        })?;
        Ok(history)
    }

    /// Files one row under the task or objective it concerns, if any.
    pub fn add(&mut self, row: &Row, at: Location) {
        let reference = RowRef {
            seq: row.seq,
            action: row.action.clone(),
            file: at.file,
            line: at.line,
        };
        if let Ok(task) = numeric_identity(row.get("task"), IdKind::Task) {
            let entry = self.tasks.entry(task).or_default();
            match row.action.as_str() {
                "create-task" => entry.phase = row.get("phase").to_string(),
                "assess-work" => {
                    entry.scores = Some(Scores {
                        attacker: row.get("attacker_score").to_string(),
                        defender: row.get("defender_score").to_string(),
                        collaboration: row.get("collaboration_score").to_string(),
                    })
                }
                _ => {}
            }
            if row.schema().name == "session_logs" {
                if let Some(session) = session_of(row) {
                    entry.sessions.push(session);
                }
            }
            entry.rows.push(reference);
            return;
        }
        let objective = if row.action == "create-objective" {
            row.get("objective")
        } else {
            row.get("role")
        };
        if let Ok(objective) = numeric_identity(objective, IdKind::Objective) {
            self.objectives.entry(objective).or_default().push(reference);
        }
    }
}

/// A session-log row as a session (rows at HEAD passed the rules, so their fields parse).
fn session_of(row: &Row) -> Option<Session> {
    Some(Session {
        session: row.get("session").parse().ok()?,
        owner: row.get("owner").to_string(),
        started: row.get("started").parse().ok()?,
        seconds: row.get("seconds").parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::schema::table_id;

    fn row(table: &str, seq: u64, action: &str, values: &[(&str, &str)]) -> Row {
        let table = table_id(table).unwrap();
        Row::draft(table, seq, Timestamp(1_800_000_000), "maya", action, values).unwrap()
    }

    fn at(line: u64) -> Location {
        Location {
            table: String::new(),
            file: "tables/x/1/01.csv".into(),
            line,
        }
    }

    #[test]
    fn files_rows_under_their_task_and_objective() {
        let mut h = History::default();
        h.add(&row("objectives", 14, "create-objective", &[("objective", "5_2_1_brand")]), at(2));
        h.add(&row("roles", 15, "assign-role", &[("role", "5_2_1"), ("owner", "maya")]), at(3));
        h.add(&row("roles", 16, "assign-role", &[("role", "4_2_1"), ("owner", "alice")]), at(4));
        h.add(
            &row("task-budgets", 18, "create-task", &[("task", "6_2_1_1_logo"), ("phase", "design")]),
            at(2),
        );
        let log = [
            ("session", "21"),
            ("task", "6_2_1_1"),
            ("owner", "alice"),
            ("started", "2027-01-15T08:00:00Z"),
            ("stopped", "2027-01-15T10:00:00Z"),
            ("seconds", "7200"),
        ];
        h.add(&row("session_logs", 24, "stop-work", &log), at(2));
        let scores = [
            ("task", "6_2_1_1"),
            ("attacker_score", "9"),
            ("defender_score", "8"),
            ("collaboration_score", "7"),
        ];
        h.add(&row("pending-sc", 27, "assess-work", &scores), at(2));

        assert_eq!(h.objectives["5_2_1"].iter().map(|r| r.seq).collect::<Vec<_>>(), vec![14, 15]);
        let task = &h.tasks["6_2_1_1"];
        assert_eq!(task.rows.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![18, 24, 27]);
        assert_eq!(task.phase, "design");
        assert_eq!(task.sessions.len(), 1);
        assert_eq!(task.sessions[0].seconds, 7200);
        assert_eq!(task.sessions[0].started.to_string(), "2027-01-15T08:00:00Z");
        assert_eq!(task.scores.as_ref().map(|s| s.collaboration.as_str()), Some("7"));
    }
}
