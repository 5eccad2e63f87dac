//! What Forgejo shows now, read (never written) for the planner: the organisation's labels
//! and, per team repository (and the general forum's, which holds the proposals), the issues
//! and milestones that carry this ledger's markers, the users that may be assigned, and the
//! tracked time of the task issues that should have some (one paged list per repository, or
//! per issue when a sync after a cursor reads a few).
//! Issues are listed with `state=all` and found by the marker in their body (an issue whose
//! body was replaced, by its title's id and kind label), never through the search index
//! (which lags behind). With a cursor ([`Scope::Since`]) only the issues updated since its
//! run and those whose wanted state changed are read, and only they are planned.

use super::accounts::FORUM_TEAM;
use super::client::Client;
use super::config::Settings;
use super::cursor::{Cursor, ToRead};
use super::desired::{title_prefix, Desired, RepoView};
use super::labels;
use super::models::{Issue, Label, Milestone, Repository, TrackedTime, User};
use super::section::{self, Key, Located};
use anyhow::{anyhow, bail, Context, Result};
use std::collections::{BTreeMap, BTreeSet, HashMap};

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
    /// The task and objective issues read, when not all were (a sync after a cursor): only
    /// these are compared and planned; the others are in step.
    pub checked: Option<BTreeSet<Key>>,
}

impl RepoState {
    /// True when the issue of `key` was read, so that it is compared and planned.
    pub fn was_read(&self, key: &Key) -> bool {
        self.checked.as_ref().is_none_or(|keys| keys.contains(key))
    }
}

/// How much of Forgejo to read.
#[derive(Clone, Copy)]
pub enum Scope<'c> {
    /// Every issue of every team repository.
    Full,
    /// What changed since the cursor's run: issues whose wanted state changed and issues
    /// Forgejo lists as updated since (see [`super::cursor`]).
    Since(&'c Cursor),
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

/// The sync's `kind/…` label of an issue of `key`'s kind.
fn kind_label(key: &Key) -> &'static str {
    match key {
        Key::Task(_) => labels::KIND_TASK,
        Key::Objective(_) => labels::KIND_OBJECTIVE,
        Key::Proposal(_) => labels::KIND_PROPOSAL,
    }
}

/// Finds again the issues whose section someone replaced (a whole new body: marker gone), so
/// that they are not created twice and their time not booked twice: an issue without any
/// section of this ledger whose title starts with the id the sync gives it (`6_2_1_1 — `,
/// `#33 `) and that carries the sync's `kind/…` label of its kind. The lowest number wins.
fn recover_lost_sections(issues: &[Issue], view: &RepoView, ledger: &str, found: &mut BTreeMap<Key, Found<Issue>>) {
    for wanted in &view.issues {
        if found.contains_key(&wanted.key) {
            continue;
        }
        let prefix = title_prefix(&wanted.key);
        let kind = kind_label(&wanted.key);
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

/// Reads what the plan compares (everything, or what changed since a cursor), calling
/// `progress(done, all)` per repository.
pub fn observe(client: &Client, settings: &Settings, desired: &Desired, scope: Scope, progress: &dyn Fn(usize, usize)) -> Result<Observed> {
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
        let to_read = match scope {
            Scope::Full => None,
            Scope::Since(cursor) => Some(cursor.to_read(name, &view.issues)),
        };
        let state = observe_repo(client, org, name, view, &desired.ledger, to_read)?;
        observed.repos.insert(name.clone(), state);
        progress(done + 1, all);
    }
    Ok(observed)
}

/// Whose a repository is and what it keeps, for messages: `team 3_2 keeps its work`.
fn keeper(view: &RepoView) -> String {
    if view.team == FORUM_TEAM {
        "the general forum keeps the proposals".to_string()
    } else {
        format!("team {} keeps its work", view.team)
    }
}

fn observe_repo(client: &Client, org: &str, name: &str, view: &RepoView, ledger: &str, to_read: Option<ToRead>) -> Result<RepoState> {
    let info: Repository = client.get(&["repos", org, name]).map_err(|e| match e.status() {
        Some(404) => anyhow!(
            "{e}: {} in repository {org}/{name}, which does not exist; create it, or name another repository as {} under [forgejo.repositories] in ledger.toml",
            keeper(view),
            view.team
        ),
        _ => e.into(),
    })?;
    if info.has_issues == Some(false) {
        bail!(
            "repository {org}/{name} has its issues turned off, and {} there; turn them on in the repository's settings",
            keeper(view)
        );
    }
    let context = || format!("reading repository {org}/{name}");
    let issues = read_issues(client, org, name, to_read.as_ref())?;
    let milestones: Vec<Milestone> = if view.milestones.is_empty() {
        Vec::new()
    } else {
        client
            .list(&["repos", org, name, "milestones"], &[("state", "all")])
            .with_context(context)?
    };
    let mut found = by_marker(&issues, ledger, |i| &i.body, |i| i.number);
    recover_lost_sections(&issues, view, ledger, &mut found);
    let checked = to_read.map(|read| found.keys().cloned().chain(read.changed).collect::<BTreeSet<Key>>());
    let read = |key: &Key| checked.as_ref().is_none_or(|keys| keys.contains(key));
    let assignable = if view
        .issues
        .iter()
        .filter(|i| read(&i.key))
        .any(|i| !i.people.is_empty() || !i.times.is_empty())
    {
        let users: Vec<User> = client.get(&["repos", org, name, "assignees"]).with_context(context)?;
        users.into_iter().map(|u| (u.login.to_lowercase(), u.login)).collect()
    } else {
        HashMap::new()
    };
    let booked: Vec<i64> = view
        .issues
        .iter()
        .filter(|i| !i.times.is_empty() && read(&i.key))
        .filter_map(|i| found.get(&i.key).map(|found| found.item.number))
        .collect();
    let mut state = RepoState {
        issues: found,
        milestones: by_marker(&milestones, ledger, |m| &m.description, |m| m.id),
        assignable,
        time_tracking: info.tracks_time(),
        times: HashMap::new(),
        checked,
    };
    if state.time_tracking && !booked.is_empty() {
        state.times = read_times(client, org, name, &booked, state.checked.is_some())?;
    }
    Ok(state)
}

/// Issues read one by one rather than all listed, at most: past this, one paged list of the
/// repository's tracked time costs less.
const TIMES_ONE_BY_ONE: usize = 8;

/// The tracked time of the issues `booked`: one paged list of the repository's time, or,
/// when only a few issues of a sync after a cursor are read, one list per issue.
fn read_times(client: &Client, org: &str, name: &str, booked: &[i64], few: bool) -> Result<HashMap<i64, Vec<TrackedTime>>> {
    let context = || format!("reading the tracked time of {org}/{name}");
    let mut times: HashMap<i64, Vec<TrackedTime>> = booked.iter().map(|n| (*n, Vec::new())).collect();
    if few && booked.len() <= TIMES_ONE_BY_ONE {
        for number in booked {
            let text = number.to_string();
            let list = client
                .list(&["repos", org, name, "issues", &text, "times"], &[])
                .with_context(context)?;
            times.insert(*number, list);
        }
        return Ok(times);
    }
    let all: Vec<TrackedTime> = client.list(&["repos", org, name, "times"], &[]).with_context(context)?;
    for time in all {
        if let Some(list) = time.issue.as_ref().and_then(|i| times.get_mut(&i.number)) {
            list.push(time);
        }
    }
    Ok(times)
}

/// The repository's issues (pull requests left out): all of them, or those `to_read` names
/// (updated since its time, and its numbers read one by one; one deleted since is skipped).
fn read_issues(client: &Client, org: &str, name: &str, to_read: Option<&ToRead>) -> Result<Vec<Issue>> {
    let context = || format!("reading repository {org}/{name}");
    let since = to_read.and_then(|r| r.since).map(|t| t.to_string());
    let mut query = vec![("state", "all"), ("type", "issues")];
    if let Some(since) = &since {
        query.push(("since", since.as_str()));
    }
    let mut issues: Vec<Issue> = client.list(&["repos", org, name, "issues"], &query).with_context(context)?;
    for number in to_read.map(|r| r.numbers.as_slice()).unwrap_or_default() {
        if issues.iter().any(|i| i.number == *number) {
            continue;
        }
        let text = number.to_string();
        match client.get::<Issue>(&["repos", org, name, "issues", &text]) {
            Ok(issue) => issues.push(issue),
            Err(e) if e.status() == Some(404) => {}
            Err(e) => return Err(anyhow::Error::new(e).context(context())),
        }
    }
    issues.retain(|i| i.pull_request.is_none());
    Ok(issues)
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

    #[test]
    fn a_proposals_issue_that_lost_its_section_is_found_by_its_number_and_kind_label() {
        let ledger = "0123456789abcdef0123";
        let kind = Label {
            name: labels::KIND_PROPOSAL.into(),
            ..Label::default()
        };
        let issue = |number: i64, title: &str, labelled: bool| Issue {
            number,
            title: title.into(),
            body: "Rewritten by hand".into(),
            labels: if labelled { vec![kind.clone()] } else { vec![] },
            ..Issue::default()
        };
        let issues = [
            issue(2, "#34 Meet on Mondays (lazy-consensus)", true),
            issue(3, "#3 Adopt the logo (binding-vote)", false),
            issue(4, "#3 Adopt the logo (binding-vote)", true),
        ];
        let wanted = |seq: &str| crate::forgejo::desired::WantedIssue {
            key: Key::Proposal(seq.into()),
            title: String::new(),
            section: String::new(),
            labels: Vec::new(),
            people: Vec::new(),
            milestone: None,
            closed: false,
            closing_comment: None,
            times: Vec::new(),
        };
        let view = RepoView {
            team: FORUM_TEAM.into(),
            milestones: Vec::new(),
            issues: vec![wanted("3"), wanted("34"), wanted("35")],
        };
        let mut found = BTreeMap::new();
        recover_lost_sections(&issues, &view, ledger, &mut found);
        let numbers: Vec<(String, i64, bool)> = found
            .iter()
            .map(|(key, f)| (key.id().to_string(), f.item.number, f.recovered))
            .collect();
        assert_eq!(
            numbers,
            [("3".to_string(), 4, true), ("34".to_string(), 2, true)],
            "#3 is not #34, and an issue without kind/proposal is a person's"
        );
    }
}
