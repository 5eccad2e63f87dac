//! What Forgejo should show, from the ledger alone: the managed labels and, per team
//! repository, one milestone (or issue) per objective and one issue per task, with their
//! titles, sections, labels, people, state and tracked time.

use super::config::{ObjectivesAs, Settings};
use super::labels::{self, LabelSpec};
use super::links::RowLinks;
use super::render::{self, TaskFacts};
use super::section::{wrap, Key};
use crate::ledger::ids::numbers;
use crate::rules::state::State;
use crate::time::Timestamp;
use crate::view::history::{History, TaskHistory};
use crate::view::status::{task_status, TaskStatus};
use std::collections::BTreeMap;

/// Forgejo's longest issue and milestone title.
const MAX_TITLE_CHARS: usize = 255;

/// A closed work session to book as tracked time.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct WantedTime {
    /// Session id (seq of its start-work row).
    pub session: u64,
    /// Who worked.
    pub owner: String,
    /// Clock-in: the time the entry is booked at.
    pub started: Timestamp,
    /// Seconds (never zero: Forgejo refuses that).
    pub seconds: i64,
}

/// An issue as it should be.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct WantedIssue {
    /// Whose issue.
    pub key: Key,
    /// Title.
    pub title: String,
    /// The sync's section, markers included.
    pub section: String,
    /// Managed labels it carries.
    pub labels: Vec<String>,
    /// Handles to assign where they have Forgejo accounts that may be assigned.
    pub people: Vec<String>,
    /// The objective whose milestone it belongs to.
    pub milestone: Option<Key>,
    /// Closed (a paid task; an objective whose tasks are all paid) or open.
    pub closed: bool,
    /// Tracked time it carries.
    pub times: Vec<WantedTime>,
}

/// A milestone as it should be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WantedMilestone {
    /// Whose milestone.
    pub key: Key,
    /// Title.
    pub title: String,
    /// The sync's section, markers included.
    pub section: String,
    /// Closed: the objective has tasks and all of them are paid.
    pub closed: bool,
}

/// What one team repository should hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RepoView {
    /// Numeric identity of the team.
    pub team: String,
    /// Milestones, by objective.
    pub milestones: Vec<WantedMilestone>,
    /// Issues: objectives (when shown as issues) first, then tasks.
    pub issues: Vec<WantedIssue>,
}

/// Everything Forgejo should show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Desired {
    /// The ledger id the markers name.
    pub ledger: String,
    /// The managed labels.
    pub labels: Vec<LabelSpec>,
    /// Repositories by name.
    pub repos: BTreeMap<String, RepoView>,
}

/// `6_2_1_1 — Design the logo`, cut to Forgejo's limit.
fn title(identity: &str, title: &str) -> String {
    let full = format!("{identity} — {title}");
    if full.chars().count() <= MAX_TITLE_CHARS {
        return full;
    }
    let mut cut: String = full.chars().take(MAX_TITLE_CHARS - 1).collect();
    cut.push('…');
    cut
}

/// Entries by numeric identity in number order (`6_2_1_2` before `6_2_1_10`), so that issues
/// are created in the order people count.
fn in_number_order<T>(map: &BTreeMap<String, T>) -> Vec<(&String, &T)> {
    let mut entries: Vec<_> = map.iter().collect();
    entries.sort_by_key(|(id, _)| numbers(id));
    entries
}

/// The view of the repository that holds a team's work.
fn view_of<'r>(repos: &'r mut BTreeMap<String, RepoView>, settings: &Settings, state: &State, team: &str) -> &'r mut RepoView {
    let name = settings.repository_of(team, state.teams.get(team));
    repos.entry(name).or_insert_with(|| RepoView {
        team: team.to_string(),
        ..RepoView::default()
    })
}

/// Computes the view of the ledger `state` at `now`.
pub fn build(state: &State, history: &History, settings: &Settings, links: &RowLinks, now: Timestamp) -> Desired {
    let ledger = state.ledger_id.clone();
    let mut repos: BTreeMap<String, RepoView> = BTreeMap::new();
    for (identity, objective) in in_number_order(&state.objectives) {
        let key = Key::Objective(identity.clone());
        let team = state.teams.get(&objective.team);
        let tasks: Vec<_> = state.tasks.values().filter(|t| &t.objective == identity).collect();
        let done = !tasks.is_empty() && tasks.iter().all(|t| task_status(t, &state.policy, now) == TaskStatus::Paid);
        let leader = state.roles.get(identity).and_then(|r| r.holder.as_deref());
        let rows = history.objectives.get(identity).map_or(&[][..], Vec::as_slice);
        let section = wrap(&key, &ledger, &render::objective(objective, team, leader, &tasks, rows, links));
        let title = title(identity, &objective.title);
        let view = view_of(&mut repos, settings, state, &objective.team);
        match settings.objectives_as {
            ObjectivesAs::Milestones => view.milestones.push(WantedMilestone {
                key,
                title,
                section,
                closed: done,
            }),
            ObjectivesAs::Issues => view.issues.push(WantedIssue {
                key,
                title,
                section,
                labels: vec![
                    labels::KIND_OBJECTIVE.to_string(),
                    labels::team_label(team.map_or(&objective.team, |t| &t.id)),
                ],
                people: leader.map(str::to_string).into_iter().collect(),
                milestone: None,
                closed: done,
                times: Vec::new(),
            }),
        }
    }
    let empty = TaskHistory::default();
    for (identity, task) in in_number_order(&state.tasks) {
        let key = Key::Task(identity.clone());
        let team = state.teams.get(&task.team);
        let history = history.tasks.get(identity).unwrap_or(&empty);
        let status = task_status(task, &state.policy, now);
        let facts = TaskFacts {
            task,
            team,
            objective: state.objectives.get(&task.objective),
            history,
            status,
            policy: &state.policy,
            links,
        };
        let section = wrap(&key, &ledger, &render::task(&facts));
        let team_id = team.map_or(task.team.as_str(), |t| t.id.as_str());
        let issue = WantedIssue {
            title: title(identity, &task.title),
            section,
            labels: labels::of_task(task, status, &history.phase, team_id, &state.policy),
            people: task.attacker.iter().chain(task.defender.iter()).cloned().collect(),
            milestone: (settings.objectives_as == ObjectivesAs::Milestones).then(|| Key::Objective(task.objective.clone())),
            closed: status == TaskStatus::Paid,
            times: history
                .sessions
                .iter()
                .filter(|s| s.seconds > 0)
                .map(|s| WantedTime {
                    session: s.session,
                    owner: s.owner.clone(),
                    started: s.started,
                    seconds: s.seconds,
                })
                .collect(),
            key,
        };
        view_of(&mut repos, settings, state, &task.team).issues.push(issue);
    }
    Desired {
        ledger,
        labels: labels::managed(state),
        repos,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_comes_in_number_order() {
        let map: BTreeMap<String, ()> = ["6_2_1_10", "6_2_1_2", "6_10_1_1", "6_2_1_1"].map(|k| (k.to_string(), ())).into();
        let order: Vec<&str> = in_number_order(&map).into_iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(order, ["6_2_1_1", "6_2_1_2", "6_2_1_10", "6_10_1_1"]);
    }

    #[test]
    fn titles_are_cut_at_forgejos_limit() {
        assert_eq!(title("6_2_1_1", "Design the logo"), "6_2_1_1 — Design the logo");
        let long = title("6_2_1_1", &"x".repeat(400));
        assert_eq!(long.chars().count(), 255);
        assert!(long.ends_with('…'));
    }
}
