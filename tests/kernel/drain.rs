//! `-d ... --drain[=SECONDS]` on a real kernel with real traffic: the
//! kube-proxy demo's service with its three pods, an HTTP connection held
//! open from the client pod to one of them. ipvsadm 1.31 is the oracle of
//! the table (`-Ln`, `-Lnc`, `--persistent-conn`); the kernel decides where
//! requests go, and the pods' answers say where they went.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use crate::support::demo::{KubeDemo, SERVICE, VIP};
use crate::support::terminal::PtyChild;
use crate::support::{Ns, TestResult, Trial, assert_ok, compare::render};

pub fn tests() -> Vec<Trial> {
    kernel_tests![
        a_held_connection_keeps_its_server_until_it_closes,
        signals_stop_a_drain_and_leave_the_server_at_weight_0,
        persistence_templates_are_waited_for,
        an_idle_server_is_removed_at_once,
        replace_drains_the_servers_it_removes,
    ]
}

/// The demo's service port.
const PORT: u16 = 9000;

/// An HTTP connection from the client pod to the service, held open (the
/// request is never finished, so the pod's httpd waits for the rest).
struct HeldConnection {
    stream: Option<TcpStream>,
}

impl HeldConnection {
    /// Connects from the named network namespace `<prefix>net-pod`.
    fn open(demo: &KubeDemo, port: u16) -> Result<HeldConnection, String> {
        let netns = std::fs::File::open(format!("/run/netns/{}net-pod", demo.prefix()))
            .map_err(|e| format!("the client pod's namespace: {e}"))?;
        let vip: SocketAddr = format!("{VIP}:{port}")
            .parse()
            .map_err(|e| format!("{e}"))?;
        let connect = std::thread::spawn(move || -> std::io::Result<TcpStream> {
            nix::sched::setns(&netns, nix::sched::CloneFlags::CLONE_NEWNET)
                .map_err(std::io::Error::from)?;
            let stream = TcpStream::connect_timeout(&vip, Duration::from_secs(5))?;
            std::io::Write::write_all(&mut &stream, b"GET / HTTP/1.0\r\n")?;
            Ok(stream)
        });
        let stream = connect
            .join()
            .map_err(|_| "the connecting thread panicked".to_string())?
            .map_err(|e| format!("cannot connect to {vip} from the client pod: {e}"))?;
        Ok(HeldConnection {
            stream: Some(stream),
        })
    }

    /// The client's port, as the connection table shows it.
    fn local_port(&self) -> u16 {
        self.stream
            .as_ref()
            .and_then(|s| s.local_addr().ok())
            .map_or(0, |a| a.port())
    }

    /// Closes the connection with a reset (SO_LINGER 0): the kernel's IPVS
    /// entry goes to CLOSE (10 s) instead of TIME_WAIT (2 min).
    fn reset(&mut self) {
        if let Some(stream) = self.stream.take() {
            let linger = libc::linger {
                l_onoff: 1,
                l_linger: 0,
            };
            // SAFETY: a valid socket and a correctly sized option value.
            let rc = unsafe {
                libc::setsockopt(
                    stream.as_raw_fd(),
                    libc::SOL_SOCKET,
                    libc::SO_LINGER,
                    (&linger as *const libc::linger).cast(),
                    std::mem::size_of::<libc::linger>() as libc::socklen_t,
                )
            };
            assert_eq!(rc, 0, "SO_LINGER");
            drop(stream);
        }
    }
}

/// The real server the held connection reached, from ipvsadm 1.31's `-Lnc`:
/// the ESTABLISHED entry from the client pod's port.
fn server_of(ns: &Ns, client_port: u16) -> String {
    let listing = ns.reference(&["-Lnc"]);
    assert!(listing.status.success(), "{}", render(&listing));
    let text = String::from_utf8_lossy(&listing.stdout).into_owned();
    let source = format!("172.16.0.2:{client_port}");
    text.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|f| f.len() == 6 && f[2] == "ESTABLISHED" && f[3] == source)
        .map(|f| f[5].to_string())
        .unwrap_or_else(|| panic!("no ESTABLISHED entry from {source}:\n{text}"))
}

/// ipvsadm 1.31's `-Ln` line of `server` in the demo's service, as
/// `(weight, active, inactive)`; `None` when it is not listed.
fn listed(ns: &Ns, server: &str) -> Option<(u32, u32, u32)> {
    let out = ns.reference(&["-Ln", "-t", SERVICE]);
    assert!(out.status.success(), "{}", render(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|f| f.len() == 6 && f[0] == "->" && f[1] == server)
        .map(|f| {
            let n = |i: usize| f[i].parse::<u32>().unwrap_or(u32::MAX);
            (n(3), n(4), n(5))
        })
}

/// The servers 1.31 lists for the demo's service.
fn servers_listed(ns: &Ns) -> Vec<String> {
    let out = ns.reference(&["-Ln", "-t", SERVICE]);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("  -> "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|s| *s != "RemoteAddress:Port")
        .map(str::to_string)
        .collect()
}

/// Waits (up to 10 s) until 1.31 lists `server` with weight 0.
#[track_caller]
fn await_weight_0(ns: &Ns, server: &str) {
    let started = Instant::now();
    while listed(ns, server).map(|l| l.0) != Some(0) {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{server} never got weight 0: {:?}",
            listed(ns, server)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn drain_cmd(ns: &Ns, server: &str, drain: &str) -> Command {
    let mut cmd = Command::new(ns.ours_path());
    cmd.arg0("ipvsadm")
        .args(["-d", "-t", SERVICE, "-r", server, drain])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

fn spawn_drain(ns: &Ns, server: &str, drain: &str) -> Child {
    drain_cmd(ns, server, drain)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run our ipvsadm: {e}"))
}

/// Waits for a drain (failing after `limit`); its output and how long it
/// ran from `started`.
fn finish(child: Child, started: Instant, limit: Duration) -> (Output, Duration) {
    let (tx, rx) = std::sync::mpsc::channel();
    let pid = child.id();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(Ok(out)) => (out, started.elapsed()),
        Ok(Err(e)) => panic!("cannot wait for the drain: {e}"),
        Err(_) => {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid as i32),
                Signal::SIGKILL,
            );
            panic!("the drain did not end within {limit:?}");
        }
    }
}

/// `requests` requests from the client pod; the answers counted by pod.
fn requests(ns: &Ns, demo: &KubeDemo, requests: u32) -> BTreeMap<String, u32> {
    let out = ns.sh(&format!(
        "i=0; while [ $i -lt {requests} ]; do
           /sbin/ip netns exec {prefix}net-pod busybox wget -q -O - http://{SERVICE}/ || exit 1
           i=$((i + 1))
         done",
        prefix = demo.prefix()
    ));
    assert!(out.status.success(), "requests:\n{}", render(&out));
    let mut answers = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        *answers.entry(line.to_string()).or_insert(0) += 1;
    }
    answers
}

/// `10.10.2.2:80` is `webpod2`.
fn pod_of(server: &str) -> String {
    let n = server.split('.').nth(2).unwrap_or("?");
    format!("Hostname: webpod{n}")
}

fn lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(str::to_string)
        .collect()
}

/// Acceptance: `--drain=5` times out with the held connection reported
/// and the server left at weight 0, while new requests reach only the
/// other pods; once the client closes, `--drain` deletes the server.
fn a_held_connection_keeps_its_server_until_it_closes(ns: &Ns) -> TestResult {
    let demo = KubeDemo::setup(ns, "dr")?;
    let mut held = HeldConnection::open(&demo, PORT)?;
    let server = server_of(ns, held.local_port());
    let pod = pod_of(&server);
    assert_eq!(listed(ns, &server), Some((1, 1, 0)), "before the drain");

    let started = Instant::now();
    let drain = spawn_drain(ns, &server, "--drain=5");
    await_weight_0(ns, &server);
    // While it drains: 30 requests, none to the drained pod, the round
    // robin over the two others.
    let answers = requests(ns, &demo, 30);
    let (out, took) = finish(drain, started, Duration::from_secs(30));
    assert!(
        !answers.contains_key(&pod) && answers.values().sum::<u32>() == 30,
        "the drained {pod} got requests: {answers:?}"
    );
    assert_eq!(
        answers.values().copied().collect::<Vec<_>>(),
        [15, 15],
        "{answers:?}"
    );

    assert_eq!(out.status.code(), Some(1), "{}", render(&out));
    assert!(
        took >= Duration::from_secs(5) && took < Duration::from_secs(15),
        "--drain=5 took {took:?}"
    );
    // In a pipe: a line a second, the time left counting down.
    let progress = |left: u32| {
        format!(
            "draining {server}: 1 connection left (1 active, 0 inactive, 0 persistent), {left} s to go"
        )
    };
    assert_eq!(
        lines(&out.stdout),
        (1..=5).rev().map(progress).collect::<Vec<_>>(),
        "{}",
        render(&out)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "real server {server} of TCP {SERVICE} still has 1 connection \
             (1 active, 0 inactive, 0 persistent) after 5 s: left in place with weight 0\n"
        )
    );
    // Still there, weight 0, the connection on it; its other settings kept.
    assert_eq!(listed(ns, &server), Some((0, 1, 0)), "after the timeout");
    let saved = ns.reference(&["-Sn"]);
    assert!(
        String::from_utf8_lossy(&saved.stdout)
            .contains(&format!("-a -t {SERVICE} -r {server} -m -w 0\n")),
        "{}",
        render(&saved)
    );

    // The client closes: the kernel keeps the entry a few seconds (CLOSE),
    // counted as inactive, then `--drain` deletes the server.
    held.reset();
    let started = Instant::now();
    let (out, took) = finish(
        spawn_drain(ns, &server, "--drain"),
        started,
        Duration::from_secs(60),
    );
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    let shown = lines(&out.stdout);
    let (last, waiting) = shown.split_last().expect("a line");
    let deleted = format!(
        "real server {server} of TCP {SERVICE}: no connections left, deleted after "
    );
    let after: u64 = last
        .strip_prefix(&deleted)
        .and_then(|rest| rest.strip_suffix(" s"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("last line: {last}"));
    // The kernel keeps a reset connection's entry 10 s (its CLOSE timeout).
    assert!(
        (5..=15).contains(&after) && after <= took.as_secs(),
        "deleted after {after} s, ran {took:?}: {shown:#?}"
    );
    // It waited for the closed connection's entry: inactive, not active.
    assert!(!waiting.is_empty(), "deleted before the entry expired");
    for line in waiting {
        assert!(
            line.starts_with(&format!(
                "draining {server}: 1 connection left (0 active, 1 inactive, 0 persistent), "
            )),
            "{line}"
        );
    }
    assert_eq!(listed(ns, &server), None, "deleted");
    assert_eq!(servers_listed(ns).len(), 2, "the two others stay");
    Ok(())
}

/// Ctrl-C gives 130, SIGTERM 143; in a pipe and on a terminal; the server
/// stays at weight 0 with its connection; a closed pipe changes nothing of
/// that; and a missing service or server is refused as ipvsadm 1.31's `-d`
/// refuses it.
fn signals_stop_a_drain_and_leave_the_server_at_weight_0(ns: &Ns) -> TestResult {
    let demo = KubeDemo::setup(ns, "ds")?;
    let held = HeldConnection::open(&demo, PORT)?;
    let server = server_of(ns, held.local_port());
    let stopped = |signal: &str, after: u64| {
        format!(
            "real server {server} of TCP {SERVICE} still has 1 connection \
             (1 active, 0 inactive, 0 persistent) after {after} s, stopped by {signal}: \
             left in place with weight 0"
        )
    };

    // In a pipe, Ctrl-C after the second look.
    let started = Instant::now();
    let mut child = spawn_drain(ns, &server, "--drain=60");
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
    let first: std::io::Result<Vec<String>> = (0..2)
        .map(|_| {
            let mut line = String::new();
            stdout.read_line(&mut line)?;
            Ok(line.trim_end().to_string())
        })
        .collect();
    let signalled = nix::sys::signal::kill(pid, Signal::SIGINT);
    let (out, _) = finish(child, started, Duration::from_secs(30));
    let (first, ()) = (first?, signalled?);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest)?;
    assert_eq!(rest, "", "nothing more on stdout");
    assert_eq!(out.status.code(), Some(130), "{}", render(&out));
    assert_eq!(
        first,
        [60, 59]
            .map(|left| format!(
                "draining {server}: 1 connection left (1 active, 0 inactive, 0 persistent), {left} s to go"
            ))
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        stopped("SIGINT", 1) + "\n"
    );
    assert_eq!(listed(ns, &server), Some((0, 1, 0)), "after SIGINT");

    // On a terminal: one line redrawn in place; SIGTERM.
    let args = ["-d", "-t", SERVICE, "-r", server.as_str(), "--drain=60"];
    let mut pty = PtyChild::spawn(ns.ours_path(), &args);
    // SIGTERM once the third look is shown.
    let started = Instant::now();
    while !String::from_utf8_lossy(&pty.output()).contains("58 s to go") {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no third look: {:?}",
            String::from_utf8_lossy(&pty.output())
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    pty.signal(Signal::SIGTERM);
    let (status, screen) = pty.finish(Duration::from_secs(30));
    let screen = String::from_utf8_lossy(&screen).into_owned();
    assert_eq!(status.code(), Some(143), "{screen:?}");
    let redraw = |left: u32| {
        format!(
            "\r\x1b[Kdraining {server}: 1 connection left (1 active, 0 inactive, 0 persistent), {left} s to go"
        )
    };
    let expected = format!(
        "{}{}{}\r\x1b[K{}\r\n",
        redraw(60),
        redraw(59),
        redraw(58),
        stopped("SIGTERM", 2)
    );
    assert_eq!(screen, expected);
    assert_eq!(listed(ns, &server), Some((0, 1, 0)), "after SIGTERM");

    // Its reader gone (`| head -1`), the drain goes on and its status
    // still says how it ended.
    let started = Instant::now();
    let mut child = spawn_drain(ns, &server, "--drain=2");
    drop(child.stdout.take());
    let (out, took) = finish(child, started, Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(1), "{}", render(&out));
    assert!(took >= Duration::from_secs(2), "took {took:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "real server {server} of TCP {SERVICE} still has 1 connection \
             (1 active, 0 inactive, 0 persistent) after 2 s: left in place with weight 0\n"
        )
    );

    // A missing service or server: what 1.31's `-d` says, with its status.
    for (service, real) in [
        ("10.200.1.77:9000", server.as_str()),
        (SERVICE, "10.10.9.2:80"),
    ] {
        let ours = ns.ours(&["-d", "-t", service, "-r", real, "--drain=5"]);
        let reference = ns.reference(&["-d", "-t", service, "-r", real]);
        crate::support::assert_same_output(
            &format!("-d -t {service} -r {real} [--drain=5]"),
            &ours,
            &reference,
        );
        assert_eq!(reference.status.code(), Some(255));
    }
    drop(held);
    Ok(())
}

/// A persistent service: once the connection is gone, its persistence
/// template still ties the client to the server, and the drain waits for
/// it too before deleting.
fn persistence_templates_are_waited_for(ns: &Ns) -> TestResult {
    let demo = KubeDemo::setup(ns, "dp")?;
    const STICKY: &str = "10.200.1.76:9001";
    // The template outlives the connection: the kernel looks at it again
    // a persistence timeout after its last use (20 s), the reset
    // connection's entry expires 10 s after the reset.
    for args in [
        format!("-A -t {STICKY} -s rr -p 20"),
        format!("-a -t {STICKY} -r 10.10.1.2:80 -m"),
        format!("-a -t {STICKY} -r 10.10.2.2:80 -m"),
    ] {
        let args: Vec<&str> = args.split(' ').collect();
        assert_ok(
            &format!("ipvsadm-1.31 {}", args.join(" ")),
            &ns.reference(&args),
        );
    }
    let mut held = HeldConnection::open(&demo, 9001)?;
    let server = server_of(ns, held.local_port());
    // The kernel's template: client port 0, pointing at the server.
    let conns = ns.reference(&["-Lnc"]);
    let text = String::from_utf8_lossy(&conns.stdout).into_owned();
    assert!(
        text.lines().any(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.len() == 6 && f[3] == "172.16.0.2:0" && f[5] == server
        }),
        "no template for {server}:\n{text}"
    );
    let persistent = ns.reference(&["-Ln", "-t", STICKY, "--persistent-conn"]);
    let text = String::from_utf8_lossy(&persistent.stdout).into_owned();
    assert!(
        text.lines().any(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.len() == 6 && f[1] == server && f[3] == "1" && f[4] == "1"
        }),
        "1.31 shows one template and one connection on {server}:\n{text}"
    );

    held.reset();
    let started = Instant::now();
    let out = {
        let mut cmd = Command::new(ns.ours_path());
        cmd.arg0("ipvsadm")
            .args(["-d", "-t", STICKY, "-r", server.as_str(), "--drain=60"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let child = cmd.spawn()?;
        finish(child, started, Duration::from_secs(90)).0
    };
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    let shown = lines(&out.stdout);
    // First the closed connection's entry (and the template), then the
    // template alone, then the deletion.
    let with = |conns: &str| {
        shown
            .iter()
            .filter(|l| l.starts_with(&format!("draining {server}: {conns}")))
            .count()
    };
    assert!(
        with("2 connections left (0 active, 1 inactive, 1 persistent)") >= 1,
        "{shown:#?}"
    );
    assert!(
        with("1 connection left (0 active, 0 inactive, 1 persistent)") >= 1,
        "the template alone kept the server: {shown:#?}"
    );
    assert!(
        shown.last().is_some_and(|l| l.starts_with(&format!(
            "real server {server} of TCP {STICKY}: no connections left, deleted after "
        ))),
        "{shown:#?}"
    );
    let listing = ns.reference(&["-Ln", "-t", STICKY]);
    assert!(
        !String::from_utf8_lossy(&listing.stdout).contains(&server),
        "{}",
        render(&listing)
    );
    Ok(())
}

/// A server without connections is deleted at the first look, without
/// waiting a second; the others stay as they were.
fn an_idle_server_is_removed_at_once(ns: &Ns) -> TestResult {
    for args in [
        "-A -t 10.0.0.1:80 -s wrr",
        "-a -t 10.0.0.1:80 -r 10.0.1.1:80 -m -w 4",
        "-a -t 10.0.0.1:80 -r 10.0.1.2:8080 -m -w 2 -x 100 -y 50",
        "-A -f 7 -s rr",
        "-a -f 7 -r 10.0.1.3:80 -g",
    ] {
        let args: Vec<&str> = args.split(' ').collect();
        assert_ok(
            &format!("ipvsadm-1.31 {}", args.join(" ")),
            &ns.reference(&args),
        );
    }
    let before = ns.reference(&["-Sn"]);
    for (service, server, expected) in [
        (
            ["-t", "10.0.0.1:80"],
            "10.0.1.2:8080",
            "real server 10.0.1.2:8080 of TCP 10.0.0.1:80: no connections left, deleted after 0 s\n",
        ),
        (
            ["-f", "7"],
            "10.0.1.3:80",
            "real server 10.0.1.3:80 of FWM 7: no connections left, deleted after 0 s\n",
        ),
    ] {
        let started = Instant::now();
        let mut args = vec!["-d"];
        args.extend(service);
        args.extend(["-r", server, "--drain"]);
        let out = ns.ours(&args);
        let took = started.elapsed();
        assert_eq!(out.status.code(), Some(0), "{}", render(&out));
        assert_eq!(String::from_utf8_lossy(&out.stdout), expected);
        assert_eq!(String::from_utf8_lossy(&out.stderr), "");
        assert!(took < Duration::from_millis(900), "took {took:?}");
    }
    // What is left is what 1.31's plain `-d` leaves.
    let after = ns.reference(&["-Sn"]);
    let expected: String = String::from_utf8_lossy(&before.stdout)
        .lines()
        .filter(|l| !l.contains("10.0.1.2:8080") && !l.contains("10.0.1.3"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(String::from_utf8_lossy(&after.stdout), expected);
    Ok(())
}

/// `-R --replace --drain=5` of the table without two of the pods: the idle
/// one is deleted at once; the one with a held connection goes to weight
/// 0, new requests reach only the pod left, and when the time is up it is
/// still there with its connection (said, exit 1). After the client
/// closes, the same replace deletes it, and the table is the input as
/// ipvsadm 1.31 saves it.
fn replace_drains_the_servers_it_removes(ns: &Ns) -> TestResult {
    let demo = KubeDemo::setup(ns, "dp")?;
    let mut held = HeldConnection::open(&demo, PORT)?;
    let server = server_of(ns, held.local_port());
    let others: Vec<String> = servers_listed(ns)
        .into_iter()
        .filter(|s| *s != server)
        .collect();
    let [idle, kept] = others.as_slice() else {
        panic!("three pods: {server} and {others:?}");
    };
    let saved = ns.reference(&["-Sn"]);
    assert!(saved.status.success(), "{}", render(&saved));
    let input: String = String::from_utf8_lossy(&saved.stdout)
        .lines()
        .filter(|l| {
            !l.contains(&format!(" -r {server} ")) && !l.contains(&format!(" -r {idle} "))
        })
        .map(|l| format!("{l}\n"))
        .collect();

    let started = Instant::now();
    let mut replace = Command::new(ns.ours_path());
    replace
        .arg0("ipvsadm")
        .args(["-R", "--replace", "--drain=5"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = replace
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run our ipvsadm: {e}"));
    let mut stdin = child.stdin.take().expect("piped stdin");
    std::io::Write::write_all(&mut stdin, input.as_bytes()).expect("the input written");
    drop(stdin);
    await_weight_0(ns, &server);
    while listed(ns, idle).is_some() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the idle {idle} was not deleted at once"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let answers = requests(ns, &demo, 10);
    let (out, took) = finish(child, started, Duration::from_secs(30));
    assert_eq!(
        answers,
        BTreeMap::from([(pod_of(kept), 10)]),
        "while {server} drains and {idle} is gone"
    );
    assert_eq!(out.status.code(), Some(1), "{}", render(&out));
    assert!(
        took >= Duration::from_secs(5) && took < Duration::from_secs(15),
        "--drain=5 took {took:?}"
    );
    let mut expected: Vec<String> = (1..=5)
        .rev()
        .map(|left| {
            format!(
                "draining 1 real server: 1 connection left (1 active, 0 inactive, 0 persistent), {left} s to go"
            )
        })
        .collect();
    expected.push(
        "replace: 1 change applied (services: 0 added, 0 edited, 0 deleted; \
         real servers: 0 added, 0 edited, 1 deleted)"
            .to_string(),
    );
    assert_eq!(lines(&out.stdout), expected, "{}", render(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "real server {server} of TCP {SERVICE} still has 1 connection \
             (1 active, 0 inactive, 0 persistent) after 5 s: left in place with weight 0\n\
             replace: 1 real server left in place with weight 0\n"
        )
    );
    assert_eq!(listed(ns, &server), Some((0, 1, 0)), "after the timeout");
    assert_eq!(listed(ns, idle), None);

    // The client closes; the kernel keeps its entry 10 s (CLOSE); the same
    // replace waits for it and deletes the server.
    held.reset();
    let out = ns.ours_stdin(&["-R", "--replace", "--drain"], &input);
    assert_eq!(out.status.code(), Some(0), "{}", render(&out));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    assert_eq!(
        lines(&out.stdout).last().map(String::as_str),
        Some(
            "replace: 1 change applied (services: 0 added, 0 edited, 0 deleted; \
             real servers: 0 added, 0 edited, 1 deleted)"
        ),
        "{}",
        render(&out)
    );
    let now = ns.reference(&["-Sn"]);
    assert_eq!(String::from_utf8_lossy(&now.stdout), input);
    let dry = ns.ours_stdin(&["-R", "--replace", "--dry-run"], &input);
    assert_eq!(
        (dry.status.code(), dry.stdout.as_slice()),
        (Some(0), &b""[..]),
        "{}",
        render(&dry)
    );
    Ok(())
}
