//! The server side: the pre-receive hook that refuses any push breaking the ledger
//! (incremental through the state cache of `verify::cache`) with typed findings and one
//! printer for them, and installing the hook into bare repositories (plain git or Forgejo).

pub mod health;
pub mod install;
pub mod pre_receive;
pub mod refusals;
pub mod verdict;
