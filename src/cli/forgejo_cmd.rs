//! `smartup forgejo` (being written).

use super::Global;
use clap::Subcommand;

/// `forgejo` subcommands.
#[derive(Subcommand, Debug, Clone)]
pub enum ForgejoCommand {
    /// Plan and apply the sync
    Sync,
}

/// Runs a `forgejo` subcommand.
pub fn run(_global: &Global, _command: &ForgejoCommand) -> anyhow::Result<()> {
    anyhow::bail!("smartup forgejo is not built yet")
}
