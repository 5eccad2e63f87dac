//! The static build in an empty root, as in Forgejo's official (Alpine, musl) container: a
//! root folder holding only the binary (`/usr/local/bin/smartup`), `/etc/hosts`,
//! `/etc/resolv.conf` and a CA bundle (plus, once the tests put it there, the repository in
//! `/data`), entered with `unshare --root` by `tests/static_root/smartup`. Nothing else is in
//! it: no C library, no loader, no NSS modules, no `git`, no shell. In it:
//!
//! - `smartup hook install` puts the shims into a bare repository of the root; `git push`
//!   runs outside the root (the root has no git) and its hook shims run the root's binary
//!   inside it: a good push is accepted and a forged row refused, with the hook's messages;
//! - `smartup verify` passes on that repository;
//! - `smartup forgejo sync` reaches the Forgejo double over HTTPS by a name only the root's
//!   `/etc/hosts` knows, trusting the double's authority only through the root's CA bundle:
//!   without the name, or without the authority in the bundle, it fails.
//!
//! The binary under test is `SMARTUP_STATIC_BIN` (`.ci/run` builds it with `cargo build
//! --release --target x86_64-unknown-linux-musl` and sets it). Without it the tests fail
//! when `CI` is set and are skipped, saying so, when it is not. They need `unshare`
//! (util-linux), `openssl` and `python3`, and root or user namespaces.

mod common;
#[path = "common/forgejo.rs"]
#[allow(dead_code)]
mod forgejo_double;
#[path = "common/hook.rs"]
mod hook_common;

use common::{run, s, Ledger, Run, Sandbox};
use forgejo_double::{configure, fixture, to_the_double, Double, Reach, Tls, SYNC_TOKEN};
use hook_common::{Forge, DEMO_ROWS, PEOPLE};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs the root's `/usr/local/bin/smartup` inside the root named by `STATIC_ROOT`.
const ENTER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/static_root/smartup");

/// The name the Forgejo double is reached by inside the root.
const FORGE_NAME: &str = "forge.test";

/// Where the root keeps its ledger repository, as Forgejo keeps them under /data.
const REPO: &str = "/data/ledger.git";

/// The static binary under test, or `None` (skip) outside CI when none is named.
fn static_binary() -> Option<PathBuf> {
    let how = "build it with `cargo build --release --target x86_64-unknown-linux-musl` (needs musl-gcc, \
               Debian's musl-tools) and set SMARTUP_STATIC_BIN=target/x86_64-unknown-linux-musl/release/smartup";
    match std::env::var_os("SMARTUP_STATIC_BIN").filter(|v| !v.is_empty()) {
        Some(path) => {
            let path = PathBuf::from(path);
            assert!(path.is_file(), "SMARTUP_STATIC_BIN={} is not a file: {how}", path.display());
            Some(path)
        }
        None => {
            let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
            assert!(
                !ci,
                "CI is set but SMARTUP_STATIC_BIN is not: the static build must be tested in CI; {how}"
            );
            eprintln!("skipped: SMARTUP_STATIC_BIN is not set (and CI is not); to run this test, {how}");
            None
        }
    }
}

/// An empty root with a smartup binary in it.
struct Root {
    dir: PathBuf,
}

/// The files of a fresh root, besides the binary.
const ROOT_FILES: [&str; 4] = [
    "etc/hosts",
    "etc/resolv.conf",
    "etc/ssl/certs/ca-certificates.crt",
    "usr/local/bin/smartup",
];

impl Root {
    /// `SANDBOX/NAME` holding `binary` as `/usr/local/bin/smartup`, `/etc/hosts` naming
    /// localhost and [`FORGE_NAME`] as 127.0.0.1, a `/etc/resolv.conf` whose name server
    /// never answers (names come from /etc/hosts), and this machine's CA bundle.
    #[track_caller]
    fn new(sb: &Sandbox, name: &str, binary: &Path) -> Root {
        let root = Root { dir: sb.path().join(name) };
        let bundle = Path::new("/etc/ssl/certs/ca-certificates.crt");
        assert!(bundle.is_file(), "no CA bundle at {} (Debian's ca-certificates)", bundle.display());
        root.write("/etc/hosts", format!("127.0.0.1 localhost\n127.0.0.1 {FORGE_NAME}\n"));
        // TEST-NET-1: no name server there; one try of one second, so a name that is not in
        // /etc/hosts fails soon.
        root.write("/etc/resolv.conf", "nameserver 192.0.2.1\noptions timeout:1 attempts:1\n");
        root.write("/etc/ssl/certs/ca-certificates.crt", read(bundle));
        let inside = root.host("/usr/local/bin/smartup");
        std::fs::create_dir_all(inside.parent().unwrap()).expect("cannot create the root's /usr/local/bin");
        std::fs::copy(binary, &inside).unwrap_or_else(|e| panic!("cannot copy {} into the root: {e}", binary.display()));
        assert_eq!(root.files(), ROOT_FILES, "a fresh root holds these files only");
        root
    }

    /// The host's path of a path inside the root.
    fn host(&self, inside: &str) -> PathBuf {
        self.dir.join(inside.trim_start_matches('/'))
    }

    /// Writes a file inside the root.
    #[track_caller]
    fn write(&self, inside: &str, bytes: impl AsRef<[u8]>) {
        let path = self.host(inside);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("cannot create {}: {e}", parent.display()));
        }
        std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }

    /// Every file under the root (not folders), relative, sorted.
    fn files(&self) -> Vec<String> {
        fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, base, out);
                } else if let Ok(relative) = path.strip_prefix(base) {
                    out.push(relative.to_string_lossy().into_owned());
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.dir, &self.dir, &mut out);
        out.sort();
        out
    }

    /// The environment of a `git push` into a repository of this root: its hook shims run
    /// `SMARTUP_BIN`, `tests/static_root/smartup`, which enters the root `STATIC_ROOT`.
    fn hook_env(&self) -> [(&str, &str); 2] {
        [("STATIC_ROOT", s(&self.dir)), ("SMARTUP_BIN", ENTER)]
    }

    /// `smartup ARGS` inside the root, with the sandbox's clean environment and `setup`.
    fn smartup_with(&self, sb: &Sandbox, args: &[&str], setup: impl FnOnce(&mut Command)) -> Run {
        let mut command = sb.command(ENTER);
        command.args(args).env("STATIC_ROOT", &self.dir);
        setup(&mut command);
        run(command)
    }

    /// `smartup ARGS` inside the root.
    fn smartup(&self, sb: &Sandbox, args: &[&str]) -> Run {
        self.smartup_with(sb, args, |_| {})
    }
}

#[track_caller]
fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

#[track_caller]
fn read_text(path: &Path) -> String {
    String::from_utf8(read(path)).unwrap_or_else(|e| panic!("{} is not UTF-8: {e}", path.display()))
}

/// The binary under test starts in its root: it is static, and of this version.
#[track_caller]
fn assert_starts(sb: &Sandbox, root: &Root) {
    let out = root.smartup(sb, &["--version"]);
    assert_eq!(
        out.code, 0,
        "SMARTUP_STATIC_BIN does not start in an empty root; is it the static build? {out:?}"
    );
    assert_eq!(out.out(), format!("smartup {}", env!("CARGO_PKG_VERSION")), "{out:?}");
}

/// The root really is empty: the glibc-linked binary the other tests run cannot even start
/// in it (its loader and libraries are not there), and the static one can.
#[track_caller]
fn assert_only_a_static_binary_starts(sb: &Sandbox, static_root: &Root) {
    assert_starts(sb, static_root);
    let dynamic = Root::new(sb, "dynamic-root", Path::new(common::SMARTUP));
    let out = dynamic.smartup(sb, &["--version"]);
    assert_ne!(out.code, 0, "a dynamically linked smartup must not start in an empty root: {out:?}");
    assert!(out.stderr.contains("No such file or directory"), "{out:?}");
}

// ---------------------------------------------------------------------------------------
// The hook and verify
// ---------------------------------------------------------------------------------------

#[test]
fn inside_an_empty_root_the_hook_accepts_a_good_push_refuses_a_forged_one_and_verify_passes() {
    let Some(binary) = static_binary() else { return };
    let f = Forge::without_hook();
    let root = Root::new(&f.sb, "root", &binary);
    assert_only_a_static_binary_starts(&f.sb, &root);

    // The forge moves into the root, where the admin installs the hook with the root's binary.
    let repo = root.host(REPO);
    std::fs::create_dir_all(repo.parent().unwrap()).expect("cannot create the root's /data");
    std::fs::rename(&f.forge, &repo).expect("cannot move the forge into the root");
    let f = Forge { forge: repo, ..f };
    let installed = root.smartup(&f.sb, &["hook", "install", "--repo", REPO]).ok();
    assert_eq!(
        installed.out(),
        format!("installed {REPO}/hooks/pre-receive\ninstalled {REPO}/hooks/post-receive"),
        "{installed:?}"
    );
    let shim = read_text(&f.forge.join("hooks/pre-receive"));
    assert!(
        shim.contains("SMARTUP=\"${SMARTUP_BIN:-/usr/local/bin/smartup}\""),
        "the shim runs the binary that installed it, by its path inside the root:\n{shim}"
    );
    f.clone_forge(&f.work);
    let env = root.hook_env();

    // A good push: the hook, run by git through the shim, accepts it.
    let before = f.forge_main();
    f.act("carla", &["award-sk", "bob", "review"]);
    let out = f.push_args(&["origin", "main"], &env);
    assert_eq!(out.code, 0, "the push must be accepted: {out:?}");
    assert!(
        out.stderr
            .contains("remote: smartup: accepted 1 entries in 1 commits on main: award-sk bob by carla"),
        "{out:?}"
    );
    let tip = f.forge_main();
    assert_eq!(tip, f.head(), "the forge's main is the pushed commit");
    let log = read_text(&f.forge.join("smartup/post-receive.log"));
    assert!(
        log.contains(&format!("{before} {tip} refs/heads/main")),
        "the post-receive companion ran in the root too: {log}"
    );

    // A forged row: the key column names carla's key, a stranger's key signed it.
    let mut craft = f.award("carla", "alice");
    craft.signer = f.stranger_key("mallory");
    f.append(&craft);
    f.commit_as("carla", "an award");
    let out = f.push_args(&["origin", "main"], &env);
    f.assert_rejected(&out, &tip, &["[bad-signature]", "seq 46", "by carla", "forged, copied or altered"]);

    // verify, inside the root, on the repository there.
    let out = root.smartup(&f.sb, &["--ledger", REPO, "verify", "--json"]);
    let report = out.verify_report();
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["rows"], DEMO_ROWS + 1, "{report}");
    assert_eq!(report["tip"], tip.as_str(), "{report}");
}

// ---------------------------------------------------------------------------------------
// The Forgejo sync
// ---------------------------------------------------------------------------------------

/// A certificate authority and a certificate for [`FORGE_NAME`] signed by it, made by
/// `openssl` in `DIR/tls`.
#[track_caller]
fn certificates(sb: &Sandbox) -> Tls {
    let dir = sb.path().join("tls");
    std::fs::create_dir_all(&dir).expect("cannot create the certificates' folder");
    let file = |name: &str| s(&dir.join(name)).to_string();
    std::fs::write(
        dir.join("forge.ext"),
        format!(
            "subjectAltName = DNS:{FORGE_NAME}\nbasicConstraints = critical, CA:FALSE\n\
             keyUsage = critical, digitalSignature\nextendedKeyUsage = serverAuth\n"
        ),
    )
    .expect("cannot write the extensions");
    let openssl = |args: &[&str]| {
        let mut command = sb.command("openssl");
        command.args(args);
        run(command).ok();
    };
    let (ca_key, ca, key, request, cert, ext) = (
        file("ca.key"),
        file("ca.pem"),
        file("forge.key"),
        file("forge.csr"),
        file("forge.pem"),
        file("forge.ext"),
    );
    let subject = format!("/CN={FORGE_NAME}");
    let p256 = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    let authority = [
        "-days",
        "2",
        "-subj",
        "/CN=smartup test authority",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
        "-keyout",
        &ca_key,
        "-out",
        &ca,
    ];
    openssl(&[&["req", "-x509"][..], &p256, &authority].concat());
    openssl(&[&["req"][..], &p256, &["-subj", &subject, "-keyout", &key, "-out", &request]].concat());
    openssl(&[
        "x509",
        "-req",
        "-days",
        "2",
        "-set_serial",
        "2",
        "-in",
        &request,
        "-CA",
        &ca,
        "-CAkey",
        &ca_key,
        "-extfile",
        &ext,
        "-out",
        &cert,
    ]);
    Tls {
        cert: dir.join("forge.pem"),
        key: dir.join("forge.key"),
        ca: dir.join("ca.pem"),
    }
}

#[test]
fn inside_an_empty_root_forgejo_sync_reaches_the_double_by_name_over_https() {
    let Some(binary) = static_binary() else { return };
    let f = Forge::without_hook();
    let sb = &f.sb;
    let root = Root::new(sb, "root", &binary);
    assert_starts(sb, &root);
    let tls = certificates(sb);
    let reach = Reach {
        name: Some(FORGE_NAME.to_string()),
        tls: Some(tls.clone()),
    };
    let double = Double::start_reached(sb, &fixture(&["alice", "bob", "maya", "carla", "founder"]), &reach);
    assert!(double.url.starts_with(&format!("https://{FORGE_NAME}:")), "{}", double.url);

    // The demo ledger with `[forgejo]` pointing at the double, bare in the root.
    f.clone_forge(&f.work);
    let ledger = Ledger {
        dir: f.work.clone(),
        keys: PEOPLE.iter().map(|who| (who.to_string(), f.key(who))).collect(),
    };
    configure(sb, &ledger, &double, "");
    f.git_in(sb.path(), &["clone", "-q", "--bare", s(&f.work), s(&root.host(REPO))])
        .ok();
    let sync = || {
        root.smartup_with(sb, &["--ledger", REPO, "forgejo", "sync", "--json"], |c| {
            to_the_double(c, Some(SYNC_TOKEN), &[])
        })
    };
    let api_requests = || double.log().len();

    // Without the name in the root's /etc/hosts, nothing is reached.
    let hosts = read(&root.host("/etc/hosts"));
    root.write("/etc/hosts", "127.0.0.1 localhost\n");
    let out = sync().code(3);
    let message = out.stderr.to_lowercase();
    assert!(
        message.contains(FORGE_NAME) && message.contains("dns error"),
        "the failure says which name was not found: {out:?}"
    );
    assert_eq!(api_requests(), 0, "no request reached the double");
    root.write("/etc/hosts", &hosts);

    // Without the double's authority in the root's CA bundle, its certificate is refused.
    let out = sync().code(3);
    assert!(
        out.stderr.contains("invalid peer certificate: UnknownIssuer")
            && out.stderr.contains("the server's TLS certificate is not trusted")
            && !out.stderr.to_lowercase().contains("run the sync again"),
        "the failure says the certificate's issuer is not trusted, and that waiting will not help: {out:?}"
    );
    assert_eq!(api_requests(), 0, "no request got through the TLS handshake");

    // With it, the sync fills the empty organisation, and then has nothing to do.
    let mut bundle = read(&root.host("/etc/ssl/certs/ca-certificates.crt"));
    bundle.extend(read(&tls.ca));
    root.write("/etc/ssl/certs/ca-certificates.crt", bundle);
    let report = sync().ok().json();
    assert_eq!(report["ok"], true, "{report:#}");
    let changes = report["changes"].as_array().expect("changes");
    assert_eq!(report["applied"].as_u64(), Some(changes.len() as u64), "{report:#}");
    assert!(
        changes.iter().any(|c| c["action"] == "create" && c["object"] == "issue"),
        "the paid task's issue is created: {report:#}"
    );
    let issues = double.issues();
    assert_eq!(issues.len(), 1, "{issues:#?}");
    assert_eq!(issues[0]["title"], "6_2_1_1 — Design the logo");
    assert_eq!(issues[0]["state"], "closed", "a paid task's issue is closed");
    let report = sync().ok().json();
    assert_eq!(report["changes"], json!([]), "a sync right after a sync plans nothing: {report:#}");
    double.assert_followed_the_spec();
}
