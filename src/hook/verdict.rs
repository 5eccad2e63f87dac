//! The pre-receive hook's answer, typed: the findings that refuse a push and the notes about
//! what passed, and the one printer that turns them into the lines the pusher sees.

use super::pre_receive::PushEnv;
use crate::repo::Finding;

/// The hook's answer to a push.
#[derive(Debug, Default)]
pub struct Verdict {
    /// Why the push may not land, one finding per problem; empty when it may.
    pub problems: Vec<Finding>,
    /// What else the pusher is told, in the order of the updates.
    pub notes: Vec<Note>,
}

impl Verdict {
    /// Whether the whole push may land.
    pub fn accepted(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Something the pusher is told that does not refuse the push.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Note {
    /// An update of the ledger branch that passed every check.
    Accepted {
        /// The branch, without `refs/heads/`.
        branch: String,
        /// Rows the update adds.
        rows: u64,
        /// Commits the update adds.
        commits: u64,
        /// Summaries of its first rows (`award-sk bob by carla`).
        shown: Vec<String>,
    },
    /// A ref that is not the ledger, let through as the policy's `[hook] allow_refs` allows.
    AllowedRef(String),
    /// The accepted state could not be saved as a checkpoint (why), so the next push replays
    /// more.
    NoCheckpoint(String),
}

/// The lines the pusher sees, each as a `remote:` line: the notes, then, when the push is
/// refused, a header saying so, one line per problem, and what to do next.
pub fn lines(verdict: &Verdict, env: &PushEnv) -> Vec<String> {
    let pushed = env.describe();
    let mut lines: Vec<String> = verdict.notes.iter().map(|note| note_line(note, &pushed)).collect();
    if !verdict.accepted() {
        lines.push(format!(
            "smartup: push rejected{pushed}: {} problem(s); nothing was written.",
            verdict.problems.len()
        ));
        lines.extend(verdict.problems.iter().map(Finding::to_string));
        lines.push("smartup: fix the entries (`smartup verify` shows the same on your clone) and push again.".into());
    }
    lines
}

fn note_line(note: &Note, pushed: &str) -> String {
    match note {
        Note::Accepted {
            branch,
            rows,
            commits,
            shown,
        } => {
            let mut listed = shown.join(", ");
            if *rows as usize > shown.len() {
                listed.push_str(&format!(", and {} more", *rows as usize - shown.len()));
            }
            format!("smartup: accepted {rows} entries in {commits} commits on {branch}{pushed}: {listed}")
        }
        Note::AllowedRef(name) => format!("smartup: {name} is not the ledger; accepted as the policy allows"),
        Note::NoCheckpoint(why) => {
            format!("smartup: warning: cannot write a checkpoint of the accepted state ({why}); the next push replays more")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> PushEnv {
        PushEnv {
            pusher: Some("mallory".into()),
            ..PushEnv::default()
        }
    }

    #[test]
    fn an_accepted_push_prints_its_notes_only() {
        let verdict = Verdict {
            problems: Vec::new(),
            notes: vec![
                Note::Accepted {
                    branch: "main".into(),
                    rows: 3,
                    commits: 2,
                    shown: vec!["award-sk bob by carla".into(), "deposit-eur by founder".into()],
                },
                Note::AllowedRef("refs/heads/drafts/alice".into()),
                Note::NoCheckpoint("disk full".into()),
            ],
        };
        assert!(verdict.accepted());
        assert_eq!(
            lines(&verdict, &env()),
            [
                "smartup: accepted 3 entries in 2 commits on main (pusher mallory): award-sk bob by carla, deposit-eur by founder, and 1 more",
                "smartup: refs/heads/drafts/alice is not the ledger; accepted as the policy allows",
                "smartup: warning: cannot write a checkpoint of the accepted state (disk full); the next push replays more",
            ]
        );
    }

    #[test]
    fn a_refused_push_prints_every_finding_between_a_header_and_advice() {
        let verdict = Verdict {
            problems: vec![
                Finding::general("ref-policy", "refs/tags/v1: only refs/heads/main may be pushed"),
                Finding::general("policy", "the root commit has no ledger.toml").at("-", "ledger.toml", 0),
            ],
            notes: vec![Note::AllowedRef("refs/heads/drafts/alice".into())],
        };
        assert!(!verdict.accepted());
        let printed = lines(&verdict, &env());
        assert_eq!(printed.len(), 5, "{printed:?}");
        assert_eq!(
            printed[1],
            "smartup: push rejected (pusher mallory): 2 problem(s); nothing was written."
        );
        assert_eq!(printed[2], "[ref-policy]: refs/tags/v1: only refs/heads/main may be pushed");
        assert_eq!(printed[3], verdict.problems[1].to_string());
        assert!(printed[4].starts_with("smartup: fix the entries"));
    }
}
