//! Forgejo's API objects, only the fields the sync reads or writes. Forgejo sends `null` for
//! unset values (`assignees`, `milestone`, `closed_at`, …): every field read here accepts it.

use crate::time::{Timestamp, HOUR};
use serde::{Deserialize, Deserializer, Serialize};

/// `null` (or a missing field) as the type's default.
fn nullable<'de, D: Deserializer<'de>, T: Default + Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A label, of an organisation or a repository.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct Label {
    /// Id (shared by organisation and repository labels).
    pub id: i64,
    /// Name; not unique.
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    /// Colour as Forgejo answers it: lowercase hex, without '#'.
    #[serde(default, deserialize_with = "nullable")]
    pub color: String,
    /// Description.
    #[serde(default, deserialize_with = "nullable")]
    pub description: String,
    /// Whether it excludes the other labels of its scope on an issue.
    #[serde(default, deserialize_with = "nullable")]
    pub exclusive: bool,
    /// Whether it is archived.
    #[serde(default, deserialize_with = "nullable")]
    pub is_archived: bool,
}

/// A user, as far as the sync needs one.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct User {
    /// User name.
    #[serde(default, deserialize_with = "nullable")]
    pub login: String,
}

/// A milestone.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct Milestone {
    /// Id.
    pub id: i64,
    /// Title.
    #[serde(default, deserialize_with = "nullable")]
    pub title: String,
    /// Description (the sync's section lives here).
    #[serde(default, deserialize_with = "nullable")]
    pub description: String,
    /// `open` or `closed`.
    #[serde(default, deserialize_with = "nullable")]
    pub state: String,
}

/// An issue (or, with `pull_request` set, a pull request).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct Issue {
    /// The number in its repository.
    pub number: i64,
    /// Title.
    #[serde(default, deserialize_with = "nullable")]
    pub title: String,
    /// Body (the sync's section lives here).
    #[serde(default, deserialize_with = "nullable")]
    pub body: String,
    /// `open` or `closed`.
    #[serde(default, deserialize_with = "nullable")]
    pub state: String,
    /// Labels.
    #[serde(default, deserialize_with = "nullable")]
    pub labels: Vec<Label>,
    /// Assignees.
    #[serde(default, deserialize_with = "nullable")]
    pub assignees: Vec<User>,
    /// Milestone.
    #[serde(default)]
    pub milestone: Option<Milestone>,
    /// Set on pull requests.
    #[serde(default)]
    pub pull_request: Option<serde_json::Value>,
}

impl Issue {
    /// Whether the issue is closed.
    pub fn is_closed(&self) -> bool {
        self.state == "closed"
    }
}

/// A tracked time entry.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct TrackedTime {
    /// Id.
    pub id: i64,
    /// When it was booked for, in the server's time zone.
    #[serde(default, deserialize_with = "nullable")]
    pub created: String,
    /// Seconds.
    #[serde(default, deserialize_with = "nullable")]
    pub time: i64,
    /// The issue it is booked on (in a repository's list of times).
    #[serde(default)]
    pub issue: Option<TimeIssue>,
}

/// The issue of a tracked time, as far as the sync reads it.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct TimeIssue {
    /// The issue's number in its repository.
    pub number: i64,
}

/// A repository, as far as the sync checks one.
#[derive(Clone, Debug, Deserialize)]
pub struct Repository {
    /// Whether its issue tracker is on (absent or null: on).
    #[serde(default)]
    pub has_issues: Option<bool>,
    /// Its issue tracker's settings.
    #[serde(default)]
    pub internal_tracker: Option<InternalTracker>,
}

impl Repository {
    /// Whether time can be tracked on its issues (unsaid: yes).
    pub fn tracks_time(&self) -> bool {
        self.internal_tracker.as_ref().and_then(|t| t.enable_time_tracker).unwrap_or(true)
    }
}

/// A repository's issue tracker settings.
#[derive(Clone, Debug, Deserialize)]
pub struct InternalTracker {
    /// Whether time tracking is on.
    #[serde(default)]
    pub enable_time_tracker: Option<bool>,
}

/// The body of label creation and editing. `is_archived` is always sent: a PATCH without it
/// would un-archive (as wanted) but say nothing about it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct LabelOption {
    /// Name.
    pub name: String,
    /// Colour, `#rrggbb`.
    pub color: String,
    /// Description.
    pub description: String,
    /// Exclusive within its scope.
    pub exclusive: bool,
    /// Archived.
    pub is_archived: bool,
}

/// The body of issue creation.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct CreateIssue {
    /// Title.
    pub title: String,
    /// Body.
    pub body: String,
    /// Label ids.
    pub labels: Vec<i64>,
    /// Assignees' user names.
    pub assignees: Vec<String>,
    /// Milestone id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub milestone: Option<i64>,
    /// Created closed.
    pub closed: bool,
}

/// The body of an issue edit: only the fields that change are sent.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct EditIssue {
    /// New title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// New body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// New assignees (replacing all).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignees: Option<Vec<String>>,
    /// New milestone id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub milestone: Option<i64>,
    /// `open` or `closed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}

/// The body of milestone creation and editing.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct MilestoneOption {
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// `open` or `closed`.
    pub state: &'static str,
}

/// The body of replacing an issue's labels.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct IssueLabels {
    /// Label ids.
    pub labels: Vec<i64>,
}

/// The body of a comment.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct CommentOption {
    /// Markdown text.
    pub body: String,
}

/// The body of adding tracked time.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct AddTime {
    /// Seconds, never zero.
    pub time: i64,
    /// When the work was done (RFC 3339).
    pub created: String,
    /// Whose time it is; Forgejo honours it only for a site or repository admin's token and
    /// otherwise books the time to the token's user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
}

/// Parses an RFC 3339 time as Forgejo writes it (`2026-01-05T13:30:00+01:00`, `…Z`,
/// fractions of a second allowed) into a UTC instant.
pub fn parse_time(text: &str) -> Option<Timestamp> {
    let (main, rest) = text.split_at_checked(19)?;
    let base: Timestamp = format!("{main}Z").parse().ok()?;
    let rest = match rest.strip_prefix('.') {
        Some(fraction) => fraction.trim_start_matches(|c: char| c.is_ascii_digit()),
        None => rest,
    };
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (h, m) = rest.get(1..)?.split_once(':')?;
            if h.len() != 2 || m.len() != 2 {
                return None;
            }
            sign * (h.parse::<i64>().ok()? * HOUR + m.parse::<i64>().ok()? * 60)
        }
    };
    Some(base.plus(-offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nulls_are_accepted_where_forgejo_sends_them() {
        let issue: Issue = serde_json::from_str(
            r#"{"number": 3, "title": "t", "body": null, "state": "open", "labels": [], "assignees": null,
                "milestone": null, "closed_at": null, "due_date": null, "pull_request": null, "extra": 1}"#,
        )
        .unwrap();
        assert_eq!(issue.number, 3);
        assert!(issue.assignees.is_empty() && issue.milestone.is_none() && issue.pull_request.is_none());
        assert_eq!(issue.body, "");
    }

    #[test]
    fn times_with_offsets_are_instants() {
        let utc: Timestamp = "2026-01-05T12:30:00Z".parse().unwrap();
        assert_eq!(parse_time("2026-01-05T13:30:00+01:00"), Some(utc));
        assert_eq!(parse_time("2026-01-05T07:30:00-05:00"), Some(utc));
        assert_eq!(parse_time("2026-01-05T12:30:00.123Z"), Some(utc));
        assert_eq!(parse_time("2026-01-05T12:30:00Z"), Some(utc));
        assert_eq!(parse_time("2026-01-05 12:30"), None);
        assert_eq!(parse_time("2026-01-05T12:30:00+0100"), None);
    }

    #[test]
    fn edits_send_only_what_changes() {
        let edit = EditIssue {
            state: Some("closed".into()),
            ..EditIssue::default()
        };
        assert_eq!(serde_json::to_string(&edit).unwrap(), r#"{"state":"closed"}"#);
    }
}
