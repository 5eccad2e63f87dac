//! The public transparency site, generated from the signed ledger only: static HTML (one
//! stylesheet, no JavaScript), the same pages as MkDocs Markdown and as a Forgejo wiki.
//!
//! A build first verifies the history it shows (every signature and rule, from genesis, or
//! only the commits after the commit an earlier build into the same folder verified), then
//! folds the history once more to build the pages, streaming the audit log page by page, and
//! writes only the files whose bytes changed. The same ledger gives byte-identical files: the
//! "as of" is the ledger's last row, never the time of the build.
//!
//! - [`doc`]: the document model pages are built in; [`html`] and [`markdown`] render it;
//! - [`model`]: what the pages need beyond the state, folded row by row;
//! - [`pages`]: the pages; [`plot`]: the finances plot;
//! - [`output`]: the site folder and its manifest; [`wiki`]: publishing to a Forgejo wiki.

pub mod doc;
pub mod html;
pub mod markdown;
pub mod model;
pub mod output;
pub mod pages;
pub mod plot;
pub mod wiki;

use crate::clerk::Ledger;
use crate::rules::State;
use crate::verify::cache::StateCache;
use crate::verify::{self, Options};
use crate::view;
use anyhow::{anyhow, Context as _, Result};
use doc::{link, text, Block, Inline, Page};
use git2::Oid;
use markdown::Flavour;
use model::{LogPage, Model};
use output::{Output, Written};
use std::cell::RefCell;
use std::path::Path;

/// The main pages, in the order of the navigation.
pub const NAV: [(&str, &str); 7] = [
    ("index", "Overview"),
    ("finances", "Finances"),
    ("owners/index", "Owners"),
    ("tasks/index", "Tasks"),
    ("rules", "Currency rules"),
    ("log/index", "Audit log"),
    ("verify", "How to verify"),
];

/// Folder of the MkDocs pages inside the site folder (with `mkdocs.yml` beside `docs/`).
pub const DOCS_DIR: &str = "markdown";
/// Folder of the wiki pages inside the site folder.
pub const WIKI_DIR: &str = "wiki";

/// What surrounds every page: the smartup's name and the footer.
pub struct Frame {
    /// The smartup's name.
    pub name: String,
    /// The footer line.
    pub footer: Vec<Inline>,
}

impl Frame {
    fn of(name: &str) -> Frame {
        Frame {
            name: name.to_string(),
            footer: vec![
                text(format!("Generated from the signed ledger of {name} by smartup. ")),
                link("Check it yourself", "verify"),
                text("."),
            ],
        }
    }
}

/// The history does not verify: nothing was published. Front ends print the findings.
#[derive(Debug, thiserror::Error)]
#[error("the ledger does not verify ({} problems); the site was not built", findings.len())]
pub struct NotVerified {
    /// Each violation, as `verify` prints it.
    pub findings: Vec<String>,
}

/// What a build did.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Built {
    /// The commit the site shows.
    pub commit: String,
    /// Its rows.
    pub rows: u64,
    /// Pages built (each in three formats).
    pub pages: usize,
    /// The commit signatures were checked from (an earlier build's), or none: from genesis.
    pub verified_after: Option<String>,
    /// Commits whose signatures this build checked.
    pub commits_verified: u64,
    /// Files written, unchanged and removed.
    pub files: Written,
}

/// Builds the site of `ledger` at `at` (a commit or revision; HEAD by default) into `out`.
/// A folder holding anything but an earlier site of this ledger is refused unless `force`.
pub fn build(ledger: &Ledger, out: &Path, at: Option<&str>, force: bool) -> Result<Built> {
    let repo = &ledger.repo;
    let tip = match at {
        Some(rev) => repo
            .revparse_single(rev)
            .and_then(|o| o.peel_to_commit())
            .map_err(|_| anyhow!("{rev} is not a commit of the ledger"))?
            .id(),
        None => ledger.head,
    };
    let mut output = Output::open(out, &ledger.state.ledger_id, &tip.to_string(), force)?;
    let (verified_after, commits_verified) = check(ledger, tip, &output.previous().commit)?;
    let frame = Frame::of(&ledger.state.name);

    let (model, state, genesis) = fold(ledger, tip, &frame, &mut output)?;
    let balances = view::balances::balances(&state, state.last_timestamp.unwrap_or(crate::time::Timestamp(0)));
    let board = view::status::board(&state, balances.at);
    let ctx = pages::Context {
        state: &state,
        model: &model,
        board,
        balances,
        commit: tip.to_string(),
        genesis: genesis.to_string(),
        web: web_base(ledger, &state),
    };
    let pages = pages::all(&ctx)?;
    for page in &pages {
        write_page(&mut output, page, &frame)?;
    }
    output.write("style.css", html::STYLE.as_bytes())?;
    output.write(&format!("{DOCS_DIR}/mkdocs.yml"), markdown::mkdocs_config(&frame).as_bytes())?;
    output.write(&format!("{WIKI_DIR}/_Sidebar.md"), markdown::wiki_sidebar(&frame).as_bytes())?;
    let log_pages = if state.last_seq == 0 { 0 } else { model::log_page_of(state.last_seq) };
    Ok(Built {
        commit: tip.to_string(),
        rows: state.last_seq,
        pages: pages.len() + log_pages as usize,
        verified_after,
        commits_verified,
        files: output.finish()?,
    })
}

/// Verifies the history up to `tip` with every signature: only the commits after
/// `verified` when that earlier build's commit is an ancestor of `tip`, else all of it.
/// Returns the commit checking started after and how many commits were checked.
fn check(ledger: &Ledger, tip: Oid, verified: &str) -> Result<(Option<String>, u64)> {
    let repo = &ledger.repo;
    let earlier = Oid::from_str(verified)
        .ok()
        .filter(|&v| v == tip || repo.graph_descendant_of(tip, v).unwrap_or(false));
    let start = match earlier {
        Some(v) => Some((v, StateCache::of(repo).state_at(repo, v, None)?)),
        None => None,
    };
    let options = Options {
        check_signatures: true,
        ..Options::default()
    };
    let report = verify::walk_from(repo, start, tip, &options)?;
    if !report.findings.is_empty() {
        return Err(NotVerified {
            findings: report.findings.iter().map(ToString::to_string).collect(),
        }
        .into());
    }
    Ok((earlier.map(|v| v.to_string()), report.commits))
}

/// The rows of history up to `tip`, folded into the model; audit-log pages are written as
/// they fill. Returns the model, the state at `tip` and the root commit.
fn fold(ledger: &Ledger, tip: Oid, frame: &Frame, output: &mut Output) -> Result<(Model, State, Oid)> {
    struct Sink<'o> {
        model: Model,
        output: &'o mut Output,
        owners: Vec<String>,
        failed: Option<anyhow::Error>,
    }
    let sink = RefCell::new(Sink {
        model: Model::default(),
        output,
        owners: Vec::new(),
        failed: None,
    });
    let web = web_base(ledger, &ledger.state);
    let emit = |sink: &mut Sink, page: LogPage, last: bool| {
        let owners = &sink.owners;
        let is_owner = |h: &str| owners.binary_search_by(|o| o.as_str().cmp(h)).is_ok();
        let page = pages::log_page(&page, last, &is_owner, web.as_deref());
        if let Err(e) = write_page(sink.output, &page, frame) {
            sink.failed.get_or_insert(e);
        }
    };
    let observe = |row: &crate::ledger::row::Row, location: &crate::ledger::row::Location, commit: Oid, before: &State| {
        let mut sink = sink.borrow_mut();
        if let Some(page) = sink.model.observe(row, location, commit, before) {
            sink.owners = sorted_owners(before);
            emit(&mut sink, page, false);
        }
    };
    let options = Options {
        observe: Some(&observe),
        ..Options::default()
    };
    let report = verify::walk(&ledger.repo, tip, &options)?;
    let genesis = report.walked.first().map(|w| w.commit).context("the ledger has no commits")?;
    let state = report.state.context("the ledger has no ledger.toml")?;
    let mut sink = sink.into_inner();
    if let Some(e) = sink.failed.take() {
        return Err(e);
    }
    if let Some(page) = sink.model.finish(&state) {
        sink.owners = sorted_owners(&state);
        emit(&mut sink, page, true);
    }
    if let Some(e) = sink.failed.take() {
        return Err(e);
    }
    Ok((sink.model, state, genesis))
}

fn sorted_owners(state: &State) -> Vec<String> {
    let mut owners: Vec<String> = state.owners.keys().cloned().collect();
    owners.sort();
    owners
}

/// Where Forgejo shows the ledger repository (`https://forge/org/ledger/`), when the policy
/// has a `[forgejo]` section and the repository is found there.
fn web_base(ledger: &Ledger, state: &State) -> Option<String> {
    let forgejo = state.policy.forgejo.as_ref()?;
    let instance = reqwest::Url::parse(&forgejo.url).ok()?;
    let (owner, repo) = crate::repo::forge::location(&ledger.repo, &instance)?;
    Some(format!("{instance}{owner}/{repo}/"))
}

/// Writes one page as HTML, MkDocs Markdown and wiki Markdown, with its figures' SVG files.
fn write_page(output: &mut Output, page: &Page, frame: &Frame) -> Result<()> {
    output.write(&html::file_of(&page.id), html::render(page, frame).as_bytes())?;
    for (folder, flavour) in [(format!("{DOCS_DIR}/docs"), Flavour::Docs), (WIKI_DIR.to_string(), Flavour::Wiki)] {
        let file = format!("{folder}/{}", flavour.file_of(&page.id));
        output.write(&file, markdown::render(flavour, page, frame).as_bytes())?;
        for block in &page.blocks {
            if let Block::Figure { svg, file, .. } = block {
                output.write(&format!("{folder}/{file}"), svg.as_bytes())?;
            }
        }
    }
    Ok(())
}
