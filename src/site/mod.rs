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
use pages::Sink as _;
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

/// The version of the pages' rendering: a build with another never reuses pages.
const RENDERING: u32 = 1;

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
    let web = web_base(ledger, &ledger.state);
    let rendering = format!("smartup {} site {RENDERING} links {}", env!("CARGO_PKG_VERSION"), web.as_deref().unwrap_or("-"));
    let mut output = Output::open(out, &ledger.state.ledger_id, &tip.to_string(), &rendering, force)?;
    let (verified_after, commits_verified) = check(ledger, tip, &output.previous().commit)?;
    let frame = Frame::of(&ledger.state.name);

    let mut sink = Pages {
        output: &mut output,
        frame: &frame,
        count: 0,
    };
    let (model, state, genesis) = fold(ledger, tip, web.as_deref(), &mut sink)?;
    let balances = view::balances::balances(&state, state.last_timestamp.unwrap_or(crate::time::Timestamp(0)));
    let board = view::status::board(&state, balances.at);
    let ctx = pages::Context {
        state: &state,
        model: &model,
        board,
        balances,
        commit: tip.to_string(),
        genesis: genesis.to_string(),
        web: web.clone(),
    };
    pages::each(&ctx, &mut sink)?;
    let pages = sink.count;
    output.write("style.css", html::STYLE.as_bytes())?;
    output.write(&format!("{DOCS_DIR}/mkdocs.yml"), markdown::mkdocs_config(&frame).as_bytes())?;
    output.write(&format!("{WIKI_DIR}/_Sidebar.md"), markdown::wiki_sidebar(&frame).as_bytes())?;
    Ok(Built {
        commit: tip.to_string(),
        rows: state.last_seq,
        pages,
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

/// The rows of history up to `tip`, folded into the model; audit-log pages go to `sink` as
/// they fill (or are kept, when an earlier build made them from the same rows). Returns the
/// model, the state at `tip` and the root commit.
fn fold(ledger: &Ledger, tip: Oid, web: Option<&str>, sink: &mut Pages) -> Result<(Model, State, Oid)> {
    struct Folding<'s, 'o> {
        model: Model,
        sink: &'s mut Pages<'o>,
        owners: Vec<String>,
        failed: Option<anyhow::Error>,
    }
    let folding = RefCell::new(Folding {
        model: Model::default(),
        sink,
        owners: Vec::new(),
        failed: None,
    });
    let emit = |f: &mut Folding, page: LogPage, last: bool, state: &State| {
        let id = format!("log/{}", page.number);
        let (first, end) = (page.lines.first().map_or(0, |l| l.event.seq), page.lines.last().map_or(0, |l| l.event.seq));
        if f.sink.kept(&id, &format!("{first}-{end}-{}", if last { "last" } else { "more" })) {
            return;
        }
        if f.owners.len() != state.owners.len() {
            f.owners = state.owners.keys().cloned().collect();
            f.owners.sort();
        }
        let owners = &f.owners;
        let is_owner = |h: &str| owners.binary_search_by(|o| o.as_str().cmp(h)).is_ok();
        let page = pages::log_page(&page, last, &is_owner, web);
        if let Err(e) = f.sink.page(page) {
            f.failed.get_or_insert(e);
        }
    };
    let observe = |row: &crate::ledger::row::Row, location: &crate::ledger::row::Location, commit: Oid, before: &State| {
        let mut f = folding.borrow_mut();
        if let Some(page) = f.model.observe(row, location, commit, before) {
            emit(&mut f, page, false, before);
        }
    };
    let options = Options {
        observe: Some(&observe),
        ..Options::default()
    };
    let report = verify::walk(&ledger.repo, tip, &options)?;
    let genesis = report.walked.first().map(|w| w.commit).context("the ledger has no commits")?;
    let state = report.state.context("the ledger has no ledger.toml")?;
    let mut f = folding.into_inner();
    if let Some(e) = f.failed.take() {
        return Err(e);
    }
    if let Some(page) = f.model.finish(&state) {
        emit(&mut f, page, true, &state);
    }
    if let Some(e) = f.failed.take() {
        return Err(e);
    }
    Ok((f.model, state, genesis))
}

/// Where Forgejo shows the ledger repository (`https://forge/org/ledger/`), when the policy
/// has a `[forgejo]` section and the repository is found there.
fn web_base(ledger: &Ledger, state: &State) -> Option<String> {
    let forgejo = state.policy.forgejo.as_ref()?;
    let instance = reqwest::Url::parse(&forgejo.url).ok()?;
    let (owner, repo) = crate::repo::forge::location(&ledger.repo, &instance)?;
    Some(format!("{instance}{owner}/{repo}/"))
}

/// Pages going into the site folder: each written as HTML, MkDocs Markdown and wiki
/// Markdown, with its figures' SVG files.
struct Pages<'o> {
    output: &'o mut Output,
    frame: &'o Frame,
    /// Pages built or kept.
    count: usize,
}

/// The Markdown folders and their flavours.
fn markdown_folders() -> [(String, Flavour); 2] {
    [(format!("{DOCS_DIR}/docs"), Flavour::Docs), (WIKI_DIR.to_string(), Flavour::Wiki)]
}

impl pages::Sink for Pages<'_> {
    fn page(&mut self, page: Page) -> Result<()> {
        self.count += 1;
        self.output.write(&html::file_of(&page.id), html::render(&page, self.frame).as_bytes())?;
        for (folder, flavour) in markdown_folders() {
            let file = format!("{folder}/{}", flavour.file_of(&page.id));
            self.output.write(&file, markdown::render(flavour, &page, self.frame).as_bytes())?;
            for block in &page.blocks {
                if let Block::Figure { svg, file, .. } = block {
                    self.output.write(&format!("{folder}/{file}"), svg.as_bytes())?;
                }
            }
        }
        Ok(())
    }

    fn kept(&mut self, id: &str, inputs: &str) -> bool {
        let id = doc::PageId::new(id);
        let mut files = vec![html::file_of(&id)];
        files.extend(markdown_folders().map(|(folder, flavour)| format!("{folder}/{}", flavour.file_of(&id))));
        let kept = self.output.unchanged(&id.0, inputs, &files);
        if kept {
            self.count += 1;
        }
        kept
    }
}
