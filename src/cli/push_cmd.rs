//! `smartup push` (being written).

use super::Global;
use clap::Args;

/// Arguments of `push`.
#[derive(Args, Debug, Clone)]
pub struct PushArgs {}

/// Pushes the ledger branch.
pub fn run(_global: &Global, _args: &PushArgs) -> anyhow::Result<()> {
    anyhow::bail!("smartup push is not built yet")
}
