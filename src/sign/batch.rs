//! Fast verification of many ledger signatures at once.
//!
//! # Batch versus strict verification
//!
//! [`PublicKey::verify`] is the reference: strict, cofactorless ed25519
//! (`verify_strict`: rejects small-order keys and `R` values and demands a
//! canonical `R` encoding). `ed25519_dalek::verify_batch` checks a random
//! linear combination of the same (cofactorless) equations, so for honest
//! input the two agree, but they part ways on points with a small-order
//! component: a small-order key or `R` (batch can accept what strict
//! rejects, even always, e.g. `R` = identity with `s = h·a`), a
//! non-canonically encoded `R`, or a key with a torsion component.
//!
//! [`verify_all`] therefore only batches checks that pass a screen, and
//! verifies every other check strictly, one by one:
//! - the key must not be of small order and must be torsion-free (one scalar
//!   multiplication per distinct key, cached);
//! - `R` must be canonically encoded and must not be one of the small-order
//!   encodings (byte comparisons, no curve arithmetic).
//!
//! With the key and `R` screened like this, a batch that passes implies
//! (up to the 2^-128 soundness error of batching) that every signature in it
//! passes `verify_strict`, except in one case that is
//! deliberately not screened: an `R` of mixed order (a prime-order point plus
//! a torsion point). Only the holder of the private key can produce such a
//! signature (computing `s` needs the key), neither OpenSSH nor this module
//! ever does, and batch verification then accepts it with probability at
//! most 1/2 depending on the rest of the batch. Ruling it out needs a full
//! scalar multiplication per signature, which costs more than batching saves
//! (measured: strict ≈ 32 µs, batch ≈ 11 µs, torsion check ≈ 21 µs per
//! signature), so callers who cannot tolerate a key holder deliberately
//! crafting such a row should verify with [`PublicKey::verify`].
//!
//! Conversely a signature that `verify_strict` accepts always passes the
//! batch equation, and every failing sub-batch is re-verified strictly, so a
//! check reported bad is always one that [`PublicKey::verify`] rejects. For
//! all signatures other than the crafted kind above the answer is therefore
//! exactly that of [`PublicKey::verify`], whatever the number of threads.

use std::collections::HashMap;
use std::thread;

use ed25519_dalek::{Signature, VerifyingKey};

use super::keys::PublicKey;
use super::sshsig::signed_data;

/// Signatures verified together in one `verify_batch` call.
const SUB_BATCH: usize = 256;

/// The field prime 2^255 - 19, little-endian.
const FIELD_PRIME: [u8; 32] = {
    let mut p = [0xff; 32];
    p[0] = 0xed;
    p[31] = 0x7f;
    p
};

/// Encodings (sign bit cleared) whose canonical decodings are the eight
/// small-order points: y = 0 (order 4), y = 1 (identity), the two order-8
/// y values, and y = p - 1 (order 2).
const SMALL_ORDER_Y: [[u8; 32]; 5] = [
    [0; 32],
    {
        let mut one = [0; 32];
        one[0] = 1;
        one
    },
    [
        0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6,
        0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05,
    ],
    [
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39,
        0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a,
    ],
    {
        let mut p_minus_1 = FIELD_PRIME;
        p_minus_1[0] = 0xec;
        p_minus_1
    },
];

/// One signature to verify: key, ledger message (not yet the SSHSIG blob), raw signature.
#[derive(Clone, Copy, Debug)]
pub struct SignatureCheck<'a> {
    /// The key that supposedly signed.
    pub key: &'a PublicKey,
    /// The signed ledger message, before SSHSIG wrapping.
    pub message: &'a [u8],
    /// The raw ed25519 signature.
    pub signature: [u8; 64],
}

/// Verifies `checks` in `namespace` on up to `threads` threads; returns bad indices, ascending.
#[must_use]
pub fn verify_all(namespace: &str, checks: &[SignatureCheck<'_>], threads: usize) -> Vec<usize> {
    let chunk_len = checks.len().div_ceil(threads.max(1)).max(1);
    if chunk_len >= checks.len() {
        return verify_chunk(namespace, checks, 0);
    }
    thread::scope(|scope| {
        let workers: Vec<_> = checks
            .chunks(chunk_len)
            .enumerate()
            .map(|(n, chunk)| {
                let offset = n * chunk_len;
                let worker = thread::Builder::new().spawn_scoped(scope, move || verify_chunk(namespace, chunk, offset));
                (chunk, offset, worker)
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|(chunk, offset, worker)| match worker {
                Ok(handle) => handle.join().unwrap_or_else(|_| verify_each(namespace, chunk, offset)),
                // Could not start a thread: do the work here instead.
                Err(_) => verify_chunk(namespace, chunk, offset),
            })
            .collect()
    })
}

/// A signature over SSHSIG signed data (the message already wrapped with its namespace and
/// hash, as [`crate::sign::ArmoredSignature::signed_data`] or [`crate::sign::signed_data`]
/// make it), ready to check.
pub struct SignedData<'a> {
    /// The key that supposedly signed.
    pub key: &'a PublicKey,
    /// The SSHSIG signed data.
    pub data: Vec<u8>,
    /// The raw ed25519 signature.
    pub signature: [u8; 64],
}

impl SignedData<'_> {
    /// Strict single verification (the reference).
    fn is_valid(&self) -> bool {
        self.key.verify_signed_data(&self.data, &self.signature)
    }
}

/// Verifies a contiguous chunk starting at index `offset`; returns bad indices, ascending.
fn verify_chunk(namespace: &str, checks: &[SignatureCheck<'_>], offset: usize) -> Vec<usize> {
    let prepared: Vec<SignedData> = checks
        .iter()
        .map(|check| SignedData {
            key: check.key,
            data: signed_data(namespace, check.message),
            signature: check.signature,
        })
        .collect();
    verify_signed(&prepared, &mut KeyScreen::default())
        .into_iter()
        .map(|i| i + offset)
        .collect()
}

/// Which keys may be batched, remembered across calls: the screen costs a scalar
/// multiplication per key, so a thread checking many batches screens each key once.
#[derive(Default)]
pub struct KeyScreen {
    safe: HashMap<[u8; 32], bool>,
}

impl KeyScreen {
    fn is_safe(&mut self, key: &PublicKey) -> bool {
        *self
            .safe
            .entry(*key.as_bytes())
            .or_insert_with(|| batch_safe_key(key.verifying_key()))
    }
}

/// Verifies signatures over prepared signed data on this thread: batched where the screen
/// above allows (keys screened through `screen`), strictly otherwise; returns bad indices,
/// ascending.
#[must_use]
pub fn verify_signed(checks: &[SignedData<'_>], screen: &mut KeyScreen) -> Vec<usize> {
    let mut bad = Vec::new();
    let mut batchable = Vec::with_capacity(checks.len());
    for (index, check) in checks.iter().enumerate() {
        if screen.is_safe(check.key) && batch_safe_r(&check.signature) {
            batchable.push((index, check));
        } else if !check.is_valid() {
            bad.push(index);
        }
    }
    for sub_batch in batchable.chunks(SUB_BATCH) {
        bad.extend(verify_sub_batch(sub_batch));
    }
    bad.sort_unstable();
    bad
}

/// Batch-verifies a sub-batch (index, check); if the batch fails, names the culprits by
/// strict verification.
fn verify_sub_batch(sub_batch: &[(usize, &SignedData<'_>)]) -> Vec<usize> {
    let messages: Vec<&[u8]> = sub_batch.iter().map(|(_, p)| p.data.as_slice()).collect();
    let signatures: Vec<Signature> = sub_batch.iter().map(|(_, p)| Signature::from_bytes(&p.signature)).collect();
    let keys: Vec<VerifyingKey> = sub_batch.iter().map(|(_, p)| *p.key.verifying_key()).collect();
    if ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok() {
        return Vec::new();
    }
    sub_batch.iter().filter(|(_, p)| !p.is_valid()).map(|(i, _)| *i).collect()
}

/// Strictly verifies every check of a chunk, one by one.
fn verify_each(namespace: &str, checks: &[SignatureCheck<'_>], offset: usize) -> Vec<usize> {
    checks
        .iter()
        .enumerate()
        .filter(|(_, check)| !check.key.verify(namespace, check.message, &check.signature))
        .map(|(i, _)| i + offset)
        .collect()
}

/// A key may be batched if it is neither of small order nor has a torsion component.
fn batch_safe_key(key: &VerifyingKey) -> bool {
    !key.is_weak() && key.to_edwards().is_torsion_free()
}

/// `R` may be batched if its encoding is canonical and not a small-order point's.
fn batch_safe_r(signature: &[u8; 64]) -> bool {
    let mut r = [0u8; 32];
    r.copy_from_slice(&signature[..32]);
    if !is_canonical_y(&r) {
        return false;
    }
    r[31] &= 0x7f; // compare y only: x = 0 with the sign bit set is small-order too
    !SMALL_ORDER_Y.contains(&r)
}

/// True if the y coordinate of a point encoding (sign bit ignored) is below the field prime.
fn is_canonical_y(encoding: &[u8; 32]) -> bool {
    let mut y = *encoding;
    y[31] &= 0x7f;
    // Little-endian comparison y < p, from the most significant byte down.
    for (a, b) in y.iter().rev().zip(FIELD_PRIME.iter().rev()) {
        if a != b {
            return a < b;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sign::test_support::{SEED_A, SEED_B};
    use crate::sign::SigningKey;
    use sha2::{Digest, Sha512};
    use std::collections::HashSet;
    use std::ops::{Add, Mul, Sub};

    const LEDGER: &str = "smartup-ledger";

    /// The compressed ed25519 base point.
    const BASEPOINT: [u8; 32] = {
        let mut b = [0x66; 32];
        b[0] = 0x58;
        b
    };

    fn keys(n: u8) -> Vec<SigningKey> {
        (0..n).map(|i| SigningKey::from_seed([i; 32], "")).collect()
    }

    struct Rows {
        messages: Vec<Vec<u8>>,
        signatures: Vec<[u8; 64]>,
    }

    fn rows(keys: &[SigningKey], n: usize) -> Rows {
        let messages: Vec<Vec<u8>> = (0..n).map(|i| format!("row {i},alice,bob,{}", i * 7).into_bytes()).collect();
        let signatures = messages
            .iter()
            .enumerate()
            .map(|(i, m)| keys[i % keys.len()].sign(LEDGER, m))
            .collect();
        Rows { messages, signatures }
    }

    fn checks<'a>(keys: &'a [SigningKey], rows: &'a Rows) -> Vec<SignatureCheck<'a>> {
        rows.messages
            .iter()
            .zip(&rows.signatures)
            .enumerate()
            .map(|(i, (message, signature))| SignatureCheck {
                key: keys[i % keys.len()].public(),
                message,
                signature: *signature,
            })
            .collect()
    }

    #[test]
    fn all_good() {
        let keys = keys(7);
        let rows = rows(&keys, 1000);
        let checks = checks(&keys, &rows);
        for threads in [0, 1, 2, 3, 64] {
            assert!(verify_all(LEDGER, &checks, threads).is_empty(), "threads {threads}");
        }
        assert_eq!(verify_all("git", &checks, 2).len(), 1000);
        assert!(verify_all(LEDGER, &[], 2).is_empty());
    }

    #[test]
    fn finds_exactly_the_bad_ones() {
        let keys = keys(7);
        let mut rows = rows(&keys, 1000);
        rows.signatures[3][40] ^= 1; // s half
        rows.signatures[511][0] ^= 0x10; // R half
        rows.messages[998][2] ^= 1;
        let checks = checks(&keys, &rows);
        for threads in [1, 2, 3] {
            assert_eq!(verify_all(LEDGER, &checks, threads), vec![3, 511, 998], "threads {threads}");
        }
    }

    #[test]
    fn wrong_key_and_single_check() {
        let keys = keys(2);
        let rows = rows(&keys, 4);
        let mut checks = checks(&keys, &rows);
        checks[2].key = keys[1].public();
        assert_eq!(verify_all(LEDGER, &checks, 2), vec![2]);
        assert_eq!(verify_all(LEDGER, &checks[2..3], 2), vec![0]);
        assert!(verify_all(LEDGER, &checks[..1], 8).is_empty());
    }

    fn public_from_bytes(bytes: [u8; 32]) -> PublicKey {
        let mut blob = Vec::new();
        crate::sign::wire::put_string(&mut blob, b"ssh-ed25519");
        crate::sign::wire::put_string(&mut blob, &bytes);
        PublicKey::from_blob(&blob).unwrap()
    }

    fn signature(r: [u8; 32], s: [u8; 32]) -> [u8; 64] {
        let mut sig = [0; 64];
        sig[..32].copy_from_slice(&r);
        sig[32..].copy_from_slice(&s);
        sig
    }

    /// True if dalek's batch verifier, on this one check, accepts it.
    fn batch_accepts(key: &PublicKey, message: &[u8], sig: &[u8; 64]) -> bool {
        let data = signed_data(LEDGER, message);
        ed25519_dalek::verify_batch(&[&data], &[Signature::from_bytes(sig)], &[*key.verifying_key()]).is_ok()
    }

    #[test]
    fn small_order_key_is_not_batched() {
        // A = identity, R = B, s = 1: R + hA - sB = 0 for every message.
        let mut identity = [0; 32];
        identity[0] = 1;
        let key = public_from_bytes(identity);
        let mut one = [0; 32];
        one[0] = 1;
        let sig = signature(BASEPOINT, one);
        assert!(batch_accepts(&key, b"anything", &sig), "test premise");
        assert!(!key.verify(LEDGER, b"anything", &sig));
        let check = SignatureCheck {
            key: &key,
            message: b"anything",
            signature: sig,
        };
        assert_eq!(verify_all(LEDGER, &[check; 3], 1), vec![0, 1, 2]);
    }

    /// 0 and 1 of dalek's scalar type, which this crate cannot name.
    #[allow(clippy::eq_op)]
    fn zero_and_one<T: Copy + Sub<Output = T> + Mul<Output = T>>(a: T, a_inverse: T) -> (T, T) {
        (a - a, a * a_inverse)
    }

    /// Reduces a 64-byte little-endian number mod l, as a dalek scalar,
    /// without naming the (not directly depended on) scalar type.
    fn wide_scalar<T: Copy + Add<Output = T> + Mul<Output = T>>(zero: T, one: T, bytes: &[u8]) -> T {
        let mut small = vec![zero];
        for _ in 0..256 {
            let last = *small.last().unwrap();
            small.push(last + one);
        }
        bytes.iter().rev().fold(zero, |acc, &b| acc * small[256] + small[usize::from(b)])
    }

    /// s = h·a for R = `r`, i.e. the s that makes R + hA - sB = R (torsion or identity R).
    fn s_for_small_order_r(dalek: &ed25519_dalek::SigningKey, r: &[u8; 32], message: &[u8]) -> [u8; 32] {
        let a = dalek.to_scalar();
        let (zero, one) = zero_and_one(a, a.invert());
        let mut hasher = Sha512::new();
        hasher.update(r);
        hasher.update(dalek.verifying_key().as_bytes());
        hasher.update(signed_data(LEDGER, message));
        let h = wide_scalar(zero, one, &hasher.finalize());
        (h * a).to_bytes()
    }

    #[test]
    fn small_order_and_non_canonical_r_are_not_batched() {
        let dalek = ed25519_dalek::SigningKey::from_bytes(&SEED_A);
        let key = public_from_bytes(dalek.verifying_key().to_bytes());
        let mut identity = [0; 32];
        identity[0] = 1;
        let mut negative_identity = identity;
        negative_identity[31] |= 0x80;
        let mut p_plus_1 = FIELD_PRIME;
        p_plus_1[0] = 0xee; // non-canonical identity
        let order_two = SMALL_ORDER_Y[4];
        let mut negative_order_two = order_two;
        negative_order_two[31] |= 0x80;
        for r in [identity, negative_identity, p_plus_1, order_two, negative_order_two] {
            let message = b"crafted by the key holder";
            let sig = signature(r, s_for_small_order_r(&dalek, &r, message));
            assert!(!key.verify(LEDGER, message, &sig));
            if r[..31] == identity[..31] || r == p_plus_1 {
                assert!(batch_accepts(&key, message, &sig), "test premise for {r:x?}");
            }
            let good = SigningKey::from_seed(SEED_A, "").sign(LEDGER, b"honest");
            let checks = [
                SignatureCheck {
                    key: &key,
                    message: b"honest",
                    signature: good,
                },
                SignatureCheck {
                    key: &key,
                    message,
                    signature: sig,
                },
            ];
            assert_eq!(verify_all(LEDGER, &checks, 1), vec![1], "{r:x?}");
        }
    }

    #[test]
    fn key_with_torsion_component_is_verified_strictly() {
        // A' = A + T (T of order 2); signatures made honestly with a against A'
        // are valid for strict verification only when h is even.
        let dalek = ed25519_dalek::SigningKey::from_bytes(&SEED_B);
        let order_two = VerifyingKey::from_bytes(&SMALL_ORDER_Y[4]).unwrap().to_edwards();
        let twisted = (dalek.verifying_key().to_edwards() + order_two).compress().to_bytes();
        let key = public_from_bytes(twisted);
        assert!(!batch_safe_key(key.verifying_key()));

        let messages: Vec<Vec<u8>> = (0..64).map(|i| format!("row {i}").into_bytes()).collect();
        let signatures: Vec<[u8; 64]> = messages
            .iter()
            .map(|m| sign_raw_with_key_bytes(&dalek, &twisted, &signed_data(LEDGER, m)))
            .collect();
        let strictly_bad: Vec<usize> = (0..64).filter(|&i| !key.verify(LEDGER, &messages[i], &signatures[i])).collect();
        let diverging = (0..64)
            .filter(|i| strictly_bad.contains(i) && batch_accepts(&key, &messages[*i], &signatures[*i]))
            .count();
        assert!(!strictly_bad.is_empty() && strictly_bad.len() < 64, "test premise");
        assert!(diverging > 0, "test premise: batch alone would accept some");

        let checks: Vec<SignatureCheck<'_>> = messages
            .iter()
            .zip(&signatures)
            .map(|(message, signature)| SignatureCheck {
                key: &key,
                message,
                signature: *signature,
            })
            .collect();
        assert_eq!(verify_all(LEDGER, &checks, 2), strictly_bad);
    }

    /// Ed25519-signs `data` with the secret scalar of `dalek` but hashing
    /// `key_bytes` as the public key (to craft keys with a torsion component).
    fn sign_raw_with_key_bytes(dalek: &ed25519_dalek::SigningKey, key_bytes: &[u8; 32], data: &[u8]) -> [u8; 64] {
        let a = dalek.to_scalar();
        let (zero, one) = zero_and_one(a, a.invert());
        // Nonce r with R = r·B: the scalar and public key of a throwaway key.
        let mut nonce_seed = [0u8; 32];
        nonce_seed.copy_from_slice(&Sha512::digest(data)[..32]);
        let nonce = ed25519_dalek::SigningKey::from_bytes(&nonce_seed);
        let r_point = nonce.verifying_key().to_bytes();
        let mut hasher = Sha512::new();
        hasher.update(r_point);
        hasher.update(key_bytes);
        hasher.update(data);
        let h = wide_scalar(zero, one, &hasher.finalize());
        signature(r_point, (nonce.to_scalar() + h * a).to_bytes())
    }

    #[test]
    fn small_order_table_is_exactly_the_eight_torsion_points() {
        let mut points = HashSet::new();
        for y in SMALL_ORDER_Y {
            for sign in [0, 0x80] {
                let mut encoding = y;
                encoding[31] |= sign;
                if let Ok(point) = VerifyingKey::from_bytes(&encoding) {
                    assert!(point.is_weak(), "{encoding:x?}");
                    points.insert(point.to_edwards().compress().to_bytes());
                }
            }
        }
        assert_eq!(points.len(), 8);
        for encoding in points {
            assert!(!batch_safe_r(&signature(encoding, [0; 32])));
        }
    }

    #[test]
    fn canonical_y() {
        assert!(is_canonical_y(&BASEPOINT));
        assert!(is_canonical_y(&SMALL_ORDER_Y[4])); // p - 1
        assert!(!is_canonical_y(&FIELD_PRIME));
        let mut top = [0xff; 32];
        assert!(!is_canonical_y(&top));
        top[31] = 0x7e;
        assert!(is_canonical_y(&top));
        assert!(batch_safe_r(&signature(BASEPOINT, [0; 32])));
    }
}
