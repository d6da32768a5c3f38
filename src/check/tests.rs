use std::net::IpAddr;

use super::facts::*;
use super::report::{Summary, summary_line, write_json, write_text};
use super::rules::{Severity, code, host_findings, service_findings};
use super::settings::*;
use super::*;
use crate::cli::{Command, parse_args};
use crate::fake::FakeIpvs;
use crate::model::{Info, ServiceEntry};
use crate::resolve::FakeResolver;

const FIB_TRIE: &str = include_str!("testdata/fib_trie.txt");
const ROUTE: &str = include_str!("testdata/route.txt");
const IPV6_ROUTE: &str = include_str!("testdata/ipv6_route.txt");
const IF_INET6: &str = include_str!("testdata/if_inet6.txt");
const DEV: &str = include_str!("testdata/dev.txt");

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// The facts of the captured namespace (see testdata/README), with
/// `settings` as given.
fn facts(settings: &[(&str, &str)]) -> HostFacts {
    HostFacts {
        local_v4: Ok(parse_fib_trie_local(FIB_TRIE)),
        local_v6: Ok(parse_if_inet6(IF_INET6)),
        routes_v4: Ok(parse_route(ROUTE)),
        routes_v6: Ok(parse_ipv6_route(IPV6_ROUTE)),
        interfaces: parse_dev(DEV),
        settings: settings
            .iter()
            .map(|(name, value)| Setting {
                name: name.to_string(),
                value: Ok(value.to_string()),
                about: None,
            })
            .collect(),
    }
}

/// Defaults of a fresh namespace with forwarding on.
const DEFAULTS: &[(&str, &str)] = &[
    (IP_FORWARD, "1"),
    (IPV6_FORWARDING, "1"),
    (RUN_ESTIMATION, "1"),
    (CONN_REUSE_MODE, "1"),
    (EXPIRE_NODEST_CONN, "0"),
    (EXPIRE_QUIESCENT_TEMPLATE, "0"),
];

fn with(changes: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut s: Vec<_> = DEFAULTS.to_vec();
    for (name, value) in changes {
        match s.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value,
            None => s.push((name, value)),
        }
    }
    s
}

/// A service and its real servers from ipvsadm command lines
/// (`-A ...`, then `-a ...` lines).
fn entry(service: &str, dests: &[&str]) -> ServiceEntry {
    let words = |line: &str| -> Vec<std::ffi::OsString> {
        line.split_whitespace().map(Into::into).collect()
    };
    let Command::AddService(service) =
        parse_args("ipvsadm", &words(service)).unwrap().command
    else {
        panic!("not -A: {service}")
    };
    let dests = dests
        .iter()
        .map(
            |line| match parse_args("ipvsadm", &words(line)).unwrap().command {
                Command::AddDest(_, d) => d,
                _ => panic!("not -a: {line}"),
            },
        )
        .collect();
    ServiceEntry { service, dests }
}

/// The kube-proxy tutorial's service (10.200.1.76 is on kube-ipvs0).
fn kube_service(weights: [i32; 3]) -> ServiceEntry {
    let dests: Vec<String> = (1..=3)
        .map(|n| {
            format!(
                "-a -t 10.200.1.76:9000 -r 10.10.{n}.2:80 -m -w {}",
                weights[n - 1]
            )
        })
        .collect();
    let dests: Vec<&str> = dests.iter().map(String::as_str).collect();
    entry("-A -t 10.200.1.76:9000 -s rr", &dests)
}

fn findings(e: &ServiceEntry, f: &HostFacts) -> Vec<Finding> {
    let mut out = Vec::new();
    host_findings(f, &mut out);
    service_findings(e, f, &mut out);
    out
}

fn codes(found: &[Finding]) -> Vec<(Severity, &'static str)> {
    found.iter().map(|f| (f.severity, f.code)).collect()
}

#[test]
fn local_prefixes_are_the_local_entries_of_fib_trie() {
    let local = parse_fib_trie_local(FIB_TRIE);
    // By length, then address.
    let want = [
        ("127.0.0.0", 8),
        ("198.51.100.0", 24),
        ("10.10.1.1", 32),
        ("10.200.1.76", 32),
        ("127.0.0.1", 32),
    ];
    let want: Vec<Prefix> = want
        .iter()
        .map(|(a, len)| Prefix {
            addr: ip(a),
            len: *len,
        })
        .collect();
    assert_eq!(local, want);
    let f = facts(DEFAULTS);
    for (addr, is) in [
        ("10.200.1.76", true),
        ("198.51.100.77", true),
        ("127.1.2.3", true),
        ("10.10.1.2", false),
        ("10.10.1.255", false),
        ("192.0.2.1", false),
        ("fd00::1", true),
        ("fd00::2", false),
    ] {
        assert_eq!(f.is_local(&ip(addr)), Ok(is), "{addr}");
    }
}

#[test]
fn routes_say_how_an_address_is_reached() {
    let f = facts(DEFAULTS);
    for (addr, reach) in [
        ("10.10.1.2", Reach::Connected),
        ("192.0.2.9", Reach::Gateway),
        ("203.0.113.1", Reach::Unreachable),
        ("fd00::7", Reach::Connected),
        // Only the unreachable default route of `lo`.
        ("2001:db8::1", Reach::Unreachable),
    ] {
        assert_eq!(f.reach(&ip(addr)), Ok(reach), "{addr}");
    }
    assert_eq!(
        parse_dev(DEV),
        ["lo", "dummy0", "kube-ipvs0", "d1"].map(String::from)
    );
}

#[test]
fn the_kube_proxy_tutorial_table_has_no_problem() {
    let found = findings(&kube_service([1, 1, 1]), &facts(DEFAULTS));
    assert!(found.is_empty(), "{found:#?}");
    assert_eq!(status(&found), 0);
    assert_eq!(summary_line(&Summary::of(&found)), "no problems found");
}

#[test]
fn each_problem_is_found_and_its_fix_is_a_command() {
    // A VIP on no interface.
    let e = entry(
        "-A -t 10.99.0.1:80 -s rr",
        &["-a -t 10.99.0.1:80 -r 10.10.1.2:80 -m"],
    );
    let found = findings(&e, &facts(DEFAULTS));
    assert_eq!(codes(&found), [(Severity::Error, code::VIP_NOT_LOCAL)]);
    assert_eq!(
        found[0].fix.as_deref(),
        Some("ip addr add 10.99.0.1/32 dev kube-ipvs0")
    );
    assert_eq!(status(&found), 1);

    // No real servers; all at weight 0 (the fix keeps -m).
    let found = findings(&entry("-A -t 10.200.1.76:9000", &[]), &facts(DEFAULTS));
    assert_eq!(codes(&found), [(Severity::Error, code::NO_REAL_SERVERS)]);
    let found = findings(&kube_service([0, 0, 0]), &facts(DEFAULTS));
    assert_eq!(codes(&found), [(Severity::Error, code::ALL_WEIGHTS_ZERO)]);
    assert!(
        found[0]
            .fix
            .as_deref()
            .unwrap()
            .starts_with("ipvsadm -e -t 10.200.1.76:9000 -r 10.10.1.2:80 -m -w 1; "),
        "{found:?}"
    );

    // Masquerading without forwarding.
    let found = findings(
        &kube_service([1, 1, 1]),
        &facts(&with(&[(IP_FORWARD, "0")])),
    );
    assert_eq!(codes(&found), [(Severity::Error, code::FORWARDING_OFF)]);
    assert_eq!(
        found[0].fix.as_deref(),
        Some("sysctl -w net.ipv4.ip_forward=1")
    );

    // Direct routing through a gateway, or to nowhere; to a connected or
    // local address is fine.
    let e = entry(
        "-A -t 10.200.1.76:80",
        &[
            "-a -t 10.200.1.76:80 -r 192.0.2.5 -g",
            "-a -t 10.200.1.76:80 -r 203.0.113.5 -g -x 10",
            "-a -t 10.200.1.76:80 -r 10.10.1.9 -g",
            "-a -t 10.200.1.76:80 -r 10.10.1.1 -g",
        ],
    );
    let found = findings(&e, &facts(DEFAULTS));
    assert_eq!(
        codes(&found),
        [(Severity::Error, code::NOT_DIRECTLY_CONNECTED); 2]
    );
    assert_eq!(found[0].real_server, Some((ip("192.0.2.5"), 80)));
    // The fix keeps the thresholds, written as every `-R` line writes them
    // (`-x` and `-y` together when either is set).
    assert_eq!(
        found[1].fix.as_deref(),
        Some("ipvsadm -e -t 10.200.1.76:80 -r 203.0.113.5:80 -m -w 1 -x 10 -y 0")
    );

    // A tunnel: what the real server needs, which cannot be read here.
    let e = entry(
        "-A -t 10.200.1.76:80",
        &["-a -t 10.200.1.76:80 -r 10.10.1.7 -i --tun-type gue --tun-port 6080"],
    );
    let found = findings(&e, &facts(DEFAULTS));
    assert_eq!(
        codes(&found),
        [(Severity::Note, code::TUNNEL_DECAPSULATION)]
    );
    assert!(
        found[0].message.contains("ip fou add port 6080 gue"),
        "{found:?}"
    );
    assert_eq!(status(&found), 0, "notes alone do not fail");
    assert_eq!(
        summary_line(&Summary::of(&found)),
        "no problems found (1 note)"
    );

    // The estimator.
    let found = findings(
        &kube_service([1, 1, 1]),
        &facts(&with(&[(RUN_ESTIMATION, "0")])),
    );
    assert_eq!(
        codes(&found),
        [(Severity::Warning, code::ESTIMATOR_DISABLED)]
    );
    assert_eq!(found[0].service, None);
    let found = findings(
        &kube_service([1, 1, 1]),
        &facts(&with(&[(EST_CPULIST, "")])),
    );
    assert_eq!(
        codes(&found),
        [(Severity::Warning, code::ESTIMATOR_NO_CPUS)]
    );
    let found = findings(
        &kube_service([1, 1, 1]),
        &facts(&with(&[(EST_CPULIST, "0-1")])),
    );
    assert!(found.is_empty());
}

#[test]
fn weight_zero_servers_that_still_get_new_connections() {
    let mut e = kube_service([0, 1, 1]);
    e.dests[0].inact_conns = 34;
    // TIME_WAIT entries are scheduled again with conn_reuse_mode 1.
    assert!(findings(&e, &facts(DEFAULTS)).is_empty());
    let found = findings(&e, &facts(&with(&[(CONN_REUSE_MODE, "0")])));
    assert_eq!(
        codes(&found),
        [(Severity::Warning, code::WEIGHT_ZERO_STILL_USED)]
    );
    assert_eq!(found[0].real_server, Some((ip("10.10.1.2"), 80)));
    assert_eq!(
        found[0].fix.as_deref(),
        Some("sysctl -w net.ipv4.vs.conn_reuse_mode=1")
    );
    // Established connections need expire_nodest_conn.
    e.dests[0].active_conns = 2;
    let found = findings(&e, &facts(DEFAULTS));
    assert_eq!(
        codes(&found),
        [(Severity::Warning, code::WEIGHT_ZERO_STILL_USED)]
    );
    assert_eq!(
        found[0].fix.as_deref(),
        Some("sysctl -w net.ipv4.vs.expire_nodest_conn=1")
    );
    assert!(findings(&e, &facts(&with(&[(EXPIRE_NODEST_CONN, "1")]))).is_empty());

    // Persistence templates.
    let mut e = entry(
        "-A -t 10.200.1.76:80 -p 60",
        &[
            "-a -t 10.200.1.76:80 -r 10.10.1.2 -m -w 0",
            "-a -t 10.200.1.76:80 -r 10.10.1.3 -m",
        ],
    );
    e.dests[0].persist_conns = 3;
    let found = findings(&e, &facts(DEFAULTS));
    assert_eq!(
        codes(&found),
        [(Severity::Warning, code::WEIGHT_ZERO_PERSISTENCE)]
    );
    let fixed = with(&[(EXPIRE_QUIESCENT_TEMPLATE, "1")]);
    assert!(findings(&e, &facts(&fixed)).is_empty());
}

#[test]
fn what_cannot_be_read_is_said_not_guessed() {
    let mut f = facts(&[(RUN_ESTIMATION, "1")]);
    f.local_v4 = Err("Permission denied".to_string());
    f.settings.push(Setting {
        name: IP_FORWARD.to_string(),
        value: Err("Permission denied".to_string()),
        about: None,
    });
    let found = findings(&kube_service([1, 1, 1]), &f);
    assert_eq!(codes(&found), [(Severity::Note, code::CANNOT_READ); 2]);
    assert!(
        found[0]
            .message
            .ends_with("cannot be read: Permission denied")
    );
    // Settings this kernel lacks are absent, not problems.
    assert!(f.number(EST_CPULIST).is_err());
}

#[test]
fn settings_are_read_with_what_they_do_and_absent_ones_said_so() {
    let dir = tempfile::tempdir().unwrap();
    let vs = dir.path().join("net/ipv4/vs");
    std::fs::create_dir_all(&vs).unwrap();
    std::fs::write(vs.join("run_estimation"), "0\n").unwrap();
    std::fs::write(vs.join("sync_threshold"), "3\t50\n").unwrap();
    std::fs::write(vs.join("brand_new"), "7\n").unwrap();
    std::fs::create_dir_all(dir.path().join("net/ipv4")).unwrap();
    std::fs::write(dir.path().join("net/ipv4/ip_forward"), "1\n").unwrap();
    let settings = read_all(dir.path());
    let get = |name: &str| settings.iter().find(|s| s.name == name).unwrap();
    assert_eq!(get(IP_FORWARD).value, Ok("1".to_string()));
    assert!(get(IPV6_FORWARDING).value.is_err());
    assert_eq!(get(RUN_ESTIMATION).value, Ok("0".to_string()));
    assert!(get(RUN_ESTIMATION).about.is_some());
    assert_eq!(
        get("net.ipv4.vs.sync_threshold").value,
        Ok("3\t50".to_string())
    );
    assert_eq!(get(EST_CPULIST).value, Err(ABSENT.to_string()));
    assert_eq!(get("net.ipv4.vs.brand_new").about, None);
    assert_eq!(settings.last().unwrap().name, "net.ipv4.vs.brand_new");

    let mut text = Vec::new();
    write_text(&mut text, &[], &settings, true).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(
        text.starts_with("no problems found\n\nIPVS settings"),
        "{text}"
    );
    let cpulist = text
        .lines()
        .find(|l| l.trim_start().starts_with("net.ipv4.vs.est_cpulist "))
        .unwrap();
    assert!(
        cpulist.ends_with(&format!("= cannot be read ({ABSENT})")),
        "{text}"
    );
    assert!(text.contains("= 3 50\n"), "{text}");
}

#[test]
fn the_report_as_text_and_json() {
    let e = entry(
        "-A -t 10.99.0.1:80 -s rr",
        &["-a -t 10.99.0.1:80 -r 10.10.1.2:80 -m -w 0"],
    );
    let found = findings(&e, &facts(&with(&[(IP_FORWARD, "0")])));
    let mut text = Vec::new();
    write_text(&mut text, &found, &[], false).unwrap();
    let text = String::from_utf8(text).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("error: TCP 10.99.0.1:80: 10.99.0.1 is no local address"),
        "{text}"
    );
    assert_eq!(lines[1], "  fix: ip addr add 10.99.0.1/32 dev kube-ipvs0");
    assert_eq!(
        *lines.last().unwrap(),
        "problems found: 3 errors, 0 warnings, 0 notes"
    );

    let mut doc = Vec::new();
    let settings = [Setting {
        name: RUN_ESTIMATION.to_string(),
        value: Err(ABSENT.to_string()),
        about: Some("x"),
    }];
    write_json(&mut doc, &found, &settings, false).unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&doc).unwrap();
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(
        doc["summary"],
        serde_json::json!({"errors": 3, "warnings": 0, "notes": 0, "problems_found": true})
    );
    let first = &doc["findings"][0];
    assert_eq!(first["severity"], "error");
    assert_eq!(first["code"], "vip-not-local");
    assert_eq!(first["service"], "TCP 10.99.0.1:80");
    assert_eq!(first["real_server"], serde_json::Value::Null);
    assert_eq!(first["fix"], "ip addr add 10.99.0.1/32 dev kube-ipvs0");
    let keys: Vec<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 6);
    assert_eq!(
        doc["settings"][0],
        serde_json::json!({"name": RUN_ESTIMATION, "value": null, "error": ABSENT, "description": "x"})
    );
}

#[test]
fn one_service_or_the_table_through_the_listing_reader() {
    let mut table = FakeIpvs::default();
    let good = kube_service([1, 1, 1]);
    let bad = entry("-A -t 10.99.0.1:80", &[]);
    for e in [&good, &bad] {
        table.add_service(&e.service).unwrap();
        for d in &e.dests {
            table.add_dest(&e.service, d).unwrap();
        }
    }
    let names = FakeResolver::new();
    let mut session = Session {
        ipvs: &mut table,
        info: Info {
            version: 0x010201,
            conn_tab_size: 4096,
        },
        names: &names,
        conn_file: "/nonexistent".into(),
        argv0: "ipvsadm".into(),
    };
    let f = facts(DEFAULTS);
    let all = inspect(&mut session, None, &f).unwrap();
    assert_eq!(
        codes(&all),
        [
            (Severity::Error, code::VIP_NOT_LOCAL),
            (Severity::Error, code::NO_REAL_SERVERS)
        ]
    );
    let one = inspect(&mut session, Some(&good.service), &f).unwrap();
    assert!(one.is_empty());
    let missing = entry("-A -t 10.1.1.1:1", &[]);
    assert!(inspect(&mut session, Some(&missing.service), &f).is_err());
}

use crate::backend::IpvsBackend;

/// A node of kube-proxy has every virtual address on `kube-ipvs0`: the
/// lookups stay fast (and agree with a scan of every prefix).
#[test]
fn many_local_addresses_are_looked_up_fast() {
    let mut trie = String::from("Local:\n");
    for i in 0..20_000u32 {
        let a = std::net::Ipv4Addr::from(0x0a00_0000 + i * 3);
        trie.push_str(&format!("     |-- {a}\n        /32 host LOCAL\n"));
    }
    trie.push_str("     |-- 127.0.0.0\n        /8 host LOCAL\n");
    let local = parse_fib_trie_local(&trie);
    assert_eq!(local.len(), 20_001);
    let f = HostFacts {
        local_v4: Ok(local.clone()),
        ..HostFacts::unknown()
    };
    for i in (0..60_000u32).step_by(97) {
        let a = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i));
        let scan = local.iter().any(|p| p.contains(&a));
        assert_eq!(f.is_local(&a), Ok(scan), "{a}");
    }
    assert_eq!(f.is_local(&ip("127.9.9.9")), Ok(true));
    assert_eq!(f.is_local(&ip("10.0.0.3")), Ok(true));
    assert_eq!(f.is_local(&ip("10.0.0.4")), Ok(false));
    let lookups = std::time::Instant::now();
    for i in 0..60_000u32 {
        let _ = f.is_local(&IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i)));
    }
    assert!(
        lookups.elapsed() < std::time::Duration::from_secs(1),
        "{:?}",
        lookups.elapsed()
    );
}
