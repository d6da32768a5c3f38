//! The case data (`cases.txt`) and its parser.

/// The cases, compiled into the test binary (it runs inside the lab VM).
pub const DATA: &str = include_str!("cases.txt");

#[derive(Debug, PartialEq)]
pub enum Kind {
    /// ipvsadm 1.31 succeeds; ours must do exactly the same.
    Ok,
    /// ipvsadm 1.31 fails; ours must fail exactly the same way.
    Error,
    /// A documented difference (README, "Differences from ipvsadm 1.31"):
    /// both tools run it, and each must do in full what is written down
    /// for it (ours: what the README documents; 1.31: what it does, as the
    /// README says, captured from it).
    Differ(Expect),
}

/// What a tool does, in full: exit status, all of stdout, all of stderr.
#[derive(Debug, Default, PartialEq)]
pub struct Behaviour {
    /// `exit status N` or `killed by signal N`, as `compare::render` says it.
    pub status: Option<String>,
    pub stdout: String,
    pub stderr: String,
}

#[derive(Debug, Default, PartialEq)]
pub struct Expect {
    /// Ours (`ours-status`, `ours-stdout`, `ours-stderr`).
    pub ours: Behaviour,
    /// ipvsadm 1.31 (`ref-status`, `ref-stdout`, `ref-stderr`).
    pub reference: Behaviour,
    /// What 1.31 runs instead, to reach the state ours must leave.
    pub reference_args: Option<Vec<String>>,
    pub reference_input: Option<String>,
}

#[derive(Debug)]
pub struct Case {
    pub section: String,
    /// Line number in cases.txt.
    pub line: usize,
    pub kind: Kind,
    /// Commands run by 1.31 first, on both sides.
    pub setup: Vec<Vec<String>>,
    pub args: Vec<String>,
    pub input: Option<String>,
}

/// Parses the case file (format in its header).
pub fn parse(data: &str) -> Result<Vec<Case>, String> {
    let mut cases: Vec<Case> = Vec::new();
    let mut section = String::new();
    let mut setup: Vec<Vec<String>> = Vec::new();
    let mut input: Option<String> = None;
    for (index, raw) in data.lines().enumerate() {
        let line = index + 1;
        let text = raw.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        let (keyword, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
        let rest = rest.trim_start();
        let bad = |why: &str| format!("cases.txt line {line}: {why}: {raw}");
        match keyword {
            "section" => {
                section = rest.to_string();
                setup.clear();
            }
            "fresh" => setup.clear(),
            "given" => setup.push(words(rest).map_err(|e| bad(&e))?),
            "input" => input = Some(unescape(rest)),
            "ok" | "err" | "differ" => {
                if section.is_empty() {
                    return Err(bad("case before any `section`"));
                }
                let kind = match keyword {
                    "ok" => Kind::Ok,
                    "err" => Kind::Error,
                    _ => Kind::Differ(Expect::default()),
                };
                cases.push(Case {
                    section: section.clone(),
                    line,
                    kind,
                    setup: setup.clone(),
                    args: words(rest).map_err(|e| bad(&e))?,
                    input: input.take(),
                });
            }
            "ours-status" | "ref-status" | "ours-signal" | "ref-signal" => {
                let number: i32 = rest.parse().map_err(|_| bad("not a number"))?;
                let expect = last_expect(&mut cases).map_err(&bad)?;
                let tool = if keyword.starts_with("ours-") {
                    &mut expect.ours
                } else {
                    &mut expect.reference
                };
                if tool.status.is_some() {
                    return Err(bad("a second status"));
                }
                tool.status = Some(if keyword.ends_with("-status") {
                    format!("exit status {number}")
                } else {
                    format!("killed by signal {number}")
                });
            }
            "ours-stdout" | "ours-stderr" | "ref-stdout" | "ref-stderr" => {
                let expect = last_expect(&mut cases).map_err(&bad)?;
                let text = match keyword {
                    "ours-stdout" => &mut expect.ours.stdout,
                    "ours-stderr" => &mut expect.ours.stderr,
                    "ref-stdout" => &mut expect.reference.stdout,
                    _ => &mut expect.reference.stderr,
                };
                text.push_str(&unescape(rest));
                text.push('\n');
            }
            "reference" => {
                let args = words(rest).map_err(|e| bad(&e))?;
                last_expect(&mut cases).map_err(&bad)?.reference_args = Some(args);
            }
            "reference-input" => {
                last_expect(&mut cases).map_err(&bad)?.reference_input =
                    Some(unescape(rest));
            }
            _ => return Err(bad("unknown keyword")),
        }
        if input.is_some() && keyword != "input" {
            return Err(bad("`input` must come right before its case"));
        }
    }
    for case in &cases {
        if let Kind::Differ(expect) = &case.kind {
            if expect.ours.status.is_none() || expect.reference.status.is_none() {
                return Err(format!(
                    "cases.txt line {}: a `differ` case needs a status (or signal) for each tool",
                    case.line
                ));
            }
        }
    }
    if input.is_some() {
        return Err("cases.txt: `input` at the end, without a case".to_string());
    }
    Ok(cases)
}

/// The expectations of the `differ` case just read.
fn last_expect(cases: &mut [Case]) -> Result<&mut Expect, &'static str> {
    match cases.last_mut() {
        Some(Case {
            kind: Kind::Differ(expect),
            ..
        }) => Ok(expect),
        _ => Err("expectation without a `differ` case before it"),
    }
}

/// Splits on blanks; `'...'` is one word, taken literally (may be empty or
/// hold blanks).
fn words(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let Some(&first) = chars.peek() else {
            return Ok(words);
        };
        let mut word = String::new();
        if first == '\'' {
            chars.next();
            loop {
                match chars.next() {
                    Some('\'') => break,
                    Some(c) => word.push(c),
                    None => return Err("unterminated quote".to_string()),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                word.push(c);
            }
        }
        words.push(word);
    }
}

/// `\n` is a newline, `\r` a carriage return, `\t` a tab and `\\` a backslash.
fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}
