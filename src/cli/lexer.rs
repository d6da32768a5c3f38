//! A lexer that splits argv the way popt 1.19 does for ipvsadm's table:
//! bundled short flags (`-Lnc`), attached or separate short values
//! (`-w3`, `-w 3`, `-w=3`), `--name=value` / `--name value`, exact long
//! names only, popt's optional values (`-p [timeout]`), `--` ending the
//! options, and every other word kept as a leftover argument.

use std::borrow::Cow;

use super::options::{ArgKind, OptSpec, find_long, find_short};

/// The errors popt itself reports (`poptStrerror`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PoptError {
    BadOption,
    MissingArgument,
    UnwantedArgument,
}

/// `poptStrerror` for each error, in `PoptError` order.
pub(crate) const POPT_MESSAGES: [&str; 3] = [
    "unknown option",
    "missing argument",
    "option does not take an argument",
];

impl PoptError {
    pub fn text(self) -> &'static str {
        POPT_MESSAGES[self as usize]
    }
}

/// One option occurrence, or the error that stopped popt. Values and
/// words are borrowed from the arguments.
#[derive(Debug, Clone)]
pub(crate) enum Item<'a> {
    Opt {
        spec: &'static OptSpec,
        value: Option<Cow<'a, str>>,
        /// The argv word the option came from (popt's `poptBadOption`).
        word: Cow<'a, str>,
    },
    Error {
        kind: PoptError,
        word: Cow<'a, str>,
    },
}

/// What the lexer finds next: an option (or the error that ends the
/// lexing), or a non-option word.
#[derive(Debug, Clone)]
pub(crate) enum Token<'a> {
    Item(Item<'a>),
    Leftover(&'a str),
}

#[cfg(test)]
impl Item<'_> {
    fn into_owned(self) -> Item<'static> {
        match self {
            Item::Opt { spec, value, word } => Item::Opt {
                spec,
                value: value.map(|v| Cow::Owned(v.into_owned())),
                word: Cow::Owned(word.into_owned()),
            },
            Item::Error { kind, word } => Item::Error {
                kind,
                word: Cow::Owned(word.into_owned()),
            },
        }
    }
}

/// Everything the lexer finds, collected (what the lexer tests look at).
#[cfg(test)]
#[derive(Debug, Clone, Default)]
pub(crate) struct Lexed {
    /// Options in command-line order; an `Item::Error`, if any, is last.
    pub items: Vec<Item<'static>>,
    /// Non-option words, in order.
    pub leftovers: Vec<String>,
}

/// Splits `args` (without the program name) into options and leftovers.
#[cfg(test)]
pub(crate) fn lex<S: AsRef<str>>(args: &[S]) -> Lexed {
    let mut out = Lexed::default();
    for token in Lexer::new(args) {
        match token {
            Token::Item(item) => out.items.push(item.into_owned()),
            Token::Leftover(word) => out.leftovers.push(word.to_string()),
        }
    }
    out
}

/// The lexer as an iterator, in command-line order, so that a line is
/// parsed without collecting its options first.
pub(crate) struct Lexer<'a, S> {
    args: &'a [S],
    next: usize,
    rest_are_leftovers: bool,
    /// Set after an error: popt stops there.
    stopped: bool,
    /// The unread tail of a short-option bundle and the word it came from.
    bundle: Option<(&'a str, &'a str)>,
}

impl<'a, S: AsRef<str>> Lexer<'a, S> {
    pub(crate) fn new(args: &'a [S]) -> Lexer<'a, S> {
        Lexer {
            args,
            next: 0,
            rest_are_leftovers: false,
            stopped: false,
            bundle: None,
        }
    }

    /// Ends the lexing with an error about `word`.
    fn stop(&mut self, kind: PoptError, word: &'a str) -> Option<Token<'a>> {
        self.stopped = true;
        Some(Token::Item(Item::Error {
            kind,
            word: Cow::Borrowed(word),
        }))
    }

    /// The next option of the bundle `tail` from `word`.
    fn bundled(&mut self, tail: &'a str, word: &'a str) -> Option<Token<'a>> {
        let mut chars = tail.chars();
        // An empty tail happens after `-n=`: popt then looks up '\0'.
        let Some(c) = chars.next() else {
            return self.stop(PoptError::BadOption, word);
        };
        let Some(spec) = find_short(c) else {
            return self.stop(PoptError::BadOption, word);
        };
        let rest = chars.as_str();
        // popt skips one '=' after a short option letter.
        let tail = (!rest.is_empty()).then(|| rest.strip_prefix('=').unwrap_or(rest));
        let value = match spec.arg {
            ArgKind::None | ArgKind::EqualsOnly => {
                if tail.is_some_and(|t| t.starts_with('=')) {
                    return self.stop(PoptError::UnwantedArgument, word);
                }
                self.bundle = tail.map(|t| (t, word));
                None
            }
            ArgKind::Required | ArgKind::Optional => match tail {
                Some(t) => Some(t.strip_prefix('=').unwrap_or(t)),
                None => match self.take_next_word(spec.arg) {
                    Ok(v) => v,
                    Err(kind) => return self.stop(kind, word),
                },
            },
        };
        let value = value.map(Cow::Borrowed);
        Some(Token::Item(Item::Opt {
            spec,
            value,
            word: Cow::Borrowed(word),
        }))
    }

    /// The value of an option from the following word: a required value
    /// takes it whatever it is, an optional one only when it does not
    /// start with '-'.
    fn take_next_word(&mut self, arg: ArgKind) -> Result<Option<&'a str>, PoptError> {
        match self.args.get(self.next).map(AsRef::as_ref) {
            None if arg == ArgKind::Optional => Ok(None),
            None => Err(PoptError::MissingArgument),
            Some(w) if arg == ArgKind::Optional && w.starts_with('-') => Ok(None),
            Some(w) => {
                self.next += 1;
                Ok(Some(w))
            }
        }
    }
}

impl<'a, S: AsRef<str>> Iterator for Lexer<'a, S> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        if self.stopped {
            return None;
        }
        if let Some((tail, word)) = self.bundle.take() {
            return self.bundled(tail, word);
        }
        loop {
            let word: &'a str = self.args.get(self.next)?.as_ref();
            self.next += 1;
            if self.rest_are_leftovers || !word.starts_with('-') || word == "-" {
                return Some(Token::Leftover(word));
            }
            if word == "--" {
                self.rest_are_leftovers = true;
                continue;
            }
            let Some(body) = word.strip_prefix("--") else {
                // A single dash: popt reads the word as a bundle of short
                // options (none of ipvsadm's long names may use one dash).
                return self.bundled(&word[1..], word);
            };
            let (name, attached) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (body, None),
            };
            let Some(spec) = find_long(name) else {
                return self.stop(PoptError::BadOption, word);
            };
            let value = match spec.arg {
                ArgKind::None => {
                    if attached.is_some() {
                        return self.stop(PoptError::UnwantedArgument, word);
                    }
                    None
                }
                ArgKind::EqualsOnly => attached,
                ArgKind::Required | ArgKind::Optional => match attached {
                    Some(v) => Some(v),
                    None => match self.take_next_word(spec.arg) {
                        Ok(v) => v,
                        Err(kind) => return self.stop(kind, word),
                    },
                },
            };
            let value = value.map(Cow::Borrowed);
            return Some(Token::Item(Item::Opt {
                spec,
                value,
                word: Cow::Borrowed(word),
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::options::OptId;

    fn words(s: &str) -> Vec<String> {
        s.split(' ')
            .filter(|w| !w.is_empty())
            .map(String::from)
            .collect()
    }

    /// Renders the lexed items compactly: `A t=x n !bad(-q)`.
    fn render(line: &str) -> String {
        let lexed = lex(&words(line));
        let mut parts: Vec<String> = lexed
            .items
            .iter()
            .map(|item| match item {
                Item::Opt { spec, value, .. } => {
                    let name = spec
                        .shorts
                        .first()
                        .map_or(spec.long.to_string(), |c| c.to_string());
                    match value {
                        Some(v) => format!("{name}={v}"),
                        None => name,
                    }
                }
                Item::Error { kind, word } => format!("!{}({word})", kind.text()),
            })
            .collect();
        for l in lexed.leftovers {
            parts.push(format!("[{l}]"));
        }
        parts.join(" ")
    }

    #[test]
    fn popt_lexing() {
        let cases = [
            ("-Lnc", "L n c"),
            ("-Lnt 10.0.0.1:80", "L n t=10.0.0.1:80"),
            ("-A -t10.0.0.1:80 -w3", "A t=10.0.0.1:80 w=3"),
            ("-a -w=3", "a w=3"),
            ("-a -w==3", "a w=3"),
            ("-a --weight=3 --weight 4", "a w=3 w=4"),
            ("-A -p 600", "A p=600"),
            ("-A -p -s rr", "A p s=rr"),
            ("-A -p", "A p"),
            ("-A -p600", "A p=600"),
            ("-A -s -p", "A s=-p"),
            ("-L -- -n", "L [-n]"),
            ("foo -L - x", "L [foo] [-] [x]"),
            ("-L --foo", "L !unknown option(--foo)"),
            ("-L -q", "L !unknown option(-q)"),
            ("-Lq", "L !unknown option(-Lq)"),
            ("-A -t", "A !missing argument(-t)"),
            (
                "-L --numeric=1",
                "L !option does not take an argument(--numeric=1)",
            ),
            ("-L --numer", "L !unknown option(--numer)"),
            ("-L -n=", "L n !unknown option(-n=)"),
            ("-L --watch 3", "L watch [3]"),
            ("-L --watch=3", "L watch=3"),
            ("-L -j", "L j"),
            ("-L -list", "L L i s=t"),
        ];
        for (line, want) in cases {
            assert_eq!(render(line), want, "{line}");
        }
    }

    #[test]
    fn reports_the_word_of_the_option() {
        let lexed = lex(&words("-L -nA"));
        match &lexed.items[2] {
            Item::Opt { spec, word, .. } => {
                assert_eq!(spec.id, OptId::AddService);
                assert_eq!(word, "-nA");
            }
            other => panic!("{other:?}"),
        }
    }
}
