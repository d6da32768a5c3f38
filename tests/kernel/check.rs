//! `--check` on a real kernel: each finding is produced by setting its
//! problem up in the test's namespace, and goes away once the command the
//! finding gives as its fix has been run, word for word; the kube-proxy
//! tutorial's table has no problem. The settings it lists are the
//! kernel's `/proc/sys/net/ipv4/vs` files, and the watch shows its own
//! rates when the kernel's estimator is off.

use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::support::demo::{KubeDemo, SERVICE, VIP};
use crate::support::{Ns, TestResult, Trial, compare::render};

pub fn tests() -> Vec<Trial> {
    kernel_tests![
        the_kube_proxy_tutorial_has_no_problem,
        vip_that_is_no_local_address,
        service_without_real_servers_or_weights,
        masquerading_without_forwarding,
        direct_routing_to_a_server_off_the_link,
        tunnel_servers_get_a_note,
        estimator_off_and_the_watch_shows_its_own_rates,
        weight_zero_server_still_used_by_reused_ports,
        weight_zero_server_with_an_established_connection,
        weight_zero_server_still_used_by_persistence,
        settings_are_listed_as_the_kernel_has_them,
        the_readme_example_is_what_it_prints,
    ]
}

/// `ip` is iproute2 (busybox's has no netns), `ipvsadm` ours.
fn shell(ns: &Ns, script: &str) -> Output {
    ns.sh(&format!(
        "ip() {{ /sbin/ip \"$@\"; }}; ipvsadm() {{ \"$OURS\" \"$@\"; }}; set -e; {script}"
    ))
}

#[track_caller]
fn run(ns: &Ns, script: &str) {
    let out = shell(ns, script);
    assert!(out.status.success(), "{script}:\n{}", render(&out));
}

/// `ipvsadm --check --json ARGS`: the document and the exit status.
#[track_caller]
fn check(ns: &Ns, args: &[&str]) -> (Value, i32) {
    let mut argv = vec!["--check", "--json"];
    argv.extend_from_slice(args);
    let out = ns.ours(&argv);
    let doc = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("--check --json: {e}\n{}", render(&out)));
    assert!(out.stderr.is_empty(), "{}", render(&out));
    (doc, out.status.code().unwrap_or(-1))
}

/// `(severity, code)` of each finding.
fn codes(doc: &Value) -> Vec<(String, String)> {
    doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["severity"].as_str().unwrap_or("?").to_string(),
                f["code"].as_str().unwrap_or("?").to_string(),
            )
        })
        .collect()
}

fn pair(severity: &str, code: &str) -> (String, String) {
    (severity.to_string(), code.to_string())
}

/// Sets nothing up: checks that `--check` finds exactly `expected`
/// (exit 1 for errors and warnings), runs the fix of the first finding
/// as it is written, and checks that the finding is gone.
#[track_caller]
fn found_then_fixed(ns: &Ns, args: &[&str], expected: &[(&str, &str)]) -> Value {
    let (doc, status) = check(ns, args);
    let want: Vec<_> = expected.iter().map(|(s, c)| pair(s, c)).collect();
    assert_eq!(codes(&doc), want, "{doc:#}");
    assert_eq!(status, 1, "{doc:#}");
    assert_eq!(doc["summary"]["problems_found"], true);
    let fix = doc["findings"][0]["fix"]
        .as_str()
        .unwrap_or_else(|| panic!("no fix: {doc:#}"))
        .to_string();
    run(ns, &fix);
    let (after, status) = check(ns, args);
    assert!(
        !codes(&after).contains(&want[0]),
        "still there after `{fix}`: {after:#}"
    );
    if codes(&after).is_empty() {
        assert_eq!(status, 0);
        let text = ns.ours(&[&["--check"], args].concat());
        assert_eq!(String::from_utf8_lossy(&text.stdout), "no problems found\n");
        assert_eq!(text.status.code(), Some(0));
    }
    doc
}

/// `lo` up, a dummy interface with the VIP 10.99.0.1 and the network
/// 10.10.9.0/24, forwarding on.
fn small_host(ns: &Ns) {
    run(
        ns,
        "ip link set lo up; ip link add d0 type dummy; ip addr add 10.99.0.1/32 dev d0; \
         ip addr add 10.10.9.1/24 dev d0; ip link set d0 up; \
         echo 1 > /proc/sys/net/ipv4/ip_forward",
    );
}

fn the_kube_proxy_tutorial_has_no_problem(ns: &Ns) -> TestResult {
    let demo = KubeDemo::setup(ns, "c")?;
    let traffic = demo.step("traffic");
    assert!(traffic.status.success(), "{}", render(&traffic));
    for args in [
        &["--check"][..],
        &["--check", "-t", SERVICE],
        &["--check", "-n"],
    ] {
        let out = ns.ours(args);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "no problems found\n",
            "{}",
            render(&out)
        );
        assert_eq!(out.status.code(), Some(0));
        assert!(out.stderr.is_empty());
    }
    let (doc, status) = check(ns, &[]);
    assert_eq!(status, 0);
    assert_eq!(
        doc["summary"],
        serde_json::json!({"errors": 0, "warnings": 0, "notes": 0, "problems_found": false})
    );
    // A service that does not exist: the listing's message and status.
    let missing = ns.ours(&["--check", "-t", "10.1.2.3:4"]);
    assert_eq!(
        String::from_utf8_lossy(&missing.stderr),
        "No such service\n"
    );
    assert_eq!(missing.status.code(), Some(1));
    Ok(())
}

fn vip_that_is_no_local_address(ns: &Ns) -> TestResult {
    let _demo = KubeDemo::setup(ns, "c")?;
    run(ns, &format!("ip addr del {VIP}/32 dev kube-ipvs0"));
    let doc = found_then_fixed(ns, &[], &[("error", "vip-not-local")]);
    let finding = &doc["findings"][0];
    assert_eq!(finding["service"], format!("TCP {SERVICE}"));
    assert_eq!(
        finding["fix"],
        format!("ip addr add {VIP}/32 dev kube-ipvs0")
    );

    // With --netns, in a namespace of its own that has no such address.
    let name = ns.unique("chk");
    run(
        ns,
        &format!(
            "ip netns add {name}; ip netns exec {name} sh -c \
             '/sbin/ip link set lo up && \"$OURS\" -A -t 10.98.0.1:80 && \"$OURS\" -a -t 10.98.0.1:80 -r 10.98.0.1:80'"
        ),
    );
    let out = ns.ours(&["--netns", &name, "--check"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    run(
        ns,
        &format!("ip netns exec {name} \"$OURS\" -C; ip netns del {name}"),
    );
    assert!(
        text.starts_with("error: TCP 10.98.0.1:80: 10.98.0.1 is no local address"),
        "{}",
        render(&out)
    );
    assert!(
        text.contains("\n  fix: ip addr add 10.98.0.1/32 dev lo\n"),
        "{text}"
    );
    assert_eq!(out.status.code(), Some(1));
    Ok(())
}

fn service_without_real_servers_or_weights(ns: &Ns) -> TestResult {
    small_host(ns);
    run(ns, "ipvsadm -A -t 10.99.0.1:80 -s rr");
    let (doc, status) = check(ns, &[]);
    assert_eq!(codes(&doc), [pair("error", "no-real-servers")], "{doc:#}");
    assert_eq!(status, 1);
    // Its fix names a placeholder: put a real server there.
    assert_eq!(
        doc["findings"][0]["fix"],
        "ipvsadm -a -t 10.99.0.1:80 -r SERVER-ADDRESS[:PORT] -m"
    );
    run(
        ns,
        "ipvsadm -a -t 10.99.0.1:80 -r 10.10.9.2:8080 -m -w 0 -x 50",
    );
    run(ns, "ipvsadm -a -t 10.99.0.1:80 -r 10.10.9.3:8080 -m -w 0");
    let doc = found_then_fixed(ns, &[], &[("error", "all-weights-zero")]);
    // The fix kept each server's forwarding method and thresholds.
    let fields = |args: &[&str], server: &str| -> Vec<String> {
        let out = ns.reference(args);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .find(|l| l.contains(server))
            .unwrap_or_else(|| panic!("{server}: {}", render(&out)))
            .split_whitespace()
            .map(String::from)
            .collect()
    };
    let fix = &doc["findings"][0]["fix"];
    for server in ["10.10.9.2:8080", "10.10.9.3:8080"] {
        assert_eq!(
            fields(&["-Ln"], server)[2..4],
            ["Masq", "1"],
            "after `{fix}`"
        );
    }
    assert_eq!(fields(&["-Ln", "--thresholds"], "10.10.9.2:8080")[2], "50");
    ns.flush();
    Ok(())
}

fn masquerading_without_forwarding(ns: &Ns) -> TestResult {
    small_host(ns);
    run(
        ns,
        "echo 0 > /proc/sys/net/ipv4/ip_forward; ipvsadm -A -t 10.99.0.1:80; \
         ipvsadm -a -t 10.99.0.1:80 -r 10.10.9.2:8080 -m",
    );
    let doc =
        found_then_fixed(ns, &["-t", "10.99.0.1:80"], &[("error", "forwarding-off")]);
    assert_eq!(doc["findings"][0]["fix"], "sysctl -w net.ipv4.ip_forward=1");
    ns.flush();
    Ok(())
}

fn direct_routing_to_a_server_off_the_link(ns: &Ns) -> TestResult {
    small_host(ns);
    run(
        ns,
        "ip route add 192.0.2.0/24 via 10.10.9.254; ipvsadm -A -t 10.99.0.1:80; \
         ipvsadm -a -t 10.99.0.1:80 -r 192.0.2.5 -g; ipvsadm -a -t 10.99.0.1:80 -r 10.10.9.5 -g",
    );
    let doc = found_then_fixed(ns, &[], &[("error", "not-directly-connected")]);
    assert_eq!(
        doc["findings"][0]["real_server"],
        serde_json::json!({"addr": "192.0.2.5", "port": 80})
    );
    // An address no route leads to at all.
    run(ns, "ipvsadm -a -t 10.99.0.1:80 -r 203.0.113.5 -g");
    found_then_fixed(ns, &[], &[("error", "not-directly-connected")]);
    ns.flush();
    Ok(())
}

fn tunnel_servers_get_a_note(ns: &Ns) -> TestResult {
    small_host(ns);
    run(
        ns,
        "ipvsadm -A -t 10.99.0.1:80; \
         ipvsadm -a -t 10.99.0.1:80 -r 10.10.9.7 -i --tun-type gue --tun-port 6080",
    );
    let (doc, status) = check(ns, &[]);
    assert_eq!(
        codes(&doc),
        [pair("note", "tunnel-decapsulation")],
        "{doc:#}"
    );
    // What the real server needs cannot be read here: a note, no failure.
    assert_eq!(status, 0);
    let message = doc["findings"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("ip fou add port 6080 gue"), "{message}");
    let text = ns.ours(&["--check"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.ends_with("\nno problems found (1 note)\n"), "{text}");
    ns.flush();
    Ok(())
}

fn estimator_off_and_the_watch_shows_its_own_rates(ns: &Ns) -> TestResult {
    let demo = KubeDemo::setup(ns, "c")?;
    run(ns, "echo 0 > /proc/sys/net/ipv4/vs/run_estimation");

    // The watch, in a pipe, while 30 requests are made.
    let watch = Command::new(ns.ours_path())
        .args(["-Ln", "--watch=1", "--count=12"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let traffic = demo.step_with_requests("traffic", 30);
    assert!(traffic.status.success(), "{}", render(&traffic));
    let watched = watch.wait_with_output()?;
    let text = String::from_utf8_lossy(&watched.stdout).into_owned();
    assert!(watched.status.success(), "{}", render(&watched));
    let notices: Vec<&str> = text.lines().filter(|l| l.starts_with("# ")).collect();
    assert_eq!(notices.len(), 12, "a notice per tick:\n{text}");
    assert!(
        notices.iter().all(|l| l.starts_with(
            "# the kernel's rate estimator does not run (net.ipv4.vs.run_estimation = 0)"
        )),
        "{text}"
    );
    let conns_per_second: Vec<u64> = notices
        .iter()
        .filter_map(|l| l.split("this namespace: ").nth(1))
        .filter_map(|rest| rest.split(' ').next())
        .filter_map(|n| n.parse().ok())
        .collect();
    assert!(
        conns_per_second.iter().any(|&n| n > 0),
        "own rates from counter deltas while requests were made:\n{text}"
    );
    // The kernel's own counters stood still meanwhile (this 6.1 kernel).
    let stats = ns.reference(&["-Ln", "--stats", "--exact"]);
    let stats = String::from_utf8_lossy(&stats.stdout);
    assert!(
        stats.lines().any(|l| l.starts_with("TCP  10.200.1.76:9000")
            && l.split_whitespace().nth(2) == Some("0")),
        "{stats}"
    );

    let doc = found_then_fixed(ns, &[], &[("warning", "estimator-disabled")]);
    assert_eq!(doc["findings"][0]["service"], Value::Null);
    assert_eq!(
        doc["findings"][0]["fix"],
        "sysctl -w net.ipv4.vs.run_estimation=1"
    );
    Ok(())
}

fn weight_zero_server_still_used_by_reused_ports(ns: &Ns) -> TestResult {
    let demo = KubeDemo::setup(ns, "c")?;
    let traffic = demo.step_with_requests("traffic", 12);
    assert!(traffic.status.success(), "{}", render(&traffic));
    // Connections in TIME_WAIT are scheduled again with conn_reuse_mode 1
    // (the default); with 0 they go where they went.
    run(
        ns,
        &format!(
            "ipvsadm -e -t {SERVICE} -r 10.10.1.2:80 -m -w 0; \
             sysctl -w net.ipv4.vs.conn_reuse_mode=0 >/dev/null"
        ),
    );
    let doc = found_then_fixed(ns, &[], &[("warning", "weight-zero-still-used")]);
    assert_eq!(
        doc["findings"][0]["real_server"],
        serde_json::json!({"addr": "10.10.1.2", "port": 80})
    );
    assert_eq!(
        doc["findings"][0]["fix"],
        "sysctl -w net.ipv4.vs.conn_reuse_mode=1"
    );
    Ok(())
}

fn weight_zero_server_with_an_established_connection(ns: &Ns) -> TestResult {
    let demo = KubeDemo::setup(ns, "c")?;
    // A connection that stays established: nc sends nothing until its
    // input ends (httpd waits for the request).
    let mut client = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "sleep 60 | exec /sbin/ip netns exec {}net-pod busybox nc {VIP} 9000",
            demo.prefix()
        ))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let started = std::time::Instant::now();
    let pod = loop {
        let listed = ns.reference(&["-Ln"]);
        let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
        let busy = listed
            .lines()
            .filter(|l| l.trim_start().starts_with("->"))
            .find(|l| l.split_whitespace().nth(4) == Some("1"))
            .and_then(|l| l.split_whitespace().nth(1))
            .map(String::from);
        if let Some(pod) = busy {
            break pod;
        }
        assert!(
            started.elapsed().as_secs() < 20,
            "no established connection:\n{listed}"
        );
        std::thread::sleep(std::time::Duration::from_millis(250));
    };
    // With the defaults (conn_reuse_mode 1, expire_nodest_conn 0).
    run(ns, &format!("ipvsadm -e -t {SERVICE} -r {pod} -m -w 0"));
    let doc = found_then_fixed(ns, &[], &[("warning", "weight-zero-still-used")]);
    assert_eq!(
        doc["findings"][0]["fix"],
        "sysctl -w net.ipv4.vs.expire_nodest_conn=1"
    );
    let _ = client.kill();
    let _ = client.wait();
    Ok(())
}

fn weight_zero_server_still_used_by_persistence(ns: &Ns) -> TestResult {
    let demo = KubeDemo::setup(ns, "c")?;
    run(
        ns,
        &format!(
            "ipvsadm -A -t {VIP}:9001 -s rr -p 300; \
             for n in 1 2 3; do ipvsadm -a -t {VIP}:9001 -r 10.10.$n.2:80 -m; done"
        ),
    );
    demo.requests(&format!("{VIP}:9001"), 3);
    // The client's template points at one pod: set that one to weight 0.
    let listed =
        ns.reference(&["-Ln", "-t", &format!("{VIP}:9001"), "--persistent-conn"]);
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
    let pod = listed
        .lines()
        .filter(|l| l.trim_start().starts_with("->"))
        .find(|l| l.split_whitespace().nth(3).is_some_and(|n| n != "0"))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or_else(|| panic!("no template:\n{listed}"))
        .to_string();
    run(ns, &format!("ipvsadm -e -t {VIP}:9001 -r {pod} -m -w 0"));
    let doc = found_then_fixed(
        ns,
        &["-t", &format!("{VIP}:9001")],
        &[("warning", "weight-zero-persistence")],
    );
    assert_eq!(
        doc["findings"][0]["fix"],
        "sysctl -w net.ipv4.vs.expire_quiescent_template=1"
    );
    Ok(())
}

fn settings_are_listed_as_the_kernel_has_them(ns: &Ns) -> TestResult {
    // The kernel's files, read by the shell.
    let files = shell(
        ns,
        "cd /proc/sys/net/ipv4/vs && for f in *; do printf '%s=%s\\n' \"$f\" \"$(cat $f | tr '\\t' ' ')\"; done",
    );
    let files = String::from_utf8_lossy(&files.stdout).into_owned();
    assert!(files.lines().count() > 20, "{files}");
    let out = ns.ours(&["--check", "--verbose"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.starts_with(
            "no problems found\n\nIPVS settings of this network namespace:\n"
        ),
        "{}",
        render(&out)
    );
    for line in files.lines() {
        let (name, value) = line.split_once('=').unwrap_or_default();
        let shown = text
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("net.ipv4.vs.{name} ")))
            .unwrap_or_else(|| panic!("{name} not listed:\n{text}"));
        assert!(shown.ends_with(&format!("= {value}")), "{shown} vs {line}");
    }
    // 6.1 has no est_cpulist: said so, not guessed.
    assert!(
        text.lines()
            .any(|l| l.trim_start().starts_with("net.ipv4.vs.est_cpulist ")
                && l.ends_with(
                    "= cannot be read (not provided by this kernel in this namespace)"
                )),
        "{text}"
    );
    let (doc, _) = check(ns, &[]);
    let settings = doc["settings"].as_array().expect("settings");
    let run_estimation = settings
        .iter()
        .find(|s| s["name"] == "net.ipv4.vs.run_estimation")
        .expect("run_estimation");
    assert_eq!(run_estimation["value"], "1");
    assert!(run_estimation["description"].is_string());
    Ok(())
}

/// The README's example ("When a service does not answer") is what
/// `--check` prints for the state it describes.
fn the_readme_example_is_what_it_prints(ns: &Ns) -> TestResult {
    const README: &str = include_str!("../../README.md");
    let section = README
        .split("### When a service does not answer")
        .nth(1)
        .expect("README section");
    let block = section
        .split("```text\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("text block");
    let printed = block
        .split("$ ipvsadm --check\n")
        .nth(1)
        .and_then(|b| b.split("$ echo $?").next())
        .expect("the example's output");
    let _demo = KubeDemo::setup(ns, "c")?;
    run(
        ns,
        &format!(
            "ip addr del {VIP}/32 dev kube-ipvs0; echo 0 > /proc/sys/net/ipv4/ip_forward; \
             echo 0 > /proc/sys/net/ipv4/vs/run_estimation"
        ),
    );
    let out = ns.ours(&["--check"]);
    crate::support::assert_text_eq(
        "README example",
        printed,
        &String::from_utf8_lossy(&out.stdout),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(block.contains("$ echo $?\n1\n"), "{block}");
    run(ns, "echo 1 > /proc/sys/net/ipv4/vs/run_estimation");
    Ok(())
}
