//! Where one transcript file runs: a temporary folder `[ROOT]` holding the fixture keys
//! (`[ROOT]/keys`), a home (`[ROOT]/home`, with the only git configuration the commands see)
//! and the working folder `[CWD]` (`[ROOT]/work`) every command starts in. Commands run by
//! `sh -c` with a fixed environment; paths of the sandbox are written as `[CWD]` and `[ROOT]`
//! in their output.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The committed test-only keys, copied into every sandbox.
const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/transcripts/keys");
/// The binary under test.
const SMARTUP: &str = env!("CARGO_BIN_EXE_smartup");
/// "Now" for every command unless a command sets `SMARTUP_NOW` itself.
const CLOCK: &str = "2026-11-23T09:00:00Z";
/// The git configuration of the sandbox's home: an identity for plain `git commit`, and
/// `main` as the first branch, as the ledger's.
const GITCONFIG: &str = "[user]\n\tname = Transcript\n\temail = transcript@example.invalid\n[init]\n\tdefaultBranch = main\n";

/// A sandbox for one transcript file; removed when dropped.
pub struct Sandbox {
    root: tempfile::TempDir,
    work: PathBuf,
    home: PathBuf,
}

/// What a command did: its exit code (-1 when killed by a signal) and its output lines, with
/// the sandbox's paths written as `[CWD]` and `[ROOT]`.
pub struct Outcome {
    /// The exit code.
    pub status: i32,
    /// Standard output and standard error, interleaved, line by line.
    pub lines: Vec<String>,
}

impl Sandbox {
    /// Lays out a fresh sandbox.
    pub fn new() -> std::io::Result<Sandbox> {
        let root = tempfile::Builder::new().prefix("transcript").tempdir()?;
        let (work, home, keys) = (root.path().join("work"), root.path().join("home"), root.path().join("keys"));
        fs::create_dir(&work)?;
        fs::create_dir(&home)?;
        fs::write(home.join(".gitconfig"), GITCONFIG)?;
        fs::create_dir(&keys)?;
        for entry in fs::read_dir(KEYS)? {
            let from = entry?.path();
            let to = keys.join(from.file_name().unwrap_or_default());
            fs::copy(&from, &to)?;
            // Private keys must not be readable by others (ssh-keygen refuses them otherwise).
            fs::set_permissions(&to, fs::Permissions::from_mode(0o600))?;
        }
        Ok(Sandbox { root, work, home })
    }

    /// Runs one command in `[CWD]` with the transcripts' environment and nothing else of ours:
    /// the binary under test first on PATH, HOME and git's global configuration in the
    /// sandbox (no system configuration, no prompts), the clock pinned, no colour, no
    /// backtraces; standard input is empty.
    pub fn run(&self, command: &str) -> std::io::Result<Outcome> {
        let bin = Path::new(SMARTUP).parent().unwrap_or(Path::new("."));
        let path =
            std::env::join_paths(std::iter::once(bin.to_path_buf()).chain(std::env::var_os("PATH").iter().flat_map(std::env::split_paths)))
                .map_err(std::io::Error::other)?;
        let output = Command::new("sh")
            .arg("-c")
            // One pipe for both streams, so that the output interleaves as on a terminal.
            .arg(format!("exec 2>&1\n{command}"))
            .current_dir(&self.work)
            .env_clear()
            .env("PATH", path)
            .env("HOME", &self.home)
            .env("GIT_CONFIG_GLOBAL", self.home.join(".gitconfig"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("SMARTUP_NOW", CLOCK)
            .env("NO_COLOR", "1")
            .env("LC_ALL", "C")
            .env("TZ", "UTC")
            .stdin(Stdio::null())
            .output()?;
        let text = self.redact(&String::from_utf8_lossy(&output.stdout));
        Ok(Outcome {
            status: output.status.code().unwrap_or(-1),
            lines: text.lines().map(str::to_string).collect(),
        })
    }

    /// The text with the sandbox's paths replaced by `[CWD]` and `[ROOT]`.
    fn redact(&self, text: &str) -> String {
        let mut text = text.to_string();
        for (dir, name) in [(&self.work, "[CWD]"), (&self.root.path().to_path_buf(), "[ROOT]")] {
            let canonical = dir.canonicalize().unwrap_or_else(|_| dir.clone());
            for form in [canonical.as_path(), dir.as_path()] {
                text = text.replace(&*form.to_string_lossy(), name);
            }
        }
        text
    }
}
