//! The binary, run as users run it, on a machine that needs no IPVS: help,
//! version, argument errors, and output to a closed pipe. Everything that
//! touches the kernel is in the kernel tests (tests/kernel).

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

use assert_cmd::cargo::CommandCargoExt;

fn ipvsadm() -> Command {
    let mut cmd = Command::cargo_bin("ipvsadm").expect("the ipvsadm binary is built");
    cmd.arg0("ipvsadm");
    cmd
}

fn run(args: &[&str]) -> (String, String, i32) {
    let out = ipvsadm().args(args).output().expect("runs");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

#[test]
fn help_needs_neither_root_nor_ipvs() {
    for flag in ["-h", "--help"] {
        let (out, err, rc) = run(&[flag]);
        assert_eq!(rc, 0, "{flag}: {err}");
        assert!(err.is_empty(), "{flag}: {err}");
        assert!(out.contains("Usage:"), "{out}");
        for option in [
            "--add-service",
            "--tcp-service",
            "--weight",
            "--json",
            "--watch",
        ] {
            assert!(out.contains(option), "help lacks {option}:\n{out}");
        }
    }
    if is_root() {
        // As an unprivileged user too (ipvsadm 1.31 fails here).
        let out = ipvsadm()
            .arg("-h")
            .uid(65534)
            .gid(65534)
            .output()
            .expect("runs as nobody");
        assert!(out.status.success(), "{out:?}");
        assert!(String::from_utf8_lossy(&out.stdout).contains("Usage:"));
    }
}

#[test]
fn version_names_this_program() {
    for flag in ["-v", "--version"] {
        let (out, err, rc) = run(&[flag]);
        assert_eq!(rc, 0, "{err}");
        assert!(
            out.starts_with(&format!("ipvsadm-rs {}", env!("CARGO_PKG_VERSION"))),
            "{out}"
        );
        assert!(out.contains("ipvsadm v1.31"), "{out}");
        assert!(out.ends_with('\n') && out.lines().count() == 1, "{out:?}");
    }
}

#[test]
fn usage_errors_come_before_ipvs() {
    // None of these reach the kernel, so they behave the same with or
    // without IPVS (ipvsadm 1.31 would first fail to initialise IPVS on a
    // machine without it).
    let cases: &[(&[&str], &str, i32)] = &[
        (
            &["-n", "-L"],
            "Try `ipvsadm -h' or 'ipvsadm --help' for more information.\n",
            255,
        ),
        (&["-L", "--foo"], "--foo: unknown option\n", 255),
        (
            &["-A", "-t", "10.0.0.1:80", "-s"],
            "-s: missing argument\n",
            255,
        ),
        (&["-L", "-A"], "invalid option `-A'\n", 2),
        (
            &["-a", "-t", "10.0.0.1:80"],
            "You need to supply the 'real-server' option for the 'add-server' command\n",
            2,
        ),
        (
            &["-A", "-t", "10.0.0.13:80", "-o"],
            "One-Packet Scheduling is only for UDP virtual services\n",
            2,
        ),
        (
            &["-A", "-t", "10.0.0.1:80", "-t", "10.0.0.2:80"],
            "multiple 'service-address' options specified\n",
            2,
        ),
        (
            &["-A", "-t", "10.0.0.1:99999"],
            "illegal virtual server address[:port] specified\n",
            2,
        ),
        (
            &["-Z", "-f", "x"],
            "invalid fwmark value `x' specified\n",
            2,
        ),
        (
            &["--set", "1", "2"],
            "--set option requires 3 timeout values\n",
            2,
        ),
    ];
    for (args, stderr, code) in cases {
        let (out, err, rc) = run(args);
        assert_eq!(
            (out.as_str(), err.as_str(), rc),
            ("", *stderr, *code),
            "ipvsadm {args:?}"
        );
    }
}

#[test]
fn empty_sched_flag_is_rejected() {
    // ipvsadm 1.31 dies with SIGSEGV on `-b ,`.
    let (out, err, rc) = run(&["-A", "-t", "10.0.0.1:80", "-s", "sh", "-b", ","]);
    assert_eq!(rc, 2);
    assert!(out.is_empty());
    assert!(!err.is_empty() && !err.contains("panicked"), "{err}");
}

#[test]
fn hostile_arguments_are_rejected_cleanly() {
    let long = "1".repeat(100_000);
    for args in [
        vec!["-A", "-t", long.as_str()],
        vec!["-A", "-t", "10.0.0.1:80", "-s", long.as_str()],
    ] {
        let (out, err, rc) = run(&args);
        assert_eq!(rc, 2, "{err}");
        assert!(out.is_empty());
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn a_closed_pipe_ends_quietly() {
    // The reader is gone before we write a byte.
    let (reader, writer) = nix::unistd::pipe().expect("pipe");
    drop(reader);
    let out = ipvsadm()
        .arg("-h")
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn output_options_only_go_with_listings() {
    let (out, err, rc) = run(&["-A", "-t", "10.0.0.1:80", "--json"]);
    assert_eq!(rc, 2, "{err}");
    assert!(out.is_empty());
    assert!(!err.is_empty());
}
