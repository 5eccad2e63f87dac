//! `smartup demo`: the whole contributor journey on a fresh local ledger, with generated keys,
//! through the same code paths as the individual commands.

use super::context::print_rows;
use super::Global;
use crate::clerk::push::{push, Progress};
use crate::clerk::{Ledger, Signer};
use crate::hook::install;
use crate::ledger::row::Row;
use crate::money::Amount;
use crate::onboard::identities::Identities;
use crate::onboard::{self, Invited, Outcome};
use crate::rules::draft::{Intent, ProposalIntent, RoleChange};
use crate::rules::governance::{Choice, Kind};
use crate::sign::Code;
use crate::sign::SigningKey;
use crate::time::{Timestamp, HOUR, PINNED_CLOCK};
use anyhow::{bail, Context, Result};
use clap::Args;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Arguments of `demo`.
#[derive(Args, Debug, Clone)]
pub struct DemoArgs {
    /// Where to leave the forge (DIR/forge.git, hook installed), one clone per participant
    /// (DIR/HANDLE), their keys (DIR/keys/HANDLE) and a reader's clone (DIR/ledger)
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
}

/// The Open Collective export the demo imports: four licenses bought.
const DEMO_EXPORT: &str = include_str!("../../tests/fixtures/opencollective/demo.csv");

const PEOPLE: [(&str, &str); 5] = [
    ("founder", "the founder"),
    ("carla", "captain of the design team"),
    ("maya", "mission leader"),
    ("alice", "senior, the Attacker"),
    ("bob", "junior, the Defender"),
];

struct Demo {
    dir: PathBuf,
    json: bool,
    signers: HashMap<&'static str, Signer>,
    clock: Timestamp,
    step: usize,
}

impl Demo {
    fn say(&mut self, text: &str) {
        self.step += 1;
        println!("\n{:>2}. {text}", self.step);
    }

    /// How the demo prints (human or JSON).
    fn printing(&self) -> Global {
        Global {
            ledger: None,
            json: self.json,
        }
    }

    /// `who` brings their clone up to date, records the intent through the clerk, and pushes
    /// it through the hook; returns the seq of the last row written.
    fn act(&mut self, who: &'static str, hours_later: i64, intent: Intent) -> Result<u64> {
        self.advance(hours_later);
        self.update_clone(who)?;
        let mut ledger = Ledger::open(&self.dir.join(who))?;
        let signer = &self.signers[who];
        let rows = ledger.record(signer, &intent, None, self.clock)?;
        print_rows(&self.printing(), &rows);
        self.push(&mut ledger)?;
        Ok(rows.last().map_or(0, |r| r.seq))
    }

    /// The founder imports the demo's Open Collective export and pushes; returns the
    /// invitations with their codes.
    fn import(&mut self) -> Result<Vec<Invited>> {
        self.update_clone("founder")?;
        let mut ledger = Ledger::open(&self.dir.join("founder"))?;
        let mut identities = Identities::load(&self.dir.join("private").join("identities.toml"))?;
        let import = onboard::import(
            &mut ledger,
            &self.signers["founder"],
            &mut identities,
            DEMO_EXPORT.as_bytes(),
            self.clock,
            false,
        )?;
        let rows: Vec<Row> = import
            .steps
            .into_iter()
            .filter_map(|(_, outcome)| match outcome {
                Outcome::Recorded(row) => Some(*row),
                _ => None,
            })
            .collect();
        print_rows(&self.printing(), &rows);
        self.push(&mut ledger)?;
        for i in &import.invited {
            println!(
                "invitation seq {} ({}) for {}: code {}",
                i.seq,
                i.license,
                i.contributor,
                i.code.shown()
            );
        }
        Ok(import.invited)
    }

    /// `who` clones the forge and writes their join row with a key of their own; the founder
    /// relays it and pushes.
    fn join(&mut self, who: &'static str, code: &Code) -> Result<()> {
        self.update_clone(who)?;
        let theirs = Ledger::open(&self.dir.join(who))?;
        let row = onboard::join_row(&theirs.state, code, who, &self.signers[who].key, self.clock)?;
        self.update_clone("founder")?;
        let mut ledger = Ledger::open(&self.dir.join("founder"))?;
        let row = ledger.relay(&self.signers["founder"], row, self.clock)?;
        print_rows(&self.printing(), std::slice::from_ref(&row));
        self.push(&mut ledger)
    }

    /// Pushes the ledger's new commits through the forge's hook.
    fn push(&self, ledger: &mut Ledger) -> Result<()> {
        let mut no_resigning = || -> Result<Signer> { bail!("the demo's pushes never need re-signing") };
        let mut show = |progress: Progress| {
            if let Progress::Remote(line) = progress {
                eprintln!("{line}");
            }
        };
        push(ledger, "origin", 2, &mut no_resigning, &mut show)?;
        Ok(())
    }

    /// Moves the demo's pinned clock (`SMARTUP_NOW`, which this process, its `git push` and
    /// the forge's hook all read) forward: windows are crossed without back-dating a row.
    fn advance(&mut self, hours: i64) {
        self.clock = self.clock.plus(hours * HOUR);
        std::env::set_var(PINNED_CLOCK, self.clock.to_string());
    }

    fn update_clone(&self, who: &str) -> Result<()> {
        let clone = self.dir.join(who);
        if clone.exists() {
            git(&["-C", path(&clone)?, "pull", "-q", "--ff-only", "origin", "main"])
        } else {
            git(&["clone", "-q", path(&self.dir.join("forge.git"))?, path(&clone)?])
        }
    }
}

fn role(role: &str, owner: &str, team: Option<&str>) -> Intent {
    Intent::AssignRole(RoleChange {
        role: role.into(),
        owner: Some(owner.into()),
        team: team.map(str::to_string),
        note: String::new(),
    })
}

/// Runs the journey in `--dir`.
pub fn run(global: &Global, args: &DemoArgs) -> Result<()> {
    if args.dir.exists() && std::fs::read_dir(&args.dir)?.next().is_some() {
        bail!("{} is not empty; the demo starts from an empty folder", args.dir.display());
    }
    let key_dir = args.dir.join("keys");
    std::fs::create_dir_all(&key_dir).with_context(|| format!("cannot create {}", key_dir.display()))?;
    let mut signers = HashMap::new();
    for (handle, _) in PEOPLE {
        let key = SigningKey::generate(&format!("{handle}@smartup-demo"));
        let path = key_dir.join(handle);
        key.write_openssh(&path)?;
        signers.insert(handle, Signer::new(handle, key));
    }
    // Start 230 hours ago on a pinned clock that the steps move forward, so that the 48-hour
    // lazy-consensus window and the 7-day votes have passed by the end and every row is still
    // in the past. A clock pinned by the caller (SMARTUP_NOW) pins the whole demo (the site's
    // golden tests).
    let now = Timestamp::now();
    let start = Timestamp(now.0 - 230 * HOUR - now.0 % HOUR);
    let mut demo = Demo {
        dir: args.dir.clone(),
        json: global.json,
        signers,
        clock: start,
        step: 0,
    };
    demo.advance(0);
    journey(&mut demo)?;
    Ok(())
}

fn path(p: &Path) -> Result<&str> {
    p.to_str().with_context(|| format!("{} is not a UTF-8 path", p.display()))
}

/// Runs `git` quietly, failing with its message.
fn git(args: &[&str]) -> Result<()> {
    let output = Command::new("git")
        .args(args)
        .output()
        .context("cannot run git (is it installed?)")?;
    if !output.status.success() {
        bail!("git {} failed: {}", args.join(" "), String::from_utf8_lossy(&output.stderr).trim());
    }
    Ok(())
}

fn journey(d: &mut Demo) -> Result<()> {
    let dir = d.dir.clone();
    println!("The contributor journey of a smartup, on a local forge in {}.", dir.display());
    println!(
        "Keys for {} are in {}; each of them works in a clone of their own and pushes through the forge's hook.",
        PEOPLE.iter().map(|(h, r)| format!("{h} ({r})")).collect::<Vec<_>>().join(", "),
        dir.join("keys").display()
    );

    d.say("The founder registers the smartup: ledger.toml with a fresh ledger id, the tables, and the genesis row signed with the founder's key.");
    let genesis = crate::clerk::create(&dir.join("founder"), &d.signers["founder"], "Smartup Zero", d.clock)?;
    print_rows(&d.printing(), &genesis);

    d.say("The forge: a bare repository with smartup's pre-receive hook installed; the founder's clone pushes to it.");
    let forge = dir.join("forge.git");
    git(&["clone", "-q", "--bare", path(&dir.join("founder"))?, path(&forge)?])?;
    let binary = std::env::current_exe().context("cannot tell where the smartup binary is")?;
    for file in install::install(&forge, &binary, false)? {
        println!("installed {}", file.display());
    }
    git(&["-C", path(&dir.join("founder"))?, "remote", "add", "origin", path(&forge)?])?;
    git(&["-C", path(&dir.join("founder"))?, "fetch", "-q", "origin"])?;

    d.say("The founder bootstraps the leadership and design teams.");
    d.act(
        "founder",
        0,
        Intent::BootstrapTeams {
            teams: vec![
                ("3_1_leadership_team".into(), "Leadership".into()),
                ("3_2_design_team".into(), "Design".into()),
            ],
        },
    )?;

    d.say("Four people bought licenses on Open Collective. The founder imports the collective's transactions export (tests/fixtures/opencollective/demo.csv): each purchase becomes a deposit of what reached the treasury and an invitation with a one-time code. Names stay out of the ledger; the contributors' slugs go to a private identity file.");
    let codes = d.import()?;
    d.say("Each newcomer gets their code privately, chooses a handle and runs `smartup join CODE --handle H`: a join row signed by their own new key. They cannot push yet, so the founder relays each row (`smartup relay FILE`); the forge's hook checks the newcomer's signature and the code's proof.");
    for (slug, who) in [
        ("carla-conti", "carla"),
        ("maya-mendes", "maya"),
        ("alice-a", "alice"),
        ("bo-berg", "bob"),
    ] {
        let code = codes
            .iter()
            .find(|i| i.contributor == slug)
            .map(|i| i.code.clone())
            .with_context(|| format!("the demo's export invited no {slug}"))?;
        d.join(who, &code)?;
    }

    d.say("The founder appoints carla captain of the design team.");
    d.act("founder", 0, role("4_1_2_tc_design_team", "carla", Some("3_2_design_team")))?;
    d.say("carla opens an objective; the founder appoints maya its mission leader (bootstrap phase: no SK threshold for the founder's appointments).");
    d.act(
        "carla",
        0,
        Intent::CreateObjective {
            objective: "5_2_1_brand".into(),
            team: "3_2_design_team".into(),
            title: "A brand people recognise".into(),
            note: String::new(),
        },
    )?;
    d.act("founder", 0, role("5_2_1", "maya", None))?;
    d.say("carla gives alice a senior role and bob a junior role in the design team.");
    d.act("carla", 0, role("4_2_1", "alice", Some("3_2")))?;
    d.act("carla", 0, role("4_3_1", "bob", Some("3_2")))?;

    d.say("carla creates a medium task in the design phase: 50 SC x 1.1 = 55 SC.");
    d.act(
        "carla",
        1,
        Intent::CreateTask {
            task: "6_2_1_1_logo".into(),
            objective: "5_2_1".into(),
            title: "Design the logo".into(),
            size: "medium".into(),
            phase: "design".into(),
        },
    )?;
    d.say("maya assigns it: alice attacks, bob defends.");
    d.act(
        "maya",
        0,
        Intent::AssignTask {
            task: "6_2_1_1".into(),
            attacker: "alice".into(),
            defender: "bob".into(),
        },
    )?;
    d.say("alice starts the task.");
    d.act("alice", 0, Intent::StartTask { task: "6_2_1_1".into() })?;

    d.say("alice and bob clock in for a paired session, and out two hours later (each stop writes the clock row and the session log).");
    d.act("alice", 0, Intent::StartWork { task: "6_2_1_1".into() })?;
    d.act("bob", 0, Intent::StartWork { task: "6_2_1_1".into() })?;
    d.act("alice", 2, Intent::StopWork)?;
    d.act("bob", 0, Intent::StopWork)?;

    d.say("maya assesses the work: 9, 8 and 8 of 10 make 25, in the 80-95% band, where maya sets 90%; 90% of 55 SC is 49.50 SC pending, 90% to alice and 10% to bob.");
    d.act(
        "maya",
        1,
        Intent::AssessWork {
            task: "6_2_1_1".into(),
            scores: [9, 8, 8],
            share: Some("90".parse()?),
            note: String::new(),
        },
    )?;

    d.say("48 hours of lazy consensus pass without objection; carla, a captain who is not paid by the task, validates the SC.");
    d.act(
        "carla",
        48,
        Intent::ValidatePendingSc {
            task: "6_2_1_1".into(),
            attacker_sc: None,
            defender_sc: None,
            note: String::new(),
        },
    )?;
    d.say("carla awards maya 5 SK for the review.");
    d.act(
        "carla",
        0,
        Intent::AwardSk {
            owner: "maya".into(),
            reason: "review".into(),
            earned_on: None,
            note: String::new(),
        },
    )?;

    decisions(d)?;

    d.say("bob tries to raise the task's budget by editing the CSV by hand and pushing; the forge's hook refuses:");
    forged_push(d)?;

    d.say("The balances, as everyone can read them (from a fresh clone of the forge in ledger/):");
    git(&["clone", "-q", path(&forge)?, path(&dir.join("ledger"))?])?;
    let reader = Global {
        ledger: Some(dir.join("ledger")),
        json: d.json,
    };
    super::read::balance(&reader, &super::read::BalanceArgs { handle: None })?;
    d.say("And a reviewer re-checks the forge's history from genesis (signatures, history, rules):");
    let on_forge = Global {
        ledger: Some(forge),
        json: d.json,
    };
    super::verify_cmd::run(
        &on_forge,
        &super::verify_cmd::VerifyArgs {
            genesis: None,
            rev: "HEAD".into(),
        },
    )?;
    d.say("The public transparency site, built from the verified ledger (HTML, MkDocs and wiki pages):");
    let built = crate::site::build(&crate::repo::open(&dir.join("ledger"))?, &dir.join("site"), None, false)?;
    println!(
        "built {} pages of {} rows: open {} in a browser",
        built.pages,
        built.rows,
        dir.join("site").join("index.html").display()
    );
    println!("\nTry: cd {} && smartup log && smartup status", dir.join("ledger").display());
    Ok(())
}

/// A proposal's full text, kept beside the clones; returns the intent's text hash and link.
fn proposal_text(d: &Demo, name: &str, text: &str) -> Result<(String, String)> {
    let dir = d.dir.join("proposals");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join(name);
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    Ok((crate::ledger::policy::file_reference(text.as_bytes()), format!("proposals/{name}")))
}

fn proposal(kind: Kind, title: &str, (text_hash, link): (String, String)) -> ProposalIntent {
    ProposalIntent::new(kind, title, &text_hash, &link)
}

/// The owners vote to raise the quorum, and the captains release the first tranche of
/// the founder's retrospective award; both are closed after their 7-day votes and carried out.
fn decisions(d: &mut Demo) -> Result<()> {
    d.update_clone("founder")?;
    let current =
        std::fs::read_to_string(d.dir.join("founder").join(crate::ledger::POLICY_FILE)).context("cannot read the founder's ledger.toml")?;
    let from = "quorum_percent = \"20\"";
    if !current.contains(from) {
        bail!("the demo's policy has no {from}");
    }
    let raised = current.replacen(from, "quorum_percent = \"25\"", 1);
    let mut amendment = proposal(
        Kind::PolicyAmendment,
        "A quorum of 25%",
        proposal_text(
            d,
            "quorum.md",
            "# A quorum of 25%\n\nA decision of the smartup should carry at least a quarter of the eligible weight, not a fifth.\n",
        )?,
    );
    amendment.reference = Some(crate::ledger::policy::file_reference(raised.as_bytes()));
    d.say("The founder proposes to raise the quorum of decisions to 25%: a policy amendment naming the hash of the new ledger.toml. It goes to a vote of every owner under today's policy: 7 days, a quorum of 20% of the eligible weight, yes above 50% of yes + no; each vote weighs min(1.5, 1 + SK/1000) as of the proposal.");
    let amendment = d.act("founder", 1, Intent::Propose(amendment))?;
    d.say("An early backer donates 3,100 EUR; the founder records the deposit.");
    d.act(
        "founder",
        0,
        Intent::DepositEur {
            amount: Amount::units(3100),
            gross: None,
            reason: "donation".into(),
            from: None,
            reference: String::new(),
            note: "an early backer".into(),
        },
    )?;
    d.say("Two captains exist (the founder and carla), the trigger of the design-phase tranche of the founder's 82,200 SC of prior work. The founder proposes its release; captains and the leadership vote, the founder (its recipient) excepted.");
    let mut release = proposal(
        Kind::TrancheRelease,
        "Release the design-phase tranche",
        proposal_text(
            d,
            "design-tranche.md",
            "# Release the design-phase tranche\n\n24,660 SC for the design phase of ten years of prior work.\n",
        )?,
    );
    release.tranche = Some("design".into());
    let release = d.act("founder", 0, Intent::Propose(release))?;
    d.say("carla, maya and alice vote yes on the amendment, bob votes no; carla votes yes on the release.");
    for (who, choice) in [
        ("carla", Choice::Yes),
        ("maya", Choice::Yes),
        ("alice", Choice::Yes),
        ("bob", Choice::No),
    ] {
        d.act(
            who,
            0,
            Intent::Vote {
                proposal: amendment,
                choice,
                note: String::new(),
            },
        )?;
    }
    d.act(
        "carla",
        0,
        Intent::Vote {
            proposal: release,
            choice: Choice::Yes,
            note: String::new(),
        },
    )?;
    d.say("Seven days later maya closes both votes; the rules recompute each tally from the rows and refuse any other.");
    d.act(
        "maya",
        169,
        Intent::CloseProposal {
            proposal: amendment,
            note: String::new(),
        },
    )?;
    d.act(
        "maya",
        0,
        Intent::CloseProposal {
            proposal: release,
            note: String::new(),
        },
    )?;
    d.say("alice, who is no captain, records the amendment the owners passed; once the bootstrap phase is over, this is the only way the policy changes.");
    d.act(
        "alice",
        0,
        Intent::AmendPolicy {
            policy: raised.into_bytes(),
            note: format!("passed by proposal {amendment}"),
        },
    )?;
    d.say("carla releases the design tranche: 24,660 SC become the founder's, under the 3x rule; 57,540 SC stay pending in tranches.");
    d.act(
        "carla",
        0,
        Intent::ReleaseTranche {
            tranche: "design".into(),
            amount: None,
            proposal: None,
            note: String::new(),
        },
    )?;
    Ok(())
}

/// A hand edit of an existing row, committed and pushed with plain git: the hook refuses it.
fn forged_push(d: &mut Demo) -> Result<()> {
    d.update_clone("bob")?;
    let clone = d.dir.join("bob");
    let file = clone.join("tables/task-budgets/1/01.csv");
    let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
    std::fs::write(&file, text.replace(",55.00,", ",550.00,")).with_context(|| format!("cannot write {}", file.display()))?;
    let c = path(&clone)?;
    git(&[
        "-C",
        c,
        "-c",
        "user.name=bob",
        "-c",
        "user.email=bob@demo.smartup.invalid",
        "commit",
        "-q",
        "-am",
        "a bigger budget",
    ])?;
    let output = Command::new("git")
        .args(["-C", c, "push", "origin", "main"])
        .output()
        .context("cannot run git push")?;
    for line in String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter(|l| l.starts_with("remote:") || l.contains("rejected"))
    {
        println!("  {}", line.trim_end());
    }
    if output.status.success() {
        bail!("the forge accepted a forged push: the hook is not working");
    }
    git(&["-C", c, "reset", "-q", "--hard", "origin/main"])
}
