//! `-R` input: arbitrary bytes through the restore's line splitter,
//! tokenizer and parser/validator (its first pass, which decides whether
//! anything is applied). Nothing reaches a kernel.
#![no_main]

use ipvsadm_rs::restore;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for (line, parsed) in restore::parse_lines("ipvsadm", data, 1) {
        assert!(line >= 1);
        if let Err(error) = parsed {
            let _ = format!("line {line}: {}", error.message);
        }
    }
});
