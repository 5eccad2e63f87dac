//! One-time codes: 20 characters of Crockford's base32 (100 random bits), shown in groups of
//! four. An invitation's code derives the invitation key (an ed25519 key, from SHA-256 of the
//! ledger id and the code; the ledger keeps only that key's public half); a Matrix link's code
//! is posted from the account it links (the ledger keeps only its hash).

use super::SigningKey;
use sha2::{Digest, Sha256};

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const LENGTH: usize = 20;

/// A one-time code, normalised (upper case, no separators).
#[derive(Clone, PartialEq, Eq)]
pub struct Code(String);

impl std::fmt::Debug for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Code(..)")
    }
}

impl Code {
    /// A fresh random code from the operating system's generator.
    pub fn generate() -> Code {
        let mut bytes = [0u8; LENGTH];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
        Code(bytes.iter().map(|b| ALPHABET[(b & 31) as usize] as char).collect())
    }

    /// Reads a code as typed: case and dashes or spaces do not matter, and the letters
    /// people confuse with digits (O, I, L) are read as 0 and 1.
    pub fn parse(text: &str) -> Result<Code, String> {
        let mut out = String::with_capacity(LENGTH);
        for c in text.chars().filter(|c| *c != '-' && !c.is_whitespace()) {
            let c = match c.to_ascii_uppercase() {
                'O' => '0',
                'I' | 'L' => '1',
                c => c,
            };
            if !ALPHABET.contains(&(c as u8)) || !c.is_ascii() {
                return Err("a code holds only digits and letters (no U), like K7QM-3XPA-9D2F-WT4H-6BNC".into());
            }
            out.push(c);
        }
        if out.len() != LENGTH {
            return Err(format!("a code has {LENGTH} characters, this one {}", out.len()));
        }
        Ok(Code(out))
    }

    /// The code as shown to people: `K7QM-3XPA-9D2F-WT4H-6BNC`.
    pub fn shown(&self) -> String {
        self.0
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join("-")
    }

    /// The code without separators, as hashed.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The invitation key this code derives in the ledger `ledger_id`.
    pub fn key(&self, ledger_id: &str) -> SigningKey {
        let seed: [u8; 32] = Sha256::digest(format!("smartup-invitation-code-v1\n{ledger_id}\n{}\n", self.0)).into();
        SigningKey::from_seed(seed, "invitation")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_reads_back_as_typed_and_derives_one_key_per_ledger() {
        let code = Code::generate();
        let shown = code.shown();
        assert_eq!(shown.len(), 24);
        assert_eq!(Code::parse(&shown.to_lowercase()).unwrap(), code);
        assert_eq!(Code::parse(&shown.replace('-', " ")).unwrap(), code);
        assert_eq!(
            Code::parse("oil0-1111-1111-1111-1111").unwrap(),
            Code::parse("0110-1111-1111-1111-1111").unwrap()
        );
        assert!(Code::parse("K7QM-3XPA").is_err());
        assert!(Code::parse("UUUU-UUUU-UUUU-UUUU-UUUU").is_err());
        let a = code.key("ledger-one-0000000").public().fingerprint();
        assert_eq!(a, code.key("ledger-one-0000000").public().fingerprint());
        assert_ne!(a, code.key("ledger-two-0000000").public().fingerprint());
        assert_ne!(Code::generate(), Code::generate());
    }
}
