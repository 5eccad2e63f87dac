//! The one write path below every front end: open a ledger from a folder, record what
//! someone intends (drafted by the rules, signed by a [`Signer`], checked, committed),
//! re-base unpushed entries, and read rows back ("everything since seq N"). The CLI, the demo,
//! `smartup push` and every later front end (site, bot, onboarding) write only through here;
//! nothing in this module knows about command lines. The forge's witness statements
//! (`refs/smartup/witness`, written after accepted pushes) are written here too: only the
//! clerk writes commits.

mod genesis;
mod ledger;
pub mod push;
mod rebase;
mod signer;
pub mod witness;

pub use genesis::create;
pub use ledger::{Batch, Ledger, Refused};
pub use signer::Signer;
