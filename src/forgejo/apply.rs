//! Carrying a plan out, step by step and in order. Labels, milestones and issues that earlier
//! steps created are looked up by the name or key the plan gives them. The first step that
//! fails stops the run: what was done stays done and is consistent on its own (an issue is
//! created whole, with its labels, people, milestone and state, in one request), and the
//! next run plans only what is left.

use super::client::Client;
use super::labels::LabelSpec;
use super::models::{AddTime, CommentOption, CreateIssue, EditIssue, Issue, IssueLabels, Label, LabelOption, Milestone, MilestoneOption};
use super::plan::Plan;
use super::section::Key;
use super::step::{Ref, Step};
use anyhow::{anyhow, Context, Result};
use reqwest::Method;
use serde::de::IgnoredAny;
use std::collections::HashMap;

/// A run that stopped at a failing step.
#[derive(Debug)]
pub struct Stopped {
    /// Steps done before it.
    pub done: usize,
    /// Why it failed.
    pub error: anyhow::Error,
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
            .ok_or_else(|| anyhow!("label {name} does not exist (its creation did not happen)"))
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
            .ok_or_else(|| anyhow!("the {what} of {key} in {repo} was not created")),
    }
}

/// Applies the steps of `plan` in the organisation `org`, calling `done(i, step)` after each.
pub fn apply(client: &Client, org: &str, plan: &Plan, done: &mut dyn FnMut(usize, &Step)) -> Result<usize, Stopped> {
    let mut known = Known {
        labels: plan.label_ids.clone(),
        milestones: HashMap::new(),
        issues: HashMap::new(),
    };
    for (i, step) in plan.steps.iter().enumerate() {
        run(client, org, step, &mut known)
            .with_context(|| format!("could not {}", step.describe()))
            .map_err(|error| Stopped { done: i, error })?;
        done(i + 1, step);
    }
    Ok(plan.steps.len())
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
        } => {
            let body = MilestoneOption {
                title: title.clone(),
                description: description.clone(),
            };
            let milestone: Milestone = client.write(Method::POST, &["repos", org, repo, "milestones"], &body)?;
            known.milestones.insert((repo.clone(), key.clone()), milestone.id);
        }
        Step::UpdateMilestone {
            repo,
            id,
            title,
            description,
            ..
        } => {
            let body = MilestoneOption {
                title: title.clone(),
                description: description.clone(),
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
