//! `-R` input: one ipvsadm command line per line, without the program name.

use std::borrow::Cow;

use super::parse::{Mode, parse_words, try_help};
use super::{Invocation, UsageError, check_word};

/// Appends the tokens of one restore line to `tokens`, like ipvsadm's
/// `config_stream_read`: runs of anything but space, tab, CR and LF; there
/// is no quoting and no comment syntax; a token that is exactly `ipvsadm`
/// is dropped wherever it appears (so lines may start with the program
/// name). Tokens are borrowed from the line unless they are not UTF-8
/// (then read lossily).
fn push_restore_tokens<'a>(line: &'a [u8], tokens: &mut Vec<Cow<'a, str>>) {
    // A line that is UTF-8 (the usual case) is checked once, not token by
    // token: its tokens, split at ASCII bytes, are UTF-8 too.
    let text = std::str::from_utf8(line).ok();
    let mut start = 0;
    for end in 0..=line.len() {
        if line
            .get(end)
            .is_some_and(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        {
            continue;
        }
        let token = &line[start..end];
        if !token.is_empty() && token != b"ipvsadm" {
            tokens.push(match text.and_then(|text| text.get(start..end)) {
                Some(borrowed) => Cow::Borrowed(borrowed),
                None => String::from_utf8_lossy(token),
            });
        }
        start = end + 1;
    }
}

/// Splits one restore line into its tokens (see `push_restore_tokens`).
pub fn tokenize_restore_line(line: &[u8]) -> Vec<String> {
    let mut tokens = Vec::new();
    push_restore_tokens(line, &mut tokens);
    tokens.into_iter().map(Cow::into_owned).collect()
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
    push_restore_tokens(line, tokens);
    if tokens.first().is_none_or(|t| t.starts_with('#')) {
        return None;
    }
    Some(parse_restore_tokens(argv0, tokens))
}
