//! The difference between what Forgejo should show and what it shows, as a list of steps.
//! Pure: no I/O. Each step is safe to repeat after a failure, because the next run plans
//! again from what Forgejo then shows: labels are found by name, milestones and issues by
//! marker, tracked time by (time booked, seconds).
//!
//! Order: labels, then per repository milestones, then each issue with its edits, labels,
//! comment and tracked time, so that everything a step refers to exists before it.

use super::desired::{Desired, WantedIssue, WantedMilestone};
use super::models::{parse_time, Issue, Label, TrackedTime};
use super::observe::{Found, Observed, RepoState};
use super::section::Key;
use super::step::{IssueEdit, Ref, Step};
use std::collections::{BTreeSet, HashMap};

/// Everything to change, and what the sync could not do as wished.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// Warnings for people (unknown users, duplicate markers, time tracking off).
    pub warnings: Vec<String>,
    /// Ids of the existing managed labels by name.
    pub label_ids: HashMap<String, i64>,
}

/// Colour as Forgejo answers it: lowercase, no '#'.
fn normalise_color(color: &str) -> String {
    color.trim().trim_start_matches('#').to_lowercase()
}

/// Computes the steps that make Forgejo show `desired`.
pub fn plan(desired: &Desired, observed: &Observed) -> Plan {
    let mut plan = Plan::default();
    plan_labels(desired, observed, &mut plan);
    let managed: BTreeSet<i64> = plan.label_ids.values().copied().collect();
    let exclusive: HashMap<&str, bool> = desired.labels.iter().map(|l| (l.name.as_str(), l.exclusive)).collect();
    for (name, view) in &desired.repos {
        let Some(state) = observed.repos.get(name) else { continue };
        let mut milestones = HashMap::new();
        for wanted in &view.milestones {
            let reference = plan_milestone(name, wanted, state, &mut plan);
            milestones.insert(wanted.key.clone(), reference);
        }
        if !state.time_tracking && view.issues.iter().any(|i| !i.times.is_empty()) {
            plan.warnings.push(format!(
                "time tracking is turned off in repository {name}: work sessions are not booked as tracked time"
            ));
        }
        for wanted in view.issues.iter().filter(|i| state.was_read(&i.key)) {
            let people = assignable(name, wanted, state, &mut plan.warnings);
            let milestone = wanted.milestone.as_ref().and_then(|k| milestones.get(k).cloned());
            match state.issues.get(&wanted.key) {
                Some(found) => {
                    let context = IssueContext {
                        repo: name,
                        wanted,
                        found,
                        state,
                        managed: &managed,
                        exclusive: &exclusive,
                    };
                    plan_existing_issue(&context, people, milestone, &mut plan);
                }
                None => plan_new_issue(name, wanted, people, milestone, state, &mut plan),
            }
        }
    }
    plan
}

fn plan_labels(desired: &Desired, observed: &Observed, plan: &mut Plan) {
    let mut by_name: HashMap<&str, &Label> = HashMap::new();
    for label in &observed.labels {
        let entry = by_name.entry(label.name.as_str()).or_insert(label);
        if label.id < entry.id {
            *entry = label;
        }
    }
    for spec in &desired.labels {
        let Some(label) = by_name.get(spec.name.as_str()) else {
            plan.steps.push(Step::CreateLabel { spec: spec.clone() });
            continue;
        };
        plan.label_ids.insert(spec.name.clone(), label.id);
        let mut changes = Vec::new();
        if normalise_color(&label.color) != spec.color {
            changes.push("colour");
        }
        if label.description != spec.description {
            changes.push("description");
        }
        if label.exclusive != spec.exclusive {
            changes.push("exclusive");
        }
        if label.is_archived {
            changes.push("archived");
        }
        if !changes.is_empty() {
            plan.steps.push(Step::UpdateLabel {
                id: label.id,
                spec: spec.clone(),
                changes,
            });
        }
    }
}

fn plan_milestone(repo: &str, wanted: &WantedMilestone, state: &RepoState, plan: &mut Plan) -> Ref {
    let Some(found) = state.milestones.get(&wanted.key) else {
        plan.steps.push(Step::CreateMilestone {
            repo: repo.to_string(),
            key: wanted.key.clone(),
            title: wanted.title.clone(),
            description: wanted.section.clone(),
            closed: wanted.closed,
        });
        return Ref::New(wanted.key.clone());
    };
    warn_duplicates(repo, "milestones", &wanted.key, &found.duplicates, &mut plan.warnings);
    let mut changes = Vec::new();
    if found.item.title != wanted.title {
        changes.push("title");
    }
    if found.section.current(&found.item.description) != wanted.section {
        changes.push("description");
    }
    match (found.item.state == "closed", wanted.closed) {
        (false, true) => changes.push("closed: all its tasks are paid"),
        (true, false) => changes.push("reopened: it has unpaid tasks"),
        _ => {}
    }
    if !changes.is_empty() {
        plan.steps.push(Step::UpdateMilestone {
            repo: repo.to_string(),
            id: found.item.id,
            key: wanted.key.clone(),
            title: wanted.title.clone(),
            description: found.section.splice(&found.item.description, &wanted.section),
            closed: wanted.closed,
            changes,
        });
    }
    Ref::Existing(found.item.id)
}

fn warn_duplicates(repo: &str, what: &str, key: &Key, duplicates: &[i64], warnings: &mut Vec<String>) {
    if !duplicates.is_empty() {
        let list: Vec<String> = duplicates.iter().map(i64::to_string).collect();
        warnings.push(format!(
            "{repo}: {what} {} also carry the marker of {key}; only the first is kept in step with the ledger",
            list.join(", ")
        ));
    }
}

/// The logins of the wanted people who may be assigned; warns about the others.
fn assignable(repo: &str, wanted: &WantedIssue, state: &RepoState, warnings: &mut Vec<String>) -> Vec<String> {
    let mut logins = Vec::new();
    for handle in &wanted.people {
        match state.assignable.get(&handle.to_lowercase()) {
            Some(login) if !logins.contains(login) => logins.push(login.clone()),
            Some(_) => {}
            None => warnings.push(format!(
                "{handle} ({}) has no Forgejo account that may be assigned in {repo}; the issue shows them in its section only",
                wanted.key
            )),
        }
    }
    logins
}

fn time_steps(repo: &str, issue: Ref, wanted: &WantedIssue, booked: &[TrackedTime], state: &RepoState) -> Vec<Step> {
    if !state.time_tracking {
        return Vec::new();
    }
    let mut left: HashMap<(i64, i64), usize> = HashMap::new();
    for entry in booked {
        if let Some(at) = parse_time(&entry.created) {
            *left.entry((at.0, entry.time)).or_default() += 1;
        }
    }
    let mut steps = Vec::new();
    for time in &wanted.times {
        match left.get_mut(&(time.started.0, time.seconds)) {
            Some(n) if *n > 0 => *n -= 1,
            _ => steps.push(Step::AddTime {
                repo: repo.to_string(),
                issue: issue.clone(),
                key: wanted.key.clone(),
                time: time.clone(),
                user: state.assignable.get(&time.owner.to_lowercase()).cloned(),
            }),
        }
    }
    steps
}

fn plan_new_issue(repo: &str, wanted: &WantedIssue, people: Vec<String>, milestone: Option<Ref>, state: &RepoState, plan: &mut Plan) {
    plan.steps.push(Step::CreateIssue {
        repo: repo.to_string(),
        key: wanted.key.clone(),
        title: wanted.title.clone(),
        body: wanted.section.clone(),
        labels: wanted.labels.clone(),
        assignees: people,
        milestone,
        closed: wanted.closed,
    });
    let steps = time_steps(repo, Ref::New(wanted.key.clone()), wanted, &[], state);
    plan.steps.extend(steps);
}

/// An existing issue and what it is compared with.
struct IssueContext<'a> {
    repo: &'a str,
    wanted: &'a WantedIssue,
    found: &'a Found<Issue>,
    state: &'a RepoState,
    managed: &'a BTreeSet<i64>,
    /// Whether each managed label is exclusive within its scope, by name.
    exclusive: &'a HashMap<&'a str, bool>,
}

/// A scoped label's scope (`status` of `status/paid`); Forgejo's scope is all before the
/// last `/`.
fn scope(name: &str) -> Option<&str> {
    name.rsplit_once('/').map(|(scope, _)| scope).filter(|s| !s.is_empty())
}

fn plan_existing_issue(c: &IssueContext, people: Vec<String>, milestone: Option<Ref>, plan: &mut Plan) {
    let (issue, wanted) = (&c.found.item, c.wanted);
    warn_duplicates(c.repo, "issues", &wanted.key, &c.found.duplicates, &mut plan.warnings);
    if c.found.recovered {
        plan.warnings.push(format!(
            "{}#{}: the issue of {} lost its smartup section (its body was replaced); found again by its title and \
             label, the section is put back and nothing is created or booked twice",
            c.repo, issue.number, wanted.key
        ));
    }
    let mut edit = IssueEdit::default();
    if issue.title != wanted.title {
        edit.title = Some(wanted.title.clone());
    }
    if c.found.section.current(&issue.body) != wanted.section {
        edit.body = Some(c.found.section.splice(&issue.body, &wanted.section));
    }
    let now: BTreeSet<String> = issue.assignees.iter().map(|u| u.login.to_lowercase()).collect();
    let want: BTreeSet<String> = people.iter().map(|l| l.to_lowercase()).collect();
    if now != want {
        edit.assignees = Some(people);
    }
    if let Some(reference) = milestone {
        if issue.milestone.as_ref().map(|m| Ref::Existing(m.id)) != Some(reference.clone()) {
            edit.milestone = Some(reference);
        }
    }
    let reopen = !wanted.closed && issue.is_closed();
    let close = wanted.closed && !issue.is_closed();
    if reopen || close {
        edit.closed = Some(wanted.closed);
    }
    let number = issue.number;
    if !edit.is_empty() {
        plan.steps.push(Step::EditIssue {
            repo: c.repo.to_string(),
            number,
            key: wanted.key.clone(),
            edit,
        });
    }
    plan_issue_labels(c, plan);
    let comment = match (reopen, close) {
        (true, _) => Some(reopened(&wanted.key)),
        (_, true) => wanted.closing_comment.clone(),
        _ => None,
    };
    if let Some(body) = comment {
        plan.steps.push(Step::Comment {
            repo: c.repo.to_string(),
            number,
            key: wanted.key.clone(),
            body,
        });
    }
    let booked = c.state.times.get(&number).map_or(&[][..], Vec::as_slice);
    plan.steps
        .extend(time_steps(c.repo, Ref::Existing(number), wanted, booked, c.state));
}

/// What the sync says when it reopens the issue of `key`, which a person closed while the
/// ledger has it open.
fn reopened(key: &Key) -> String {
    match key {
        Key::Task(_) => format!(
            "Reopened by `smartup forgejo sync`: in the ledger, {key} is not paid yet. Its issue closes by itself once its SC are validated; the section above shows where it stands."
        ),
        Key::Objective(_) => format!(
            "Reopened by `smartup forgejo sync`: in the ledger, {key} has tasks that are not paid yet. Its issue closes by itself once all of them are; the section above lists them."
        ),
        Key::Proposal(seq) => format!(
            "Reopened by `smartup forgejo sync`: in the ledger, proposal #{seq} is not closed yet. Its issue closes by itself, with the result, once the proposal is closed; the section above shows the tally so far."
        ),
    }
}

/// Sets an issue's managed labels as wanted, keeping the labels people set. A label people
/// set in the scope of a managed label, where either is exclusive, holds that scope: Forgejo
/// keeps one label per exclusive scope, and the sync never takes a person's label off, so
/// the managed label of that scope is left out, with a warning (and the run after plans
/// nothing for it).
fn plan_issue_labels(c: &IssueContext, plan: &mut Plan) {
    let issue = &c.found.item;
    let foreign: Vec<&Label> = issue.labels.iter().filter(|l| !c.managed.contains(&l.id)).collect();
    let keep: Vec<i64> = foreign.iter().map(|l| l.id).collect();
    let carried: BTreeSet<&str> = issue
        .labels
        .iter()
        .filter(|l| c.managed.contains(&l.id))
        .map(|l| l.name.as_str())
        .collect();
    let mut labels = c.wanted.labels.clone();
    labels.retain(|name| {
        let ours_exclusive = c.exclusive.get(name.as_str()).copied().unwrap_or(false);
        let held = foreign
            .iter()
            .find(|f| scope(&f.name).is_some() && scope(&f.name) == scope(name) && (f.exclusive || ours_exclusive));
        if let Some(person) = held {
            plan.warnings.push(format!(
                "{}#{} ({}): {}, a label people set, holds the scope {}/ where the ledger says {name}; the sync leaves \
                 it and does not set {name} (remove {} to show the ledger's)",
                c.repo,
                issue.number,
                c.wanted.key,
                person.name,
                scope(name).unwrap_or(""),
                person.name
            ));
        }
        held.is_none()
    });
    let wanted: BTreeSet<&str> = labels.iter().map(String::as_str).collect();
    if carried == wanted {
        return;
    }
    plan.steps.push(Step::SetLabels {
        repo: c.repo.to_string(),
        number: issue.number,
        key: c.wanted.key.clone(),
        keep,
        labels: labels.clone(),
        added: wanted.difference(&carried).map(|s| s.to_string()).collect(),
        removed: carried.difference(&wanted).map(|s| s.to_string()).collect(),
    });
}

#[cfg(test)]
mod tests;
