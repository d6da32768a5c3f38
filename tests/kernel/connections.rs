//! `-c` with real connections, byte for byte against ipvsadm 1.31.
//!
//! Both tools render `/proc/net/ip_vs_conn`, whose expiry column the kernel
//! computes at each read: two runs a moment apart can differ by a second
//! in any line. So the kernel's text is captured once, after real traffic,
//! and each tool then runs with exactly that text as its
//! `/proc/net/ip_vs_conn` (a private mount namespace with a tmpfs on
//! `/proc` holding only that file): the same input, so the outputs must be
//! the same bytes, every line, with nothing dropped or sorted.
//!
//! The traffic: the kube-proxy scenario's HTTP requests through a
//! round-robin TCP service, and SIP-like UDP datagrams (with `Call-ID`
//! headers) through a persistent UDP service with the `sip` persistence
//! engine, whose connections and templates the kernel lists with the
//! engine's name and the Call-ID (`PEName PEData`).

use std::ffi::CString;
use std::net::UdpSocket;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::support::demo::{KubeDemo, VIP};
use crate::support::{
    Ns, TestResult, Trial, assert_ok, assert_same_output, compare::render,
};

pub fn tests() -> Vec<Trial> {
    kernel_tests![
        connection_listings_are_1_31s_byte_for_byte,
        a_malformed_connection_table
    ]
}

/// The SIP service, persistent so that the engine keeps a template per
/// Call-ID.
const SIP_SERVICE: &str = "10.200.1.76:5060";

/// Call-IDs of the datagrams sent.
const CALL_IDS: [&str; 2] = ["a84b4c76e66710@client", "3848276298220188511@atlanta"];

/// The views of the connection table, as 1.31 knows them.
const VIEWS: &[&[&str]] = &[
    &["-Lnc"],
    &["-Lc"],
    &["-L", "-c", "-n", "--persistent-conn"],
    &["-Lc", "--persistent-conn"],
    &["-Lnc", "--exact", "--nosort"],
];

fn connection_listings_are_1_31s_byte_for_byte(ns: &Ns) -> TestResult {
    let demo = KubeDemo::setup(ns, "c")?;
    for args in [
        format!("-A -u {SIP_SERVICE} -s rr -p 60 --pe sip"),
        format!("-a -u {SIP_SERVICE} -r 10.10.1.2:5060 -m"),
        format!("-a -u {SIP_SERVICE} -r 10.10.2.2:5060 -m"),
    ] {
        let args: Vec<&str> = args.split(' ').collect();
        assert_ok(
            &format!("ipvsadm-1.31 {}", args.join(" ")),
            &ns.reference(&args),
        );
    }
    let traffic = demo.step_with_requests("traffic", 6);
    assert!(traffic.status.success(), "traffic:\n{}", render(&traffic));
    send_sip_datagrams(&format!("/run/netns/{}net-pod", demo.prefix()))?;

    let captured = std::fs::read("/proc/thread-self/net/ip_vs_conn")?;
    let text = String::from_utf8_lossy(&captured);
    // The kernel saw the traffic: HTTP connections to the VIP, and for
    // each Call-ID a connection and a template with the sip engine.
    let http = text
        .lines()
        .filter(|l| l.contains(" 0AC8014C 2328 "))
        .count();
    assert!(
        http >= 6,
        "the kernel lists the 6 HTTP connections:\n{text}"
    );
    for call_id in CALL_IDS {
        let with_engine = text
            .lines()
            .filter(|l| l.ends_with(&format!(" sip {call_id}")))
            .count();
        assert!(
            with_engine >= 1,
            "the kernel lists the engine's entry for `sip {call_id}`:\n{text}"
        );
    }

    for view in VIEWS {
        let ours = on_frozen_table(ns.ours_path(), view, &captured)?;
        let reference = on_frozen_table(ns.reference_path(), view, &captured)?;
        assert_same_output(
            &format!("ipvsadm {} on the captured table:\n{text}", view.join(" ")),
            &ours,
            &reference,
        );
        assert!(
            reference.status.success(),
            "ipvsadm 1.31 {}:\n{}",
            view.join(" "),
            render(&reference)
        );
    }
    // 1.31 shows the engine's columns, as the spec says, for these rows.
    let reference = on_frozen_table(
        ns.reference_path(),
        &["-Lnc", "--persistent-conn"],
        &captured,
    )?;
    let shown = String::from_utf8_lossy(&reference.stdout);
    for call_id in CALL_IDS {
        assert!(
            shown.lines().any(|l| {
                let fields: Vec<&str> = l.split_whitespace().collect();
                l.contains(SIP_SERVICE) && fields.ends_with(&["sip", call_id])
            }),
            "1.31's --persistent-conn rows show `sip {call_id}`:\n{shown}"
        );
    }
    Ok(())
}

/// README ("Differences from ipvsadm 1.31"): on a malformed line in
/// `/proc/net/ip_vs_conn` 1.31 "prints garbage or stops silently"; ours
/// prints nothing and says `unexpected input from /proc/net/ip_vs_conn`,
/// exit 1. Both tools run on the same malformed tables; 1.31's output is
/// what it printed when captured here.
fn a_malformed_connection_table(ns: &Ns) -> TestResult {
    const HEADER: &str = "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n";
    const LISTING_HEADER: &str = "IPVS connection entries\n\
         pro expire state       source             virtual            destination\n";
    // A line cut short after the client address: 1.31 prints a line for it,
    // the missing fields being whatever its buffers held (unset: not
    // compared), and succeeds.
    let cut_short = format!("{HEADER}TCP 0AC8014C\n");
    // A port that is no hexadecimal number, after a good line: 1.31 prints
    // the bad line with that port as 0 and the fields after it left from
    // the line before (as captured from it here).
    let bad_port = format!(
        "{HEADER}TCP AC100002 9A2E 0AC8014C 2328 0A0A0302 0050 TIME_WAIT       119\n\
         TCP AC100002 XYZW 0AC8014C 2328 0A0A0302 0050 TIME_WAIT       119\n"
    );
    for table in [&cut_short, &bad_port] {
        let ours = on_frozen_table(ns.ours_path(), &["-Lnc"], table.as_bytes())?;
        crate::support::assert_text_eq(
            &format!("ours -Lnc on:\n{table}"),
            "exit status 1\n--- stdout:\n--- stderr:\n\
             unexpected input from /proc/net/ip_vs_conn$\n",
            &render(&ours),
        );
    }
    let reference =
        on_frozen_table(ns.reference_path(), &["-Lnc"], cut_short.as_bytes())?;
    let shown = String::from_utf8_lossy(&reference.stdout);
    assert!(
        reference.status.success()
            && reference.stderr.is_empty()
            && shown.starts_with(LISTING_HEADER)
            && shown[LISTING_HEADER.len()..].starts_with("TCP ")
            && shown.lines().count() == 3,
        "ipvsadm 1.31 -Lnc on a line cut short:\n{}",
        render(&reference)
    );
    let reference = on_frozen_table(ns.reference_path(), &["-Lnc"], bad_port.as_bytes())?;
    crate::support::assert_text_eq(
        "ipvsadm 1.31 -Lnc on a bad port",
        &format!(
            "exit status 0\n--- stdout:\n{}\
             TCP 01:59  TIME_WAIT   172.16.0.2:39470   10.200.1.76:9000   10.10.3.2:80$\n\
             TCP 01:59  TIME_WAIT   172.16.0.2:0       10.200.1.76:0      10.10.3.2:80$\n\
             --- stderr:\n",
            LISTING_HEADER.replace('\n', "$\n")
        ),
        &render(&reference),
    );
    Ok(())
}

/// Sends two SIP INVITEs (UDP) for each Call-ID from the client pod to the
/// SIP service: the sip engine reads the `Call-ID` header of each datagram.
fn send_sip_datagrams(client_netns: &str) -> TestResult {
    let netns = std::fs::File::open(client_netns)?;
    let sender = std::thread::spawn(move || -> std::io::Result<()> {
        nix::sched::setns(&netns, nix::sched::CloneFlags::CLONE_NEWNET)
            .map_err(std::io::Error::from)?;
        for call_id in CALL_IDS {
            let socket = UdpSocket::bind("0.0.0.0:0")?;
            let invite = format!(
                "INVITE sip:bob@{VIP} SIP/2.0\r\n\
                 Via: SIP/2.0/UDP 172.16.0.2:5060\r\n\
                 From: <sip:alice@172.16.0.2>;tag=1\r\n\
                 To: <sip:bob@{VIP}>\r\n\
                 Call-ID: {call_id}\r\n\
                 CSeq: 1 INVITE\r\n\
                 Content-Length: 0\r\n\r\n"
            );
            for _ in 0..2 {
                socket.send_to(invite.as_bytes(), SIP_SERVICE)?;
            }
        }
        Ok(())
    });
    sender
        .join()
        .map_err(|_| "the SIP sender panicked")?
        .map_err(|e| format!("cannot send the SIP datagrams: {e}"))?;
    Ok(())
}

/// Runs `program ARGS` (argv[0] `ipvsadm`) in the test's network namespace
/// with `conns` as its `/proc/net/ip_vs_conn`: in a mount namespace of its
/// own, a tmpfs on `/proc` holds that one file.
fn on_frozen_table(
    program: &Path,
    args: &[&str],
    conns: &[u8],
) -> std::io::Result<Output> {
    let cstr = |s: &str| CString::new(s).expect("no NUL");
    let (root, proc_dir, net_dir, file, tmpfs) = (
        cstr("/"),
        cstr("/proc"),
        cstr("/proc/net"),
        cstr("/proc/net/ip_vs_conn"),
        cstr("tmpfs"),
    );
    let content = conns.to_vec();
    let mut cmd = Command::new(program);
    cmd.arg0("ipvsadm")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: only async-signal-safe system calls between fork and exec, on
    // buffers made before the fork.
    unsafe {
        cmd.pre_exec(move || {
            let check = |rc: libc::c_int| {
                if rc < 0 {
                    Err(std::io::Error::last_os_error())
                } else {
                    Ok(rc)
                }
            };
            check(libc::unshare(libc::CLONE_NEWNS))?;
            check(libc::mount(
                std::ptr::null(),
                root.as_ptr(),
                std::ptr::null(),
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            ))?;
            check(libc::mount(
                tmpfs.as_ptr(),
                proc_dir.as_ptr(),
                tmpfs.as_ptr(),
                0,
                std::ptr::null(),
            ))?;
            check(libc::mkdir(net_dir.as_ptr(), 0o755))?;
            let fd = check(libc::open(
                file.as_ptr(),
                libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC | libc::O_CLOEXEC,
                0o444,
            ))?;
            let mut rest: &[u8] = &content;
            while !rest.is_empty() {
                let n = libc::write(fd, rest.as_ptr().cast(), rest.len());
                if n <= 0 {
                    return Err(std::io::Error::last_os_error());
                }
                rest = &rest[n as usize..];
            }
            check(libc::close(fd))?;
            Ok(())
        });
    }
    cmd.output()
}
