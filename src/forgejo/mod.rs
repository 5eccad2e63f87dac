//! Keeping Forgejo in step with the ledger (being written).
