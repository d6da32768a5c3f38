//! `--netns NAME|PATH`: any command runs in that network namespace (its
//! own IPVS table), named as `ip netns add` names it or given as a path
//! (`/run/netns/NAME`, `/proc/PID/ns/net`), including `-c` and `--watch`;
//! a namespace that cannot be entered is a clear error.

use std::process::{Child, Command, Stdio};

use serde_json::Value;

use crate::support::demo::KubeDemo;
use crate::support::netns::{IP, NamedNetns};
use crate::support::{
    Ns, TestResult, Trial, assert_ok, assert_same_output, compare::render,
};

pub fn tests() -> Vec<Trial> {
    // Named namespaces need iproute2 (`ip netns`); the traffic needs busybox:
    // the runner checks that they are there before any test runs.
    kernel_tests![
        a_named_namespace_holds_what_netns_commands_make,
        a_namespace_path_works_like_its_name,
        connections_of_another_namespace,
        watch_in_another_namespace,
        a_missing_namespace_is_an_error,
    ]
}

/// A process kept alive (for its `/proc/PID/ns/net`), killed when dropped.
struct Sleeper(Child);

impl Drop for Sleeper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn with_netns<'a>(netns: &'a str, args: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["--netns", netns];
    v.extend_from_slice(args);
    v
}

const EMPTY_SAVE: &str = "";
const NAMED_TABLE_SAVE: &str = "-A -t 10.5.0.1:80 -s rr\n\
                                -a -t 10.5.0.1:80 -r 10.5.0.2:8080 -m -w 1\n\
                                -A -u 10.5.0.1:53 -s wlc\n";

/// Makes NAMED_TABLE_SAVE's table in `netns` with ours `--netns`, the
/// option before and after the command.
#[track_caller]
fn make_table_with_netns(ns: &Ns, netns: &str) {
    for cmd in [
        with_netns(netns, &["-A", "-t", "10.5.0.1:80", "-s", "rr"]),
        vec![
            "-a",
            "-t",
            "10.5.0.1:80",
            "-r",
            "10.5.0.2:8080",
            "-m",
            "--netns",
            netns,
        ],
        vec!["-A", "--netns", netns, "-u", "10.5.0.1:53"],
    ] {
        assert_ok(&crate::support::ns::describe(&cmd), &ns.ours(&cmd));
    }
}

/// A service added with `--netns NAME` is in that namespace's table (as
/// `ip netns exec NAME ipvsadm-1.31` sees it), not in ours; listings,
/// JSON, `--set`/`--timeout`, `-C` and `-R` with `--netns` act there too.
fn a_named_namespace_holds_what_netns_commands_make(ns: &Ns) -> TestResult {
    let named = NamedNetns::new(ns);
    let name = named.name();
    make_table_with_netns(ns, name);

    let there = named.exec(ns.reference_path(), &["-Sn"]);
    assert!(there.status.success(), "{}", render(&there));
    crate::support::assert_text_eq(
        "ip netns exec NAME ipvsadm-1.31 -Sn",
        NAMED_TABLE_SAVE,
        &text(&there.stdout),
    );
    crate::support::assert_text_eq(
        "ipvsadm-1.31 -Sn in the test's own namespace",
        EMPTY_SAVE,
        &text(&ns.reference_read(&["-Sn"]).stdout),
    );
    assert!(ns.table_is_empty(), "{}", ns.proc_ip_vs());
    crate::support::assert_text_eq(
        "ours -Sn in the test's own namespace",
        EMPTY_SAVE,
        &text(&ns.ours(&["-Sn"]).stdout),
    );

    // Ours reads it back there as 1.31 does, whichever way it is named.
    for view in [&["-Sn"][..], &["-Ln"], &["-Ln", "--stats", "--exact"]] {
        let reference = named.exec(ns.reference_path(), view);
        for netns in [name.to_string(), format!("/run/netns/{name}")] {
            let ours = ns.ours(&with_netns(&netns, view));
            assert_same_output(
                &format!("ours --netns {netns} vs ip netns exec: {view:?}"),
                &ours,
                &reference,
            );
        }
        // And so does ours when `ip netns exec` puts it there.
        let ours = named.exec(ns.ours_path(), view);
        assert_same_output(
            &format!("ip netns exec, ours vs 1.31: {view:?}"),
            &ours,
            &reference,
        );
    }
    let json: Value =
        serde_json::from_slice(&ns.ours(&with_netns(name, &["-Ln", "--json"])).stdout)?;
    let services: Vec<String> = json["services"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| format!("{}:{}", s["addr"].as_str().unwrap_or("?"), s["port"]))
        .collect();
    assert_eq!(services, ["10.5.0.1:80", "10.5.0.1:53"], "{json}");

    // Timeouts are per namespace too.
    let own_timeouts = text(&ns.reference(&["-L", "--timeout"]).stdout);
    assert_ok(
        "--set with --netns",
        &ns.ours(&with_netns(name, &["--set", "111", "22", "33"])),
    );
    assert_eq!(
        text(&named.exec(ns.reference_path(), &["-L", "--timeout"]).stdout),
        "Timeout (tcp tcpfin udp): 111 22 33\n"
    );
    assert_eq!(
        text(&ns.ours(&with_netns(name, &["-L", "--timeout"])).stdout),
        "Timeout (tcp tcpfin udp): 111 22 33\n"
    );
    assert_eq!(
        text(&ns.reference(&["-L", "--timeout"]).stdout),
        own_timeouts
    );

    // -C there empties that table only.
    assert_ok("ours -A here", &ns.ours(&["-A", "-t", "10.6.0.1:80"]));
    assert_ok("-C with --netns", &ns.ours(&with_netns(name, &["-C"])));
    assert_eq!(
        text(&named.exec(ns.reference_path(), &["-Sn"]).stdout),
        EMPTY_SAVE
    );
    assert_eq!(
        text(&ns.reference_read(&["-Sn"]).stdout),
        "-A -t 10.6.0.1:80 -s wlc\n",
        "the test's own table is untouched"
    );

    // -R there, from stdin.
    assert_ok(
        "-R with --netns",
        &ns.ours_stdin(&with_netns(name, &["-R"]), NAMED_TABLE_SAVE),
    );
    assert_eq!(
        text(&named.exec(ns.reference_path(), &["-Sn"]).stdout),
        NAMED_TABLE_SAVE
    );
    assert_eq!(
        text(&ns.reference_read(&["-Sn"]).stdout),
        "-A -t 10.6.0.1:80 -s wlc\n",
        "the test's own table is untouched"
    );
    Ok(())
}

/// `/proc/PID/ns/net` of a process living in the named namespace is the
/// same namespace as its name.
fn a_namespace_path_works_like_its_name(ns: &Ns) -> TestResult {
    let named = NamedNetns::new(ns);
    let sleeper = Sleeper(
        Command::new(IP)
            .args(["netns", "exec", named.name(), "sleep", "120"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?,
    );
    let path = format!("/proc/{}/ns/net", sleeper.0.id());
    // `ip netns exec` execs the program: the pid is the sleeper's own,
    // once it has switched namespace.
    let wanted = std::fs::metadata(format!("/run/netns/{}", named.name()))?;
    let mut entered = false;
    for _ in 0..100 {
        if let Ok(m) = std::fs::metadata(&path) {
            use std::os::unix::fs::MetadataExt;
            if m.ino() == wanted.ino() && m.dev() == wanted.dev() {
                entered = true;
                break;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(entered, "{path} never entered {}", named.name());

    make_table_with_netns(ns, &path);
    assert_eq!(
        text(&named.exec(ns.reference_path(), &["-Sn"]).stdout),
        NAMED_TABLE_SAVE,
        "made through {path}"
    );
    assert_eq!(text(&ns.reference_read(&["-Sn"]).stdout), EMPTY_SAVE);
    let by_path = ns.ours(&with_netns(&path, &["-Ln"]));
    let by_name = ns.ours(&with_netns(named.name(), &["-Ln"]));
    assert_same_output(&format!("--netns {path} vs its name"), &by_path, &by_name);
    assert!(
        text(&by_path.stdout).contains("10.5.0.1:80"),
        "{}",
        render(&by_path)
    );
    Ok(())
}

/// The kube-proxy scenario with real traffic in the test's namespace; seen
/// with `-c` from inside another namespace through `--netns PATH`.
fn connections_of_another_namespace(ns: &Ns) -> TestResult {
    let demo = KubeDemo::setup(ns, "n")?;
    let traffic = demo.step_with_requests("traffic", 6);
    assert!(
        traffic.status.success(),
        "scenario traffic:\n{}",
        render(&traffic)
    );

    // This test's namespace, by path, from a namespace of its own.
    let own = format!(
        "/proc/{}/task/{}/ns/net",
        std::process::id(),
        nix::unistd::gettid()
    );
    let elsewhere = NamedNetns::new(ns);
    let reference = ns.reference(&["-Lnc"]);
    let ours = elsewhere.exec(ns.ours_path(), &["--netns", &own, "-Lnc"]);
    assert!(ours.status.success(), "{}", render(&ours));
    let (reference, ours) = (text(&reference.stdout), text(&ours.stdout));
    // The expiry column ticks between the two runs: compare without it,
    // line by line in the kernel's order (both print /proc's order). The
    // listing is compared byte for byte, expiry included, on one captured
    // table by `connections::connection_listings_are_1_31s_byte_for_byte`;
    // here what counts is whose table `--netns` lists.
    let without_expiry = |listing: &str| -> Vec<String> {
        listing
            .lines()
            .map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                if f.len() == 6 && f[1].contains(':') {
                    format!("{} {} {} {} {}", f[0], f[2], f[3], f[4], f[5])
                } else {
                    l.to_string()
                }
            })
            .collect()
    };
    assert_eq!(
        without_expiry(&ours),
        without_expiry(&reference),
        "ours --netns PATH -Lnc vs ipvsadm 1.31 -Lnc there:\n{ours}\n{reference}"
    );
    let entries = ours
        .lines()
        .filter(|l| l.contains("10.200.1.76:9000"))
        .count();
    assert_eq!(entries, 6, "one entry per request:\n{ours}");
    // The other namespace has none, by name and with ipvsadm 1.31.
    let header = "IPVS connection entries\npro expire state       source             virtual            destination\n";
    let none = ns.ours(&["--netns", elsewhere.name(), "-Lnc"]);
    assert_eq!(text(&none.stdout), header, "{}", render(&none));
    assert_eq!(
        text(&elsewhere.exec(ns.reference_path(), &["-Lnc"]).stdout),
        header
    );
    let json: Value =
        serde_json::from_slice(&ns.ours(&["--netns", &own, "-Lnc", "--json"]).stdout)?;
    assert_eq!(
        json["connections"].as_array().map(Vec::len),
        Some(6),
        "{json}"
    );
    Ok(())
}

/// `--watch` with `--netns` in a pipe: each tick is the named namespace's
/// listing (as 1.31 prints it there) under a timestamp line; with `--json`
/// one document per line.
fn watch_in_another_namespace(ns: &Ns) -> TestResult {
    let named = NamedNetns::new(ns);
    make_table_with_netns(ns, named.name());
    let listing = text(&named.exec(ns.reference_path(), &["-Ln"]).stdout);
    assert!(listing.contains("10.5.0.1:80"), "{listing}");

    let out = ns.ours(&with_netns(
        named.name(),
        &["-Ln", "--watch=0.2", "--count=2"],
    ));
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        render(&out)
    );
    let shown = text(&out.stdout);
    let blocks: Vec<&str> = shown.split("Every ").skip(1).collect();
    assert_eq!(blocks.len(), 2, "two ticks:\n{shown}");
    for block in &blocks {
        let (stamp, body) = block.split_once('\n').unwrap_or((block, ""));
        assert!(stamp.contains(':'), "timestamp line: {stamp:?}");
        assert_eq!(
            body.trim_end_matches('\n'),
            listing.trim_end_matches('\n'),
            "tick:\n{shown}"
        );
    }

    let out = ns.ours(&with_netns(
        named.name(),
        &["-Ln", "--watch=0.2", "--count=2", "--json"],
    ));
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        render(&out)
    );
    let ticks: Vec<Value> = text(&out.stdout)
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    assert_eq!(ticks.len(), 2, "{}", render(&out));
    for tick in &ticks {
        assert_eq!(tick["services"].as_array().map(Vec::len), Some(2), "{tick}");
    }

    // -c under watch, too (the other namespace has no connections).
    let out = ns.ours(&with_netns(
        named.name(),
        &["-Lnc", "--watch=0.2", "--count=2"],
    ));
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        render(&out)
    );
    assert_eq!(
        text(&out.stdout)
            .matches("IPVS connection entries\n")
            .count(),
        2,
        "{}",
        render(&out)
    );
    // The test's own table stayed empty all along.
    assert!(ns.table_is_empty(), "{}", ns.proc_ip_vs());
    Ok(())
}

/// A name missing from /run/netns, a path that is no namespace: a clear
/// message, exit status 2, and nothing done anywhere.
fn a_missing_namespace_is_an_error(ns: &Ns) -> TestResult {
    let out = ns.ours(&["--netns", "nosuch", "-A", "-t", "10.7.0.1:80"]);
    assert_eq!(out.status.code(), Some(2), "{}", render(&out));
    assert!(out.stdout.is_empty(), "{}", render(&out));
    assert_eq!(
        text(&out.stderr),
        "cannot enter network namespace 'nosuch' (/run/netns/nosuch): No such file or directory\n"
    );
    assert!(ns.table_is_empty(), "{}", ns.proc_ip_vs());

    let out = ns.ours(&["-Ln", "--netns", "/proc/self/status"]);
    assert_eq!(out.status.code(), Some(2), "{}", render(&out));
    assert_eq!(
        text(&out.stderr),
        "cannot enter network namespace '/proc/self/status' (/proc/self/status): Invalid argument\n"
    );
    Ok(())
}
