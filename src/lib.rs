//! smartup: the git-native, signed, append-only ledger of a self-governing organisation.
//!
//! - [`ledger`]: tables, rows, segments, identifiers and the policy file;
//! - [`rules`]: the pure state machine every row is judged by;
//! - [`sign`]: ed25519 keys and OpenSSH signatures (SSHSIG);
//! - [`view`]: the pure read model: task board, balances, histories, event timeline;
//! - [`repo`]: reading ledger history from git and writing signed commits;
//! - [`verify`]: re-checking a whole history;
//! - [`clerk`]: the one write path (open, record, re-base, push, read rows back);
//! - [`hook`]: the server-side pre-receive hook;
//! - [`forgejo`]: keeping Forgejo in step with the ledger;
//! - [`matrix`]: the Matrix hub and Engelbot;
//! - [`onboard`]: from an Open Collective payment to an owner (import, invitations, join);
//! - [`cli`]: the `smartup` command line.

pub mod clerk;
pub mod cli;
pub mod forgejo;
pub mod hook;
pub mod http;
pub mod ledger;
pub mod matrix;
pub mod money;
pub mod onboard;
pub mod repo;
pub mod rules;
pub mod sign;
pub mod site;
pub mod time;
pub mod user_config;
pub mod verify;
pub mod view;
