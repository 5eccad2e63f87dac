//! The managed label set and which of its labels a task or proposal carries. Names and colours
//! are stable (they are how people filter); descriptions carry the policy's numbers. Scoped
//! names (`status/paid`) with `exclusive` where an issue has exactly one value, so Forgejo
//! shows them as one choice; tasks and proposals share the `status/` scope, each with its own
//! words. Labels outside this set are never created, changed or removed.

use crate::ledger::policy::Policy;
use crate::rules::state::{State, Task};
use crate::view::proposals::ProposalStatus;
use crate::view::status::{awaiting_validation, TaskStatus};

/// One label the sync keeps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelSpec {
    /// Name, e.g. `status/in progress`.
    pub name: String,
    /// Colour: six lowercase hex digits without '#', as Forgejo answers colours.
    pub color: &'static str,
    /// Description.
    pub description: String,
    /// Exclusive within its scope.
    pub exclusive: bool,
}

/// The colour and description of each status label, in the order of a task's life.
const STATUSES: [(TaskStatus, &str, &str); 6] = [
    (
        TaskStatus::Open,
        "1d76db",
        "Created with a budget; waiting for an Attacker and a Defender",
    ),
    (TaskStatus::Assigned, "5319e7", "Attacker and Defender assigned; not started yet"),
    (
        TaskStatus::InProgress,
        "fbca04",
        "Started by its Attacker; work sessions are clocked",
    ),
    (
        TaskStatus::Assessed,
        "f9a03f",
        "Assessed; pending SC in the lazy-consensus window, open to objections",
    ),
    (
        TaskStatus::PendingValidation,
        "d93f0b",
        "Lazy-consensus window over; waiting for a captain to validate the SC",
    ),
    (TaskStatus::Paid, "0e8a16", "SC validated and awarded; the issue is closed"),
];

/// The colour and description of each proposal status label, in the order of a proposal's
/// life.
const PROPOSAL_STATUSES: [(ProposalStatus, &str, &str); 5] = [
    (
        ProposalStatus::LazyConsensus,
        "bfe5bf",
        "A proposal in its lazy-consensus window: it passes unless enough owners object",
    ),
    (
        ProposalStatus::Voting,
        "0052cc",
        "A proposal put to a vote; the issue shows the tally so far",
    ),
    (
        ProposalStatus::Closing,
        "fad8c7",
        "A proposal whose window is over; anyone may close it (smartup close-proposal)",
    ),
    (ProposalStatus::Passed, "2cbe4e", "A proposal closed as passed; the issue is closed"),
    (ProposalStatus::Failed, "e11d21", "A proposal closed as failed; the issue is closed"),
];

/// The label of a status word: `status/` and the word.
fn status_named(word: &str) -> String {
    format!("status/{word}")
}

/// The label of a task status: `status/` and its word.
pub fn status_label(status: TaskStatus) -> String {
    status_named(status.word())
}

/// The label of a proposal status: `status/` and its word.
pub fn proposal_status_label(status: ProposalStatus) -> String {
    status_named(status.word())
}

/// The label of a task that is not yet paired, paired, or being worked on right now.
const ADM: [(&str, &str, &str); 3] = [
    ("needs pair", "e99695", "No Attacker and Defender yet: open to be assigned"),
    (
        "paired",
        "bfdadc",
        "Attacker (executes) and Defender (oversees, learns) are assigned",
    ),
    ("at work", "fef2c0", "A work session is open right now"),
];

/// Markers of what stands between pending SC and their validation.
const MARKER_OBJECTION: &str = "sc/objection";
const MARKER_CAPTAIN: &str = "sc/captain approval";
const MARKER_COMMUNITY: &str = "sc/community review";

/// The label of objectives shown as issues.
pub const KIND_OBJECTIVE: &str = "kind/objective";
/// The label of task issues.
pub const KIND_TASK: &str = "kind/task";
/// The label of proposal issues.
pub const KIND_PROPOSAL: &str = "kind/proposal";

const MANAGED: &str = "Managed by smartup forgejo sync.";

fn spec(name: String, color: &'static str, description: &str, exclusive: bool) -> LabelSpec {
    LabelSpec {
        name,
        color,
        description: format!("{description}. {MANAGED}"),
        exclusive,
    }
}

/// Every label the sync manages for this state of the ledger.
pub fn managed(state: &State) -> Vec<LabelSpec> {
    let policy = &state.policy;
    let tasks = STATUSES.iter().map(|(status, color, text)| (status_label(*status), color, text));
    let proposals = PROPOSAL_STATUSES
        .iter()
        .map(|(status, color, text)| (proposal_status_label(*status), color, text));
    let mut set: Vec<LabelSpec> = tasks
        .chain(proposals)
        .map(|(name, color, text)| spec(name, color, text, true))
        .collect();
    for team in state.teams.values() {
        set.push(spec(team_label(&team.id), "006b75", &format!("Team {}", team.name), true));
    }
    let sizes = policy.budgets.sizes.iter().map(|(size, budget)| (size, budget, "c2e0c6"));
    let specials = policy.budgets.specials.iter().map(|(size, budget)| (size, budget, "bfd4f2"));
    for (size, budget, color) in sizes.chain(specials) {
        let text = format!("Budget {} SC before the phase multiplier", budget.0);
        set.push(spec(size_label(size), color, &text, true));
    }
    for (phase, multiplier) in &policy.phases {
        let text = format!("Phase {phase}: budgets × {}", multiplier.0);
        set.push(spec(phase_label(phase), "d4c5f9", &text, true));
    }
    for (word, color, text) in ADM {
        set.push(spec(format!("adm/{word}"), color, text, true));
    }
    set.push(spec(
        MARKER_OBJECTION.into(),
        "b60205",
        "An objection to the pending SC is open",
        false,
    ));
    let captain = format!(
        "A share below {}% waits for a team captain's approval",
        policy.assessment.approval_needed_below_percent.0
    );
    set.push(spec(MARKER_CAPTAIN.into(), "e4e669", &captain, false));
    let community = format!(
        "Pending SC above {} SC wait for {} approvals by owners the task does not pay",
        policy.sc.community_review_above.0, policy.sc.community_review_approvals
    );
    set.push(spec(MARKER_COMMUNITY.into(), "c5def5", &community, false));
    set.push(spec(KIND_TASK.into(), "ededed", "A task (6_X_Y_Z) of the ledger", true));
    set.push(spec(KIND_OBJECTIVE.into(), "cccccc", "An objective (5_X_Y) of the ledger", true));
    set.push(spec(
        KIND_PROPOSAL.into(),
        "bfbfbf",
        "A proposal (#seq of its propose row) of the ledger",
        true,
    ));
    set
}

/// The team label of a team id as written.
pub fn team_label(team: &str) -> String {
    format!("team/{team}")
}

fn size_label(size: &str) -> String {
    format!("size/{size}")
}

fn phase_label(phase: &str) -> String {
    format!("phase/{phase}")
}

/// The managed labels a proposal carries.
pub fn of_proposal(status: ProposalStatus) -> Vec<String> {
    vec![KIND_PROPOSAL.to_string(), proposal_status_label(status)]
}

/// The managed labels a task carries.
pub fn of_task(task: &Task, status: TaskStatus, phase: &str, team: &str, policy: &Policy) -> Vec<String> {
    let adm = if task.attacker.is_none() {
        ADM[0].0
    } else if task.open_sessions > 0 {
        ADM[2].0
    } else {
        ADM[1].0
    };
    let mut labels = vec![
        KIND_TASK.to_string(),
        status_label(status),
        team_label(team),
        size_label(&task.size),
        format!("adm/{adm}"),
    ];
    if policy.phases.contains_key(phase) {
        labels.push(phase_label(phase));
    }
    if let Some(p) = awaiting_validation(task) {
        if !p.objectors.is_empty() {
            labels.push(MARKER_OBJECTION.into());
        }
        if p.share < policy.assessment.approval_needed_below_percent.0 && !p.captain_approved {
            labels.push(MARKER_CAPTAIN.into());
        }
        let needed = policy.sc.community_review_approvals as usize;
        if p.total > policy.sc.community_review_above.0 && p.approvals.len() < needed {
            labels.push(MARKER_COMMUNITY.into());
        }
    }
    labels
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::policy::{Policy, TEMPLATE};
    use crate::money::Amount;
    use crate::rules::state::{Pending, TaskState};
    use crate::time::Timestamp;

    fn policy() -> Policy {
        Policy::parse(&Policy::render_template(TEMPLATE, "0123456789abcdef0123", "Test")).unwrap()
    }

    fn task(state: TaskState) -> Task {
        let mut task = Task::new(
            "6_2_1_1_logo",
            "5_2_1".into(),
            "3_2".into(),
            "Design the logo",
            "medium",
            Amount::units(55),
        );
        task.state = state;
        task
    }

    fn pending(at: Timestamp, share: i64, total: i64) -> Pending {
        Pending {
            assessed_at: at,
            assessed_seq: 0,
            assessor: "maya".into(),
            share: Amount::units(share),
            total: Amount::units(total),
            attacker_left: Amount::units(total),
            defender_left: Amount::ZERO,
            approvals: vec![],
            captain_approved: false,
            objectors: vec!["carla".into()],
        }
    }

    #[test]
    fn every_status_has_one_label_named_by_its_word() {
        let ordered: Vec<TaskStatus> = STATUSES.iter().map(|s| s.0).collect();
        assert_eq!(ordered, TaskStatus::ALL, "one label per status, in the order of a task's life");
        let state_labels = managed(&State::new(policy(), String::new()));
        for status in TaskStatus::ALL {
            let name = format!("status/{}", status.word());
            assert_eq!(status_label(status), name);
            assert!(state_labels.iter().any(|l| l.name == name && l.exclusive), "{name} is managed");
        }
    }

    #[test]
    fn every_proposal_status_has_one_label_in_the_status_scope_beside_the_tasks() {
        let ordered: Vec<ProposalStatus> = PROPOSAL_STATUSES.iter().map(|s| s.0).collect();
        assert_eq!(
            ordered,
            ProposalStatus::ALL,
            "one label per status, in the order of a proposal's life"
        );
        let state_labels = managed(&State::new(policy(), String::new()));
        for status in ProposalStatus::ALL {
            let name = format!("status/{}", status.word());
            assert!(state_labels.iter().any(|l| l.name == name && l.exclusive), "{name} is managed");
            assert_eq!(of_proposal(status), ["kind/proposal".to_string(), name]);
        }
        assert!(state_labels.iter().any(|l| l.name == KIND_PROPOSAL && l.exclusive));
    }

    #[test]
    fn a_task_carries_one_label_per_exclusive_scope_and_its_markers() {
        let p = policy();
        let mut t = task(TaskState::Assessed);
        t.attacker = Some("alice".into());
        t.pending = Some(pending(Timestamp(0), 50, 240));
        let labels = of_task(&t, TaskStatus::PendingValidation, "design", "3_2_design_team", &p);
        assert_eq!(
            labels,
            [
                "kind/task",
                "status/pending validation",
                "team/3_2_design_team",
                "size/medium",
                "adm/paired",
                "phase/design",
                "sc/objection",
                "sc/captain approval",
                "sc/community review"
            ]
        );
        let state_labels = managed(&State::new(p.clone(), String::new()));
        for label in &labels[..2] {
            assert!(state_labels.iter().any(|l| &l.name == label), "{label} is managed");
        }
        assert!(state_labels.iter().all(|l| l.color.len() == 6 && l.color == l.color.to_lowercase()));
        let names: std::collections::HashSet<_> = state_labels.iter().map(|l| &l.name).collect();
        assert_eq!(names.len(), state_labels.len(), "names are unique");
    }
}
