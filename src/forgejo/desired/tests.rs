//! What Forgejo should show, computed from ledgers built row by row: work in number order,
//! titles at Forgejo's limit, and proposals in the general forum's repository, open with
//! their tally while they run, closed with their result once decided.

use super::*;
use crate::ledger::policy::ForgejoSection;
use crate::rules::draft::{Intent, ProposalIntent};
use crate::rules::governance::{Choice, Kind};
use crate::rules::test_support::Book;
use reqwest::Url;

#[test]
fn work_comes_in_number_order() {
    let map: BTreeMap<String, ()> = ["6_2_1_10", "6_2_1_2", "6_10_1_1", "6_2_1_1"].map(|k| (k.to_string(), ())).into();
    let order: Vec<&str> = in_number_order(&map).into_iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(order, ["6_2_1_1", "6_2_1_2", "6_2_1_10", "6_10_1_1"]);
}

#[test]
fn titles_are_cut_at_forgejos_limit() {
    let task = Key::Task("6_2_1_1".into());
    assert_eq!(title(&task, "Design the logo"), "6_2_1_1 — Design the logo");
    assert_eq!(
        title(&Key::Proposal("33".into()), "Amend (policy-amendment)"),
        "#33 Amend (policy-amendment)"
    );
    let long = title(&task, &"x".repeat(400));
    assert_eq!(long.chars().count(), 255);
    assert!(long.ends_with('…'));
}

/// Where the proposal's full text lives.
pub(crate) const FULL_TEXT: &str = "https://forge.example.org/smartup/1_general_forum/wiki/Logo";

/// The standard organisation of the unit tests with a binding vote by the founder, "Adopt
/// the logo", and its seq.
pub(crate) fn with_proposal() -> (Book, u64) {
    let mut book = Book::organisation();
    let intent = ProposalIntent::new(
        Kind::BindingVote,
        "Adopt the logo",
        &format!("sha256:{}", "ab".repeat(32)),
        FULL_TEXT,
    );
    book.act("founder", &Intent::Propose(intent));
    let seq = book.state.last_seq;
    (book, seq)
}

/// `who` votes `choice` on proposal `seq`.
pub(crate) fn vote(book: &mut Book, who: &str, seq: u64, choice: Choice) {
    book.act(
        who,
        &Intent::Vote {
            proposal: seq,
            choice,
            note: String::new(),
        },
    );
}

/// Anyone closes proposal `seq` after its window.
pub(crate) fn close(book: &mut Book, seq: u64) {
    book.later(7 * 24);
    book.act(
        "maya",
        &Intent::CloseProposal {
            proposal: seq,
            note: String::new(),
        },
    );
}

/// What the sync wants of `book` at its clock (plus `hours`).
pub(crate) fn desired_of(book: &Book, hours: i64) -> Desired {
    let section = ForgejoSection {
        url: "https://forge.example.org".into(),
        organisation: "smartup".into(),
        repositories: BTreeMap::new(),
        objectives_as: "milestones".into(),
    };
    let settings = Settings::from_section(&section).unwrap();
    let mut histories = Histories::default();
    for (row, at) in &book.rows {
        histories.add(row, at);
    }
    let instance = Url::parse("https://forge.example.org/").unwrap();
    let links = RowLinks::at(Some(("smartup".into(), "ledger".into())), &instance, "main");
    build(&book.state, &histories, &settings, &links, book.now.plus(hours * 3600))
}

/// The issue of proposal `seq` in the general forum's repository.
pub(crate) fn proposal_issue(desired: &Desired, seq: u64) -> &WantedIssue {
    let forum = &desired.repos[FORUM_TEAM];
    assert_eq!(forum.team, FORUM_TEAM);
    let key = Key::Proposal(seq.to_string());
    forum.issues.iter().find(|i| i.key == key).expect("the proposal's issue")
}

#[track_caller]
fn assert_shows(section: &str, parts: &[&str]) {
    for part in parts {
        assert!(section.contains(part), "the section should show {part:?}:\n{section}");
    }
}

#[test]
fn a_passed_amendment_lists_the_row_that_carried_it_out() {
    let mut book = Book::organisation();
    let reference = format!("sha256:{}", "cd".repeat(32));
    let mut intent = ProposalIntent::new(
        Kind::PolicyAmendment,
        "A new quorum",
        &format!("sha256:{}", "ab".repeat(32)),
        FULL_TEXT,
    );
    intent.reference = Some(reference.clone());
    book.act("founder", &Intent::Propose(intent));
    let seq = book.state.last_seq;
    for who in ["alice", "cap"] {
        vote(&mut book, who, seq, Choice::Yes);
    }
    close(&mut book, seq);
    book.ok("bob", "amend-policy", &[("subject", "ledger.toml"), ("reference", &reference)]);
    let amended = book.state.last_seq;
    let desired = desired_of(&book, 0);
    let section = &proposal_issue(&desired, seq).section;
    let rows_line = section.lines().find(|l| l.starts_with("Ledger rows:")).expect("a rows line");
    assert!(rows_line.ends_with("amend-policy"), "the carrying-out row comes last: {rows_line}");
    assert!(rows_line.contains(&format!("[seq {amended}](")), "{rows_line}");
}

#[test]
fn a_running_vote_is_an_open_issue_in_the_forum_with_its_tally_and_voters() {
    let (mut book, seq) = with_proposal();
    vote(&mut book, "alice", seq, Choice::Yes);
    vote(&mut book, "cap", seq, Choice::No);
    vote(&mut book, "bob", seq, Choice::Yes);
    let desired = desired_of(&book, 1);
    assert_eq!(
        desired.repos.len(),
        2,
        "the design team's and the forum's: {:?}",
        desired.repos.keys()
    );
    let issue = proposal_issue(&desired, seq);
    assert_eq!(issue.title, format!("#{seq} Adopt the logo (binding-vote)"));
    assert_eq!(issue.labels, ["kind/proposal", "status/voting"]);
    assert!(!issue.closed && issue.closing_comment.is_none());
    assert!(issue.people.is_empty() && issue.times.is_empty() && issue.milestone.is_none());
    let end = book.rows[book.rows.len() - 4].0.timestamp.plus(7 * 24 * 3600);
    let view = crate::view::proposals::find(&book.state, seq, book.now).unwrap();
    assert_shows(
        &issue.section,
        &[
            &format!("<!-- smartup:begin proposal={seq} ledger="),
            &format!("**#{seq}** — Adopt the logo"),
            "| Status | voting; it would pass if it closed now |",
            "| Kind | binding-vote |",
            "| Proposer | @founder |",
            "| Effect | nothing beyond its text |",
            &format!("| Full text | [full text]({FULL_TEXT}) · sha256:abab"),
            &format!("| Window | a vote until {end} |"),
            &format!("| Tally | yes {} · no {} · abstain 0.000 votes |", view.yes, view.no),
            &format!(
                "| Participation | {}% of {} eligible votes (quorum 20.00%): reached |",
                view.participation, view.eligible
            ),
            "| Threshold | yes above 50.00% of yes + no: met |",
            "| Voters | 3: @alice (yes), @bob (yes), @cap (no) |",
            &format!("[seq {seq}](https://forge.example.org/smartup/ledger/src/branch/main/"),
            ") propose · [seq",
            ") vote",
        ],
    );
    assert!(
        !issue.section.contains("| Objections |"),
        "a vote from the start takes no objections"
    );
    assert!(!issue.section.contains("| Result |"));
    assert_eq!(desired_of(&book, 2), desired, "an hour later nothing shown has changed");
}

#[test]
fn a_vote_whose_window_is_over_is_closing_and_a_closed_one_is_closed_with_its_result() {
    let (mut book, seq) = with_proposal();
    vote(&mut book, "alice", seq, Choice::Yes);
    vote(&mut book, "bob", seq, Choice::No);
    let closing = desired_of(&book, 7 * 24);
    let issue = proposal_issue(&closing, seq);
    assert_eq!(issue.labels, ["kind/proposal", "status/closing"]);
    assert!(!issue.closed);
    assert_shows(
        &issue.section,
        &[&format!(
            "| Status | closing: its window is over, and anyone may close it (`smartup close-proposal {seq}`) |"
        )],
    );

    close(&mut book, seq);
    let closed = desired_of(&book, 0);
    let issue = proposal_issue(&closed, seq);
    assert_eq!(issue.labels, ["kind/proposal", "status/failed"]);
    assert!(issue.closed);
    let view = crate::view::proposals::find(&book.state, seq, book.now).unwrap();
    let result = format!(
        "**failed** at {} (seq {}): yes {} · no {} · abstain 0.000 votes; participation {}% of {} eligible votes (quorum 20.00%)",
        book.rows.last().unwrap().0.timestamp,
        book.state.last_seq,
        view.yes,
        view.no,
        view.participation,
        view.eligible
    );
    assert_shows(
        &issue.section,
        &[
            "| Status | failed |",
            "| Threshold | yes above 50.00% of yes + no: not met |",
            "| Voters | 2: @alice (yes), @bob (no) |",
            &format!("| Result | {result} |"),
            ") close-proposal",
        ],
    );
    let comment = issue.closing_comment.as_deref().expect("a comment with the result");
    assert!(comment.contains(&format!("proposal #{seq} {result}")), "{comment}");
    assert!(comment.contains("if this issue is reopened, the sync closes it again"), "{comment}");
    assert_eq!(desired_of(&book, 1000), closed, "a decided proposal's issue no longer moves");
}

#[test]
fn a_lazy_consensus_shows_its_objections_and_no_tally_until_they_make_it_a_vote() {
    let mut book = Book::organisation();
    let intent = ProposalIntent::new(Kind::LazyConsensus, "Meet on Mondays", &format!("sha256:{}", "cd".repeat(32)), "");
    book.act("founder", &Intent::Propose(intent));
    let seq = book.state.last_seq;
    let note = "Mondays | are <busy>".to_string();
    book.act("alice", &Intent::Object { proposal: seq, note });
    let desired = desired_of(&book, 0);
    let issue = proposal_issue(&desired, seq);
    assert_eq!(issue.labels, ["kind/proposal", "status/lazy consensus"]);
    assert_shows(
        &issue.section,
        &[
            "| Full text | no link given · sha256:cdcd",
            "| Objections | @alice (\"Mondays \\| are &lt;busy&gt;\") (1 of the 3 that make it a vote) |",
        ],
    );
    assert!(!issue.section.contains("| Tally |"), "no vote, no tally");

    close(&mut book, seq);
    let issue = proposal_issue(&desired_of(&book, 0), seq).clone();
    assert_eq!(issue.labels, ["kind/proposal", "status/passed"]);
    assert!(issue.section.contains("**passed** at") && issue.section.contains("by lazy consensus, without a vote"));
}
