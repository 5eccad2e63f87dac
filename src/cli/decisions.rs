//! The arguments of `propose`: a proposal's kind, title, full text (hashed) and what it does
//! when it passes, turned into a [`ProposalIntent`].

use super::exit::Usage;
use crate::ledger::policy::file_reference;
use crate::rules::draft::ProposalIntent;
use crate::rules::governance::{Choice, Kind};
use anyhow::{Context, Result};
use clap::Args;
use std::path::PathBuf;

/// Arguments of `propose`.
#[derive(Args, Clone, Debug)]
pub struct ProposeArgs {
    /// lazy-consensus, binding-vote, policy-amendment, captain-election, captain-recall,
    /// award-review or tranche-release
    #[arg(value_parser = kind)]
    pub kind: Kind,
    /// The proposal's title
    #[arg(long)]
    pub title: String,
    /// The file holding the proposal's full text: the row records its sha256
    #[arg(long, value_name = "FILE", required_unless_present = "text_hash")]
    pub text: Option<PathBuf>,
    /// The sha256:<hex> of the full text, when it is not at hand as a file
    #[arg(long, value_name = "SHA256", conflicts_with = "text")]
    pub text_hash: Option<String>,
    /// Where the full text lives (a Forgejo issue, a file in a repository)
    #[arg(long, default_value = "")]
    pub link: String,
    /// policy-amendment: the new ledger.toml (the row records its sha256)
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// captain-election, captain-recall: the captain role (4_1_Y)
    #[arg(long)]
    pub role: Option<String>,
    /// captain-election, captain-recall: the role's team [default: the role's current team]
    #[arg(long)]
    pub team: Option<String>,
    /// captain-election, captain-recall: who is elected or recalled
    #[arg(long)]
    pub owner: Option<String>,
    /// award-review: the assessed task
    #[arg(long)]
    pub task: Option<String>,
    /// tranche-release: the tranche id of the policy's [[governance.tranches]]
    #[arg(long)]
    pub tranche: Option<String>,
    /// binding-vote: what it declares when it passes (working-mvp, market-launch)
    #[arg(long)]
    pub declares: Option<String>,
    /// Free text for the row's note column
    #[arg(long, default_value = "")]
    pub note: String,
}

fn kind(word: &str) -> Result<Kind, String> {
    Kind::parse(word).ok_or_else(|| {
        let kinds: Vec<&str> = Kind::ALL.iter().map(|k| k.word()).collect();
        format!("not a kind of proposal: {}", kinds.join(", "))
    })
}

/// Parses `yes`, `no` or `abstain`.
pub fn choice(word: &str) -> Result<Choice, String> {
    Choice::parse(word).ok_or_else(|| "a vote is yes, no or abstain".to_string())
}

fn hash_of(path: &PathBuf, what: &str) -> Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {what} {}", path.display()))?;
    Ok(file_reference(&bytes))
}

impl ProposeArgs {
    /// The proposal these arguments describe; files are read and hashed here.
    pub fn intent(&self) -> Result<ProposalIntent> {
        let text_hash = match (&self.text, &self.text_hash) {
            (Some(path), _) => hash_of(path, "the proposal's text")?,
            (None, Some(hash)) => hash.clone(),
            (None, None) => {
                return Err(Usage("give the proposal's full text with --text FILE (or its hash with --text-hash)".into()).into())
            }
        };
        let reference = match (&self.policy, self.kind) {
            (Some(path), Kind::PolicyAmendment) => Some(hash_of(path, "the new policy")?),
            (None, Kind::PolicyAmendment) => return Err(Usage("a policy-amendment names the new ledger.toml: --policy FILE".into()).into()),
            (Some(_), _) => return Err(Usage("--policy belongs to a policy-amendment proposal".into()).into()),
            (None, _) => None,
        };
        Ok(ProposalIntent {
            kind: self.kind,
            title: self.title.clone(),
            text_hash,
            link: self.link.clone(),
            reference,
            role: self.role.clone(),
            team: self.team.clone(),
            owner: self.owner.clone(),
            task: self.task.clone(),
            tranche: self.tranche.clone(),
            declares: self.declares.clone(),
            note: self.note.clone(),
        })
    }
}
