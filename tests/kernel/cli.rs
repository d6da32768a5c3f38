//! Command lines that leave the table as it is (parse and validation
//! errors, read-only queries): same stdout, stderr and exit status as
//! ipvsadm 1.31. ipvsadm 1.31 opens IPVS before it parses anything, so even
//! these can only be compared on an IPVS kernel. Help and version differ on
//! purpose (README, "Differences from ipvsadm 1.31"): their text is checked
//! against our own documented behaviour here.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::support::compare::render;
use crate::support::{Ns, TestResult, Trial, assert_text_eq};

pub fn tests() -> Vec<Trial> {
    kernel_tests![
        queries_are_the_same,
        help_and_version_are_ours_with_1_31s_usage,
        help_and_version_need_no_root,
        invalid_command_lines_are_the_same
    ]
}

const QUERIES: &[&[&str]] = &[
    &[],
    &["-L"],
    &["-l"],
    &["--list", "--numeric"],
    &["-Lnc"],
    &["-L", "-n", "--timeout"],
    &["-L", "-n", "--daemon"],
    &["-Sn"],
    &["--save"],
    &["-Z"],
    &["-Z", "-t", "0.0.0.0:0"],
];

const INVALID: &[&[&str]] = &[
    &["--nosuchoption"],
    &["-X"],
    &["-A"],
    &["-A", "-t"],
    &["-A", "-t", "10.0.0.1"],
    &["-A", "-t", "10.0.0.1:80", "-s", "rr", "extra"],
    &["-A", "-t", "300.0.0.1:80"],
    &["-A", "-t", "10.0.0.1:99999"],
    &["-A", "-t", "10.0.0.13:80", "-o"],
    &["-A", "-t", "10.0.0.1:80", "-s", "RR"],
    &["-A", "-t", "10.0.0.1:80", "-b", "bogus"],
    &["-A", "-t", "10.0.0.1:80", "-b", "sh-port,flag-1"],
    &["-A", "-t", "10.0.0.1:80", "-p", "-5"],
    &["-A", "-t", "10.0.0.1:80", "-t", "10.0.0.2:80"],
    &["-A", "-f", "abc"],
    &["-A", "-f", "0"],
    &["-A", "-t", "10.0.0.1:80", "-r", "10.0.0.2"],
    &["-a", "-t", "10.0.0.1:80"],
    &["-a", "-t", "10.0.0.1:80", "-r", "10.0.0.2", "-w", "-1"],
    &["-a", "-t", "10.0.0.1:80", "-r", "10.0.0.2", "-w", "abc"],
    &["-a", "-t", "10.0.0.1:80", "-r", "10.0.0.2", "-m", "-g"],
    &["-a", "-t", "10.0.0.1:80", "-r", "[2001:db8::2]:80", "-m"],
    &["-a", "-t", "10.0.0.1:80", "-r", "10.0.0.2", "-x", "-1"],
    &["-D"],
    &["-D", "-t", "10.0.0.1:80", "-s", "rr"],
    &["-L", "-A"],
    &["-Ln", "-c", "--stats"],
    &["-Ln", "--stats", "--rate"],
    &["-Ln", "-t", "10.0.0.9:80"],
    &["--set", "1", "2"],
    &["--set", "a", "b", "c"],
    &["--start-daemon", "bogus"],
    &["-R", "-t", "10.0.0.1:80"],
];

/// Each command line from an empty table, through ours, then ipvsadm 1.31.
fn compare_from_empty(ns: &Ns, lines: &[&[&str]]) {
    for args in lines {
        ns.flush();
        let ours = ns.ours(args);
        ns.flush();
        let reference = ns.reference(args);
        ns.flush();
        crate::support::assert_same_output(
            &crate::support::ns::describe(args),
            &ours,
            &reference,
        );
    }
}

fn queries_are_the_same(ns: &Ns) -> TestResult {
    compare_from_empty(ns, QUERIES);
    Ok(())
}

/// `-v` names this program; `-h` keeps 1.31's usage lines and option
/// descriptions (every line of 1.31's help after its version line is in
/// ours, in the same order, apart from the lines we extend).
fn help_and_version_are_ours_with_1_31s_usage(ns: &Ns) -> TestResult {
    // README: "`-v` names this program and the version it is compatible
    // with"; 1.31's is its own line (spec, "-h and -v").
    for flag in ["-v", "--version"] {
        let ours = ns.ours(&[flag]);
        let reference = ns.reference(&[flag]);
        crate::support::assert_text_eq(
            &format!("ipvsadm {flag}: ours"),
            &format!(
                "exit status 0\n--- stdout:\nipvsadm-rs {} (compatible with ipvsadm v1.31 \
                 2019/12/24)$\n--- stderr:\n",
                env!("CARGO_PKG_VERSION")
            ),
            &crate::support::compare::render(&ours),
        );
        crate::support::assert_text_eq(
            &format!("ipvsadm {flag}: ipvsadm 1.31"),
            "exit status 0\n--- stdout:\nipvsadm v1.31 2019/12/24 (compiled with popt and \
             IPVS v1.2.1)$\n--- stderr:\n",
            &crate::support::compare::render(&reference),
        );
    }
    let ours = ns.ours(&["-h"]);
    let reference = ns.reference(&["-h"]);
    assert!(ours.status.success() && reference.status.success());
    let ours = String::from_utf8_lossy(&ours.stdout).into_owned();
    let reference = String::from_utf8_lossy(&reference.stdout).into_owned();
    // Lines we extend (`--atomic`, output options, `--drain`, `-X`) or
    // correct (the syncid default is 0, not 255).
    let extended = [
        "  ipvsadm -R",
        "  ipvsadm -L|l",
        "  ipvsadm -d",
        "  --exact",
        "  --syncid",
    ];
    let mut our_lines = ours.lines().skip(1);
    for line in reference.lines().skip(1) {
        if extended.iter().any(|e| line.starts_with(e)) {
            continue;
        }
        assert!(
            our_lines.any(|l| l == line),
            "1.31's help line missing from ours (or out of order): {line:?}\n{ours}"
        );
    }
    Ok(())
}

fn invalid_command_lines_are_the_same(ns: &Ns) -> TestResult {
    compare_from_empty(ns, INVALID);
    Ok(())
}

/// Runs `program ARGS` (argv[0] `ipvsadm`) as nobody (uid and gid 65534).
fn as_nobody(program: &Path, args: &[&str]) -> Output {
    Command::new(program)
        .arg0("ipvsadm")
        .args(args)
        .uid(65534)
        .gid(65534)
        .stdin(Stdio::null())
        .output()
        .expect("runs as nobody")
}

/// README ("Differences from ipvsadm 1.31"): 1.31's `-h` and `-v` fail
/// without root (it opens IPVS first; spec, "IPVS unavailable / not root",
/// captured); ours answer as they do for root.
fn help_and_version_need_no_root(ns: &Ns) -> TestResult {
    let refused = "exit status 2\n--- stdout:\n--- stderr:\n\
                   Can't initialize ipvs: Permission denied (you must be root)$\n\
                   Are you sure that IP Virtual Server is built in the kernel or as module?$\n";
    for flag in ["-v", "-h"] {
        assert_text_eq(
            &format!("ipvsadm 1.31 {flag} as nobody"),
            refused,
            &render(&as_nobody(ns.reference_path(), &[flag])),
        );
        assert_text_eq(
            &format!("ours {flag} as nobody: as for root"),
            &render(&ns.ours(&[flag])),
            &render(&as_nobody(ns.ours_path(), &[flag])),
        );
        let ours = ns.ours(&[flag]);
        assert!(
            ours.status.success() && !ours.stdout.is_empty(),
            "{}",
            render(&ours)
        );
    }
    Ok(())
}
