//! The server side: the pre-receive hook that refuses any push breaking the ledger, its state
//! cache, and installing the hook into bare repositories (plain git or Forgejo).

pub mod cache;
pub mod install;
pub mod pre_receive;
