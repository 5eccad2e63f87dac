//! Helpers for the pre-receive hook tests: a "forge" (a bare clone of a demo ledger with
//! smartup's hook installed) and a working clone of it, pushes with real `git`, rows signed
//! with the library for content the command line would refuse to write, and a tiny
//! deterministic random generator for the mutation test.

#![allow(dead_code)]

use crate::common::{run, s, Run, Sandbox, SMARTUP};
use serde_json::Value;
use smartup::ledger::policy::Policy;
use smartup::ledger::row::Row;
use smartup::ledger::schema;
use smartup::ledger::segment;
use smartup::sign::{encode_signature, SigningKey};
use smartup::time::Timestamp;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

/// Variables besides those the common sandbox scrubs that would change what the hook does.
const ALSO_SCRUBBED: &[&str] = &[
    "SMARTUP_BIN",
    "GITEA_PUSHER_NAME",
    "GITEA_PUSHER_ID",
    "GITEA_REPO_USER_NAME",
    "GITEA_REPO_NAME",
    "GITEA_PR_ID",
    "GITEA_DEPLOY_KEY_ID",
    "GITEA_INTERNAL_PUSH",
    "GIT_QUARANTINE_PATH",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_NAMESPACE",
    "GIT_PUSH_OPTION_COUNT",
];

/// Rows of the demo ledger.
pub const DEMO_ROWS: u64 = 44;

/// The demo's people.
pub const PEOPLE: [&str; 5] = ["founder", "carla", "maya", "alice", "bob"];

/// A demo ledger pushed to a bare "forge" repository with the hook installed, and a clone.
pub struct Forge {
    /// Every process runs in it.
    pub sb: Sandbox,
    /// `smartup demo --dir` folder (DIR/ledger, DIR/keys).
    pub demo: PathBuf,
    /// The bare repository with the hook.
    pub forge: PathBuf,
    /// A clone of the forge, where changes are made and pushed from.
    pub work: PathBuf,
}

impl Default for Forge {
    fn default() -> Self {
        Forge::new()
    }
}

impl Forge {
    /// The demo, `git clone --bare` as forge.git, `smartup hook install`, `git clone` as work.
    #[track_caller]
    pub fn new() -> Forge {
        let f = Forge::without_hook();
        let installed = f.install();
        assert!(
            installed.stdout.lines().any(|l| l.ends_with("hooks/pre-receive")),
            "the hook goes to hooks/pre-receive of a plain bare repository: {installed:?}"
        );
        f.clone_forge(&f.work);
        f
    }

    /// The demo and `git clone --bare` as forge.git, without hook or working clone yet.
    #[track_caller]
    pub fn without_hook() -> Forge {
        let sb = Sandbox::new();
        let demo = demo_template().to_path_buf();
        let forge = sb.path().join("forge.git");
        let work = sb.path().join("work");
        let f = Forge { sb, demo, forge, work };
        f.git_in(f.sb.path(), &["clone", "-q", "--bare", s(&f.demo.join("ledger")), s(&f.forge)])
            .ok();
        f
    }

    /// `smartup hook install --repo forge.git`, which must succeed.
    #[track_caller]
    pub fn install(&self) -> Run {
        self.smartup(&["hook", "install", "--repo", s(&self.forge)]).ok()
    }

    /// `git clone forge.git DIR`.
    #[track_caller]
    pub fn clone_forge(&self, dir: &Path) {
        self.git_in(self.sb.path(), &["clone", "-q", s(&self.forge), s(dir)]).ok();
    }

    /// A command with the sandbox's clean environment and nothing of the hook's.
    pub fn command(&self, program: &str) -> Command {
        let mut command = self.sb.command(program);
        for name in ALSO_SCRUBBED {
            command.env_remove(name);
        }
        command
    }

    /// `smartup ARGS`.
    pub fn smartup(&self, args: &[&str]) -> Run {
        let mut command = self.command(SMARTUP);
        command.args(args);
        run(command)
    }

    /// `smartup --ledger REPO ARGS` as WHO with DEMO/keys/WHO (`SMARTUP_HANDLE`, `SMARTUP_KEY`).
    pub fn act_in(&self, repo: &Path, who: &str, args: &[&str]) -> Run {
        run(self.acting(repo, who, args))
    }

    fn acting(&self, repo: &Path, who: &str, args: &[&str]) -> Command {
        let mut command = self.command(SMARTUP);
        command.args(["--ledger", s(repo)]).args(args);
        command.env("SMARTUP_HANDLE", who).env("SMARTUP_KEY", self.key(who));
        command
    }

    /// An entry in the working clone through the command line with the clock pinned at `at`
    /// (`SMARTUP_NOW`), which must succeed.
    #[track_caller]
    pub fn act_at(&self, at: Timestamp, who: &str, args: &[&str]) -> Run {
        self.try_act_at(at, who, args).ok()
    }

    /// The same, whatever its outcome.
    pub fn try_act_at(&self, at: Timestamp, who: &str, args: &[&str]) -> Run {
        let mut command = self.acting(&self.work, who, args);
        command.env("SMARTUP_NOW", at.to_string());
        run(command)
    }

    /// `git push origin main` with the clock of the forge's hook pinned at `at`.
    pub fn push_at(&self, at: Timestamp) -> Run {
        self.push_args(&["origin", "main"], &[("SMARTUP_NOW", &at.to_string())])
    }

    /// An entry in the working clone through the command line, which must succeed.
    #[track_caller]
    pub fn act(&self, who: &str, args: &[&str]) -> Run {
        self.act_in(&self.work, who, args).ok()
    }

    /// `git -C REPO ARGS`.
    pub fn git_in(&self, repo: &Path, args: &[&str]) -> Run {
        self.git_in_env(repo, args, &[])
    }

    /// `git -C REPO ARGS` with extra environment variables.
    pub fn git_in_env(&self, repo: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut command = self.command("git");
        command.arg("-C").arg(repo).args(args);
        for (name, value) in env {
            command.env(name, value);
        }
        run(command)
    }

    /// `git -C work ARGS`.
    pub fn git(&self, args: &[&str]) -> Run {
        self.git_in(&self.work, args)
    }

    /// `git -C work ARGS`, which must succeed; its trimmed output.
    #[track_caller]
    pub fn git_ok(&self, args: &[&str]) -> String {
        self.git(args).ok().out()
    }

    /// `git -C REPO` with a commit identity and SSH signing with `key`, then ARGS.
    pub fn git_signing_in(&self, repo: &Path, key: &Path, args: &[&str]) -> Run {
        let signing = format!("user.signingkey={}", s(key));
        let mut all = vec!["-c", "user.name=x", "-c", "user.email=x@y", "-c", "gpg.format=ssh", "-c", &signing];
        all.extend_from_slice(args);
        self.git_in(repo, &all)
    }

    /// `git -C work` signing with `key`, then ARGS; must succeed.
    #[track_caller]
    pub fn git_signing(&self, key: &Path, args: &[&str]) -> Run {
        self.git_signing_in(&self.work, key, args).ok()
    }

    /// Stages everything in the working clone and commits it, SSH-signed with `key`.
    #[track_caller]
    pub fn commit_signed_with(&self, key: &Path, message: &str) {
        self.git_ok(&["add", "-A"]);
        self.git_signing(key, &["commit", "-q", "--allow-empty", "-S", "-m", message]);
    }

    /// Stages everything and commits it, SSH-signed with the ledger key of `who`.
    #[track_caller]
    pub fn commit_as(&self, who: &str, message: &str) {
        self.commit_signed_with(&self.key(who), message);
    }

    /// Stages everything and commits it without a signature.
    #[track_caller]
    pub fn commit_unsigned(&self, message: &str) {
        self.git_ok(&["add", "-A"]);
        self.git_ok(&[
            "-c",
            "user.name=x",
            "-c",
            "user.email=x@y",
            "-c",
            "commit.gpgsign=false",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            message,
        ]);
    }

    /// `git push ARGS` from the working clone.
    pub fn push_args(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut all = vec!["push"];
        all.extend_from_slice(args);
        self.git_in_env(&self.work, &all, env)
    }

    /// `git push origin main` from the working clone.
    pub fn push(&self) -> Run {
        self.push_args(&["origin", "main"], &[])
    }

    /// The forge's `main`.
    #[track_caller]
    pub fn forge_main(&self) -> String {
        self.git_in(&self.forge, &["rev-parse", "refs/heads/main"]).ok().out()
    }

    /// The working clone's HEAD.
    #[track_caller]
    pub fn head(&self) -> String {
        self.git_ok(&["rev-parse", "HEAD"])
    }

    /// Puts the working clone back to the forge's `main`, dropping local commits and files.
    #[track_caller]
    pub fn reset(&self) {
        self.git_ok(&["fetch", "-q", "origin"]);
        self.git_ok(&["checkout", "-q", "-f", "main"]);
        self.git_ok(&["reset", "-q", "--hard", "origin/main"]);
        self.git_ok(&["clean", "-q", "-f", "-d", "-x"]);
    }

    /// The private key of a demo participant.
    pub fn key(&self, who: &str) -> PathBuf {
        self.demo.join("keys").join(who)
    }

    /// A new ed25519 key made by ssh-keygen, known to no ledger.
    #[track_caller]
    pub fn stranger_key(&self, name: &str) -> PathBuf {
        self.sb.keygen(name)
    }

    /// `smartup verify --json` of a repository: the run and its report.
    #[track_caller]
    pub fn verify(&self, repo: &Path) -> (Run, Value) {
        let out = self.smartup(&["--ledger", s(repo), "verify", "--json"]);
        let report = out.verify_report();
        (out, report)
    }

    /// `smartup verify` of the forge must pass; returns its row count.
    #[track_caller]
    pub fn assert_forge_verifies(&self) -> u64 {
        let (out, report) = self.verify(&self.forge);
        assert_eq!(out.code, 0, "the forge's ledger must verify: {out:?}");
        assert_eq!(report["ok"], true, "{report}");
        report["rows"].as_u64().expect("verify reports its rows")
    }

    /// The rows of `smartup log --json` of a repository.
    #[track_caller]
    pub fn log(&self, repo: &Path) -> Vec<Value> {
        self.smartup(&["--ledger", s(repo), "log", "--json"]).ok().json_lines()
    }

    /// Asserts that a push was accepted and landed on the forge, and that the forge verifies.
    #[track_caller]
    pub fn assert_accepted(&self, out: &Run) {
        self.assert_landed(out);
        self.assert_forge_verifies();
    }

    /// Asserts that the hook accepted a push and the forge's main is the pushed commit.
    #[track_caller]
    pub fn assert_landed(&self, out: &Run) {
        assert_eq!(out.code, 0, "the push must be accepted: {out:?}");
        assert!(
            out.stderr.lines().any(|l| l.starts_with("remote: smartup: accepted")),
            "the hook says what it accepted: {out:?}"
        );
        assert_eq!(self.forge_main(), self.head(), "the forge's main is the pushed commit: {out:?}");
    }

    /// Asserts that the hook rejected a push, with `parts` each on one of its `remote:` lines,
    /// and that the forge's main is still `before`.
    #[track_caller]
    pub fn assert_rejected(&self, out: &Run, before: &str, parts: &[&str]) {
        assert_ne!(out.code, 0, "the push must be rejected: {out:?}");
        assert!(
            out.stderr.contains("pre-receive hook declined"),
            "git must report the hook's refusal: {out:?}"
        );
        let remote: Vec<&str> = out.stderr.lines().filter(|l| l.starts_with("remote:")).collect();
        assert!(
            remote.iter().any(|l| l.contains("smartup: push rejected")),
            "the hook must say it rejected the push: {out:?}"
        );
        assert!(
            !out.stderr.contains("a bug in smartup"),
            "the hook must reject with reasons, not by failing: {out:?}"
        );
        for part in parts {
            assert!(
                remote.iter().any(|l| l.contains(part)),
                "a remote: line should mention {part:?}: {out:?}"
            );
        }
        assert_eq!(self.forge_main(), before, "a rejected push must not move the forge's main: {out:?}");
    }

    /// The working clone's `ledger.toml`.
    #[track_caller]
    pub fn policy(&self) -> Policy {
        let text = std::fs::read_to_string(self.work.join("ledger.toml")).expect("work/ledger.toml");
        Policy::parse(&text).expect("a valid policy")
    }

    /// Seq and timestamp of the working clone's last row.
    #[track_caller]
    pub fn last(&self) -> (u64, Timestamp) {
        let log = self.log(&self.work);
        let last = log.last().expect("the ledger has rows");
        let seq = last["seq"].as_u64().expect("seq");
        let at = last["timestamp"].as_str().expect("timestamp").parse().expect("a timestamp");
        (seq, at)
    }

    /// The newest segment file of a table in the working clone.
    #[track_caller]
    pub fn segment(&self, table: &str) -> PathBuf {
        self.work.join(super::common::last_segment(&self.work, table))
    }

    /// Appends `rows` (lines with their line ends) to a table in the working clone, the way
    /// smartup does (see [`super::common::add_rows`]); returns the path written, relative to
    /// the clone.
    #[track_caller]
    pub fn add_rows(&self, table: &str, rows: &[u8]) -> String {
        super::common::add_rows(&self.work, table, rows)
    }

    /// A deposit of 10 EUR by the founder, as the next row, now.
    #[track_caller]
    pub fn deposit(&self) -> Craft {
        let (seq, last) = self.last();
        let policy = self.policy();
        Craft {
            table: "transactions".into(),
            action: "deposit-eur".into(),
            actor: "founder".into(),
            values: vec![
                ("currency".into(), "EUR".into()),
                ("amount".into(), "10.00".into()),
                ("reason".into(), "donation".into()),
            ],
            seq: seq + 1,
            at: Timestamp::now().max(last),
            signer: self.key("founder"),
            named_key: self.key("founder"),
            ledger_id: policy.ledger.id,
            namespace: policy.ledger.namespace,
        }
    }

    /// An SK award for `reason` by `actor` to `owner`, signed with the actor's key, as the
    /// next row, now.
    #[track_caller]
    pub fn award(&self, actor: &str, owner: &str) -> Craft {
        let mut craft = self.deposit();
        let day = craft.at.to_string()[..10].to_string();
        craft.action = "award-sk".into();
        craft.actor = actor.into();
        craft.values = vec![
            ("owner".into(), owner.into()),
            ("currency".into(), "SK".into()),
            ("amount".into(), "5.00".into()),
            ("reason".into(), "review".into()),
            ("earned_on".into(), day),
        ];
        craft.signer = self.key(actor);
        craft.named_key = self.key(actor);
        craft
    }

    /// Appends a crafted row to its table in the working clone.
    #[track_caller]
    pub fn append(&self, craft: &Craft) -> Row {
        let row = craft.sign();
        self.add_rows(&craft.table, &craft.line_of(&row));
        row
    }
}

/// One `smartup demo --dir` run shared by the tests of this binary (it builds a forge of its
/// own and takes seconds): each test clones its ledger bare into a fresh sandbox, and only
/// reads its keys. Kept under Cargo's temporary folder for integration tests; runs older
/// than an hour are removed.
fn demo_template() -> &'static Path {
    static TEMPLATE: OnceLock<PathBuf> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let hour_ago = SystemTime::now() - Duration::from_secs(3600);
        for entry in std::fs::read_dir(root).into_iter().flatten().flatten() {
            let old = entry.metadata().and_then(|m| m.modified()).is_ok_and(|t| t < hour_ago);
            if old && entry.file_name().to_string_lossy().starts_with("hook-demo-") {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        let dir = root.join(format!("hook-demo-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let sb = Sandbox::new();
        let mut command = sb.command(SMARTUP);
        for name in ALSO_SCRUBBED {
            command.env_remove(name);
        }
        command.args(["demo", "--dir", s(&dir)]);
        run(command).ok();
        for who in PEOPLE {
            assert!(dir.join("keys").join(who).exists(), "the demo left no key for {who}");
        }
        dir
    })
}

/// A row to sign with the library, with everything a test may want to get wrong.
#[derive(Clone, Debug)]
pub struct Craft {
    /// Table name.
    pub table: String,
    /// Action.
    pub action: String,
    /// Actor.
    pub actor: String,
    /// Column values by name (others stay empty).
    pub values: Vec<(String, String)>,
    /// Its seq.
    pub seq: u64,
    /// Its timestamp.
    pub at: Timestamp,
    /// The private key that signs it.
    pub signer: PathBuf,
    /// The key whose fingerprint goes into the `key` column.
    pub named_key: PathBuf,
    /// The ledger id the signature is bound to.
    pub ledger_id: String,
    /// The signature namespace.
    pub namespace: String,
}

impl Craft {
    /// The signed row.
    #[track_caller]
    pub fn sign(&self) -> Row {
        let table = schema::table_id(&self.table).unwrap_or_else(|| panic!("no table {}", self.table));
        let values: Vec<(&str, &str)> = self.values.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let mut row = Row::draft(table, self.seq, self.at, &self.actor, &self.action, &values).expect("known columns");
        row.key = load_key(&self.named_key).public().fingerprint();
        let signer = load_key(&self.signer);
        row.signature = encode_signature(&signer.sign(&self.namespace, &row.message(&self.ledger_id)));
        row
    }

    /// The canonical segment line of a row (with its line end).
    pub fn line_of(&self, row: &Row) -> Vec<u8> {
        let mut out = Vec::new();
        segment::encode_row(row, &mut out);
        out
    }

    /// The canonical segment line of the signed row.
    #[track_caller]
    pub fn line(&self) -> Vec<u8> {
        self.line_of(&self.sign())
    }
}

#[track_caller]
fn load_key(path: &Path) -> SigningKey {
    SigningKey::load(path, None).unwrap_or_else(|e| panic!("cannot load {}: {e}", path.display()))
}

/// Appends bytes to a file.
#[track_caller]
pub fn append_bytes(path: &Path, bytes: &[u8]) {
    let mut all = std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    all.extend_from_slice(bytes);
    std::fs::write(path, all).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

/// The lines of a text file, each with its line end.
#[track_caller]
pub fn lines_of(path: &Path) -> Vec<Vec<u8>> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    bytes.split_inclusive(|&b| b == b'\n').map(<[u8]>::to_vec).collect()
}

/// Writes lines back.
#[track_caller]
pub fn write_lines(path: &Path, lines: &[Vec<u8>]) {
    std::fs::write(path, lines.concat()).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

/// A started process, to be waited for.
pub struct Started {
    what: String,
    child: Child,
}

impl Started {
    /// Starts a prepared command with its output captured.
    pub fn spawn(mut command: Command) -> Started {
        let what = format!("{command:?}");
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
        let child = command.spawn().unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
        Started { what, child }
    }

    /// Waits for the end.
    pub fn wait(self) -> Run {
        let output = self
            .child
            .wait_with_output()
            .unwrap_or_else(|e| panic!("cannot wait for {}: {e}", self.what));
        Run {
            what: self.what,
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// xorshift64*: a tiny deterministic generator, so that a failing mutation can be replayed.
pub struct Rng(u64);

impl Rng {
    /// A generator from a non-zero seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number below `n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// One of the items.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// A non-zero byte.
    pub fn nonzero_byte(&mut self) -> u8 {
        (self.below(255) + 1) as u8
    }
}
