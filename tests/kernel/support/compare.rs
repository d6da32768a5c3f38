//! Readable comparisons of command results.

use std::process::Output;

/// stdout, stderr and exit status as text; each line ends in `$` so that
/// trailing blanks and a missing final newline show in a diff.
pub fn render(out: &Output) -> String {
    let status = match (
        out.status.code(),
        std::os::unix::process::ExitStatusExt::signal(&out.status),
    ) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(sig)) => format!("killed by signal {sig}"),
        (None, None) => "exit status unknown".to_string(),
    };
    format!(
        "{status}\n--- stdout:\n{}--- stderr:\n{}",
        mark_lines(&out.stdout),
        mark_lines(&out.stderr)
    )
}

fn mark_lines(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut shown = String::new();
    let mut rest: &str = &text;
    while !rest.is_empty() {
        match rest.find('\n') {
            Some(i) => {
                shown.push_str(&rest[..i]);
                shown.push_str("$\n");
                rest = &rest[i + 1..];
            }
            None => {
                shown.push_str(rest);
                shown.push_str("  (no newline at end)\n");
                rest = "";
            }
        }
    }
    shown
}

/// Same stdout, stderr and exit status.
pub fn same_output(a: &Output, b: &Output) -> bool {
    a.stdout == b.stdout && a.stderr == b.stderr && a.status.code() == b.status.code()
}

/// The message of a panic payload.
pub fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "test panicked".to_string()
    }
}

/// Asserts that ours behaved exactly like ipvsadm 1.31 (same stdout, stderr,
/// exit status), with a line diff: `<` is ipvsadm 1.31, `>` is ours.
#[track_caller]
pub fn assert_same_output(what: &str, ours: &Output, reference: &Output) {
    if ours.stdout == reference.stdout
        && ours.stderr == reference.stderr
        && ours.status.code() == reference.status.code()
        && ours.status.success() == reference.status.success()
    {
        return;
    }
    pretty_assertions::assert_str_eq!(
        render(reference),
        render(ours),
        "\n`{what}`: ours differs from ipvsadm 1.31 (< ipvsadm 1.31, > ours)"
    );
    // Same text, different bytes (invalid UTF-8): still a failure.
    panic!("`{what}`: ours differs from ipvsadm 1.31 in non-UTF-8 bytes");
}

/// Asserts two texts are equal, with a line diff (`<` expected, `>` actual).
#[track_caller]
pub fn assert_text_eq(what: &str, expected: &str, actual: &str) {
    if expected != actual {
        pretty_assertions::assert_str_eq!(
            mark_lines(expected.as_bytes()),
            mark_lines(actual.as_bytes()),
            "\n{what} (< expected, > actual)"
        );
    }
}

/// Asserts a command succeeded silently (as ipvsadm does for changes).
#[track_caller]
pub fn assert_ok(what: &str, out: &Output) {
    if !(out.status.success() && out.stdout.is_empty() && out.stderr.is_empty()) {
        panic!("`{what}` should succeed silently, got:\n{}", render(out));
    }
}
