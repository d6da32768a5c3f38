//! Declarative tables on a real IPVS kernel: `-R --replace` converges a
//! live table carrying real traffic (the kube-proxy demo plus IPv6, fwmark
//! and SCTP services) to an input, editing in place what differs; its dry
//! run says what it would do with `diff`'s exit statuses; `--format json`
//! carries one namespace's table to another; `--atomic` undoes a replace
//! the kernel fails. ipvsadm 1.31 is the oracle: its `-Sn` of the result
//! is its `-Sn` of the input restored into an empty namespace, and its
//! `--stats` shows the counters of what was edited untouched.

use std::collections::BTreeMap;

use crate::support::demo::{KubeDemo, SERVICE, VIP};
use crate::support::netns::{IP, NamedNetns};
use crate::support::{Ns, TestResult, Trial, assert_ok, assert_text_eq, compare::render};

pub fn tests() -> Vec<Trial> {
    kernel_tests![
        replace_converges_a_live_table_and_keeps_the_counters_of_what_it_edits,
        replace_from_json_makes_another_namespace_equal,
        atomic_replace_that_the_kernel_fails_changes_nothing,
    ]
}

/// The starting table besides the demo's 10.200.1.76:9000 (rr, the three
/// pods masqueraded): a persistent service of the pods, an IPv6 service,
/// an IPv4 and an IPv6 fwmark service, an SCTP and a UDP service.
fn extra_services() -> String {
    format!(
        "-A -t {VIP}:9001 -s wlc -p 300
-a -t {VIP}:9001 -r 10.10.1.2:80 -m -w 1
-a -t {VIP}:9001 -r 10.10.2.2:80 -m -w 1
-A -t [fd00:76::1]:80 -s rr
-a -t [fd00:76::1]:80 -r [fd00:10:1::2]:80 -m -w 1
-a -t [fd00:76::1]:80 -r [fd00:10:2::2]:80 -m -w 2
-A -f 42 -s sh -b sh-port
-a -f 42 -r 10.10.1.2:0 -g -w 1
-A -f 43 -6 -s rr
-a -f 43 -6 -r [fd00:10:3::2]:0 -g -w 1
-A --sctp-service {VIP}:5000 -s rr
-a --sctp-service {VIP}:5000 -r 10.10.1.2:5000 -m -w 1
-A -u {VIP}:53 -s rr
-a -u {VIP}:53 -r 10.10.3.2:53 -m -w 1
"
    )
}

/// What the table should become: 9000's scheduler rr -> wrr, webpod2's
/// weight 1 -> 3, webpod3 removed; 9001's persistence 300 -> 600 s and
/// webpod3 added; the IPv6 service with a weight changed; fwmark 42 with a
/// real server added; the UDP service removed; 9002 added; SCTP and fwmark
/// 43 unchanged.
fn desired() -> String {
    format!(
        "-A -t {SERVICE} -s wrr
-a -t {SERVICE} -r 10.10.1.2:80 -m -w 1
-a -t {SERVICE} -r 10.10.2.2:80 -m -w 3
-A -t {VIP}:9001 -s wlc -p 600
-a -t {VIP}:9001 -r 10.10.1.2:80 -m -w 1
-a -t {VIP}:9001 -r 10.10.2.2:80 -m -w 1
-a -t {VIP}:9001 -r 10.10.3.2:80 -m -w 1
-A -t [fd00:76::1]:80 -s rr
-a -t [fd00:76::1]:80 -r [fd00:10:1::2]:80 -m -w 1
-a -t [fd00:76::1]:80 -r [fd00:10:2::2]:80 -m -w 5
-A -f 42 -s sh -b sh-port
-a -f 42 -r 10.10.1.2:0 -g -w 1
-a -f 42 -r 10.10.2.2:0 -g -w 1
-A -f 43 -6 -s rr
-a -f 43 -6 -r [fd00:10:3::2]:0 -g -w 1
-A --sctp-service {VIP}:5000 -s rr
-a --sctp-service {VIP}:5000 -r 10.10.1.2:5000 -m -w 1
-A -t {VIP}:9002 -s rr
-a -t {VIP}:9002 -r 10.10.1.2:80 -m -w 1
-a -t {VIP}:9002 -r 10.10.3.2:80 -m -w 1
"
    )
}

/// Asserts a command succeeded with nothing on stderr (its stdout is
/// checked by the caller).
#[track_caller]
fn succeeded(what: &str, out: &std::process::Output) {
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "`{what}` should succeed, got:\n{}",
        render(out)
    );
}

/// ipvsadm 1.31's `-Sn` of `rules` restored (by 1.31) into an empty
/// namespace: the table as the oracle prints it.
fn reference_save_of(ns: &Ns, rules: &str) -> String {
    let other = NamedNetns::new(ns);
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), rules).expect("write rules");
    let out = ns.sh(&format!(
        "{IP} netns exec {} \"$REFERENCE\" -R < '{}' && {IP} netns exec {} \"$REFERENCE\" -Sn",
        other.name(),
        file.path().display(),
        other.name()
    ));
    succeeded("ipvsadm-1.31 -R; -Sn in another namespace", &out);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Connections per service and per real server, from ipvsadm 1.31's
/// `-Ln --stats --exact`: `"TCP  10.200.1.76:9000"` and
/// `"TCP  10.200.1.76:9000 -> 10.10.1.2:80"`.
fn connections(text: &str) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    let mut service = String::new();
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["->", addr, conns, ..] => {
                if let Ok(n) = conns.parse() {
                    out.insert(format!("{service} -> {addr}"), n);
                }
            }
            [proto, addr, conns, ..] if ["TCP", "UDP", "SCTP", "FWM"].contains(proto) => {
                if let Ok(n) = conns.parse() {
                    service = format!("{proto}  {addr}");
                    out.insert(service.clone(), n);
                }
            }
            _ => {}
        }
    }
    out
}

fn replace_converges_a_live_table_and_keeps_the_counters_of_what_it_edits(
    ns: &Ns,
) -> TestResult {
    let demo = KubeDemo::setup(ns, "d")?;
    assert_ok(
        "-R of the other services",
        &ns.ours_stdin(&["-R"], &extra_services()),
    );
    // Real requests through the two services of the pods.
    demo.requests(SERVICE, 30);
    demo.requests(&format!("{VIP}:9001"), 10);
    let stats = ns.await_stats("the requests' connections", |text| {
        let c = connections(text);
        c.get(&format!("TCP  {SERVICE}")) == Some(&30)
            && c.get(&format!("TCP  {VIP}:9001")) == Some(&10)
    });
    ns.await_settled_counters();
    let before = connections(&stats);

    // The plan: exactly these changes, in this order, exit 1, nothing done.
    let save_before = ns.reference_read(&["-Sn"]);
    let dry = ns.ours_stdin(&["-R", "--replace", "--dry-run"], &desired());
    assert_eq!(dry.status.code(), Some(1), "{}", render(&dry));
    let plan = format!(
        "-E -t {SERVICE} -s wrr
-e -t {SERVICE} -r 10.10.2.2:80 -m -w 3
-d -t {SERVICE} -r 10.10.3.2:80
-E -t {VIP}:9001 -s wlc -p 600
-a -t {VIP}:9001 -r 10.10.3.2:80 -m -w 1
-e -t [fd00:76::1]:80 -r [fd00:10:2::2]:80 -m -w 5
-a -f 42 -r 10.10.2.2:0 -g -w 1
-A -t {VIP}:9002 -s rr
-a -t {VIP}:9002 -r 10.10.1.2:80 -m -w 1
-a -t {VIP}:9002 -r 10.10.3.2:80 -m -w 1
-D -u {VIP}:53
"
    );
    assert_text_eq("the plan", &plan, &String::from_utf8_lossy(&dry.stdout));
    assert_eq!(ns.reference_read(&["-Sn"]).stdout, save_before.stdout);

    // Apply: one line says what was done.
    let applied = ns.ours_stdin(&["-R", "--replace"], &desired());
    succeeded("-R --replace", &applied);
    assert_text_eq(
        "the summary",
        "replace: 11 changes applied (services: 1 added, 2 edited, 1 deleted; \
         real servers: 4 added, 2 edited, 1 deleted)\n",
        &String::from_utf8_lossy(&applied.stdout),
    );

    // The table is the input, as ipvsadm 1.31 prints it.
    let expected = reference_save_of(ns, &desired());
    let now = ns.reference_read(&["-Sn"]);
    assert_text_eq(
        "ipvsadm-1.31 -Sn after --replace",
        &expected,
        &String::from_utf8_lossy(&now.stdout),
    );

    // Counters of the services edited in place, and of their real servers
    // kept, are those from before.
    let after = connections(&String::from_utf8_lossy(
        &ns.reference_read(&["-Ln", "--stats", "--exact"]).stdout,
    ));
    for key in [
        format!("TCP  {SERVICE}"),
        format!("TCP  {SERVICE} -> 10.10.1.2:80"),
        format!("TCP  {SERVICE} -> 10.10.2.2:80"),
        format!("TCP  {VIP}:9001"),
        format!("TCP  {VIP}:9001 -> 10.10.1.2:80"),
        format!("TCP  {VIP}:9001 -> 10.10.2.2:80"),
    ] {
        assert!(
            before[&key] > 0 || key.contains("9001 ->"),
            "{key}: {before:?}"
        );
        assert_eq!(
            after.get(&key),
            before.get(&key),
            "{key}\nbefore {before:?}\nafter {after:?}"
        );
    }

    // A second run: nothing to do, and it says so; the dry run exits 0
    // and prints nothing.
    let dry = ns.ours_stdin(&["-R", "--replace", "--dry-run"], &desired());
    assert_eq!(
        (
            dry.status.code(),
            dry.stdout.as_slice(),
            dry.stderr.as_slice()
        ),
        (Some(0), &b""[..], &b""[..]),
        "{}",
        render(&dry)
    );
    let again = ns.ours_stdin(&["-R", "--replace"], &desired());
    succeeded("second -R --replace", &again);
    assert_text_eq(
        "second run",
        "replace: no changes, the table already matches\n",
        &String::from_utf8_lossy(&again.stdout),
    );

    // Traffic goes on, to the pods left, weighted 1:3.
    let traffic = demo.step_with_requests("traffic", 40);
    assert!(traffic.status.success(), "{}", render(&traffic));
    let text = String::from_utf8_lossy(&traffic.stdout);
    let spread: Vec<(String, u32)> = text
        .lines()
        .filter_map(|l| {
            let (n, what) = l.trim().split_once(' ')?;
            Some((what.trim().to_string(), n.parse().ok()?))
        })
        .collect();
    assert_eq!(
        spread,
        [
            ("Hostname: webpod1".to_string(), 10),
            ("Hostname: webpod2".to_string(), 30)
        ],
        "{text}"
    );
    Ok(())
}

fn replace_from_json_makes_another_namespace_equal(ns: &Ns) -> TestResult {
    assert_ok(
        "-R of the source table",
        &ns.ours_stdin(&["-R"], &desired()),
    );
    let state = ns.ours(&["-Ln", "--json"]);
    succeeded("-Ln --json", &state);
    let file = tempfile::NamedTempFile::new()?;
    std::fs::write(file.path(), &state.stdout)?;
    let bad = tempfile::NamedTempFile::new()?;
    std::fs::write(
        bad.path(),
        "{\"schema_version\": 1, \"services\": [\n  {\"af\": 4}\n]}\n",
    )?;

    // The other node: a table of its own, partly the same.
    let other = NamedNetns::new(ns);
    let in_other =
        |command: &str| ns.sh(&format!("{IP} netns exec {} {command}", other.name()));
    let setup = format!("{}{}", extra_services(), "-A -t 10.200.1.76:9000 -s rr\n");
    let rules = tempfile::NamedTempFile::new()?;
    std::fs::write(rules.path(), setup)?;
    assert_ok(
        "-R in the other namespace",
        &in_other(&format!("\"$REFERENCE\" -R < '{}'", rules.path().display())),
    );
    let other_before = in_other("\"$REFERENCE\" -Sn");

    // Bad JSON: where it is wrong, status 2, nothing applied.
    let out = in_other(&format!(
        "\"$OURS\" -R --replace --format json < '{}'",
        bad.path().display()
    ));
    assert_eq!(out.status.code(), Some(2), "{}", render(&out));
    assert_text_eq(
        "bad JSON",
        "restore: invalid JSON input: invalid type: integer `4`, expected a string at line 2 column 10\n\
         restore: nothing applied\n",
        &String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(in_other("\"$REFERENCE\" -Sn").stdout, other_before.stdout);

    // The document converges the other namespace to this one.
    let dry = in_other(&format!(
        "\"$OURS\" -R --replace --dry-run --format json < '{}'",
        file.path().display()
    ));
    assert_eq!(dry.status.code(), Some(1), "{}", render(&dry));
    let out = in_other(&format!(
        "\"$OURS\" -R --replace --format json < '{}'",
        file.path().display()
    ));
    succeeded("-R --replace --format json", &out);
    let here = ns.reference_read(&["-Sn"]);
    let there = in_other("\"$REFERENCE\" -Sn");
    assert_text_eq(
        "ipvsadm-1.31 -Sn of both namespaces",
        &String::from_utf8_lossy(&here.stdout),
        &String::from_utf8_lossy(&there.stdout),
    );
    let dry = in_other(&format!(
        "\"$OURS\" -R --replace --dry-run --format json < '{}'",
        file.path().display()
    ));
    assert_eq!(
        (dry.status.code(), dry.stdout.as_slice()),
        (Some(0), &b""[..]),
        "{}",
        render(&dry)
    );
    Ok(())
}

fn atomic_replace_that_the_kernel_fails_changes_nothing(ns: &Ns) -> TestResult {
    let start = format!("-A -t {SERVICE} -s rr\n{}", extra_services());
    assert_ok("-R", &ns.ours_stdin(&["-R"], &start));
    let before = ns.reference_read(&["-Sn"]);
    // Everything else would apply; the scheduler does not exist.
    let input = desired().replace("-A -f 42 -s sh -b sh-port", "-A -f 42 -s nosuch");
    let out = ns.ours_stdin(&["-R", "--replace", "--atomic"], &input);
    assert_eq!(out.status.code(), Some(255), "{}", render(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("change ") && stderr.contains("(-E -f 42 -s nosuch): "),
        "{stderr}"
    );
    assert!(stderr.contains("restore: rolled back"), "{stderr}");
    assert_text_eq(
        "ipvsadm-1.31 -Sn after a failed --replace --atomic",
        &String::from_utf8_lossy(&before.stdout),
        &String::from_utf8_lossy(&ns.reference_read(&["-Sn"]).stdout),
    );
    Ok(())
}
