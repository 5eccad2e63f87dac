//! Helpers for the command-line tests: a sandbox per test (its own HOME, so no user
//! configuration leaks in), running `smartup`, `git` and `ssh-keygen`, and building a
//! standard organisation through the command line.

#![allow(dead_code)]

pub mod synapse;

use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The signature namespace of ledgers made from the template.
pub const NAMESPACE: &str = "smartup-ledger";

/// The binary under test.
pub const SMARTUP: &str = env!("CARGO_BIN_EXE_smartup");

/// Environment variables of the user's session that must not reach the processes we run.
const SCRUBBED: &[&str] = &[
    "RUST_BACKTRACE",
    "RUST_LIB_BACKTRACE",
    "SMARTUP_LEDGER",
    "SMARTUP_HANDLE",
    "SMARTUP_KEY",
    "SMARTUP_KEY_PASSPHRASE",
    "SMARTUP_NOW",
    "SMARTUP_WITNESS_KEY",
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_CONFIG",
    "GIT_CONFIG_GLOBAL",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT",
    "SSH_AUTH_SOCK",
    "SSH_ASKPASS",
    "DISPLAY",
];

/// The outcome of a finished process.
pub struct Run {
    /// What was run, for messages.
    pub what: String,
    /// Exit code (-1 when killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl fmt::Debug for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` exited with {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.what, self.code, self.stdout, self.stderr
        )
    }
}

impl Run {
    /// Asserts exit code 0.
    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(self.code, 0, "expected success: {self:?}");
        self
    }

    /// Asserts the exit code.
    #[track_caller]
    pub fn code(self, expected: i32) -> Run {
        assert_eq!(self.code, expected, "expected exit code {expected}: {self:?}");
        self
    }

    /// Asserts a failure (any exit code but 0).
    #[track_caller]
    pub fn fails(self) -> Run {
        assert_ne!(self.code, 0, "expected a failure: {self:?}");
        self
    }

    /// Asserts that standard error contains every one of `parts` (case-insensitively).
    #[track_caller]
    pub fn stderr_has(self, parts: &[&str]) -> Run {
        let lower = self.stderr.to_lowercase();
        for part in parts {
            assert!(lower.contains(&part.to_lowercase()), "stderr should mention {part:?}: {self:?}");
        }
        self
    }

    /// Standard output parsed as one JSON value.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:?}"))
    }

    /// Standard output parsed as one JSON value per line.
    #[track_caller]
    pub fn json_lines(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("line {l:?} is not JSON ({e}): {self:?}")))
            .collect()
    }

    /// `verify --json` (JSON Lines: a `finding` per violation, then the `summary`) as one
    /// report: the summary's fields, with the findings as `violations`.
    #[track_caller]
    pub fn verify_report(&self) -> Value {
        let lines = self.json_lines();
        assert!(lines.iter().all(|l| l["type"] == "finding" || l["type"] == "summary"), "{self:?}");
        let mut report = lines
            .iter()
            .find(|l| l["type"] == "summary")
            .cloned()
            .unwrap_or_else(|| panic!("no summary line: {self:?}"));
        assert_eq!(lines.last(), Some(&report), "the summary comes last: {self:?}");
        report["violations"] = Value::Array(lines.into_iter().filter(|l| l["type"] == "finding").collect());
        report
    }

    /// Trimmed standard output.
    pub fn out(&self) -> String {
        self.stdout.trim().to_string()
    }
}

/// Runs a prepared command to its end.
pub fn run(mut command: Command) -> Run {
    let what = format!("{command:?}");
    let output = command.output().unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    Run {
        what,
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A temporary folder with its own HOME: every process the tests start runs in it.
pub struct Sandbox {
    dir: tempfile::TempDir,
}

impl Default for Sandbox {
    fn default() -> Self {
        Sandbox::new()
    }
}

impl Sandbox {
    /// A fresh, empty sandbox.
    pub fn new() -> Sandbox {
        let dir = tempfile::tempdir().expect("cannot create a temporary folder");
        std::fs::create_dir_all(dir.path().join("home")).expect("cannot create HOME");
        std::fs::create_dir_all(dir.path().join("keys")).expect("cannot create the key folder");
        Sandbox { dir }
    }

    /// The sandbox folder.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// HOME of every process started here.
    pub fn home(&self) -> PathBuf {
        self.path().join("home")
    }

    /// A command with a clean environment: HOME in the sandbox, no backtraces, no smartup or
    /// git variables of the caller, no terminal on standard input.
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        for name in SCRUBBED {
            command.env_remove(name);
        }
        command
            .env("HOME", self.home())
            .env("XDG_CONFIG_HOME", self.home().join(".config"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("LC_ALL", "C")
            .current_dir(self.path())
            .stdin(Stdio::null());
        command
    }

    /// `smartup ARGS`.
    pub fn smartup(&self, args: &[&str]) -> Run {
        let mut command = self.command(SMARTUP);
        command.args(args);
        run(command)
    }

    /// `smartup ARGS` with extra setup of the command (environment, folder).
    pub fn smartup_with(&self, args: &[&str], setup: impl FnOnce(&mut Command)) -> Run {
        let mut command = self.command(SMARTUP);
        command.args(args);
        setup(&mut command);
        run(command)
    }

    /// `git -C REPO ARGS`.
    pub fn git(&self, repo: &Path, args: &[&str]) -> Run {
        let mut command = self.command("git");
        command.arg("-C").arg(repo).args(args);
        run(command)
    }

    /// `git -C REPO ARGS`, which must succeed; its trimmed output.
    #[track_caller]
    pub fn git_ok(&self, repo: &Path, args: &[&str]) -> String {
        self.git(repo, args).ok().out()
    }

    /// Commits everything in the working tree with plain git (unsigned), as a tamperer would.
    #[track_caller]
    pub fn plain_commit(&self, repo: &Path, message: &str) {
        self.git_ok(repo, &["add", "-A"]);
        self.git_ok(
            repo,
            &[
                "-c",
                "user.name=x",
                "-c",
                "user.email=x@example.invalid",
                "-c",
                "commit.gpgsign=false",
                "commit",
                "-q",
                "-m",
                message,
            ],
        );
    }

    /// A new ed25519 key pair made by ssh-keygen, without passphrase: the private key's path
    /// (the public key is next to it, with `.pub`).
    #[track_caller]
    pub fn keygen(&self, name: &str) -> PathBuf {
        self.keygen_with_passphrase(name, "")
    }

    /// A new ed25519 key pair made by ssh-keygen, protected by `passphrase`.
    #[track_caller]
    pub fn keygen_with_passphrase(&self, name: &str, passphrase: &str) -> PathBuf {
        let path = self.path().join("keys").join(name);
        let mut command = self.command("ssh-keygen");
        command.args(["-q", "-t", "ed25519", "-N", passphrase, "-C", name, "-f"]).arg(&path);
        run(command).ok();
        assert!(path.with_extension("pub").exists(), "ssh-keygen wrote no public key for {name}");
        path
    }

    /// The SHA256 fingerprint of a key as ssh-keygen prints it (`SHA256:...`).
    #[track_caller]
    pub fn fingerprint(&self, key: &Path) -> String {
        let public = public_of(key);
        let mut command = self.command("ssh-keygen");
        command.args(["-E", "sha256", "-l", "-f"]).arg(&public);
        let out = run(command).ok().out();
        let fp = out.split_whitespace().nth(1).unwrap_or_default().to_string();
        assert!(fp.starts_with("SHA256:"), "unexpected ssh-keygen -l output {out:?}");
        fp
    }

    /// `ssh-keygen ARGS` with standard input from `stdin_file`.
    pub fn ssh_keygen(&self, args: &[&str], stdin_file: &Path) -> Run {
        let mut command = self.command("ssh-keygen");
        command
            .args(args)
            .stdin(std::fs::File::open(stdin_file).expect("cannot open the standard input file"));
        run(command)
    }

    /// Runs `smartup demo` into `DIR/demo` and returns the ledger and its keys.
    #[track_caller]
    pub fn demo(&self) -> Ledger {
        self.demo_pinned(None)
    }

    /// Runs `smartup demo` into `DIR/demo` with its clock pinned at `at` (`SMARTUP_NOW`; its
    /// rows then lie in the 230 hours before it) when given, and returns the ledger and keys.
    #[track_caller]
    pub fn demo_pinned(&self, at: Option<&str>) -> Ledger {
        let dir = self.path().join("demo");
        let dir_text = dir.to_str().expect("UTF-8 path").to_string();
        self.smartup_with(&["demo", "--dir", &dir_text], |c| {
            if let Some(at) = at {
                c.env("SMARTUP_NOW", at);
            }
        })
        .ok();
        let mut keys = BTreeMap::new();
        for who in ["founder", "carla", "maya", "alice", "bob"] {
            let key = dir.join("keys").join(who);
            assert!(key.exists(), "the demo left no key for {who}");
            keys.insert(who.to_string(), key);
        }
        Ledger {
            dir: dir.join("ledger"),
            keys,
        }
    }
}

/// The `.pub` file next to a private key.
pub fn public_of(key: &Path) -> PathBuf {
    let mut name = key.as_os_str().to_owned();
    name.push(".pub");
    PathBuf::from(name)
}

/// Text of a path, for command lines.
pub fn s(path: &Path) -> &str {
    path.to_str().expect("test paths are UTF-8")
}

/// A ledger folder and the private keys of its people.
#[derive(Clone, Debug)]
pub struct Ledger {
    /// The repository.
    pub dir: PathBuf,
    /// Private key per handle.
    pub keys: BTreeMap<String, PathBuf>,
}

impl Ledger {
    /// The private key of `who`.
    #[track_caller]
    pub fn key(&self, who: &str) -> &Path {
        self.keys.get(who).unwrap_or_else(|| panic!("no key for {who}"))
    }

    /// `smartup --ledger DIR ARGS` (reading commands).
    pub fn read(&self, sb: &Sandbox, args: &[&str]) -> Run {
        let mut all = vec!["--ledger", s(&self.dir)];
        all.extend_from_slice(args);
        sb.smartup(&all)
    }

    /// `smartup --ledger DIR ARGS` as WHO with KEY (`SMARTUP_HANDLE`, `SMARTUP_KEY`), recorded at AT (the pinned clock
    /// `SMARTUP_NOW`) when given.
    pub fn act(&self, sb: &Sandbox, who: &str, at: Option<&str>, args: &[&str]) -> Run {
        self.act_with_key(sb, who, self.key(who), at, args)
    }

    /// Like [`Ledger::act`] with an explicit key.
    pub fn act_with_key(&self, sb: &Sandbox, who: &str, key: &Path, at: Option<&str>, args: &[&str]) -> Run {
        let mut all = vec!["--ledger", s(&self.dir)];
        all.extend_from_slice(args);
        sb.smartup_with(&all, |c| {
            c.env("SMARTUP_HANDLE", who).env("SMARTUP_KEY", key);
            if let Some(at) = at {
                c.env("SMARTUP_NOW", at);
            }
        })
    }

    /// An action that must succeed and print exactly the rows `seq first..` it recorded.
    #[track_caller]
    pub fn act_ok(&self, sb: &Sandbox, who: &str, at: &str, args: &[&str], expected_rows: &[(u64, &str)]) {
        let out = self.act(sb, who, Some(at), args).ok();
        let lines: Vec<&str> = out.stdout.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(
            lines.len(),
            expected_rows.len(),
            "one printed line per recorded row expected: {out:?}"
        );
        for (line, (seq, action)) in lines.iter().zip(expected_rows) {
            let prefix = format!("seq {seq}: {action} ");
            assert!(line.starts_with(&prefix), "expected {prefix:?}..., got {line:?}: {out:?}");
        }
    }

    /// `git rev-parse HEAD` and `git status --porcelain`: what must not change when a command
    /// is refused.
    #[track_caller]
    pub fn snapshot(&self, sb: &Sandbox) -> (String, String) {
        let head = sb.git_ok(&self.dir, &["rev-parse", "HEAD"]);
        let status = sb.git(&self.dir, &["status", "--porcelain", "--untracked-files=all"]).ok().stdout;
        (head, status)
    }

    /// The rows of `smartup log --json`.
    #[track_caller]
    pub fn log(&self, sb: &Sandbox) -> Vec<Value> {
        self.read(sb, &["log", "--json"]).ok().json_lines()
    }

    /// `smartup verify --json`: the run and its report.
    #[track_caller]
    pub fn verify(&self, sb: &Sandbox) -> (Run, Value) {
        let out = self.read(sb, &["verify", "--json"]);
        let report = out.verify_report();
        (out, report)
    }

    /// Path of a file in the ledger.
    pub fn file(&self, relative: &str) -> PathBuf {
        self.dir.join(relative)
    }
}

/// The violation codes of a `verify --json` report.
pub fn codes(report: &Value) -> Vec<String> {
    report["violations"]
        .as_array()
        .map(|v| v.iter().filter_map(|f| f["code"].as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// Timestamps of the standard organisation's history.
pub const FOUNDED: &str = "2026-01-05T09:00:00Z";

/// The handles of the standard organisation, founder first.
pub const PEOPLE: [&str; 5] = ["founder", "captain", "maya", "alice", "bob"];

/// Builds the standard organisation through the command line, each step checked:
/// the founder registers the smartup and bootstraps the leadership (3_1) and design (3_2)
/// teams, enters captain, maya, alice and bob with their ssh-keygen keys, deposits 1000 EUR,
/// makes captain the captain of the design team (4_1_2), who opens objective 5_2_1; the
/// founder makes maya its mission leader, and captain makes alice senior (4_2_1) and bob
/// junior (4_3_1). 17 rows, all at [`FOUNDED`].
#[track_caller]
pub fn standard_org(sb: &Sandbox) -> Ledger {
    let mut keys = BTreeMap::new();
    for who in PEOPLE {
        keys.insert(who.to_string(), sb.keygen(who));
    }
    let ledger = Ledger {
        dir: sb.path().join("ledger"),
        keys,
    };
    let t = FOUNDED;
    // `init` is the one action whose folder does not exist yet.
    let init = ledger.act(sb, "founder", Some(t), &["init", "--name", "Test Smartup"]).ok();
    assert!(init.stdout.contains("seq 1: register-smartup Test Smartup by founder"), "{init:?}");
    assert!(
        ledger.file("ledger.toml").exists() && ledger.file("README.md").exists(),
        "init wrote no ledger.toml/README.md"
    );

    ledger.act_ok(
        sb,
        "founder",
        t,
        &[
            "bootstrap-teams",
            "--team",
            "3_1_leadership_team=Leadership",
            "--team",
            "3_2_design_team=Design",
        ],
        &[(2, "bootstrap-teams"), (3, "bootstrap-teams")],
    );
    let mut seq = 4;
    for (who, license) in [("captain", "organizational"), ("maya", "work"), ("alice", "work"), ("bob", "work")] {
        let public = public_of(ledger.key(who));
        ledger.act_ok(
            sb,
            "founder",
            t,
            &["create-owner", who, "--license", license, "--public-key", s(&public)],
            &[(seq, "create-owner"), (seq + 1, "register-key")],
        );
        seq += 2;
    }
    ledger.act_ok(
        sb,
        "founder",
        t,
        &["assign-role", "4_1_2_tc_design_team", "captain", "--team", "3_2_design_team"],
        &[(12, "assign-role")],
    );
    ledger.act_ok(
        sb,
        "founder",
        t,
        &["deposit-eur", "1000", "--reason", "license"],
        &[(13, "deposit-eur")],
    );
    ledger.act_ok(
        sb,
        "captain",
        t,
        &[
            "create-objective",
            "5_2_1_brand",
            "--team",
            "3_2_design_team",
            "--title",
            "A brand people recognise",
        ],
        &[(14, "create-objective")],
    );
    ledger.act_ok(sb, "founder", t, &["assign-role", "5_2_1", "maya"], &[(15, "assign-role")]);
    ledger.act_ok(
        sb,
        "captain",
        t,
        &["assign-role", "4_2_1", "alice", "--team", "3_2"],
        &[(16, "assign-role")],
    );
    ledger.act_ok(
        sb,
        "captain",
        t,
        &["assign-role", "4_3_1", "bob", "--team", "3_2"],
        &[(17, "assign-role")],
    );
    ledger
}

/// The segment files of a table in a ledger's working tree, in order, as paths relative to
/// the ledger (`tables/transactions/1/01.csv`, ...); none for a table without rows.
#[track_caller]
pub fn segments_of(ledger: &Path, table: &str) -> Vec<String> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
            .map(|e| e.expect("a folder entry").path())
            .collect();
        entries.sort();
        for entry in entries {
            if entry.is_dir() {
                walk(&entry, out);
            } else {
                out.push(entry);
            }
        }
    }
    let mut files = Vec::new();
    let folder = ledger.join("tables").join(table);
    if folder.exists() {
        walk(&folder, &mut files);
    }
    let relative: Vec<String> = files
        .iter()
        .map(|f| f.strip_prefix(ledger).expect("inside the ledger").to_string_lossy().into_owned())
        .collect();
    for (i, path) in relative.iter().enumerate() {
        let expected = format!("tables/{table}/{}", smartup::ledger::segment_path(i as u64 + 1));
        assert_eq!(*path, expected, "segments of {table} are numbered in order");
    }
    relative
}

/// The newest segment of a table (relative to the ledger).
#[track_caller]
pub fn last_segment(ledger: &Path, table: &str) -> String {
    segments_of(ledger, table)
        .pop()
        .unwrap_or_else(|| panic!("table {table} has no segment"))
}

/// The segment of a table whose text contains `needle` (relative to the ledger).
#[track_caller]
pub fn segment_holding(ledger: &Path, table: &str, needle: &str) -> String {
    segments_of(ledger, table)
        .into_iter()
        .find(|p| std::fs::read_to_string(ledger.join(p)).is_ok_and(|t| t.contains(needle)))
        .unwrap_or_else(|| panic!("no segment of {table} holds {needle:?}"))
}

/// Appends `rows` (canonical lines, each with its line end, or deliberately broken ones) to a
/// table the way smartup does: at the end of its last segment while that holds fewer than
/// the policy's `segment_rows` rows, else as the next segment. Returns the path written,
/// relative to the ledger.
#[track_caller]
pub fn add_rows(ledger: &Path, table: &str, rows: &[u8]) -> String {
    let policy = std::fs::read_to_string(ledger.join("ledger.toml")).expect("read ledger.toml");
    let full = smartup::ledger::policy::Policy::parse(&policy)
        .expect("a valid policy")
        .ledger
        .segment_rows as usize;
    let segments = segments_of(ledger, table);
    let last = segments
        .last()
        .map(|p| (p.clone(), std::fs::read(ledger.join(p)).expect("read a segment")));
    if let Some((relative, mut bytes)) = last.filter(|(_, b)| b.iter().filter(|&&c| c == b'\n').count() <= full) {
        bytes.extend_from_slice(rows);
        std::fs::write(ledger.join(&relative), bytes).expect("grow the last segment");
        return relative;
    }
    let relative = format!("tables/{table}/{}", smartup::ledger::segment_path(segments.len() as u64 + 1));
    let id = smartup::ledger::schema::table_id(table).unwrap_or_else(|| panic!("no table {table}"));
    let mut bytes = smartup::ledger::segment::header_line(id);
    bytes.extend_from_slice(rows);
    let path = ledger.join(&relative);
    std::fs::create_dir_all(path.parent().expect("a folder")).expect("create the segment's folder");
    std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    relative
}
