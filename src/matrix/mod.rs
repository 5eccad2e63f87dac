//! The Matrix front end: the hub that mirrors the ledger on a homeserver (space, rooms,
//! aliases, membership), registration tokens for invited owners, and Engelbot, the
//! Midfielder that announces and answers but never decides.
pub mod client;
