//! The text of the sections the sync owns: for a task its budget, people, status, sessions,
//! assessment, pending and validated SC and links to its ledger rows; for an objective its
//! mission leader and the progress of its tasks. Deterministic: the same ledger (and, for an
//! assessed task, the same side of its lazy-consensus window) gives the same text.

use super::links::RowLinks;
use crate::ledger::policy::Policy;
use crate::money::Amount;
use crate::rules::state::{Objective, Task, TaskState, Team};
use crate::rules::window_end;
use crate::view::duration;
use crate::view::history::{Objection, RowRef, TaskHistory};
use crate::view::status::TaskStatus;

const FOOTER: &str =
    "_Written by `smartup forgejo sync` from the ledger and replaced at every sync; write anything else above or below this section._";

/// Text from the ledger made safe inside a Markdown table and an HTML comment pair.
fn text(value: &str) -> String {
    value.replace('|', "\\|").replace('<', "&lt;").replace('>', "&gt;")
}

fn person(handle: Option<&str>) -> String {
    handle.map_or("—".to_string(), |h| format!("@{}", text(h)))
}

/// The open objections (`objectors`), each with its reason from the task's history:
/// `@alice ("the logo is not done")`; `none` without any.
fn objections(objectors: &[String], history: &[Objection]) -> String {
    if objectors.is_empty() {
        return "none".to_string();
    }
    let one = |handle: &String| {
        let reason = history
            .iter()
            .rev()
            .find(|o| &o.by == handle)
            .map(|o| o.reason.trim())
            .unwrap_or("");
        match reason {
            "" => person(Some(handle)),
            reason => format!("{} (\"{}\")", person(Some(handle)), text(&reason.replace('\n', " "))),
        }
    };
    objectors.iter().map(one).collect::<Vec<_>>().join(", ")
}

fn team_line(team: Option<&Team>, identity: &str) -> String {
    match team {
        Some(t) => format!("{} (`{}`)", text(&t.name), text(&t.id)),
        None => format!("`{identity}`"),
    }
}

fn rows_line(rows: &[RowRef], links: &RowLinks) -> String {
    let list: Vec<String> = rows.iter().map(|r| links.row(r)).collect();
    format!("Ledger rows: {}", if list.is_empty() { "—".to_string() } else { list.join(" · ") })
}

fn table(lines: &[(&str, String)]) -> String {
    let mut out = String::from("| | |\n|---|---|\n");
    for (name, value) in lines {
        out.push_str(&format!("| {name} | {value} |\n"));
    }
    out
}

/// Everything the section of a task shows.
pub struct TaskFacts<'a> {
    /// The task.
    pub task: &'a Task,
    /// Its team, if known.
    pub team: Option<&'a Team>,
    /// Its objective, if known.
    pub objective: Option<&'a Objective>,
    /// Its rows, sessions, phase and scores.
    pub history: &'a TaskHistory,
    /// Its status now.
    pub status: TaskStatus,
    /// The policy in force.
    pub policy: &'a Policy,
    /// Links to rows.
    pub links: &'a RowLinks,
}

fn budget_line(f: &TaskFacts) -> String {
    let t = f.task;
    let phase = &f.history.phase;
    match (f.policy.size_budget(&t.size), f.policy.phases.get(phase)) {
        (Some(base), Some(multiplier)) => format!(
            "{} SC: {} ({base} SC) × {} in the {} phase",
            t.budget,
            text(&t.size),
            multiplier.0,
            text(phase)
        ),
        _ => format!("{} SC ({})", t.budget, text(&t.size)),
    }
}

fn sessions_line(t: &Task) -> String {
    let mut line = format!("{} closed, {} in all", t.closed_sessions, duration(t.worked_seconds));
    if t.open_sessions > 0 {
        line.push_str(&format!("; {} open now", t.open_sessions));
    }
    line
}

/// The content of a task's section.
pub fn task(f: &TaskFacts) -> String {
    let t = f.task;
    let mut lines = vec![
        ("Status", f.status.word().to_string()),
        ("Team", team_line(f.team, &t.team)),
        (
            "Objective",
            match f.objective {
                Some(o) => format!("`{}` — {}", text(&o.id), text(&o.title)),
                None => format!("`{}`", t.objective),
            },
        ),
        ("Budget", budget_line(f)),
        ("Attacker", person(t.attacker.as_deref())),
        ("Defender", person(t.defender.as_deref())),
        ("Work sessions", sessions_line(t)),
    ];
    if let Some(p) = &t.pending {
        if let Some(s) = f.history.assessment.as_ref().map(|a| &a.scores) {
            lines.push((
                "Assessment",
                format!(
                    "{} / {} / {} (attacker effort, defender learning, collaboration), share {}% by {} at {}",
                    text(&s.attacker),
                    text(&s.defender),
                    text(&s.collaboration),
                    p.share,
                    person(Some(&p.assessor)),
                    p.assessed_at
                ),
            ));
        }
        if t.state == TaskState::Assessed {
            let until = window_end(f.policy, p);
            let people = |list: &[String]| {
                if list.is_empty() {
                    "none".to_string()
                } else {
                    list.iter().map(|h| person(Some(h))).collect::<Vec<_>>().join(", ")
                }
            };
            lines.push((
                "Lazy consensus",
                format!(
                    "window until {until}; objections: {}; approvals: {}",
                    objections(&p.objectors, &f.history.objections),
                    people(&p.approvals)
                ),
            ));
        }
        lines.push((
            "Pending SC",
            format!("{} (Attacker) + {} (Defender)", p.attacker_left, p.defender_left),
        ));
        lines.push(("Validated SC", p.total.minus(p.attacker_left).minus(p.defender_left).to_string()));
    }
    format!(
        "**{}** — {}\n\n{}\n{}\n\n{FOOTER}",
        text(&t.id),
        text(&t.title),
        table(&lines),
        rows_line(&f.history.rows, f.links)
    )
}

/// The content of an objective's section.
pub fn objective(
    objective: &Objective,
    team: Option<&Team>,
    mission_leader: Option<&str>,
    tasks: &[&Task],
    rows: &[RowRef],
    links: &RowLinks,
) -> String {
    let mut by_state = Vec::new();
    for state in TaskState::ALL {
        let n = tasks.iter().filter(|t| t.state == state).count();
        if n > 0 {
            by_state.push(format!("{n} {}", state.word()));
        }
    }
    let budget = tasks.iter().fold(Amount::ZERO, |sum, t| sum.plus(t.budget));
    let paid = tasks
        .iter()
        .filter(|t| t.state == TaskState::Paid)
        .fold(Amount::ZERO, |sum, t| sum.plus(t.budget));
    let lines = [
        ("Team", team_line(team, &objective.team)),
        ("Mission leader", person(mission_leader)),
        (
            "Tasks",
            if by_state.is_empty() {
                "none yet".to_string()
            } else {
                format!("{}: {}", tasks.len(), by_state.join(", "))
            },
        ),
        ("Budget", format!("{budget} SC in all; {paid} SC of it paid")),
    ];
    format!(
        "**{}** — {}\n\n{}\n{}\n\n{FOOTER}",
        text(&objective.id),
        text(&objective.title),
        table(&lines),
        rows_line(rows, links)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ledger_text_cannot_break_the_table_or_the_markers() {
        assert_eq!(text("a | b <!-- smartup:end -->"), "a \\| b &lt;!-- smartup:end --&gt;");
        assert_eq!(person(None), "—");
    }
}
