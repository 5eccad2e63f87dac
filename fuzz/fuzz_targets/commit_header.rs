//! Feeds arbitrary bytes to the commit header parser the hook and every walk read pushed
//! commits with: it must answer with a header or an error, never panic, and a signature it
//! finds must be a `gpgsig` header whose removal leaves exactly the bytes it says are signed.
#![no_main]

use git2::Oid;
use libfuzzer_sys::fuzz_target;
use smartup::repo::commit_header::parse_commit;

fuzz_target!(|data: &[u8]| {
    let Ok(header) = parse_commit(Oid::ZERO_SHA1, data, true) else { return };
    let Some((_, signed)) = header.signature else { return };
    assert!(signed.len() < data.len(), "a signature header was removed");
    let removed = data.len() - signed.len();
    let at = data.iter().zip(&signed).position(|(a, b)| a != b).unwrap_or(signed.len());
    // The removed bytes may begin before the first difference (a run of equal bytes).
    let fits = (0..=at).rev().any(|k| {
        data[k..].starts_with(b"gpgsig ") && data[..k] == signed[..k] && data[k + removed..] == signed[k..]
    });
    assert!(fits, "the signed bytes are the object without one gpgsig header");
});
