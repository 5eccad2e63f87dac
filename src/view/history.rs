//! What the replayed state does not keep but people ask about: the rows that concern each
//! task, objective and owner (with file and line, to link to them), every closed work session,
//! each task's phase, assessment and validations, and each owner's SC and SK movements.
//! Built one row at a time ([`History::add`]) by a caller that walks the rows.

use super::{amount_of as amount, shown};
use crate::ledger::ids::{numeric_identity, IdKind};
use crate::ledger::row::{Location, Row};
use crate::money::Amount;
use crate::time::Timestamp;
use serde::Serialize;
use std::collections::HashMap;

/// A row, as far as a link to it needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
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

impl RowRef {
    /// The reference to `row`, stored at `at`.
    pub fn of(row: &Row, at: &Location) -> RowRef {
        RowRef {
            seq: row.seq,
            action: row.action.clone(),
            file: at.file.to_string(),
            line: at.line,
        }
    }
}

/// A closed work session, from its session-log row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Session {
    /// The seq of its start-work row.
    pub session: u64,
    /// Numeric identity of the task.
    pub task: String,
    /// Who worked.
    pub owner: String,
    /// Clock-in.
    #[serde(serialize_with = "shown::text")]
    pub started: Timestamp,
    /// Length in seconds.
    pub seconds: i64,
    /// The session-log row.
    pub row: RowRef,
}

/// The three scores of an assessment, as written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Scores {
    /// Attacker effort.
    pub attacker: String,
    /// Defender learning.
    pub defender: String,
    /// Collaboration quality.
    pub collaboration: String,
}

/// An assessment: scores, share and the SC it made pending.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Assessment {
    /// Its scores.
    pub scores: Scores,
    /// Payout share in percent.
    #[serde(serialize_with = "shown::text")]
    pub share: Amount,
    /// SC pending for the Attacker.
    #[serde(serialize_with = "shown::text")]
    pub attacker_sc: Amount,
    /// SC pending for the Defender.
    #[serde(serialize_with = "shown::text")]
    pub defender_sc: Amount,
    /// The assess-work row.
    pub row: RowRef,
}

/// Pending SC validated (awarded) at once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Validation {
    /// SC validated for the Attacker.
    #[serde(serialize_with = "shown::text")]
    pub attacker_sc: Amount,
    /// SC validated for the Defender.
    #[serde(serialize_with = "shown::text")]
    pub defender_sc: Amount,
    /// The validate-pending-sc row.
    pub row: RowRef,
}

/// An objection to a task's assessment, with its reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Objection {
    /// Who objected.
    pub by: String,
    /// Their reason (the row's note; empty when they gave none).
    pub reason: String,
    /// The object-pending-sc row.
    pub row: RowRef,
}

/// Everything about one task beyond its state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TaskHistory {
    /// Its rows, in seq order.
    pub rows: Vec<RowRef>,
    /// Its phase (from create-task).
    pub phase: String,
    /// Its Attacker, once assigned.
    pub attacker: Option<String>,
    /// Its Defender, once assigned.
    pub defender: Option<String>,
    /// Its closed sessions, in seq order.
    pub sessions: Vec<Session>,
    /// Its latest assessment.
    pub assessment: Option<Assessment>,
    /// The objections to its latest assessment, in seq order.
    pub objections: Vec<Objection>,
    /// Its validations, in seq order.
    pub validations: Vec<Validation>,
}

/// What moved an owner's credits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MovementKind {
    /// SC assessed to them, pending validation.
    PendingSc,
    /// Pending SC validated: now held.
    ValidatedSc,
    /// SC paid out in EUR.
    PaidOut,
    /// Social Karma awarded.
    SkAwarded,
}

/// One movement of an owner's SC or SK.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Movement {
    /// What happened.
    pub kind: MovementKind,
    /// How much (SC, or SK for an award).
    #[serde(serialize_with = "shown::text")]
    pub amount: Amount,
    /// The task it came from, if any.
    pub task: Option<String>,
    /// The row that moved it.
    pub row: RowRef,
}

/// Everything about one owner beyond their balances.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct OwnerHistory {
    /// The rows they signed or that name them, in seq order.
    pub rows: Vec<RowRef>,
    /// Their closed sessions, in seq order.
    pub sessions: Vec<Session>,
    /// Their SC and SK movements, in seq order.
    pub movements: Vec<Movement>,
}

/// Task, objective and owner histories.
#[derive(Clone, Debug, Default, Serialize)]
pub struct History {
    /// By task (numeric identity).
    pub tasks: HashMap<String, TaskHistory>,
    /// The rows of each objective (creation, mission-leader appointments), by numeric identity.
    pub objectives: HashMap<String, Vec<RowRef>>,
    /// By owner handle.
    pub owners: HashMap<String, OwnerHistory>,
}

impl History {
    /// Files one row (read at `at`) under the task or objective and the owners it concerns.
    pub fn add(&mut self, row: &Row, at: &Location) {
        let reference = RowRef::of(row, at);
        let mut owners: Vec<String> = ["owner", "attacker", "defender"]
            .iter()
            .map(|c| row.get(c).to_string())
            .chain([row.actor.clone()])
            .filter(|h| !h.is_empty())
            .collect();
        let mut movements = Vec::new();
        let mut session = None;
        if let Ok(task) = numeric_identity(row.get("task"), IdKind::Task) {
            let entry = self.tasks.entry(task.clone()).or_default();
            let pair =
                |e: &TaskHistory, attacker: Amount, defender: Amount| [(e.attacker.clone(), attacker), (e.defender.clone(), defender)];
            match row.action.as_str() {
                "create-task" => entry.phase = row.get("phase").to_string(),
                "assign-task" => {
                    entry.attacker = Some(row.get("attacker").to_string());
                    entry.defender = Some(row.get("defender").to_string());
                }
                "assess-work" => {
                    let assessment = Assessment {
                        scores: Scores {
                            attacker: row.get("attacker_score").to_string(),
                            defender: row.get("defender_score").to_string(),
                            collaboration: row.get("collaboration_score").to_string(),
                        },
                        share: amount(row, "share"),
                        attacker_sc: amount(row, "attacker_sc"),
                        defender_sc: amount(row, "defender_sc"),
                        row: reference.clone(),
                    };
                    let to = pair(entry, assessment.attacker_sc, assessment.defender_sc);
                    movements.extend(to.map(|(who, sc)| (who, MovementKind::PendingSc, sc)));
                    entry.assessment = Some(assessment);
                    entry.objections.clear();
                }
                "object-pending-sc" => entry.objections.push(Objection {
                    by: row.actor.clone(),
                    reason: row.get("note").to_string(),
                    row: reference.clone(),
                }),
                "validate-pending-sc" => {
                    let validation = Validation {
                        attacker_sc: amount(row, "attacker_sc"),
                        defender_sc: amount(row, "defender_sc"),
                        row: reference.clone(),
                    };
                    let to = pair(entry, validation.attacker_sc, validation.defender_sc);
                    movements.extend(to.map(|(who, sc)| (who, MovementKind::ValidatedSc, sc)));
                    entry.validations.push(validation);
                }
                _ => {}
            }
            if row.schema().name == "session_logs" {
                session = session_of(row, &task, &reference);
                entry.sessions.extend(session.clone());
            }
            owners.extend(movements.iter().filter_map(|(who, _, _)| who.clone()));
            entry.rows.push(reference.clone());
        } else {
            let objective = if row.action == "create-objective" {
                row.get("objective")
            } else {
                row.get("role")
            };
            if let Ok(objective) = numeric_identity(objective, IdKind::Objective) {
                self.objectives.entry(objective).or_default().push(reference.clone());
            }
        }
        let owner = row.get("owner").to_string();
        match row.action.as_str() {
            "payout-sc" => movements.push((Some(owner), MovementKind::PaidOut, amount(row, "amount"))),
            "award-sk" => movements.push((Some(owner), MovementKind::SkAwarded, amount(row, "amount"))),
            _ => {}
        }
        owners.sort();
        owners.dedup();
        for handle in owners {
            self.owners.entry(handle).or_default().rows.push(reference.clone());
        }
        if let Some(s) = session {
            self.owners.entry(s.owner.clone()).or_default().sessions.push(s);
        }
        let task = numeric_identity(row.get("task"), IdKind::Task).ok();
        for (who, kind, amount) in movements {
            if let (Some(who), true) = (who, amount.is_positive()) {
                self.owners.entry(who).or_default().movements.push(Movement {
                    kind,
                    amount,
                    task: task.clone(),
                    row: reference.clone(),
                });
            }
        }
    }
}

/// A session-log row as a session (rows at HEAD passed the rules, so their fields parse).
fn session_of(row: &Row, task: &str, reference: &RowRef) -> Option<Session> {
    Some(Session {
        session: row.get("session").parse().ok()?,
        task: task.to_string(),
        owner: row.get("owner").to_string(),
        started: row.get("started").parse().ok()?,
        seconds: row.get("seconds").parse().ok()?,
        row: reference.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::Book;

    fn history(b: &Book) -> History {
        let mut h = History::default();
        for (row, at) in &b.rows {
            h.add(row, at);
        }
        h
    }

    fn seqs_of(b: &Book, action: &str) -> Vec<u64> {
        b.rows.iter().filter(|(r, _)| r.action == action).map(|(r, _)| r.seq).collect()
    }

    #[test]
    fn a_task_keeps_its_rows_sessions_assessment_and_validation() {
        let mut b = Book::organisation();
        b.assign();
        b.start();
        b.session("alice", 2);
        b.session("bob", 1);
        b.assess();
        b.later(48);
        b.validate();
        let h = history(&b);
        let task = &h.tasks["6_2_1_1"];
        let concerning: Vec<u64> = b
            .rows
            .iter()
            .filter(|(r, _)| r.get("task").starts_with("6_2_1_1"))
            .map(|(r, _)| r.seq)
            .collect();
        assert_eq!(task.rows.iter().map(|r| r.seq).collect::<Vec<_>>(), concerning);
        assert_eq!(task.phase, "design");
        assert_eq!(task.attacker.as_deref(), Some("alice"));
        assert_eq!(task.sessions.len(), 2);
        assert_eq!((task.sessions[0].owner.as_str(), task.sessions[0].seconds), ("alice", 7200));
        assert_eq!((task.sessions[1].owner.as_str(), task.sessions[1].seconds), ("bob", 3600));
        let (log, at) = b.rows.iter().find(|(r, _)| r.schema().name == "session_logs").unwrap();
        assert_eq!(task.sessions[0].row.seq, log.seq);
        assert_eq!(
            (task.sessions[0].row.file.as_str(), task.sessions[0].row.line),
            (&*at.file, at.line)
        );
        let assessment = task.assessment.as_ref().expect("assessed");
        assert_eq!(assessment.scores.collaboration, "8");
        assert_eq!(assessment.attacker_sc.to_string(), "44.55");
        assert_eq!(assessment.row.seq, seqs_of(&b, "assess-work")[0]);
        assert_eq!(task.validations.len(), 1);
        assert_eq!(task.validations[0].defender_sc.to_string(), "4.95");
        let objective: Vec<u64> = h.objectives["5_2_1"].iter().map(|r| r.seq).collect();
        assert_eq!(objective.len(), 2, "created, then its mission leader appointed: {objective:?}");
    }

    #[test]
    fn an_owner_keeps_their_rows_sessions_and_movements() {
        let mut b = Book::paid_after_one_session();
        b.award_governance("alice");
        let h = history(&b);
        let alice = &h.owners["alice"];
        let theirs: Vec<u64> = b
            .rows
            .iter()
            .filter(|(r, _)| {
                r.actor == "alice"
                    || ["owner", "attacker", "defender"].iter().any(|c| r.get(c) == "alice")
                    || ["assess-work", "validate-pending-sc"].contains(&r.action.as_str())
            })
            .map(|(r, _)| r.seq)
            .collect();
        assert_eq!(alice.rows.iter().map(|r| r.seq).collect::<Vec<_>>(), theirs);
        assert_eq!(alice.sessions.len(), 1);
        let moves: Vec<(MovementKind, String)> = alice.movements.iter().map(|m| (m.kind, m.amount.to_string())).collect();
        assert_eq!(
            moves,
            [
                (MovementKind::PendingSc, "44.55".to_string()),
                (MovementKind::ValidatedSc, "44.55".to_string()),
                (MovementKind::SkAwarded, "20.00".to_string()),
            ]
        );
        assert_eq!(alice.movements[0].task.as_deref(), Some("6_2_1_1"));
        assert_eq!(h.owners["bob"].movements[1].amount.to_string(), "4.95");
        assert!(h.owners["cap"].movements.is_empty(), "the captain signed but earned nothing");
        let json = serde_json::to_value(alice).unwrap();
        assert_eq!(json["movements"][1]["kind"], "validated-sc");
    }
}
