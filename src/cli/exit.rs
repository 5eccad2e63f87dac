//! The one exit-code mapping, carried by the error's type:
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | a rule refused (always with its violation code), `verify` or the server's hook found violations, or an id is unknown |
//! | 2 | the command line is wrong (clap's own errors, a malformed `SMARTUP_NOW`) |
//! | 3 | anything else: files, keys, git, the network |
//!
//! With `--json` the error is one JSON object on standard error:
//! `{"type":"error","exit":1,"code":"task-state","message":"..."}`.

use super::AlreadyReported;
use crate::clerk::push::PushRefused;
use crate::clerk::Refused;
use std::process::ExitCode;

/// The command line was wrong in a way clap could not see: exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Usage(pub String);

/// A command named something the ledger does not hold (a seq, an owner): exit code 1, with
/// the violation code `unknown-id` or `unknown-owner`.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unknown(pub crate::rules::Violation);

/// The error as scripts see it.
#[derive(Debug, serde::Serialize)]
struct JsonError<'a> {
    r#type: &'static str,
    exit: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'a str>,
    message: String,
}

/// The exit code an error carries, and its violation code if a rule refused.
pub fn classify(error: &anyhow::Error) -> (u8, Option<&'static str>) {
    if let Some(Refused(violation)) = error.downcast_ref::<Refused>() {
        (1, Some(violation.code))
    } else if let Some(Unknown(violation)) = error.downcast_ref::<Unknown>() {
        (1, Some(violation.code))
    } else if error.downcast_ref::<AlreadyReported>().is_some() || error.downcast_ref::<PushRefused>().is_some() {
        (1, None)
    } else if error.downcast_ref::<Usage>().is_some() {
        (2, None)
    } else {
        (3, None)
    }
}

/// Ends a command line clap could not parse: help and version as clap prints them, errors
/// with exit code 2, as one JSON object on standard error when `--json` was given.
pub fn usage(error: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    let asked = matches!(error.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion);
    if asked || !std::env::args().any(|a| a == "--json") {
        error.exit()
    }
    let body = JsonError {
        r#type: "error",
        exit: 2,
        code: None,
        message: error
            .render()
            .to_string()
            .lines()
            .next()
            .unwrap_or("")
            .trim_start_matches("error: ")
            .to_string(),
    };
    eprintln!("{}", serde_json::to_string(&body).unwrap_or_default());
    ExitCode::from(2)
}

/// Prints an error (in words, or as JSON with `--json`) and returns its exit code.
pub fn report(error: &anyhow::Error, json: bool) -> ExitCode {
    let (exit, code) = classify(error);
    let already_said = error.downcast_ref::<AlreadyReported>().is_some();
    if json {
        let body = JsonError {
            r#type: "error",
            exit,
            code,
            message: format!("{error:#}"),
        };
        eprintln!("{}", serde_json::to_string(&body).unwrap_or_default());
    } else if !already_said {
        eprintln!("error: {error:#}");
    }
    ExitCode::from(exit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::violation;

    #[test]
    fn each_kind_of_failure_has_its_code() {
        let refused: anyhow::Error = Refused(violation("task-state", "task 6_1_1_1 is created")).into();
        assert_eq!(classify(&refused), (1, Some("task-state")));
        // Context added on the way up keeps the kind.
        assert_eq!(classify(&refused.context("while recording")), (1, Some("task-state")));
        let unknown = Unknown(violation("unknown-owner", "zed is not in the Book of Owners"));
        assert_eq!(classify(&unknown.into()), (1, Some("unknown-owner")));
        assert_eq!(classify(&AlreadyReported(2).into()), (1, None));
        assert_eq!(classify(&PushRefused.into()), (1, None));
        assert_eq!(classify(&Usage("SMARTUP_NOW: not a time".into()).into()), (2, None));
        assert_eq!(classify(&anyhow::anyhow!("cannot read key")), (3, None));
    }
}
