//! Checks of the test machinery itself.

use crate::support::{Ns, TestResult, Trial};

pub fn tests() -> Vec<Trial> {
    kernel_tests![
        commands_run_in_the_test_netns,
        reference_sees_an_empty_table
    ]
}

/// Commands spawned by a test inherit its thread's namespace, not the
/// process's: otherwise tests would share one IPVS table.
fn commands_run_in_the_test_netns(ns: &Ns) -> TestResult {
    let mine = std::fs::read_link("/proc/thread-self/ns/net")?;
    let process = std::fs::read_link(format!("/proc/{}/ns/net", std::process::id()))?;
    assert_ne!(mine, process, "the test thread should have its own netns");
    let out = ns.sh("readlink /proc/self/ns/net");
    let child = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert_eq!(
        child,
        mine.to_string_lossy(),
        "a spawned command runs in the test's netns"
    );
    // (/sys/class/net shows the netns that mounted /sys: ask ip instead.)
    let lo = ns.sh("ip -o link show lo");
    let lo = String::from_utf8_lossy(&lo.stdout);
    assert!(lo.contains(",UP"), "lo is up in the test's netns: {lo}");
    Ok(())
}

fn reference_sees_an_empty_table(ns: &Ns) -> TestResult {
    assert!(ns.table_is_empty(), "{}", ns.proc_ip_vs());
    let out = ns.reference_read(&["-Ln"]);
    crate::support::assert_text_eq(
        "ipvsadm 1.31 -Ln in a fresh netns",
        "IP Virtual Server version 1.2.1 (size=4096)\n\
         Prot LocalAddress:Port Scheduler Flags\n  \
         -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n",
        &String::from_utf8_lossy(&out.stdout),
    );
    assert!(
        out.status.success(),
        "{}",
        crate::support::compare::render(&out)
    );
    Ok(())
}
