//! A table built in memory for the benchmarks: services with real servers,
//! as a busy load balancer has them.

use std::net::{IpAddr, Ipv4Addr};

use ipvsadm_rs::model::{
    Dest, Family, FwdMethod, Netmask, Protocol, Service, ServiceAddr, ServiceEntry,
    ServiceFlags, ServiceId, ShortName, Stats, TunnelFlags, TunnelType,
};

/// Counters with every digit count, so formatting is not trivially short.
fn stats(seed: u64) -> Stats {
    Stats {
        conns: seed * 7,
        inpkts: seed * 1_234,
        outpkts: seed * 987,
        inbytes: seed * 1_234_567,
        outbytes: seed * 7_654_321,
        cps: seed % 100,
        inpps: seed % 1_000,
        outpps: seed % 900,
        inbps: seed * 31,
        outbps: seed * 29,
    }
}

pub fn service(index: u32) -> Service {
    let addr = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + index));
    Service {
        id: ServiceId {
            family: Family::Inet,
            addr: ServiceAddr::Inet {
                protocol: if index % 2 == 0 {
                    Protocol::Tcp
                } else {
                    Protocol::Udp
                },
                addr,
                port: 80 + (index % 3) as u16,
            },
        },
        scheduler: ShortName::literal("wlc"),
        pe_name: None,
        flags: ServiceFlags::empty(),
        timeout: 0,
        netmask: Netmask::default_for(Family::Inet),
        stats: stats(u64::from(index) + 1),
    }
}

pub fn dest(service_index: u32, index: u32) -> Dest {
    let addr = IpAddr::V4(Ipv4Addr::from(0xac10_0000 + service_index * 16 + index));
    Dest {
        family: Family::Inet,
        addr,
        port: 8080,
        fwd: FwdMethod::Masq,
        weight: 1 + (index % 5) as i32,
        u_threshold: 0,
        l_threshold: 0,
        active_conns: index * 3,
        inact_conns: index * 11,
        persist_conns: 0,
        tun_type: TunnelType::Ipip,
        tun_port: 0,
        tun_flags: TunnelFlags::empty(),
        stats: stats(u64::from(service_index * 16 + index) + 1),
    }
}

/// `services` services with `dests_per_service` real servers each.
pub fn table(services: u32, dests_per_service: u32) -> Vec<ServiceEntry> {
    (0..services)
        .map(|s| ServiceEntry {
            service: service(s),
            dests: (0..dests_per_service).map(|d| dest(s, d)).collect(),
        })
        .collect()
}
