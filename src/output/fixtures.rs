//! Model builders and the spec's reference configuration, for the golden
//! tests of every writer.

use std::net::{IpAddr, Ipv4Addr};

use crate::listing::ListFormat;
use crate::model::{
    Dest, Family, FwdMethod, Info, Netmask, Protocol, Service, ServiceAddr, ServiceFlags,
    ServiceId, ShortName, Stats, TunnelFlags, TunnelType,
};

use super::text::{write_service_entry, write_table_header, write_title};
use crate::listing::sort::sort_services;
use crate::resolve::{FakeResolver, NameResolver};

pub(crate) use Protocol::{Sctp, Tcp, Udp};

pub(crate) fn ip(text: &str) -> IpAddr {
    text.parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

pub(crate) fn svc(protocol: Protocol, addr: &str, port: u16, scheduler: &str) -> Service {
    let addr = ip(addr);
    let family = Family::of(&addr);
    Service {
        id: ServiceId {
            family,
            addr: ServiceAddr::Inet {
                protocol,
                addr,
                port,
            },
        },
        scheduler: ShortName::truncated(scheduler, ShortName::CAPACITY),
        pe_name: None,
        flags: ServiceFlags::HASHED,
        timeout: 0,
        netmask: Netmask::default_for(family),
        stats: Stats::default(),
    }
}

pub(crate) fn fwm(mark: u32, family: Family, scheduler: &str) -> Service {
    Service {
        id: ServiceId {
            family,
            addr: ServiceAddr::Fwmark(mark),
        },
        netmask: Netmask::default_for(family),
        ..svc(Tcp, "0.0.0.0", 0, scheduler)
    }
}

pub(crate) fn persistent(mut service: Service, timeout: u32) -> Service {
    service.flags |= ServiceFlags::PERSISTENT;
    service.timeout = timeout;
    service
}

pub(crate) fn flagged(mut service: Service, flags: ServiceFlags) -> Service {
    service.flags |= flags;
    service
}

pub(crate) fn masked(mut service: Service, netmask: Netmask) -> Service {
    service.netmask = netmask;
    service
}

pub(crate) fn with_pe(mut service: Service, pe: &str) -> Service {
    service.pe_name = Some(ShortName::truncated(pe, ShortName::CAPACITY));
    service
}

pub(crate) fn dest(addr: &str, port: u16, fwd: FwdMethod, weight: i32) -> Dest {
    let addr = ip(addr);
    Dest {
        family: Family::of(&addr),
        addr,
        port,
        fwd,
        weight,
        u_threshold: 0,
        l_threshold: 0,
        active_conns: 0,
        inact_conns: 0,
        persist_conns: 0,
        tun_type: TunnelType::Ipip,
        tun_port: 0,
        tun_flags: TunnelFlags::empty(),
        stats: Stats::default(),
    }
}

pub(crate) fn tunnel(
    addr: &str,
    port: u16,
    tun_type: TunnelType,
    tun_port: u16,
    flags: u16,
) -> Dest {
    Dest {
        tun_type,
        tun_port,
        tun_flags: TunnelFlags::from_bits_retain(flags),
        ..dest(addr, port, FwdMethod::Tunnel, 1)
    }
}

pub(crate) fn stats(values: [u64; 10]) -> Stats {
    let [
        conns,
        inpkts,
        outpkts,
        inbytes,
        outbytes,
        cps,
        inpps,
        outpps,
        inbps,
        outbps,
    ] = values;
    Stats {
        conns,
        inpkts,
        outpkts,
        inbytes,
        outbytes,
        cps,
        inpps,
        outpps,
        inbps,
        outbps,
    }
}

pub(crate) use FwdMethod::{Masq, Route};

/// The spec's reference configuration (§7.1), services and dests in the
/// kernel's dump order (the `--nosort` listing).
pub(crate) fn reference_table() -> Vec<(Service, Vec<Dest>)> {
    let all_sched = ServiceFlags::SCHED1 | ServiceFlags::SCHED2;
    vec![
        (
            svc(Sctp, "10.200.1.76", 3868, "nq"),
            vec![dest("10.10.1.2", 3868, Masq, 1)],
        ),
        (persistent(svc(Tcp, "10.200.1.76", 443, "wlc"), 360), vec![]),
        (
            masked(
                persistent(flagged(svc(Tcp, "2001:db8::1", 80, "sh"), all_sched), 100),
                Netmask::V6(64),
            ),
            vec![],
        ),
        (
            svc(Udp, "2001:db8::1", 53, "wrr"),
            vec![
                dest("2001:db8:ffff:ffff:ffff:ffff:ffff:fffe", 53, Masq, 1),
                dest("2001:db8::10", 5353, Masq, 5),
            ],
        ),
        (
            with_pe(persistent(svc(Udp, "10.200.1.76", 5060, "rr"), 60), "sip"),
            vec![],
        ),
        (svc(Tcp, "1.2.3.4", 80, "sed"), vec![]),
        (
            svc(Tcp, "127.0.0.1", 80, "ovf"),
            vec![dest("127.0.0.1", 80, Route, 1)],
        ),
        (svc(Tcp, "200.1.1.1", 80, "fo"), vec![]),
        (
            svc(Tcp, "10.200.1.76", 9000, "rr"),
            vec![
                dest("10.10.3.2", 9000, Masq, 0),
                dest("10.10.2.2", 80, Masq, 3),
                dest("10.10.1.2", 80, Masq, 1),
            ],
        ),
        (
            masked(
                persistent(svc(Tcp, "10.200.1.76", 0, "lc"), 600),
                Netmask::V4(Ipv4Addr::new(255, 255, 255, 0)),
            ),
            vec![],
        ),
        (
            flagged(svc(Udp, "10.200.1.76", 53, "wrr"), ServiceFlags::ONEPACKET),
            vec![dest("10.10.1.2", 53, Masq, 1)],
        ),
        (svc(Tcp, "10.200.1.76", 8001, "lblc"), vec![]),
        (
            flagged(
                svc(Tcp, "10.200.1.76", 8000, "rr"),
                ServiceFlags::SCHED1 | ServiceFlags::SCHED3,
            ),
            vec![],
        ),
        (svc(Tcp, "10.200.1.76", 8002, "lblcr"), vec![]),
        (
            svc(Tcp, "10.200.1.76", 80, "wlc"),
            vec![
                dest("192.168.100.100", 80, Route, 2),
                tunnel("10.10.2.2", 80, TunnelType::Ipip, 0, 0),
                dest("10.10.1.2", 80, Route, 1),
            ],
        ),
        (svc(Tcp, "192.168.100.100", 80, "dh"), vec![]),
        (fwm(u32::MAX, Family::Inet, "rr"), vec![]),
        (
            fwm(1, Family::Inet, "rr"),
            vec![
                dest("10.10.2.2", 0, Route, 1),
                dest("10.10.1.2", 80, Masq, 1),
            ],
        ),
        (
            flagged(fwm(2, Family::Inet6, "mh"), ServiceFlags::SCHED2),
            vec![dest("2001:db8::10", 0, Route, 1)],
        ),
    ]
}

/// The `/etc/hosts` and `/etc/services` of the spec's captures.
pub(crate) fn reference_names() -> FakeResolver {
    FakeResolver::new()
        .with_host(ip("127.0.0.1"), "localhost")
        .with_host(ip("10.10.1.2"), "rs1.example.com")
        .with_host(ip("10.10.2.2"), "rs2")
        .with_host(ip("10.200.1.76"), "vip.example.com")
        .with_host(
            ip("192.168.100.100"),
            "a-very-long-hostname-for-truncation-testing.example.org",
        )
        .with_host(ip("2001:db8::1"), "vip6.example.com")
        .with_host(ip("2001:db8::10"), "rs6.example.com")
        .with_service(80, "tcp", "http")
        .with_service(443, "tcp", "https")
        .with_service(8080, "tcp", "http-alt")
        .with_service(53, "tcp", "domain")
        .with_service(53, "udp", "domain")
        .with_service(5060, "tcp", "sip")
        .with_service(5060, "udp", "sip")
        .with_service(5353, "udp", "mdns")
}

pub(crate) fn info() -> Info {
    Info {
        version: 0x010201,
        conn_tab_size: 4096,
    }
}

/// `list_all`: header, sort (unless `--nosort`), title, entries.
pub(crate) fn list_all(
    table: &[(Service, Vec<Dest>)],
    fmt: &ListFormat,
    names: &dyn NameResolver,
) -> String {
    let mut out = Vec::new();
    let _ = write_table_header(&mut out, &info());
    out.extend(list_entries(table, fmt, names).into_bytes());
    String::from_utf8_lossy(&out).into_owned()
}

/// Title and entries without the version header (`-L <service>` when the
/// table holds one service).
pub(crate) fn list_entries(
    table: &[(Service, Vec<Dest>)],
    fmt: &ListFormat,
    names: &dyn NameResolver,
) -> String {
    let mut out = Vec::new();
    let mut services: Vec<Service> = table.iter().map(|(s, _)| s.clone()).collect();
    if !fmt.nosort {
        sort_services(&mut services);
    }
    let _ = write_title(&mut out, fmt);
    for service in &services {
        let dests = table
            .iter()
            .find(|(s, _)| s == service)
            .map(|(_, d)| d.as_slice())
            .unwrap_or(&[]);
        let _ = write_service_entry(&mut out, service, dests, fmt, names);
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub(crate) fn numeric() -> ListFormat {
    ListFormat {
        numeric: true,
        ..ListFormat::default()
    }
}

pub(crate) fn entries(table: &[(Service, Vec<Dest>)]) -> Vec<crate::model::ServiceEntry> {
    table
        .iter()
        .map(|(service, dests)| crate::model::ServiceEntry {
            service: service.clone(),
            dests: dests.clone(),
        })
        .collect()
}
