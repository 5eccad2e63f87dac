//! Engelbot, the Midfielder: it announces every accepted ledger event in the right room,
//! answers questions and write requests, proves accounts, and keeps the hub in step — but it
//! never decides and never writes the ledger.
//!
//! - [`commands`]: what it answers (pure);
//! - [`announce`]: which rooms an event goes to, in words (pure);
//! - [`cursor`]: where it stopped, kept across restarts;
//! - [`run`]: the loop over the ledger and the homeserver.

pub mod announce;
pub mod commands;
pub mod cursor;
pub mod run;
