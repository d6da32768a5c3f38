//! The JSON, watch, table and Prometheus views against the in-memory IPVS
//! table: the JSON schema's key sets, one table read per watch tick, the
//! NDJSON and text watch streams, the full-screen view and the table's fit.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use ipvsadm_rs::cli;
use ipvsadm_rs::fake::FakeIpvs;
use ipvsadm_rs::listing;
use ipvsadm_rs::model::{
    Daemon, DaemonState, Dest, Family, FwdMethod, Netmask, Protocol, Service,
    ServiceAddr, ServiceEntry, ServiceFlags, ServiceId, ShortName, Stats, TunnelFlags,
    TunnelType,
};
use ipvsadm_rs::render::table;
use ipvsadm_rs::resolve::FakeResolver;
use ipvsadm_rs::session::{Session, Streams};
use ipvsadm_rs::watch::{Presence, RateTracker, Row, Screen};
use serde_json::Value;

// ---------------------------------------------------------------- fixtures

fn stats(conns: u64) -> Stats {
    Stats {
        conns,
        inpkts: conns * 7,
        outpkts: conns * 5,
        // Above 2^32: 64-bit all the way.
        inbytes: u64::from(u32::MAX) + conns,
        outbytes: conns * 600,
        cps: 3,
        inpps: 21,
        outpps: 15,
        inbps: 1_234_567,
        outbps: 1800,
    }
}

fn service(
    family: Family,
    addr: ServiceAddr,
    flags: ServiceFlags,
    conns: u64,
) -> Service {
    Service {
        id: ServiceId { family, addr },
        scheduler: ShortName::literal("rr"),
        pe_name: None,
        flags,
        timeout: if flags.contains(ServiceFlags::PERSISTENT) {
            360
        } else {
            0
        },
        netmask: Netmask::default_for(family),
        stats: stats(conns),
    }
}

fn tcp(addr: IpAddr, port: u16) -> ServiceAddr {
    ServiceAddr::Inet {
        protocol: Protocol::Tcp,
        addr,
        port,
    }
}

fn dest(addr: IpAddr, port: u16, fwd: FwdMethod, conns: u64) -> Dest {
    Dest {
        family: Family::of(&addr),
        addr,
        port,
        fwd,
        weight: 1,
        u_threshold: 100,
        l_threshold: 10,
        active_conns: 2,
        inact_conns: 3,
        persist_conns: 1,
        tun_type: TunnelType::Ipip,
        tun_port: 0,
        tun_flags: TunnelFlags::empty(),
        stats: stats(conns),
    }
}

fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

/// The demo's service, a fwmark service with a GUE tunnel server, and an
/// IPv6 service: every kind of object and every optional key.
fn table_fake() -> FakeIpvs {
    let mut fake = FakeIpvs::default();
    let vip = v4(10, 200, 1, 76);
    let mut gue = dest(v4(10, 0, 1, 1), 80, FwdMethod::Tunnel, 4);
    gue.tun_type = TunnelType::Gue;
    gue.tun_port = 6080;
    gue.tun_flags = TunnelFlags::CSUM;
    fake.services = vec![
        (
            service(Family::Inet, tcp(vip, 9000), ServiceFlags::HASHED, 100),
            vec![
                dest(v4(10, 10, 3, 2), 80, FwdMethod::Masq, 33),
                dest(v4(10, 10, 2, 2), 80, FwdMethod::Masq, 33),
                dest(v4(10, 10, 1, 2), 80, FwdMethod::Masq, 34),
            ],
        ),
        (
            service(
                Family::Inet,
                ServiceAddr::Fwmark(7),
                ServiceFlags::HASHED | ServiceFlags::PERSISTENT | ServiceFlags::SCHED2,
                4,
            ),
            vec![gue],
        ),
        (
            service(
                Family::Inet6,
                tcp(
                    IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
                    80,
                ),
                ServiceFlags::HASHED,
                0,
            ),
            vec![dest(
                IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2)),
                8080,
                FwdMethod::Route,
                0,
            )],
        ),
    ];
    fake.daemons = vec![Daemon {
        state: DaemonState::Master,
        mcast_ifn: "lo".into(),
        syncid: 5,
        sync_maxlen: Some(1472),
        mcast_group: Some(v4(224, 0, 0, 81)),
        mcast_port: Some(8848),
        mcast_ttl: Some(1),
    }];
    fake
}

const CONN_TABLE: &str = "\
Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData
TCP AC100002 8A4C 0AC8014C 2328 0A0A0102 0050 TIME_WAIT        59
UDP AC100002 0035 0AC8014C 0035 0A0A0202 0035 UDP             250 sip abc@host
";

struct Run {
    stdout: String,
    stderr: String,
    rc: i32,
}

/// Runs `ipvsadm ARGS` against `fake`, as the binary would.
fn run_on(fake: &mut FakeIpvs, args: &[&str]) -> Run {
    let conn = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(conn.path(), CONN_TABLE).unwrap();
    let argv: Vec<OsString> = args.iter().map(OsString::from).collect();
    let inv = cli::parse_args("ipvsadm", &argv).expect("valid arguments");
    let names = FakeResolver::new();
    let info = ipvsadm_rs::backend::IpvsBackend::info(fake).unwrap();
    let mut session = Session {
        ipvs: fake,
        info,
        names: &names,
        conn_file: conn.path().to_path_buf(),
        argv0: "ipvsadm".into(),
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut stdin = std::io::empty();
    let rc = ipvsadm_rs::dispatch::execute(
        &mut session,
        &inv,
        &mut Streams {
            stdin: &mut stdin,
            stdout: &mut out,
            stderr: &mut err,
        },
    )
    .expect("no output error");
    Run {
        stdout: String::from_utf8(out).unwrap(),
        stderr: String::from_utf8(err).unwrap(),
        rc,
    }
}

fn json_of(args: &[&str]) -> Value {
    let r = run_on(&mut table_fake(), args);
    assert_eq!(r.rc, 0, "{args:?}: {}", r.stderr);
    assert_eq!(
        r.stdout.lines().count(),
        1,
        "one compact document: {}",
        r.stdout
    );
    serde_json::from_str(&r.stdout).expect("valid JSON")
}

// ------------------------------------------------------------ JSON schema

const TOP: &[&str] = &["schema_version", "ipvs", "services"];
const INFO: &[&str] = &["version", "version_code", "conn_tab_size"];
const SERVICE: &[&str] = &[
    "af",
    "protocol",
    "addr",
    "port",
    "fwmark",
    "sched_name",
    "flags",
    "sched_flags",
    "flags_raw",
    "timeout",
    "netmask",
    "prefix_len",
    "pe_name",
    "stats",
    "rates",
    "real_servers",
];
const REAL_SERVER: &[&str] = &[
    "af",
    "addr",
    "port",
    "fwd_method",
    "fwd_method_raw",
    "weight",
    "u_threshold",
    "l_threshold",
    "active_conns",
    "inact_conns",
    "persist_conns",
    "tun_type",
    "tun_port",
    "tun_flags",
    "stats",
    "rates",
];
const STATS: &[&str] = &["conns", "inpkts", "outpkts", "inbytes", "outbytes"];
const RATES: &[&str] = &["cps", "inpps", "outpps", "inbps", "outbps"];
const TIMEOUTS: &[&str] = &["tcp", "tcp_fin", "udp"];
const DAEMON: &[&str] = &[
    "state",
    "mcast_ifn",
    "syncid",
    "sync_maxlen",
    "mcast_group",
    "mcast_port",
    "mcast_ttl",
];
const CONNECTION: &[&str] = &[
    "protocol",
    "client_addr",
    "client_port",
    "virtual_addr",
    "virtual_port",
    "dest_addr",
    "dest_port",
    "state",
    "expires",
    "pe_name",
    "pe_data",
];
const TICK: &[&str] = &[
    "schema_version",
    "tick",
    "timestamp",
    "interval_ms",
    "ipvs",
    "services",
    "deltas",
];
const SERVICE_DELTA: &[&str] = &[
    "service",
    "presence",
    "delta",
    "conns_since_start",
    "real_servers",
];
const DEST_DELTA: &[&str] = &[
    "addr",
    "port",
    "presence",
    "delta",
    "conns_since_start",
    "share_percent",
];
const DELTA: &[&str] = &["conns", "cps", "inpps", "outpps", "inbps", "outbps"];

/// Exactly `keys`, no more (unknown) and no fewer (missing), in this order.
#[track_caller]
fn assert_keys(what: &str, v: &Value, keys: &[&str]) {
    let obj = v
        .as_object()
        .unwrap_or_else(|| panic!("{what} is not an object: {v}"));
    let got: Vec<&str> = obj.keys().map(String::as_str).collect();
    let got_set: BTreeSet<&str> = got.iter().copied().collect();
    let want: BTreeSet<&str> = keys.iter().copied().collect();
    let unknown: Vec<_> = got_set.difference(&want).collect();
    let missing: Vec<_> = want.difference(&got_set).collect();
    assert!(
        unknown.is_empty() && missing.is_empty(),
        "{what}: unknown keys {unknown:?}, missing keys {missing:?}"
    );
}

#[track_caller]
fn assert_table_schema(doc: &Value) {
    assert_keys("document", doc, TOP);
    assert_table_payload(doc);
}

#[track_caller]
fn assert_table_payload(doc: &Value) {
    assert_keys("ipvs", &doc["ipvs"], INFO);
    for s in doc["services"].as_array().expect("services array") {
        assert_keys("service", s, SERVICE);
        assert_keys("service stats", &s["stats"], STATS);
        assert_keys("service rates", &s["rates"], RATES);
        for r in s["real_servers"].as_array().expect("real_servers array") {
            assert_keys("real server", r, REAL_SERVER);
            assert_keys("real server stats", &r["stats"], STATS);
            assert_keys("real server rates", &r["rates"], RATES);
        }
    }
}

#[test]
fn table_json_has_exactly_the_documented_keys() {
    let doc = json_of(&["-Ln", "--json"]);
    assert_table_schema(&doc);
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["ipvs"]["version"], "1.2.1");
    assert_eq!(doc["ipvs"]["conn_tab_size"], 4096);
}

#[test]
fn table_json_values_follow_the_rules() {
    let doc = json_of(&["-L", "--format", "json"]);
    let services = doc["services"].as_array().unwrap();
    // Same order as the text listing: TCP 10.200.1.76, TCP [2001:db8::1], FWM 7.
    let order: Vec<String> = services
        .iter()
        .map(|s| match s["fwmark"].as_u64() {
            Some(m) => format!("FWM {m}"),
            None => format!("{} {}", s["addr"].as_str().unwrap(), s["port"]),
        })
        .collect();
    assert_eq!(order, ["10.200.1.76 9000", "2001:db8::1 80", "FWM 7"]);

    let demo = &services[0];
    assert_eq!(demo["af"], "inet");
    assert_eq!(demo["protocol"], "tcp");
    assert_eq!(demo["flags"], serde_json::json!(["hashed"]));
    assert_eq!(demo["netmask"], "255.255.255.255");
    assert!(demo["prefix_len"].is_null());
    // 64-bit integers, never scaled; no name lookups (-L without -n).
    assert_eq!(
        demo["stats"]["inbytes"].as_u64(),
        Some(u64::from(u32::MAX) + 100)
    );
    assert_eq!(demo["rates"]["inbps"].as_u64(), Some(1_234_567));
    let rs: Vec<(&str, u64)> = demo["real_servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["addr"].as_str().unwrap(),
                r["stats"]["conns"].as_u64().unwrap(),
            )
        })
        .collect();
    // Real servers sorted as the text listing sorts them.
    assert_eq!(
        rs,
        [("10.10.1.2", 34), ("10.10.2.2", 33), ("10.10.3.2", 33)]
    );
    let r = &demo["real_servers"][0];
    assert_eq!(r["fwd_method"], "masq");
    assert_eq!(r["u_threshold"], 100);
    assert_eq!(r["persist_conns"], 1);
    assert!(r["tun_type"].is_null() && r["tun_flags"].is_null());

    let v6 = &services[1];
    assert_eq!(v6["af"], "inet6");
    assert_eq!(v6["addr"], "2001:db8::1");
    assert!(v6["netmask"].is_null());
    assert_eq!(v6["prefix_len"], 128);
    assert_eq!(v6["real_servers"][0]["fwd_method"], "route");

    let fwm = &services[2];
    assert_eq!(fwm["fwmark"], 7);
    assert!(fwm["addr"].is_null() && fwm["port"].is_null() && fwm["protocol"].is_null());
    assert_eq!(fwm["flags"], serde_json::json!(["persistent", "hashed"]));
    assert_eq!(fwm["sched_flags"], serde_json::json!(["flag-2"]));
    assert_eq!(fwm["timeout"], 360);
    let gue = &fwm["real_servers"][0];
    assert_eq!(gue["tun_type"], "gue");
    assert_eq!(gue["tun_port"], 6080);
    assert_eq!(gue["tun_flags"], serde_json::json!(["csum"]));
}

#[test]
fn every_listing_flag_gives_the_same_complete_document() {
    let plain = json_of(&["-Ln", "--json"]);
    for flag in [
        "--stats",
        "--rate",
        "--thresholds",
        "--persistent-conn",
        "--tun-info",
        "--exact",
    ] {
        assert_eq!(json_of(&["-Ln", flag, "-j"]), plain, "{flag}");
    }
}

#[test]
fn the_streamed_table_document_is_the_whole_document_serialized() {
    // `-Ln --json` writes a service at a time; the bytes must be those of
    // the document built whole (as --pretty still builds it), sorted alike.
    for args in [&["-Ln", "--json"][..], &["-Ln", "--json", "--nosort"]] {
        let mut fake = table_fake();
        let streamed = run_on(&mut fake, args);
        assert_eq!(streamed.rc, 0, "{}", streamed.stderr);
        let nosort = args.contains(&"--nosort");
        let info = ipvsadm_rs::backend::IpvsBackend::info(&mut fake).unwrap();
        let mut entries = listing::read_table(&mut fake, nosort).unwrap();
        listing::sort_real_servers(&mut entries, nosort);
        let doc = ipvsadm_rs::render::json::table(&info, &entries);
        let whole = serde_json::to_string(&doc).unwrap() + "\n";
        assert_eq!(streamed.stdout, whole, "{args:?}");
        let pretty = run_on(&mut fake, &[args, &["--pretty"]].concat());
        let pretty: Value = serde_json::from_str(&pretty.stdout).unwrap();
        assert_eq!(pretty, serde_json::from_str::<Value>(&whole).unwrap());
    }
}

#[test]
fn single_service_json_is_the_table_document_with_one_service() {
    let doc = json_of(&["-Ln", "-t", "10.200.1.76:9000", "--json"]);
    assert_table_schema(&doc);
    let all = json_of(&["-Ln", "--json"]);
    assert_eq!(doc["services"], serde_json::json!([all["services"][0]]));
}

#[test]
fn timeouts_daemons_and_connections_json_have_exactly_their_keys() {
    let t = json_of(&["-L", "--timeout", "--json"]);
    assert_keys("timeouts document", &t, &["schema_version", "timeouts"]);
    assert_keys("timeouts", &t["timeouts"], TIMEOUTS);
    assert_eq!(t["timeouts"]["tcp"], 900);

    let d = json_of(&["-L", "--daemon", "--json"]);
    assert_keys("daemons document", &d, &["schema_version", "daemons"]);
    assert_keys("daemon", &d["daemons"][0], DAEMON);
    assert_eq!(d["daemons"][0]["mcast_group"], "224.0.0.81");

    let c = json_of(&["-Lc", "--json"]);
    assert_keys(
        "connections document",
        &c,
        &["schema_version", "connections"],
    );
    let conns = c["connections"].as_array().unwrap();
    assert_eq!(conns.len(), 2);
    for conn in conns {
        assert_keys("connection", conn, CONNECTION);
    }
    assert_eq!(conns[0]["client_addr"], "172.16.0.2");
    assert_eq!(conns[0]["client_port"], 0x8A4C);
    assert_eq!(conns[0]["virtual_port"], 9000);
    assert_eq!(conns[0]["expires"], 59);
    assert!(conns[0]["pe_name"].is_null());
    assert_eq!(conns[1]["pe_data"], "abc@host");
}

#[test]
fn pretty_indents_the_same_document() {
    let r = run_on(&mut table_fake(), &["-Ln", "--json", "--pretty"]);
    assert_eq!(r.rc, 0);
    assert!(r.stdout.lines().count() > 20, "{}", r.stdout);
    assert!(
        r.stdout.contains("\n  \"ipvs\": {\n    \"version\""),
        "{}",
        r.stdout
    );
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(doc, json_of(&["-Ln", "--json"]));
}

#[test]
fn json_errors_are_the_text_listings_errors() {
    for args in [
        &["-Ln", "-t", "10.9.9.9:1"][..],
        &["-Ln", "-t", "10.9.9.9:1", "--json"],
        &["-Ln", "-t", "10.9.9.9:1", "--format", "table"],
        &["-Ln", "-t", "10.9.9.9:1", "--format", "prometheus"],
    ] {
        let r = run_on(&mut table_fake(), args);
        assert_eq!(
            (r.stdout.as_str(), r.stderr.as_str(), r.rc),
            ("", "No such service\n", 1),
            "{args:?}"
        );
    }
}

// ----------------------------------------------------------------- watch

#[test]
fn a_watch_tick_reads_the_table_once_like_ln() {
    let mut fake = table_fake();
    fake.requests = 0;
    run_on(&mut fake, &["-Ln"]);
    let one = fake.requests - 1; // run_on asks for the info once
    for style in [
        &["--json"][..],
        &[],
        &["--format", "table"],
        &["--format", "prometheus"],
    ] {
        let mut fake = table_fake();
        fake.requests = 0;
        let mut args = vec!["-Ln", "--watch=0.001", "--count=3"];
        args.extend_from_slice(style);
        let r = run_on(&mut fake, &args);
        assert_eq!(r.rc, 0, "{}", r.stderr);
        assert_eq!(
            fake.requests - 1,
            3 * one,
            "{style:?}: requests for 3 ticks"
        );
    }
}

#[test]
fn watch_json_is_one_object_per_tick_per_line() {
    let r = run_on(
        &mut table_fake(),
        &["-Ln", "--watch=0.01", "--count=3", "--json"],
    );
    assert_eq!(r.rc, 0, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", r.stdout);
    for (i, line) in lines.iter().enumerate() {
        let tick: Value = serde_json::from_str(line).expect("each line is JSON");
        assert_keys("tick", &tick, TICK);
        assert_table_payload(&tick);
        assert_eq!(tick["tick"], i as u64 + 1);
        assert_eq!(tick["interval_ms"].is_null(), i == 0);
        if i > 0 {
            assert!(tick["interval_ms"].as_u64().unwrap() >= 10);
        }
        let ts = tick["timestamp"].as_str().unwrap();
        assert!(
            ts.len() == 24 && ts.ends_with('Z') && ts.as_bytes()[10] == b'T',
            "{ts}"
        );
        let deltas = tick["deltas"].as_array().unwrap();
        assert_eq!(deltas.len(), 3);
        for d in deltas {
            assert_keys("service delta", d, SERVICE_DELTA);
            assert_keys("delta", &d["delta"], DELTA);
            assert_eq!(d["presence"], "present");
            for r in d["real_servers"].as_array().unwrap() {
                assert_keys("real server delta", r, DEST_DELTA);
                assert_keys("delta", &r["delta"], DELTA);
            }
        }
    }
}

#[test]
fn watch_json_of_other_listings_is_ndjson_too() {
    for (args, key) in [
        (&["-L", "--timeout"][..], "timeouts"),
        (&["-L", "--daemon"], "daemons"),
        (&["-Lnc"], "connections"),
    ] {
        let mut all = args.to_vec();
        all.extend(["--watch=0.001", "--count=2", "--json"]);
        let r = run_on(&mut table_fake(), &all);
        assert_eq!(r.rc, 0, "{}", r.stderr);
        let lines: Vec<&str> = r.stdout.lines().collect();
        assert_eq!(lines.len(), 2, "{args:?}: {}", r.stdout);
        for line in lines {
            let v: Value = serde_json::from_str(line).expect("each line is JSON");
            assert_keys(
                "tick",
                &v,
                &["schema_version", "tick", "timestamp", "interval_ms", key],
            );
        }
    }
}

#[test]
fn watch_text_is_the_listing_headed_by_a_timestamp_line() {
    let listing = run_on(&mut table_fake(), &["-Ln", "--stats"]).stdout;
    let r = run_on(
        &mut table_fake(),
        &["-Ln", "--stats", "--watch=0.001", "--count=2"],
    );
    assert_eq!(r.rc, 0, "{}", r.stderr);
    let blocks: Vec<&str> = r.stdout.split("Every 0.001s: ").skip(1).collect();
    assert_eq!(blocks.len(), 2, "{}", r.stdout);
    for block in blocks {
        let (stamp, rest) = block.split_once('\n').unwrap();
        assert!(stamp.ends_with('Z') && stamp.len() == 24, "{stamp}");
        assert_eq!(rest, listing);
    }
    let r = run_on(
        &mut table_fake(),
        &["-L", "--timeout", "--watch=0.001", "--count=1"],
    );
    assert!(r.stdout.starts_with("Every 0.001s: "), "{}", r.stdout);
    assert!(
        r.stdout
            .ends_with("Timeout (tcp tcpfin udp): 900 120 300\n"),
        "{}",
        r.stdout
    );
}

#[test]
fn watch_errors_are_the_listings_errors() {
    let r = run_on(
        &mut table_fake(),
        &[
            "-Ln",
            "-t",
            "10.9.9.9:1",
            "--watch=0.001",
            "--count=2",
            "--json",
        ],
    );
    assert_eq!(
        (r.stdout.as_str(), r.stderr.as_str(), r.rc),
        ("", "No such service\n", 1)
    );
}

/// A closed pipe stops the watch with an output error, which the binary
/// turns into a quiet exit 0 (`app::output_failed`).
#[test]
fn watch_stops_on_a_closed_pipe() {
    struct Closed;
    impl Write for Closed {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut fake = table_fake();
    let argv: Vec<OsString> = ["-Ln", "--watch=0.001", "--json"]
        .iter()
        .map(OsString::from)
        .collect();
    let inv = cli::parse_args("ipvsadm", &argv).unwrap();
    let names = FakeResolver::new();
    let info = ipvsadm_rs::backend::IpvsBackend::info(&mut fake).unwrap();
    let mut session = Session {
        ipvs: &mut fake,
        info,
        names: &names,
        conn_file: "/nonexistent".into(),
        argv0: "ipvsadm".into(),
    };
    let mut stdin = std::io::empty();
    let mut err = Vec::new();
    let e = ipvsadm_rs::dispatch::execute(
        &mut session,
        &inv,
        &mut Streams {
            stdin: &mut stdin,
            stdout: &mut Closed,
            stderr: &mut err,
        },
    )
    .expect_err("an endless watch ends on the closed pipe");
    assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe);
}

fn entry(svc: &Service, dests: &[(u8, u64)]) -> ServiceEntry {
    ServiceEntry {
        service: svc.clone(),
        dests: dests
            .iter()
            .map(|(last, conns)| dest(v4(10, 10, *last, 2), 80, FwdMethod::Masq, *conns))
            .collect(),
    }
}

#[test]
fn tracker_rates_shares_and_presence() {
    let svc = service(
        Family::Inet,
        tcp(v4(10, 200, 1, 76), 9000),
        ServiceFlags::HASHED,
        0,
    );
    let other = service(
        Family::Inet,
        tcp(v4(10, 0, 0, 1), 80),
        ServiceFlags::HASHED,
        0,
    );
    let mut tracker = RateTracker::default();
    let t0 = Instant::now();
    // Counters that did not start at zero: shares count from the start.
    let first = tracker.update(&[entry(&svc, &[(1, 1000), (2, 2000), (3, 3000)])], t0);
    assert_eq!(first.len(), 1);
    assert!(
        first[0]
            .real_servers
            .iter()
            .all(|r| r.presence == Presence::Present)
    );
    assert!(
        first[0]
            .real_servers
            .iter()
            .all(|r| r.share_percent.is_none())
    );

    let t1 = t0 + Duration::from_secs(2);
    let second = tracker.update(
        &[
            entry(&svc, &[(1, 1034), (2, 2033), (3, 3033)]),
            entry(&other, &[(9, 0)]),
        ],
        t1,
    );
    let rs = &second[0].real_servers;
    let shares: Vec<String> = rs
        .iter()
        .map(|r| format!("{:.0}%", r.share_percent.unwrap()))
        .collect();
    assert_eq!(shares, ["34%", "33%", "33%"]);
    // 34 connections, 34*7 packets and 34 bytes over 2 s.
    assert_eq!(rs[0].delta.conns, 34);
    assert_eq!(rs[0].delta.cps, 17);
    assert_eq!(rs[0].delta.inpps, 119);
    assert_eq!(rs[0].delta.inbps, 17);
    assert_eq!(second[1].presence, Presence::Appeared);
    assert_eq!(second[1].real_servers[0].presence, Presence::Appeared);

    // A real server goes, one comes; the other service goes.
    let third = tracker.update(
        &[entry(&svc, &[(1, 1040), (2, 2040), (4, 5)])],
        t1 + Duration::from_secs(2),
    );
    let presence: Vec<(String, Presence)> = third[0]
        .real_servers
        .iter()
        .map(|r| (r.addr.clone(), r.presence))
        .collect();
    assert_eq!(
        presence,
        [
            ("10.10.1.2".to_string(), Presence::Present),
            ("10.10.2.2".to_string(), Presence::Present),
            ("10.10.4.2".to_string(), Presence::Appeared),
            ("10.10.3.2".to_string(), Presence::Vanished),
        ]
    );
    assert_eq!(third[0].real_servers[2].conns_since_start, 0);
    assert_eq!(third[1].presence, Presence::Vanished);
    assert_eq!(third[1].service, "TCP 10.0.0.1:80");
    assert_eq!(third[1].real_servers[0].presence, Presence::Vanished);

    // The other service is re-created: its counters start again at zero.
    let fourth = tracker.update(
        &[entry(&svc, &[(1, 1040)]), entry(&other, &[(9, 5)])],
        t1 + Duration::from_secs(4),
    );
    assert_eq!(fourth[1].presence, Presence::Appeared);
    let fifth = tracker.update(
        &[entry(&svc, &[(1, 1040)]), entry(&other, &[(9, 8)])],
        t1 + Duration::from_secs(6),
    );
    assert_eq!(fifth[1].real_servers[0].conns_since_start, 3);
    assert_eq!(fifth[1].real_servers[0].share_percent, Some(100.0));
}

#[test]
fn tracker_counters_going_backwards_count_as_no_traffic() {
    let svc = service(
        Family::Inet,
        tcp(v4(10, 200, 1, 76), 9000),
        ServiceFlags::HASHED,
        0,
    );
    let mut tracker = RateTracker::default();
    let t0 = Instant::now();
    tracker.update(&[entry(&svc, &[(1, 1000)])], t0);
    let zeroed = tracker.update(&[entry(&svc, &[(1, 0)])], t0 + Duration::from_secs(1));
    assert_eq!(zeroed[0].real_servers[0].delta.cps, 0);
    assert_eq!(zeroed[0].real_servers[0].conns_since_start, 0);
}

fn row(key: &str, cells: &[&str]) -> Row {
    Row {
        key: key.into(),
        cells: cells.iter().map(|c| c.to_string()).collect(),
    }
}

#[test]
fn the_screen_highlights_changed_cells_and_fits_the_width() {
    fn cells(cps: &str) -> Vec<&str> {
        vec![
            "  -> 10.10.1.2:80",
            "Masq",
            "1",
            "0",
            "34",
            cps,
            "0",
            "0",
            "0",
            "0",
            "34.0%",
        ]
    }
    let mut screen = Screen::with_size(200, 50);
    let mut first = Vec::new();
    screen
        .draw(
            &mut first,
            "T0",
            Duration::from_secs(2),
            None,
            &[row("a", &cells("5"))],
        )
        .unwrap();
    let first = String::from_utf8(first).unwrap();
    assert!(
        first.contains("Every 2.0s: ipvsadm --watch    T0"),
        "{first:?}"
    );
    assert!(
        !first.contains("\x1b[7m"),
        "nothing highlighted on the first frame"
    );
    let mut second = Vec::new();
    screen
        .draw(
            &mut second,
            "T1",
            Duration::from_secs(2),
            Some(2003),
            &[row("a", &cells("17"))],
        )
        .unwrap();
    let second = String::from_utf8(second).unwrap();
    assert!(
        second.contains("Every 2.0s (last 2.00s): ipvsadm --watch    T1"),
        "{second:?}"
    );
    assert_eq!(second.matches("\x1b[7m").count(), 1, "{second:?}");
    assert!(second.contains("\x1b[7m17     \x1b[0m"), "{second:?}");
    assert!(second.contains("34.0%"));

    // 80 columns: whole columns only, no line longer than the terminal.
    let mut narrow = Screen::with_size(80, 50);
    let mut out = Vec::new();
    narrow
        .draw(
            &mut out,
            "T0",
            Duration::from_secs(2),
            None,
            &[row("a", &cells("5"))],
        )
        .unwrap();
    let out = String::from_utf8(out).unwrap();
    let body = out.trim_start_matches("\x1b[H\x1b[2J");
    for line in body.split("\r\n") {
        assert!(line.chars().count() <= 80, "{line:?}");
    }
    assert!(
        !out.contains("34.0%"),
        "the share column does not fit 80 columns"
    );

    // Rows beyond the height are cut.
    let mut short = Screen::with_size(200, 6);
    let rows: Vec<Row> = (0..10).map(|i| row(&i.to_string(), &cells("1"))).collect();
    let mut out = Vec::new();
    short
        .draw(&mut out, "T0", Duration::from_secs(2), None, &rows)
        .unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap().matches("10.10.1.2").count(),
        2
    );
}

// ----------------------------------------------------------------- table

fn demo_entries() -> Vec<ServiceEntry> {
    let mut fake = table_fake();
    let mut entries: Vec<ServiceEntry> = fake
        .services
        .drain(..)
        .map(|(service, dests)| ServiceEntry { service, dests })
        .collect();
    for e in &mut entries {
        ipvsadm_rs::listing::sort::sort_dests(&mut e.dests);
    }
    entries
}

#[test]
fn the_table_fits_fixed_widths() {
    let entries = demo_entries();
    let wide = table::render(&entries, None);
    assert_eq!(table::render(&entries, Some(200)), wide);
    assert!(wide.lines().any(|l| l.chars().count() > 100));
    for width in [60u16, 80, 100, 132] {
        let text = table::render(&entries, Some(width));
        for line in text.lines() {
            assert!(
                line.chars().count() <= usize::from(width),
                "width {width}: {line:?}\n{text}"
            );
        }
        assert!(text.contains("34.0%"), "width {width}:\n{text}");
        assert!(
            text.contains("  -> 10.10.1.2:80 "),
            "width {width}:\n{text}"
        );
        assert!(text.contains(" Conns "), "width {width}:\n{text}");
    }
}

#[test]
fn the_table_groups_real_servers_with_scaled_units_and_shares() {
    let text = table::render(&demo_entries()[..1], None);
    let expected = "\
┌───────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────┐
│ Service / real server   Sched/Fwd   Weight   Active   Inact   Conns   Share   InPkts   OutPkts   InBytes   OutBytes   CPS   InBPS │
╞═══════════════════════════════════════════════════════════════════════════════════════════════════════════════════════════════════╡
│ TCP 10.200.1.76:9000    rr                        6       9     100              700       500      4.2G      60.0K     3    1.2M │
│   -> 10.10.1.2:80       Masq             1        2       3      34   34.0%      238       170      4.2G      20.4K     3    1.2M │
│   -> 10.10.2.2:80       Masq             1        2       3      33   33.0%      231       165      4.2G      19.8K     3    1.2M │
│   -> 10.10.3.2:80       Masq             1        2       3      33   33.0%      231       165      4.2G      19.8K     3    1.2M │
└───────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────┘
";
    pretty_assertions::assert_str_eq!(text, expected);
}

#[test]
fn a_table_too_narrow_for_any_column_set_wraps_cells() {
    let text = table::render(&demo_entries(), Some(30));
    for line in text.lines() {
        assert!(line.chars().count() <= 30, "{line:?}\n{text}");
    }
}

#[test]
fn intervals_read_as_watch_shows_them() {
    use ipvsadm_rs::watch::seconds;
    assert_eq!(seconds(Duration::from_secs(2)), "2.0s");
    assert_eq!(seconds(Duration::from_millis(500)), "0.5s");
    assert_eq!(seconds(Duration::from_millis(250)), "0.25s");
    assert_eq!(seconds(Duration::from_millis(1)), "0.001s");
}

#[test]
fn the_screen_rows_mark_new_and_gone_and_show_shares() {
    use ipvsadm_rs::watch::frame_rows;
    let svc = service(
        Family::Inet,
        tcp(v4(10, 200, 1, 76), 9000),
        ServiceFlags::HASHED,
        0,
    );
    let other = service(
        Family::Inet,
        tcp(v4(10, 0, 0, 1), 80),
        ServiceFlags::HASHED,
        0,
    );
    let mut tracker = RateTracker::default();
    let t0 = Instant::now();
    tracker.update(&[entry(&svc, &[(1, 0), (2, 0)]), entry(&other, &[])], t0);
    let now = [entry(&svc, &[(1, 34), (3, 0)])];
    let deltas = tracker.update(&now, t0 + Duration::from_secs(2));
    let rows = frame_rows(&now, &deltas);
    let firsts: Vec<&str> = rows.iter().map(|r| r.cells[0].as_str()).collect();
    assert_eq!(
        firsts,
        [
            "TCP 10.200.1.76:9000",
            "  -> 10.10.1.2:80",
            "  -> 10.10.3.2:80 (new)",
            "  -> 10.10.2.2:80 (gone)",
            "TCP 10.0.0.1:80 (gone)",
        ]
    );
    assert_eq!(rows[1].cells[10], "100.0%");
    assert_eq!(rows[1].cells[5], "17", "34 connections in 2 s");
    assert_eq!(rows[2].cells[10], "0.0%");
}

/// The README's JSON example is a document of the documented shape.
#[test]
fn the_readme_example_has_exactly_the_documented_keys() {
    let readme = include_str!("../README.md");
    let section = &readme[readme.find("### JSON").expect("a JSON section")..];
    let start = section.find("```json\n").expect("a JSON example") + 8;
    let end = start + section[start..].find("```").unwrap();
    let doc: Value = serde_json::from_str(&section[start..end]).expect("valid JSON");
    assert_table_schema(&doc);
}
