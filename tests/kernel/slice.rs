//! The vertical slice: services and real servers made by one tool, listed
//! and saved by both, byte for byte.

use crate::support::ns::describe;
use crate::support::{
    Ns, TestResult, Trial, assert_ok, assert_same_output, assert_text_eq,
};

pub fn tests() -> Vec<Trial> {
    kernel_tests![
        empty_table_lists_the_same,
        made_by_ours_reads_back_the_same,
        made_by_reference_lists_the_same,
        kernel_errors_are_the_same,
        lifecycle_has_the_same_effect,
        restore_has_the_same_effect,
    ]
}

/// A small but varied table: TCP, UDP, fwmark and IPv6 services, every
/// forwarding method, weights, persistence, thresholds, scheduler flags,
/// and an edit.
const SLICE: &[&[&str]] = &[
    &["-A", "-t", "10.0.0.1:80", "-s", "rr"],
    &[
        "-a",
        "-t",
        "10.0.0.1:80",
        "-r",
        "10.0.0.2:8080",
        "-m",
        "-w",
        "3",
    ],
    &[
        "-a",
        "-t",
        "10.0.0.1:80",
        "-r",
        "10.0.0.3:8080",
        "-m",
        "-w",
        "1",
    ],
    &["-A", "-t", "10.0.0.1:443", "-s", "wlc", "-p", "600"],
    &[
        "-a",
        "-t",
        "10.0.0.1:443",
        "-r",
        "10.0.0.4",
        "-g",
        "-w",
        "2",
    ],
    &["-A", "-u", "10.0.0.1:53", "-s", "sh", "-b", "sh-port"],
    &[
        "-a",
        "-u",
        "10.0.0.1:53",
        "-r",
        "10.0.0.5:53",
        "-i",
        "-x",
        "100",
        "-y",
        "10",
    ],
    &["-A", "-f", "7", "-s", "wrr"],
    &["-a", "-f", "7", "-r", "10.0.0.6", "-g"],
    &["-A", "-t", "[2001:db8::1]:80", "-s", "lc"],
    &[
        "-a",
        "-t",
        "[2001:db8::1]:80",
        "-r",
        "[2001:db8::2]:8080",
        "-m",
    ],
    &[
        "-e",
        "-t",
        "10.0.0.1:80",
        "-r",
        "10.0.0.3:8080",
        "-m",
        "-w",
        "5",
    ],
];

/// Listings compared on every state.
const LISTINGS: &[&[&str]] = &[
    &["-Ln"],
    &["-Sn"],
    &["-Ln", "-t", "10.0.0.1:80"],
    &["-Ln", "--stats", "--exact"],
    &["-Ln", "--thresholds"],
    &["-Ln", "--persistent-conn"],
];

fn list_both(ns: &Ns) {
    for args in LISTINGS {
        ns.assert_same(args);
    }
}

fn empty_table_lists_the_same(ns: &Ns) -> TestResult {
    list_both(ns);
    Ok(())
}

fn made_by_ours_reads_back_the_same(ns: &Ns) -> TestResult {
    for args in SLICE {
        assert_ok(&format!("ours: {}", describe(args)), &ns.ours(args));
    }
    list_both(ns);
    let ours_made = ns.reference_read(&["-Sn"]);
    // The same commands through ipvsadm 1.31, from scratch.
    assert_ok("ipvsadm -C", &ns.reference(&["-C"]));
    for args in SLICE {
        assert_ok(
            &format!("ipvsadm 1.31: {}", describe(args)),
            &ns.reference(args),
        );
    }
    let reference_made = ns.reference_read(&["-Sn"]);
    assert_text_eq(
        "ipvsadm 1.31 -Sn of the state made by ours vs made by ipvsadm 1.31",
        &String::from_utf8_lossy(&reference_made.stdout),
        &String::from_utf8_lossy(&ours_made.stdout),
    );
    assert_same_output(
        "ipvsadm 1.31 -Sn (state by ours vs by 1.31)",
        &ours_made,
        &reference_made,
    );
    Ok(())
}

fn made_by_reference_lists_the_same(ns: &Ns) -> TestResult {
    for args in SLICE {
        assert_ok(
            &format!("ipvsadm 1.31: {}", describe(args)),
            &ns.reference(args),
        );
    }
    list_both(ns);
    Ok(())
}

/// Operations the kernel refuses: same message, same status, state unchanged.
fn kernel_errors_are_the_same(ns: &Ns) -> TestResult {
    assert_ok(
        "setup",
        &ns.reference(&["-A", "-t", "10.0.0.1:80", "-s", "rr"]),
    );
    assert_ok(
        "setup",
        &ns.reference(&["-a", "-t", "10.0.0.1:80", "-r", "10.0.0.2:80", "-m"]),
    );
    let refused: &[&[&str]] = &[
        &["-A", "-t", "10.0.0.1:80", "-s", "rr"],
        &["-a", "-t", "10.0.0.1:80", "-r", "10.0.0.2:80", "-m"],
        &["-a", "-t", "10.0.0.9:80", "-r", "10.0.0.2:80"],
        &["-d", "-t", "10.0.0.1:80", "-r", "10.0.0.7:80"],
        &["-e", "-t", "10.0.0.9:80", "-s", "wrr"],
        &["-D", "-t", "10.0.0.9:80"],
        &["-A", "-t", "10.0.0.5:80", "-s", "nosuchsched"],
        &["-Ln", "-t", "10.0.0.9:80"],
    ];
    for args in refused {
        ns.assert_same(args);
    }
    list_both(ns);
    Ok(())
}

/// Add, edit, delete, zero: every step and the final table, ours vs 1.31.
fn lifecycle_has_the_same_effect(ns: &Ns) -> TestResult {
    let steps: &[&[&str]] = &[
        &["-A", "-t", "10.0.0.1:80", "-s", "rr"],
        &["-a", "-t", "10.0.0.1:80", "-r", "10.0.0.2:80", "-m"],
        &[
            "-a",
            "-t",
            "10.0.0.1:80",
            "-r",
            "10.0.0.3:80",
            "-m",
            "-w",
            "2",
        ],
        &[
            "-a",
            "-t",
            "10.0.0.1:80",
            "-r",
            "10.0.0.4:80",
            "-m",
            "-w",
            "0",
        ],
        &["-a", "-t", "10.0.0.1:80", "-r", "10.0.0.2:80", "-m"],
        &[
            "-e",
            "-t",
            "10.0.0.1:80",
            "-r",
            "10.0.0.2:80",
            "-m",
            "-w",
            "7",
            "-x",
            "50",
        ],
        &[
            "-E",
            "-t",
            "10.0.0.1:80",
            "-s",
            "wlc",
            "-p",
            "120",
            "-M",
            "255.255.255.0",
        ],
        &["-d", "-t", "10.0.0.1:80", "-r", "10.0.0.4:80"],
        &["-d", "-t", "10.0.0.1:80", "-r", "10.0.0.4:80"],
        &["-A", "-u", "10.0.0.1:53", "-s", "lc", "-o"],
        &["-a", "-u", "10.0.0.1:53", "-r", "10.0.0.5", "-g"],
        &["-Z"],
        &["-Z", "-t", "10.0.0.1:80"],
        &["-D", "-u", "10.0.0.1:53"],
        &["-D", "-u", "10.0.0.1:53"],
        &[
            "-A",
            "-t",
            "[2001:db8::1]:443",
            "-s",
            "sh",
            "-b",
            "sh-fallback,sh-port",
        ],
        &[
            "-a",
            "-t",
            "[2001:db8::1]:443",
            "-r",
            "[2001:db8::7]:443",
            "-i",
        ],
    ];
    let steps: Vec<(&[&str], Option<&str>)> = steps.iter().map(|s| (*s, None)).collect();
    ns.assert_same_effect(&steps);
    Ok(())
}

/// `-R` of a save made by ipvsadm 1.31 (the SLICE table), ours vs 1.31.
fn restore_has_the_same_effect(ns: &Ns) -> TestResult {
    for args in SLICE {
        assert_ok(
            &format!("ipvsadm 1.31: {}", describe(args)),
            &ns.reference(args),
        );
    }
    let saved = ns.reference_read(&["-Sn"]);
    let saved = String::from_utf8(saved.stdout)?;
    assert!(saved.lines().count() >= SLICE.len() - 1, "save:\n{saved}");
    ns.flush();
    ns.assert_same_effect(&[(&["-R"], Some(saved.as_str()))]);
    Ok(())
}
