//! `smartup site`: build the public transparency site from the verified ledger, and publish
//! its Markdown pages to the Forgejo wiki.

use super::context::{ledger_dir, outside_the_ledger};
use super::{AlreadyReported, Global};
use crate::site::{self, wiki, NotVerified};
use anyhow::{anyhow, Result};
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// `site` subcommands.
#[derive(Subcommand, Debug, Clone)]
pub enum SiteCommand {
    /// Build the site: static HTML (open DIR/index.html), MkDocs pages (DIR/markdown) and wiki
    /// pages (DIR/wiki), from history that verifies; only changed files are rewritten
    Build(BuildArgs),
    /// Build the site, then push its wiki pages to the ledger repository's Forgejo wiki
    Publish(PublishArgs),
}

/// Arguments of `site build`.
#[derive(Args, Debug, Clone)]
pub struct BuildArgs {
    /// The site folder (empty, new, or an earlier build's)
    #[arg(long, value_name = "DIR", default_value = "smartup-site")]
    pub out: PathBuf,
    /// Build the site of this commit [default: HEAD]
    #[arg(long, value_name = "COMMIT")]
    pub at: Option<String>,
    /// Write into a folder that holds something else (its other files are left alone)
    #[arg(long)]
    pub force: bool,
}

/// Arguments of `site publish`.
#[derive(Args, Debug, Clone)]
pub struct PublishArgs {
    #[command(flatten)]
    pub build: BuildArgs,
    /// Push the Markdown pages to the Forgejo wiki (`<repo>.wiki.git` beside `origin`)
    #[arg(long, required = true)]
    pub wiki: bool,
    /// The wiki's git address [default: origin's, with `.wiki.git`]
    #[arg(long, value_name = "URL")]
    pub remote: Option<String>,
    /// The wiki's branch [default: the wiki's own, or master for an empty wiki]
    #[arg(long)]
    pub branch: Option<String>,
}

/// Runs a `site` subcommand.
pub fn run(global: &Global, command: &SiteCommand) -> Result<()> {
    match command {
        SiteCommand::Build(args) => {
            let built = build(global, args)?;
            print(global, &built, &args.out, None);
            Ok(())
        }
        SiteCommand::Publish(args) => {
            let built = build(global, &args.build)?;
            let remote = match &args.remote {
                Some(remote) => remote.clone(),
                None => {
                    let repo = crate::repo::open(&ledger_dir(global))?;
                    let origin = repo.find_remote("origin").ok();
                    let url = origin.as_ref().and_then(|r| r.url().ok().map(str::to_string));
                    wiki::wiki_remote(
                        &url.ok_or_else(|| anyhow!("the ledger has no `origin` remote to find the wiki beside: pass --remote URL"))?,
                    )
                }
            };
            let message = format!("smartup site: the ledger at {} ({} rows)", built.commit, built.rows);
            let published = wiki::publish(&args.build.out.join(site::WIKI_DIR), &remote, args.branch.as_deref(), &message)?;
            print(global, &built, &args.build.out, Some(&published));
            Ok(())
        }
    }
}

fn build(global: &Global, args: &BuildArgs) -> Result<site::Built> {
    let repo = crate::repo::open(&ledger_dir(global))?;
    outside_the_ledger(&repo, &args.out, "--out", "the site", "smartup-site")?;
    match site::build(&repo, &args.out, args.at.as_deref(), args.force) {
        Ok(built) => Ok(built),
        Err(e) => match e.downcast::<NotVerified>() {
            Ok(not) => {
                eprintln!("smartup: {not}; nothing was written. The violations:");
                for finding in &not.findings {
                    eprintln!("  {finding}");
                }
                Err(AlreadyReported(not.findings.len()).into())
            }
            Err(e) => Err(e),
        },
    }
}

fn print(global: &Global, built: &site::Built, out: &std::path::Path, published: Option<&wiki::Published>) {
    if global.json {
        let line = serde_json::json!({ "site": built, "wiki": published });
        println!("{line}");
        return;
    }
    let checked = match &built.verified_after {
        Some(after) => format!("{} new commits after {after}", built.commits_verified),
        None => format!("all {} commits", built.commits_verified),
    };
    println!(
        "built the site of {} rows at commit {}: {} pages; signatures checked on {checked}; files written {}, unchanged {}, removed {}",
        built.rows, built.commit, built.pages, built.files.written, built.files.unchanged, built.files.removed
    );
    match published {
        Some(p) => match &p.commit {
            Some(commit) => println!("pushed the wiki pages to {} ({}) as {commit}", p.remote, p.branch),
            None => println!("the wiki at {} ({}) already shows these pages", p.remote, p.branch),
        },
        None => println!("open {} in a browser", out.join("index.html").display()),
    }
}
