//! Golden tests for `-S`, from the spec's captures.

use pretty_assertions::assert_eq;

use super::*;
use crate::listing::sort::sort_services;
use crate::output::fixtures::*;
use crate::resolve::FakeResolver;

/// `ipvsadm -S -n`
const SN_REFERENCE: &str = "-A -f -1 -s rr
-A -t 192.168.100.100:80 -s dh
-A -t 1.2.3.4:80 -s sed
-A -t 10.200.1.76:0 -s lc -p 600 -M 255.255.255.0
-A -t 10.200.1.76:80 -s wlc
-a -t 10.200.1.76:80 -r 192.168.100.100:80 -g -w 2
-a -t 10.200.1.76:80 -r 10.10.1.2:80 -g -w 1
-a -t 10.200.1.76:80 -r 10.10.2.2:80 -i -w 1 --tun-type ipip
-A -t 10.200.1.76:443 -s wlc -p 360
-A -t 10.200.1.76:8000 -s rr -b flag-1,flag-3
-A -t 10.200.1.76:8001 -s lblc
-A -t 10.200.1.76:8002 -s lblcr
-A -t 127.0.0.1:80 -s ovf
-a -t 127.0.0.1:80 -r 127.0.0.1:80 -g -w 1
-A -t 200.1.1.1:80 -s fo
-A -t 10.200.1.76:9000 -s rr
-a -t 10.200.1.76:9000 -r 10.10.1.2:80 -m -w 1
-a -t 10.200.1.76:9000 -r 10.10.2.2:80 -m -w 3
-a -t 10.200.1.76:9000 -r 10.10.3.2:9000 -m -w 0
-A -u 10.200.1.76:53 -s wrr -o
-a -u 10.200.1.76:53 -r 10.10.1.2:53 -m -w 1
-A -u 10.200.1.76:5060 -s rr -p 60 --pe sip
-A --sctp-service 10.200.1.76:3868 -s nq
-a --sctp-service 10.200.1.76:3868 -r 10.10.1.2:3868 -m -w 1
-A -t [2001:db8::1]:80 -s sh -p 100 -M 64 -b sh-fallback,sh-port
-A -u [2001:db8::1]:53 -s wrr
-a -u [2001:db8::1]:53 -r [2001:db8:ffff:ffff:ffff:ffff:ffff:fffe]:53 -m -w 1
-a -u [2001:db8::1]:53 -r [2001:db8::10]:5353 -m -w 5
-A -f 1 -s rr
-a -f 1 -r 10.10.1.2:80 -m -w 1
-a -f 1 -r 10.10.2.2:0 -g -w 1
-A -f 2 -6 -s mh -b mh-port
-a -f 2 -6 -r [2001:db8::10]:0 -g -w 1
";

/// `ipvsadm -S`
const SN_EMPTY: &str = "";

/// `ipvsadm -Sn`
const SN_TUNNELS: &str = "-A -t 10.0.0.1:80 -s rr
-a -t 10.0.0.1:80 -r 10.0.0.2:80 -m -w 4
-a -t 10.0.0.1:80 -r 10.0.0.3:80 -g -w 1
-a -t 10.0.0.1:80 -r 10.0.0.4:80 -i -w 1 --tun-type ipip
-A -t 10.0.0.1:81 -s sh -p 360 -b sh-port
-a -t 10.0.0.1:81 -r 10.0.0.5:81 -g -w 1
-a -t 10.0.0.1:81 -r 10.0.0.6:81 -i -w 1 --tun-type ipip
-a -t 10.0.0.1:81 -r 10.0.0.7:8080 -m -w 1
-a -t 10.0.0.1:81 -r 10.0.0.8:81 -m -w 1
-a -t 10.0.0.1:81 -r 10.0.0.9:0 -m -w 1
-a -t 10.0.0.1:81 -r 10.0.0.10:80 -m -w 1
-a -t 10.0.0.1:81 -r 10.10.1.2:22 -m -w 1
-a -t 10.0.0.1:81 -r [2001:db8::10]:81 -i -w 1 --tun-type ipip
-A -t 10.0.0.1:82 -s rr
-a -t 10.0.0.1:82 -r 10.0.1.1:82 -i -w 1 --tun-type gue --tun-port 6080 --tun-nocsum
-a -t 10.0.0.1:82 -r 10.0.1.2:82 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum
-a -t 10.0.0.1:82 -r 10.0.1.3:82 -i -w 1 --tun-type gue --tun-port 6081 --tun-remcsum
-a -t 10.0.0.1:82 -r 10.0.1.4:82 -i -w 1 --tun-type gre --tun-nocsum
-a -t 10.0.0.1:82 -r 10.0.1.5:82 -i -w 1 --tun-type gre --tun-csum
-a -t 10.0.0.1:82 -r 10.0.1.6:82 -i -w 1 --tun-type ipip
-a -t 10.0.0.1:82 -r 10.0.1.7:82 -i -w 1 --tun-type gue --tun-port 6080 --tun-nocsum
";

/// `ipvsadm -Sn`
const SN_MANY: &str = "-A -t 0.0.0.123:80 -s wlc
-A -t 10.0.0.1:0 -s wlc -p 360
-A -t 10.0.0.1:80 -s wlc
-A -t 10.0.0.1:443 -s rr
-A -t 10.0.0.2:80 -s wlc -p 2678400
-A -t 10.0.0.4:80 -s wlc -p 600
-A -t 10.0.0.5:80 -s wlc -p 700
-A -t 10.0.0.6:80 -s wlc -p 800
-A -t 10.0.0.7:80 -s wlc
-A -t 10.0.0.8:80 -s wlc -p 360 -M 255.255.0.0
-A -t 10.0.0.9:80 -s wlc -p 360 -M 0.0.0.16
-A -t 10.0.0.11:80 -s wlc -p 360 -M 127.0.0.1
-A -t 10.0.0.12:80 -s wlc -p 360 -M 255.0.255.0
-A -t 10.0.0.14:80 -s sh -b sh-port
-A -t 10.0.0.15:80 -s sh -b sh-port
-A -t 10.0.0.16:80 -s mh -b mh-fallback
-A -t 10.0.0.18:80 -s rr -b flag-2
-A -t 10.0.0.19:80 -s sh -b sh-fallback,sh-port
-A -t 10.0.0.20:80 -s mh -b mh-port
-A -t 10.0.0.22:80 -s rr
-A -t 10.0.0.25:80 -s wlc --pe sip
-A -t 10.200.1.76:80 -s wlc
-A -t 127.0.0.1:80 -s wlc
-A -u 10.0.0.1:53 -s wlc
-A -u 10.0.0.13:80 -s wlc -o
-A -u 10.0.0.26:80 -s wlc -p 360 --pe sip
-A -t [::ffff:10.0.0.1]:80 -s wlc
-A -t [2001:db8::5]:80 -s wlc
-A -t [2001:db8::7]:0 -s wlc -p 360
-A -t [2001:db8::20]:80 -s wlc -p 360 -M 64
-A -t [2001:db8::24]:80 -s wlc -p 360
-A -t [2001:db8::8:80]:0 -s wlc -p 360
-A -f 10 -6 -s wlc
-A -f 20 -6 -s wlc -p 360 -M 48
-A -f 21 -6 -s wlc -p 360
-A -f 22 -s wlc -o
";

/// `ipvsadm -S`
const S_NAMES_V6: &str = "-A -t 10.0.0.1:http -s rr
-a -t 10.0.0.1:http -r 10.0.0.4:http -m -w 5
-a -t 10.0.0.1:http -r 10.0.0.5:http -m -w 6
-a -t 10.0.0.1:http -r 10.0.0.7:http -m -w 7
-a -t 10.0.0.1:http -r 10.0.0.9:81 -m -w 1
-A -t 10.0.0.2:http -s none
-a -t 10.0.0.2:http -r 10.0.0.3:http -g -w 1
-A -t [vip6.example.com]:http -s rr
-a -t [vip6.example.com]:http -r a-very-long-hostname-for-truncation-testing.example.org:htt -i -w 1 --tun-type ipip
-a -t [vip6.example.com]:http -r 10.0.0.2:http -i -w 1 --tun-type ipip
-a -t [vip6.example.com]:http -r [2001:db8:1234:5678:9abc:def0:1234:5678]:http-alt -m -w 12345678
";

/// `ipvsadm -S`
const S_NAMES_PORT0: &str = "-A -t 10.0.0.1:http -s sh -b 
-A -t 10.0.0.2:http -s mh -p 10 -b 
-A -t 10.0.0.4:http -s rr -p 10
-A -t 10.0.0.5:0 -s rr -p 360
-a -t 10.0.0.5:0 -r 10.0.0.6:0 -m -w 1
-a -t 10.0.0.5:0 -r 10.0.0.7:http-alt -m -w 1
-A -t 10.0.0.8:65535 -s rr
";

/// `save_all`: sort services, then each entry.
fn save_all(
    table: &[(Service, Vec<Dest>)],
    numeric: bool,
    names: &dyn NameResolver,
) -> String {
    let mut services: Vec<Service> = table.iter().map(|(s, _)| s.clone()).collect();
    sort_services(&mut services);
    save_in_order(
        &services
            .iter()
            .map(|s| {
                let dests = table
                    .iter()
                    .find(|(t, _)| t == s)
                    .map(|(_, d)| d.clone())
                    .unwrap_or_default();
                (s.clone(), dests)
            })
            .collect::<Vec<_>>(),
        numeric,
        names,
    )
}

fn save_in_order(
    table: &[(Service, Vec<Dest>)],
    numeric: bool,
    names: &dyn NameResolver,
) -> String {
    let mut out = Vec::new();
    for (service, dests) in table {
        let _ = write_save_entry(&mut out, service, dests, numeric, names);
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn reference_table_saves_like_ipvsadm_except_the_fwmark_fix() {
    let got = save_all(&reference_table(), true, &FakeResolver::new());
    // The one deliberate difference: 1.31 writes `-A -f -1`, which it
    // cannot restore.
    let expected =
        SN_REFERENCE.replacen("-A -f -1 -s rr\n", "-A -f 4294967295 -s rr\n", 1);
    assert_eq!(got, expected);
}

#[test]
fn fwmarks_are_saved_unsigned() {
    let table = vec![
        (fwm(0x8000_0000, Family::Inet, "rr"), vec![]),
        (fwm(u32::MAX, Family::Inet6, "wlc"), vec![]),
    ];
    assert_eq!(
        save_in_order(&table, true, &FakeResolver::new()),
        "-A -f 2147483648 -s rr\n-A -f 4294967295 -6 -s wlc\n"
    );
}

#[test]
fn empty_table_saves_nothing() {
    assert_eq!(save_all(&[], true, &FakeResolver::new()), SN_EMPTY);
}

#[test]
fn tunnel_options() {
    let sh_port = persistent(
        flagged(svc(Tcp, "10.0.0.1", 81, "sh"), ServiceFlags::SCHED2),
        360,
    );
    let table = vec![
        (
            svc(Tcp, "10.0.0.1", 80, "rr"),
            vec![
                tunnel("10.0.0.4", 80, TunnelType::Ipip, 0, 0),
                dest("10.0.0.3", 80, Route, 1),
                dest("10.0.0.2", 80, Masq, 4),
            ],
        ),
        (
            sh_port,
            vec![
                tunnel("2001:db8::10", 81, TunnelType::Ipip, 0, 0),
                dest("10.10.1.2", 22, Masq, 1),
                dest("10.0.0.10", 80, Masq, 1),
                dest("10.0.0.9", 0, Masq, 1),
                dest("10.0.0.8", 81, Masq, 1),
                dest("10.0.0.7", 8080, Masq, 1),
                tunnel("10.0.0.6", 81, TunnelType::Ipip, 0, 0),
                dest("10.0.0.5", 81, Route, 1),
            ],
        ),
        (
            svc(Tcp, "10.0.0.1", 82, "rr"),
            vec![
                tunnel("10.0.1.7", 82, TunnelType::Gue, 6080, 0),
                tunnel("10.0.1.6", 82, TunnelType::Ipip, 0, 0),
                tunnel("10.0.1.5", 82, TunnelType::Gre, 0, 1),
                tunnel("10.0.1.4", 82, TunnelType::Gre, 0, 0),
                tunnel("10.0.1.3", 82, TunnelType::Gue, 6081, 2),
                tunnel("10.0.1.2", 82, TunnelType::Gue, 6080, 1),
                tunnel("10.0.1.1", 82, TunnelType::Gue, 6080, 0),
            ],
        ),
    ];
    assert_eq!(
        save_in_order(&table, true, &FakeResolver::new()),
        SN_TUNNELS
    );
}

#[test]
fn service_options() {
    let v4 = |a, b, c, d| Netmask::V4(Ipv4Addr::new(a, b, c, d));
    let p360 = |s| persistent(s, 360);
    let wlc = |addr: &str, port| svc(Tcp, addr, port, "wlc");
    let flags = |s, f| flagged(s, f);
    let table: Vec<Service> = vec![
        wlc("0.0.0.123", 80),
        p360(wlc("10.0.0.1", 0)),
        wlc("10.0.0.1", 80),
        svc(Tcp, "10.0.0.1", 443, "rr"),
        persistent(wlc("10.0.0.2", 80), 2678400),
        persistent(wlc("10.0.0.4", 80), 600),
        persistent(wlc("10.0.0.5", 80), 700),
        persistent(wlc("10.0.0.6", 80), 800),
        wlc("10.0.0.7", 80),
        masked(p360(wlc("10.0.0.8", 80)), v4(255, 255, 0, 0)),
        masked(p360(wlc("10.0.0.9", 80)), v4(0, 0, 0, 16)),
        masked(p360(wlc("10.0.0.11", 80)), v4(127, 0, 0, 1)),
        masked(p360(wlc("10.0.0.12", 80)), v4(255, 0, 255, 0)),
        flags(svc(Tcp, "10.0.0.14", 80, "sh"), ServiceFlags::SCHED2),
        flags(
            svc(Tcp, "10.0.0.15", 80, "sh"),
            ServiceFlags::SCHED2 | ServiceFlags::SCHED3,
        ),
        flags(svc(Tcp, "10.0.0.16", 80, "mh"), ServiceFlags::SCHED1),
        flags(svc(Tcp, "10.0.0.18", 80, "rr"), ServiceFlags::SCHED2),
        flags(
            svc(Tcp, "10.0.0.19", 80, "sh"),
            ServiceFlags::SCHED1 | ServiceFlags::SCHED2,
        ),
        flags(svc(Tcp, "10.0.0.20", 80, "mh"), ServiceFlags::SCHED2),
        svc(Tcp, "10.0.0.22", 80, "rr"),
        with_pe(wlc("10.0.0.25", 80), "sip"),
        wlc("10.200.1.76", 80),
        wlc("127.0.0.1", 80),
        svc(Udp, "10.0.0.1", 53, "wlc"),
        flags(svc(Udp, "10.0.0.13", 80, "wlc"), ServiceFlags::ONEPACKET),
        with_pe(p360(svc(Udp, "10.0.0.26", 80, "wlc")), "sip"),
        wlc("::ffff:10.0.0.1", 80),
        wlc("2001:db8::5", 80),
        p360(wlc("2001:db8::7", 0)),
        masked(p360(wlc("2001:db8::20", 80)), Netmask::V6(64)),
        p360(wlc("2001:db8::24", 80)),
        p360(wlc("2001:db8::8:80", 0)),
        fwm(10, Family::Inet6, "wlc"),
        masked(p360(fwm(20, Family::Inet6, "wlc")), Netmask::V6(48)),
        p360(fwm(21, Family::Inet6, "wlc")),
        flags(fwm(22, Family::Inet, "wlc"), ServiceFlags::ONEPACKET),
    ];
    let table: Vec<_> = table.into_iter().map(|s| (s, vec![])).collect();
    assert_eq!(save_in_order(&table, true, &FakeResolver::new()), SN_MANY);
}

#[test]
fn names_in_save_are_cut_only_at_59_bytes() {
    let names = reference_names();
    let mut table = vec![
        (
            svc(Tcp, "10.0.0.1", 80, "rr"),
            vec![
                dest("10.0.0.9", 81, Masq, 1),
                dest("10.0.0.7", 80, Masq, 7),
                dest("10.0.0.5", 80, Masq, 6),
                dest("10.0.0.4", 80, Masq, 5),
            ],
        ),
        (
            svc(Tcp, "10.0.0.2", 80, "none"),
            vec![dest("10.0.0.3", 80, Route, 1)],
        ),
    ];
    table.push((
        svc(Tcp, "2001:db8::1", 80, "rr"),
        vec![
            tunnel("192.168.100.100", 80, TunnelType::Ipip, 0, 0),
            tunnel("10.0.0.2", 80, TunnelType::Ipip, 0, 0),
            dest(
                "2001:db8:1234:5678:9abc:def0:1234:5678",
                8080,
                Masq,
                12345678,
            ),
        ],
    ));
    assert_eq!(save_in_order(&table, false, &names), S_NAMES_V6);
}

#[test]
fn empty_flag_list_and_port_zero_with_names() {
    let names = reference_names();
    let table = vec![
        (
            flagged(svc(Tcp, "10.0.0.1", 80, "sh"), ServiceFlags::SCHED3),
            vec![],
        ),
        (
            persistent(
                flagged(svc(Tcp, "10.0.0.2", 80, "mh"), ServiceFlags::SCHED3),
                10,
            ),
            vec![],
        ),
        (persistent(svc(Tcp, "10.0.0.4", 80, "rr"), 10), vec![]),
        (
            persistent(svc(Tcp, "10.0.0.5", 0, "rr"), 360),
            vec![
                dest("10.0.0.7", 8080, Masq, 1),
                dest("10.0.0.6", 0, Masq, 1),
            ],
        ),
        (svc(Tcp, "10.0.0.8", 65535, "rr"), vec![]),
    ];
    assert_eq!(save_in_order(&table, false, &names), S_NAMES_PORT0);
}

#[test]
fn unusual_methods_and_tunnel_flags() {
    let mut local = dest("10.0.0.2", 80, FwdMethod::Local, 1);
    local.weight = 3;
    let table = vec![(
        svc(Sctp, "10.0.0.1", 80, "rr"),
        vec![
            local,
            dest("10.0.0.3", 80, FwdMethod::Other(4), 1),
            tunnel("10.0.0.4", 80, TunnelType::Gue, 6080, 3),
            tunnel("10.0.0.5", 80, TunnelType::Other(9), 0, 0),
        ],
    )];
    assert_eq!(
        save_in_order(&table, true, &FakeResolver::new()),
        "-A --sctp-service 10.0.0.1:80 -s rr\n\
         -a --sctp-service 10.0.0.1:80 -r 10.0.0.2:80 -g -w 3\n\
         -a --sctp-service 10.0.0.1:80 -r 10.0.0.3:80 -g -w 1\n\
         -a --sctp-service 10.0.0.1:80 -r 10.0.0.4:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-remcsum\n\
         -a --sctp-service 10.0.0.1:80 -r 10.0.0.5:80 -i -w 1\n"
    );
}

#[test]
fn write_save_sorts_services() {
    let entries = entries(&reference_table());
    let mut out = Vec::new();
    assert!(write_save(&mut out, &entries, true, &FakeResolver::new()).is_ok());
    let expected =
        SN_REFERENCE.replacen("-A -f -1 -s rr\n", "-A -f 4294967295 -s rr\n", 1);
    assert_eq!(String::from_utf8_lossy(&out), expected);
    let mut out = Vec::new();
    assert!(write_save(&mut out, &[], true, &FakeResolver::new()).is_ok());
    assert!(out.is_empty());
}
