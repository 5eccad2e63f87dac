//! The text of the sections the sync owns: for a task its budget, people, status, sessions,
//! assessment, pending and validated SC and links to its ledger rows; for an objective its
//! mission leader and the progress of its tasks; for a proposal its kind, proposer, effect,
//! full text, window, objections, tally and result. Deterministic: the same ledger (and, for
//! an assessed task or an open proposal, the same side of its window) gives the same text;
//! nothing that moves with the clock alone (time left) is shown.

use super::history::ProposalHistory;
use super::links::RowLinks;
use crate::ledger::policy::Policy;
use crate::money::Amount;
use crate::rules::governance::Proposal;
use crate::rules::state::{Objective, Task, TaskState, Team};
use crate::rules::window_end;
use crate::view::duration;
use crate::view::history::{Objection, RowRef, TaskHistory};
use crate::view::proposals::{ProposalStatus, ProposalView};
use crate::view::status::TaskStatus;
use reqwest::Url;
use std::collections::BTreeMap;

const FOOTER: &str =
    "_Written by `smartup forgejo sync` from the ledger and replaced at every sync; write anything else above or below this section._";

/// Text from the ledger made safe inside a Markdown table and an HTML comment pair.
fn text(value: &str) -> String {
    value.replace('|', "\\|").replace('<', "&lt;").replace('>', "&gt;")
}

/// `@alice, @bob`; `none` without anyone.
fn people(handles: &[String]) -> String {
    if handles.is_empty() {
        return "none".to_string();
    }
    handles.iter().map(|h| person(Some(h))).collect::<Vec<_>>().join(", ")
}

fn person(handle: Option<&str>) -> String {
    handle.map_or("—".to_string(), |h| format!("@{}", text(h)))
}

/// The open objections (`objectors`), each with its reason from the task's history:
/// `@alice ("the logo is not done")`; `none` without any.
fn objections(objectors: &[String], history: &[Objection]) -> String {
    if objectors.is_empty() {
        return "none".to_string();
    }
    let one = |handle: &String| {
        let reason = history
            .iter()
            .rev()
            .find(|o| &o.by == handle)
            .map(|o| o.reason.trim())
            .unwrap_or("");
        match reason {
            "" => person(Some(handle)),
            reason => format!("{} (\"{}\")", person(Some(handle)), text(&reason.replace('\n', " "))),
        }
    };
    objectors.iter().map(one).collect::<Vec<_>>().join(", ")
}

fn team_line(team: Option<&Team>, identity: &str) -> String {
    match team {
        Some(t) => format!("{} (`{}`)", text(&t.name), text(&t.id)),
        None => format!("`{identity}`"),
    }
}

fn rows_line(rows: &[RowRef], links: &RowLinks) -> String {
    let list: Vec<String> = rows.iter().map(|r| links.row(r)).collect();
    format!("Ledger rows: {}", if list.is_empty() { "—".to_string() } else { list.join(" · ") })
}

fn table(lines: &[(&str, String)]) -> String {
    let mut out = String::from("| | |\n|---|---|\n");
    for (name, value) in lines {
        out.push_str(&format!("| {name} | {value} |\n"));
    }
    out
}

/// Everything the section of a task shows.
pub struct TaskFacts<'a> {
    /// The task.
    pub task: &'a Task,
    /// Its team, if known.
    pub team: Option<&'a Team>,
    /// Its objective, if known.
    pub objective: Option<&'a Objective>,
    /// Its rows, sessions, phase and scores.
    pub history: &'a TaskHistory,
    /// Its status now.
    pub status: TaskStatus,
    /// The policy in force.
    pub policy: &'a Policy,
    /// Links to rows.
    pub links: &'a RowLinks,
}

fn budget_line(f: &TaskFacts) -> String {
    let t = f.task;
    let phase = &f.history.phase;
    match (f.policy.size_budget(&t.size), f.policy.phases.get(phase)) {
        (Some(base), Some(multiplier)) => format!(
            "{} SC: {} ({base} SC) × {} in the {} phase",
            t.budget,
            text(&t.size),
            multiplier.0,
            text(phase)
        ),
        _ => format!("{} SC ({})", t.budget, text(&t.size)),
    }
}

fn sessions_line(t: &Task) -> String {
    let mut line = format!("{} closed, {} in all", t.closed_sessions, duration(t.worked_seconds));
    if t.open_sessions > 0 {
        line.push_str(&format!("; {} open now", t.open_sessions));
    }
    line
}

/// The content of a task's section.
pub fn task(f: &TaskFacts) -> String {
    let t = f.task;
    let mut lines = vec![
        ("Status", f.status.word().to_string()),
        ("Team", team_line(f.team, &t.team)),
        (
            "Objective",
            match f.objective {
                Some(o) => format!("`{}` — {}", text(&o.id), text(&o.title)),
                None => format!("`{}`", t.objective),
            },
        ),
        ("Budget", budget_line(f)),
        ("Attacker", person(t.attacker.as_deref())),
        ("Defender", person(t.defender.as_deref())),
        ("Work sessions", sessions_line(t)),
    ];
    if let Some(p) = &t.pending {
        if let Some(s) = f.history.assessment.as_ref().map(|a| &a.scores) {
            lines.push((
                "Assessment",
                format!(
                    "{} / {} / {} (attacker effort, defender learning, collaboration), share {}% by {} at {}",
                    text(&s.attacker),
                    text(&s.defender),
                    text(&s.collaboration),
                    p.share,
                    person(Some(&p.assessor)),
                    p.assessed_at
                ),
            ));
        }
        if t.state == TaskState::Assessed {
            let until = window_end(f.policy, p);
            lines.push((
                "Lazy consensus",
                format!(
                    "window until {until}; objections: {}; approvals: {}",
                    objections(&p.objectors, &f.history.objections),
                    people(&p.approvals)
                ),
            ));
        }
        lines.push((
            "Pending SC",
            format!("{} (Attacker) + {} (Defender)", p.attacker_left, p.defender_left),
        ));
        lines.push(("Validated SC", p.total.minus(p.attacker_left).minus(p.defender_left).to_string()));
    }
    format!(
        "**{}** — {}\n\n{}\n{}\n\n{FOOTER}",
        text(&t.id),
        text(&t.title),
        table(&lines),
        rows_line(&f.history.rows, f.links)
    )
}

/// The content of an objective's section.
pub fn objective(
    objective: &Objective,
    team: Option<&Team>,
    mission_leader: Option<&str>,
    tasks: &[&Task],
    rows: &[RowRef],
    links: &RowLinks,
) -> String {
    let mut by_state = Vec::new();
    for state in TaskState::ALL {
        let n = tasks.iter().filter(|t| t.state == state).count();
        if n > 0 {
            by_state.push(format!("{n} {}", state.word()));
        }
    }
    let budget = tasks.iter().fold(Amount::ZERO, |sum, t| sum.plus(t.budget));
    let paid = tasks
        .iter()
        .filter(|t| t.state == TaskState::Paid)
        .fold(Amount::ZERO, |sum, t| sum.plus(t.budget));
    let lines = [
        ("Team", team_line(team, &objective.team)),
        ("Mission leader", person(mission_leader)),
        (
            "Tasks",
            if by_state.is_empty() {
                "none yet".to_string()
            } else {
                format!("{}: {}", tasks.len(), by_state.join(", "))
            },
        ),
        ("Budget", format!("{budget} SC in all; {paid} SC of it paid")),
    ];
    format!(
        "**{}** — {}\n\n{}\n{}\n\n{FOOTER}",
        text(&objective.id),
        text(&objective.title),
        table(&lines),
        rows_line(rows, links)
    )
}

/// Everything the section of a proposal shows.
pub struct ProposalFacts<'a> {
    /// The proposal as every front end shows it.
    pub view: &'a ProposalView,
    /// The proposal as the rules keep it: whether it is a vote, who objected, how it ended.
    pub proposal: &'a Proposal,
    /// Its rows, objections with reasons and votes.
    pub history: &'a ProposalHistory,
    /// Links to rows.
    pub links: &'a RowLinks,
}

/// A link in Markdown that a ledger value cannot break out of: a table cell ends at `|`, a
/// link target at `)`.
fn link_target(url: &Url) -> String {
    url.as_str().replace('(', "%28").replace(')', "%29").replace('|', "%7C")
}

/// The link to the full text (a web address becomes a link, anything else is shown as
/// written) and its hash.
fn full_text_line(link: &str, hash: &str) -> String {
    let link = link.trim();
    let shown = match Url::parse(link) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => format!("[full text]({})", link_target(&url)),
        _ if link.is_empty() => "no link given".to_string(),
        _ => text(link),
    };
    format!("{shown} · {}", text(hash))
}

/// The status word, with what it means now for a running vote or one waiting to be closed.
fn proposal_status_line(v: &ProposalView) -> String {
    match v.status {
        ProposalStatus::Voting if v.passing => "voting; it would pass if it closed now".to_string(),
        ProposalStatus::Voting => "voting; it would fail if it closed now".to_string(),
        ProposalStatus::Closing => format!(
            "closing: its window is over, and anyone may close it (`smartup close-proposal {}`)",
            v.seq
        ),
        status => status.word().to_string(),
    }
}

/// How long it stands or its vote runs, and whether objections made it a vote.
fn window_line(p: &Proposal) -> String {
    let end = p.closes_at();
    match (p.kind.lazy(), p.escalated_at) {
        (true, None) => format!("lazy consensus until {end}"),
        (true, Some(at)) => format!("lazy consensus until {at}, when objections made it a vote; the vote until {end}"),
        (false, _) => format!("a vote until {end}"),
    }
}

/// Who objected and why, against the number that makes it a vote.
fn proposal_objections(p: &Proposal, history: &ProposalHistory) -> String {
    format!(
        "{} ({} of the {} that make it a vote)",
        objections(&p.objectors, &history.objections),
        p.objectors.len(),
        p.objections_needed
    )
}

/// `yes 2.120 · no 1.000 · abstain 0.000 votes`.
fn tally_text(v: &ProposalView) -> String {
    format!("yes {} · no {} · abstain {} votes", v.yes, v.no, v.abstain)
}

/// `40.05% of 5.005 eligible votes (quorum 20.00%)`.
fn participation_text(v: &ProposalView) -> String {
    format!("{}% of {} eligible votes (quorum {}%)", v.participation, v.eligible, v.quorum)
}

/// `2: @alice (yes), @founder (no)`, from the vote rows; the count alone without them.
fn voters_line(count: u64, votes: &BTreeMap<String, String>) -> String {
    if votes.is_empty() {
        return if count == 0 { "none yet".to_string() } else { count.to_string() };
    }
    let list: Vec<String> = votes
        .iter()
        .map(|(who, choice)| format!("{} ({})", person(Some(who)), text(choice)))
        .collect();
    format!("{}: {}", votes.len(), list.join(", "))
}

/// `yes` when `holds`, else `no`.
fn said(holds: bool, yes: &'static str, no: &'static str) -> &'static str {
    if holds {
        yes
    } else {
        no
    }
}

/// The tally, participation against the quorum, the threshold and the voters.
fn tally_lines(f: &ProposalFacts) -> Vec<(&'static str, String)> {
    let (v, p) = (f.view, f.proposal);
    let quorate = p.tally.quorate(p.eligible, p.quorum);
    let carried = p.tally.carried(p.threshold);
    vec![
        ("Tally", tally_text(v)),
        (
            "Participation",
            format!("{}: {}", participation_text(v), said(quorate, "reached", "not reached")),
        ),
        (
            "Threshold",
            format!("yes above {}% of yes + no: {}", v.threshold, said(carried, "met", "not met")),
        ),
        ("Voters", voters_line(v.voters, &f.history.votes)),
    ]
}

/// How a closed proposal ended: `**passed** at … (seq 45): yes … votes, participation …`.
fn result_text(f: &ProposalFacts) -> Option<String> {
    let outcome = f.proposal.outcome.as_ref()?;
    let how = if f.proposal.in_vote() {
        format!("{}; participation {}", tally_text(f.view), participation_text(f.view))
    } else {
        "by lazy consensus, without a vote".to_string()
    };
    let word = said(outcome.passed, "passed", "failed");
    Some(format!("**{word}** at {} (seq {}): {how}", outcome.at, outcome.seq))
}

/// The content of a proposal's section.
pub fn proposal(f: &ProposalFacts) -> String {
    let (v, p) = (f.view, f.proposal);
    let mut lines = vec![
        ("Status", proposal_status_line(v)),
        ("Kind", v.kind.to_string()),
        ("Proposer", person(Some(&v.proposer))),
        ("Effect", text(&v.effect)),
        ("Full text", full_text_line(&v.link, &v.text_hash)),
        ("Made", v.created_at.to_string()),
        ("Window", window_line(p)),
    ];
    if p.kind.lazy() {
        lines.push(("Objections", proposal_objections(p, f.history)));
    }
    if p.in_vote() {
        lines.extend(tally_lines(f));
    }
    if let Some(result) = result_text(f) {
        lines.push(("Result", result));
    }
    if let Some(seq) = v.applied_by {
        lines.push(("Carried out", format!("by seq {seq}")));
    }
    format!(
        "**#{}** — {}\n\n{}\n{}\n\n{FOOTER}",
        v.seq,
        text(&v.title),
        table(&lines),
        rows_line(&f.history.rows, f.links)
    )
}

/// What the sync says when it closes a decided proposal's issue: the result, and that the
/// issue stays closed. `None` while the proposal is open.
pub fn proposal_closed(f: &ProposalFacts) -> Option<String> {
    let result = result_text(f)?;
    Some(format!(
        "Closed by `smartup forgejo sync`: in the ledger, proposal #{} {result}. A decided proposal stays decided: \
         if this issue is reopened, the sync closes it again. The section above keeps the tally and the ledger rows.",
        f.view.seq
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ledger_text_cannot_break_the_table_or_the_markers() {
        assert_eq!(text("a | b <!-- smartup:end -->"), "a \\| b &lt;!-- smartup:end --&gt;");
        assert_eq!(person(None), "—");
    }

    #[test]
    fn a_full_text_link_cannot_break_the_table_or_the_link() {
        assert_eq!(
            full_text_line("https://forge.example.org/a_(b)|c", "sha256:ab"),
            "[full text](https://forge.example.org/a_%28b%29%7Cc) · sha256:ab"
        );
        assert_eq!(full_text_line("", "sha256:ab"), "no link given · sha256:ab");
        assert_eq!(full_text_line("docs/p|1.md", "sha256:ab"), "docs/p\\|1.md · sha256:ab");
    }

    #[test]
    fn voters_are_named_with_their_latest_choice() {
        let votes = BTreeMap::from([("bob".to_string(), "no".to_string()), ("alice".to_string(), "yes".to_string())]);
        assert_eq!(voters_line(2, &votes), "2: @alice (yes), @bob (no)");
        assert_eq!(voters_line(0, &BTreeMap::new()), "none yet");
    }
}
