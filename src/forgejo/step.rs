//! One change to Forgejo: what it is, how it reads for people (`describe`) and for scripts
//! (`to_json`). Steps refer to milestones and issues that an earlier step creates by their
//! key ([`Ref::New`]); the applier resolves them.

use super::desired::WantedTime;
use super::labels::LabelSpec;
use super::section::Key;
use serde_json::{json, Value};

/// A milestone or an issue: one that exists, or one an earlier step creates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ref {
    /// Exists: its id (milestone) or number (issue).
    Existing(i64),
    /// Created by an earlier step of this plan.
    New(Key),
}

/// The fields of an issue edit.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IssueEdit {
    /// New title.
    pub title: Option<String>,
    /// New body.
    pub body: Option<String>,
    /// New assignees (logins).
    pub assignees: Option<Vec<String>>,
    /// New milestone.
    pub milestone: Option<Ref>,
    /// Close (true) or reopen (false).
    pub closed: Option<bool>,
}

/// One change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Create an organisation label.
    CreateLabel {
        /// The label.
        spec: LabelSpec,
    },
    /// Bring an organisation label back to its spec.
    UpdateLabel {
        /// Its id.
        id: i64,
        /// The label.
        spec: LabelSpec,
        /// What differs.
        changes: Vec<&'static str>,
    },
    /// Create a milestone.
    CreateMilestone {
        /// Repository.
        repo: String,
        /// Whose.
        key: Key,
        /// Title.
        title: String,
        /// Description.
        description: String,
        /// Created closed (all its tasks are paid).
        closed: bool,
    },
    /// Update a milestone's title and description.
    UpdateMilestone {
        /// Repository.
        repo: String,
        /// Its id.
        id: i64,
        /// Whose.
        key: Key,
        /// Title.
        title: String,
        /// Description.
        description: String,
        /// Closed (all its tasks are paid) or open.
        closed: bool,
        /// What differs.
        changes: Vec<&'static str>,
    },
    /// Create an issue, complete with labels, assignees, milestone and state.
    CreateIssue {
        /// Repository.
        repo: String,
        /// Whose.
        key: Key,
        /// Title.
        title: String,
        /// Body.
        body: String,
        /// Managed label names.
        labels: Vec<String>,
        /// Logins.
        assignees: Vec<String>,
        /// Milestone.
        milestone: Option<Ref>,
        /// Created closed.
        closed: bool,
    },
    /// Edit an issue.
    EditIssue {
        /// Repository.
        repo: String,
        /// Its number.
        number: i64,
        /// Whose.
        key: Key,
        /// The fields that change.
        edit: IssueEdit,
    },
    /// Replace an issue's labels: its unmanaged ones kept, the managed ones as wanted.
    SetLabels {
        /// Repository.
        repo: String,
        /// Its number.
        number: i64,
        /// Whose.
        key: Key,
        /// Ids of the labels people put there, kept.
        keep: Vec<i64>,
        /// Managed label names it carries.
        labels: Vec<String>,
        /// Managed names added, for the report.
        added: Vec<String>,
        /// Managed names removed, for the report.
        removed: Vec<String>,
    },
    /// Comment on an issue.
    Comment {
        /// Repository.
        repo: String,
        /// Its number.
        number: i64,
        /// Whose.
        key: Key,
        /// Text.
        body: String,
    },
    /// Book a closed work session as tracked time.
    AddTime {
        /// Repository.
        repo: String,
        /// The issue.
        issue: Ref,
        /// Whose issue.
        key: Key,
        /// The session.
        time: WantedTime,
        /// The owner's login, when they have an account that may be assigned.
        user: Option<String>,
    },
}

/// The issue of `key` in `repo`, in the words of [`Step::object`].
pub fn issue_object(repo: &str, key: &Key) -> String {
    format!("the issue of {key} in {repo}")
}

fn issue_ref(repo: &str, number: Option<i64>, key: &Key) -> String {
    match number {
        Some(n) => format!("{repo}#{n} ({key})"),
        None => format!("{repo}: new issue of {key}"),
    }
}

fn seconds_text(seconds: i64) -> String {
    format!("{} h {:02} min", seconds / 3600, (seconds % 3600) / 60)
}

impl Step {
    /// The Forgejo object the step changes, in words (`label status/assigned`, `the issue of
    /// task 6_2_1_1 in design`): when Forgejo refuses one change of an object, the sync
    /// skips that object's remaining changes.
    pub fn object(&self) -> String {
        match self {
            Step::CreateLabel { spec } | Step::UpdateLabel { spec, .. } => format!("label {}", spec.name),
            Step::CreateMilestone { repo, key, .. } | Step::UpdateMilestone { repo, key, .. } => {
                format!("the milestone of {key} in {repo}")
            }
            Step::CreateIssue { repo, key, .. }
            | Step::EditIssue { repo, key, .. }
            | Step::SetLabels { repo, key, .. }
            | Step::Comment { repo, key, .. }
            | Step::AddTime { repo, key, .. } => issue_object(repo, key),
        }
    }

    /// One line for people: what changes, on which object.
    pub fn describe(&self) -> String {
        match self {
            Step::CreateLabel { spec } => format!("create label {}", spec.name),
            Step::UpdateLabel { spec, changes, .. } => format!("update label {} ({})", spec.name, changes.join(", ")),
            Step::CreateMilestone {
                repo, key, title, closed, ..
            } => format!(
                "create milestone {repo}: {title} ({key}){}",
                if *closed { " (closed: all its tasks are paid)" } else { "" }
            ),
            Step::UpdateMilestone {
                repo, title, changes, key, ..
            } => {
                format!("update milestone {repo}: {title} ({key}; {})", changes.join(", "))
            }
            Step::CreateIssue {
                repo, key, title, closed, ..
            } => {
                let why = match key {
                    Key::Task(_) => " (closed: paid)",
                    Key::Objective(_) => " (closed: all its tasks are paid)",
                    Key::Proposal(_) => " (closed: decided)",
                };
                format!("create issue {repo}: {title}{}", if *closed { why } else { "" })
            }
            Step::EditIssue { repo, number, key, edit } => {
                let verb = match edit.closed {
                    Some(true) => "close",
                    Some(false) => "reopen",
                    None => "update",
                };
                let fields = edit.fields();
                let what = if fields.is_empty() {
                    String::new()
                } else {
                    format!(": {}", fields.join(", "))
                };
                format!("{verb} issue {}{what}", issue_ref(repo, Some(*number), key))
            }
            Step::SetLabels {
                repo,
                number,
                key,
                added,
                removed,
                ..
            } => {
                let mut parts: Vec<String> = added.iter().map(|l| format!("+{l}")).collect();
                parts.extend(removed.iter().map(|l| format!("-{l}")));
                format!("set labels of issue {}: {}", issue_ref(repo, Some(*number), key), parts.join(" "))
            }
            Step::Comment { repo, number, key, .. } => format!("comment on issue {}", issue_ref(repo, Some(*number), key)),
            Step::AddTime {
                repo, issue, key, time, ..
            } => {
                let number = match issue {
                    Ref::Existing(n) => Some(*n),
                    Ref::New(_) => None,
                };
                format!(
                    "add {} of tracked time to issue {} (session {} of {}, from {})",
                    seconds_text(time.seconds),
                    issue_ref(repo, number, key),
                    time.session,
                    time.owner,
                    time.started
                )
            }
        }
    }

    /// The step for `--json`.
    pub fn to_json(&self) -> Value {
        let (action, object) = match self {
            Step::CreateLabel { .. } => ("create", "label"),
            Step::UpdateLabel { .. } => ("update", "label"),
            Step::CreateMilestone { .. } => ("create", "milestone"),
            Step::UpdateMilestone { .. } => ("update", "milestone"),
            Step::CreateIssue { .. } => ("create", "issue"),
            Step::EditIssue { edit, .. } => match edit.closed {
                Some(true) => ("close", "issue"),
                Some(false) => ("reopen", "issue"),
                None => ("update", "issue"),
            },
            Step::SetLabels { .. } => ("set-labels", "issue"),
            Step::Comment { .. } => ("comment", "issue"),
            Step::AddTime { .. } => ("add-time", "issue"),
        };
        let mut value = json!({"action": action, "object": object, "description": self.describe()});
        let fields = match self {
            Step::CreateLabel { spec } | Step::UpdateLabel { spec, .. } => json!({"name": spec.name}),
            Step::CreateMilestone { repo, key, .. } | Step::CreateIssue { repo, key, .. } => {
                json!({"repository": repo, "key": key.to_string()})
            }
            Step::UpdateMilestone { repo, id, key, .. } => json!({"repository": repo, "id": id, "key": key.to_string()}),
            Step::EditIssue { repo, number, key, .. }
            | Step::SetLabels { repo, number, key, .. }
            | Step::Comment { repo, number, key, .. } => {
                json!({"repository": repo, "number": number, "key": key.to_string()})
            }
            Step::AddTime { repo, key, time, .. } => {
                json!({"repository": repo, "key": key.to_string(), "session": time.session, "seconds": time.seconds})
            }
        };
        if let (Some(target), Some(extra)) = (value.as_object_mut(), fields.as_object()) {
            target.extend(extra.clone());
        }
        value
    }
}

impl IssueEdit {
    /// The names of the fields that change.
    pub fn fields(&self) -> Vec<&'static str> {
        let mut fields = Vec::new();
        for (set, name) in [
            (self.title.is_some(), "title"),
            (self.body.is_some(), "body"),
            (self.assignees.is_some(), "assignees"),
            (self.milestone.is_some(), "milestone"),
        ] {
            if set {
                fields.push(name);
            }
        }
        fields
    }

    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        *self == IssueEdit::default()
    }
}
