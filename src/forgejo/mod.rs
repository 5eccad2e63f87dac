//! Keeping Forgejo in step with the ledger: labels, milestones, issues and tracked time are
//! a view of the ledger state, computed, compared with what Forgejo holds, and changed
//! through Forgejo's API. Plan first (nothing is written), then apply.
//!
//! - [`config`]: the `[forgejo]` section, checked, and the access token;
//! - [`cursor`]: what the last sync left in step, so that the next reads only what changed;
//! - [`client`]: the HTTP client: token, retries with back-off, pagination, errors in words;
//! - [`models`]: the API's objects as Forgejo really sends them (nulls included);
//! - [`history`]: reading the rows at HEAD into the read model's histories and each
//!   proposal's rows and votes;
//! - [`links`]: links from Forgejo back to the ledger's rows;
//! - [`labels`]: the managed label set and which labels a task or proposal carries;
//! - [`section`]: the body section the sync owns, found by its markers;
//! - [`render`]: the text of those sections;
//! - [`desired`]: what Forgejo should show, from the ledger alone;
//! - [`observe`]: what Forgejo shows now;
//! - [`step`]: one change, as people and scripts read it;
//! - [`plan`]: the difference, as steps;
//! - [`apply`]: carrying the steps out;
//! - [`accounts`]: accounts, SSH keys and team membership of owners (`forgejo provision`).

pub mod accounts;
pub mod apply;
pub mod client;
pub mod config;
pub mod cursor;
pub mod desired;
pub mod history;
pub mod labels;
pub mod links;
pub mod models;
pub mod observe;
pub mod plan;
pub mod render;
pub mod section;
pub mod step;
