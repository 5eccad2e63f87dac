//! The planner on hand-made views: what a fresh Forgejo needs, that a Forgejo which already
//! shows the ledger needs nothing, and what people's edits lead to.

use super::*;
use crate::forgejo::desired::{RepoView, WantedMilestone, WantedTime};
use crate::forgejo::labels::LabelSpec;
use crate::forgejo::models::{Milestone, TrackedTime, User};
use crate::forgejo::observe::{Found, RepoState};
use crate::forgejo::section::{find, wrap};
use crate::time::Timestamp;
use std::collections::BTreeMap;

const LEDGER: &str = "0123456789abcdef0123";
const REPO: &str = "3_2_design_team";

fn spec(name: &str) -> LabelSpec {
    LabelSpec {
        name: name.into(),
        color: "0e8a16",
        description: format!("{name}. Managed by smartup forgejo sync."),
        exclusive: true,
    }
}

fn task_key() -> Key {
    Key::Task("6_2_1_1".into())
}

fn objective_key() -> Key {
    Key::Objective("5_2_1".into())
}

fn session(started: i64, seconds: i64, owner: &str) -> WantedTime {
    WantedTime {
        session: started as u64,
        owner: owner.into(),
        started: Timestamp(started),
        seconds,
    }
}

fn desired(closed: bool) -> Desired {
    let issue = WantedIssue {
        key: task_key(),
        title: "6_2_1_1 — Design the logo".into(),
        section: wrap(&task_key(), LEDGER, "status: in progress"),
        labels: vec!["status/in progress".into(), "kind/task".into()],
        people: vec!["alice".into(), "bob".into()],
        milestone: Some(objective_key()),
        closed,
        closing_comment: None,
        // Attacker and Defender clock the same paired session: same start, same length.
        times: vec![session(1_800_000_000, 7200, "alice"), session(1_800_000_000, 7200, "bob")],
    };
    let view = RepoView {
        team: "3_2".into(),
        milestones: vec![WantedMilestone {
            key: objective_key(),
            title: "5_2_1 — A brand".into(),
            section: wrap(&objective_key(), LEDGER, "mission leader: maya"),
            closed: false,
        }],
        issues: vec![issue],
    };
    Desired {
        ledger: LEDGER.into(),
        labels: vec![spec("status/in progress"), spec("kind/task"), spec("status/paid")],
        repos: BTreeMap::from([(REPO.to_string(), view)]),
    }
}

fn label(id: i64, name: &str) -> Label {
    Label {
        id,
        name: name.into(),
        color: "0e8a16".into(),
        description: format!("{name}. Managed by smartup forgejo sync."),
        exclusive: true,
        is_archived: false,
    }
}

fn found<T>(item: T, text: &str) -> Found<T> {
    Found {
        item,
        section: find(text, LEDGER).expect("a marker"),
        duplicates: Vec::new(),
        recovered: false,
    }
}

/// A Forgejo that shows `desired(false)` exactly, with a human's text around the section
/// and a human's label on the issue.
fn in_step() -> Observed {
    let d = desired(false);
    let view = &d.repos[REPO];
    let wanted = &view.issues[0];
    let body = format!(
        "Sketches in the wiki.\r\n\r\n{}\r\n\r\nThanks!",
        wanted.section.replace('\n', "\r\n")
    );
    let issue = Issue {
        number: 4,
        title: wanted.title.clone(),
        body: body.clone(),
        state: "open".into(),
        labels: vec![label(1, "status/in progress"), label(2, "kind/task"), label(99, "help wanted")],
        assignees: vec![User { login: "Alice".into() }, User { login: "bob".into() }],
        milestone: Some(Milestone {
            id: 7,
            ..Milestone::default()
        }),
        pull_request: None,
    };
    let milestone = Milestone {
        id: 7,
        title: view.milestones[0].title.clone(),
        description: view.milestones[0].section.clone(),
        state: "open".into(),
    };
    let times = vec![
        TrackedTime {
            id: 1,
            created: "2027-01-15T09:00:00+01:00".into(),
            time: 7200,
            issue: None,
        },
        TrackedTime {
            id: 2,
            created: "2027-01-15T08:00:00Z".into(),
            time: 7200,
            issue: None,
        },
    ];
    let state = RepoState {
        issues: BTreeMap::from([(task_key(), found(issue, &body))]),
        milestones: BTreeMap::from([(objective_key(), found(milestone, &view.milestones[0].section))]),
        assignable: [("alice", "Alice"), ("bob", "bob")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        time_tracking: true,
        times: HashMap::from([(4, times)]),
        checked: None,
    };
    Observed {
        labels: vec![
            label(1, "status/in progress"),
            label(2, "kind/task"),
            label(3, "status/paid"),
            label(99, "help wanted"),
        ],
        repos: BTreeMap::from([(REPO.to_string(), state)]),
    }
}

#[test]
fn a_forgejo_that_shows_the_ledger_needs_nothing() {
    assert_eq!(1_800_000_000, "2027-01-15T08:00:00Z".parse::<Timestamp>().unwrap().0);
    let plan = plan(&desired(false), &in_step());
    assert_eq!(plan.steps, vec![], "{:#?}", plan.steps);
    assert_eq!(plan.warnings, Vec::<String>::new());
}

#[test]
fn an_empty_forgejo_gets_everything_in_order() {
    let mut observed = in_step();
    observed.labels.clear();
    let state = observed.repos.get_mut(REPO).unwrap();
    state.issues.clear();
    state.milestones.clear();
    state.times.clear();
    let plan = plan(&desired(false), &observed);
    let actions: Vec<String> = plan.steps.iter().map(|s| s.to_json()["action"].to_string()).collect();
    assert_eq!(
        actions,
        ["create", "create", "create", "create", "create", "add-time", "add-time"].map(|a| format!("{a:?}"))
    );
    match &plan.steps[4] {
        Step::CreateIssue {
            milestone,
            assignees,
            labels,
            ..
        } => {
            assert_eq!(milestone, &Some(Ref::New(objective_key())));
            assert_eq!(assignees, &["Alice", "bob"]);
            assert_eq!(labels, &["status/in progress", "kind/task"]);
        }
        other => panic!("expected the issue creation, got {other:?}"),
    }
    assert!(matches!(&plan.steps[5], Step::AddTime { issue: Ref::New(k), user: Some(u), .. } if *k == task_key() && u == "Alice"));
}

#[test]
fn people_edits_outside_the_section_are_kept_and_inside_are_replaced() {
    let mut observed = in_step();
    let found = observed.repos.get_mut(REPO).unwrap().issues.get_mut(&task_key()).unwrap();
    let edited = found.item.body.replace("status: in progress", "status: done, I promise");
    found.item.body = edited.clone();
    found.section = find(&edited, LEDGER).unwrap();
    let plan = plan(&desired(false), &observed);
    let [Step::EditIssue { edit, .. }] = plan.steps.as_slice() else {
        panic!("one edit expected: {:#?}", plan.steps)
    };
    let body = edit.body.as_deref().unwrap();
    assert!(body.starts_with("Sketches in the wiki.\r\n\r\n<!-- smartup:begin task=6_2_1_1"));
    assert!(body.contains("status: in progress") && !body.contains("I promise"));
    assert!(body.ends_with("\r\n\r\nThanks!"));
    assert_eq!(edit.fields(), ["body"]);
}

#[test]
fn an_unpaid_issue_closed_by_a_person_is_reopened_with_a_comment() {
    let mut observed = in_step();
    observed
        .repos
        .get_mut(REPO)
        .unwrap()
        .issues
        .get_mut(&task_key())
        .unwrap()
        .item
        .state = "closed".into();
    let plan = plan(&desired(false), &observed);
    assert_eq!(plan.steps.len(), 2, "{:#?}", plan.steps);
    assert!(matches!(&plan.steps[0], Step::EditIssue { edit, .. } if edit.closed == Some(false)));
    assert!(matches!(&plan.steps[1], Step::Comment { body, .. } if body.contains("not paid")));
    assert!(plan.steps[0].describe().starts_with("reopen issue 3_2_design_team#4"));
}

#[test]
fn a_paid_task_closes_its_issue_and_swaps_its_status_label() {
    let mut d = desired(true);
    let issue = &mut d.repos.get_mut(REPO).unwrap().issues[0];
    issue.labels = vec!["status/paid".into(), "kind/task".into()];
    let plan = plan(&d, &in_step());
    assert_eq!(plan.steps.len(), 2, "{:#?}", plan.steps);
    assert!(matches!(&plan.steps[0], Step::EditIssue { edit, .. } if edit.closed == Some(true) && edit.fields().is_empty()));
    match &plan.steps[1] {
        Step::SetLabels {
            keep,
            labels,
            added,
            removed,
            ..
        } => {
            assert_eq!(keep, &[99], "the person's label stays");
            assert_eq!(labels, &["status/paid", "kind/task"]);
            assert_eq!(
                (added.as_slice(), removed.as_slice()),
                (&["status/paid".to_string()][..], &["status/in progress".to_string()][..])
            );
        }
        other => panic!("expected labels, got {other:?}"),
    }
}

#[test]
fn labels_compare_colours_normalised_and_unarchive() {
    let mut observed = in_step();
    observed.labels[0].is_archived = true;
    observed.labels[2].color = "#0E8A16".into();
    // A second label named kind/task with a lower id: that one is the managed label now, and
    // the issue's kind/task (id 2) is a person's label like any other. In the exclusive
    // scope kind/ it holds the scope on its issue: the managed kind/task is not set beside it
    // (Forgejo would keep only one of them), and the plan says so.
    observed.labels.push(Label {
        color: "ffffff".into(),
        ..label(0, "kind/task")
    });
    let plan = plan(&desired(false), &observed);
    assert_eq!(plan.label_ids["kind/task"], 0);
    let steps: Vec<String> = plan.steps.iter().map(Step::describe).collect();
    assert_eq!(
        steps,
        ["update label status/in progress (archived)", "update label kind/task (colour)",]
    );
    assert!(
        plan.warnings
            .iter()
            .any(|w| w.contains("kind/task, a label people set, holds the scope kind/")),
        "{:?}",
        plan.warnings
    );
}

#[test]
fn sessions_are_booked_once_each_even_when_paired() {
    let mut observed = in_step();
    observed.repos.get_mut(REPO).unwrap().times.get_mut(&4).unwrap().pop();
    let plan = plan(&desired(false), &observed);
    assert_eq!(plan.steps.len(), 1, "{:#?}", plan.steps);
    assert!(matches!(&plan.steps[0], Step::AddTime { issue: Ref::Existing(4), time, .. } if time.owner == "bob"));
}

#[test]
fn people_without_an_account_are_warned_about_not_assigned() {
    let mut observed = in_step();
    let state = observed.repos.get_mut(REPO).unwrap();
    state.assignable.remove("bob");
    let plan = plan(&desired(false), &observed);
    let [Step::EditIssue { edit, .. }] = plan.steps.as_slice() else {
        panic!("{:#?}", plan.steps)
    };
    assert_eq!(edit.assignees.as_deref(), Some(&["Alice".to_string()][..]));
    assert_eq!(plan.warnings.len(), 1);
    assert!(plan.warnings[0].starts_with("bob (task 6_2_1_1) has no Forgejo account"));
}

// ---------------------------------------------------------------------------------------
// Proposals, planned from ledgers built row by row
// ---------------------------------------------------------------------------------------

mod proposals {
    use super::*;
    use crate::forgejo::accounts::FORUM_TEAM;
    use crate::forgejo::desired::tests::{self, close, proposal_issue, vote, with_proposal};
    use crate::rules::governance::Choice;
    use crate::rules::test_support::Book;

    /// The managed labels, as Forgejo shows them once created (id = position + 1).
    fn labels_of(desired: &Desired) -> Vec<Label> {
        let mut id = 0;
        desired
            .labels
            .iter()
            .map(|spec| {
                id += 1;
                Label {
                    id,
                    name: spec.name.clone(),
                    color: spec.color.into(),
                    description: spec.description.clone(),
                    exclusive: spec.exclusive,
                    is_archived: false,
                }
            })
            .collect()
    }

    /// What the sync wants of `book` (at its clock plus `hours`) in the forum's repository;
    /// the team repository is left out.
    fn desired_of(book: &Book, hours: i64) -> Desired {
        let mut desired = tests::desired_of(book, hours);
        desired.repos.retain(|name, _| name == FORUM_TEAM);
        desired
    }

    /// A Forgejo that shows `shown` (as issue number 1, `state`) in the forum's repository,
    /// with the labels `desired` names.
    fn showing(desired: &Desired, shown: &WantedIssue, state: &str) -> Observed {
        let labels = labels_of(desired);
        let issue = Issue {
            number: 1,
            title: shown.title.clone(),
            body: shown.section.clone(),
            state: state.into(),
            labels: labels.iter().filter(|l| shown.labels.contains(&l.name)).cloned().collect(),
            ..Issue::default()
        };
        let forum = RepoState {
            issues: BTreeMap::from([(shown.key.clone(), found(issue, &shown.section))]),
            time_tracking: true,
            ..RepoState::default()
        };
        Observed {
            labels,
            repos: BTreeMap::from([(FORUM_TEAM.to_string(), forum)]),
        }
    }

    fn described(plan: &Plan) -> Vec<String> {
        plan.steps.iter().map(Step::describe).collect()
    }

    #[test]
    fn a_new_proposal_gets_one_open_issue_in_the_forum_and_a_vote_only_changes_its_section() {
        let (mut book, seq) = with_proposal();
        let before = desired_of(&book, 0);
        let mut observed = showing(&before, proposal_issue(&before, seq), "open");
        assert_eq!(plan(&before, &observed).steps, vec![], "in step: nothing to do");

        observed.repos.get_mut(FORUM_TEAM).unwrap().issues.clear();
        let fresh = plan(&before, &observed);
        assert_eq!(
            described(&fresh),
            [format!("create issue 1_general_forum: #{seq} Adopt the logo (binding-vote)")]
        );
        assert!(
            matches!(&fresh.steps[0], Step::CreateIssue { labels, closed: false, assignees, milestone: None, .. }
            if labels == &["kind/proposal", "status/voting"] && assignees.is_empty())
        );

        let observed = showing(&before, proposal_issue(&before, seq), "open");
        vote(&mut book, "alice", seq, Choice::Yes);
        let after = plan(&desired_of(&book, 0), &observed);
        assert_eq!(
            described(&after),
            [format!("update issue 1_general_forum#1 (proposal {seq}): body")]
        );
    }

    #[test]
    fn a_closed_proposal_closes_its_issue_with_the_result_and_a_reopened_one_is_closed_again() {
        let (mut book, seq) = with_proposal();
        vote(&mut book, "alice", seq, Choice::Yes);
        vote(&mut book, "bob", seq, Choice::Yes);
        let running = desired_of(&book, 0);
        close(&mut book, seq);
        let decided = desired_of(&book, 0);
        let wanted = proposal_issue(&decided, seq);

        let closing = plan(&decided, &showing(&decided, proposal_issue(&running, seq), "open"));
        assert_eq!(
            described(&closing),
            [
                format!("close issue 1_general_forum#1 (proposal {seq}): body"),
                format!("set labels of issue 1_general_forum#1 (proposal {seq}): +status/passed -status/voting"),
                format!("comment on issue 1_general_forum#1 (proposal {seq})"),
            ],
            "closed first, then the comment: a failure in between leaves no comment to repeat"
        );
        let Step::Comment { body, .. } = &closing.steps[2] else {
            unreachable!()
        };
        assert_eq!(Some(body), wanted.closing_comment.as_ref());
        assert!(body.contains(&format!("proposal #{seq} **passed** at")), "{body}");

        let closed = showing(&decided, wanted, "closed");
        assert_eq!(
            plan(&decided, &closed).steps,
            vec![],
            "a closed issue of a decided proposal stays as it is"
        );

        let reopened = plan(&decided, &showing(&decided, wanted, "open"));
        assert_eq!(
            described(&reopened),
            [
                format!("close issue 1_general_forum#1 (proposal {seq})"),
                format!("comment on issue 1_general_forum#1 (proposal {seq})"),
            ],
            "reopened by a person: closed again, and the comment says why"
        );

        let mut created = showing(&decided, wanted, "open");
        created.repos.get_mut(FORUM_TEAM).unwrap().issues.clear();
        let created = plan(&decided, &created);
        assert_eq!(
            described(&created),
            [format!(
                "create issue 1_general_forum: #{seq} Adopt the logo (binding-vote) (closed: decided)"
            )],
            "created closed, its section saying the result: no comment"
        );
    }

    #[test]
    fn an_open_proposals_issue_closed_by_a_person_is_reopened_with_a_comment() {
        let (book, seq) = with_proposal();
        let running = desired_of(&book, 0);
        let plan = plan(&running, &showing(&running, proposal_issue(&running, seq), "closed"));
        assert_eq!(plan.steps.len(), 2, "{:#?}", plan.steps);
        assert!(plan.steps[0].describe().starts_with("reopen issue 1_general_forum#1"));
        assert!(matches!(&plan.steps[1], Step::Comment { body, .. }
            if body.contains(&format!("proposal #{seq} is not closed yet")) && body.contains("with the result")));
    }
}
