//! What Forgejo shows now, read (never written) for the planner: the organisation's labels
//! and, per team repository, the issues and milestones that carry this ledger's markers, the
//! users that may be assigned, and the tracked time of the task issues that should have some
//! (one paged list per repository).
//! Issues are listed with `state=all` and found by the marker in their body (an issue whose
//! body was replaced, by its title's id and kind label), never through the search index
//! (which lags behind).

use super::client::Client;
use super::config::Settings;
use super::desired::{Desired, RepoView};
use super::models::{Issue, Label, Milestone, Repository, TrackedTime, User};
use super::section::{self, Key, Located};
use anyhow::{anyhow, bail, Context, Result};
use std::collections::{BTreeMap, HashMap};

/// Something of the sync's, found by its marker.
#[derive(Clone, Debug)]
pub struct Found<T> {
    /// The object (the one with the lowest number when several carry the marker).
    pub item: T,
    /// Where its section is.
    pub section: Located,
    /// Numbers (or ids) of other objects that carry the same marker.
    pub duplicates: Vec<i64>,
    /// True for an issue whose section (and marker) someone removed, found again by its title
    /// and kind label: its section is to be put back.
    pub recovered: bool,
}

/// What one repository shows.
#[derive(Clone, Debug, Default)]
pub struct RepoState {
    /// This ledger's issues by marker.
    pub issues: BTreeMap<Key, Found<Issue>>,
    /// This ledger's milestones by marker.
    pub milestones: BTreeMap<Key, Found<Milestone>>,
    /// Users that may be assigned (write access), by lowercase login, as Forgejo spells them.
    pub assignable: HashMap<String, String>,
    /// Whether time tracking is on.
    pub time_tracking: bool,
    /// Tracked time by issue number.
    pub times: HashMap<i64, Vec<TrackedTime>>,
}

/// What Forgejo shows.
#[derive(Clone, Debug, Default)]
pub struct Observed {
    /// The organisation's labels.
    pub labels: Vec<Label>,
    /// Repositories by name.
    pub repos: BTreeMap<String, RepoState>,
}

/// Groups objects by the marker in their text; the lowest number wins.
fn by_marker<T: Clone>(items: &[T], ledger: &str, text: impl Fn(&T) -> &str, number: impl Fn(&T) -> i64) -> BTreeMap<Key, Found<T>> {
    let mut found: BTreeMap<Key, Found<T>> = BTreeMap::new();
    let mut sorted: Vec<&T> = items.iter().collect();
    sorted.sort_by_key(|item| number(item));
    for item in sorted {
        let Some(located) = section::find(text(item), ledger) else {
            continue;
        };
        match found.get_mut(&located.key) {
            Some(first) => first.duplicates.push(number(item)),
            None => {
                found.insert(
                    located.key.clone(),
                    Found {
                        item: item.clone(),
                        section: located,
                        duplicates: Vec::new(),
                        recovered: false,
                    },
                );
            }
        }
    }
    found
}

/// Finds again the issues whose section someone replaced (a whole new body: marker gone), so
/// that they are not created twice and their time not booked twice: an issue without any
/// section of this ledger whose title starts with the id the sync gives it (`6_2_1_1 — `) and
/// that carries the sync's `kind/…` label of its kind. The lowest number wins.
fn recover_lost_sections(issues: &[Issue], view: &RepoView, ledger: &str, found: &mut BTreeMap<Key, Found<Issue>>) {
    for wanted in &view.issues {
        if found.contains_key(&wanted.key) {
            continue;
        }
        let prefix = format!("{} — ", wanted.key.id());
        let kind = match wanted.key {
            Key::Task(_) => "kind/task",
            Key::Objective(_) => "kind/objective",
        };
        let candidate = issues
            .iter()
            .filter(|i| i.title.starts_with(&prefix) && i.labels.iter().any(|l| l.name == kind))
            .filter(|i| section::find(&i.body, ledger).is_none())
            .min_by_key(|i| i.number);
        if let Some(issue) = candidate {
            found.insert(
                wanted.key.clone(),
                Found {
                    item: issue.clone(),
                    section: section::Located::missing(wanted.key.clone(), &issue.body),
                    duplicates: Vec::new(),
                    recovered: true,
                },
            );
        }
    }
}

/// Reads everything the plan compares, calling `progress(done, all)` per repository.
pub fn observe(client: &Client, settings: &Settings, desired: &Desired, progress: &dyn Fn(usize, usize)) -> Result<Observed> {
    let org = settings.organisation.as_str();
    client.get::<serde::de::IgnoredAny>(&["orgs", org]).map_err(|e| match e.status() {
        Some(404) => anyhow!(
            "{e}: there is no organisation {org:?} on {} (the [forgejo] organisation in ledger.toml)",
            settings.instance()
        ),
        _ => e.into(),
    })?;
    let labels = client
        .list(&["orgs", org, "labels"], &[])
        .with_context(|| format!("reading the labels of organisation {org}"))?;
    let mut observed = Observed {
        labels,
        repos: BTreeMap::new(),
    };
    let all = desired.repos.len();
    for (done, (name, view)) in desired.repos.iter().enumerate() {
        let state = observe_repo(client, org, name, view, &desired.ledger)?;
        observed.repos.insert(name.clone(), state);
        progress(done + 1, all);
    }
    Ok(observed)
}

fn observe_repo(client: &Client, org: &str, name: &str, view: &RepoView, ledger: &str) -> Result<RepoState> {
    let info: Repository = client.get(&["repos", org, name]).map_err(|e| match e.status() {
        Some(404) => anyhow!(
            "{e}: team {} keeps its work in repository {org}/{name}, which does not exist; create it, or name the team's repository under [forgejo.repositories] in ledger.toml",
            view.team
        ),
        _ => e.into(),
    })?;
    if info.has_issues == Some(false) {
        bail!(
            "repository {org}/{name} (team {}) has its issues turned off; turn them on in the repository's settings",
            view.team
        );
    }
    let context = || format!("reading repository {org}/{name}");
    let issues: Vec<Issue> = client
        .list(&["repos", org, name, "issues"], &[("state", "all"), ("type", "issues")])
        .with_context(context)?;
    let issues: Vec<Issue> = issues.into_iter().filter(|i| i.pull_request.is_none()).collect();
    let milestones: Vec<Milestone> = if view.milestones.is_empty() {
        Vec::new()
    } else {
        client
            .list(&["repos", org, name, "milestones"], &[("state", "all")])
            .with_context(context)?
    };
    let assignable = if view.issues.iter().any(|i| !i.people.is_empty() || !i.times.is_empty()) {
        let users: Vec<User> = client.get(&["repos", org, name, "assignees"]).with_context(context)?;
        users.into_iter().map(|u| (u.login.to_lowercase(), u.login)).collect()
    } else {
        HashMap::new()
    };
    let mut found = by_marker(&issues, ledger, |i| &i.body, |i| i.number);
    recover_lost_sections(&issues, view, ledger, &mut found);
    let mut state = RepoState {
        issues: found,
        milestones: by_marker(&milestones, ledger, |m| &m.description, |m| m.id),
        assignable,
        time_tracking: info.tracks_time(),
        times: HashMap::new(),
    };
    let booked: Vec<i64> = view
        .issues
        .iter()
        .filter(|i| !i.times.is_empty())
        .filter_map(|i| state.issues.get(&i.key).map(|found| found.item.number))
        .collect();
    if state.time_tracking && !booked.is_empty() {
        // One paged list of the repository's tracked time, not one request per issue.
        let times: Vec<TrackedTime> = client
            .list(&["repos", org, name, "times"], &[])
            .with_context(|| format!("reading the tracked time of {org}/{name}"))?;
        for number in booked {
            state.times.insert(number, Vec::new());
        }
        for time in times {
            if let Some(list) = time.issue.as_ref().and_then(|i| state.times.get_mut(&i.number)) {
                list.push(time);
            }
        }
    }
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lowest_number_wins_and_the_others_are_duplicates() {
        let ledger = "0123456789abcdef0123";
        let section = section::wrap(&Key::Task("6_2_1_1".into()), ledger, "x");
        let issue = |number: i64, body: &str| Issue {
            number,
            body: body.to_string(),
            ..Issue::default()
        };
        let issues = [issue(7, &section), issue(3, &format!("copied:\n{section}")), issue(5, "nothing")];
        let found = by_marker(&issues, ledger, |i| &i.body, |i| i.number);
        assert_eq!(found.len(), 1);
        let task = &found[&Key::Task("6_2_1_1".into())];
        assert_eq!((task.item.number, task.duplicates.clone()), (3, vec![7]));
    }
}
