//! Who signs new entries: a handle and an unlocked ed25519 key.

use crate::ledger::row::Row;
use crate::repo::write::Author;
use crate::rules::State;
use crate::sign::SigningKey;

/// The signer of new entries.
pub struct Signer {
    /// The owner's handle.
    pub handle: String,
    /// Their private key.
    pub key: SigningKey,
    /// E-mail for commits.
    pub email: String,
}

impl Signer {
    /// A signer whose commits carry a placeholder e-mail derived from the handle.
    pub fn new(handle: &str, key: SigningKey) -> Signer {
        Signer {
            handle: handle.to_string(),
            key,
            email: format!("{handle}@users.smartup.invalid"),
        }
    }

    /// The commit author these entries are recorded under.
    pub fn author(&self) -> Author {
        Author {
            handle: self.handle.clone(),
            email: self.email.clone(),
        }
    }

    /// Signs a row for the ledger `state` describes.
    pub fn sign(&self, row: &mut Row, state: &State) {
        row.sign(&self.key, &state.ledger_id, &state.policy.ledger.namespace);
    }
}
