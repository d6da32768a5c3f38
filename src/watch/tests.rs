//! The tracker against the first one written (a map per lookup, a copy of
//! the whole previous tick), over arbitrary sequences of ticks: services
//! and real servers that come, go, come back, reorder and count.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;

use crate::model::ShortName;

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime};

use super::tracker::{DestKey, dest_key};
use super::*;
use crate::backend::{self, IpvsBackend};
use crate::model::{Dest, Info, ServiceEntry, ServiceId, Stats};
use crate::model::{
    Family, FwdMethod, Netmask, Protocol, Service, ServiceAddr, ServiceFlags,
    TunnelFlags, TunnelType,
};
use crate::render::json;
use crate::render::json::tests::{
    self as json_tests, Ordered, expected_info, expected_service, null, object, scalar,
};

/// What the watch remembers between ticks.
#[derive(Default)]
pub struct ReferenceTracker {
    /// Counters of each service and real server when first seen (or when
    /// it last appeared again).
    start: HashMap<ServiceId, (Stats, HashMap<DestKey, Stats>)>,
    /// The previous snapshot, in listing order, and when it was taken.
    prev: Vec<ServiceEntry>,
    prev_at: Option<Instant>,
    ticks: u64,
}

impl ReferenceTracker {
    /// Computes the deltas for a new snapshot taken at `now` and remembers
    /// it. Vanished services and real servers are appended, marked.
    pub fn update(
        &mut self,
        entries: &[ServiceEntry],
        now: Instant,
    ) -> Vec<ServiceDelta> {
        let mut out = Vec::with_capacity(entries.len());
        let first = self.ticks == 0;
        let elapsed = self.prev_at.map(|at| now.saturating_duration_since(at));
        // Indexes, so that a tick costs O(services + real servers).
        let prev_index: HashMap<ServiceId, &ServiceEntry> =
            self.prev.iter().map(|p| (p.service.id, p)).collect();
        let current: std::collections::HashSet<ServiceId> =
            entries.iter().map(|e| e.service.id).collect();
        for e in entries {
            let id = e.service.id;
            let prev = prev_index.get(&id).copied();
            let prev_dests: HashMap<DestKey, &Dest> = prev
                .map(|p| p.dests.iter().map(|d| (dest_key(d), d)).collect())
                .unwrap_or_default();
            // Everything on the first tick is simply present.
            let presence = match (prev, first) {
                (Some(_), _) | (None, true) => Presence::Present,
                (None, false) => Presence::Appeared,
            };
            if presence == Presence::Appeared {
                // Re-created: its counters start again from zero.
                self.start.remove(&id);
            }
            let start = self.start.entry(id).or_insert_with(|| {
                (
                    e.service.stats,
                    e.dests.iter().map(|d| (dest_key(d), d.stats)).collect(),
                )
            });
            let mut rs: Vec<DestDelta> = Vec::with_capacity(e.dests.len());
            for d in &e.dests {
                let pd = prev_dests.get(&dest_key(d)).copied();
                let (dpresence, delta) = match (prev, pd, elapsed) {
                    (Some(_), Some(pd), Some(el)) => {
                        (Presence::Present, Delta::between(&pd.stats, &d.stats, el))
                    }
                    (Some(_), None, _) => (Presence::Appeared, Delta::default()),
                    _ => (presence, Delta::default()),
                };
                if dpresence == Presence::Appeared {
                    start.1.insert(dest_key(d), d.stats);
                }
                let base = *start.1.entry(dest_key(d)).or_insert(d.stats);
                rs.push(DestDelta {
                    addr: d.addr.to_string(),
                    port: d.port,
                    presence: dpresence,
                    delta,
                    conns_since_start: d.stats.conns.saturating_sub(base.conns),
                    share_percent: None,
                });
            }
            let total: u128 = rs.iter().map(|r| u128::from(r.conns_since_start)).sum();
            if total > 0 {
                for r in &mut rs {
                    r.share_percent = Some(
                        (r.conns_since_start as f64 * 100.0 / total as f64).min(100.0),
                    );
                }
            }
            if let Some(p) = prev {
                let now_dests: std::collections::HashSet<DestKey> =
                    e.dests.iter().map(dest_key).collect();
                for pd in &p.dests {
                    if !now_dests.contains(&dest_key(pd)) {
                        start.1.remove(&dest_key(pd));
                        rs.push(DestDelta {
                            addr: pd.addr.to_string(),
                            port: pd.port,
                            presence: Presence::Vanished,
                            delta: Delta::default(),
                            conns_since_start: 0,
                            share_percent: None,
                        });
                    }
                }
            }
            let svc_delta = match (prev, elapsed) {
                (Some(p), Some(el)) => {
                    Delta::between(&p.service.stats, &e.service.stats, el)
                }
                _ => Delta::default(),
            };
            out.push(ServiceDelta {
                service: reference_label(&e.service.id),
                presence,
                delta: svc_delta,
                conns_since_start: e.service.stats.conns.saturating_sub(start.0.conns),
                real_servers: rs,
            });
        }
        for p in &self.prev {
            if !current.contains(&p.service.id) {
                self.start.remove(&p.service.id);
                out.push(ServiceDelta {
                    service: reference_label(&p.service.id),
                    presence: Presence::Vanished,
                    delta: Delta::default(),
                    conns_since_start: 0,
                    real_servers: p
                        .dests
                        .iter()
                        .map(|pd| DestDelta {
                            addr: pd.addr.to_string(),
                            port: pd.port,
                            presence: Presence::Vanished,
                            delta: Delta::default(),
                            conns_since_start: 0,
                            share_percent: None,
                        })
                        .collect(),
                });
            }
        }
        self.prev = entries.to_vec();
        self.prev_at = Some(now);
        self.ticks += 1;
        out
    }
}

/// A service as the text listing names it, as the watch first wrote it
/// (through `core::fmt`).
fn reference_label(id: &ServiceId) -> String {
    match id.addr {
        ServiceAddr::Inet {
            protocol,
            addr,
            port,
        } => {
            let proto = match protocol {
                Protocol::Tcp => "TCP".to_string(),
                Protocol::Udp => "UDP".to_string(),
                Protocol::Sctp => "SCTP".to_string(),
                Protocol::Other(n) => format!("proto {n}"),
            };
            match addr {
                IpAddr::V4(a) => format!("{proto} {a}:{port}"),
                IpAddr::V6(a) => format!("{proto} [{a}]:{port}"),
            }
        }
        ServiceAddr::Fwmark(m) => match id.family {
            Family::Inet => format!("FWM {m}"),
            Family::Inet6 => format!("FWM {m} IPv6"),
        },
    }
}

/// Service `n` of a small universe: IPv4, IPv6 and fwmark services of
/// every kind of label.
fn service_id(n: usize) -> ServiceId {
    match n % 6 {
        3 => ServiceId {
            family: Family::Inet,
            addr: ServiceAddr::Inet {
                protocol: Protocol::Sctp,
                addr: IpAddr::V4(Ipv4Addr::new(10, 0, 1, n as u8)),
                port: 3868,
            },
        },
        4 => ServiceId {
            family: Family::Inet6,
            addr: ServiceAddr::Inet {
                protocol: Protocol::Other(n as u16),
                addr: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, n as u16)),
                port: 0,
            },
        },
        5 => ServiceId {
            family: Family::Inet6,
            addr: ServiceAddr::Fwmark(n as u32),
        },
        _ => service_id_of_three(n),
    }
}

fn service_id_of_three(n: usize) -> ServiceId {
    match n % 3 {
        0 => ServiceId {
            family: Family::Inet,
            addr: ServiceAddr::Inet {
                protocol: Protocol::Tcp,
                addr: IpAddr::V4(Ipv4Addr::new(10, 0, 0, n as u8)),
                port: 80,
            },
        },
        1 => ServiceId {
            family: Family::Inet6,
            addr: ServiceAddr::Inet {
                protocol: Protocol::Udp,
                addr: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, n as u16)),
                port: 53,
            },
        },
        _ => ServiceId {
            family: Family::Inet,
            addr: ServiceAddr::Fwmark(n as u32),
        },
    }
}

fn counters(conns: u64) -> Stats {
    Stats {
        conns,
        inpkts: conns.wrapping_mul(7),
        outpkts: conns / 3,
        inbytes: conns.wrapping_mul(1500),
        outbytes: u64::MAX - conns,
        ..Stats::default()
    }
}

/// Service `n` of the universe (see [`service_id`]), with `conns`.
fn service(n: usize, conns: u64) -> Service {
    let id = service_id(n);
    Service {
        id,
        scheduler: ShortName::literal("wlc"),
        pe_name: None,
        flags: ServiceFlags::empty(),
        timeout: 0,
        netmask: Netmask::default_for(id.family),
        stats: counters(conns),
    }
}

fn dest(n: usize, conns: u64) -> Dest {
    let addr = if n % 2 == 0 {
        IpAddr::V4(Ipv4Addr::new(192, 168, 0, n as u8))
    } else {
        IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, n as u16))
    };
    Dest {
        family: Family::of(&addr),
        addr,
        port: 8000 + (n % 2) as u16,
        fwd: FwdMethod::Masq,
        weight: 1,
        u_threshold: 0,
        l_threshold: 0,
        active_conns: 0,
        inact_conns: 0,
        persist_conns: 0,
        tun_type: TunnelType::Ipip,
        tun_port: 0,
        tun_flags: TunnelFlags::empty(),
        stats: counters(conns),
    }
}

/// One tick: each service of the universe there or not, with its real
/// servers there or not, in an arbitrary order (the keys sort them).
fn tick() -> impl Strategy<Value = Vec<ServiceEntry>> {
    proptest::collection::vec(
        (
            any::<bool>(),
            any::<u8>(),
            0..1000u64,
            proptest::collection::vec((any::<bool>(), any::<u8>(), 0..1000u64), 6),
        ),
        7,
    )
    .prop_map(|services| {
        let mut listed: Vec<(u8, ServiceEntry)> = services
            .into_iter()
            .enumerate()
            .filter(|(_, (there, ..))| *there)
            .map(|(n, (_, order, conns, dests))| {
                let mut dests: Vec<(u8, Dest)> = dests
                    .into_iter()
                    .enumerate()
                    .filter(|(_, (there, ..))| *there)
                    .map(|(m, (_, order, conns))| (order, dest(m, conns)))
                    .collect();
                dests.sort_by_key(|(order, _)| *order);
                let service = service(n, conns);
                let dests = dests.into_iter().map(|(_, d)| d).collect();
                (order, ServiceEntry { service, dests })
            })
            .collect();
        listed.sort_by_key(|(order, _)| *order);
        listed.into_iter().map(|(_, e)| e).collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn the_tracker_computes_what_the_first_one_did(
        ticks in proptest::collection::vec((tick(), 0..5000u64), 1..8),
    ) {
        let mut tracker = RateTracker::default();
        let mut reference = ReferenceTracker::default();
        let mut at = Instant::now();
        for (entries, ms) in &ticks {
            at += Duration::from_millis(*ms);
            prop_assert_eq!(tracker.update(entries, at), reference.update(entries, at));
        }
    }
}

/// The info of the IPVS a tick reports.
fn info() -> impl Strategy<Value = Info> {
    (any::<u32>(), any::<u32>()).prop_map(|(version, conn_tab_size)| Info {
        version,
        conn_tab_size,
    })
}

/// A member of a tick's `deltas` as the schema has it (the tick's
/// `WatchTick` docs and `ServiceDelta`'s), from the first tracker's
/// deltas.
fn expected_delta(d: &ServiceDelta) -> Ordered {
    let presence = |p: Presence| {
        scalar(match p {
            Presence::Appeared => "appeared",
            Presence::Present => "present",
            Presence::Vanished => "vanished",
        })
    };
    let delta = |d: &Delta| {
        object([
            ("conns", scalar(d.conns)),
            ("cps", scalar(d.cps)),
            ("inpps", scalar(d.inpps)),
            ("outpps", scalar(d.outpps)),
            ("inbps", scalar(d.inbps)),
            ("outbps", scalar(d.outbps)),
        ])
    };
    object([
        ("service", scalar(d.service.as_str())),
        ("presence", presence(d.presence)),
        ("delta", delta(&d.delta)),
        ("conns_since_start", scalar(d.conns_since_start)),
        (
            "real_servers",
            Ordered::Array(
                d.real_servers
                    .iter()
                    .map(|r| {
                        object([
                            ("addr", scalar(r.addr.as_str())),
                            ("port", scalar(r.port)),
                            ("presence", presence(r.presence)),
                            ("delta", delta(&r.delta)),
                            ("conns_since_start", scalar(r.conns_since_start)),
                            ("share_percent", r.share_percent.map_or_else(null, scalar)),
                        ])
                    })
                    .collect(),
            ),
        ),
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// The streamed lines, tick after tick, are the ticks the schema
    /// describes, with the first tracker's deltas, as serde_json prints
    /// them.
    #[test]
    fn streamed_ticks_follow_the_schema(
        ticks in proptest::collection::vec((tick(), 0..5000u64), 1..8),
        info in info(),
    ) {
        let mut tracker = RateTracker::default();
        let mut reference = ReferenceTracker::default();
        let mut at = Instant::now();
        let mut last: Option<Instant> = None;
        let mut line = Vec::new();
        for (n, (entries, ms)) in ticks.iter().enumerate() {
            at += Duration::from_millis(*ms);
            let tick = n as u64 + 1;
            let interval_ms = last.map(|l| (at - l).as_millis() as u64);
            last = Some(at);
            let timestamp = rfc3339(SystemTime::UNIX_EPOCH + Duration::from_millis(*ms));
            line.clear();
            write_tick(
                &mut line,
                TickHeader { tick, timestamp: &timestamp, interval_ms, info: &info },
                entries,
                &mut tracker,
                at,
            )
            .expect("to memory");
            let expected = object([
                ("schema_version", scalar(1)),
                ("tick", scalar(tick)),
                ("timestamp", scalar(timestamp.as_str())),
                ("interval_ms", interval_ms.map_or_else(null, scalar)),
                ("ipvs", expected_info(&info)),
                ("services", Ordered::Array(entries.iter().map(expected_service).collect())),
                (
                    "deltas",
                    Ordered::Array(reference.update(entries, at).iter().map(expected_delta).collect()),
                ),
            ]);
            let line = String::from_utf8(line.clone()).expect("UTF-8");
            // Read back alike (serde_json reads floats to within a bit).
            prop_assert_eq!(Ordered::parse(&line), Ordered::parse(&expected.printed(false)));
            prop_assert_eq!(line, expected.printed(false));
        }
    }

    /// Arbitrary tables (every kind of name and address) a tick after
    /// another that differs: services and real servers gone, new, counted.
    #[test]
    fn ticks_of_arbitrary_tables_follow_the_schema(
        info in json_tests::info(),
        before in json_tests::table(),
        keep in proptest::collection::vec(any::<bool>(), 32),
        added in json_tests::table(),
        interval_ms in proptest::option::of(any::<u64>()),
        timestamp in json_tests::name(),
    ) {
        let mut keep = keep.iter().cycle().copied();
        let mut entries = Vec::new();
        for e in &before {
            if !keep.next().unwrap_or(true) {
                continue;
            }
            let mut e = e.clone();
            e.dests.retain(|_| keep.next().unwrap_or(true));
            for d in &mut e.dests {
                d.stats.conns = d.stats.conns.saturating_add(7);
            }
            entries.push(e);
        }
        entries.extend(added);
        let (mut tracker, mut reference) = (RateTracker::default(), ReferenceTracker::default());
        let start = Instant::now();
        let later = start + Duration::from_millis(1500);
        let mut line = Vec::new();
        let first = TickHeader { tick: 1, timestamp: &timestamp, interval_ms: None, info: &info };
        write_tick(&mut line, first, &before, &mut tracker, start).expect("to memory");
        reference.update(&before, start);
        line.clear();
        let second = TickHeader { tick: 2, timestamp: &timestamp, interval_ms, info: &info };
        write_tick(&mut line, second, &entries, &mut tracker, later).expect("to memory");
        let expected = object([
            ("schema_version", scalar(1)),
            ("tick", scalar(2)),
            ("timestamp", scalar(timestamp.as_str())),
            ("interval_ms", interval_ms.map_or_else(null, scalar)),
            ("ipvs", expected_info(&info)),
            ("services", Ordered::Array(entries.iter().map(expected_service).collect())),
            (
                "deltas",
                Ordered::Array(reference.update(&entries, later).iter().map(expected_delta).collect()),
            ),
        ]);
        prop_assert_eq!(String::from_utf8(line).expect("UTF-8"), expected.printed(false));
    }
}

/// The ticks of `--timeout`, `--daemon` and `-c`: the tick's fields, then
/// the document's payload with the keys of every object sorted by name.
#[test]
fn other_ticks_are_the_payload_keys_sorted() {
    let daemons = [crate::model::Daemon {
        state: crate::model::DaemonState::Backup,
        mcast_ifn: "lo".into(),
        syncid: 5,
        sync_maxlen: None,
        mcast_group: Some(IpAddr::V4(Ipv4Addr::new(224, 0, 0, 81))),
        mcast_port: Some(8848),
        mcast_ttl: None,
    }];
    let line = OtherTick {
        schema_version: json::SCHEMA_VERSION,
        tick: 3,
        timestamp: "2026-11-25T09:41:07.123Z",
        interval_ms: Some(1000),
        payload: KeysSorted(json::daemons(&daemons).payload),
    };
    let expected = object([
        ("schema_version", scalar(1)),
        ("tick", scalar(3)),
        ("timestamp", scalar("2026-11-25T09:41:07.123Z")),
        ("interval_ms", scalar(1000)),
        (
            "daemons",
            Ordered::Array(daemons.iter().map(json_tests::expected_daemon).collect())
                .keys_sorted(),
        ),
    ]);
    let mut written = Vec::new();
    json::write(&mut written, &line, false).expect("to memory");
    assert_eq!(
        String::from_utf8(written).expect("UTF-8"),
        expected.printed(false)
    );
    let timeouts = crate::model::Timeouts {
        tcp: 900,
        tcp_fin: 120,
        udp: 300,
    };
    let line = OtherTick {
        schema_version: json::SCHEMA_VERSION,
        tick: 1,
        timestamp: "t",
        interval_ms: None,
        payload: KeysSorted(json::timeouts(&timeouts).payload),
    };
    let mut written = Vec::new();
    json::write(&mut written, &line, false).expect("to memory");
    assert_eq!(
        String::from_utf8(written).expect("UTF-8"),
        "{\"schema_version\":1,\"tick\":1,\"timestamp\":\"t\",\"interval_ms\":null,\
         \"timeouts\":{\"tcp\":900,\"tcp_fin\":120,\"udp\":300}}\n"
    );
}

/// A table whose real-server dumps fail from the `ok_dumps + 1`-th on, as
/// a kernel's can part-way through a listing.
struct FailingDumps {
    table: crate::fake::FakeIpvs,
    ok_dumps: usize,
}

impl IpvsBackend for FailingDumps {
    fn info(&mut self) -> backend::Result<Info> {
        self.table.info()
    }
    fn services(&mut self) -> backend::Result<Vec<Service>> {
        self.table.services()
    }
    fn service(&mut self, id: &ServiceId) -> backend::Result<Service> {
        self.table.service(id)
    }
    fn dests(&mut self, id: &ServiceId) -> backend::Result<Vec<Dest>> {
        if self.ok_dumps == 0 {
            return Err(crate::error::IpvsError::Kernel {
                op: crate::error::Op::GetDests,
                errno: libc::ENOMEM,
            });
        }
        self.ok_dumps -= 1;
        self.table.dests(id)
    }
    fn add_service(&mut self, svc: &Service) -> backend::Result<()> {
        self.table.add_service(svc)
    }
    fn edit_service(&mut self, svc: &Service) -> backend::Result<()> {
        self.table.edit_service(svc)
    }
    fn del_service(&mut self, svc: &Service) -> backend::Result<()> {
        self.table.del_service(svc)
    }
    fn zero(&mut self, svc: Option<&Service>) -> backend::Result<()> {
        self.table.zero(svc)
    }
    fn flush(&mut self) -> backend::Result<()> {
        self.table.flush()
    }
    fn add_dest(&mut self, svc: &Service, dest: &Dest) -> backend::Result<()> {
        self.table.add_dest(svc, dest)
    }
    fn edit_dest(&mut self, svc: &Service, dest: &Dest) -> backend::Result<()> {
        self.table.edit_dest(svc, dest)
    }
    fn del_dest(&mut self, svc: &Service, dest: &Dest) -> backend::Result<()> {
        self.table.del_dest(svc, dest)
    }
    fn timeouts(&mut self) -> backend::Result<crate::model::Timeouts> {
        self.table.timeouts()
    }
    fn set_timeouts(&mut self, t: &crate::model::Timeouts) -> backend::Result<()> {
        self.table.set_timeouts(t)
    }
    fn daemons(&mut self) -> backend::Result<Vec<crate::model::Daemon>> {
        self.table.daemons()
    }
    fn start_daemon(&mut self, d: &crate::model::Daemon) -> backend::Result<()> {
        self.table.start_daemon(d)
    }
    fn stop_daemon(
        &mut self,
        state: crate::model::DaemonState,
        syncid: u32,
    ) -> backend::Result<()> {
        self.table.stop_daemon(state, syncid)
    }
}

/// Runs `args` against three services whose real-server dumps fail after
/// `ok_dumps`: (stdout, stderr, status).
fn run_failing(args: &[&str], ok_dumps: usize) -> (String, String, i32) {
    let mut table = crate::fake::FakeIpvs::default();
    for n in 0..3 {
        table
            .services
            .push((service(n, n as u64), vec![dest(0, 5), dest(1, 7)]));
    }
    let mut backend = FailingDumps { table, ok_dumps };
    let argv: Vec<std::ffi::OsString> = args.iter().map(Into::into).collect();
    let inv = crate::cli::parse_args("ipvsadm", &argv).expect("valid arguments");
    let names = crate::resolve::FakeResolver::new();
    let info = backend.table.info().expect("the fake's info");
    let mut session = Session {
        ipvs: &mut backend,
        info,
        names: &names,
        conn_file: "/nonexistent".into(),
        argv0: "ipvsadm".into(),
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut stdin = io::empty();
    let rc = crate::dispatch::execute(
        &mut session,
        &inv,
        &mut Streams {
            stdin: &mut stdin,
            stdout: &mut out,
            stderr: &mut err,
        },
    )
    .expect("no output error");
    let text = |bytes| String::from_utf8(bytes).expect("UTF-8");
    (text(out), text(err), rc)
}

/// A kernel error part-way through a tick ends the watch as it ends
/// `-L --json`: the same message and status after what was listed.
#[test]
fn a_tick_cut_short_by_the_kernel_ends_as_l_json_does() {
    // The second service's real servers fail.
    let (listed, listing_err, listing_rc) = run_failing(&["-Ln", "--json"], 1);
    assert_eq!(listing_rc, crate::session::EXIT_LIST);
    assert!(!listing_err.is_empty());
    let (_, listed_services) = listed
        .split_once("\"services\":[")
        .expect("-L --json's services started");
    // The first tick whole, then the second cut at the same place.
    let args = ["-Ln", "--json", "--watch=0.001", "--count=2"];
    let (watched, watch_err, watch_rc) = run_failing(&args, 3 + 1);
    assert_eq!(
        (watch_err.as_str(), watch_rc),
        (listing_err.as_str(), listing_rc)
    );
    let (first, second) = watched.split_once('\n').expect("the first tick's line");
    let first: serde_json::Value = serde_json::from_str(first).expect("a JSON line");
    assert_eq!(first["deltas"].as_array().map(Vec::len), Some(3));
    assert!(
        second.starts_with("{\"schema_version\":1,\"tick\":2,"),
        "{second}"
    );
    let (_, second_services) = second
        .split_once("\"services\":[")
        .expect("the second tick's services started");
    assert_eq!(second_services, listed_services);
}

/// The shares of one tick, real servers with `conns` new connections each
/// since the watch started.
fn shares_of(conns: &[u64]) -> Vec<Option<f64>> {
    let tick = |conns: &[u64]| {
        vec![ServiceEntry {
            service: service(0, 0),
            dests: conns.iter().enumerate().map(|(n, c)| dest(n, *c)).collect(),
        }]
    };
    let mut tracker = RateTracker::default();
    let at = Instant::now();
    tracker.update(&tick(&vec![0; conns.len()]), at);
    let deltas = tracker.update(&tick(conns), at + Duration::from_secs(1));
    deltas[0]
        .real_servers
        .iter()
        .map(|r| r.share_percent)
        .collect()
}

/// What a share is, from first principles: each real server's share of its
/// service's new connections is a percentage from 0 to 100, the shares of
/// a service add up to 100 (give or take floating-point rounding), and a
/// service with no new connections has none. Absurd counters, whose sum is
/// past `u64::MAX`, are no exception.
fn assert_sane_shares(conns: &[u64]) {
    let shares = shares_of(conns);
    assert_eq!(shares.len(), conns.len());
    if conns.iter().all(|c| *c == 0) {
        assert!(shares.iter().all(Option::is_none), "{conns:?}: {shares:?}");
        return;
    }
    let mut sum = 0.0;
    for (c, share) in conns.iter().zip(&shares) {
        let share = share.unwrap_or_else(|| panic!("{conns:?}: a share is missing"));
        assert!((0.0..=100.0).contains(&share), "{conns:?}: {share}");
        assert_eq!(*c == 0, share == 0.0, "{conns:?}: {share}");
        sum += share;
    }
    assert!(
        (sum - 100.0).abs() < 1e-9,
        "{conns:?}: shares add up to {sum}"
    );
}

#[test]
fn shares_of_absurd_counters_are_percentages_that_add_up_to_100() {
    assert_sane_shares(&[u64::MAX, 2]);
    assert_sane_shares(&[u64::MAX, u64::MAX, u64::MAX]);
    assert_sane_shares(&[u64::MAX, 0]);
    assert_eq!(shares_of(&[u64::MAX, u64::MAX]), [Some(50.0), Some(50.0)]);
    assert_eq!(shares_of(&[1, 3]), [Some(25.0), Some(75.0)]);
}

proptest! {
    #[test]
    fn shares_are_percentages_that_add_up_to_100(
        conns in proptest::collection::vec(
            prop_oneof![0..1000u64, any::<u64>(), (u64::MAX - 1000)..=u64::MAX],
            1..12,
        )
    ) {
        assert_sane_shares(&conns);
    }
}

/// With the kernel's estimator off, the full-screen view shows the notice
/// under its header and one row less.
#[test]
fn the_screen_shows_the_estimator_notice_under_its_header() {
    let rows: Vec<Row> = (0..10)
        .map(|i| Row {
            key: i.to_string(),
            cells: vec![format!("row{i}")],
        })
        .collect();
    let draw = |notice: Option<&str>| {
        let mut screen = Screen::with_size(200, 8);
        screen.set_notice(notice.map(String::from));
        let mut out = Vec::new();
        screen
            .draw(&mut out, "T0", Duration::from_secs(2), None, &rows)
            .unwrap();
        String::from_utf8(out).unwrap()
    };
    let plain = draw(None);
    let noted = draw(Some("the kernel's rate estimator does not run"));
    let lines: Vec<&str> = noted.split("\r\n").collect();
    assert!(lines[0].ends_with("ipvsadm --watch    T0"), "{noted:?}");
    assert_eq!(lines[1], "the kernel's rate estimator does not run");
    assert_eq!(lines[2], "");
    assert_eq!(plain.matches("row").count(), 4, "{plain:?}");
    assert_eq!(noted.matches("row").count(), 3, "{noted:?}");
}
