//! Carrying a plan out, step by step and in order. Labels, milestones and issues that earlier
//! steps created are looked up by the name or key the plan gives them.
//!
//! When Forgejo refuses a change of one object for good (404, 409, 412, 422, 423: a person
//! made that issue depend on an open one, deleted it, locked it…), that object's remaining
//! changes are skipped, with the reason, and the run goes on with the others; a change that
//! needs an object whose creation was skipped is skipped too. Any other failure (the network,
//! Forgejo busy or failing, the token) stops the run: what was done stays done and is
//! consistent on its own (an issue is created whole, with its labels, people, milestone and
//! state, in one request), and the next run plans only what is left.

use super::client::{ApiError, Client};
use super::labels::LabelSpec;
use super::models::{AddTime, CommentOption, CreateIssue, EditIssue, Issue, IssueLabels, Label, LabelOption, Milestone, MilestoneOption};
use super::plan::Plan;
use super::section::Key;
use super::step::{Ref, Step};
use anyhow::{Context, Result};
use reqwest::Method;
use serde::de::IgnoredAny;
use std::collections::{HashMap, HashSet};

/// A run that stopped at a failing step.
#[derive(Debug)]
pub struct Stopped {
    /// Steps done before it.
    pub done: usize,
    /// Why it failed.
    pub error: anyhow::Error,
    /// True when the failure passes (the network, Forgejo busy or failing): running the sync
    /// again finishes the job. False when someone must act first (the token, its scopes).
    pub transient: bool,
    /// The changes skipped before it stopped.
    pub skipped: Vec<Skipped>,
}

/// A change Forgejo refused for good, or that needed an object whose change was refused.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Skipped {
    /// The change, as [`Step::describe`] says it.
    pub change: String,
    /// The object it would have changed.
    pub object: String,
    /// Why it was skipped.
    pub reason: String,
}

/// What a run did.
#[derive(Debug, Default)]
pub struct Applied {
    /// Changes applied.
    pub done: usize,
    /// Changes skipped, each with its reason.
    pub skipped: Vec<Skipped>,
}

/// An object an earlier step created is not there, because its creation was skipped.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct NotCreated(String);

/// Statuses by which Forgejo refuses one object's change for good.
const REFUSALS: [u16; 5] = [404, 409, 412, 422, 423];

/// True when `error` is Forgejo refusing this one change for good (or a change that needed
/// an object whose creation was skipped).
fn refused(error: &anyhow::Error) -> bool {
    error.chain().any(|e| {
        e.downcast_ref::<NotCreated>().is_some()
            || e.downcast_ref::<ApiError>()
                .and_then(ApiError::status)
                .is_some_and(|s| REFUSALS.contains(&s))
    })
}

/// True when `error` passes if one waits: no answer, or Forgejo busy or failing.
fn transient(error: &anyhow::Error) -> bool {
    error
        .chain()
        .filter_map(|e| e.downcast_ref::<ApiError>())
        .any(ApiError::is_transient)
}

/// Numbers and ids of what exists, growing as steps create things.
struct Known {
    labels: HashMap<String, i64>,
    milestones: HashMap<(String, Key), i64>,
    issues: HashMap<(String, Key), i64>,
}

impl Known {
    fn label(&self, name: &str) -> Result<i64> {
        self.labels
            .get(name)
            .copied()
            .ok_or_else(|| NotCreated(format!("label {name} does not exist (its creation was skipped)")).into())
    }

    fn milestone(&self, repo: &str, reference: &Ref) -> Result<i64> {
        created(&self.milestones, repo, reference, "milestone")
    }

    fn issue(&self, repo: &str, reference: &Ref) -> Result<i64> {
        created(&self.issues, repo, reference, "issue")
    }
}

/// An existing object's number, or the one an earlier step gave the object it created.
fn created(made: &HashMap<(String, Key), i64>, repo: &str, reference: &Ref, what: &str) -> Result<i64> {
    match reference {
        Ref::Existing(number) => Ok(*number),
        Ref::New(key) => made
            .get(&(repo.to_string(), key.clone()))
            .copied()
            .ok_or_else(|| NotCreated(format!("the {what} of {key} in {repo} was not created (its creation was skipped)")).into()),
    }
}

/// Applies the steps of `plan` in the organisation `org`, calling `done(i, step)` after each
/// step applied or skipped.
pub fn apply(client: &Client, org: &str, plan: &Plan, done: &mut dyn FnMut(usize, &Step)) -> Result<Applied, Stopped> {
    let mut known = Known {
        labels: plan.label_ids.clone(),
        milestones: HashMap::new(),
        issues: HashMap::new(),
    };
    let mut applied = Applied::default();
    let mut refused_objects: HashSet<String> = HashSet::new();
    for (i, step) in plan.steps.iter().enumerate() {
        let object = step.object();
        if refused_objects.contains(&object) {
            applied.skipped.push(Skipped {
                change: step.describe(),
                object,
                reason: "Forgejo refused an earlier change of it (above)".into(),
            });
            done(i + 1, step);
            continue;
        }
        match run(client, org, step, &mut known).with_context(|| format!("could not {}", step.describe())) {
            Ok(()) => applied.done += 1,
            Err(error) if refused(&error) => {
                let reason = error.root_cause().to_string();
                refused_objects.insert(object.clone());
                applied.skipped.push(Skipped {
                    change: step.describe(),
                    object,
                    reason,
                });
            }
            Err(error) => {
                return Err(Stopped {
                    done: applied.done,
                    transient: transient(&error),
                    error,
                    skipped: applied.skipped,
                })
            }
        }
        done(i + 1, step);
    }
    Ok(applied)
}

/// Forgejo's word for an open or closed milestone.
fn state_name(closed: bool) -> &'static str {
    if closed {
        "closed"
    } else {
        "open"
    }
}

fn label_option(spec: &LabelSpec) -> LabelOption {
    LabelOption {
        name: spec.name.clone(),
        color: format!("#{}", spec.color),
        description: spec.description.clone(),
        exclusive: spec.exclusive,
        is_archived: false,
    }
}

fn run(client: &Client, org: &str, step: &Step, known: &mut Known) -> Result<()> {
    match step {
        Step::CreateLabel { spec } => {
            let label: Label = client.write(Method::POST, &["orgs", org, "labels"], &label_option(spec))?;
            known.labels.insert(spec.name.clone(), label.id);
        }
        Step::UpdateLabel { id, spec, .. } => {
            let id = id.to_string();
            client.write::<_, IgnoredAny>(Method::PATCH, &["orgs", org, "labels", &id], &label_option(spec))?;
        }
        Step::CreateMilestone {
            repo,
            key,
            title,
            description,
            closed,
        } => {
            let body = MilestoneOption {
                title: title.clone(),
                description: description.clone(),
                state: state_name(*closed),
            };
            let milestone: Milestone = client.write(Method::POST, &["repos", org, repo, "milestones"], &body)?;
            known.milestones.insert((repo.clone(), key.clone()), milestone.id);
        }
        Step::UpdateMilestone {
            repo,
            id,
            title,
            description,
            closed,
            ..
        } => {
            let body = MilestoneOption {
                title: title.clone(),
                description: description.clone(),
                state: state_name(*closed),
            };
            let id = id.to_string();
            client.write::<_, IgnoredAny>(Method::PATCH, &["repos", org, repo, "milestones", &id], &body)?;
        }
        Step::CreateIssue {
            repo,
            key,
            title,
            body,
            labels,
            assignees,
            milestone,
            closed,
        } => {
            let body = CreateIssue {
                title: title.clone(),
                body: body.clone(),
                labels: labels.iter().map(|l| known.label(l)).collect::<Result<_>>()?,
                assignees: assignees.clone(),
                milestone: milestone.as_ref().map(|m| known.milestone(repo, m)).transpose()?,
                closed: *closed,
            };
            let issue: Issue = client.write(Method::POST, &["repos", org, repo, "issues"], &body)?;
            known.issues.insert((repo.clone(), key.clone()), issue.number);
        }
        Step::EditIssue { repo, number, edit, .. } => {
            let body = EditIssue {
                title: edit.title.clone(),
                body: edit.body.clone(),
                assignees: edit.assignees.clone(),
                milestone: edit.milestone.as_ref().map(|m| known.milestone(repo, m)).transpose()?,
                state: edit.closed.map(|c| if c { "closed" } else { "open" }.to_string()),
            };
            let number = number.to_string();
            client.write::<_, IgnoredAny>(Method::PATCH, &["repos", org, repo, "issues", &number], &body)?;
        }
        Step::SetLabels {
            repo,
            number,
            keep,
            labels,
            ..
        } => {
            let mut ids = keep.clone();
            for name in labels {
                ids.push(known.label(name)?);
            }
            let number = number.to_string();
            let path = ["repos", org, repo, "issues", &number, "labels"];
            client.write::<_, IgnoredAny>(Method::PUT, &path, &IssueLabels { labels: ids })?;
        }
        Step::Comment { repo, number, body, .. } => {
            let number = number.to_string();
            let path = ["repos", org, repo, "issues", &number, "comments"];
            client.write::<_, IgnoredAny>(Method::POST, &path, &CommentOption { body: body.clone() })?;
        }
        Step::AddTime {
            repo, issue, time, user, ..
        } => {
            let number = known.issue(repo, issue)?.to_string();
            let body = AddTime {
                time: time.seconds,
                created: time.started.to_string(),
                user_name: user.clone(),
            };
            let path = ["repos", org, repo, "issues", &number, "times"];
            client.write::<_, IgnoredAny>(Method::POST, &path, &body)?;
        }
    }
    Ok(())
}
