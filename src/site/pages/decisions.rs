//! Decisions: the open proposals (status, the tally so far, participation against the quorum,
//! objections, time left), the closed ones (result, tally, the row that carried out their
//! effect), and a page per proposal with every row about it, each linked to the audit log.

use super::{cell, history_table, owner_link, percent, row_link, time_left, when, Context, Sink};
use crate::site::doc::{link, text, Block, Inline, Page, Table, Target};
use crate::site::histories::{proposal_key, Histories};
use crate::site::model::Told;
use crate::view::proposals::{carried_out_by_a_later_row, ProposalStatus, ProposalView};
use anyhow::Result;

/// The id of proposal `seq`'s page.
fn page_of(seq: u64) -> String {
    format!("decisions/{seq}")
}

/// A link to a proposal's page, named by its number and title: `33: Adopt the code`.
pub fn proposal_link(p: &ProposalView) -> Inline {
    link(format!("{}: {}", p.seq, p.title), &page_of(p.seq))
}

/// Whether it is still open (not closed by a row).
pub fn is_open(p: &ProposalView) -> bool {
    p.closed_by.is_none()
}

/// Its status word, and for an open vote how it stands: `voting (passing so far)`.
pub fn status(p: &ProposalView) -> String {
    let word = p.status.word();
    match p.status {
        ProposalStatus::Voting if p.passing => format!("{word} (passing so far)"),
        ProposalStatus::Voting => format!("{word} (failing so far)"),
        ProposalStatus::Closing if p.passing => format!("{word} (it passes)"),
        ProposalStatus::Closing => format!("{word} (it fails)"),
        _ => word.to_string(),
    }
}

/// The votes: `yes 2.005, no 1.000, abstain 0.000 (3 voters)`, or why there are none.
fn votes(p: &ProposalView) -> String {
    if !p.in_vote {
        return match p.status {
            ProposalStatus::LazyConsensus => format!("no vote unless {} owners object", p.objections_needed),
            _ => "no vote (lazy consensus)".to_string(),
        };
    }
    if p.voters == 0 {
        return if is_open(p) { "no votes yet" } else { "no votes" }.to_string();
    }
    let voters = if p.voters == 1 {
        "1 voter".to_string()
    } else {
        format!("{} voters", p.voters)
    };
    format!("yes {}, no {}, abstain {} ({voters})", p.yes, p.no, p.abstain)
}

/// Participation against the quorum: `60.00% (quorum 20.00%)`; `-` without a vote.
fn participation(p: &ProposalView) -> String {
    if p.in_vote {
        format!("{} (quorum {})", percent(p.participation), percent(p.quorum))
    } else {
        "-".to_string()
    }
}

/// Objections against the number that turns it into a vote: `1 of 3`; none for a proposal
/// voted from the start.
fn objections(p: &ProposalView) -> Option<String> {
    (!p.in_vote || p.objections > 0).then(|| format!("{} of {}", p.objections, p.objections_needed))
}

/// How an open proposal stands: its votes, or the objections that would make it a vote.
fn standing(p: &ProposalView) -> String {
    match objections(p) {
        Some(o) if !p.in_vote => format!("objections: {o} that make it a vote"),
        _ => votes(p),
    }
}

/// A proposal's number and title linked to its page, then its kind: `41: Adopt … (binding-vote)`.
fn named(p: &ProposalView) -> Vec<Inline> {
    vec![proposal_link(p), text(format!(" ({})", p.kind))]
}

/// When its window ends, and for an open proposal the time left as of the last row.
fn closes(p: &ProposalView) -> String {
    let at = when(p.closes_at);
    match p.status {
        ProposalStatus::LazyConsensus | ProposalStatus::Voting => format!("{at} ({} left)", time_left(p.seconds_left)),
        ProposalStatus::Closing => format!("{at} (ended: anyone may close it)"),
        ProposalStatus::Passed | ProposalStatus::Failed => at,
    }
}

/// The row that carried out a passed proposal's effect, or why there is none (yet).
fn carried_out(p: &ProposalView) -> Vec<Inline> {
    match (p.status, p.applied_by, p.closed_by) {
        (ProposalStatus::Passed, Some(seq), _) => vec![row_link(seq)],
        (ProposalStatus::Passed, None, _) if carried_out_by_a_later_row(p.kind) => {
            cell("not yet: the row it allows is still to be recorded")
        }
        (ProposalStatus::Passed, None, Some(closed)) => vec![text("its closing row, "), row_link(closed)],
        (ProposalStatus::Failed, ..) => cell("nothing: it failed"),
        _ => cell("-"),
    }
}

/// Where its full text lives (a link when it is an address) and the hash it must have.
fn full_text(p: &ProposalView) -> Vec<Inline> {
    let hash = Inline::Code(p.text_hash.clone());
    if p.link.is_empty() {
        return vec![text("not linked; its sha256 is "), hash];
    }
    let place = if p.link.starts_with("https://") || p.link.starts_with("http://") {
        Inline::Link(p.link.clone(), Target::External(p.link.clone()))
    } else {
        text(p.link.clone())
    };
    vec![place, text(", whose sha256 must be "), hash]
}

/// How the policy in force decides, in words.
fn how_decided(ctx: &Context) -> String {
    let g = &ctx.state.policy.governance;
    format!(
        "Decisions are made by proposals, each a signed row of the ledger. A lazy-consensus proposal passes after {} \
         hours unless {} owners object, which turns it into a vote; other kinds are voted from the start. A vote runs \
         {} hours; each owner's latest vote counts, weighted min(1.5, 1 + SK/1000) as of the proposal. It passes with \
         a quorum of {} of the eligible weight and yes strictly above {} of yes + no. Each proposal keeps the numbers \
         in force when it was made.",
        g.lazy_consensus_hours,
        g.objections_to_vote,
        g.vote_hours,
        percent(g.quorum_percent.0),
        percent(g.threshold_percent.0)
    )
}

/// The table of open proposals.
fn open_table(open: &[&ProposalView]) -> Table {
    let mut table = Table::new(
        "Open proposals",
        &[
            "Proposal",
            "Proposed by",
            "If it passes",
            "Status",
            "Votes or objections so far",
            "Participation",
            "Closes",
        ],
    )
    .with_titles();
    for p in open {
        table.row(vec![
            named(p),
            vec![owner_link(&p.proposer)],
            cell(&p.effect),
            cell(status(p)),
            cell(standing(p)),
            cell(participation(p)),
            cell(closes(p)),
        ]);
    }
    table
}

/// The table of closed proposals, newest first.
fn closed_table(closed: &[&ProposalView]) -> Table {
    let mut table = Table::new(
        "Closed proposals, newest first",
        &[
            "Proposal",
            "Proposed by",
            "Result",
            "Votes",
            "Participation",
            "Closed by",
            "Carried out by",
        ],
    )
    .with_titles();
    for p in closed.iter().rev() {
        let closed_by = p.closed_by.map_or_else(|| cell("-"), |seq| vec![row_link(seq)]);
        table.row(vec![
            named(p),
            vec![owner_link(&p.proposer)],
            cell(p.status.word()),
            cell(votes(p)),
            cell(participation(p)),
            closed_by,
            carried_out(p),
        ]);
    }
    table
}

/// The Decisions page (`decisions/index`).
pub fn index(ctx: &Context) -> Page {
    let mut page = Page::new("decisions/index", "Decisions");
    page.para(vec![text(how_decided(ctx))]);
    let (open, closed): (Vec<&ProposalView>, Vec<&ProposalView>) = ctx.proposals.iter().partition(|p| is_open(p));

    page.heading("Open proposals");
    if open.is_empty() {
        page.para(vec![text("No proposal is open.")]);
    } else {
        page.para(vec![
            text("Times left are as of the ledger's last row, "),
            row_link(ctx.state.last_seq),
            text(format!(
                " ({}), like everything on this site.",
                ctx.board.last_at.map_or("-".into(), when)
            )),
        ]);
        page.push(Block::Table(open_table(&open)));
    }

    page.heading("Closed proposals");
    if closed.is_empty() {
        page.para(vec![text("No proposal has been closed yet.")]);
    } else {
        page.push(Block::Table(closed_table(&closed)));
    }
    page.para(vec![
        text("The tranches of retrospective awards that decisions release are on the "),
        link("finances", "finances"),
        text(" page."),
    ]);
    page
}

/// The facts of one proposal, one per line.
fn facts(p: &ProposalView) -> Table {
    let mut table = Table::new(format!("Proposal {}", p.seq), &["What", "Value"]);
    table.row(vec![cell("Kind"), cell(p.kind)]);
    table.row(vec![
        cell("Proposed by"),
        vec![
            owner_link(&p.proposer),
            text(format!(" on {}, ", when(p.created_at))),
            row_link(p.seq),
        ],
    ]);
    table.row(vec![cell("Full text"), full_text(p)]);
    table.row(vec![cell("If it passes"), cell(&p.effect)]);
    table.row(vec![cell("Status"), cell(status(p))]);
    let window = if is_open(p) { "Closes" } else { "Its window ended" };
    table.row(vec![cell(window), cell(closes(p))]);
    if let Some(o) = objections(p) {
        table.row(vec![cell("Objections"), cell(format!("{o} that make it a vote"))]);
    }
    table.row(vec![cell("Votes"), cell(votes(p))]);
    if p.in_vote {
        table.row(vec![cell("Eligible weight"), cell(format!("{} votes", p.eligible))]);
        table.row(vec![cell("Participation"), cell(participation(p))]);
        table.row(vec![
            cell("To pass"),
            cell(format!(
                "votes cast of at least {} of the eligible weight, and yes strictly above {} of yes + no",
                percent(p.quorum),
                percent(p.threshold)
            )),
        ]);
    }
    if let Some(seq) = p.closed_by {
        table.row(vec![cell("Closed"), vec![text(format!("{} by ", p.status.word())), row_link(seq)]]);
        table.row(vec![cell("Carried out by"), carried_out(p)]);
    }
    table
}

/// The page of one proposal (`decisions/<seq>`) with its rows.
fn proposal_page(p: &ProposalView, history: &[Told]) -> Page {
    let mut page = Page::new(&page_of(p.seq), format!("Proposal {}: {}", p.seq, p.title));
    page.push(Block::Table(facts(p)));
    page.heading("Its rows");
    page.push(Block::Table(history_table(format!("Every row about proposal {}", p.seq), history)));
    page.para(vec![text("Back to "), link("all decisions", "decisions/index"), text(".")]);
    page
}

/// Hands to `sink` the page of each proposal that got rows in this build or that reads
/// otherwise than in `earlier` (the proposals of the build this one goes on from, by seq;
/// every proposal without it).
pub fn each_page(ctx: &Context, histories: &mut Histories, earlier: Option<&[ProposalView]>, sink: &mut dyn Sink) -> Result<()> {
    let unchanged = |p: &ProposalView| earlier.is_some_and(|old| old.binary_search_by_key(&p.seq, |o| o.seq).is_ok_and(|i| old[i] == *p));
    for p in &ctx.proposals {
        let key = proposal_key(p.seq);
        if !histories.touched().contains(&key) && unchanged(p) {
            continue;
        }
        let history = histories.history(&key)?;
        sink.page(proposal_page(p, &history))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{governed, log_link, row, rows, table};
    use super::*;
    use crate::site::pages::Earlier;

    /// Pages handed to a sink.
    #[derive(Default)]
    struct Collected(Vec<Page>);

    impl Sink for Collected {
        fn page(&mut self, page: Page) -> Result<()> {
            self.0.push(page);
            Ok(())
        }
    }

    #[test]
    fn the_decisions_page_shows_open_proposals_with_their_standing_and_closed_ones_with_their_rows() {
        let dir = tempfile::tempdir().unwrap();
        let g = governed(dir.path());
        let ctx = Context::new(&g.book.state, &g.model, "c0ffee".into(), None);
        let page = index(&ctx);

        let open = table(&page, "Open proposals");
        assert_eq!(open.rows.len(), 2, "{:?}", rows(open));
        let vote = row(open, &format!("[{}: Adopt the code of conduct]", g.voting));
        // Seven owners, the founder at 1.020 after the governance SK of the passed vote: alice's
        // one vote is 14.24% of the 7.020 votes, under the quorum.
        assert_eq!(
            vote[1..],
            [
                "[founder](owners/founder)",
                "nothing beyond its text",
                "voting (failing so far)",
                "yes 1.000, no 0.000, abstain 0.000 (1 voter)",
                "14.24% (quorum 20%)",
                &format!("{} (7 days 0 h left)", when(ctx.proposals[1].closes_at)),
            ]
        );
        assert!(vote[0].ends_with("(binding-vote)"), "{vote:?}");
        let lazy = row(open, &format!("[{}: Move the weekly call]", g.lazy));
        assert_eq!(lazy[3..6], ["lazy consensus", "objections: 1 of 3 that make it a vote", "-"]);
        assert!(lazy[6].ends_with("(2 days 0 h left)"), "{lazy:?}");

        let closed = table(&page, "Closed proposals, newest first");
        let passed = row(closed, &format!("[{}: We have launched]", g.passed));
        let close = g.passed + 5;
        assert_eq!(
            passed[2..],
            [
                "passed",
                "yes 3.000, no 1.000, abstain 0.000 (4 voters)",
                "57.14% (quorum 20%)",
                &log_link(close),
                &format!("its closing row, {}", log_link(close)),
            ]
        );
    }

    #[test]
    fn a_proposal_page_states_its_facts_and_links_every_row_about_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut g = governed(dir.path());
        let ctx = Context::new(&g.book.state, &g.model, "c0ffee".into(), None);
        let mut sink = Collected::default();
        each_page(&ctx, &mut g.histories, None, &mut sink).unwrap();
        let ids: Vec<&str> = sink.0.iter().map(|p| p.id.0.as_str()).collect();
        let expected = [g.passed, g.voting, g.lazy].map(page_of);
        assert_eq!(ids, expected, "a page per proposal, oldest first");

        let page = &sink.0[0];
        assert_eq!(page.title, format!("Proposal {}: We have launched", g.passed));
        let facts = table(page, &format!("Proposal {}", g.passed));
        let close = g.passed + 5;
        assert_eq!(row(facts, "If it passes")[1], "declares market-launch");
        assert_eq!(row(facts, "Closed")[1], format!("passed by {}", log_link(close)));
        assert_eq!(row(facts, "Eligible weight")[1], "7.000 votes");
        assert!(row(facts, "Full text")[1].starts_with("[https://forge.example/org/ledger/issues/7]"));
        assert!(
            rows(facts).iter().all(|r| r[0] != "Objections"),
            "a vote from the start has no objections to count"
        );
        let history = table(page, &format!("Every row about proposal {}", g.passed));
        let linked: Vec<String> = rows(history).into_iter().map(|r| r[0].clone()).collect();
        let expected: Vec<String> = (g.passed..=close).map(log_link).collect();
        assert_eq!(linked, expected, "the propose row, four votes and the closing row");

        let lazy = &sink.0[2];
        let facts = table(lazy, &format!("Proposal {}", g.lazy));
        assert_eq!(row(facts, "Objections")[1], "1 of 3 that make it a vote");
        assert_eq!(row(facts, "Votes")[1], "no vote unless 3 owners object");
        assert!(rows(facts).iter().all(|r| r[0] != "Participation"), "no vote, no quorum");
    }

    #[test]
    fn only_proposals_that_read_otherwise_or_got_rows_are_built_again() {
        let dir = tempfile::tempdir().unwrap();
        let mut g = governed(dir.path());
        g.histories.save().unwrap();
        let ctx = Context::new(&g.book.state, &g.model, "c0ffee".into(), None);
        let mut earlier = Earlier::of(&g.book.state);
        let mut untouched = Histories::open(dir.path(), u64::MAX).unwrap();
        let mut sink = Collected::default();
        each_page(&ctx, &mut untouched, Some(&earlier.proposals), &mut sink).unwrap();
        assert!(sink.0.is_empty(), "nothing changed");

        earlier.proposals[1].voters = 0;
        each_page(&ctx, &mut untouched, Some(&earlier.proposals), &mut sink).unwrap();
        assert_eq!(sink.0.len(), 1);
        assert_eq!(sink.0[0].id.0, page_of(g.voting));
    }

    #[test]
    fn what_carried_out_a_decision_is_its_row_its_closing_or_nothing_yet() {
        let dir = tempfile::tempdir().unwrap();
        let g = governed(dir.path());
        let ctx = Context::new(&g.book.state, &g.model, "c0ffee".into(), None);
        let mut p = ctx.proposals[0].clone();
        p.kind = "tranche-release";
        assert_eq!(plain(&carried_out(&p)), "not yet: the row it allows is still to be recorded");
        p.applied_by = Some(g.release);
        assert_eq!(plain(&carried_out(&p)), log_link(g.release));
        p.status = ProposalStatus::Failed;
        assert_eq!(plain(&carried_out(&p)), "nothing: it failed");
        assert_eq!(plain(&carried_out(&ctx.proposals[1])), "-", "open: nothing to show yet");
    }

    fn plain(cell: &[Inline]) -> String {
        super::super::fixture::plain(cell)
    }
}
