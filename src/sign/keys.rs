//! Ed25519 keys in OpenSSH formats: loading (optionally passphrase-protected)
//! private keys, generating and writing new ones, parsing public key lines,
//! fingerprints, and raw SSHSIG signing/verification.

use std::ffi::OsString;
use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use base64ct::{Base64, Base64Unpadded, Encoding};
use ed25519_dalek::{Signature, Signer, VerifyingKey};
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use ssh_key::private::{Ed25519Keypair, PrivateKey};
use ssh_key::{Algorithm, LineEnding};

use super::sshsig::{armor, signed_data};
use super::wire::{printable, put_string, Reader};

/// The OpenSSH name of the only key type smartup signs with.
pub(super) const KEY_TYPE: &str = "ssh-ed25519";

/// Namespace git uses for SSH commit signatures.
pub(super) const GIT_NAMESPACE: &str = "git";

/// Why a key could not be loaded, parsed or written.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The private key file could not be read.
    #[error("cannot read key file {path}: {source}")]
    Read {
        /// The file that was read.
        path: PathBuf,
        /// The underlying I/O error.
        source: io::Error,
    },
    /// The file is not a well-formed OpenSSH private key.
    #[error("{path} is not an OpenSSH private key: {reason}")]
    Malformed {
        /// The offending file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The file holds a key of another algorithm (RSA, ECDSA, ...).
    #[error("{path} is an {algorithm} key; smartup signs with ed25519 keys only")]
    NotEd25519 {
        /// The offending file.
        path: PathBuf,
        /// The OpenSSH algorithm name found, e.g. `ssh-rsa`.
        algorithm: String,
    },
    /// The key is encrypted and no passphrase was given.
    #[error("{path} is protected by a passphrase; give it on the terminal or in SMARTUP_KEY_PASSPHRASE")]
    PassphraseNeeded {
        /// The encrypted key file.
        path: PathBuf,
    },
    /// The key is encrypted and the given passphrase does not decrypt it.
    #[error("wrong passphrase for {path}")]
    WrongPassphrase {
        /// The encrypted key file.
        path: PathBuf,
    },
    /// A public key line is not a valid `ssh-ed25519 AAAA...` key.
    #[error("not an ssh-ed25519 public key: {0}")]
    BadPublicKey(String),
    /// A key file could not be written.
    #[error("cannot write key file {path}: {source}")]
    Write {
        /// The file being written.
        path: PathBuf,
        /// The underlying I/O error.
        source: io::Error,
    },
}

/// An unlocked ed25519 signing key together with its OpenSSH representation.
pub struct SigningKey {
    ssh: PrivateKey,
    dalek: ed25519_dalek::SigningKey,
    public: PublicKey,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print secret material.
        f.debug_struct("SigningKey")
            .field("public", &self.public.to_openssh())
            .field("comment", &self.ssh.comment())
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Loads an OpenSSH ed25519 private key, decrypting it with `passphrase` if it is encrypted.
    pub fn load(path: &Path, passphrase: Option<&str>) -> Result<SigningKey, KeyError> {
        let key = read_ed25519_private_key(path)?;
        let key = decrypt_if_needed(path, key, passphrase)?;
        Self::from_private_key(path, key)
    }

    /// Tells whether the ed25519 key at `path` needs a passphrase (errors as in `load`).
    pub fn is_encrypted(path: &Path) -> Result<bool, KeyError> {
        Ok(read_ed25519_private_key(path)?.is_encrypted())
    }

    /// Generates a fresh random ed25519 key from the operating system's RNG.
    pub fn generate(comment: &str) -> SigningKey {
        Self::from_dalek(ed25519_dalek::SigningKey::generate(&mut OsRng), comment)
    }

    /// Derives a key deterministically from a 32-byte seed (tests, benchmarks, and the
    /// invitation key a one-time code derives).
    pub fn from_seed(seed: [u8; 32], comment: &str) -> SigningKey {
        Self::from_dalek(ed25519_dalek::SigningKey::from_bytes(&seed), comment)
    }

    /// Writes the unencrypted private key (mode 0600) and `<private_path>.pub`, each atomically.
    pub fn write_openssh(&self, private_path: &Path) -> Result<(), KeyError> {
        let pem = self.ssh.to_openssh(LineEnding::LF).map_err(|e| KeyError::Write {
            path: private_path.to_path_buf(),
            source: io::Error::other(e.to_string()),
        })?;
        write_atomically(private_path, pem.as_bytes(), 0o600)?;
        write_atomically(&public_path(private_path), self.public_line().as_bytes(), 0o644)
    }

    /// The public half of this key.
    pub fn public(&self) -> &PublicKey {
        &self.public
    }

    /// Signs `message` SSHSIG-style in `namespace` and returns the raw 64-byte ed25519 signature.
    pub fn sign(&self, namespace: &str, message: &[u8]) -> [u8; 64] {
        self.dalek.sign(&signed_data(namespace, message)).to_bytes()
    }

    /// Signs a commit buffer for git: armored SSHSIG, namespace `git`, sha512, no trailing newline.
    pub fn sign_git_commit(&self, commit_buffer: &[u8]) -> String {
        let signature = self.sign(GIT_NAMESPACE, commit_buffer);
        let mut armored = armor(&self.public, GIT_NAMESPACE, &signature);
        armored.truncate(armored.trim_end().len());
        armored
    }

    /// Builds a key from a decrypted OpenSSH private key, checking that both halves agree.
    fn from_private_key(path: &Path, ssh: PrivateKey) -> Result<SigningKey, KeyError> {
        let keypair = ssh.key_data().ed25519().ok_or_else(|| not_ed25519(path, &ssh))?;
        let dalek = ed25519_dalek::SigningKey::from(&keypair.private);
        if dalek.verifying_key().as_bytes() != keypair.public.as_ref() {
            return Err(malformed(path, "the public key does not match the private key"));
        }
        let public = PublicKey::from_verifying_key(dalek.verifying_key());
        Ok(SigningKey { ssh, dalek, public })
    }

    /// Wraps a dalek key into the OpenSSH representation with `comment`.
    fn from_dalek(dalek: ed25519_dalek::SigningKey, comment: &str) -> SigningKey {
        let mut ssh = PrivateKey::from(Ed25519Keypair::from(&dalek));
        ssh.set_comment(single_line(comment));
        let public = PublicKey::from_verifying_key(dalek.verifying_key());
        SigningKey { ssh, dalek, public }
    }

    /// The `.pub` file contents: `ssh-ed25519 AAAA... comment\n`.
    fn public_line(&self) -> String {
        match self.ssh.comment() {
            "" => format!("{}\n", self.public.to_openssh()),
            comment => format!("{} {comment}\n", self.public.to_openssh()),
        }
    }
}

/// Reads and parses an OpenSSH private key, insisting on ed25519 (still possibly encrypted).
fn read_ed25519_private_key(path: &Path) -> Result<PrivateKey, KeyError> {
    let text = fs::read(path).map_err(|source| KeyError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let key = PrivateKey::from_openssh(&text)
        .or_else(|e| rewrapped(&text).and_then(|text| PrivateKey::from_openssh(text).ok()).ok_or(e))
        .map_err(|e| malformed(path, &e.to_string()))?;
    // The public half and algorithm are stored in clear even in encrypted keys.
    if key.algorithm() != Algorithm::Ed25519 {
        return Err(not_ed25519(path, &key));
    }
    Ok(key)
}

/// Columns of base64 per line in the key files OpenSSH writes.
const OPENSSH_PEM_COLUMNS: usize = 70;

/// The same PEM text with its base64 wrapped at 70 columns and LF line ends, as OpenSSH
/// writes it: other tools (Python's `cryptography` wraps at 76) write files `ssh-keygen`
/// reads but the strict PEM reader refuses. `None` when the text is not PEM at all.
fn rewrapped(text: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(text).ok()?;
    let mut lines = text.lines().map(str::trim).filter(|line| !line.is_empty());
    let begin = lines.next().filter(|line| line.starts_with("-----BEGIN "))?;
    let mut body = String::new();
    let end = loop {
        let line = lines.next()?;
        if line.starts_with("-----END ") {
            break line;
        }
        body.push_str(line);
    };
    let mut out = format!("{begin}\n");
    for chunk in body.as_bytes().chunks(OPENSSH_PEM_COLUMNS) {
        out.push_str(std::str::from_utf8(chunk).ok()?);
        out.push('\n');
    }
    out.push_str(end);
    out.push('\n');
    Some(out.into_bytes())
}

/// Decrypts `key` if it is encrypted, mapping failures to passphrase errors.
fn decrypt_if_needed(path: &Path, key: PrivateKey, passphrase: Option<&str>) -> Result<PrivateKey, KeyError> {
    if !key.is_encrypted() {
        return Ok(key);
    }
    let passphrase = passphrase.ok_or_else(|| KeyError::PassphraseNeeded { path: path.to_path_buf() })?;
    // A wrong passphrase shows up as a check-integer mismatch (or, very
    // rarely, as garbage after it); either way the passphrase is to blame.
    key.decrypt(passphrase)
        .map_err(|_| KeyError::WrongPassphrase { path: path.to_path_buf() })
}

/// The `NotEd25519` error for `key` read from `path`.
fn not_ed25519(path: &Path, key: &PrivateKey) -> KeyError {
    KeyError::NotEd25519 {
        path: path.to_path_buf(),
        algorithm: key.algorithm().as_str().to_string(),
    }
}

/// The `Malformed` error for `path`.
fn malformed(path: &Path, reason: &str) -> KeyError {
    KeyError::Malformed {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// Replaces line breaks so a comment cannot break the one-line `.pub` format.
fn single_line(comment: &str) -> String {
    comment.replace(['\r', '\n'], " ")
}

/// `<private_path>.pub`.
fn public_path(private_path: &Path) -> PathBuf {
    let mut name = OsString::from(private_path.as_os_str());
    name.push(".pub");
    PathBuf::from(name)
}

/// Writes `bytes` to `path` through a temporary file in the same directory
/// (created with `mode` on Unix, synced, then renamed over `path`).
fn write_atomically(path: &Path, bytes: &[u8], mode: u32) -> Result<(), KeyError> {
    let to_error = |source| KeyError::Write {
        path: path.to_path_buf(),
        source,
    };
    let temp = temp_path(path).map_err(to_error)?;
    let result = write_new_file(&temp, bytes, mode).and_then(|()| fs::rename(&temp, path));
    if result.is_err() {
        // Best effort: the temp file may not even exist.
        let _ = fs::remove_file(&temp);
    }
    result.map_err(to_error)
}

/// A fresh, unpredictable sibling name for a temporary copy of `path`.
fn temp_path(path: &Path) -> io::Result<PathBuf> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"))?;
    let mut temp_name = OsString::from(".");
    temp_name.push(name);
    temp_name.push(format!(".tmp-{}-{:016x}", std::process::id(), OsRng.next_u64()));
    Ok(path.with_file_name(temp_name))
}

/// Creates `path` (which must not exist) with `mode`, writes `bytes` and syncs.
fn write_new_file(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// An ed25519 public key (as found in `ssh-ed25519 AAAA...` lines).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PublicKey {
    key: VerifyingKey,
    bytes: [u8; 32],
}

impl PublicKey {
    /// Parses `ssh-ed25519 AAAA... [comment]` (surrounding whitespace allowed).
    pub fn parse_openssh(line: &str) -> Result<PublicKey, KeyError> {
        let mut fields = line.split_whitespace();
        let (Some(kind), Some(data)) = (fields.next(), fields.next()) else {
            return Err(KeyError::BadPublicKey("expected \"ssh-ed25519 AAAA... [comment]\"".to_string()));
        };
        if kind != KEY_TYPE {
            let kind = printable(kind.as_bytes());
            return Err(KeyError::BadPublicKey(format!("key type is {kind:?}")));
        }
        let blob = Base64::decode_vec(data).map_err(|_| KeyError::BadPublicKey("key data is not valid base64".to_string()))?;
        Self::from_blob(&blob).map_err(|e| KeyError::BadPublicKey(e.to_string()))
    }

    /// Formats the key as `ssh-ed25519 AAAA...` (no comment).
    pub fn to_openssh(&self) -> String {
        format!("{KEY_TYPE} {}", Base64::encode_string(&self.blob()))
    }

    /// The `SHA256:...` fingerprint exactly as `ssh-keygen -lf` prints it.
    pub fn fingerprint(&self) -> String {
        let digest = Sha256::digest(self.blob());
        format!("SHA256:{}", Base64Unpadded::encode_string(&digest))
    }

    /// Strictly verifies a raw [`SigningKey::sign`] signature over `message` in `namespace`.
    #[must_use]
    pub fn verify(&self, namespace: &str, message: &[u8], signature: &[u8; 64]) -> bool {
        self.verify_signed_data(&signed_data(namespace, message), signature)
    }

    /// Strict ed25519 verification of `signature` over already-built SSHSIG signed data.
    pub(super) fn verify_signed_data(&self, data: &[u8], signature: &[u8; 64]) -> bool {
        self.key.verify_strict(data, &Signature::from_bytes(signature)).is_ok()
    }

    /// The dalek verifying key (for batch verification).
    pub(super) fn verifying_key(&self) -> &VerifyingKey {
        &self.key
    }

    /// The raw 32-byte key.
    pub(super) fn as_bytes(&self) -> &[u8; 32] {
        &self.bytes
    }

    /// The SSH public key blob: `string("ssh-ed25519") || string(key)`.
    pub(super) fn blob(&self) -> Vec<u8> {
        let mut blob = Vec::with_capacity(51);
        put_string(&mut blob, KEY_TYPE.as_bytes());
        put_string(&mut blob, &self.bytes);
        blob
    }

    /// Parses an SSH public key blob, telling other algorithms apart from garbage.
    pub(super) fn from_blob(blob: &[u8]) -> Result<PublicKey, BlobError> {
        Self::from_bytes(&blob_key_bytes(blob)?)
    }

    /// The key whose 32-byte encoding is `bytes`, if it is a point on the curve.
    fn from_bytes(bytes: &[u8; 32]) -> Result<PublicKey, BlobError> {
        let key = VerifyingKey::from_bytes(bytes).map_err(|_| BlobError::Malformed("the key is not a point on the curve"))?;
        Ok(Self::from_verifying_key(key))
    }

    /// Wraps a dalek verifying key.
    fn from_verifying_key(key: VerifyingKey) -> PublicKey {
        PublicKey {
            bytes: key.to_bytes(),
            key,
        }
    }
}

/// The 32 key bytes of an SSH ed25519 public key blob, telling other algorithms apart from
/// garbage.
fn blob_key_bytes(blob: &[u8]) -> Result<[u8; 32], BlobError> {
    let mut reader = Reader::new(blob);
    let kind = reader.string().ok_or(BlobError::Malformed("truncated key blob"))?;
    if kind != KEY_TYPE.as_bytes() {
        return Err(BlobError::OtherAlgorithm(printable(kind)));
    }
    let key = reader.string().ok_or(BlobError::Malformed("truncated key blob"))?;
    if !reader.is_empty() {
        return Err(BlobError::Malformed("trailing bytes after the key"));
    }
    key.try_into().map_err(|_| BlobError::Malformed("an ed25519 key must be 32 bytes"))
}

/// Keys decoded from SSH key blobs, kept by their bytes: decoding a key (a point
/// decompression) costs about as much as checking a signature in a batch, and a long history
/// is signed with the same few keys again and again.
#[derive(Default)]
pub struct KeyCache {
    keys: std::collections::HashMap<[u8; 32], PublicKey>,
}

impl KeyCache {
    /// Keys kept at most: a history signed with ever new keys costs a decode each, never
    /// memory without bound.
    const KEEP: usize = 4096;

    /// The key of an SSH public key blob, decoded once per distinct key.
    pub(super) fn key_of_blob(&mut self, blob: &[u8]) -> Result<PublicKey, BlobError> {
        let bytes = blob_key_bytes(blob)?;
        if let Some(key) = self.keys.get(&bytes) {
            return Ok(key.clone());
        }
        let key = PublicKey::from_bytes(&bytes)?;
        if self.keys.len() >= Self::KEEP {
            self.keys.clear();
        }
        self.keys.insert(bytes, key.clone());
        Ok(key)
    }
}

/// Why an SSH public key blob was rejected.
#[derive(Debug, thiserror::Error)]
pub(super) enum BlobError {
    /// A well-formed blob for another algorithm (the name is given).
    #[error("key type is {0:?}")]
    OtherAlgorithm(String),
    /// Not a valid ed25519 key blob.
    #[error("{0}")]
    Malformed(&'static str),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sign::test_support::{keygen, run_ok, ssh_keygen_verify, SEED_A};

    #[test]
    fn the_key_cache_decodes_as_a_blob_decodes_and_stays_bounded() {
        let mut cache = KeyCache::default();
        for round in 0..2 {
            for i in 0..(KeyCache::KEEP + 3) as u32 {
                let mut seed = [0u8; 32];
                seed[..4].copy_from_slice(&i.to_le_bytes());
                let key = SigningKey::from_seed(seed, "k").public().clone();
                assert_eq!(cache.key_of_blob(&key.blob()).unwrap(), key, "round {round}, key {i}");
                assert!(cache.keys.len() <= KeyCache::KEEP);
            }
        }
        // The first y that is not on the curve: refused with the same words.
        let blob_of = |y: u8| {
            let mut blob = SigningKey::from_seed(SEED_A, "a").public().blob();
            let at = blob.len() - 32;
            blob[at..].copy_from_slice(&[0; 32]);
            blob[at] = y;
            blob
        };
        let not_a_point = (2..=255).map(blob_of).find(|b| PublicKey::from_blob(b).is_err()).unwrap();
        let error = cache.key_of_blob(&not_a_point).unwrap_err();
        assert_eq!(error.to_string(), "the key is not a point on the curve");
        assert_eq!(cache.key_of_blob(b"junk").unwrap_err().to_string(), "truncated key blob");
    }

    #[test]
    fn fingerprint_matches_ssh_keygen() {
        let dir = tempfile::tempdir().unwrap();
        let key = SigningKey::from_seed(SEED_A, "alice@example");
        let path = dir.path().join("id_ed25519");
        key.write_openssh(&path).unwrap();
        let out = run_ok(keygen().arg("-lf").arg(public_path(&path)));
        let printed = out.split_whitespace().nth(1).unwrap();
        assert_eq!(key.public().fingerprint(), printed);
    }

    #[test]
    fn written_key_files_are_valid_for_openssh() {
        let dir = tempfile::tempdir().unwrap();
        let key = SigningKey::from_seed(SEED_A, "alice@example");
        let path = dir.path().join("id_ed25519");
        key.write_openssh(&path).unwrap();
        // Overwriting must work too (rename over an existing file).
        key.write_openssh(&path).unwrap();

        let pub_text = fs::read_to_string(public_path(&path)).unwrap();
        assert_eq!(pub_text, format!("{} alice@example\n", key.public().to_openssh()));
        let derived = run_ok(keygen().arg("-y").arg("-f").arg(&path));
        assert_eq!(derived.split_whitespace().nth(1), pub_text.split_whitespace().nth(1));

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let leftovers = fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 2, "temporary files left behind");

        let loaded = SigningKey::load(&path, None).unwrap();
        assert_eq!(loaded.public(), key.public());
        assert!(!SigningKey::is_encrypted(&path).unwrap());
    }

    #[test]
    fn write_into_missing_directory_fails() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing").join("key");
        let err = SigningKey::from_seed(SEED_A, "").write_openssh(&path).unwrap_err();
        assert!(matches!(err, KeyError::Write { .. }), "{err}");
    }

    #[test]
    fn comment_line_breaks_are_flattened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        SigningKey::from_seed(SEED_A, "a\nb").write_openssh(&path).unwrap();
        let text = fs::read_to_string(public_path(&path)).unwrap();
        assert_eq!(text.lines().count(), 1);
        assert!(text.ends_with(" a b\n"));
    }

    #[test]
    fn loads_unencrypted_ssh_keygen_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        run_ok(keygen().args(["-t", "ed25519", "-N", "", "-C", "bob", "-f"]).arg(&path));
        assert!(!SigningKey::is_encrypted(&path).unwrap());
        let key = SigningKey::load(&path, None).unwrap();
        let line = fs::read_to_string(public_path(&path)).unwrap();
        assert_eq!(key.public(), &PublicKey::parse_openssh(&line).unwrap());
        // A passphrase given for an unencrypted key is simply ignored.
        assert!(SigningKey::load(&path, Some("unused")).is_ok());
    }

    #[test]
    fn loads_keys_other_tools_wrap_differently() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        run_ok(keygen().args(["-t", "ed25519", "-N", "", "-C", "bob", "-f"]).arg(&path));
        let expected = SigningKey::load(&path, None).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let body: String = lines[1..lines.len() - 1].concat();
        for (columns, line_end) in [(64, "\n"), (76, "\n"), (70, "\r\n"), (1_000, "\n")] {
            let wrapped: Vec<&str> = body.as_bytes().chunks(columns).map(|c| std::str::from_utf8(c).unwrap()).collect();
            let other = format!(
                "{}{line_end}{}{line_end}{}{line_end}",
                lines[0],
                wrapped.join(line_end),
                lines[lines.len() - 1]
            );
            let other_path = dir.path().join(format!("k{columns}"));
            fs::write(&other_path, other).unwrap();
            let key = SigningKey::load(&other_path, None).unwrap_or_else(|e| panic!("{columns} columns: {e}"));
            assert_eq!(key.public(), expected.public(), "{columns} columns");
        }
        // What is not base64 stays refused.
        fs::write(&path, text.replacen(&body[..8], "!!!!!!!!", 1)).unwrap();
        assert!(matches!(SigningKey::load(&path, None), Err(KeyError::Malformed { .. })));
    }

    #[test]
    fn passphrase_protected_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        run_ok(keygen().args(["-t", "ed25519", "-N", "secret pass", "-f"]).arg(&path));
        assert!(SigningKey::is_encrypted(&path).unwrap());

        let err = SigningKey::load(&path, None).unwrap_err();
        assert!(matches!(err, KeyError::PassphraseNeeded { .. }), "{err}");
        let err = SigningKey::load(&path, Some("wrong pass")).unwrap_err();
        assert!(matches!(err, KeyError::WrongPassphrase { .. }), "{err}");

        let key = SigningKey::load(&path, Some("secret pass")).unwrap();
        let line = fs::read_to_string(public_path(&path)).unwrap();
        assert_eq!(key.public(), &PublicKey::parse_openssh(&line).unwrap());
        let message = b"row 1: alice pays bob 3 shares";
        let signature = key.sign("smartup-ledger", message);
        assert!(ssh_keygen_verify(dir.path(), key.public(), "smartup-ledger", message, &signature));
    }

    #[test]
    fn rsa_key_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rsa");
        run_ok(keygen().args(["-t", "rsa", "-b", "2048", "-N", "", "-f"]).arg(&path));
        let err = SigningKey::load(&path, None).unwrap_err();
        assert!(
            matches!(&err, KeyError::NotEd25519 { algorithm, .. } if algorithm == "ssh-rsa"),
            "{err}"
        );
        assert!(matches!(SigningKey::is_encrypted(&path), Err(KeyError::NotEd25519 { .. })));
        let line = fs::read_to_string(public_path(&path)).unwrap();
        assert!(matches!(PublicKey::parse_openssh(&line), Err(KeyError::BadPublicKey(_))));
    }

    #[test]
    fn garbage_and_missing_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("garbage");
        fs::write(&path, "this is not a key\n").unwrap();
        let err = SigningKey::load(&path, None).unwrap_err();
        assert!(matches!(err, KeyError::Malformed { .. }), "{err}");

        let missing = dir.path().join("missing");
        let err = SigningKey::load(&missing, None).unwrap_err();
        assert!(matches!(err, KeyError::Read { .. }), "{err}");
        assert!(matches!(SigningKey::is_encrypted(&missing), Err(KeyError::Read { .. })));
    }

    #[test]
    fn parse_public_key_lines() {
        let key = SigningKey::from_seed(SEED_A, "");
        let text = key.public().to_openssh();
        assert!(text.starts_with("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI"));
        for line in [
            text.clone(),
            format!("  {text} alice@example  extra words \n"),
            format!("\t{text}\r\n"),
        ] {
            assert_eq!(&PublicKey::parse_openssh(&line).unwrap(), key.public(), "{line:?}");
        }
    }

    #[test]
    fn parse_rejects_bad_public_keys() {
        let good = SigningKey::from_seed(SEED_A, "").public().to_openssh();
        let data = good.split_whitespace().nth(1).unwrap();
        let blob = Base64::decode_vec(data).unwrap();
        let mut wrong_len = Vec::new();
        put_string(&mut wrong_len, KEY_TYPE.as_bytes());
        put_string(&mut wrong_len, &[7; 31]);
        let mut trailing = blob.clone();
        trailing.push(0);
        let mut other_type = Vec::new();
        put_string(&mut other_type, b"ssh-dss");
        put_string(&mut other_type, &blob[19..]);
        let encode = |b: &[u8]| format!("ssh-ed25519 {}", Base64::encode_string(b));
        let cases = [
            String::new(),
            "   ".to_string(),
            "ssh-ed25519".to_string(),
            format!("ssh-rsa {data}"),
            "ssh-ed25519 not-base64!".to_string(),
            encode(&blob[..blob.len() - 1]),
            encode(&wrong_len),
            encode(&trailing),
            encode(&other_type),
            format!("alice {good}"),
        ];
        for line in cases {
            let result = PublicKey::parse_openssh(&line);
            assert!(matches!(result, Err(KeyError::BadPublicKey(_))), "{line:?}");
        }
    }

    #[test]
    fn sign_and_verify_raw() {
        let key = SigningKey::from_seed(SEED_A, "");
        let signature = key.sign("smartup-ledger", b"hello");
        assert!(key.public().verify("smartup-ledger", b"hello", &signature));
        assert!(!key.public().verify("smartup-ledger", b"hellO", &signature));
        assert!(!key.public().verify("git", b"hello", &signature));
        let other = SigningKey::generate("");
        assert!(!other.public().verify("smartup-ledger", b"hello", &signature));
        assert_ne!(other.public(), key.public());
    }

    #[test]
    fn from_seed_is_deterministic() {
        let a = SigningKey::from_seed(SEED_A, "x");
        let b = SigningKey::from_seed(SEED_A, "y");
        assert_eq!(a.public(), b.public());
        assert_eq!(a.sign("n", b"m"), b.sign("n", b"m"));
        assert!(!format!("{a:?}").contains("dalek"));
    }
}
