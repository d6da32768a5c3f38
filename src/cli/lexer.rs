//! A lexer that splits argv the way popt 1.19 does for ipvsadm's table:
//! bundled short flags (`-Lnc`), attached or separate short values
//! (`-w3`, `-w 3`, `-w=3`), `--name=value` / `--name value`, exact long
//! names only, popt's optional values (`-p [timeout]`), `--` ending the
//! options, and every other word kept as a leftover argument.

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

/// One option occurrence, or the error that stopped popt.
#[derive(Debug, Clone)]
pub(crate) enum Item {
    Opt {
        spec: &'static OptSpec,
        value: Option<String>,
        /// The argv word the option came from (popt's `poptBadOption`).
        word: String,
    },
    Error {
        kind: PoptError,
        word: String,
    },
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Lexed {
    /// Options in command-line order; an `Item::Error`, if any, is last.
    pub items: Vec<Item>,
    /// Non-option words, in order.
    pub leftovers: Vec<String>,
}

/// Splits `args` (without the program name) into options and leftovers.
pub(crate) fn lex(args: &[String]) -> Lexed {
    let mut out = Lexed::default();
    let mut next = 0;
    let mut rest_are_leftovers = false;
    // The unread tail of a short-option bundle and the word it came from.
    let mut bundle: Option<(String, String)> = None;

    loop {
        if let Some((tail, word)) = bundle.take() {
            let mut chars = tail.chars();
            // An empty tail happens after `-n=`: popt then looks up '\0'.
            let Some(c) = chars.next() else {
                out.items.push(bad(PoptError::BadOption, word));
                return out;
            };
            let Some(spec) = find_short(c) else {
                out.items.push(bad(PoptError::BadOption, word));
                return out;
            };
            let rest = chars.as_str();
            // popt skips one '=' after a short option letter.
            let tail = (!rest.is_empty()).then(|| rest.strip_prefix('=').unwrap_or(rest));
            match spec.arg {
                ArgKind::None | ArgKind::EqualsOnly => {
                    if tail.is_some_and(|t| t.starts_with('=')) {
                        out.items.push(bad(PoptError::UnwantedArgument, word));
                        return out;
                    }
                    out.items.push(Item::Opt {
                        spec,
                        value: None,
                        word: word.clone(),
                    });
                    bundle = tail.map(|t| (t.to_string(), word));
                }
                ArgKind::Required | ArgKind::Optional => {
                    let value = match tail {
                        Some(t) => Some(t.strip_prefix('=').unwrap_or(t).to_string()),
                        None => match take_next_word(args, &mut next, spec.arg) {
                            Ok(v) => v,
                            Err(kind) => {
                                out.items.push(bad(kind, word));
                                return out;
                            }
                        },
                    };
                    out.items.push(Item::Opt { spec, value, word });
                }
            }
            continue;
        }

        let Some(word) = args.get(next) else {
            return out;
        };
        next += 1;
        if rest_are_leftovers || !word.starts_with('-') || word == "-" {
            out.leftovers.push(word.clone());
            continue;
        }
        if word == "--" {
            rest_are_leftovers = true;
            continue;
        }
        let Some(body) = word.strip_prefix("--") else {
            // A single dash: popt reads the word as a bundle of short
            // options (none of ipvsadm's long names may use one dash).
            bundle = Some((word[1..].to_string(), word.clone()));
            continue;
        };
        let (name, attached) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (body, None),
        };
        let Some(spec) = find_long(name) else {
            out.items.push(bad(PoptError::BadOption, word.clone()));
            return out;
        };
        let value = match spec.arg {
            ArgKind::None => {
                if attached.is_some() {
                    out.items
                        .push(bad(PoptError::UnwantedArgument, word.clone()));
                    return out;
                }
                None
            }
            ArgKind::EqualsOnly => attached,
            ArgKind::Required | ArgKind::Optional => match attached {
                Some(v) => Some(v),
                None => match take_next_word(args, &mut next, spec.arg) {
                    Ok(v) => v,
                    Err(kind) => {
                        out.items.push(bad(kind, word.clone()));
                        return out;
                    }
                },
            },
        };
        out.items.push(Item::Opt {
            spec,
            value,
            word: word.clone(),
        });
    }
}

fn bad(kind: PoptError, word: String) -> Item {
    Item::Error { kind, word }
}

/// The value of an option from the following word: a required value takes
/// it whatever it is, an optional one only when it does not start with '-'.
fn take_next_word(
    args: &[String],
    next: &mut usize,
    arg: ArgKind,
) -> Result<Option<String>, PoptError> {
    match args.get(*next) {
        None if arg == ArgKind::Optional => Ok(None),
        None => Err(PoptError::MissingArgument),
        Some(w) if arg == ArgKind::Optional && w.starts_with('-') => Ok(None),
        Some(w) => {
            *next += 1;
            Ok(Some(w.clone()))
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
