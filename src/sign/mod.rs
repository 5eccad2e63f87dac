//! Signing and verification for the smartup ledger, with ed25519 keys in
//! OpenSSH formats and signatures in OpenSSH's SSHSIG format.
//!
//! - [`SigningKey`] / [`PublicKey`] (`keys.rs`): load passphrase-protected
//!   OpenSSH private keys, generate and write new ones, parse
//!   `ssh-ed25519 AAAA...` lines, `ssh-keygen`-compatible fingerprints.
//! - SSHSIG (`sshsig.rs`): every ledger row signature is a raw ed25519
//!   signature over the SSHSIG signed data for the row (namespace chosen by the
//!   caller, e.g. `smartup-ledger`, hash sha512), so [`armor`] turns it into a
//!   file that `ssh-keygen -Y verify` accepts. Git commits are signed the way
//!   `git commit -S` with `gpg.format=ssh` does ([`SigningKey::sign_git_commit`],
//!   [`verify_git_commit`]).
//! - [`verify_all`] (`batch.rs`): multi-threaded batch verification of many
//!   row signatures, with strict single verification as the reference (see
//!   that module's documentation for how the two are kept in agreement).
//!
//! - [`Code`] (`code.rs`): one-time codes people type (invitations, Matrix links).
//!
//! This module depends on nothing else in the crate.

mod batch;
mod code;
mod keys;
mod sshsig;
#[cfg(test)]
pub(crate) mod test_support;
mod wire;

pub use batch::{verify_all, verify_signed, KeyScreen, SignatureCheck, SignedData};
pub use code::Code;
pub use keys::{KeyCache, KeyError, PublicKey, SigningKey};
pub use sshsig::{
    armor, decode_signature, encode_signature, parse_armored, parse_armored_with, signed_data, verify_git_commit, ArmoredSignature,
    CommitSignatureError, HASH_ALGORITHM,
};
