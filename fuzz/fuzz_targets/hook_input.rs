//! Feeds arbitrary text to the parser of the pre-receive hook's stdin: it must accept only
//! well-formed `<old> <new> <ref>` lines and never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smartup::hook::pre_receive::parse_updates;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(updates) = parse_updates(text) {
            assert!(!updates.is_empty());
            assert!(updates.iter().all(|u| u.name.starts_with("refs/")));
        }
    }
});
