//! The SSHSIG format (OpenSSH `PROTOCOL.sshsig`), restricted to ed25519:
//! the signed-data blob, raw signature encoding, armoring and parsing, and
//! verification of SSH-signed git commits.

use base64ct::{Base64, Encoding};
use sha2::{Digest, Sha256, Sha512};

use super::keys::{BlobError, KeyCache, PublicKey, GIT_NAMESPACE, KEY_TYPE};
use super::wire::{printable, put_string, Reader};

/// The hash algorithm smartup uses inside SSHSIG signed data.
pub const HASH_ALGORITHM: &str = "sha512";

/// Six-byte preamble of both the signed data and the signature blob.
const MAGIC: &[u8] = b"SSHSIG";
/// The only SSHSIG version there is.
const VERSION: u32 = 1;
/// First line of an armored signature.
const BEGIN: &str = "-----BEGIN SSH SIGNATURE-----";
/// Last line of an armored signature.
const END: &str = "-----END SSH SIGNATURE-----";
/// Base64 characters per armored line, as `ssh-keygen` writes them.
const LINE_WIDTH: usize = 70;

/// The message hashes SSHSIG allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Hash {
    Sha256,
    Sha512,
}

impl Hash {
    /// The SSHSIG name of the hash.
    fn name(self) -> &'static str {
        match self {
            Hash::Sha256 => "sha256",
            Hash::Sha512 => HASH_ALGORITHM,
        }
    }

    /// Looks a hash up by its SSHSIG name.
    fn from_name(name: &[u8]) -> Option<Hash> {
        [Hash::Sha256, Hash::Sha512].into_iter().find(|hash| hash.name().as_bytes() == name)
    }

    /// Hashes `message`.
    fn digest(self, message: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha256 => Sha256::digest(message).to_vec(),
            Hash::Sha512 => Sha512::digest(message).to_vec(),
        }
    }
}

/// The SSHSIG blob ed25519 signs: magic, namespace, reserved, "sha512", SHA-512(message).
pub fn signed_data(namespace: &str, message: &[u8]) -> Vec<u8> {
    signed_data_with(Hash::Sha512, namespace, message)
}

/// The SSHSIG signed data for any allowed hash.
fn signed_data_with(hash: Hash, namespace: &str, message: &[u8]) -> Vec<u8> {
    let digest = hash.digest(message);
    let mut data = Vec::with_capacity(MAGIC.len() + 24 + namespace.len() + digest.len());
    data.extend_from_slice(MAGIC);
    put_string(&mut data, namespace.as_bytes());
    put_string(&mut data, b""); // reserved
    put_string(&mut data, hash.name().as_bytes());
    put_string(&mut data, &digest);
    data
}

/// Encodes a raw signature as standard padded base64 (88 characters).
pub fn encode_signature(signature: &[u8; 64]) -> String {
    Base64::encode_string(signature)
}

/// Decodes [`encode_signature`] output; `None` unless it is exactly the canonical padded
/// base64 of 64 bytes (88 characters, the unused low bits of the last one zero). A plain
/// table decoder: a signature is public, so the constant-time decoder the key files need
/// would only slow down checking every row of a ledger.
pub fn decode_signature(text: &str) -> Option<[u8; 64]> {
    let text: &[u8; 88] = text.as_bytes().try_into().ok()?;
    let value = |c: u8| u32::from(BASE64_VALUES[usize::from(c)]);
    // A character that is not base64 has the value 0xff: its high bits mark the whole text.
    let mut invalid = 0;
    let mut signature = [0u8; 64];
    for (group, out) in text[..84].chunks_exact(4).zip(signature.chunks_exact_mut(3)) {
        let values = group.iter().map(|&c| value(c));
        let bits = values.fold(0u32, |bits, v| {
            invalid |= v;
            bits << 6 | (v & 0x3f)
        });
        out.copy_from_slice(&bits.to_be_bytes()[1..]);
    }
    // The last byte: two characters (the second's low four bits unused, so zero) and "==".
    let (high, low) = (value(text[84]), value(text[85]));
    if (invalid | high | low) & 0xc0 != 0 || low & 0xf != 0 || &text[86..] != b"==" {
        return None;
    }
    signature[63] = (high << 2 | low >> 4) as u8;
    Some(signature)
}

/// Each base64 character's value, and 0xff for every byte that is not one.
const BASE64_VALUES: [u8; 256] = {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut table = [0xff; 256];
    let mut i = 0;
    while i < alphabet.len() {
        table[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// Builds the armored SSHSIG (with trailing newline) that `ssh-keygen -Y verify` accepts.
pub fn armor(public: &PublicKey, namespace: &str, signature: &[u8; 64]) -> String {
    let mut blob = Vec::with_capacity(200 + namespace.len());
    blob.extend_from_slice(MAGIC);
    blob.extend_from_slice(&VERSION.to_be_bytes());
    put_string(&mut blob, &public.blob());
    put_string(&mut blob, namespace.as_bytes());
    put_string(&mut blob, b""); // reserved
    put_string(&mut blob, HASH_ALGORITHM.as_bytes());
    put_string(&mut blob, &signature_blob(signature));
    wrap_armor(&Base64::encode_string(&blob))
}

/// `string("ssh-ed25519") || string(signature)`.
fn signature_blob(signature: &[u8; 64]) -> Vec<u8> {
    let mut blob = Vec::with_capacity(83);
    put_string(&mut blob, KEY_TYPE.as_bytes());
    put_string(&mut blob, signature);
    blob
}

/// Wraps base64 text between the armor lines, `LINE_WIDTH` characters a line.
fn wrap_armor(base64: &str) -> String {
    let mut out = String::with_capacity(base64.len() + base64.len() / LINE_WIDTH + 64);
    out.push_str(BEGIN);
    out.push('\n');
    for (i, c) in base64.chars().enumerate() {
        if i > 0 && i % LINE_WIDTH == 0 {
            out.push('\n');
        }
        out.push(c);
    }
    out.push('\n');
    out.push_str(END);
    out.push('\n');
    out
}

/// Why an armored SSH signature (e.g. a commit's `gpgsig`) was rejected.
#[derive(Debug, thiserror::Error)]
pub enum CommitSignatureError {
    /// Not a well-formed armored SSHSIG.
    #[error("malformed SSH signature: {0}")]
    Malformed(String),
    /// Signed for another purpose than git commits.
    #[error("commit signature namespace is {0:?}, expected \"git\"")]
    WrongNamespace(String),
    /// Made with a key (or signature) algorithm other than ed25519.
    #[error("commit signature uses {0}, not an ed25519 key")]
    NotEd25519(String),
    /// Well-formed, but the signature does not match the signed data.
    #[error("commit signature does not match the commit")]
    Invalid,
}

/// A parsed armored SSHSIG: who signed, in which namespace, and the raw signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArmoredSignature {
    /// The signer's public key, as embedded in the signature.
    pub key: PublicKey,
    /// The namespace the signature was made in.
    pub namespace: String,
    /// The raw ed25519 signature.
    pub signature: [u8; 64],
    hash: Hash,
}

impl ArmoredSignature {
    /// The message hash the signature uses: `"sha512"` or `"sha256"`.
    pub fn hash_algorithm(&self) -> &'static str {
        self.hash.name()
    }

    /// Strictly verifies the signature over `message` with the embedded key, namespace and hash.
    #[must_use]
    pub fn verify(&self, message: &[u8]) -> bool {
        self.key.verify_signed_data(&self.signed_data(message), &self.signature)
    }

    /// What the signature signs for `message`: the SSHSIG signed data with this signature's
    /// namespace and hash (to check it in a batch, [`crate::sign::verify_signed`]).
    pub fn signed_data(&self, message: &[u8]) -> Vec<u8> {
        signed_data_with(self.hash, &self.namespace, message)
    }
}

/// Parses an armored SSHSIG (as written by `ssh-keygen -Y sign` or stored in a git commit).
pub fn parse_armored(text: &str) -> Result<ArmoredSignature, CommitSignatureError> {
    parse_armored_with(text, &mut KeyCache::default())
}

/// Parses an armored SSHSIG, decoding its key through `keys` (for many signatures by few keys,
/// as a walk of history meets them).
pub fn parse_armored_with(text: &str, keys: &mut KeyCache) -> Result<ArmoredSignature, CommitSignatureError> {
    parse_blob(&dearmor(text)?, keys)
}

/// Verifies an SSH-signed git commit; returns the signer's key (the caller checks membership).
pub fn verify_git_commit(armored: &str, signed_data: &[u8]) -> Result<PublicKey, CommitSignatureError> {
    let parsed = parse_armored(armored)?;
    if parsed.namespace != GIT_NAMESPACE {
        return Err(CommitSignatureError::WrongNamespace(parsed.namespace));
    }
    if !parsed.verify(signed_data) {
        return Err(CommitSignatureError::Invalid);
    }
    Ok(parsed.key)
}

/// Shorthand for a `Malformed` error.
fn malformed(reason: &str) -> CommitSignatureError {
    CommitSignatureError::Malformed(reason.to_string())
}

/// Strips the armor lines and whitespace (any line width, CRLF ok) and decodes the base64.
fn dearmor(text: &str) -> Result<Vec<u8>, CommitSignatureError> {
    let body = text
        .trim()
        .strip_prefix(BEGIN)
        .and_then(|rest| rest.strip_suffix(END))
        .ok_or_else(|| malformed("missing BEGIN/END SSH SIGNATURE lines"))?;
    let base64: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    Base64::decode_vec(&base64).map_err(|_| malformed("invalid base64"))
}

/// Parses the binary SSHSIG blob (`PROTOCOL.sshsig` §2), rejecting anything but ed25519.
fn parse_blob(blob: &[u8], keys: &mut KeyCache) -> Result<ArmoredSignature, CommitSignatureError> {
    let truncated = || malformed("truncated signature");
    let mut reader = Reader::new(blob);
    if reader.take(MAGIC.len()) != Some(MAGIC) {
        return Err(malformed("missing SSHSIG preamble"));
    }
    let version = reader.u32().ok_or_else(truncated)?;
    if version != VERSION {
        return Err(CommitSignatureError::Malformed(format!("unsupported SSHSIG version {version}")));
    }
    let key = keys.key_of_blob(reader.string().ok_or_else(truncated)?).map_err(|e| match e {
        BlobError::OtherAlgorithm(name) => CommitSignatureError::NotEd25519(name),
        BlobError::Malformed(reason) => malformed(reason),
    })?;
    let namespace = std::str::from_utf8(reader.string().ok_or_else(truncated)?)
        .map_err(|_| malformed("namespace is not UTF-8"))?
        .to_string();
    let _reserved = reader.string().ok_or_else(truncated)?;
    let hash_name = reader.string().ok_or_else(truncated)?;
    let hash = Hash::from_name(hash_name)
        .ok_or_else(|| CommitSignatureError::Malformed(format!("unsupported hash {:?}", printable(hash_name))))?;
    let signature = parse_signature_blob(reader.string().ok_or_else(truncated)?)?;
    if !reader.is_empty() {
        return Err(malformed("trailing bytes after the signature"));
    }
    Ok(ArmoredSignature {
        key,
        namespace,
        signature,
        hash,
    })
}

/// Parses `string("ssh-ed25519") || string(64 bytes)`.
fn parse_signature_blob(blob: &[u8]) -> Result<[u8; 64], CommitSignatureError> {
    let truncated = || malformed("truncated signature blob");
    let mut reader = Reader::new(blob);
    let kind = reader.string().ok_or_else(truncated)?;
    if kind != KEY_TYPE.as_bytes() {
        return Err(CommitSignatureError::NotEd25519(printable(kind)));
    }
    let signature = reader.string().ok_or_else(truncated)?;
    if !reader.is_empty() {
        return Err(malformed("trailing bytes after the ed25519 signature"));
    }
    signature.try_into().map_err(|_| malformed("an ed25519 signature must be 64 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sign::test_support::{git, keygen, run_ok, ssh_keygen_verify, status_ok, SEED_A, SEED_B};
    use crate::sign::SigningKey;
    use std::fs;
    use std::path::Path;

    const LEDGER: &str = "smartup-ledger";

    #[test]
    fn signed_data_matches_ssh_key_crate() {
        for (namespace, message) in [(LEDGER, &b"row"[..]), ("git", b""), ("x", &[0u8; 1000][..])] {
            let theirs = ssh_key::SshSig::signed_data(namespace, ssh_key::HashAlg::Sha512, message);
            assert_eq!(signed_data(namespace, message), theirs.unwrap());
            let theirs = ssh_key::SshSig::signed_data(namespace, ssh_key::HashAlg::Sha256, message);
            assert_eq!(signed_data_with(Hash::Sha256, namespace, message), theirs.unwrap());
        }
    }

    #[test]
    fn armor_matches_ssh_key_crate() {
        let key = SigningKey::from_seed(SEED_A, "");
        let signature = key.sign(LEDGER, b"row");
        let ours = armor(key.public(), LEDGER, &signature);
        let theirs = ssh_key::SshSig::from_pem(&ours).unwrap();
        assert_eq!(theirs.namespace(), LEDGER);
        assert_eq!(theirs.signature_bytes(), &signature[..]);
        assert_eq!(theirs.to_pem(ssh_key::LineEnding::LF).unwrap(), ours);
    }

    #[test]
    fn signature_text_round_trip() {
        let key = SigningKey::from_seed(SEED_A, "");
        let signature = key.sign(LEDGER, b"row");
        let text = encode_signature(&signature);
        assert_eq!(text.len(), 88);
        assert_eq!(decode_signature(&text), Some(signature));
        assert_eq!(decode_signature(&Base64::encode_string(&[1u8; 63])), None);
        assert_eq!(decode_signature(&Base64::encode_string(&[1u8; 65])), None);
        assert_eq!(decode_signature(""), None);
        assert_eq!(decode_signature(&text.replace('=', "")), None);
        assert_eq!(decode_signature(&format!(" {text}")), None);
        assert_eq!(decode_signature(&format!("!{}", &text[1..])), None);
    }

    #[test]
    fn signature_decoding_agrees_with_the_strict_decoder() {
        // Every single-character change of real signatures' text (and a few cut or padded
        // forms) decodes exactly when base64ct's strict decoder decodes it, to the same bytes.
        let key = SigningKey::from_seed(SEED_A, "");
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ .";
        let strict = |text: &str| {
            let mut out = [0u8; 64];
            let decoded = Base64::decode(text, &mut out).ok().map(|d| d.len());
            (decoded == Some(64)).then_some(out)
        };
        let mut accepted = 0;
        for n in 0..4u8 {
            let text = encode_signature(&key.sign(LEDGER, &[n]));
            for position in 0..text.len() {
                for &c in alphabet {
                    let mut bytes = text.clone().into_bytes();
                    bytes[position] = c;
                    let changed = String::from_utf8(bytes).unwrap();
                    assert_eq!(decode_signature(&changed), strict(&changed), "{changed}");
                    accepted += usize::from(decode_signature(&changed).is_some());
                }
            }
            for cut in [&text[..87], &text[..86], &format!("{text}="), &format!("{}A==", &text[..85])] {
                assert_eq!(decode_signature(cut), strict(cut), "{cut}");
            }
        }
        assert!(accepted > 4 * 84 * 60, "most changes of the data characters decode: {accepted}");
    }

    #[test]
    fn ssh_keygen_verifies_our_signatures() {
        let dir = tempfile::tempdir().unwrap();
        let key = SigningKey::from_seed(SEED_A, "");
        let message = b"2024-05-01,alice,bob,transfer,3\n";
        let signature = key.sign(LEDGER, message);
        assert!(ssh_keygen_verify(dir.path(), key.public(), LEDGER, message, &signature));

        let mut changed = message.to_vec();
        changed[5] ^= 1;
        assert!(!ssh_keygen_verify(dir.path(), key.public(), LEDGER, &changed, &signature));
        assert!(!ssh_keygen_verify(dir.path(), key.public(), "git", message, &signature));
        let other = key.sign("git", message);
        assert!(!ssh_keygen_verify(dir.path(), key.public(), LEDGER, message, &other));
    }

    /// Signs `message` with `ssh-keygen -Y sign` and returns the armored signature.
    fn ssh_keygen_sign(dir: &Path, key: &Path, namespace: &str, extra: &[&str], message: &[u8]) -> String {
        let message_path = dir.join("message");
        fs::write(&message_path, message).unwrap();
        run_ok(
            keygen()
                .args(["-Y", "sign", "-n", namespace, "-f"])
                .arg(key)
                .args(extra)
                .arg(&message_path),
        );
        fs::read_to_string(dir.join("message.sig")).unwrap()
    }

    /// Generates an unencrypted key with ssh-keygen and returns its parsed public key.
    fn ssh_keygen_key(path: &Path, kind: &str) -> String {
        run_ok(keygen().args(["-t", kind, "-N", "", "-f"]).arg(path));
        fs::read_to_string(path.with_extension("pub")).unwrap()
    }

    #[test]
    fn we_verify_ssh_keygen_signatures() {
        let dir = tempfile::tempdir().unwrap();
        let key_path = dir.path().join("k");
        let public = PublicKey::parse_openssh(&ssh_keygen_key(&key_path, "ed25519")).unwrap();
        let message = b"row signed by openssh";
        let armored = ssh_keygen_sign(dir.path(), &key_path, LEDGER, &[], message);

        let parsed = parse_armored(&armored).unwrap();
        assert_eq!(parsed.key, public);
        assert_eq!(parsed.namespace, LEDGER);
        assert_eq!(parsed.hash_algorithm(), HASH_ALGORITHM);
        assert!(public.verify(LEDGER, message, &parsed.signature));
        assert!(parsed.verify(message));
        assert!(!public.verify(LEDGER, b"row signed by openssH", &parsed.signature));
        assert!(!public.verify("git", message, &parsed.signature));
        // Our own armoring of the same signature is byte-identical to ssh-keygen's.
        assert_eq!(armor(&public, LEDGER, &parsed.signature), armored);
        // CRLF line endings and other line widths are tolerated.
        let crlf = armored.replace('\n', "\r\n");
        assert_eq!(parse_armored(&crlf).unwrap(), parsed);
    }

    #[test]
    fn sha256_git_signature_from_ssh_keygen() {
        let dir = tempfile::tempdir().unwrap();
        let key_path = dir.path().join("k");
        let public = PublicKey::parse_openssh(&ssh_keygen_key(&key_path, "ed25519")).unwrap();
        let armored = ssh_keygen_sign(dir.path(), &key_path, "git", &["-O", "hashalg=sha256"], b"data");
        let parsed = parse_armored(&armored).unwrap();
        assert_eq!(parsed.hash_algorithm(), "sha256");
        assert_eq!(verify_git_commit(&armored, b"data").unwrap(), public);
        assert!(matches!(verify_git_commit(&armored, b"date"), Err(CommitSignatureError::Invalid)));
        // Raw verification assumes sha512, so it must not accept a sha256 signature.
        assert!(!public.verify("git", b"data", &parsed.signature));
    }

    #[test]
    fn rsa_signature_is_not_ed25519() {
        let dir = tempfile::tempdir().unwrap();
        let key_path = dir.path().join("rsa");
        run_ok(keygen().args(["-t", "rsa", "-b", "2048", "-N", "", "-f"]).arg(&key_path));
        let armored = ssh_keygen_sign(dir.path(), &key_path, "git", &[], b"data");
        let err = verify_git_commit(&armored, b"data").unwrap_err();
        assert!(matches!(&err, CommitSignatureError::NotEd25519(alg) if alg == "ssh-rsa"), "{err}");
    }

    #[test]
    fn malformed_armor_is_rejected() {
        let key = SigningKey::from_seed(SEED_A, "");
        let good = armor(key.public(), "git", &key.sign("git", b"m"));
        let base64: String = good.lines().filter(|l| !l.starts_with("-----")).collect();
        let blob = Base64::decode_vec(&base64).unwrap();
        let rearmor = |b: &[u8]| wrap_armor(&Base64::encode_string(b));
        let mut bad_magic = blob.clone();
        bad_magic[0] = b'X';
        let mut bad_version = blob.clone();
        bad_version[9] = 2;
        let mut trailing = blob.clone();
        trailing.push(0);
        let cases = [
            String::new(),
            "garbage".to_string(),
            good.replace("BEGIN SSH SIGNATURE", "BEGIN PGP SIGNATURE"),
            good.lines().take(3).collect::<Vec<_>>().join("\n"),
            good.replacen('\n', "\n*", 1),
            rearmor(&blob[..blob.len() - 1]),
            rearmor(&blob[..20]),
            rearmor(&bad_magic),
            rearmor(&bad_version),
            rearmor(&trailing),
        ];
        for text in cases {
            let result = verify_git_commit(&text, b"m");
            assert!(matches!(result, Err(CommitSignatureError::Malformed(_))), "{text:?}: {result:?}");
        }
        assert!(verify_git_commit(&good, b"m").is_ok());
        let ledger = armor(key.public(), LEDGER, &key.sign(LEDGER, b"m"));
        let err = verify_git_commit(&ledger, b"m").unwrap_err();
        assert!(matches!(&err, CommitSignatureError::WrongNamespace(ns) if ns == LEDGER), "{err}");
    }

    /// A repository with one file committed (unsigned parent-less tree) ready for signing.
    fn commit_buffer(repo: &git2::Repository, message: &str) -> String {
        let tree_id = {
            let mut index = repo.index().unwrap();
            let blob = repo.blob(b"ledger row\n").unwrap();
            let entry = git2::IndexEntry {
                ctime: git2::IndexTime::new(0, 0),
                mtime: git2::IndexTime::new(0, 0),
                dev: 0,
                ino: 0,
                mode: 0o100644,
                uid: 0,
                gid: 0,
                file_size: 11,
                id: blob,
                flags: 0,
                flags_extended: 0,
                path: b"ledger.csv".to_vec(),
            };
            index.add(&entry).unwrap();
            index.write_tree().unwrap()
        };
        let tree = repo.find_tree(tree_id).unwrap();
        let who = git2::Signature::new("Alice", "alice@example.org", &git2::Time::new(1_700_000_000, 0)).unwrap();
        let buffer = repo.commit_create_buffer(&who, &who, message, &tree, &[]).unwrap();
        String::from_utf8(buffer.to_vec()).unwrap()
    }

    /// Writes a signed commit, points `refs/heads/main` at it and returns its id.
    fn write_signed_commit(repo: &git2::Repository, buffer: &str, signature: &str) -> git2::Oid {
        let oid = repo.commit_signed(buffer, signature, None).unwrap();
        repo.reference("refs/heads/main", oid, true, "signed commit").unwrap();
        oid
    }

    /// Runs `git verify-commit` with only `signers` allowed.
    fn git_verify_commit(repo_dir: &Path, signers: &[(&str, &PublicKey)], oid: git2::Oid) -> bool {
        let allowed = repo_dir.join("allowed_signers");
        let lines: String = signers
            .iter()
            .map(|(name, key)| format!("{name} namespaces=\"git\" {}\n", key.to_openssh()))
            .collect();
        fs::write(&allowed, lines).unwrap();
        let setting = format!("gpg.ssh.allowedSignersFile={}", allowed.display());
        status_ok(git(repo_dir).args(["-c", &setting, "verify-commit"]).arg(oid.to_string()))
    }

    #[test]
    fn git_commit_signing_interop() {
        let dir = tempfile::tempdir().unwrap();
        let repo = git2::Repository::init(dir.path()).unwrap();
        let alice = SigningKey::from_seed(SEED_A, "alice");
        let buffer = commit_buffer(&repo, "first row\n");
        let signature = alice.sign_git_commit(buffer.as_bytes());
        assert!(signature.starts_with("-----BEGIN SSH SIGNATURE-----\n"));
        assert!(signature.ends_with("-----END SSH SIGNATURE-----"));
        let oid = write_signed_commit(&repo, &buffer, &signature);

        assert!(git_verify_commit(dir.path(), &[("alice", alice.public())], oid));
        let (stored, signed) = repo.extract_signature(&oid, None).unwrap();
        let stored = stored.as_str().unwrap();
        assert_eq!(verify_git_commit(stored, &signed).unwrap(), *alice.public());
        assert_eq!(&*signed, buffer.as_bytes());
        let mut tampered = signed.to_vec();
        tampered[0] ^= 1;
        assert!(matches!(verify_git_commit(stored, &tampered), Err(CommitSignatureError::Invalid)));
    }

    #[test]
    fn git_commit_signed_by_another_key() {
        let dir = tempfile::tempdir().unwrap();
        let repo = git2::Repository::init(dir.path()).unwrap();
        let alice = SigningKey::from_seed(SEED_A, "alice");
        let mallory = SigningKey::from_seed(SEED_B, "mallory");

        // Mallory signs honestly: the signature is valid, but names Mallory's key.
        let buffer = commit_buffer(&repo, "mallory's row\n");
        let oid = write_signed_commit(&repo, &buffer, &mallory.sign_git_commit(buffer.as_bytes()));
        assert!(!git_verify_commit(dir.path(), &[("alice", alice.public())], oid));
        let (stored, signed) = repo.extract_signature(&oid, None).unwrap();
        let signer = verify_git_commit(stored.as_str().unwrap(), &signed).unwrap();
        assert_eq!(signer, *mallory.public());
        assert_ne!(signer, *alice.public());

        // Mallory claims to be Alice: Alice's key, Mallory's signature.
        let buffer = commit_buffer(&repo, "forged row\n");
        let forged = armor(alice.public(), "git", &mallory.sign("git", buffer.as_bytes()));
        let oid = write_signed_commit(&repo, &buffer, forged.trim_end());
        assert!(!git_verify_commit(dir.path(), &[("alice", alice.public())], oid));
        let (stored, signed) = repo.extract_signature(&oid, None).unwrap();
        let result = verify_git_commit(stored.as_str().unwrap(), &signed);
        assert!(matches!(result, Err(CommitSignatureError::Invalid)), "{result:?}");
    }
}
