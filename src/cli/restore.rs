//! `-R` input: one ipvsadm command line per line, without the program name.

use std::borrow::Cow;

use super::parse::{Mode, parse_words, try_help};
use super::{Invocation, UsageError, check_word};

/// The tokens of one restore line, like ipvsadm's `config_stream_read`:
/// runs of anything but space, tab, CR and LF; there is no quoting and no
/// comment syntax; a token that is exactly `ipvsadm` is dropped wherever it
/// appears (so lines may start with the program name). Tokens are borrowed
/// from the line unless they are not UTF-8 (then read lossily).
fn restore_tokens(line: &[u8]) -> impl Iterator<Item = Cow<'_, str>> {
    // A line that is UTF-8 (the usual case) is checked once, not token by
    // token: its tokens, split at ASCII bytes, are UTF-8 too.
    let (text, bytes) = match std::str::from_utf8(line) {
        Ok(text) => (text, &[][..]),
        Err(_) => ("", line),
    };
    let is_separator = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r');
    let utf8 = text
        .split(is_separator)
        .filter(|t| !t.is_empty() && *t != "ipvsadm")
        .map(Cow::Borrowed);
    let lossy = bytes
        .split(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        .filter(|t| !t.is_empty() && *t != b"ipvsadm")
        .map(String::from_utf8_lossy);
    utf8.chain(lossy)
}

/// Splits one restore line into its tokens (see `restore_tokens`).
pub fn tokenize_restore_line(line: &[u8]) -> Vec<String> {
    restore_tokens(line).map(Cow::into_owned).collect()
}

/// Parses the tokens of one restore line. Every command works there, as in
/// ipvsadm (listings print to standard output), except `-R`, which gets
/// ipvsadm's `Try ...` hint. Callers skip lines without tokens, as
/// ipvsadm does; an empty line here gets the `Try ...` hint too.
pub fn parse_restore_line(
    argv0: &str,
    tokens: &[String],
) -> Result<Invocation, UsageError> {
    parse_restore_tokens(argv0, tokens)
}

fn parse_restore_tokens<S: AsRef<str>>(
    argv0: &str,
    tokens: &[S],
) -> Result<Invocation, UsageError> {
    if tokens.is_empty() {
        return Err(try_help(argv0));
    }
    for token in tokens {
        check_word(token.as_ref())?;
    }
    parse_words(argv0, tokens, Mode::Restore)
}

/// One line of `-R` input, tokenized and parsed without copying it:
/// `None` for a line without tokens or whose first token starts with `#`
/// (a comment), else what [`parse_restore_line`] says of its tokens.
/// `tokens` is scratch space, reused from one line to the next.
pub fn parse_restore_bytes<'a>(
    argv0: &str,
    line: &'a [u8],
    tokens: &mut Vec<Cow<'a, str>>,
) -> Option<Result<Invocation, UsageError>> {
    tokens.clear();
    tokens.extend(restore_tokens(line));
    if tokens.first().is_none_or(|t| t.starts_with('#')) {
        return None;
    }
    Some(parse_restore_tokens(argv0, tokens))
}
