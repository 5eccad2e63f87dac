//! The public transparency site, generated from the signed ledger only: static HTML (one
//! stylesheet, no JavaScript), the same pages as MkDocs Markdown and as a Forgejo wiki.
//!
//! A build walks the history once, checking every signature and rule while it folds the rows
//! into what the pages need; the pages it writes are staged and land only when the whole
//! history verified. A build into the folder of an earlier one goes on from there: it checks
//! and folds only the commits after the earlier build's, renders only the pages those rows
//! (or the passing of time) change, and writes only the files whose bytes changed. The same
//! ledger gives byte-identical files: the "as of" is the ledger's last row, never the time of
//! the build.
//!
//! - [`doc`]: the document model pages are built in; [`html`] and [`markdown`] render it;
//! - [`model`]: what the pages need beyond the state, folded row by row;
//! - [`pages`]: the pages; [`plot`]: the finances plot;
//! - [`output`]: the site folder and its manifest; [`wiki`]: publishing to a Forgejo wiki.

pub mod doc;
pub mod histories;
pub mod html;
pub mod markdown;
pub mod model;
pub mod output;
pub mod pages;
pub mod plot;
pub mod wiki;

use crate::ledger::policy::Policy;
use crate::rules::State;
use crate::verify::cache::StateCache;
use crate::verify::{self, Options};
use anyhow::{anyhow, Context as _, Result};
use doc::{link, text, Block, Inline, Page};
use git2::{Oid, Repository};
use histories::Histories;
use markdown::Flavour;
use model::{Filled, Model};
use output::{Output, Written};
use pages::Sink as _;
use std::cell::RefCell;
use std::path::Path;

/// The main pages, in the order of the navigation.
pub const NAV: [(&str, &str); 8] = [
    ("index", "Overview"),
    ("finances", "Finances"),
    ("owners/index", "Owners"),
    ("tasks/index", "Tasks"),
    ("decisions/index", "Decisions"),
    ("rules", "Currency rules"),
    ("log/index", "Audit log"),
    ("verify", "How to verify"),
];

/// The version of the pages' rendering: a build with another does not go on from an earlier
/// build's model. 2: proposals' histories, the Decisions pages and the tranches. 3: the rows
/// that carried a decision out, "as #N decided" in events, the rules table's "Allowed by".
const RENDERING: u32 = 3;

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
    /// Pages built (each in three formats); pages an earlier build made and nothing changed
    /// are not built again.
    pub pages: usize,
    /// The commit this build went on from (an earlier build's), or none: from genesis.
    pub verified_after: Option<String>,
    /// Commits whose signatures and rules this build checked.
    pub commits_verified: u64,
    /// Files written, unchanged and removed.
    pub files: Written,
}

/// Where the site keeps its model, inside the output folder's state folder.
const MODEL_FILE: &str = "model.json";
/// Where the histories of tasks and proposals are, inside the state folder.
const HISTORIES_DIR: &str = "histories";
/// Where rendering 1 kept the task histories: removed by a build from genesis.
const OLD_TASKS_DIR: &str = "tasks";

/// What a build goes on from: the earlier build's commit, the state and model there.
struct Resume {
    commit: Oid,
    state: State,
    model: Model,
}

/// What an earlier build into `output` left that this one can go on from: only when it
/// rendered the same way and its commit is on `tip`'s first-parent line.
fn resume(repo: &Repository, output: &Output, tip: Oid, rendering: &str) -> Option<Resume> {
    let old = output.previous();
    let commit = Oid::from_str(&old.commit).ok()?;
    if old.rendering != rendering || crate::repo::chain_after(repo, tip, Some(commit)).ok()?.is_none() {
        return None;
    }
    let bytes = std::fs::read(output.state_dir().join(MODEL_FILE)).ok()?;
    let model: Model = serde_json::from_slice(&bytes).ok()?;
    let state = StateCache::of(repo).state_at(repo, commit, None).ok()?;
    (state.last_seq == model.rows).then_some(Resume { commit, state, model })
}

/// Builds the site of the ledger in `repo` at `at` (a commit or revision; HEAD by default)
/// into `out`. A folder holding anything but an earlier site of this ledger is refused unless
/// `force`.
pub fn build(repo: &Repository, out: &Path, at: Option<&str>, force: bool) -> Result<Built> {
    let tip = crate::repo::resolve(repo, at.unwrap_or("HEAD")).map_err(|_| match at {
        Some(rev) => anyhow!("{rev} is not a commit of the ledger"),
        None => anyhow!("the ledger has no commits yet"),
    })?;
    let policy_text = String::from_utf8(crate::repo::policy_at(repo, tip)?).context("ledger.toml is not UTF-8")?;
    let policy = Policy::parse(&policy_text).map_err(|e| anyhow!("the ledger's ledger.toml cannot be read: {e}"))?;
    let web = web_base(repo, &policy);
    let rendering = format!(
        "smartup {} site {RENDERING} links {}",
        env!("CARGO_PKG_VERSION"),
        web.as_deref().unwrap_or("-")
    );
    let mut output = Output::open(out, &policy.ledger.id, &tip.to_string(), &rendering, force)?;
    let resumed = resume(repo, &output, tip, &rendering);
    let state_dir = output.state_dir();
    let (start, model, mut histories) = match resumed {
        Some(r) => {
            output.carry_over();
            let histories = Histories::open(&state_dir.join(HISTORIES_DIR), r.model.rows)?;
            (Some((r.commit, r.state)), r.model, histories)
        }
        None => {
            // The saved model goes first: a build that stops half-way leaves none to go on from.
            match std::fs::remove_file(state_dir.join(MODEL_FILE)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e).context("cannot remove the site's saved model"),
            }
            let _ = std::fs::remove_dir_all(state_dir.join(OLD_TASKS_DIR));
            (None, Model::default(), Histories::new(&state_dir.join(HISTORIES_DIR))?)
        }
    };
    let verified_after = start.as_ref().map(|(c, _)| c.to_string());
    // What the earlier build showed: a task's or a proposal's page is rendered again only
    // when its line changed (or it got rows).
    let earlier = start.as_ref().map(|(_, s)| pages::Earlier::of(s));
    let frame = Frame::of(&policy.ledger.name);
    let mut sink = Pages {
        output: &mut output,
        frame: &frame,
        web: web.as_deref(),
        count: 0,
        buffer: String::new(),
    };
    let (mut model, state, report) = fold(repo, start, tip, model, &mut histories, &mut sink)?;
    if let Some(root) = report.walked.first().filter(|_| model.genesis.is_empty()) {
        model.genesis = root.commit.to_string();
    }

    let mut filled = Vec::new();
    model.finish(&state, &mut histories, &mut filled)?;
    for page in filled {
        sink.filled(page)?;
    }
    let ctx = pages::Context::new(&state, &model, tip.to_string(), web.clone());
    pages::each(&ctx, &mut histories, earlier.as_ref(), &mut sink)?;
    let pages = sink.count;
    output.write("style.css", html::STYLE.as_bytes())?;
    output.write(&format!("{DOCS_DIR}/mkdocs.yml"), markdown::mkdocs_config(&frame).as_bytes())?;
    output.write(&format!("{WIKI_DIR}/_Sidebar.md"), markdown::wiki_sidebar(&frame).as_bytes())?;
    histories.save()?;
    // The state at the tip is a checkpoint for the next build (and every command) to go on from.
    let _ = StateCache::of(repo).store(tip, &state);
    let model_file = state_dir.join(MODEL_FILE);
    let tmp = model_file.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_vec(&model)?).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, &model_file).context("cannot save the site's model")?;
    Ok(Built {
        commit: tip.to_string(),
        rows: state.last_seq,
        pages,
        verified_after,
        commits_verified: report.commits,
        files: output.finish()?,
    })
}

/// Walks the history after `start` (from genesis without one) up to `tip`, checking every
/// signature and rule, and folds its rows into `model` and `histories`; the pages that fill go
/// to `sink` (staged: they land only if the build finishes). Returns the model, the state at
/// `tip` and the walk's report; a history that does not verify is [`NotVerified`].
fn fold(
    repo: &Repository,
    start: Option<(Oid, State)>,
    tip: Oid,
    model: Model,
    histories: &mut Histories,
    sink: &mut Pages,
) -> Result<(Model, State, verify::Report)> {
    struct Folding<'t> {
        model: Model,
        histories: &'t mut Histories,
        filled: Vec<Filled>,
        commit: (Oid, String),
        failed: Option<anyhow::Error>,
    }
    let folding = RefCell::new(Folding {
        model,
        histories,
        filled: Vec::new(),
        commit: (Oid::ZERO_SHA1, String::new()),
        failed: None,
    });
    let observe = |row: &crate::ledger::row::Row, location: &crate::ledger::row::Location, commit: Oid, before: &State| {
        let f = &mut *folding.borrow_mut();
        if f.commit.0 != commit {
            f.commit = (commit, commit.to_string());
        }
        if let Err(e) = f.model.observe(row, location, &f.commit.1, before, f.histories, &mut f.filled) {
            f.failed.get_or_insert(e);
        }
    };
    let sink = RefCell::new(sink);
    // Pages that filled are built after each commit, so that memory holds at most a commit's.
    let flush = |_: usize, _: usize| {
        let f = &mut *folding.borrow_mut();
        for page in std::mem::take(&mut f.filled) {
            if let Err(e) = sink.borrow_mut().filled(page) {
                f.failed.get_or_insert(e);
            }
        }
    };
    let options = Options {
        check_signatures: true,
        observe: Some(&observe),
        progress: Some(&flush),
        read_ahead: true,
        ..Options::default()
    };
    let mut report = verify::walk_from(repo, start, tip, &options)?;
    let f = folding.into_inner();
    if let Some(e) = f.failed {
        return Err(e);
    }
    if !report.findings.is_empty() {
        return Err(NotVerified {
            findings: report.findings.iter().map(ToString::to_string).collect(),
        }
        .into());
    }
    let sink = sink.into_inner();
    for page in f.filled {
        sink.filled(page)?;
    }
    let state = report.state.take().context("the ledger has no ledger.toml")?;
    Ok((f.model, state, report))
}

/// Where Forgejo shows the ledger repository (`https://forge/org/ledger/`), when the policy
/// has a `[forgejo]` section and the repository is found there.
fn web_base(repo: &Repository, policy: &Policy) -> Option<String> {
    let forgejo = policy.forgejo.as_ref()?;
    let instance = reqwest::Url::parse(&forgejo.url).ok()?;
    let (owner, name) = crate::repo::forge::location(repo, &instance)?;
    Some(format!("{instance}{owner}/{name}/"))
}

/// Pages going into the site folder: each written as HTML, MkDocs Markdown and wiki
/// Markdown, with its figures' SVG files.
struct Pages<'o> {
    output: &'o mut Output,
    frame: &'o Frame,
    /// Where Forgejo shows the ledger's files, if known.
    web: Option<&'o str>,
    /// Pages built.
    count: usize,
    /// The buffer every page is rendered into.
    buffer: String,
}

impl Pages<'_> {
    /// Builds and writes a page the fold filled.
    fn filled(&mut self, page: Filled) -> Result<()> {
        let page = match page {
            Filled::Log { number, lines, last } => pages::log_page(number, &lines, last, self.web),
            Filled::Signed { owner, number, rows } => pages::signed_page(&owner, number, &rows),
        };
        self.page(page)
    }
}

/// The Markdown folders and their flavours.
fn markdown_folders() -> [(String, Flavour); 2] {
    [(format!("{DOCS_DIR}/docs"), Flavour::Docs), (WIKI_DIR.to_string(), Flavour::Wiki)]
}

impl pages::Sink for Pages<'_> {
    fn page(&mut self, page: Page) -> Result<()> {
        self.count += 1;
        html::render_into(&page, self.frame, &mut self.buffer);
        self.output.write(&html::file_of(&page.id), self.buffer.as_bytes())?;
        for (folder, flavour) in markdown_folders() {
            let file = format!("{folder}/{}", flavour.file_of(&page.id));
            markdown::render_into(flavour, &page, self.frame, &mut self.buffer);
            self.output.write(&file, self.buffer.as_bytes())?;
            for block in &page.blocks {
                if let Block::Figure { svg, file, .. } = block {
                    self.output.write(&format!("{folder}/{file}"), svg.as_bytes())?;
                }
            }
        }
        Ok(())
    }
}
