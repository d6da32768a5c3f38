//! Command lines that leave the table as it is (help, version, parse and
//! validation errors, read-only queries): same stdout, stderr and exit status
//! as ipvsadm 1.31. ipvsadm 1.31 opens IPVS before it parses anything, so
//! even these can only be compared on an IPVS kernel.

use crate::support::{Ns, TestResult, Trial};

pub fn tests() -> Vec<Trial> {
    kernel_tests![
        help_version_and_queries_are_the_same,
        invalid_command_lines_are_the_same
    ]
}

const QUERIES: &[&[&str]] = &[
    &[],
    &["-h"],
    &["--help"],
    &["-v"],
    &["--version"],
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

fn help_version_and_queries_are_the_same(ns: &Ns) -> TestResult {
    compare_from_empty(ns, QUERIES);
    Ok(())
}

fn invalid_command_lines_are_the_same(ns: &Ns) -> TestResult {
    compare_from_empty(ns, INVALID);
    Ok(())
}
