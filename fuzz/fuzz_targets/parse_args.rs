//! The command line: arbitrary argv (words separated by NUL bytes, as the
//! kernel hands them to a process) through `cli::parse_args`, the entry the
//! binary uses. Parsing only: nothing is executed, and name lookups are
//! off in fuzzing builds.
#![no_main]

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use ipvsadm_rs::cli::{self, Command};
use libfuzzer_sys::fuzz_target;

const ARGV0: &str = "ipvsadm";

fuzz_target!(|data: &[u8]| {
    let args: Vec<OsString> = if data.is_empty() {
        Vec::new()
    } else {
        data.split(|b| *b == 0)
            .map(|word| OsString::from_vec(word.to_vec()))
            .collect()
    };
    match cli::parse_args(ARGV0, &args) {
        Ok(invocation) => {
            if matches!(invocation.command, Command::Help) {
                let _ = cli::help_text(ARGV0);
            }
            let _ = format!("{invocation:?}");
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
});
