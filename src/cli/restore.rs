//! `-R` input: one ipvsadm command line per line, without the program name.

use super::parse::{Mode, parse_words, try_help};
use super::{Invocation, UsageError, checked_word};

/// Splits one restore line like ipvsadm's `config_stream_read`: tokens are
/// runs of anything but space, tab, CR and LF; there is no quoting and no
/// comment syntax; a token that is exactly `ipvsadm` is dropped wherever it
/// appears (so lines may start with the program name).
pub fn tokenize_restore_line(line: &[u8]) -> Vec<String> {
    line.split(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        .filter(|t| !t.is_empty() && *t != b"ipvsadm")
        .map(|t| String::from_utf8_lossy(t).into_owned())
        .collect()
}

/// Parses the tokens of one restore line. Every command works there, as in
/// ipvsadm (listings print to standard output), except `-R`, which gets
/// ipvsadm's `Try ...` hint. Callers skip lines without tokens, as
/// ipvsadm does; an empty line here gets the `Try ...` hint too.
pub fn parse_restore_line(
    argv0: &str,
    tokens: &[String],
) -> Result<Invocation, UsageError> {
    if tokens.is_empty() {
        return Err(try_help(argv0));
    }
    let words = tokens
        .iter()
        .map(|t| checked_word(t))
        .collect::<Result<Vec<String>, UsageError>>()?;
    parse_words(argv0, &words, Mode::Restore)
}
