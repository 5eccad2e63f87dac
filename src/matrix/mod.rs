//! The Matrix front end: the hub that mirrors the ledger on a homeserver (space, rooms,
//! aliases, membership), registration tokens for invited owners, and Engelbot, the
//! Midfielder that announces and answers but never decides.
//!
//! - [`client`]: the client-server and Synapse admin API calls, over reqwest;
//! - [`config`]: the `[matrix]` section and the access tokens;
//! - [`hub`]: `smartup matrix sync`, desired → observed → plan → apply;
//! - [`tokens`]: registration tokens for open invitations.

pub mod bot;
pub mod client;
pub mod config;
pub mod hub;
pub mod tokens;
