//! Command line: ipvsadm-compatible argument parsing into a typed
//! [`Command`].
//!
//! ipvsadm parses with popt, whose quirks clap cannot reproduce (the first
//! option must be a command, optional values, bundles like `-Lnt VIP`), so
//! popt is emulated here: `options` is the option table, `lexer` splits
//! words as popt does, `parse` applies them with ipvsadm's side effects and
//! checks (`legality` holds its tables), `values` the value parsers and
//! name lookups, `rules` the lines of `-R` input. [`clap_command`] describes the
//! same options for completions and the man page only.
//!
//! Deliberate differences from ipvsadm 1.31: `-b ,` is an error instead of
//! a crash; words with a NUL byte or longer than [`MAX_ARG_LEN`] are
//! refused; our extension options (`--json`, `--format`, `--pretty`,
//! `--watch`, `--count`, `--netns`, `--atomic`, `--drain`) are accepted after the
//! command and also before it (alone, they mean the bare listing).

mod clap_def;
pub mod command;
mod help;
mod legality;
mod lexer;
mod options;
mod parse;
mod rules;
mod values;

use std::ffi::OsString;

pub use clap_def::clap_command;
pub use command::*;
pub use help::{help_text, version_text};
pub use rules::{parse_restore_bytes, parse_restore_line, tokenize_restore_line};

/// Longest argument we accept, in bytes (ipvsadm's restore reads tokens of
/// at most 4096 characters; nothing legitimate comes close).
pub const MAX_ARG_LEN: usize = 4096;

/// A command line ipvsadm would refuse: what it prints on stderr (without
/// the final newline) and its exit status.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageError {
    pub message: String,
    pub exit_code: i32,
}

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UsageError {}

/// Parses a command line (`args` without the program name) the way
/// ipvsadm 1.31 does. No arguments at all is the table listing with name
/// resolution. Arguments that are not UTF-8 are read lossily.
pub fn parse_args(argv0: &str, args: &[OsString]) -> Result<Invocation, UsageError> {
    let words = args
        .iter()
        .map(|a| checked_word(&a.to_string_lossy()))
        .collect::<Result<Vec<String>, UsageError>>()?;
    if words.is_empty() {
        return Ok(parse::bare_list());
    }
    parse::parse_words(argv0, &words, parse::Mode::CommandLine)
}

/// Refuses words no ipvsadm command line can mean: embedded NUL bytes (C
/// would silently cut the word) and absurd lengths.
fn check_word(word: &str) -> Result<(), UsageError> {
    if word.contains('\0') {
        return Err(UsageError {
            message: format!(
                "argument `{}' contains a NUL byte",
                word.replace('\0', "\\0")
            ),
            exit_code: 2,
        });
    }
    if word.len() > MAX_ARG_LEN {
        return Err(UsageError {
            message: format!(
                "argument too long ({} bytes, at most {MAX_ARG_LEN})",
                word.len()
            ),
            exit_code: 2,
        });
    }
    Ok(())
}

/// [`check_word`], then the word as an owned string.
fn checked_word(word: &str) -> Result<String, UsageError> {
    check_word(word).map(|()| word.to_string())
}

#[cfg(test)]
mod tests;
