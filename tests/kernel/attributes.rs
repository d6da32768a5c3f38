//! Every IPVS netlink command and attribute, round-tripped through the
//! kernel in both directions: made by ours and read back by ipvsadm 1.31
//! (`-Sn`, `-Ln` and its views, `--timeout`, `--daemon`) and by ours (the
//! same text, byte for byte, and each attribute's value in `--json`); then
//! made by ipvsadm 1.31 and read by ours the same way. Both directions must
//! leave the same kernel state.
//!
//! The cases are tables: one row per attribute (or small group), with the
//! commands that set it and the JSON fields that must show it.

use std::process::{Child, Command, Stdio};

use serde_json::Value;

use crate::support::demo::{KubeDemo, SERVICE, VIP};
use crate::support::ns::describe;
use crate::support::{
    Ns, TestResult, Trial, assert_ok, assert_same_output, compare::render,
};

pub fn tests() -> Vec<Trial> {
    let mut tests = kernel_tests![
        services_round_trip,
        destinations_round_trip,
        deletes_and_flush_round_trip,
        info_matches_the_listing_header,
        timeouts_round_trip,
        sync_daemons_round_trip,
    ];
    // Traffic needs busybox (httpd, wget, nc) and iproute2: the runner
    // checks that they are there before any test runs (never ignored).
    tests.extend(kernel_tests![traffic_counters_stats64_and_zero]);
    tests
}

/// One attribute (or a small group): the commands that set it, and what
/// ours must show for it in `-Ln --json`.
struct Case {
    what: &'static str,
    /// ipvsadm command lines, split on blanks.
    commands: &'static [&'static str],
    /// `(field, expected JSON)`: `field` is a JSON pointer below the first
    /// service (`sched_name`), below its first real server (`rs/weight`),
    /// or from the document's root when it starts with `/`.
    json: &'static [(&'static str, &'static str)],
}

/// Service commands and attributes: protocol and address (TCP, UDP, SCTP,
/// fwmark; IPv4 and IPv6), scheduler name, flags (persistent, one-packet,
/// scheduler flags), persistence timeout, netmask / prefix, persistence
/// engine, and `-E`.
const SERVICE_CASES: &[Case] = &[
    Case {
        what: "TCP IPv4 service, default scheduler",
        commands: &["-A -t 10.1.0.1:80"],
        json: &[
            ("af", r#""inet""#),
            ("protocol", r#""tcp""#),
            ("addr", r#""10.1.0.1""#),
            ("port", "80"),
            ("fwmark", "null"),
            ("sched_name", r#""wlc""#),
            ("flags", r#"["hashed"]"#),
            ("sched_flags", "[]"),
            ("flags_raw", "2"),
            ("timeout", "0"),
            ("netmask", r#""255.255.255.255""#),
            ("prefix_len", "null"),
            ("pe_name", "null"),
            ("real_servers", "[]"),
        ],
    },
    Case {
        what: "UDP IPv4 service",
        commands: &["-A -u 10.1.0.2:53 -s rr"],
        json: &[
            ("protocol", r#""udp""#),
            ("addr", r#""10.1.0.2""#),
            ("port", "53"),
        ],
    },
    Case {
        what: "SCTP IPv4 service",
        commands: &["-A --sctp-service 10.1.0.3:2905 -s rr"],
        json: &[
            ("protocol", r#""sctp""#),
            ("addr", r#""10.1.0.3""#),
            ("port", "2905"),
        ],
    },
    Case {
        what: "fwmark IPv4 service",
        commands: &["-A -f 42 -s rr"],
        json: &[
            ("af", r#""inet""#),
            ("protocol", "null"),
            ("addr", "null"),
            ("port", "null"),
            ("fwmark", "42"),
            ("netmask", r#""255.255.255.255""#),
        ],
    },
    Case {
        what: "fwmark IPv6 service, largest signed mark",
        commands: &["-A -f 2147483647 -6 -s rr"],
        json: &[
            ("af", r#""inet6""#),
            ("fwmark", "2147483647"),
            ("netmask", "null"),
            ("prefix_len", "128"),
        ],
    },
    Case {
        what: "TCP IPv6 service",
        commands: &["-A -t [2001:db8::1]:443 -s rr"],
        json: &[
            ("af", r#""inet6""#),
            ("protocol", r#""tcp""#),
            ("addr", r#""2001:db8::1""#),
            ("port", "443"),
            ("prefix_len", "128"),
        ],
    },
    Case {
        what: "UDP IPv6 service",
        commands: &["-A -u [2001:db8::2]:53 -s rr"],
        json: &[("af", r#""inet6""#), ("protocol", r#""udp""#)],
    },
    Case {
        what: "SCTP IPv6 service",
        commands: &["-A --sctp-service [2001:db8::3]:2905 -s rr"],
        json: &[("af", r#""inet6""#), ("protocol", r#""sctp""#)],
    },
    Case {
        what: "scheduler rr",
        commands: &["-A -t 10.1.1.1:80 -s rr"],
        json: &[("sched_name", r#""rr""#)],
    },
    Case {
        what: "scheduler wrr",
        commands: &["-A -t 10.1.1.1:80 -s wrr"],
        json: &[("sched_name", r#""wrr""#)],
    },
    Case {
        what: "scheduler lc",
        commands: &["-A -t 10.1.1.1:80 -s lc"],
        json: &[("sched_name", r#""lc""#)],
    },
    Case {
        what: "scheduler lblc",
        commands: &["-A -t 10.1.1.1:80 -s lblc"],
        json: &[("sched_name", r#""lblc""#)],
    },
    Case {
        what: "scheduler lblcr",
        commands: &["-A -t 10.1.1.1:80 -s lblcr"],
        json: &[("sched_name", r#""lblcr""#)],
    },
    Case {
        what: "scheduler dh",
        commands: &["-A -t 10.1.1.1:80 -s dh"],
        json: &[("sched_name", r#""dh""#)],
    },
    Case {
        what: "scheduler sh",
        commands: &["-A -t 10.1.1.1:80 -s sh"],
        json: &[("sched_name", r#""sh""#), ("sched_flags", "[]")],
    },
    Case {
        what: "scheduler sed",
        commands: &["-A -t 10.1.1.1:80 -s sed"],
        json: &[("sched_name", r#""sed""#)],
    },
    Case {
        what: "scheduler nq",
        commands: &["-A -t 10.1.1.1:80 -s nq"],
        json: &[("sched_name", r#""nq""#)],
    },
    Case {
        what: "scheduler fo",
        commands: &["-A -t 10.1.1.1:80 -s fo"],
        json: &[("sched_name", r#""fo""#)],
    },
    Case {
        what: "scheduler ovf",
        commands: &["-A -t 10.1.1.1:80 -s ovf"],
        json: &[("sched_name", r#""ovf""#)],
    },
    Case {
        what: "scheduler mh",
        commands: &["-A -t 10.1.1.1:80 -s mh"],
        json: &[("sched_name", r#""mh""#), ("sched_flags", "[]")],
    },
    Case {
        what: "persistence flag, default timeout",
        commands: &["-A -t 10.1.2.1:80 -s rr -p"],
        json: &[
            ("flags", r#"["persistent","hashed"]"#),
            ("flags_raw", "3"),
            ("timeout", "360"),
        ],
    },
    Case {
        what: "persistence timeout",
        commands: &["-A -t 10.1.2.1:80 -s rr -p 1800"],
        json: &[("flags_raw", "3"), ("timeout", "1800")],
    },
    Case {
        what: "IPv4 persistence netmask",
        commands: &["-A -t 10.1.2.1:80 -s rr -p 60 -M 255.255.255.0"],
        json: &[
            ("timeout", "60"),
            ("netmask", r#""255.255.255.0""#),
            ("prefix_len", "null"),
        ],
    },
    Case {
        what: "IPv6 persistence prefix",
        commands: &["-A -t [2001:db8::1]:80 -s rr -p 60 -M 64"],
        json: &[("timeout", "60"), ("netmask", "null"), ("prefix_len", "64")],
    },
    Case {
        what: "persistence engine sip (UDP, persistent)",
        commands: &["-A -u 10.1.2.2:5060 -s rr -p 60 --pe sip"],
        json: &[
            ("pe_name", r#""sip""#),
            ("flags", r#"["persistent","hashed"]"#),
            ("timeout", "60"),
        ],
    },
    Case {
        what: "one-packet scheduling",
        commands: &["-A -u 10.1.2.3:53 -s rr -o"],
        json: &[("flags", r#"["hashed","one_packet"]"#), ("flags_raw", "6")],
    },
    Case {
        what: "scheduler flags flag-1,flag-2,flag-3",
        commands: &["-A -t 10.1.3.1:80 -s rr -b flag-1,flag-2,flag-3"],
        json: &[
            ("sched_flags", r#"["flag-1","flag-2","flag-3"]"#),
            ("flags", r#"["hashed"]"#),
            ("flags_raw", "58"),
        ],
    },
    Case {
        what: "scheduler flag flag-2 alone",
        commands: &["-A -t 10.1.3.1:80 -s wlc -b flag-2"],
        json: &[("sched_flags", r#"["flag-2"]"#), ("flags_raw", "18")],
    },
    Case {
        what: "sh scheduler flags sh-fallback,sh-port",
        commands: &["-A -t 10.1.3.1:80 -s sh -b sh-fallback,sh-port"],
        json: &[
            ("sched_flags", r#"["sh-fallback","sh-port"]"#),
            ("flags_raw", "26"),
        ],
    },
    Case {
        what: "sh scheduler flag sh-port alone",
        commands: &["-A -t 10.1.3.1:80 -s sh -b sh-port"],
        json: &[("sched_flags", r#"["sh-port"]"#), ("flags_raw", "18")],
    },
    Case {
        what: "mh scheduler flags mh-fallback,mh-port",
        commands: &["-A -t 10.1.3.1:80 -s mh -b mh-fallback,mh-port"],
        json: &[
            ("sched_flags", r#"["mh-fallback","mh-port"]"#),
            ("flags_raw", "26"),
        ],
    },
    Case {
        what: "mh scheduler flag mh-fallback alone",
        commands: &["-A -t 10.1.3.1:80 -s mh -b mh-fallback"],
        json: &[("sched_flags", r#"["mh-fallback"]"#), ("flags_raw", "10")],
    },
    Case {
        what: "everything on one service",
        commands: &[
            "-A -u 10.1.3.2:5060 -s sh -b sh-port -p 120 -M 255.255.0.0 --pe sip -o",
        ],
        json: &[
            ("sched_name", r#""sh""#),
            ("sched_flags", r#"["sh-port"]"#),
            ("flags", r#"["persistent","hashed","one_packet"]"#),
            ("flags_raw", "23"),
            ("timeout", "120"),
            ("netmask", r#""255.255.0.0""#),
            ("pe_name", r#""sip""#),
        ],
    },
    Case {
        what: "edit service (-E): scheduler, persistence, netmask, flags",
        commands: &[
            "-A -t 10.1.4.1:80 -s rr",
            "-E -t 10.1.4.1:80 -s wrr -p 90 -M 255.255.255.128 -b flag-3",
        ],
        json: &[
            ("sched_name", r#""wrr""#),
            ("timeout", "90"),
            ("netmask", r#""255.255.255.128""#),
            ("sched_flags", r#"["flag-3"]"#),
            ("flags_raw", "35"),
        ],
    },
    Case {
        what: "edit service (-E): persistence off again",
        commands: &["-A -t 10.1.4.1:80 -s rr -p 90", "-E -t 10.1.4.1:80 -s rr"],
        json: &[("flags", r#"["hashed"]"#), ("timeout", "0")],
    },
];

/// Real-server commands and attributes: forwarding method, weight,
/// thresholds, tunnel type, port and checksum flags, address families
/// (including an IPv6 tunnel server behind an IPv4 service), and `-e`.
const DEST_CASES: &[Case] = &[
    Case {
        what: "masquerading (-m), port and weight",
        commands: &[
            "-A -t 10.2.0.1:80 -s wrr",
            "-a -t 10.2.0.1:80 -r 10.2.1.1:8080 -m -w 3",
        ],
        json: &[
            ("rs/af", r#""inet""#),
            ("rs/addr", r#""10.2.1.1""#),
            ("rs/port", "8080"),
            ("rs/fwd_method", r#""masq""#),
            ("rs/fwd_method_raw", "0"),
            ("rs/weight", "3"),
            ("rs/u_threshold", "0"),
            ("rs/l_threshold", "0"),
            ("rs/active_conns", "0"),
            ("rs/inact_conns", "0"),
            ("rs/persist_conns", "0"),
            ("rs/tun_type", "null"),
            ("rs/tun_port", "null"),
            ("rs/tun_flags", "null"),
        ],
    },
    Case {
        what: "direct routing (-g, the default), weight 0",
        commands: &[
            "-A -t 10.2.0.1:80 -s wrr",
            "-a -t 10.2.0.1:80 -r 10.2.1.2 -w 0",
        ],
        json: &[
            ("rs/port", "80"),
            ("rs/fwd_method", r#""route""#),
            ("rs/fwd_method_raw", "3"),
            ("rs/weight", "0"),
        ],
    },
    Case {
        what: "largest weight",
        commands: &[
            "-A -t 10.2.0.1:80 -s wrr",
            "-a -t 10.2.0.1:80 -r 10.2.1.2 -g -w 65535",
        ],
        json: &[("rs/weight", "65535")],
    },
    Case {
        what: "tunnel (-i), ipip by default",
        commands: &[
            "-A -t 10.2.0.1:80 -s rr",
            "-a -t 10.2.0.1:80 -r 10.2.1.3 -i",
        ],
        json: &[
            ("rs/fwd_method", r#""tunnel""#),
            ("rs/fwd_method_raw", "2"),
            ("rs/tun_type", r#""ipip""#),
            ("rs/tun_port", "null"),
            ("rs/tun_flags", "[]"),
        ],
    },
    Case {
        what: "tunnel type ipip named",
        commands: &[
            "-A -t 10.2.0.1:80 -s rr",
            "-a -t 10.2.0.1:80 -r 10.2.1.3 -i --tun-type ipip",
        ],
        json: &[("rs/tun_type", r#""ipip""#)],
    },
    Case {
        what: "thresholds (-x, -y)",
        commands: &[
            "-A -t 10.2.0.1:80 -s rr",
            "-a -t 10.2.0.1:80 -r 10.2.1.4:80 -m -x 1000 -y 100",
        ],
        json: &[("rs/u_threshold", "1000"), ("rs/l_threshold", "100")],
    },
    Case {
        what: "GUE tunnel, port, no checksum",
        commands: &[
            "-A -t 10.2.0.1:80 -s rr",
            "-a -t 10.2.0.1:80 -r 10.2.1.5 -i --tun-type gue --tun-port 6080 --tun-nocsum",
        ],
        json: &[
            ("rs/tun_type", r#""gue""#),
            ("rs/tun_port", "6080"),
            ("rs/tun_flags", "[]"),
        ],
    },
    Case {
        what: "GUE tunnel with checksum",
        commands: &[
            "-A -t 10.2.0.1:80 -s rr",
            "-a -t 10.2.0.1:80 -r 10.2.1.5 -i --tun-type gue --tun-port 5555 --tun-csum",
        ],
        json: &[
            ("rs/tun_type", r#""gue""#),
            ("rs/tun_port", "5555"),
            ("rs/tun_flags", r#"["csum"]"#),
        ],
    },
    Case {
        what: "GUE tunnel with remote checksum offload",
        commands: &[
            "-A -t 10.2.0.1:80 -s rr",
            "-a -t 10.2.0.1:80 -r 10.2.1.5 -i --tun-type gue --tun-port 65535 --tun-remcsum",
        ],
        json: &[
            ("rs/tun_type", r#""gue""#),
            ("rs/tun_port", "65535"),
            ("rs/tun_flags", r#"["remcsum"]"#),
        ],
    },
    Case {
        what: "GRE tunnel",
        commands: &[
            "-A -t 10.2.0.1:80 -s rr",
            "-a -t 10.2.0.1:80 -r 10.2.1.6 -i --tun-type gre",
        ],
        json: &[
            ("rs/tun_type", r#""gre""#),
            ("rs/tun_port", "null"),
            ("rs/tun_flags", "[]"),
        ],
    },
    Case {
        what: "GRE tunnel with checksum",
        commands: &[
            "-A -t 10.2.0.1:80 -s rr",
            "-a -t 10.2.0.1:80 -r 10.2.1.6 -i --tun-type gre --tun-csum",
        ],
        json: &[("rs/tun_type", r#""gre""#), ("rs/tun_flags", r#"["csum"]"#)],
    },
    Case {
        what: "IPv4 service, IPv6 tunnel real server",
        commands: &[
            "-A -t 10.2.0.1:80 -s rr",
            "-a -t 10.2.0.1:80 -r [2001:db8::10]:80 -i",
        ],
        json: &[
            ("af", r#""inet""#),
            ("rs/af", r#""inet6""#),
            ("rs/addr", r#""2001:db8::10""#),
            ("rs/fwd_method", r#""tunnel""#),
        ],
    },
    Case {
        what: "IPv6 service, IPv4 GUE tunnel real server",
        commands: &[
            "-A -t [2001:db8::1]:80 -s rr",
            "-a -t [2001:db8::1]:80 -r 10.2.1.7:80 -i --tun-type gue --tun-port 6080 --tun-csum",
        ],
        json: &[
            ("af", r#""inet6""#),
            ("rs/af", r#""inet""#),
            ("rs/addr", r#""10.2.1.7""#),
            ("rs/tun_type", r#""gue""#),
            ("rs/tun_port", "6080"),
            ("rs/tun_flags", r#"["csum"]"#),
        ],
    },
    Case {
        what: "IPv6 service, IPv6 masqueraded real server",
        commands: &[
            "-A -u [2001:db8::1]:53 -s rr",
            "-a -u [2001:db8::1]:53 -r [2001:db8::20]:5353 -m -w 4",
        ],
        json: &[
            ("rs/af", r#""inet6""#),
            ("rs/addr", r#""2001:db8::20""#),
            ("rs/port", "5353"),
            ("rs/fwd_method", r#""masq""#),
            ("rs/weight", "4"),
        ],
    },
    Case {
        what: "fwmark service, direct-routing real server",
        commands: &["-A -f 7 -s rr", "-a -f 7 -r 10.2.1.8 -g -w 2"],
        json: &[
            ("fwmark", "7"),
            ("rs/addr", r#""10.2.1.8""#),
            ("rs/port", "0"),
            ("rs/fwd_method", r#""route""#),
        ],
    },
    Case {
        what: "SCTP service, masqueraded real server",
        commands: &[
            "-A --sctp-service 10.2.0.2:2905 -s rr",
            "-a --sctp-service 10.2.0.2:2905 -r 10.2.1.9:2906 -m",
        ],
        json: &[("protocol", r#""sctp""#), ("rs/port", "2906")],
    },
    Case {
        what: "edit real server (-e): method, weight, thresholds, tunnel",
        commands: &[
            "-A -t 10.2.0.1:80 -s wrr",
            "-a -t 10.2.0.1:80 -r 10.2.1.10 -g -w 1",
            "-e -t 10.2.0.1:80 -r 10.2.1.10 -i --tun-type gue --tun-port 7000 --tun-remcsum -w 9 -x 20 -y 5",
        ],
        json: &[
            ("rs/fwd_method", r#""tunnel""#),
            ("rs/weight", "9"),
            ("rs/u_threshold", "20"),
            ("rs/l_threshold", "5"),
            ("rs/tun_type", r#""gue""#),
            ("rs/tun_port", "7000"),
            ("rs/tun_flags", r#"["remcsum"]"#),
        ],
    },
];

/// Deleting services and real servers, and flushing.
const DELETE_CASES: &[Case] = &[
    Case {
        what: "delete a real server (-d)",
        commands: &[
            "-A -t 10.3.0.1:80 -s rr",
            "-a -t 10.3.0.1:80 -r 10.3.1.1 -g",
            "-a -t 10.3.0.1:80 -r 10.3.1.2 -g",
            "-d -t 10.3.0.1:80 -r 10.3.1.1",
        ],
        json: &[
            ("/services/0/real_servers/0/addr", r#""10.3.1.2""#),
            ("/services/0/real_servers/1", "null"),
        ],
    },
    Case {
        what: "delete a service (-D)",
        commands: &[
            "-A -t 10.3.0.1:80 -s rr",
            "-A -u 10.3.0.1:53 -s rr",
            "-a -u 10.3.0.1:53 -r 10.3.1.1 -g",
            "-D -u 10.3.0.1:53",
        ],
        json: &[
            ("/services/0/protocol", r#""tcp""#),
            ("/services/1", "null"),
        ],
    },
    Case {
        what: "delete an IPv6 and a fwmark service",
        commands: &[
            "-A -t [2001:db8::1]:80 -s rr",
            "-A -f 9 -s rr",
            "-A -t 10.3.0.1:80 -s rr",
            "-D -t [2001:db8::1]:80",
            "-D -f 9",
        ],
        json: &[
            ("/services/0/addr", r#""10.3.0.1""#),
            ("/services/1", "null"),
        ],
    },
    Case {
        what: "flush (-C)",
        commands: &[
            "-A -t 10.3.0.1:80 -s rr",
            "-a -t 10.3.0.1:80 -r 10.3.1.1 -g",
            "-A -f 9 -6 -s rr",
            "-C",
        ],
        json: &[("/services", "[]")],
    },
];

/// Listings compared between ours and 1.31 on each state.
const VIEWS: &[&[&str]] = &[
    &["-Sn"],
    &["-Ln"],
    &["-Ln", "--stats", "--exact"],
    &["-Ln", "--rate", "--exact"],
    &["-Ln", "--thresholds"],
    &["-Ln", "--persistent-conn"],
    &["-Ln", "--tun-info"],
    &["-Ln", "--nosort"],
];

fn args(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

fn stdout_text(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Ours `ARGS --json`, parsed; fails the test if ours fails.
#[track_caller]
fn ours_json(ns: &Ns, list: &[&str]) -> Value {
    let mut cmd = list.to_vec();
    cmd.push("--json");
    let out = ns.ours(&cmd);
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "`{}` failed:\n{}",
        describe(&cmd),
        render(&out)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("`{}` is not JSON ({e}):\n{}", describe(&cmd), render(&out))
    })
}

/// Checks each `(field, expected)` of a case against ours `-Ln --json`.
#[track_caller]
fn check_json(ns: &Ns, case: &Case, made_by: &str) {
    let doc = ours_json(ns, &["-Ln"]);
    assert_eq!(doc["schema_version"], 1, "{}", case.what);
    for (field, expected) in case.json {
        let pointer = if field.starts_with('/') {
            (*field).to_string()
        } else if let Some(rs_field) = field.strip_prefix("rs/") {
            format!("/services/0/real_servers/0/{rs_field}")
        } else {
            format!("/services/0/{field}")
        };
        let expected: Value = serde_json::from_str(expected).unwrap_or_else(|e| {
            panic!("bad expected JSON {expected:?} in the case table: {e}")
        });
        let actual = doc.pointer(&pointer).cloned().unwrap_or(Value::Null);
        assert_eq!(
            actual, expected,
            "{} (made by {made_by}): ours --json {pointer}\n{doc:#}",
            case.what
        );
    }
}

/// Runs a case's commands with one tool; each must succeed silently.
#[track_caller]
fn apply(ns: &Ns, case: &Case, with_ours: bool) {
    for line in case.commands {
        let cmd = args(line);
        let (who, out) = if with_ours {
            ("ours", ns.ours(&cmd))
        } else {
            ("ipvsadm 1.31", ns.reference(&cmd))
        };
        assert_ok(&format!("{}: {who}: {}", case.what, describe(&cmd)), &out);
    }
}

/// What ipvsadm 1.31 shows of the current state, view by view; ours must
/// show the same, byte for byte.
#[track_caller]
fn views_agree(ns: &Ns, what: &str, made_by: &str) -> Vec<String> {
    VIEWS
        .iter()
        .map(|view| {
            let (ours, reference) = ns.both(view);
            assert!(
                reference.status.success(),
                "{what}: ipvsadm 1.31 {}:\n{}",
                describe(view),
                render(&reference)
            );
            assert_same_output(
                &format!("{what} (made by {made_by}): {}", describe(view)),
                &ours,
                &reference,
            );
            stdout_text(&reference)
        })
        .collect()
}

/// Made by ours, read by 1.31 and ours; then made by 1.31, read by ours;
/// and ipvsadm 1.31 must see the same state both times.
#[track_caller]
fn round_trip(ns: &Ns, case: &Case) {
    ns.flush();
    apply(ns, case, true);
    let by_ours = views_agree(ns, case.what, "ours");
    check_json(ns, case, "ours");

    ns.flush();
    apply(ns, case, false);
    let by_reference = views_agree(ns, case.what, "ipvsadm 1.31");
    check_json(ns, case, "ipvsadm 1.31");

    for (view, (ours_made, reference_made)) in
        VIEWS.iter().zip(by_ours.iter().zip(&by_reference))
    {
        crate::support::assert_text_eq(
            &format!(
                "{}: ipvsadm 1.31 {} of the state made by 1.31 (<) and by ours (>)",
                case.what,
                describe(view)
            ),
            reference_made,
            ours_made,
        );
    }
    ns.flush();
}

fn services_round_trip(ns: &Ns) -> TestResult {
    for case in SERVICE_CASES {
        round_trip(ns, case);
    }
    large_fwmark_is_kept_unsigned(ns);
    Ok(())
}

/// A fwmark above 2^31-1: listed as 1.31 lists it, but saved unsigned
/// (1.31 saves it as a negative number its own `-R` rejects).
#[track_caller]
fn large_fwmark_is_kept_unsigned(ns: &Ns) {
    for with_ours in [true, false] {
        ns.flush();
        let cmd = args("-A -f 4000000000 -s rr");
        let out = if with_ours {
            ns.ours(&cmd)
        } else {
            ns.reference(&cmd)
        };
        assert_ok(&describe(&cmd), &out);
        ns.assert_same(&["-Ln"]);
        assert_eq!(
            stdout_text(&ns.reference_read(&["-Sn"])),
            "-A -f -294967296 -s rr\n",
            "ipvsadm 1.31 -Sn"
        );
        assert_eq!(
            stdout_text(&ns.ours(&["-Sn"])),
            "-A -f 4000000000 -s rr\n",
            "ours -Sn"
        );
        assert_eq!(
            ours_json(ns, &["-Ln"])["services"][0]["fwmark"],
            4000000000u32
        );
    }
    ns.flush();
}

fn destinations_round_trip(ns: &Ns) -> TestResult {
    for case in DEST_CASES {
        round_trip(ns, case);
    }
    Ok(())
}

fn deletes_and_flush_round_trip(ns: &Ns) -> TestResult {
    for case in DELETE_CASES {
        round_trip(ns, case);
    }
    Ok(())
}

/// `IPVS_CMD_GET_INFO`: ours `--json` `ipvs` says what 1.31 prints in the
/// `-Ln` header (`IP Virtual Server version 1.2.1 (size=4096)`).
fn info_matches_the_listing_header(ns: &Ns) -> TestResult {
    let header = stdout_text(&ns.reference_read(&["-Ln"]));
    let first = header.lines().next().unwrap_or_default();
    let rest = first
        .strip_prefix("IP Virtual Server version ")
        .ok_or_else(|| format!("unexpected ipvsadm 1.31 header: {first:?}"))?;
    let (version, size) = rest
        .strip_suffix(')')
        .and_then(|r| r.split_once(" (size="))
        .ok_or_else(|| format!("unexpected ipvsadm 1.31 header: {first:?}"))?;
    let size: u64 = size.parse()?;
    let parts: Vec<u32> = version
        .split('.')
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    let [major, minor, patch] = parts[..] else {
        return Err(format!("unexpected version in {first:?}").into());
    };
    for list in [&["-Ln"][..], &["-Ln", "--stats", "--exact"]] {
        let doc = ours_json(ns, list);
        assert_eq!(doc["ipvs"]["version"], version, "{}", describe(list));
        assert_eq!(
            doc["ipvs"]["version_code"],
            (major << 16) | (minor << 8) | patch,
            "{}",
            describe(list)
        );
        assert_eq!(doc["ipvs"]["conn_tab_size"], size, "{}", describe(list));
    }
    // A single-service listing carries the same info.
    assert_ok("setup", &ns.ours(&args("-A -t 10.4.0.1:80 -s rr")));
    let doc = ours_json(ns, &args("-Ln -t 10.4.0.1:80"));
    assert_eq!(doc["ipvs"]["version"], version);
    assert_eq!(doc["ipvs"]["conn_tab_size"], size);
    ns.assert_same(&args("-Ln -t 10.4.0.1:80"));
    Ok(())
}

/// `--set` (`IPVS_CMD_SET_CONFIG`) and `--timeout` (`IPVS_CMD_GET_CONFIG`):
/// tcp, tcpfin and udp, each alone (0 leaves a value unchanged) and together.
fn timeouts_round_trip(ns: &Ns) -> TestResult {
    // (command, expected tcp, tcp_fin, udp afterwards)
    let steps: &[(&str, [u32; 3])] = &[
        ("--set 901 121 301", [901, 121, 301]),
        ("--set 0 0 302", [901, 121, 302]),
        ("--set 0 122 0", [901, 122, 302]),
        ("--set 902 0 0", [902, 122, 302]),
        ("--set 7200 60 600", [7200, 60, 600]),
    ];
    let initial = stdout_text(&ns.reference(&["-L", "--timeout"]));
    for with_ours in [true, false] {
        let made_by = if with_ours { "ours" } else { "ipvsadm 1.31" };
        for (line, [tcp, tcp_fin, udp]) in steps {
            let cmd = args(line);
            let out = if with_ours {
                ns.ours(&cmd)
            } else {
                ns.reference(&cmd)
            };
            assert_ok(&format!("{made_by}: {line}"), &out);
            let shown = stdout_text(&ns.reference(&["-L", "--timeout"]));
            assert_eq!(
                shown,
                format!("Timeout (tcp tcpfin udp): {tcp} {tcp_fin} {udp}\n"),
                "ipvsadm 1.31 --timeout after {made_by}: {line}"
            );
            ns.assert_same(&["-L", "--timeout"]);
            ns.assert_same(&["-Ln", "--timeout"]);
            let doc = ours_json(ns, &["-L", "--timeout"]);
            assert_eq!(doc["timeouts"]["tcp"], *tcp, "after {made_by}: {line}");
            assert_eq!(
                doc["timeouts"]["tcp_fin"], *tcp_fin,
                "after {made_by}: {line}"
            );
            assert_eq!(doc["timeouts"]["udp"], *udp, "after {made_by}: {line}");
        }
        // Back to where we started, for the other tool's turn.
        let restore = initial
            .trim()
            .strip_prefix("Timeout (tcp tcpfin udp): ")
            .ok_or_else(|| format!("unexpected --timeout output: {initial:?}"))?
            .to_string();
        let mut cmd = vec!["--set"];
        cmd.extend(restore.split_whitespace());
        assert_ok("restore the timeouts", &ns.reference(&cmd));
    }
    Ok(())
}

/// One sync-daemon configuration: the `--start-daemon` arguments, and what
/// `--daemon` must show (JSON fields; text is compared with 1.31's).
struct DaemonCase {
    what: &'static str,
    start: &'static [&'static str],
    stop: &'static [&'static str],
    /// The `daemons` array ours `--daemon --json` must print (the unset
    /// attributes show the kernel's defaults).
    json: &'static str,
}

const DAEMON_CASES: &[DaemonCase] = &[
    DaemonCase {
        what: "master with every attribute (IPv4 group)",
        start: &[
            "--start-daemon master --mcast-interface sync0 --syncid 5 --sync-maxlen 1400 \
                  --mcast-group 239.1.2.3 --mcast-port 9000 --mcast-ttl 5",
        ],
        stop: &["--stop-daemon master"],
        json: r#"[{"state":"master","mcast_ifn":"sync0","syncid":5,"sync_maxlen":1400,
                   "mcast_group":"239.1.2.3","mcast_port":9000,"mcast_ttl":5}]"#,
    },
    DaemonCase {
        what: "master with the kernel's defaults",
        start: &["--start-daemon master --mcast-interface sync0"],
        stop: &["--stop-daemon master"],
        json: r#"[{"state":"master","mcast_ifn":"sync0","syncid":0,"sync_maxlen":1472,
                   "mcast_group":"224.0.0.81","mcast_port":8848,"mcast_ttl":1}]"#,
    },
    DaemonCase {
        what: "backup with every attribute (IPv4 group)",
        start: &[
            "--start-daemon backup --mcast-interface sync0 --syncid 200 --sync-maxlen 1200 \
                  --mcast-group 239.9.9.9 --mcast-port 9001 --mcast-ttl 3",
        ],
        stop: &["--stop-daemon backup"],
        json: r#"[{"state":"backup","mcast_ifn":"sync0","syncid":200,"sync_maxlen":1200,
                   "mcast_group":"239.9.9.9","mcast_port":9001,"mcast_ttl":3}]"#,
    },
    DaemonCase {
        what: "master with an IPv6 group",
        start: &["--start-daemon master --mcast-interface sync0 --syncid 7 \
                  --mcast-group ff02::8:1 --mcast-port 8850 --mcast-ttl 2"],
        stop: &["--stop-daemon master"],
        json: r#"[{"state":"master","mcast_ifn":"sync0","syncid":7,"sync_maxlen":1452,
                   "mcast_group":"ff02::8:1","mcast_port":8850,"mcast_ttl":2}]"#,
    },
    DaemonCase {
        what: "master and backup at once",
        start: &[
            "--start-daemon master --mcast-interface sync0 --syncid 201 --sync-maxlen 65507",
            "--start-daemon backup --mcast-interface sync1 --syncid 202 --mcast-ttl 9",
        ],
        stop: &["--stop-daemon master", "--stop-daemon backup"],
        json: r#"[{"state":"master","mcast_ifn":"sync0","syncid":201,"sync_maxlen":65507,
                   "mcast_group":"224.0.0.81","mcast_port":8848,"mcast_ttl":1},
                  {"state":"backup","mcast_ifn":"sync1","syncid":202,"sync_maxlen":1472,
                   "mcast_group":"224.0.0.81","mcast_port":8848,"mcast_ttl":9}]"#,
    },
];

/// `IPVS_CMD_NEW_DAEMON`, `GET_DAEMON` and `DEL_DAEMON` with every daemon
/// attribute: started and stopped by each tool, listed by both.
fn sync_daemons_round_trip(ns: &Ns) -> TestResult {
    // Multicast interfaces for the daemons, with IPv4 and IPv6 addresses.
    let setup = ns.sh("set -e
         ip() { /sbin/ip \"$@\"; }
         for dev in sync0 sync1; do ip link add $dev type dummy; done
         ip addr add 192.168.77.1/24 dev sync0
         ip addr add 192.168.78.1/24 dev sync1
         ip addr add fd00:77::1/64 dev sync0 nodad
         ip addr add fd00:78::1/64 dev sync1 nodad
         ip link set sync0 up multicast on
         ip link set sync1 up multicast on");
    assert!(setup.status.success(), "interfaces:\n{}", render(&setup));
    for case in DAEMON_CASES {
        let expected: Value = serde_json::from_str(case.json)?;
        let mut listed = Vec::new();
        for start_with_ours in [true, false] {
            let made_by = if start_with_ours {
                "ours"
            } else {
                "ipvsadm 1.31"
            };
            for line in case.start {
                let cmd = args(line);
                let out = if start_with_ours {
                    ns.ours(&cmd)
                } else {
                    ns.reference(&cmd)
                };
                assert_ok(&format!("{}: {made_by}: {line}", case.what), &out);
            }
            let reference = ns.reference(&["-L", "--daemon"]);
            for view in [&["-L", "--daemon"][..], &["-Ln", "--daemon"]] {
                let ours = ns.ours(view);
                let reference = ns.reference(view);
                assert_same_output(
                    &format!("{} (started by {made_by}): {}", case.what, describe(view)),
                    &ours,
                    &reference,
                );
            }
            let doc = ours_json(ns, &["-L", "--daemon"]);
            assert_eq!(
                doc["daemons"], expected,
                "{} (started by {made_by}): ours --daemon --json",
                case.what
            );
            listed.push(stdout_text(&reference));

            // Stopped by the other tool: nothing is left.
            for line in case.stop {
                let cmd = args(line);
                let out = if start_with_ours {
                    ns.reference(&cmd)
                } else {
                    ns.ours(&cmd)
                };
                assert_ok(&format!("{}: stop: {line}", case.what), &out);
            }
            let after = ns.both(&["-L", "--daemon"]);
            assert_same_output(
                &format!("{}: -L --daemon after stopping", case.what),
                &after.0,
                &after.1,
            );
            assert_eq!(
                stdout_text(&after.1),
                "",
                "{}: a daemon is still running",
                case.what
            );
            assert_eq!(
                ours_json(ns, &["-L", "--daemon"])["daemons"],
                Value::Array(vec![])
            );
        }
        assert!(
            listed[0].lines().count() == case.start.len(),
            "{}: ipvsadm 1.31 --daemon:\n{}",
            case.what,
            listed[0]
        );
        crate::support::assert_text_eq(
            &format!(
                "{}: ipvsadm 1.31 --daemon, started by 1.31 (<) and by ours (>)",
                case.what
            ),
            &listed[1],
            &listed[0],
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Traffic: counters, connection counts, STATS64, zero.
// ---------------------------------------------------------------------------

/// The scenario's round-robin service (three masqueraded pods).
const RR_SERVICE: &str = SERVICE;
/// A persistent service added to the same pods (persistent connections).
const PERSISTENT_SERVICE: &str = "10.200.1.76:9001";

/// A client connection kept open until dropped.
struct HeldConnection(Child);

impl Drop for HeldConnection {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The counters 1.31 prints with `--stats --exact` for each service and
/// real server line: `(label, [conns, inpkts, outpkts, inbytes, outbytes])`.
fn exact_stats(text: &str) -> Vec<(String, [u64; 5])> {
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (label, numbers) = match fields.first() {
                Some(&"->") => (format!("-> {}", fields.get(1)?), fields.get(2..7)?),
                Some(p) if ["TCP", "UDP", "SCTP", "FWM"].contains(p) => {
                    (format!("{p} {}", fields.get(1)?), fields.get(2..7)?)
                }
                _ => return None,
            };
            let mut values = [0u64; 5];
            for (value, text) in values.iter_mut().zip(numbers) {
                *value = text.parse().ok()?;
            }
            Some((label, values))
        })
        .collect()
}

/// The same counters from ours `--json`, labelled as 1.31 labels them.
fn json_stats(doc: &Value) -> Vec<(String, [u64; 5])> {
    let counters = |v: &Value| -> [u64; 5] {
        ["conns", "inpkts", "outpkts", "inbytes", "outbytes"]
            .map(|k| v["stats"][k].as_u64().unwrap_or(u64::MAX))
    };
    let mut rows = Vec::new();
    for svc in doc["services"].as_array().into_iter().flatten() {
        let proto = svc["protocol"].as_str().unwrap_or("?").to_uppercase();
        rows.push((
            format!(
                "{proto} {}:{}",
                svc["addr"].as_str().unwrap_or("?"),
                svc["port"]
            ),
            counters(svc),
        ));
        for rs in svc["real_servers"].as_array().into_iter().flatten() {
            rows.push((
                format!("-> {}:{}", rs["addr"].as_str().unwrap_or("?"), rs["port"]),
                counters(rs),
            ));
        }
    }
    rows
}

/// `(active, inactive, persistent)` connections of each real server in ours
/// `--json`, by address.
fn json_conns(doc: &Value, service_port: u64) -> Vec<(String, [u64; 3])> {
    doc["services"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s["port"] == service_port)
        .flat_map(|s| s["real_servers"].as_array().cloned().unwrap_or_default())
        .map(|rs| {
            (
                rs["addr"].as_str().unwrap_or("?").to_string(),
                ["active_conns", "inact_conns", "persist_conns"]
                    .map(|k| rs[k].as_u64().unwrap_or(u64::MAX)),
            )
        })
        .collect()
}

/// Ours `--json` counters equal 1.31's `--stats --exact`, line by line, and
/// every listing view matches 1.31's byte for byte.
#[track_caller]
fn counters_agree(ns: &Ns, when: &str) -> Vec<(String, [u64; 5])> {
    let reference = stdout_text(&ns.reference_read(&["-Ln", "--stats", "--exact"]));
    let exact = exact_stats(&reference);
    let json = json_stats(&ours_json(ns, &["-Ln"]));
    assert_eq!(
        json, exact,
        "{when}: ours --json counters vs ipvsadm 1.31 --stats --exact:\n{reference}"
    );
    // Not `--rate`: the estimator may change the rates between two runs.
    for view in VIEWS.iter().filter(|v| !v.contains(&"--rate")) {
        assert_same_between_expiries(ns, view);
    }
    for view in [
        &["-Ln", "-t", RR_SERVICE, "--stats", "--exact"][..],
        &["-Ln", "-t", PERSISTENT_SERVICE, "--stats", "--exact"],
    ] {
        ns.assert_same(view);
    }
    exact
}

/// Like [`Ns::assert_same`] for listings with connection counts, which
/// drop when a finished connection expires (its timer runs out whenever it
/// does; no traffic flows now, so they only ever drop). 1.31 reads before
/// and after ours: when its two reads agree, nothing changed in between and
/// ours must be exactly that, or the test fails at once. Only a pair of
/// 1.31 reads that disagree (an expiry in between, which each such attempt
/// logs) makes it try again, at most [`STABLE_ATTEMPTS`] times.
#[track_caller]
fn assert_same_between_expiries(ns: &Ns, view: &[&str]) {
    for attempt in 1..=STABLE_ATTEMPTS {
        let before = ns.reference(view);
        let ours = ns.ours(view);
        let after = ns.reference(view);
        if before.stdout == after.stdout
            && before.stderr == after.stderr
            && before.status.code() == after.status.code()
        {
            assert_same_output(&describe(view), &ours, &after);
            return;
        }
        eprintln!(
            "{}: attempt {attempt}: ipvsadm 1.31 read two different tables around \
             ours (a connection expired), so this attempt shows nothing:\n{}\n{}",
            describe(view),
            render(&before),
            render(&after)
        );
    }
    panic!(
        "{}: ipvsadm 1.31 never read the same table twice in a row in \
         {STABLE_ATTEMPTS} attempts",
        describe(view)
    );
}

/// See [`assert_same_between_expiries`].
const STABLE_ATTEMPTS: usize = 5;

fn counters_of<'a>(rows: &'a [(String, [u64; 5])], label: &str) -> &'a [u64; 5] {
    rows.iter()
        .find(|(l, _)| l == label)
        .map(|(_, c)| c)
        .unwrap_or_else(|| panic!("no {label} in {rows:?}"))
}

/// Rows of one service: its own line and its real servers' lines.
fn service_rows(rows: &[(String, [u64; 5])], service: &str) -> Vec<(String, [u64; 5])> {
    let start = rows
        .iter()
        .position(|(l, _)| l == &format!("TCP {service}"))
        .unwrap_or_else(|| panic!("no TCP {service} in {rows:?}"));
    let mut out = vec![rows[start].clone()];
    out.extend(
        rows[start + 1..]
            .iter()
            .take_while(|(l, _)| l.starts_with("->"))
            .cloned(),
    );
    out
}

/// Real traffic: service and real-server counters (STATS64 in ours, the
/// legacy STATS in 1.31) agree; active, inactive and persistent connection
/// counts agree; `-Z <service>` zeroes that service only and `-Z` all,
/// with ours and with 1.31 alike.
fn traffic_counters_stats64_and_zero(ns: &Ns) -> TestResult {
    let pods = KubeDemo::setup(ns, "a")?;
    // A persistent service on the same pods, made by ours.
    assert_ok(
        "persistent service",
        &ns.ours(&args(&format!("-A -t {PERSISTENT_SERVICE} -s rr -p 600"))),
    );
    for n in 1..=3 {
        assert_ok(
            "persistent service's real server",
            &ns.ours(&args(&format!(
                "-a -t {PERSISTENT_SERVICE} -r 10.10.{n}.2:80 -m -w {n}"
            ))),
        );
    }

    pods.requests(RR_SERVICE, 30);
    pods.requests(PERSISTENT_SERVICE, 10);
    // A connection held open (the pod's httpd waits for a request that
    // never comes): one active connection.
    let held = HeldConnection(
        Command::new("/sbin/ip")
            .args(["netns", "exec", &format!("{}net-pod", pods.prefix())])
            .args(["busybox", "nc", VIP, "9000"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?,
    );
    ns.await_settled_counters();

    let before = counters_agree(ns, "after traffic");
    let rr = counters_of(&before, &format!("TCP {RR_SERVICE}"));
    let persistent = counters_of(&before, &format!("TCP {PERSISTENT_SERVICE}"));
    assert!(
        rr[0] >= 30 && rr[1] > 0 && rr[3] > 0,
        "rr service counters: {rr:?}"
    );
    assert_eq!(persistent[0], 10, "persistent service connections");
    assert!(
        persistent[2] > 0 && persistent[4] > 0,
        "persistent service: {persistent:?}"
    );

    // Connection counts: 30 finished (inactive) + 1 held (active) on the
    // rr service; the persistent service's 10 all went to one pod, which
    // holds the one persistence template.
    let doc = ours_json(ns, &["-Ln"]);
    let rr_conns = json_conns(&doc, 9000);
    let active: u64 = rr_conns.iter().map(|(_, c)| c[0]).sum();
    let inactive: u64 = rr_conns.iter().map(|(_, c)| c[1]).sum();
    assert_eq!(
        active, 1,
        "active connections on {RR_SERVICE}: {rr_conns:?}"
    );
    assert_eq!(
        inactive, 30,
        "inactive connections on {RR_SERVICE}: {rr_conns:?}"
    );
    let persistent_conns = json_conns(&doc, 9001);
    let used: Vec<_> = persistent_conns.iter().filter(|(_, c)| c[1] > 0).collect();
    assert_eq!(
        used.len(),
        1,
        "one pod behind persistence: {persistent_conns:?}"
    );
    assert_eq!(used[0].1[1], 10, "{persistent_conns:?}");
    assert_eq!(
        used[0].1[2], 1,
        "one persistence template: {persistent_conns:?}"
    );
    assert_same_between_expiries(ns, &["-Ln", "--persistent-conn"]);
    // Closing it sends packets: done before the counters are compared again.
    drop(held);

    // -Z <service>, by each tool in turn, with more traffic in between.
    for (zero_with_ours, zeroed, kept) in [
        (true, RR_SERVICE, PERSISTENT_SERVICE),
        (false, PERSISTENT_SERVICE, RR_SERVICE),
    ] {
        pods.requests(zeroed, 5);
        pods.requests(kept, 2);
        ns.await_settled_counters();
        let before = counters_agree(ns, "before -Z <service>");
        let cmd = ["-Z", "-t", zeroed];
        let out = if zero_with_ours {
            ns.ours(&cmd)
        } else {
            ns.reference(&cmd)
        };
        assert_ok(&describe(&cmd), &out);
        ns.await_settled_counters();
        let after = counters_agree(ns, &format!("after {}", describe(&cmd)));
        for (label, counters) in service_rows(&after, zeroed) {
            assert_eq!(counters, [0; 5], "{label} after {}", describe(&cmd));
        }
        assert_eq!(
            service_rows(&after, kept),
            service_rows(&before, kept),
            "{kept} must not change with {}",
            describe(&cmd)
        );
        assert!(
            counters_of(&after, &format!("TCP {kept}"))[0] > 0,
            "{kept} still has its counters"
        );
    }

    // -Z (all), by each tool in turn.
    for zero_with_ours in [true, false] {
        pods.requests(RR_SERVICE, 3);
        pods.requests(PERSISTENT_SERVICE, 3);
        ns.await_settled_counters();
        let before = counters_agree(ns, "before -Z");
        assert!(before.iter().any(|(_, c)| c[0] > 0), "{before:?}");
        let out = if zero_with_ours {
            ns.ours(&["-Z"])
        } else {
            ns.reference(&["-Z"])
        };
        assert_ok("ipvsadm -Z", &out);
        ns.await_settled_counters();
        let after = counters_agree(ns, "after -Z");
        for (label, counters) in &after {
            assert_eq!(*counters, [0; 5], "{label} after -Z");
        }
    }
    Ok(())
}
