//! Reliability on a real IPVS kernel: safe restore (`-R`, `-R --atomic`)
//! with a failure in the middle of a large input, failure modes (not root,
//! unknown scheduler, missing namespace, unreadable connection table,
//! closed pipe) and listings, saves and watches while another process adds
//! and removes thousands of services.

use std::collections::HashSet;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::demo::KubeDemo;
use crate::support::terminal::{ENTER, FRAME, LEAVE, PtyChild};
use crate::support::{Ns, TestResult, Trial, assert_ok, assert_text_eq, compare::render};

pub fn tests() -> Vec<Trial> {
    kernel_tests![
        restore_reports_every_kernel_failure_by_line_and_applies_the_rest,
        atomic_restore_with_a_failure_leaves_the_table_exactly_as_before,
        restore_with_an_invalid_line_applies_nothing,
        failure_modes_have_clear_messages,
        views_stay_consistent_while_services_churn,
    ]
}

/// Services in the large restores: enough lines for several batches.
const LARGE: usize = 1200;

/// Service `i` of a generated table is `10.1.X.Y:80`; its real servers are
/// only ever `10.2.X.Y:*`, so a real server listed under another service
/// shows at once.
fn octets(i: usize) -> (usize, usize) {
    (i / 200, i % 200 + 1)
}

fn service_of(i: usize) -> String {
    let (x, y) = octets(i);
    format!("10.1.{x}.{y}:80")
}

fn real_server_of(i: usize, port: u16) -> String {
    let (x, y) = octets(i);
    format!("10.2.{x}.{y}:{port}")
}

/// `-A` and `-a` lines for services `from..to`, one real server each.
fn add_lines(from: usize, to: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for i in from..to {
        lines.push(format!("-A -t {} -s rr", service_of(i)));
        lines.push(format!(
            "-a -t {} -r {} -m -w {}",
            service_of(i),
            real_server_of(i, 80),
            i % 5 + 1
        ));
    }
    lines
}

fn stdout_of(what: &str, out: &Output) -> String {
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "`{what}` failed:\n{}",
        render(out)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr_text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The table as ipvsadm 1.31 shows it: save, statistics (exact) and
/// timeouts.
fn table_by_reference(ns: &Ns) -> [String; 3] {
    [
        stdout_of("ipvsadm-1.31 -Sn", &ns.reference_read(&["-Sn"])),
        stdout_of(
            "ipvsadm-1.31 -Ln --stats --exact",
            &ns.reference_read(&["-Ln", "--stats", "--exact"]),
        ),
        stdout_of(
            "ipvsadm-1.31 -L --timeout",
            &ns.reference(&["-L", "--timeout"]),
        ),
    ]
}

fn assert_table_unchanged(before: &[String; 3], after: &[String; 3]) {
    for (what, (b, a)) in ["-Sn", "-Ln --stats --exact", "-L --timeout"]
        .iter()
        .zip(before.iter().zip(after))
    {
        assert_text_eq(&format!("ipvsadm-1.31 {what}, before and after"), b, a);
    }
}

/// Kernel failures in the middle of a large input (a real server for a
/// missing service, an unknown scheduler, a duplicate service): every
/// other line is applied, exactly as ipvsadm 1.31 applies the same input;
/// every failure is reported as `line N: ` and 1.31's message; the exit
/// status is non-zero although the last line succeeded (1.31 exits 0).
fn restore_reports_every_kernel_failure_by_line_and_applies_the_rest(
    ns: &Ns,
) -> TestResult {
    let mut lines = add_lines(0, LARGE);
    let third = lines.len() / 3;
    let failing = [
        (third, "-a -t 10.9.9.9:80 -r 10.2.0.1:80 -m".to_string()),
        (2 * third, "-A -t 10.9.9.8:80 -s nosuch".to_string()),
        (3 * third - 1, format!("-A -t {} -s wlc", service_of(0))),
    ];
    for (at, line) in &failing {
        lines.insert(*at, line.clone());
    }
    let input = lines.join("\n") + "\n";

    let ours = ns.ours_stdin(&["-R"], &input);
    let ours_saved = stdout_of("ipvsadm-1.31 -Sn", &ns.reference_read(&["-Sn"]));
    ns.flush();
    let reference = ns.reference_stdin(&["-R"], &input);
    let ref_saved = stdout_of("ipvsadm-1.31 -Sn", &ns.reference_read(&["-Sn"]));
    ns.flush();

    assert_text_eq(
        "the table after ours and after ipvsadm 1.31 (-Sn)",
        &ref_saved,
        &ours_saved,
    );
    assert_eq!(
        ours_saved.lines().filter(|l| l.starts_with("-A ")).count(),
        LARGE,
        "every service but the failing ones is there"
    );
    // 1.31 prints the same messages, without line numbers.
    let ref_messages: Vec<&str> =
        std::str::from_utf8(&reference.stderr)?.lines().collect();
    assert_eq!(ref_messages.len(), failing.len(), "{}", render(&reference));
    let expected: String = failing
        .iter()
        .zip(&ref_messages)
        .map(|((at, _), message)| format!("line {}: {message}\n", at + 1))
        .collect();
    assert_text_eq("our restore's messages", &expected, &stderr_text(&ours));
    assert!(ours.stdout.is_empty(), "{}", render(&ours));
    assert_eq!(ours.status.code(), Some(255), "{}", render(&ours));
    assert_eq!(
        reference.status.code(),
        Some(0),
        "1.31 reports only the last line"
    );
    Ok(())
}

/// The kube-proxy demo (three pods, real HTTP traffic) and other services
/// with persistence, weights and a fwmark, and custom timeouts; then an
/// `-R --atomic` that edits them, deletes one, sets timeouts and adds
/// thousands of lines with a failure in the middle, followed by `-Z`, `-D`
/// and `-C`. Afterwards ipvsadm
/// 1.31 shows exactly the table from before: settings, order of real
/// servers, timeouts and the counters of the traffic.
fn atomic_restore_with_a_failure_leaves_the_table_exactly_as_before(
    ns: &Ns,
) -> TestResult {
    let demo = KubeDemo::setup(ns, "rel")?;
    let traffic = demo.step("traffic");
    assert!(traffic.status.success(), "traffic:\n{}", render(&traffic));
    ns.await_stats("the demo service's 100 connections", |text| {
        text.lines().any(|l| {
            l.starts_with("TCP  10.200.1.76:9000")
                && l.split_whitespace().nth(2) == Some("100")
        })
    });
    ns.await_settled_counters();
    for args in [
        &[
            "-A",
            "-u",
            "10.3.0.1:53",
            "-s",
            "sh",
            "-b",
            "sh-port",
            "-p",
            "120",
        ][..],
        &[
            "-a",
            "-u",
            "10.3.0.1:53",
            "-r",
            "10.3.1.1:53",
            "-g",
            "-w",
            "3",
        ],
        &[
            "-a",
            "-u",
            "10.3.0.1:53",
            "-r",
            "10.3.1.2:53",
            "-g",
            "-w",
            "0",
        ],
        &["-A", "-f", "7", "-s", "wlc"],
        &["-a", "-f", "7", "-r", "10.3.2.1", "-i", "-w", "2"],
        &[
            "-a", "-f", "7", "-r", "10.3.2.2", "-i", "-w", "5", "-x", "100",
        ],
        &["--set", "100", "20", "30"],
    ] {
        assert_ok(&crate::support::ns::describe(args), &ns.ours(args));
    }
    let before = table_by_reference(ns);
    let demo_stats = before[1]
        .lines()
        .find(|l| l.starts_with("TCP  10.200.1.76:9000"))
        .expect("the demo service is listed");
    assert!(
        demo_stats.split_whitespace().nth(2) == Some("100"),
        "the demo service carried 100 connections: {demo_stats}"
    );

    let mut lines = vec![
        "-E -t 10.200.1.76:9000 -s wlc -p 60".to_string(),
        "-e -t 10.200.1.76:9000 -r 10.10.1.2:80 -m -w 9".to_string(),
        "-E -u 10.3.0.1:53 -s rr".to_string(),
        "--set 5 6 7".to_string(),
        "-D -f 7".to_string(),
        "-d -u 10.3.0.1:53 -r 10.3.1.2:53".to_string(),
    ];
    lines.extend(add_lines(0, LARGE));
    let failing_at = lines.len() / 2;
    lines.insert(
        failing_at,
        "-a -t 10.9.9.9:80 -r 10.2.0.1:80 -m".to_string(),
    );
    lines.extend(add_lines(LARGE, LARGE + 100));
    // After the failure: changes that would lose the demo's counters (and
    // could not be undone exactly) must never be sent.
    lines.extend(
        ["-Z", "-D -t 10.200.1.76:9000", "-C"]
            .iter()
            .map(|l| l.to_string()),
    );
    lines.extend(add_lines(LARGE + 100, LARGE + 150));
    let input = lines.join("\n") + "\n";

    let ours = ns.ours_stdin(&["-R", "--atomic"], &input);
    let after = table_by_reference(ns);
    assert_table_unchanged(&before, &after);

    let err = stderr_text(&ours);
    let (first, rest) = err.split_once('\n').unwrap_or((&err, ""));
    assert_eq!(
        first,
        format!("line {}: Service not defined", failing_at + 1),
        "{}",
        render(&ours)
    );
    let rolled_back: usize = rest
        .strip_prefix("restore: rolled back ")
        .and_then(|r| r.strip_suffix(" applied changes\n"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a rollback report:\n{}", render(&ours)));
    assert!(
        rolled_back >= failing_at && rolled_back < lines.len(),
        "every line before the failure was applied, then undone ({rolled_back})"
    );
    assert!(ours.stdout.is_empty());
    assert_eq!(ours.status.code(), Some(255), "{}", render(&ours));
    drop(demo);
    Ok(())
}

/// Invalid lines (a bad weight, an impossible address, a NUL byte, an
/// absurdly long argument) in
/// the middle of a large input: each reported with its number and ipvsadm's
/// words for it, nothing applied, exit status that of the first.
fn restore_with_an_invalid_line_applies_nothing(ns: &Ns) -> TestResult {
    for args in [
        &["-A", "-t", "10.0.0.1:80", "-s", "wrr", "-p", "30"][..],
        &[
            "-a",
            "-t",
            "10.0.0.1:80",
            "-r",
            "10.0.1.1:80",
            "-m",
            "-w",
            "4",
        ],
    ] {
        assert_ok(&crate::support::ns::describe(args), &ns.ours(args));
    }
    let before = table_by_reference(ns);

    let mut lines = add_lines(0, LARGE);
    let bad_weight = ["-a", "-t", "10.1.0.1:80", "-r", "10.2.0.1:81", "-w", "abc"];
    let bad_address = ["-A", "-t", "300.0.0.1:80"];
    let invalid = [
        (lines.len() / 2, bad_weight.join(" ")),
        (lines.len() / 2 + 500, bad_address.join(" ")),
        (lines.len() - 3, "-A -t 10.9.0.1:80\0 -s rr".to_string()),
        (
            lines.len() - 2,
            format!("-A -t 10.9.0.2:80 -s {}", "r".repeat(100_000)),
        ),
    ];
    for (at, line) in &invalid {
        lines.insert(*at, line.clone());
    }
    let input = lines.join("\n") + "\n";
    let ours = ns.ours_stdin(&["-R"], &input);
    assert_table_unchanged(&before, &table_by_reference(ns));

    // ipvsadm 1.31's message for each command line (its first line: 1.31
    // adds a `Try ...` hint after some).
    let words = |args: &[&str]| {
        let out = ns.reference(args);
        let err = stderr_text(&out);
        (
            err.lines().next().unwrap_or("").to_string(),
            out.status.code(),
        )
    };
    let (weight_message, weight_status) = words(&bad_weight);
    let (address_message, _) = words(&bad_address);
    let expected = format!(
        "line {}: {weight_message}\nline {}: {address_message}\n\
         line {}: argument `10.9.0.1:80\\0' contains a NUL byte\n\
         line {}: argument too long (100000 bytes, at most 4096)\n\
         restore: 4 invalid lines, nothing applied\n",
        invalid[0].0 + 1,
        invalid[1].0 + 1,
        invalid[2].0 + 1,
        invalid[3].0 + 1,
    );
    assert_text_eq("invalid lines reported", &expected, &stderr_text(&ours));
    assert!(ours.stdout.is_empty());
    assert_eq!(ours.status.code(), weight_status, "{}", render(&ours));
    assert_eq!(ours.status.code(), Some(2));
    Ok(())
}

/// `program` (our ipvsadm or 1.31) with argv[0] `ipvsadm`.
fn command(program: &std::path::Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(program);
    cmd.arg0("ipvsadm").args(args).stdin(Stdio::null());
    cmd
}

fn output_of(mut cmd: Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// Runs `cmd` as nobody (uid and gid 65534; std drops the supplementary
/// groups when it changes the uid).
fn as_nobody(mut cmd: Command) -> Output {
    cmd.uid(65534).gid(65534);
    output_of(cmd)
}

/// `linux/capability.h` (not in the libc crate).
const CAP_DAC_OVERRIDE: libc::c_ulong = 1;
const CAP_DAC_READ_SEARCH: libc::c_ulong = 2;

/// Runs `cmd` as root without the capabilities that let root read any
/// file (so a mode 000 file is unreadable even to root).
fn without_dac_override(mut cmd: Command) -> Output {
    // SAFETY: prctl is async-signal-safe and touches no memory of ours.
    unsafe {
        cmd.pre_exec(|| {
            for cap in [CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH] {
                if libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    output_of(cmd)
}

fn failure_modes_have_clear_messages(ns: &Ns) -> TestResult {
    // Not root: ipvsadm 1.31's words and status, for a listing, a change
    // and a restore.
    assert_ok("setup", &ns.ours(&["-A", "-t", "10.0.0.1:80"]));
    for args in [
        &["-Ln"][..],
        &["-Sn"],
        &["-A", "-t", "10.0.0.2:80"],
        &["-D", "-t", "10.0.0.1:80"],
        &["-R"],
    ] {
        let ours = as_nobody(command(ns.ours_path(), args));
        let reference = as_nobody(command(ns.reference_path(), args));
        crate::support::assert_same_output(
            &format!("as nobody: {}", crate::support::ns::describe(args)),
            &ours,
            &reference,
        );
        assert!(!ours.status.success() && !ours.stderr.is_empty());
    }
    assert_eq!(
        ns.reference_read(&["-Sn"]).stdout,
        b"-A -t 10.0.0.1:80 -s wlc\n",
        "nobody changed nothing"
    );

    // Unknown scheduler: 1.31's message and status, nothing added.
    ns.assert_same_effect(&[(&["-A", "-t", "10.0.0.3:80", "-s", "nosuch"], None)]);

    // A network namespace that does not exist.
    for (netns, why) in [
        ("nosuch", "/run/netns/nosuch): No such file or directory"),
        (
            "/proc/nosuch/ns/net",
            "/proc/nosuch/ns/net): No such file or directory",
        ),
    ] {
        let out = ns.ours(&["--netns", netns, "-Ln"]);
        assert_eq!(
            stderr_text(&out),
            format!("cannot enter network namespace '{netns}' ({why}\n"),
            "{}",
            render(&out)
        );
        assert!(out.stdout.is_empty());
        assert_eq!(out.status.code(), Some(2), "{}", render(&out));
    }

    // /proc/net/ip_vs_conn unreadable (mode 000 for this namespace, and no
    // capability to override it): 1.31's message and status.
    let conn = "/proc/thread-self/net/ip_vs_conn";
    let chmod = |mode: &str| {
        let out = ns.sh(&format!("chmod {mode} {conn}"));
        assert!(out.status.success(), "chmod {mode}: {}", render(&out));
    };
    chmod("000");
    let ours = without_dac_override(command(ns.ours_path(), &["-Lnc"]));
    let reference = without_dac_override(command(ns.reference_path(), &["-Lnc"]));
    chmod("444");
    crate::support::assert_same_output(
        "ipvsadm -Lnc, /proc/net/ip_vs_conn unreadable",
        &ours,
        &reference,
    );
    assert!(!ours.status.success() && !ours.stderr.is_empty());

    // Standard output closed (`>&-`): what 1.31 does (status 0, nothing
    // said). Ours: the same, JSON too (Rust's runtime puts /dev/null there).
    for args in ["-Ln", "-Sn", "-Ln --stats", "-Ln --json"] {
        let script = |tool: &str| format!("\"${tool}\" {args} >&-; echo \"status $?\"");
        let ours = ns.sh(&script("OURS"));
        let expected = if args.contains("--json") {
            ns.sh("echo status 0")
        } else {
            ns.sh(&script("REFERENCE"))
        };
        crate::support::assert_same_output(
            &format!("ipvsadm {args} >&-"),
            &ours,
            &expected,
        );
        assert_eq!(ours.stdout, b"status 0\n", "ipvsadm {args} >&-");
    }

    // Output to a closed pipe: a large listing ends quietly, status 0.
    let big = add_lines(0, LARGE).join("\n") + "\n";
    assert_ok("large restore", &ns.ours_stdin(&["-R"], &big));
    for args in [
        &["-Ln"][..],
        &["-Sn"],
        &["-Ln", "--json"],
        &["-Ln", "--stats"],
    ] {
        let (reader, writer) = nix::unistd::pipe()?;
        drop(reader);
        let mut cmd = command(ns.ours_path(), args);
        cmd.stdout(Stdio::from(writer)).stderr(Stdio::piped());
        let out = output_of(cmd);
        assert_eq!(
            (out.status.code(), stderr_text(&out).as_str()),
            (Some(0), ""),
            "{args:?} into a closed pipe"
        );
        // README ("Differences from ipvsadm 1.31"): 1.31 is killed by
        // SIGPIPE there instead (its text listings; it has no --json).
        if !args.contains(&"--json") {
            let (reader, writer) = nix::unistd::pipe()?;
            drop(reader);
            let mut cmd = command(ns.reference_path(), args);
            cmd.stdout(Stdio::from(writer)).stderr(Stdio::piped());
            let out = output_of(cmd);
            assert_eq!(
                (
                    std::os::unix::process::ExitStatusExt::signal(&out.status),
                    stderr_text(&out).as_str()
                ),
                (Some(libc::SIGPIPE), ""),
                "ipvsadm 1.31 {args:?} into a closed pipe"
            );
        }
    }
    ns.flush();
    Ok(())
}

/// Services per churn round, each with two real servers.
const CHURN: usize = 1000;

/// Checks that a real server belongs to its service under the churn's
/// rule: `10.1.X.Y:80` only ever has `10.2.X.Y:1` and `10.2.X.Y:2`.
fn check_pair(what: &str, service: &str, real_server: &str) {
    let octets = |addr: &str, net: &str| -> Option<String> {
        addr.strip_prefix(net).map(|rest| rest.to_string())
    };
    let svc =
        octets(service, "10.1.").and_then(|r| r.strip_suffix(":80").map(str::to_string));
    let (dest, port) = real_server.rsplit_once(':').unwrap_or((real_server, ""));
    let dest = octets(dest, "10.2.");
    assert!(
        svc.is_some() && svc == dest && (port == "1" || port == "2"),
        "{what}: real server {real_server} listed under service {service}"
    );
}

/// Each service, and each real server of a service, listed only once.
#[derive(Default)]
struct Once(HashSet<(String, Option<String>)>);

impl Once {
    fn check(&mut self, what: &str, service: &str, real_server: Option<&str>) {
        let entry = (service.to_string(), real_server.map(str::to_string));
        assert!(
            self.0.insert(entry),
            "{what}: listed twice: {service} {real_server:?}"
        );
    }
}

/// `-Ln`: the titles, then service lines, each followed by its real
/// servers. Returns how many services it listed.
fn check_listing(text: &str) -> usize {
    let mut lines = text.lines();
    for title in [
        "IP Virtual Server version 1.2.1 (size=4096)",
        "Prot LocalAddress:Port Scheduler Flags",
        "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn",
    ] {
        assert_eq!(lines.next(), Some(title), "-Ln titles:\n{text}");
    }
    let mut service: Option<&str> = None;
    let mut services = 0;
    let mut once = Once::default();
    for line in lines {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            ["TCP", addr, "rr"] => {
                once.check("-Ln", addr, None);
                service = Some(addr);
                services += 1;
            }
            ["->", addr, "Masq", weight, active, inactive] => {
                let svc =
                    service.unwrap_or_else(|| panic!("-Ln: {line:?} before any service"));
                check_pair("-Ln", svc, addr);
                once.check("-Ln", svc, Some(addr));
                for n in [weight, active, inactive] {
                    assert!(n.parse::<u32>().is_ok(), "-Ln: {line:?}");
                }
            }
            _ => panic!("-Ln: unexpected line {line:?}"),
        }
    }
    services
}

/// `-Sn`: every `-a` comes after the `-A` of its service; nothing twice.
fn check_save(text: &str) -> usize {
    let mut services = HashSet::new();
    let mut dests = HashSet::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            ["-A", "-t", addr, "-s", "rr"] => {
                assert!(services.insert(addr.to_string()), "-Sn: {addr} twice");
            }
            ["-a", "-t", addr, "-r", dest, "-m", "-w", weight] => {
                assert!(services.contains(*addr), "-Sn: {line:?} before its -A");
                check_pair("-Sn", addr, dest);
                assert!(
                    dests.insert(format!("{addr} {dest}")),
                    "-Sn: {line:?} twice"
                );
                assert!(weight.parse::<u32>().is_ok(), "-Sn: {line:?}");
            }
            _ => panic!("-Sn: unexpected line {line:?}"),
        }
    }
    services.len()
}

/// A JSON document (or watch tick) with `services`.
fn check_json(what: &str, doc: &Value) -> usize {
    let services = doc["services"]
        .as_array()
        .unwrap_or_else(|| panic!("{what}: no services array in {doc}"));
    let mut once = Once::default();
    for s in services {
        let svc = format!("{}:{}", s["addr"].as_str().expect("addr"), s["port"]);
        once.check(what, &svc, None);
        for r in s["real_servers"].as_array().expect("real_servers") {
            let dest = format!("{}:{}", r["addr"].as_str().expect("addr"), r["port"]);
            check_pair(what, &svc, &dest);
            once.check(what, &svc, Some(&dest));
        }
    }
    services.len()
}

/// A shell loop adds [`CHURN`] services with two real servers each (one
/// restore), then removes one real server of each and every service
/// (another restore), over and over. Meanwhile `-Ln`, `-Sn`, `--json`, a
/// JSON watch and a text watch run again and again: each exits 0 with
/// nothing on stderr, parses fully, never shows a real server under a
/// service it does not belong to, and never shows anything twice (the
/// kernel resumes a dump by position, so a dump can repeat an entry that
/// ipvsadm 1.31 would print twice). A full-screen watch on a terminal
/// runs all along; Ctrl-C ends it with status 130 and the terminal
/// restored.
fn views_stay_consistent_while_services_churn(ns: &Ns) -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut add = String::new();
    let mut remove = String::new();
    for i in 0..CHURN {
        add.push_str(&format!("-A -t {} -s rr\n", service_of(i)));
        for port in [1, 2] {
            add.push_str(&format!(
                "-a -t {} -r {} -m -w {port}\n",
                service_of(i),
                real_server_of(i, port)
            ));
        }
        remove.push_str(&format!(
            "-d -t {} -r {}\n",
            service_of(i),
            real_server_of(i, 2)
        ));
    }
    for i in 0..CHURN {
        remove.push_str(&format!("-D -t {}\n", service_of(i)));
    }
    std::fs::write(dir.path().join("add"), add)?;
    std::fs::write(dir.path().join("remove"), remove)?;
    let stop = dir.path().join("stop");
    let rounds = dir.path().join("rounds");
    let script = format!(
        r#"cd '{dir}' || exit 1
        n=0
        while [ ! -e stop ]; do
            "$OURS" -R <add || exit 1
            "$OURS" -R <remove || exit 1
            n=$((n + 1))
            echo $n >rounds
        done"#,
        dir = dir.path().display()
    );
    let mut churner = Command::new("sh")
        .arg("-c")
        .arg(&script)
        .env("OURS", ns.ours_path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;

    // A full-screen watch on a terminal all along, ended by Ctrl-C.
    let mut pty_watch = PtyChild::spawn(ns.ours_path(), &["-Ln", "--watch=0.3"]);

    let started = Instant::now();
    let mut passes = 0;
    let mut seen_services = 0;
    let completed_rounds = || -> usize {
        std::fs::read_to_string(&rounds)
            .ok()
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0)
    };
    while passes < 3 || completed_rounds() < 2 {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "the churn is too slow: {} rounds in {passes} passes",
            completed_rounds()
        );
        let listing = stdout_of("-Ln", &ns.ours(&["-Ln"]));
        seen_services += check_listing(&listing);
        let saved = stdout_of("-Sn", &ns.ours(&["-Sn"]));
        seen_services += check_save(&saved);
        let json = stdout_of("-Ln --json", &ns.ours(&["-Ln", "--json"]));
        seen_services += check_json("--json", &serde_json::from_str(&json)?);
        let watch = stdout_of(
            "-Ln --json --watch",
            &ns.ours(&["-Ln", "--json", "--watch=0.2", "--count=3"]),
        );
        let ticks: Vec<&str> = watch.lines().collect();
        assert_eq!(ticks.len(), 3, "{watch}");
        for tick in ticks {
            seen_services += check_json("watch tick", &serde_json::from_str(tick)?);
        }
        let watch = stdout_of(
            "-Ln --watch",
            &ns.ours(&["-Ln", "--watch=0.2", "--count=2"]),
        );
        let blocks: Vec<&str> = watch.split("Every 0.2s: ").skip(1).collect();
        assert_eq!(blocks.len(), 2, "{watch}");
        for block in blocks {
            let (stamp, listing) = block.split_once('\n').unwrap_or((block, ""));
            assert!(stamp.ends_with('Z'), "watch block stamp: {stamp:?}");
            seen_services += check_listing(listing);
        }
        passes += 1;
    }
    std::fs::write(&stop, "")?;
    let status = churner.wait()?;
    let mut err = String::new();
    if let Some(mut e) = churner.stderr.take() {
        e.read_to_string(&mut err)?;
    }
    assert!(
        status.success() && err.is_empty(),
        "the churner failed: {err}"
    );
    assert!(seen_services > 0, "the views saw services come and go");

    pty_watch.signal(nix::sys::signal::Signal::SIGINT);
    let (status, screen) = pty_watch.finish(Duration::from_secs(20));
    let shown = String::from_utf8_lossy(&screen);
    let tail = &shown[shown.len().saturating_sub(300)..];
    assert_eq!(status.code(), Some(130), "Ctrl-C: {status:?}, {tail:?}");
    assert!(screen.starts_with(ENTER), "enters the alternate screen");
    assert!(
        screen.ends_with(LEAVE),
        "restores the terminal last: {tail:?}"
    );
    assert!(
        shown.matches(FRAME).count() >= 2,
        "the terminal watch drew frames all along"
    );
    Ok(())
}
