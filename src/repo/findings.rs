//! Findings: violations located in history (commit, file, line, seq, actor).

use crate::ledger::row::{Location, Row};
use crate::rules::Violation;
use std::fmt;

/// A violation with everything a reviewer needs to find it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// Stable code (see `rules::violation::CODES`).
    pub code: &'static str,
    /// The rule that was broken, in words.
    pub message: String,
    /// The commit that brought the offending change, if known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// Table, file and line, if the finding concerns a row or a file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// Seq of the offending row.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// Actor of the offending row.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
}

impl Finding {
    /// A finding about a whole commit or file, not one row.
    pub fn general(code: &'static str, message: impl Into<String>) -> Finding {
        Finding {
            code,
            message: message.into(),
            commit: None,
            location: None,
            seq: None,
            actor: None,
        }
    }

    /// A finding about a whole commit or file, from the rule that was broken.
    pub fn of(violation: Violation) -> Finding {
        Finding::general(violation.code, violation.message)
    }

    /// A finding about a row.
    pub fn for_row(violation: Violation, row: &Row, location: &Location) -> Finding {
        Finding {
            code: violation.code,
            message: violation.message,
            commit: None,
            location: Some(location.clone()),
            seq: Some(row.seq),
            actor: Some(row.actor.clone()),
        }
    }

    /// The same finding, attributed to a commit.
    pub fn in_commit(mut self, commit: git2::Oid) -> Finding {
        self.commit.get_or_insert_with(|| commit.to_string());
        self
    }

    /// The same finding, located in a file.
    pub fn at(mut self, table: &str, file: &str, line: u64) -> Finding {
        self.location = Some(Location {
            table: table.into(),
            file: file.into(),
            line,
        });
        self
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}]", self.code)?;
        if let Some(loc) = &self.location {
            write!(f, " {}:{}", loc.file, loc.line)?;
        }
        let mut details = Vec::new();
        if let Some(seq) = self.seq {
            details.push(format!("seq {seq}"));
        }
        if let Some(actor) = &self.actor {
            details.push(format!("by {actor}"));
        }
        if let Some(commit) = &self.commit {
            details.push(format!("commit {}", &commit[..commit.len().min(12)]));
        }
        if !details.is_empty() {
            write!(f, " ({})", details.join(", "))?;
        }
        write!(f, ": {}", self.message)
    }
}
