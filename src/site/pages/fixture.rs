//! A ledger with decisions for the pages' unit tests: a passed binding vote that declared
//! `market-launch`, a release of the organisation tranche it triggered, an open vote and an
//! open lazy-consensus proposal with an objection; folded into a model as a build would.

use crate::rules::draft::{Intent, ProposalIntent};
use crate::rules::governance::{Choice, Kind};
use crate::rules::test_support::Book;
use crate::site::doc::{Block, Inline, Page, Table, Target};
use crate::site::histories::Histories;
use crate::site::model::{Filled, Model};

/// `sha256:` of a proposal's text (any well-formed one).
const TEXT: &str = "sha256:7aadacda757b31e31ac2da9ec115e6990d5c3fabeb99c2ca70122f3bc70dafc2";

/// The governed ledger, its folded model and histories (kept in `dir`).
pub struct Governed {
    /// The ledger.
    pub book: Book,
    /// Its folded history.
    pub model: Model,
    /// Its task and proposal histories.
    pub histories: Histories,
    /// The passed binding vote (its seq).
    pub passed: u64,
    /// The open vote.
    pub voting: u64,
    /// The open lazy-consensus proposal.
    pub lazy: u64,
    /// The release row.
    pub release: u64,
}

/// A proposal of `kind` titled `title`, with a text and nothing else.
pub fn intent(kind: Kind, title: &str) -> ProposalIntent {
    ProposalIntent::new(kind, title, TEXT, "https://forge.example/org/ledger/issues/7")
}

/// The founder makes the proposal; returns its seq.
pub fn propose(b: &mut Book, intent: &ProposalIntent) -> u64 {
    b.act("founder", &Intent::Propose(intent.clone()));
    b.state.last_seq
}

/// `who` votes `choice` on `proposal`.
pub fn vote(b: &mut Book, who: &str, proposal: u64, choice: Choice) {
    b.act(
        who,
        &Intent::Vote {
            proposal,
            choice,
            note: String::new(),
        },
    );
}

/// A policy amendment the owners pass a week after the founder proposes it, and the
/// amend-policy row bob records for it (naming the new policy's hash, not the proposal);
/// returns the seqs of the proposal and of the amendment.
pub fn amended(b: &mut Book) -> (u64, u64) {
    let mut amendment = intent(Kind::PolicyAmendment, "A quorum of 25%");
    let reference = format!("sha256:{}", "2".repeat(64));
    amendment.reference = Some(reference.clone());
    let proposal = propose(b, &amendment);
    for who in ["founder", "cap", "maya"] {
        vote(b, who, proposal, Choice::Yes);
    }
    b.later(24 * 7 + 1);
    b.act(
        "cap",
        &Intent::CloseProposal {
            proposal,
            note: String::new(),
        },
    );
    b.ok("bob", "amend-policy", &[("subject", "ledger.toml"), ("reference", &reference)]);
    (proposal, b.state.last_seq)
}

/// Folds every row of `b` into a model with its histories in `dir`, as a build would;
/// returns them and the pages that filled.
pub fn fold(b: &Book, dir: &std::path::Path) -> (Model, Histories, Vec<Filled>) {
    let mut state = b.genesis.clone();
    let mut model = Model::default();
    let mut histories = Histories::new(dir).unwrap();
    let mut filled = Vec::new();
    for (row, location) in &b.rows {
        model.observe(row, location, "c0ffee", &state, &mut histories, &mut filled).unwrap();
        crate::rules::apply(&mut state, row, None).unwrap();
    }
    model.finish(&state, &mut histories, &mut filled).unwrap();
    (model, histories, filled)
}

/// The governed ledger, folded with its histories in `dir`.
pub fn governed(dir: &std::path::Path) -> Governed {
    let mut b = Book::organisation();
    let mut launch = intent(Kind::BindingVote, "We have launched");
    launch.declares = Some("market-launch".into());
    let passed = propose(&mut b, &launch);
    b.later(1);
    for who in ["founder", "cap", "maya"] {
        vote(&mut b, who, passed, Choice::Yes);
    }
    vote(&mut b, "bob", passed, Choice::No);
    b.later(24 * 7);
    b.act(
        "cap",
        &Intent::CloseProposal {
            proposal: passed,
            note: String::new(),
        },
    );
    let hundred = Some(crate::money::Amount::units(100));
    let release = Intent::ReleaseTranche {
        tranche: "organisation".into(),
        amount: hundred,
        proposal: None,
        note: String::new(),
    };
    b.act("cap", &release);
    let release = b.state.last_seq;
    b.later(1);
    let voting = propose(&mut b, &intent(Kind::BindingVote, "Adopt the code of conduct"));
    vote(&mut b, "alice", voting, Choice::Yes);
    let lazy = propose(&mut b, &intent(Kind::LazyConsensus, "Move the weekly call"));
    let note = "clashes with the review".to_string();
    b.act("bob", &Intent::Object { proposal: lazy, note });

    let (model, histories, _) = fold(&b, dir);
    Governed {
        book: b,
        model,
        histories,
        passed,
        voting,
        lazy,
        release,
    }
}

/// What a test reads of a page: a table by its caption.
#[track_caller]
pub fn table<'p>(page: &'p Page, caption: &str) -> &'p Table {
    page.blocks
        .iter()
        .find_map(|b| match b {
            Block::Table(t) if t.caption == caption => Some(t),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{} has no table {caption:?}", page.id.0))
}

/// A cell's inlines as plain text, with links as `[words](page#anchor)`.
pub fn plain(cell: &[Inline]) -> String {
    cell.iter()
        .map(|i| match i {
            Inline::Text(t) | Inline::Strong(t) | Inline::Code(t) => t.clone(),
            Inline::Link(words, Target::Page(page, anchor)) => {
                format!(
                    "[{words}]({}{})",
                    page.0,
                    anchor.as_ref().map_or(String::new(), |a| format!("#{a}"))
                )
            }
            Inline::Link(words, Target::External(url)) => format!("[{words}]({url})"),
        })
        .collect()
}

/// The rows of a table as plain text, cell by cell.
pub fn rows(table: &Table) -> Vec<Vec<String>> {
    table.rows.iter().map(|r| r.cells.iter().map(|c| plain(c)).collect()).collect()
}

/// The row of `table` whose first cell reads `first` (or starts with it).
#[track_caller]
pub fn row(table: &Table, first: &str) -> Vec<String> {
    rows(table)
        .into_iter()
        .find(|r| r.first().is_some_and(|c| c.starts_with(first)))
        .unwrap_or_else(|| panic!("{:?} has no row {first:?}: {:?}", table.caption, rows(table)))
}

/// How [`plain`] shows a link to row `seq` on the audit log: `[seq 42](log/1#seq-42)`.
pub fn log_link(seq: u64) -> String {
    plain(&[crate::site::pages::row_link(seq)])
}
