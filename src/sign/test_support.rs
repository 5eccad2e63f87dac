//! Helpers shared by the tests: fixed seeds and running `ssh-keygen` / `git`.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

use super::{armor, PublicKey};

/// Seed of the test key "alice".
pub(super) const SEED_A: [u8; 32] = [0xa1; 32];
/// Seed of a second, unrelated test key.
pub(super) const SEED_B: [u8; 32] = [0xb2; 32];

/// `ssh-keygen` with stdin closed (so it can never prompt).
pub(super) fn keygen() -> Command {
    let mut command = Command::new("ssh-keygen");
    command.stdin(Stdio::null());
    command
}

/// `git` run in `dir`, isolated from the user's and the system's configuration.
pub(crate) fn git(dir: &Path) -> Command {
    let mut command = Command::new("git");
    command
        .current_dir(dir)
        .stdin(Stdio::null())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("HOME", dir)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE");
    command
}

/// Runs `command`, panics (with its stderr) unless it succeeds, returns its stdout.
pub(crate) fn run_ok(command: &mut Command) -> String {
    let output = command.output().expect("cannot run command");
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("non-UTF-8 output")
}

/// Runs `command` with output captured and tells whether it succeeded.
pub(super) fn status_ok(command: &mut Command) -> bool {
    command.output().expect("cannot run command").status.success()
}

/// Checks a raw signature with `ssh-keygen -Y verify` (signer "alice", allowed-signers file).
pub(super) fn ssh_keygen_verify(dir: &Path, key: &PublicKey, namespace: &str, message: &[u8], signature: &[u8; 64]) -> bool {
    let allowed = dir.join("verify_allowed_signers");
    let signature_path = dir.join("verify_message.sig");
    let message_path = dir.join("verify_message");
    fs::write(&allowed, format!("alice {}\n", key.to_openssh())).unwrap();
    fs::write(&signature_path, armor(key, namespace, signature)).unwrap();
    fs::write(&message_path, message).unwrap();
    let message_file = fs::File::open(&message_path).unwrap();
    let output = keygen()
        .args(["-Y", "verify", "-I", "alice", "-n", namespace, "-f"])
        .arg(&allowed)
        .arg("-s")
        .arg(&signature_path)
        .stdin(message_file)
        .output()
        .expect("cannot run ssh-keygen");
    output.status.success()
}
