use std::collections::VecDeque;
use std::ffi::OsString;
use std::net::IpAddr;

use super::*;
use crate::backend::Result as BackendResult;
use crate::cli::{Command, parse_args};
use crate::fake::FakeIpvs;
use crate::model::{Daemon, DaemonState, FwdMethod, Info, ServiceId, Timeouts};

fn command(line: &str) -> Command {
    let args: Vec<OsString> = line.split(' ').map(OsString::from).collect();
    match parse_args("ipvsadm", &args) {
        Ok(inv) => inv.command,
        Err(e) => panic!("{line}: {e}"),
    }
}

fn service(line: &str) -> Service {
    match command(line) {
        Command::AddService(s) => s,
        other => panic!("{line}: {other:?}"),
    }
}

fn dest(line: &str) -> Dest {
    match command(line) {
        Command::AddDest(_, d) | Command::DelDest(_, d) => d,
        other => panic!("{line}: {other:?}"),
    }
}

/// What each look at the table after the weight was set to 0 finds on the
/// drained server: one entry per look (the last repeats), and optionally
/// someone else's change at a look.
#[derive(Default)]
struct Script {
    counts: VecDeque<(u32, u32, u32)>,
    /// At this look (0-based), someone sets the weight to 5.
    reweight_at: Option<usize>,
    /// At this look, someone deletes the server.
    delete_at: Option<usize>,
}

/// The fake table, with the drained server's counters set by the script
/// before each read of its service's real servers.
struct Draining {
    inner: FakeIpvs,
    server: (IpAddr, u16),
    script: Script,
    looks: usize,
    edits: Vec<Dest>,
}

macro_rules! delegate {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        $(fn $name(&mut self, $($arg: $ty),*) -> BackendResult<$ret> {
            self.inner.$name($($arg),*)
        })*
    };
}

impl IpvsBackend for Draining {
    delegate! {
        info() -> Info;
        services() -> Vec<Service>;
        service(id: &ServiceId) -> Service;
        add_service(svc: &Service) -> ();
        edit_service(svc: &Service) -> ();
        del_service(svc: &Service) -> ();
        zero(svc: Option<&Service>) -> ();
        flush() -> ();
        add_dest(svc: &Service, dest: &Dest) -> ();
        del_dest(svc: &Service, dest: &Dest) -> ();
        timeouts() -> Timeouts;
        set_timeouts(t: &Timeouts) -> ();
        daemons() -> Vec<Daemon>;
        start_daemon(d: &Daemon) -> ();
        stop_daemon(state: DaemonState, syncid: u32) -> ();
    }

    fn edit_dest(&mut self, svc: &Service, dest: &Dest) -> BackendResult<()> {
        self.edits.push(dest.clone());
        self.inner.edit_dest(svc, dest)
    }

    fn dests(&mut self, id: &ServiceId) -> BackendResult<Vec<Dest>> {
        // The read before the weight is set is no look of the script's.
        if self.edits.is_empty() {
            return self.inner.dests(id);
        }
        let look = self.looks;
        self.looks += 1;
        let counts = if self.script.counts.len() > 1 {
            self.script.counts.pop_front()
        } else {
            self.script.counts.front().copied()
        };
        for (svc, dests) in &mut self.inner.services {
            if svc.id != *id {
                continue;
            }
            if self.script.delete_at == Some(look) {
                dests.retain(|d| (d.addr, d.port) != self.server);
            }
            for d in dests.iter_mut().filter(|d| (d.addr, d.port) == self.server) {
                if let Some((a, i, p)) = counts {
                    (d.active_conns, d.inact_conns, d.persist_conns) = (a, i, p);
                }
                if self.script.reweight_at == Some(look) {
                    d.weight = 5;
                }
            }
        }
        self.inner.dests(id)
    }
}

/// Time that passes only when the drain waits; a signal may come at a
/// given moment.
struct FakeClock {
    now: Duration,
    signal_at: Option<(Duration, i32)>,
    waits: Vec<Duration>,
}

impl FakeClock {
    fn new() -> FakeClock {
        FakeClock {
            now: Duration::ZERO,
            signal_at: None,
            waits: Vec::new(),
        }
    }
}

impl Clock for FakeClock {
    fn elapsed(&self) -> Duration {
        self.now
    }

    fn wait_until(&mut self, at: Duration) -> Option<i32> {
        self.waits.push(at);
        if let Some((t, sig)) = self.signal_at {
            if t <= at {
                self.now = self.now.max(t);
                return Some(sig);
            }
        }
        self.now = self.now.max(at);
        None
    }
}

const SERVICE: &str = "-A -t 10.200.1.76:9000 -s rr";
const SERVER: &str = "-a -t 10.200.1.76:9000 -r 10.10.1.2:80 -m -w 3 -x 50 -y 10";

/// The kube demo's service with three masqueraded pods; the first is
/// drained.
fn table(service_line: &str, script: Script) -> (Draining, Service, Dest) {
    let mut inner = FakeIpvs::default();
    let svc = service(service_line);
    inner.add_service(&svc).expect("service");
    let target = dest(SERVER);
    inner.add_dest(&svc, &target).expect("server");
    for other in ["10.10.2.2:80", "10.10.3.2:80"] {
        let d = dest(&format!("-a -t 10.200.1.76:9000 -r {other} -m"));
        inner.add_dest(&svc, &d).expect("server");
    }
    let backend = Draining {
        inner,
        server: (target.addr, target.port),
        script,
        looks: 0,
        edits: Vec::new(),
    };
    // `-d` names the server by address and port only.
    let named = dest("-d -t 10.200.1.76:9000 -r 10.10.1.2:80");
    (backend, svc, named)
}

fn script(counts: &[(u32, u32, u32)]) -> Script {
    Script {
        counts: counts.iter().copied().collect(),
        ..Script::default()
    }
}

struct Ran {
    outcome: Result<DrainOutcome, IpvsError>,
    out: String,
    backend: Draining,
    clock: FakeClock,
}

fn run_drain(
    mut backend: Draining,
    svc: &Service,
    named: &Dest,
    timeout: Duration,
    mut clock: FakeClock,
    terminal: bool,
    conn_file: &Path,
) -> Ran {
    let mut out = Vec::new();
    let outcome = {
        let mut progress = if terminal {
            Progress::on_terminal(&mut out, 200)
        } else {
            Progress::new(&mut out, false)
        };
        drain(
            &mut backend,
            conn_file,
            svc,
            named,
            timeout,
            &mut clock,
            &mut progress,
        )
    };
    Ran {
        outcome,
        out: String::from_utf8(out).expect("utf-8"),
        backend,
        clock,
    }
}

fn no_conn_file() -> &'static Path {
    Path::new("/nonexistent/ip_vs_conn")
}

/// The drained server as the fake table has it now.
fn server_now(backend: &Draining) -> Option<Dest> {
    backend.inner.services[0]
        .1
        .iter()
        .find(|d| (d.addr, d.port) == backend.server)
        .cloned()
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[test]
fn an_idle_server_is_deleted_at_the_first_look_without_waiting() {
    let (backend, svc, named) = table(SERVICE, script(&[(0, 0, 0)]));
    let ran = run_drain(
        backend,
        &svc,
        &named,
        secs(300),
        FakeClock::new(),
        false,
        no_conn_file(),
    );
    assert_eq!(
        ran.outcome.expect("drained"),
        DrainOutcome::Removed { waited: secs(0) }
    );
    assert_eq!(ran.clock.waits, [Duration::ZERO]);
    assert_eq!(ran.out, "");
    assert_eq!(server_now(&ran.backend), None);
    assert_eq!(ran.backend.inner.services[0].1.len(), 2);
}

#[test]
fn the_weight_goes_to_zero_first_and_the_other_settings_stay() {
    let (backend, svc, named) = table(SERVICE, script(&[(1, 0, 0)]));
    let ran = run_drain(
        backend,
        &svc,
        &named,
        secs(3),
        FakeClock::new(),
        false,
        no_conn_file(),
    );
    assert!(matches!(ran.outcome, Ok(DrainOutcome::TimedOut { .. })));
    // One edit, with what the kernel had but the weight.
    assert_eq!(ran.backend.edits.len(), 1);
    let now = server_now(&ran.backend).expect("still there");
    assert_eq!(
        (now.weight, now.fwd, now.u_threshold, now.l_threshold),
        (0, FwdMethod::Masq, 50, 10)
    );
}

#[test]
fn connections_are_counted_down_a_line_a_second_in_a_pipe() {
    let counts = [(2, 1, 0), (1, 1, 0), (0, 1, 0), (0, 0, 0)];
    let (backend, svc, named) = table(SERVICE, script(&counts));
    let ran = run_drain(
        backend,
        &svc,
        &named,
        secs(300),
        FakeClock::new(),
        false,
        no_conn_file(),
    );
    assert_eq!(
        ran.outcome.expect("drained"),
        DrainOutcome::Removed { waited: secs(3) }
    );
    assert_eq!(ran.clock.waits, [secs(0), secs(1), secs(2), secs(3)]);
    assert_eq!(
        ran.out,
        "draining 10.10.1.2:80: 3 connections left (2 active, 1 inactive, 0 persistent), 300 s to go\n\
         draining 10.10.1.2:80: 2 connections left (1 active, 1 inactive, 0 persistent), 299 s to go\n\
         draining 10.10.1.2:80: 1 connection left (0 active, 1 inactive, 0 persistent), 298 s to go\n"
    );
    assert_eq!(server_now(&ran.backend), None);
}

#[test]
fn on_a_terminal_one_line_is_redrawn_and_cleared_at_the_end() {
    let counts = [(2, 0, 0), (1, 0, 0), (0, 0, 0)];
    let (backend, svc, named) = table(SERVICE, script(&counts));
    let ran = run_drain(
        backend,
        &svc,
        &named,
        secs(10),
        FakeClock::new(),
        true,
        no_conn_file(),
    );
    assert!(matches!(ran.outcome, Ok(DrainOutcome::Removed { .. })));
    assert_eq!(
        ran.out,
        "\r\x1b[Kdraining 10.10.1.2:80: 2 connections left (2 active, 0 inactive, 0 persistent), 10 s to go\
         \r\x1b[Kdraining 10.10.1.2:80: 1 connection left (1 active, 0 inactive, 0 persistent), 9 s to go\
         \r\x1b[K"
    );
}

#[test]
fn on_timeout_the_server_stays_at_weight_zero_with_what_is_left() {
    let (backend, svc, named) = table(SERVICE, script(&[(1, 2, 0)]));
    let ran = run_drain(
        backend,
        &svc,
        &named,
        secs(5),
        FakeClock::new(),
        false,
        no_conn_file(),
    );
    let outcome = ran.outcome.expect("timed out");
    assert_eq!(
        outcome,
        DrainOutcome::TimedOut {
            remaining: Remaining {
                active: 1,
                inactive: 2,
                templates: 0
            },
            waited: secs(5)
        }
    );
    assert_eq!(outcome.exit_status(), 1);
    // Looks at 0, 1, ..., 5 s: a line for each but the last.
    assert_eq!(ran.clock.waits, (0..=5).map(secs).collect::<Vec<_>>());
    assert_eq!(ran.out.lines().count(), 5);
    assert!(ran.out.ends_with("1 s to go\n"), "{}", ran.out);
    assert_eq!(server_now(&ran.backend).map(|d| d.weight), Some(0));
}

#[test]
fn a_timeout_of_zero_looks_once_and_deletes_only_an_empty_server() {
    let (backend, svc, named) = table(SERVICE, script(&[(0, 1, 0)]));
    let ran = run_drain(
        backend,
        &svc,
        &named,
        secs(0),
        FakeClock::new(),
        false,
        no_conn_file(),
    );
    assert!(matches!(
        ran.outcome,
        Ok(DrainOutcome::TimedOut { waited, .. }) if waited == secs(0)
    ));
    assert_eq!(ran.clock.waits, [secs(0)]);
    assert_eq!(ran.out, "");
    assert_eq!(server_now(&ran.backend).map(|d| d.weight), Some(0));

    let (backend, svc, named) = table(SERVICE, script(&[(0, 0, 0)]));
    let ran = run_drain(
        backend,
        &svc,
        &named,
        secs(0),
        FakeClock::new(),
        false,
        no_conn_file(),
    );
    assert!(matches!(ran.outcome, Ok(DrainOutcome::Removed { .. })));
    assert_eq!(server_now(&ran.backend), None);
}

#[test]
fn a_signal_stops_the_wait_and_never_deletes() {
    for (sig, status) in [(libc::SIGINT, 130), (libc::SIGTERM, 143)] {
        // Empty by the time the signal comes: still not deleted.
        let counts = [(3, 0, 0), (2, 0, 0), (0, 0, 0)];
        let (backend, svc, named) = table(SERVICE, script(&counts));
        let mut clock = FakeClock::new();
        clock.signal_at = Some((Duration::from_millis(1500), sig));
        let ran = run_drain(
            backend,
            &svc,
            &named,
            secs(300),
            clock,
            false,
            no_conn_file(),
        );
        let outcome = ran.outcome.expect("stopped");
        assert_eq!(
            outcome,
            DrainOutcome::Stopped {
                signal: sig,
                remaining: Remaining::default(),
                waited: Duration::from_millis(1500)
            }
        );
        assert_eq!(outcome.exit_status(), status);
        assert_eq!(server_now(&ran.backend).map(|d| d.weight), Some(0));
    }
}

#[test]
fn a_missing_service_or_server_is_reported_as_delete_server_reports_it() {
    let (backend, _, named) = table(SERVICE, Script::default());
    let other = service("-A -t 10.200.1.77:9000 -s rr");
    let ran = run_drain(
        backend,
        &other,
        &named,
        secs(5),
        FakeClock::new(),
        false,
        no_conn_file(),
    );
    match ran.outcome {
        Err(e) => assert_eq!(e.to_string(), "Service not defined"),
        other => panic!("{other:?}"),
    }
    let (backend, svc, _) = table(SERVICE, Script::default());
    let absent = dest("-d -t 10.200.1.76:9000 -r 10.10.9.2:80");
    let ran = run_drain(
        backend,
        &svc,
        &absent,
        secs(5),
        FakeClock::new(),
        false,
        no_conn_file(),
    );
    match ran.outcome {
        Err(e) => assert_eq!(e.to_string(), "No such destination"),
        other => panic!("{other:?}"),
    }
    assert!(ran.backend.edits.is_empty());
    assert!(ran.clock.waits.is_empty());
}

#[test]
fn someone_elses_changes_end_the_drain_without_a_deletion() {
    let mut s = script(&[(1, 0, 0)]);
    s.reweight_at = Some(2);
    let (backend, svc, named) = table(SERVICE, s);
    let ran = run_drain(
        backend,
        &svc,
        &named,
        secs(300),
        FakeClock::new(),
        false,
        no_conn_file(),
    );
    let outcome = ran.outcome.expect("ended");
    assert_eq!(outcome, DrainOutcome::Reweighted { weight: 5 });
    assert_eq!(outcome.exit_status(), 1);
    assert_eq!(server_now(&ran.backend).map(|d| d.weight), Some(5));

    let mut s = script(&[(1, 0, 0)]);
    s.delete_at = Some(3);
    let (backend, svc, named) = table(SERVICE, s);
    let ran = run_drain(
        backend,
        &svc,
        &named,
        secs(300),
        FakeClock::new(),
        false,
        no_conn_file(),
    );
    let outcome = ran.outcome.expect("ended");
    assert_eq!(outcome, DrainOutcome::Vanished);
    assert_eq!(outcome.exit_status(), 0);
}

/// `/proc/net/ip_vs_conn` with one template and one connection to the
/// drained server, a template to another, and a template of another VIP.
const CONN_TABLE: &str = "\
Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData
TCP AC100002 0000 0AC8014C 2328 0A0A0102 0050 NONE            355
TCP AC100002 C964 0AC8014C 2328 0A0A0102 0050 ESTABLISHED     893
TCP AC100003 0000 0AC8014C 2328 0A0A0202 0050 NONE            355
TCP AC100004 0000 0AC8014D 2328 0A0A0102 0050 NONE            355
";

#[test]
fn persistence_templates_count_from_the_kernel_and_the_connection_table() {
    let dir = tempfile::tempdir().expect("temp dir");
    let conn_file = dir.path().join("ip_vs_conn");
    std::fs::write(&conn_file, CONN_TABLE).expect("write");
    let persistent = "-A -t 10.200.1.76:9000 -s rr -p 360";

    // The kernel's count says 0 templates; the table shows one.
    let (backend, svc, named) = table(persistent, script(&[(1, 0, 0)]));
    let ran = run_drain(
        backend,
        &svc,
        &named,
        secs(0),
        FakeClock::new(),
        false,
        &conn_file,
    );
    assert!(matches!(
        ran.outcome,
        Ok(DrainOutcome::TimedOut {
            remaining: Remaining {
                active: 1,
                inactive: 0,
                templates: 1
            },
            ..
        })
    ));
    // The kernel's count is larger: it stands.
    let (backend, svc, named) = table(persistent, script(&[(0, 0, 3)]));
    let ran = run_drain(
        backend,
        &svc,
        &named,
        secs(0),
        FakeClock::new(),
        false,
        &conn_file,
    );
    assert!(matches!(
        ran.outcome,
        Ok(DrainOutcome::TimedOut {
            remaining: Remaining { templates: 3, .. },
            ..
        })
    ));
    // Without persistence the table is not read.
    let (backend, svc, named) = table(SERVICE, script(&[(0, 0, 0)]));
    let ran = run_drain(
        backend,
        &svc,
        &named,
        secs(0),
        FakeClock::new(),
        false,
        &conn_file,
    );
    assert!(matches!(ran.outcome, Ok(DrainOutcome::Removed { .. })));
}

#[test]
fn servers_and_services_are_named_numerically() {
    use crate::render::table::{dest_label, service_label};
    assert_eq!(
        service_label(&service("-A -t 10.200.1.76:9000 -s rr")),
        "TCP 10.200.1.76:9000"
    );
    assert_eq!(
        service_label(&service("-A -u [2001:db8::1]:53 -s rr")),
        "UDP [2001:db8::1]:53"
    );
    assert_eq!(service_label(&service("-A -f 7 -6 -s rr")), "FWM 7 IPv6");
    assert_eq!(
        dest_label(&dest("-d -t [2001:db8::1]:80 -r [2001:db8::2]:8080")),
        "[2001:db8::2]:8080"
    );
}

#[test]
fn on_a_narrow_terminal_the_line_is_cut_so_that_it_never_wraps() {
    let mut out = Vec::new();
    {
        let mut progress = Progress::on_terminal(&mut out, 40);
        let left = Remaining {
            active: 12,
            inactive: 3,
            templates: 0,
        };
        progress.update("[2001:db8::2]:8080", left, secs(300));
        progress.finish();
    }
    let text = String::from_utf8(out).expect("utf-8");
    assert_eq!(
        text,
        "\r\x1b[Kdraining [2001:db8::2]:8080: 15 connect\r\x1b[K"
    );
    assert_eq!("draining [2001:db8::2]:8080: 15 connect".len(), 39);
}

/// A writer whose reader went away.
struct ClosedPipe;

impl std::io::Write for ClosedPipe {
    fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
        Err(std::io::ErrorKind::BrokenPipe.into())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_closed_output_stops_the_progress_not_the_drain() {
    let counts = [(1, 0, 0), (0, 0, 0)];
    let (mut backend, svc, named) = table(SERVICE, script(&counts));
    let mut clock = FakeClock::new();
    let mut closed = ClosedPipe;
    let outcome = {
        let mut progress = Progress::new(&mut closed, false);
        drain(
            &mut backend,
            no_conn_file(),
            &svc,
            &named,
            secs(300),
            &mut clock,
            &mut progress,
        )
    };
    assert_eq!(
        outcome.expect("drained"),
        DrainOutcome::Removed { waited: secs(1) }
    );
    assert_eq!(server_now(&backend), None);
}

/// The fake table whose real servers each hold one active connection
/// until a given moment of a clock shared with [`SharedClock`].
struct Timed {
    inner: FakeIpvs,
    now: std::rc::Rc<std::cell::Cell<Duration>>,
    /// `(address, port)` and when its connection ends.
    ends: Vec<((IpAddr, u16), Duration)>,
}

impl IpvsBackend for Timed {
    delegate! {
        info() -> Info;
        services() -> Vec<Service>;
        service(id: &ServiceId) -> Service;
        add_service(svc: &Service) -> ();
        edit_service(svc: &Service) -> ();
        del_service(svc: &Service) -> ();
        zero(svc: Option<&Service>) -> ();
        flush() -> ();
        add_dest(svc: &Service, dest: &Dest) -> ();
        edit_dest(svc: &Service, dest: &Dest) -> ();
        del_dest(svc: &Service, dest: &Dest) -> ();
        timeouts() -> Timeouts;
        set_timeouts(t: &Timeouts) -> ();
        daemons() -> Vec<Daemon>;
        start_daemon(d: &Daemon) -> ();
        stop_daemon(state: DaemonState, syncid: u32) -> ();
    }

    fn dests(&mut self, id: &ServiceId) -> BackendResult<Vec<Dest>> {
        let now = self.now.get();
        let mut dests = self.inner.dests(id)?;
        for d in &mut dests {
            if let Some((_, end)) = self.ends.iter().find(|(s, _)| *s == (d.addr, d.port))
            {
                d.active_conns = u32::from(now < *end);
            }
        }
        Ok(dests)
    }
}

/// A [`FakeClock`] whose time the [`Timed`] table sees.
struct SharedClock {
    clock: FakeClock,
    now: std::rc::Rc<std::cell::Cell<Duration>>,
}

impl Clock for SharedClock {
    fn elapsed(&self) -> Duration {
        self.clock.elapsed()
    }

    fn wait_until(&mut self, at: Duration) -> Option<i32> {
        let signal = self.clock.wait_until(at);
        self.now.set(self.clock.elapsed());
        signal
    }
}

/// Three pods of the demo's service, their connections ending at 1 s,
/// 3 s and never; and the targets to drain, by address and port only.
fn timed_table(ends: &[(&str, Duration)]) -> (Timed, Vec<(Service, Dest)>) {
    let mut inner = FakeIpvs::default();
    let svc = service(SERVICE);
    inner.add_service(&svc).expect("service");
    let mut targets = Vec::new();
    let mut timed = Vec::new();
    for (server, end) in ends {
        let d = dest(&format!("-a -t 10.200.1.76:9000 -r {server} -m -w 2"));
        inner.add_dest(&svc, &d).expect("server");
        timed.push(((d.addr, d.port), *end));
        targets.push((
            svc.clone(),
            dest(&format!("-d -t 10.200.1.76:9000 -r {server}")),
        ));
    }
    let backend = Timed {
        inner,
        now: Default::default(),
        ends: timed,
    };
    (backend, targets)
}

const NEVER: Duration = Duration::MAX;

#[test]
fn many_servers_drain_together_within_one_timeout() {
    let (mut backend, targets) = timed_table(&[
        ("10.10.1.2:80", secs(1)),
        ("10.10.2.2:80", secs(3)),
        ("10.10.3.2:80", NEVER),
    ]);
    let mut clock = SharedClock {
        clock: FakeClock::new(),
        now: backend.now.clone(),
    };
    let mut out = Vec::new();
    let outcomes = {
        let mut progress = Progress::new(&mut out, false);
        drain_all(
            &mut backend,
            no_conn_file(),
            &targets,
            secs(5),
            &mut clock,
            &mut progress,
        )
    };
    let left = Remaining {
        active: 1,
        inactive: 0,
        templates: 0,
    };
    assert_eq!(
        outcomes.expect("drained"),
        [
            DrainOutcome::Removed { waited: secs(1) },
            DrainOutcome::Removed { waited: secs(3) },
            DrainOutcome::TimedOut {
                remaining: left,
                waited: secs(5)
            },
        ]
    );
    // One look a second for the three together, not one drain after another.
    assert_eq!(clock.clock.waits, (0..=5).map(secs).collect::<Vec<_>>());
    assert_eq!(
        String::from_utf8(out).expect("utf-8"),
        "draining 3 real servers: 3 connections left (3 active, 0 inactive, 0 persistent), 5 s to go\n\
         draining 2 real servers: 2 connections left (2 active, 0 inactive, 0 persistent), 4 s to go\n\
         draining 2 real servers: 2 connections left (2 active, 0 inactive, 0 persistent), 3 s to go\n\
         draining 1 real server: 1 connection left (1 active, 0 inactive, 0 persistent), 2 s to go\n\
         draining 1 real server: 1 connection left (1 active, 0 inactive, 0 persistent), 1 s to go\n"
    );
    let left: Vec<(u16, i32)> = backend.inner.services[0]
        .1
        .iter()
        .map(|d| (d.port, d.weight))
        .collect();
    assert_eq!(left, [(80, 0)], "only the busy one stays, at weight 0");
    assert_eq!(
        backend.inner.services[0].1[0].addr,
        "10.10.3.2".parse::<IpAddr>().expect("address")
    );
}

#[test]
fn many_servers_are_all_found_before_any_weight_changes() {
    let (mut backend, mut targets) = timed_table(&[("10.10.1.2:80", secs(1))]);
    targets.push((
        service(SERVICE),
        dest("-d -t 10.200.1.76:9000 -r 10.10.9.2:80"),
    ));
    let mut clock = FakeClock::new();
    let mut out = Vec::new();
    let result = {
        let mut progress = Progress::new(&mut out, false);
        drain_all(
            &mut backend,
            no_conn_file(),
            &targets,
            secs(5),
            &mut clock,
            &mut progress,
        )
    };
    match result {
        Err(e) => assert_eq!(e.to_string(), "No such destination"),
        Ok(o) => panic!("{o:?}"),
    }
    assert_eq!(backend.inner.services[0].1[0].weight, 2, "left untouched");
    assert!(clock.waits.is_empty());
}
