//! SSH wire-format helpers (RFC 4251 §5): `uint32` and length-prefixed `string`.
//!
//! Shared by the key-blob code in `keys.rs` and the SSHSIG code in `sshsig.rs`.

/// Appends `bytes` as an SSH `string`: a big-endian `u32` length, then the bytes.
///
/// Everything this module encodes (key blobs, namespaces, hashes, signatures)
/// is far below 4 GiB; a longer input would be a programming error, and its
/// length saturates instead of panicking (the result then fails to verify).
pub(super) fn put_string(out: &mut Vec<u8>, bytes: &[u8]) {
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
}

/// A cursor over SSH wire-format bytes; every read returns `None` when the
/// input is too short, so malformed input can never panic.
pub(super) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Starts reading at the beginning of `bytes`.
    pub(super) fn new(bytes: &'a [u8]) -> Self {
        Reader { rest: bytes }
    }

    /// Takes the next `n` raw bytes.
    pub(super) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.rest.len() < n {
            return None;
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Some(head)
    }

    /// Reads a big-endian `uint32`.
    pub(super) fn u32(&mut self) -> Option<u32> {
        let bytes: [u8; 4] = self.take(4)?.try_into().ok()?;
        Some(u32::from_be_bytes(bytes))
    }

    /// Reads a length-prefixed `string` and returns its contents.
    pub(super) fn string(&mut self) -> Option<&'a [u8]> {
        let len = usize::try_from(self.u32()?).ok()?;
        self.take(len)
    }

    /// True once every byte has been consumed.
    pub(super) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }
}

/// Renders untrusted bytes (an algorithm name, a namespace) for an error
/// message: lossy UTF-8, control characters escaped, at most 64 characters.
pub(super) fn printable(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .chars()
        .take(64)
        .flat_map(char::escape_default)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_round_trip() {
        let mut out = Vec::new();
        put_string(&mut out, b"ssh-ed25519");
        put_string(&mut out, b"");
        assert_eq!(&out[..4], &[0, 0, 0, 11]);
        let mut r = Reader::new(&out);
        assert_eq!(r.string(), Some(&b"ssh-ed25519"[..]));
        assert_eq!(r.string(), Some(&b""[..]));
        assert!(r.is_empty());
        assert_eq!(r.string(), None);
    }

    #[test]
    fn truncated_input_is_none() {
        assert_eq!(Reader::new(&[0, 0, 0]).u32(), None);
        assert_eq!(Reader::new(&[0, 0, 0, 5, b'a']).string(), None);
        assert_eq!(Reader::new(&[0xff, 0xff, 0xff, 0xff]).string(), None);
    }

    #[test]
    fn printable_escapes_and_truncates() {
        assert_eq!(printable(b"ssh-rsa"), "ssh-rsa");
        assert_eq!(printable(b"a\nb"), "a\\nb");
        assert_eq!(printable(&[b'x'; 100]).len(), 64);
    }
}
