//! Transcript tests: the ```console blocks of README.md and of every `tests/transcripts/*.md`
//! are run, command by command, and their output compared with what the file shows.
//!
//! Each file runs in a sandbox of its own (see `sandbox.rs`), one command after another, so
//! state carries from one command to the next within a file. The syntax is trycmd's:
//! `$ command`, then `? CODE` when the exit code is not 0, then the expected output, where a
//! line `...` stands for any lines and `[..]` for any text within a line.
//!
//! `TRANSCRIPTS=overwrite cargo test --test transcripts` rewrites the expectations with what
//! the commands print now (keeping the wildcards that still match): review the diff.

#[path = "transcripts/document.rs"]
mod document;
#[path = "transcripts/pattern.rs"]
mod pattern;
#[path = "transcripts/sandbox.rs"]
mod sandbox;

use document::{Document, Step};
use sandbox::Sandbox;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The environment variable that turns on bless mode, and its value.
const BLESS: (&str, &str) = ("TRANSCRIPTS", "overwrite");

/// README.md and the transcript files of `tests/transcripts/`, in name order.
fn transcript_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("tests/transcripts"))
        .expect("tests/transcripts/ is readable")
        .map(|entry| entry.expect("tests/transcripts/ is readable").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .collect();
    files.sort();
    files.insert(0, root.join("README.md"));
    files
}

/// Runs one file's commands; in bless mode rewrites the file where the output differs.
/// Returns the report of what differed, if anything.
fn check_file(path: &Path, bless: bool) -> Option<String> {
    let name = path.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap_or(path).display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => return Some(format!("{name}: cannot read: {e}\n")),
    };
    let mut doc = match Document::parse(&text) {
        Ok(doc) => doc,
        Err(e) => return Some(format!("{name}: {e}\n")),
    };
    if doc.steps().next().is_none() {
        return Some(format!("{name}: no ```console block with a `$ ` command\n"));
    }
    let sandbox = match Sandbox::new() {
        Ok(sandbox) => sandbox,
        Err(e) => return Some(format!("{name}: cannot make a sandbox: {e}\n")),
    };
    let mut report = String::new();
    for step in doc.steps_mut() {
        match sandbox.run(&step.command) {
            Ok(outcome) if outcome.status == step.status && pattern::lines_match(&step.expected, &outcome.lines) => {}
            Ok(outcome) => {
                report += &mismatch(&name, step, outcome.status, &outcome.lines);
                if bless {
                    step.expected = pattern::blessed(&step.expected, &outcome.lines);
                    step.status = outcome.status;
                }
            }
            Err(e) => report += &format!("{name}:{}: cannot run `{}`: {e}\n", step.line, step.command),
        }
    }
    if bless && !report.is_empty() {
        if let Err(e) = std::fs::write(path, doc.render()) {
            report += &format!("{name}: cannot write the blessed file: {e}\n");
        }
    }
    (!report.is_empty()).then_some(report)
}

/// What one command did differently from its expectation.
fn mismatch(name: &str, step: &Step, status: i32, lines: &[String]) -> String {
    let mut out = format!("\n{name}:{}: $ {}\n", step.line, step.command);
    if status != step.status {
        let _ = writeln!(out, "exit code: expected {}, got {status}", step.status);
    }
    if !pattern::lines_match(&step.expected, lines) {
        out += "output (- expected, + actual):\n";
        out += &pattern::diff(&step.expected, lines);
    }
    out
}

/// The subcommands a help text lists under `Commands:` (`help` itself left out).
fn listed_subcommands(help: &[String]) -> Vec<String> {
    help.iter()
        .skip_while(|line| line.as_str() != "Commands:")
        .skip(1)
        .take_while(|line| !line.is_empty())
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect()
}

#[test]
fn the_help_transcript_covers_every_command() {
    let sandbox = Sandbox::new().expect("a sandbox");
    let transcript = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/transcripts/help.md")).expect("help.md");
    let mut missing = Vec::new();
    let mut paths = vec![String::new()];
    while let Some(path) = paths.pop() {
        let help = sandbox.run(&format!("smartup help {path}")).expect("smartup help runs");
        assert_eq!(help.status, 0, "smartup help {path}: {:?}", help.lines);
        for name in listed_subcommands(&help.lines) {
            let sub = format!("{path} {name}").trim().to_string();
            if !transcript.lines().any(|line| line == format!("$ smartup help {sub}")) {
                missing.push(sub.clone());
            }
            paths.push(sub);
        }
    }
    assert!(
        missing.is_empty(),
        "tests/transcripts/help.md has no `$ smartup help` for: {}; add a section for each, then bless",
        missing.join(", ")
    );
}

#[test]
fn transcripts_print_what_they_show() {
    let bless = std::env::var(BLESS.0).is_ok_and(|value| value == BLESS.1);
    let files = transcript_files();
    let reports: Vec<String> = std::thread::scope(|scope| {
        let running: Vec<_> = files.iter().map(|file| scope.spawn(move || check_file(file, bless))).collect();
        running
            .into_iter()
            .filter_map(|run| run.join().unwrap_or_else(|_| Some("a transcript runner panicked\n".to_string())))
            .collect()
    });
    if bless && !reports.is_empty() {
        eprintln!("{}\nthe files above were rewritten: review `git diff`", reports.concat());
    } else {
        assert!(
            reports.is_empty(),
            "{}\n{} transcript file(s) differ; `{}={} cargo test --test transcripts` rewrites them",
            reports.concat(),
            reports.len(),
            BLESS.0,
            BLESS.1
        );
    }
}
