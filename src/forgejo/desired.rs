//! What Forgejo should show, from the ledger alone: the managed labels; per team
//! repository, one milestone (or issue) per objective and one issue per task, with their
//! titles, sections, labels, people, state and tracked time; and in the general forum's
//! repository one issue per proposal, open while the proposal is, closed with its result.

use super::accounts::FORUM_TEAM;
use super::config::{ObjectivesAs, Settings};
use super::history::Histories;
use super::labels::{self, LabelSpec};
use super::links::RowLinks;
use super::render::{self, ProposalFacts, TaskFacts};
use super::section::{wrap, Key};
use crate::ledger::ids::numbers;
use crate::rules::state::State;
use crate::time::Timestamp;
use crate::view::history::TaskHistory;
use crate::view::proposals::{all_proposals, ProposalStatus};
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
    /// Closed (a paid task; an objective whose tasks are all paid; a decided proposal) or open.
    pub closed: bool,
    /// What the sync comments when it closes the issue (a decided proposal's result); tasks
    /// and objectives close without a comment.
    pub closing_comment: Option<String>,
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

/// What one repository should hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RepoView {
    /// Whose repository it is, for messages: the numeric identity of the team, or
    /// `1_general_forum` for the repository of the proposals.
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

/// How the title of the issue (or milestone) of `key` begins: `6_2_1_1 — ` for a task or an
/// objective, `#33 ` for a proposal. An issue whose section was lost is found again by it.
pub fn title_prefix(key: &Key) -> String {
    match key {
        Key::Task(id) | Key::Objective(id) => format!("{id} — "),
        Key::Proposal(seq) => format!("#{seq} "),
    }
}

/// The title of `key`'s issue: `6_2_1_1 — Design the logo`, `#33 End the bootstrap phase
/// (policy-amendment)`; cut to Forgejo's limit.
fn title(key: &Key, title: &str) -> String {
    let full = format!("{}{title}", title_prefix(key));
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

/// The view of repository `name`, whose it is named by `team` when it is new.
fn view_named<'r>(repos: &'r mut BTreeMap<String, RepoView>, name: String, team: &str) -> &'r mut RepoView {
    repos.entry(name).or_insert_with(|| RepoView {
        team: team.to_string(),
        ..RepoView::default()
    })
}

/// The view of the repository that holds a team's work.
fn view_of<'r>(repos: &'r mut BTreeMap<String, RepoView>, settings: &Settings, state: &State, team: &str) -> &'r mut RepoView {
    view_named(repos, settings.repository_of(team, state.teams.get(team)), team)
}

/// One issue per proposal, oldest first: `kind/proposal` and its status label, open until
/// the proposal is closed, then closed with its result.
fn proposal_issues(state: &State, histories: &Histories, links: &RowLinks, now: Timestamp) -> Vec<WantedIssue> {
    all_proposals(state, now)
        .iter()
        .filter_map(|view| {
            let proposal = state.proposals.get(&view.seq).or_else(|| state.decided.get(&view.seq))?;
            let history = histories.proposal(view.seq, view.applied_by);
            let facts = ProposalFacts {
                view,
                proposal,
                history: &history,
                links,
            };
            let key = Key::Proposal(view.seq.to_string());
            Some(WantedIssue {
                title: title(&key, &format!("{} ({})", view.title, view.kind)),
                section: wrap(&key, &state.ledger_id, &render::proposal(&facts)),
                labels: labels::of_proposal(view.status),
                people: Vec::new(),
                milestone: None,
                closed: matches!(view.status, ProposalStatus::Passed | ProposalStatus::Failed),
                closing_comment: render::proposal_closed(&facts),
                times: Vec::new(),
                key,
            })
        })
        .collect()
}

/// Computes the view of the ledger `state` at `now`.
pub fn build(state: &State, histories: &Histories, settings: &Settings, links: &RowLinks, now: Timestamp) -> Desired {
    let history = &histories.work;
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
        let title = title(&key, &objective.title);
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
                closing_comment: None,
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
            title: title(&key, &task.title),
            section,
            labels: labels::of_task(task, status, &history.phase, team_id, &state.policy),
            people: task.attacker.iter().chain(task.defender.iter()).cloned().collect(),
            milestone: (settings.objectives_as == ObjectivesAs::Milestones).then(|| Key::Objective(task.objective.clone())),
            closed: status == TaskStatus::Paid,
            closing_comment: None,
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
    let proposals = proposal_issues(state, histories, links, now);
    if !proposals.is_empty() {
        let forum = settings.forum_repository().to_string();
        view_named(&mut repos, forum, FORUM_TEAM).issues.extend(proposals);
    }
    Desired {
        ledger,
        labels: labels::managed(state),
        repos,
    }
}

#[cfg(test)]
pub(crate) mod tests;
