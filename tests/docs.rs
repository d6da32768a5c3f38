//! The shell completions in `completions/` and the man page in `man/` are
//! generated from the same option definition as the parser
//! (`cli::clap_command`). These tests fail when a committed file is stale;
//! `UPDATE_DOCS=1 cargo test --test docs` rewrites them.

use std::path::{Path, PathBuf};
use std::process::Command;

use clap_complete::Shell;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn generated_completion(shell: Shell) -> String {
    let mut cmd = ipvsadm_rs::cli::clap_command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "ipvsadm", &mut buf);
    String::from_utf8(buf).expect("completion scripts are UTF-8")
}

/// The man page: clap_mangen's NAME/SYNOPSIS/DESCRIPTION/OPTIONS sections,
/// followed by the hand-written sections in `man/sections.roff` (the
/// extensions, examples, exit status and differences from ipvsadm 1.31).
fn generated_man_page() -> String {
    let cmd = ipvsadm_rs::cli::clap_command();
    let man = clap_mangen::Man::new(cmd)
        .title("IPVSADM")
        .section("8")
        .source(format!("ipvsadm-rs {}", env!("CARGO_PKG_VERSION")))
        .manual("System Manager's Manual");
    let mut buf = Vec::new();
    man.render_title(&mut buf).expect("render to memory");
    man.render_name_section(&mut buf).expect("render to memory");
    man.render_synopsis_section(&mut buf)
        .expect("render to memory");
    man.render_description_section(&mut buf)
        .expect("render to memory");
    man.render_options_section(&mut buf)
        .expect("render to memory");
    let mut page = String::from_utf8(buf).expect("man page is UTF-8");
    let extra = std::fs::read_to_string(root().join("man/sections.roff"))
        .expect("man/sections.roff exists");
    page.push_str(&extra);
    page
}

fn check_or_update(path: &Path, expected: &str) {
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(path, expected).expect("write generated file");
        return;
    }
    let actual = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        actual == expected,
        "{} is stale: run `UPDATE_DOCS=1 cargo test --test docs` and commit the result",
        path.display()
    );
}

#[test]
fn completions_are_current() {
    for (shell, file) in [
        (Shell::Bash, "completions/ipvsadm.bash"),
        (Shell::Zsh, "completions/_ipvsadm"),
        (Shell::Fish, "completions/ipvsadm.fish"),
    ] {
        check_or_update(&root().join(file), &generated_completion(shell));
    }
}

#[test]
fn man_page_is_current() {
    check_or_update(&root().join("man/ipvsadm.8"), &generated_man_page());
}

#[test]
fn man_page_renders_without_warnings() {
    let page = root().join("man/ipvsadm.8");
    let out = Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-z"])
        .arg(&page)
        .output()
        .expect("groff is installed (tests/run-all installs groff-base)");
    assert!(out.status.success(), "groff failed: {out:?}");
    assert!(
        out.stderr.is_empty(),
        "groff warnings:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn man_page_documents_every_long_option() {
    let page = generated_man_page();
    for arg in ipvsadm_rs::cli::clap_command().get_arguments() {
        if let Some(long) = arg.get_long() {
            // roff escapes the dashes of option names.
            let escaped = format!("\\-\\-{}", long.replace('-', "\\-"));
            assert!(
                page.contains(&escaped) || page.contains(&format!("--{long}")),
                "--{long} missing from the man page"
            );
        }
    }
}
