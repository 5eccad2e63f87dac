//! `smartup onboard import|invite`, `smartup join` and `smartup relay`: printers and argument
//! handling around [`crate::onboard`].

use super::context::{ledger_dir, open, outside_the_ledger, print_rows};
use super::exit::{Unknown, Usage};
use super::identity::{self, Scoped, Who};
use super::{AlreadyReported, Global};
use crate::clerk::Refused;
use crate::ledger::schema::table_id;
use crate::ledger::segment::{encode_row, header_line, parse_segment};
use crate::onboard::identities::{self, Identities};
use crate::onboard::legacy;
use crate::onboard::plan::Planned;
use crate::onboard::{self, Import, JoinError, Outcome};
use crate::rules::draft::{Intent, PaidBy};
use crate::rules::violation;
use crate::sign::Code;
use crate::sign::SigningKey;
use crate::time::Timestamp;
use crate::view::events::with_article;
use anyhow::{anyhow, Context, Result};
use clap::{Args, Subcommand};
use serde_json::json;
use std::path::{Path, PathBuf};

/// `smartup onboard ...`.
#[derive(Subcommand, Debug)]
pub enum OnboardCommand {
    /// Record an Open Collective transactions export: deposits, refunds, invitations (with
    /// one-time codes, printed once) and upgrades of known owners; a second run adds nothing
    Import(ImportArgs),
    /// Invite someone by hand (a payment outside Open Collective): prints their one-time code
    Invite(InviteArgs),
    /// Import Smartup Zero's records kept before the ledger (DIR/balance.csv, the treasury, and
    /// DIR/transactions.csv, social karma) with their original times and references, once;
    /// what does not add up is reported, not fixed (the founder signs)
    ImportLegacy(LegacyArgs),
}

/// Arguments of `onboard import-legacy`.
#[derive(Args, Debug)]
pub struct LegacyArgs {
    /// The folder holding balance.csv and/or transactions.csv
    pub dir: PathBuf,
    /// Print what would be imported and write nothing
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub who: Who,
}

/// Where the private identity file is.
#[derive(Args, Debug, Clone)]
pub struct IdentityFile {
    /// The private identity file (slug ↔ handle) [default: $SMARTUP_IDENTITIES, else
    /// ~/.config/smartup/identities.toml]
    #[arg(long, value_name = "FILE")]
    pub identities: Option<PathBuf>,
}

/// Arguments of `onboard import`.
#[derive(Args, Debug)]
pub struct ImportArgs {
    /// The transactions CSV exported from Open Collective (shapes A, B, C or labels D)
    pub file: PathBuf,
    /// Print the plan and write nothing
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub identity_file: IdentityFile,
    #[command(flatten)]
    pub who: Who,
}

/// Arguments of `onboard invite`.
#[derive(Args, Debug)]
pub struct InviteArgs {
    /// campaign, watch, work or organizational
    #[arg(long)]
    pub license: String,
    /// The deposit-eur row (its seq) that paid the license [needed outside the bootstrap phase]
    #[arg(long, value_name = "SEQ")]
    pub payment: Option<u64>,
    /// Free text (never a name or an e-mail: the ledger is public)
    #[arg(long, default_value = "")]
    pub note: String,
    #[command(flatten)]
    pub who: Who,
}

/// Arguments of `join`.
#[derive(Args, Debug)]
pub struct JoinArgs {
    /// The one-time code a captain gave you (e.g. K7QM-3XPA-9D2F-WT4H-6BNC)
    pub code: String,
    /// Where to write your signed join row [default: join-<handle>.csv beside the ledger]
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Arguments of `relay`.
#[derive(Args, Debug)]
pub struct RelayArgs {
    /// A join row a newcomer signed (`smartup join` wrote it)
    pub file: PathBuf,
}

/// Runs `smartup onboard ...`.
pub fn run(global: &Global, command: &OnboardCommand) -> Result<()> {
    match command {
        OnboardCommand::Import(args) => import(global, args),
        OnboardCommand::Invite(args) => invite(global, args),
        OnboardCommand::ImportLegacy(args) => import_legacy(global, args),
    }
}

/// The private identity file the command names (or the default one), refused inside the
/// ledger's clone.
pub(super) fn identities_at(global: &Global, chosen: &IdentityFile) -> Result<Identities> {
    let path =
        chosen.identities.clone().or_else(identities::default_path).ok_or_else(|| {
            Usage("where is the identity file? pass --identities FILE or set SMARTUP_IDENTITIES (HOME is not set)".into())
        })?;
    let repo = crate::repo::open(&ledger_dir(global))?;
    outside_the_ledger(&repo, &path, "--identities", "the private identity file", "identities.toml")?;
    Identities::load(&path)
}

fn import(global: &Global, args: &ImportArgs) -> Result<()> {
    let bytes = std::fs::read(&args.file).with_context(|| format!("cannot read {}", args.file.display()))?;
    let mut identities = identities_at(global, &args.identity_file)?;
    let mut ledger = open(global)?;
    let signer = identity::resolve(&args.who, Some(&ledger.repo))?;
    let result = onboard::import(&mut ledger, &signer, &mut identities, &bytes, Timestamp::now(), args.dry_run)
        .with_context(|| format!("{} cannot be imported", args.file.display()))?;
    if global.json {
        println!("{}", serde_json::to_string(&json(&result))?);
    } else {
        print_import(&result, args.dry_run, identities.path(), ledger.state.policy.matrix.is_some());
    }
    let refused = result.steps.iter().filter(|(_, o)| matches!(o, Outcome::Refused(_))).count();
    if refused > 0 {
        return Err(AlreadyReported(refused).into());
    }
    Ok(())
}

/// The import as one JSON object (codes included: the caller asked for them).
fn json(result: &Import) -> serde_json::Value {
    let steps: Vec<serde_json::Value> = result
        .steps
        .iter()
        .map(|(step, outcome)| {
            let (status, detail) = match outcome {
                Outcome::Skipped => ("skipped", String::new()),
                Outcome::Already(seq) => ("recorded before", format!("seq {seq}")),
                Outcome::Recorded(row) => ("recorded", format!("seq {}: {}", row.seq, row.summary())),
                Outcome::Refused(v) => ("refused", format!("{}: {}", v.code, v.message)),
            };
            serde_json::json!({ "line": step.line, "step": words(&step.action), "status": status, "detail": detail })
        })
        .collect();
    let invited: Vec<serde_json::Value> = result
        .invited
        .iter()
        .map(|i| serde_json::json!({ "seq": i.seq, "license": i.license, "contributor": i.contributor, "code": i.code.shown() }))
        .collect();
    serde_json::json!({ "shape": result.shape, "transactions": result.transactions, "written": result.written, "steps": steps, "invited": invited })
}

/// A planned step in words (never a contributor's name: slugs only).
fn words(action: &Planned) -> String {
    match action {
        Planned::Deposit {
            reference,
            amount,
            gross,
            tier,
            payer,
        } => {
            let gross = if gross > amount {
                format!(" (paid {gross})")
            } else {
                String::new()
            };
            let tier = tier.as_ref().map_or("a donation".to_string(), |t| format!("tier {t:?}"));
            let payer = payer.as_ref().map_or(String::new(), |p| format!(", paid by {p}"));
            format!("deposit {amount} EUR{gross}, {tier}{payer} [{reference}]")
        }
        Planned::Invite { license, contributor, .. } => format!("invite {contributor} as {} owner", with_article(license)),
        Planned::Upgrade { owner, license, .. } => format!("upgrade {owner} to {license}"),
        Planned::Refund {
            reference,
            amount,
            refunds,
        } => format!("refund {amount} EUR of the deposit [{refunds}] [{reference}]"),
        Planned::Skip { reason } => format!("skip: {reason}"),
    }
}

/// `matrix`: the ledger has a hub, whose registration tokens go with the codes.
fn print_import(result: &Import, dry_run: bool, identities: &Path, matrix: bool) {
    println!(
        "Open Collective export, shape {}: {} transactions.",
        result.shape, result.transactions
    );
    println!("{}:", if dry_run { "Plan (dry run: nothing is written)" } else { "Plan" });
    let mut refused = 0;
    for (step, outcome) in &result.steps {
        let status = match outcome {
            Outcome::Skipped => String::new(),
            Outcome::Already(seq) => format!("  → recorded before, at seq {seq}"),
            Outcome::Recorded(row) if dry_run => format!("  → would be seq {}", row.seq),
            Outcome::Recorded(row) => format!("  → seq {}", row.seq),
            Outcome::Refused(v) => {
                refused += 1;
                format!("  → REFUSED ({}): {}", v.code, v.message)
            }
        };
        println!("  line {:>4}  {}{status}", step.line, words(&step.action));
    }
    let recorded = result.steps.iter().filter(|(_, o)| matches!(o, Outcome::Recorded(_))).count();
    if dry_run {
        println!("{recorded} rows would be written, {refused} steps refused. Run again without --dry-run to record them.");
        return;
    }
    if !result.written {
        println!("Nothing new to record ({refused} steps refused).");
        return;
    }
    println!("Recorded {recorded} rows in one signed commit ({refused} steps refused). Push them with `smartup push`.");
    if !result.invited.is_empty() {
        println!("\nInvitation codes (shown this once; the ledger keeps only a commitment). Hand each privately to its contributor,");
        println!("who runs `smartup join CODE --handle THEIR_HANDLE` in a clone of the ledger:");
        for i in &result.invited {
            println!(
                "  {}  {:<15} invitation seq {}  for {}",
                i.code.shown(),
                i.license,
                i.seq,
                i.contributor
            );
        }
        println!(
            "The contributors' slugs are noted in the private identity file {}.",
            identities.display()
        );
        if matrix {
            println!("{MATRIX_TOKENS}");
        }
    }
}

/// Where a newcomer's Matrix registration token comes from, for ledgers with a hub.
const MATRIX_TOKENS: &str = "Matrix: after `smartup push`, `smartup matrix invite` gives each open invitation its single-use registration token (Engelbot does it by itself when it runs with an admin's token); hand it over with the code.";

fn invite(global: &Global, args: &InviteArgs) -> Result<()> {
    let mut ledger = open(global)?;
    let signer = identity::resolve(&args.who, Some(&ledger.repo))?;
    let code = Code::generate();
    let intent = Intent::Invite {
        license: args.license.clone(),
        invitation_key: code.key(&ledger.state.ledger_id).public().to_openssh(),
        payment: args.payment.map(PaidBy::Seq),
        note: args.note.clone(),
    };
    let rows = ledger.record(&signer, &intent, None, Timestamp::now())?;
    print_rows(global, &rows);
    if !global.json {
        println!("Invitation code (shown this once): {}", code.shown());
        println!("Hand it privately to the newcomer, who runs `smartup join CODE --handle THEIR_HANDLE`. Push the invitation with `smartup push`.");
        if ledger.state.policy.matrix.is_some() {
            println!("{MATRIX_TOKENS}");
        }
    } else {
        println!("{}", serde_json::json!({ "code": code.shown() }));
    }
    Ok(())
}

/// `smartup join CODE`: writes the newcomer's signed join row to a file.
pub fn join(global: &Global, scoped: &Scoped, args: &JoinArgs) -> Result<()> {
    let code = Code::parse(&args.code).map_err(Usage)?;
    let ledger = open(global)?;
    let handle = scoped
        .who
        .handle
        .clone()
        .or_else(|| identity::config_string(Some(&ledger.repo), "smartup.handle"))
        .ok_or_else(|| Usage("choose your handle (your Forgejo user name; never your real name) with --handle HANDLE".into()))?;
    crate::ledger::ids::check_handle(&handle).map_err(|e| Usage(format!("--handle {handle}: {e}")))?;
    let key_path = identity::key_path(&scoped.who, Some(&ledger.repo))?;
    let (key, created) = key_for_joining(&key_path)?;
    let row = onboard::join_row(&ledger.state, &code, &handle, &key, Timestamp::now()).map_err(|e| match e {
        JoinError::NoInvitation => anyhow!(Unknown(violation("unknown-id", e.to_string()))),
        JoinError::Refused(v) => anyhow!(Refused(v)),
    })?;
    let out = match &args.out {
        Some(out) => out.clone(),
        None => beside_ledger(&ledger.repo, &format!("join-{handle}.csv")),
    };
    outside_the_ledger(&ledger.repo, &out, "--out", "your join row", &format!("join-{handle}.csv"))?;
    let mut bytes = header_line(row.table);
    encode_row(&row, &mut bytes);
    std::fs::write(&out, bytes).with_context(|| format!("cannot write {}", out.display()))?;
    if created {
        eprintln!(
            "created a new ed25519 key {} (and .pub) without a passphrase; add one with `ssh-keygen -p -f {}`, and add the .pub to your Forgejo account",
            key_path.display(),
            key_path.display()
        );
    }
    if global.json {
        println!(
            "{}",
            serde_json::json!({ "file": out, "handle": handle, "key": key.public().fingerprint(), "invitation": row.get("invitation") })
        );
    } else {
        println!(
            "wrote your signed join row to {}: you join as {handle} with {} license, key {}",
            out.display(),
            ledger
                .state
                .invitations
                .get(&row.get("invitation").parse().unwrap_or(0))
                .map_or("a".into(), |i| with_article(&i.license)),
            key.public().fingerprint()
        );
        println!(
            "Hand the file to a captain, who records it with `smartup relay {}` and pushes.",
            out.display()
        );
    }
    Ok(())
}

/// The key at `path`, or a new one written there when there is none: (key, created).
fn key_for_joining(path: &Path) -> Result<(SigningKey, bool)> {
    if path.exists() {
        return Ok((identity::load(path)?, false));
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let key = SigningKey::generate("smartup");
    key.write_openssh(path)?;
    Ok((key, true))
}

/// `name` in the folder that holds the ledger's working tree (else the current folder).
fn beside_ledger(repo: &git2::Repository, name: &str) -> PathBuf {
    match repo
        .workdir()
        .and_then(|w| w.canonicalize().ok())
        .and_then(|w| w.parent().map(Path::to_path_buf))
    {
        Some(parent) => parent.join(name),
        None => PathBuf::from(name),
    }
}

/// `smartup relay FILE`: records a newcomer's join row, signed by them, in a commit of yours.
pub fn relay(global: &Global, scoped: &Scoped, args: &RelayArgs) -> Result<()> {
    let bytes = std::fs::read(&args.file).with_context(|| format!("cannot read {}", args.file.display()))?;
    let table = table_id("invitations").ok_or_else(|| anyhow!("the invitations table is missing from this build"))?;
    let name = args.file.display().to_string();
    let mut rows = parse_segment(table, &name, &bytes).map_err(|e| anyhow!("{name} is not a join row written by `smartup join`: {e}"))?;
    if rows.len() != 1 {
        return Err(anyhow!("{name} holds {} rows; a join file holds exactly one", rows.len()));
    }
    let (row, _) = rows.remove(0);
    let mut ledger = open(global)?;
    let signer = identity::resolve(&scoped.who, Some(&ledger.repo))?;
    let row = ledger.relay(&signer, row, Timestamp::now())?;
    print_rows(global, std::slice::from_ref(&row));
    if !global.json {
        println!("{} joined; push it with `smartup push`.", row.actor);
    }
    Ok(())
}

fn import_legacy(global: &Global, args: &LegacyArgs) -> Result<()> {
    let read = |name: &str| -> Result<Option<Vec<u8>>> {
        let path = args.dir.join(name);
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    };
    let (balance, karma) = (read(legacy::BALANCE)?, read(legacy::KARMA)?);
    if balance.is_none() && karma.is_none() {
        return Err(Usage(format!(
            "{} holds neither {} nor {}",
            args.dir.display(),
            legacy::BALANCE,
            legacy::KARMA
        ))
        .into());
    }
    let mut ledger = open(global)?;
    let signer = identity::resolve(&args.who, Some(&ledger.repo))?;
    let result = onboard::import_legacy(
        &mut ledger,
        &signer,
        balance.as_deref(),
        karma.as_deref(),
        Timestamp::now(),
        args.dry_run,
    )?;
    let mut refused = 0;
    let mut lines = Vec::new();
    for (record, outcome) in &result.records {
        let what = format!(
            "{} line {}: {} {} {}{}",
            record.source,
            record.line,
            record.kind,
            record.amount,
            record.currency,
            if record.owner.is_empty() {
                String::new()
            } else {
                format!(" for {}", record.owner)
            }
        );
        let status = match outcome {
            Outcome::Skipped => "skipped".to_string(),
            Outcome::Already(seq) => format!("imported before, at seq {seq}"),
            Outcome::Recorded(row) if args.dry_run => format!("would be seq {}", row.seq),
            Outcome::Recorded(row) => format!("seq {}", row.seq),
            Outcome::Refused(v) => {
                refused += 1;
                format!("REFUSED ({}): {}", v.code, v.message)
            }
        };
        lines.push(json!({ "record": what, "status": status }));
        if !global.json {
            println!("  {what}  → {status}");
        }
    }
    if global.json {
        println!(
            "{}",
            json!({ "dry_run": args.dry_run, "records": lines, "problems": result.problems, "written": result.written })
        );
    } else {
        for problem in &result.problems {
            eprintln!("inconsistent: {problem}");
        }
        let verb = if args.dry_run { "would be imported" } else { "imported" };
        let recorded = result.records.iter().filter(|(_, o)| matches!(o, Outcome::Recorded(_))).count();
        println!(
            "{recorded} records {verb}, {refused} refused, {} inconsistencies reported.",
            result.problems.len()
        );
        if result.written {
            println!("Push them with `smartup push`.");
        }
    }
    let problems = refused + result.problems.len();
    if problems > 0 {
        return Err(AlreadyReported(problems).into());
    }
    Ok(())
}
