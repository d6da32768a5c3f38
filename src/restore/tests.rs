use super::*;
use crate::backend::Result as BackendResult;
use crate::fake::FakeIpvs;
use crate::model::{Info, Stats};
use crate::resolve::FakeResolver;
use proptest::prelude::*;

/// A backend that counts `apply` calls (batches) and otherwise is the
/// fake table.
struct Counting<'a> {
    inner: &'a mut FakeIpvs,
    batches: usize,
}

macro_rules! delegate {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        $(fn $name(&mut self, $($arg: $ty),*) -> BackendResult<$ret> {
            self.inner.$name($($arg),*)
        })*
    };
}

impl IpvsBackend for Counting<'_> {
    delegate! {
        info() -> Info;
        services() -> Vec<Service>;
        service(id: &ServiceId) -> Service;
        dests(id: &ServiceId) -> Vec<Dest>;
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
        stop_daemon(state: crate::model::DaemonState, syncid: u32) -> ();
    }

    fn apply(&mut self, changes: &[Change]) -> BackendResult<Vec<BackendResult<()>>> {
        self.batches += 1;
        Ok(changes.iter().map(|c| self.inner.apply_one(c)).collect())
    }
}

struct Outcome {
    status: i32,
    stdout: String,
    stderr: String,
    batches: usize,
}

fn restore(table: &mut FakeIpvs, atomic: bool, input: &str) -> Outcome {
    let names = FakeResolver::new();
    let mut backend = Counting {
        inner: table,
        batches: 0,
    };
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let mut stdin = input.as_bytes();
    let status = {
        let mut session = Session {
            ipvs: &mut backend,
            info: Info {
                version: 0x010201,
                conn_tab_size: 4096,
            },
            names: &names,
            conn_file: "/nonexistent".into(),
            argv0: "ipvsadm".into(),
        };
        let mut io = Streams {
            stdin: &mut stdin,
            stdout: &mut stdout,
            stderr: &mut stderr,
        };
        run(
            &mut session,
            atomic,
            &mut io,
            crate::dispatch::execute_command,
        )
        .expect("no output error")
    };
    Outcome {
        status,
        stdout: String::from_utf8(stdout).unwrap(),
        stderr: String::from_utf8(stderr).unwrap(),
        batches: backend.batches,
    }
}

/// `ipvsadm -Sn` of the fake table (sorted, as users compare tables).
fn save(table: &mut FakeIpvs) -> String {
    let names = FakeResolver::new();
    let entries = listing::read_table(table, false).unwrap();
    let mut out = Vec::new();
    for e in &entries {
        crate::output::save::write_save_entry(
            &mut out, &e.service, &e.dests, true, &names,
        )
        .unwrap();
    }
    String::from_utf8(out).unwrap()
}

fn stats(n: u64) -> Stats {
    Stats {
        conns: n,
        inpkts: n * 10,
        outpkts: n * 9,
        inbytes: n * 1000,
        outbytes: n * 900,
        ..Stats::default()
    }
}

/// Three services with real servers and counters, and custom timeouts.
fn populated() -> FakeIpvs {
    let mut t = FakeIpvs::default();
    let setup = "-A -t 10.0.0.1:80 -s wrr -p 300\n\
                 -a -t 10.0.0.1:80 -r 10.0.1.1:80 -m -w 3\n\
                 -a -t 10.0.0.1:80 -r 10.0.1.2:80 -m -w 4 -x 100 -y 10\n\
                 -A -u 10.0.0.2:53 -s sh -b sh-port\n\
                 -a -u 10.0.0.2:53 -r 10.0.1.3:53 -g\n\
                 -A -f 7 -s lc\n\
                 -a -f 7 -r 10.0.1.4 -i -w 0\n\
                 --set 1000 200 400\n";
    let out = restore(&mut t, false, setup);
    assert_eq!((out.status, out.stderr.as_str()), (0, ""));
    for (i, (svc, dests)) in t.services.iter_mut().enumerate() {
        svc.stats = stats(i as u64 + 1);
        for (j, d) in dests.iter_mut().enumerate() {
            d.stats = stats(100 + j as u64);
            d.active_conns = j as u32 + 1;
        }
    }
    t
}

#[test]
fn an_invalid_line_anywhere_means_nothing_is_applied() {
    let mut t = populated();
    let before = t.clone();
    let requests = t.requests;
    let mut input = String::new();
    for i in 0..2000 {
        input.push_str(&format!("-A -t 10.1.{}.{}:80 -s rr\n", i / 250, i % 250));
        if i == 999 {
            input.push_str("-A -t 10.0.0.300:80 -s rr\n");
        }
    }
    input.push_str("-a -t 10.0.0.1:80 -r 10.0.1.9:80 -m -w x\n");
    let out = restore(&mut t, false, &input);
    assert_eq!(out.status, 2, "{}", out.stderr);
    assert_eq!(
        out.stderr,
        "line 1001: illegal virtual server address[:port] specified\n\
         line 2002: illegal weight specified\n\
         restore: 2 invalid lines, nothing applied\n"
    );
    assert_eq!(t.requests, requests, "no request reached the kernel");
    assert_eq!(t.services, before.services);
    assert_eq!(t.timeouts, before.timeouts);
    assert_eq!(out.batches, 0);
}

#[test]
fn the_try_help_hint_keeps_its_status_and_nothing_is_applied() {
    let mut t = FakeIpvs::default();
    let out = restore(&mut t, false, "-A -t 10.0.0.1:80\nnot-a-command\n");
    assert_eq!(out.status, 255, "{}", out.stderr);
    assert!(
        out.stderr.starts_with("line 2: Try `ipvsadm -h'"),
        "{}",
        out.stderr
    );
    assert!(t.services.is_empty());
}

#[test]
fn comments_and_blank_lines_are_skipped() {
    let mut t = FakeIpvs::default();
    let out = restore(
        &mut t,
        false,
        "# saved table\n\n   \t\n-A -t 10.0.0.1:80 -s rr\n  # indented\n\
         ipvsadm -a -t 10.0.0.1:80 -r 10.0.1.1:80 -m",
    );
    assert_eq!((out.status, out.stderr.as_str()), (0, ""));
    assert_eq!(
        save(&mut t),
        "-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.1.1:80 -m -w 1\n"
    );
}

/// 1.31 stops at nothing but reports only the last status; we report
/// every failing line and apply everything else.
#[test]
fn every_kernel_failure_is_reported_by_line_and_the_rest_applied() {
    let mut t = FakeIpvs::default();
    let mut input = String::new();
    for i in 0..2500 {
        input.push_str(&format!("-A -t 10.1.{}.{}:80 -s rr\n", i / 250, i % 250));
    }
    input.push_str("-A -t 10.1.0.5:80 -s wrr\n"); // line 2501: duplicate
    input.push_str("-a -t 10.9.9.9:80 -r 10.0.1.1:80 -m\n"); // 2502: no service
    input.push_str("-A -t 10.2.0.1:80 -s nosuch\n"); // 2503: no scheduler
    input.push_str("-a -t 10.1.0.1:80 -r 10.0.1.1:80 -m\n"); // 2504: fine
    let out = restore(&mut t, false, &input);
    assert_eq!(out.status, 255);
    assert_eq!(
        out.stderr,
        "line 2501: Service already exists\n\
         line 2502: Service not defined\n\
         line 2503: Scheduler or persistence engine not found\n"
    );
    assert_eq!(t.services.len(), 2500);
    assert_eq!(out.batches, 1, "consecutive changes go as one batch");
}

#[test]
fn a_listing_in_the_input_sees_the_changes_before_it() {
    let mut t = FakeIpvs::default();
    let out = restore(
        &mut t,
        false,
        "-A -t 10.0.0.1:80 -s rr\n-S -n\n-A -t 10.0.0.2:80 -s rr\n-Sn\n",
    );
    assert_eq!((out.status, out.stderr.as_str()), (0, ""));
    assert_eq!(
        out.stdout,
        "-A -t 10.0.0.1:80 -s rr\n-A -t 10.0.0.1:80 -s rr\n-A -t 10.0.0.2:80 -s rr\n"
    );
    assert_eq!(out.batches, 2);
}

#[test]
fn atomic_rolls_back_everything_it_applied() {
    let mut t = populated();
    let mut input = String::new();
    for i in 0..1000 {
        input.push_str(&format!("-A -t 10.1.{}.{}:80 -s rr\n", i / 250, i % 250));
        input.push_str(&format!(
            "-a -t 10.1.{}.{}:80 -r 10.2.0.1:80 -m\n",
            i / 250,
            i % 250
        ));
    }
    // Changes to what was there: settings, real servers, deletions.
    input.push_str("-E -t 10.0.0.1:80 -s rr\n");
    input.push_str("-e -t 10.0.0.1:80 -r 10.0.1.1:80 -m -w 9\n");
    input.push_str("-d -t 10.0.0.1:80 -r 10.0.1.2:80\n");
    input.push_str("-D -u 10.0.0.2:53\n");
    input.push_str("--set 5 6 0\n");
    input.push_str("-a -t 10.9.9.9:80 -r 10.0.1.1:80 -m\n"); // line 2006 fails
    input.push_str("-A -t 10.3.0.1:80 -s rr\n");
    input.push_str("-C\n");
    input.push_str("-A -t 10.3.0.2:80 -s rr\n");
    let out = restore(&mut t, true, &input);
    assert_eq!(out.status, 255);
    assert!(
        out.stderr.starts_with("line 2006: Service not defined\n"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("restore: rolled back"),
        "{}",
        out.stderr
    );
    // Settings and order identical; counters of untouched services and
    // real servers intact.
    let mut after = t.clone();
    assert_eq!(save(&mut after), save(&mut populated()));
    let fwmark = |t: &FakeIpvs| {
        t.services
            .iter()
            .find(|(s, _)| s.id.fwmark() == Some(7))
            .cloned()
            .unwrap()
    };
    assert_eq!(fwmark(&t), fwmark(&populated()));
    assert_eq!(t.timeouts, populated().timeouts);
    assert_eq!(t.services.len(), 3);
}

#[test]
fn atomic_without_failures_keeps_everything() {
    let mut t = populated();
    let out = restore(&mut t, true, "-A -t 10.3.0.1:80 -s rr\n-D -f 7\n");
    assert_eq!((out.status, out.stderr.as_str()), (0, ""));
    assert_eq!(t.services.len(), 3);
    assert!(t.services.iter().all(|(s, _)| s.id.fwmark() != Some(7)));
}

#[test]
fn atomic_stops_before_a_listing_after_a_failure() {
    let mut t = FakeIpvs::default();
    let out = restore(
        &mut t,
        true,
        "-A -t 10.0.0.1:80 -s rr\n-A -t 10.0.0.1:80 -s rr\n-Sn\n-A -t 10.0.0.2:80\n",
    );
    assert_eq!(out.status, 255);
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr,
        "line 2: Service already exists\nrestore: rolled back 1 applied change\n"
    );
    assert!(t.services.is_empty());
}

fn vip() -> impl Strategy<Value = String> {
    prop_oneof![
        (1u8..4).prop_map(|i| format!("-t 10.0.0.{i}:80")),
        Just("-u 10.0.0.2:53".to_string()),
        Just("-f 7".to_string()),
    ]
}

fn line() -> impl Strategy<Value = String> {
    let rip = (1u8..4).prop_map(|i| format!("10.0.1.{i}:80"));
    let sched = prop_oneof![Just("rr"), Just("wrr"), Just("sh"), Just("nosuch")];
    prop_oneof![
        (vip(), sched.clone()).prop_map(|(v, s)| format!("-A {v} -s {s}")),
        (vip(), sched, any::<bool>()).prop_map(|(v, s, p)| {
            format!("-E {v} -s {s}{}", if p { " -p 60" } else { "" })
        }),
        vip().prop_map(|v| format!("-D {v}")),
        (vip(), rip.clone(), 0u16..5)
            .prop_map(|(v, r, w)| format!("-a {v} -r {r} -m -w {w}")),
        (vip(), rip.clone(), 0u16..5)
            .prop_map(|(v, r, w)| format!("-e {v} -r {r} -g -w {w}")),
        (vip(), rip).prop_map(|(v, r)| format!("-d {v} -r {r}")),
        (0u32..3, 0u32..3, 0u32..3).prop_map(|(a, b, c)| format!("--set {a} {b} {c}")),
        Just("-C".to_string()),
        Just("-Sn".to_string()),
    ]
}

/// Services that no line of `input` names keep their counters.
fn untouched(t: &FakeIpvs, input: &[String]) -> Vec<(Service, Vec<Dest>)> {
    let flush = input.iter().any(|l| l == "-C");
    t.services
        .iter()
        .filter(|(s, _)| {
            let v = service_name(s);
            !flush && !input.iter().any(|l| l.contains(&v))
        })
        .cloned()
        .collect()
}

fn service_name(s: &Service) -> String {
    match s.id.addr {
        crate::model::ServiceAddr::Fwmark(m) => format!("-f {m}"),
        crate::model::ServiceAddr::Inet { addr, port, .. } => {
            format!("{addr}:{port}")
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Whatever the input does, `--atomic` either applies all of it or
    /// leaves the table as it was.
    #[test]
    fn atomic_is_all_or_nothing(lines in proptest::collection::vec(line(), 1..25)) {
        let mut t = populated();
        let before_save = save(&mut t.clone());
        let before_untouched = untouched(&t, &lines);
        let before_timeouts = t.timeouts;
        let input = lines.join("\n");
        let mut reference = populated();
        let plain = restore(&mut reference, false, &input);
        let out = restore(&mut t, true, &input);
        if plain.status == 0 {
            prop_assert_eq!(out.status, 0);
            prop_assert_eq!(save(&mut t), save(&mut reference));
        } else {
            prop_assert_ne!(out.status, 0);
            prop_assert!(out.stderr.contains("restore: rolled back"), "{}", out.stderr);
            prop_assert_eq!(save(&mut t), before_save);
            prop_assert_eq!(t.timeouts, before_timeouts);
            prop_assert_eq!(untouched(&t, &lines), before_untouched);
        }
    }
}
