use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;

use super::*;
use crate::backend::IpvsBackend;
use crate::fake::FakeIpvs;
use crate::model::{
    Family, Netmask, Protocol, ServiceAddr, ShortName, Stats, TunnelFlags, TunnelType,
};

/// What the kernel does not use, cleared: the flag it adds itself, the
/// persistence settings of a service without persistence, the tunnel
/// settings of a server that is no tunnel, counters. Two tables are the
/// same table when their normal forms are equal.
pub(crate) fn normal(table: &[ServiceEntry]) -> Vec<(Service, Vec<Dest>)> {
    let mut out: Vec<(Service, Vec<Dest>)> = table
        .iter()
        .map(|e| {
            let mut s = e.service.clone();
            s.flags -= ServiceFlags::HASHED;
            if !s.flags.contains(ServiceFlags::PERSISTENT) {
                s.timeout = 0;
                s.netmask = Netmask::default_for(s.id.family);
            }
            s.stats = Stats::default();
            let mut dests: Vec<Dest> = e
                .dests
                .iter()
                .map(|d| {
                    let mut d = d.clone();
                    if d.fwd != FwdMethod::Tunnel {
                        d.tun_type = TunnelType::default();
                        d.tun_flags = TunnelFlags::empty();
                    }
                    if d.fwd != FwdMethod::Tunnel || d.tun_type != TunnelType::Gue {
                        d.tun_port = 0;
                    }
                    d.stats = Stats::default();
                    d.active_conns = 0;
                    d.inact_conns = 0;
                    d.persist_conns = 0;
                    d
                })
                .collect();
            dests.sort_by_key(|d| (d.addr, d.port));
            (s, dests)
        })
        .collect();
    out.sort_by_key(|(s, _)| format!("{:?}", s.id));
    out
}

fn ids() -> Vec<ServiceId> {
    let inet = |protocol, addr: IpAddr, port| ServiceId {
        family: Family::of(&addr),
        addr: ServiceAddr::Inet {
            protocol,
            addr,
            port,
        },
    };
    vec![
        inet(Protocol::Tcp, Ipv4Addr::new(10, 0, 0, 1).into(), 80),
        inet(Protocol::Tcp, Ipv4Addr::new(10, 0, 0, 1).into(), 443),
        inet(Protocol::Udp, Ipv4Addr::new(10, 0, 0, 2).into(), 53),
        inet(Protocol::Sctp, Ipv4Addr::new(10, 0, 0, 3).into(), 5060),
        inet(
            Protocol::Tcp,
            "2001:db8::1".parse::<Ipv6Addr>().unwrap().into(),
            80,
        ),
        ServiceId {
            family: Family::Inet,
            addr: ServiceAddr::Fwmark(7),
        },
        ServiceId {
            family: Family::Inet6,
            addr: ServiceAddr::Fwmark(8),
        },
    ]
}

fn service(id: ServiceId) -> impl Strategy<Value = Service> {
    (
        prop::sample::select(vec!["rr", "wrr", "wlc", "sh", "mh"]),
        any::<bool>(),
        prop::sample::select(vec![60u32, 300, 360]),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            move |(sched, persistent, timeout, mask, ops, sched1, hashed)| {
                let mut flags = ServiceFlags::empty();
                flags.set(ServiceFlags::PERSISTENT, persistent);
                flags.set(ServiceFlags::ONEPACKET, ops);
                flags.set(ServiceFlags::SCHED1, sched1);
                flags.set(ServiceFlags::HASHED, hashed);
                let netmask = match (id.family, mask) {
                    (_, false) => Netmask::default_for(id.family),
                    (Family::Inet, true) => Netmask::V4(Ipv4Addr::new(255, 255, 255, 0)),
                    (Family::Inet6, true) => Netmask::V6(64),
                };
                Service {
                    id,
                    scheduler: ShortName::literal(sched),
                    pe_name: None,
                    flags,
                    timeout: if persistent { timeout } else { 0 },
                    netmask,
                    stats: Stats {
                        conns: 5,
                        ..Stats::default()
                    },
                }
            },
        )
}

fn dest(family: Family, host: u8) -> impl Strategy<Value = Dest> {
    let addr: IpAddr = match family {
        Family::Inet => Ipv4Addr::new(10, 0, 1, host).into(),
        Family::Inet6 => Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, host.into()).into(),
    };
    (
        prop::sample::select(vec![FwdMethod::Masq, FwdMethod::Route, FwdMethod::Tunnel]),
        0i32..4,
        0u32..3,
        prop::sample::select(vec![TunnelType::Ipip, TunnelType::Gue, TunnelType::Gre]),
        any::<bool>(),
    )
        .prop_map(move |(fwd, weight, threshold, tun_type, csum)| Dest {
            family,
            addr,
            port: 80,
            fwd,
            weight,
            u_threshold: threshold * 10,
            l_threshold: threshold,
            active_conns: 1,
            inact_conns: 0,
            persist_conns: 0,
            tun_type: if fwd == FwdMethod::Tunnel {
                tun_type
            } else {
                TunnelType::Ipip
            },
            tun_port: if fwd == FwdMethod::Tunnel && tun_type == TunnelType::Gue {
                6080
            } else {
                0
            },
            tun_flags: if csum && fwd == FwdMethod::Tunnel {
                TunnelFlags::CSUM
            } else {
                TunnelFlags::empty()
            },
            stats: Stats {
                conns: 3,
                ..Stats::default()
            },
        })
}

/// A table over a small universe of services and real servers, so that
/// two tables share some of them.
pub(crate) fn table() -> impl Strategy<Value = Vec<ServiceEntry>> {
    prop::sample::subsequence(ids(), 0..=ids().len())
        .prop_flat_map(|chosen| {
            chosen
                .into_iter()
                .map(|id| {
                    let hosts = prop::sample::subsequence(vec![1u8, 2, 3, 4], 0..=4);
                    (service(id), hosts).prop_flat_map(move |(svc, hosts)| {
                        let family = svc.id.family;
                        let dests: Vec<_> =
                            hosts.into_iter().map(|h| dest(family, h)).collect();
                        (Just(svc), dests)
                            .prop_map(|(service, dests)| ServiceEntry { service, dests })
                    })
                })
                .collect::<Vec<_>>()
        })
        .prop_shuffle()
}

pub(crate) fn fake_of(table: &[ServiceEntry]) -> FakeIpvs {
    FakeIpvs {
        services: table
            .iter()
            .map(|e| (e.service.clone(), e.dests.clone()))
            .collect(),
        ..FakeIpvs::default()
    }
}

fn read(fake: &mut FakeIpvs) -> Vec<ServiceEntry> {
    crate::listing::read_table(fake, true).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Applying the plan to the current table gives the desired table, and
    /// then there is nothing left to do.
    #[test]
    fn the_plan_makes_the_table_the_desired_one(
        current in table(),
        desired in table(),
    ) {
        let mut fake = fake_of(&current);
        let steps = plan(&current, &desired);
        let changes: Vec<Change> = steps.iter().map(Step::change).collect();
        for (change, result) in changes.iter().zip(fake.apply(&changes).unwrap()) {
            prop_assert!(result.is_ok(), "{change:?}: {result:?}");
        }
        let after = read(&mut fake);
        prop_assert_eq!(normal(&after), normal(&desired));
        prop_assert_eq!(plan(&after, &desired), Vec::new());
    }

    /// Equal tables: nothing to do.
    #[test]
    fn equal_tables_give_an_empty_plan(t in table()) {
        prop_assert_eq!(plan(&t, &t), Vec::new());
    }

    /// What both tables have is edited, never deleted and added again:
    /// each service and each real server is touched by one step at most,
    /// and a service both have keeps its counters, as do its real
    /// servers both have.
    #[test]
    fn what_both_have_is_edited_in_place(current in table(), desired in table()) {
        let steps = plan(&current, &desired);
        let mut services = std::collections::HashSet::new();
        let mut dests = std::collections::HashSet::new();
        for step in &steps {
            match step {
                Step::AddService(s) | Step::DelService(s) | Step::EditService { after: s, .. } => {
                    prop_assert!(services.insert(s.id), "{step:?}");
                }
                Step::AddDest(s, d) | Step::DelDest(s, d)
                | Step::EditDest { service: s, after: d, .. } => {
                    prop_assert!(dests.insert((s.id, dest_key(d))), "{step:?}");
                }
            }
        }
        let mut fake = fake_of(&current);
        let changes: Vec<Change> = steps.iter().map(Step::change).collect();
        fake.apply(&changes).unwrap();
        let after = read(&mut fake);
        for e in &after {
            if let Some(old) = current.iter().find(|c| c.service.id == e.service.id) {
                prop_assert_eq!(e.service.stats, old.service.stats);
                for d in &e.dests {
                    if let Some(od) = old.dests.iter().find(|o| dest_key(o) == dest_key(d)) {
                        prop_assert_eq!(d.stats, od.stats);
                    }
                }
            }
        }
    }

    /// Order protects traffic: in a service, every real server added comes
    /// before any deleted; services are deleted after every other step.
    #[test]
    fn adds_come_before_deletes(current in table(), desired in table()) {
        let steps = plan(&current, &desired);
        let first_service_delete = steps
            .iter()
            .position(|s| matches!(s, Step::DelService(_)))
            .unwrap_or(steps.len());
        prop_assert!(steps[first_service_delete..]
            .iter()
            .all(|s| matches!(s, Step::DelService(_))));
        for (i, step) in steps.iter().enumerate() {
            if let Step::DelDest(svc, _) = step {
                let later_add = steps[i..].iter().any(|s| {
                    matches!(s, Step::AddDest(s2, _) if s2.id == svc.id)
                });
                prop_assert!(!later_add, "{steps:#?}");
            }
        }
    }
}

#[test]
fn a_changed_setting_is_one_edit() {
    let id = ids()[0];
    let svc = Service {
        id,
        scheduler: ShortName::literal("wlc"),
        pe_name: None,
        flags: ServiceFlags::HASHED,
        timeout: 0,
        netmask: Netmask::default_for(Family::Inet),
        stats: Stats::default(),
    };
    let d = Dest {
        family: Family::Inet,
        addr: Ipv4Addr::new(10, 0, 1, 1).into(),
        port: 80,
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
        stats: Stats::default(),
    };
    let current = vec![ServiceEntry {
        service: svc.clone(),
        dests: vec![d.clone()],
    }];
    let mut desired = current.clone();
    desired[0].service.scheduler = ShortName::literal("rr");
    desired[0].service.flags = ServiceFlags::empty();
    desired[0].dests[0].weight = 5;
    let steps = plan(&current, &desired);
    assert_eq!(
        steps,
        vec![
            Step::EditService {
                before: svc.clone(),
                after: desired[0].service.clone()
            },
            Step::EditDest {
                service: desired[0].service.clone(),
                before: d.clone(),
                after: desired[0].dests[0].clone()
            },
        ]
    );
    // The kernel's HASHED flag and an unused timeout are no difference.
    let mut same = current.clone();
    same[0].service.flags = ServiceFlags::empty();
    same[0].service.timeout = 300;
    assert_eq!(plan(&current, &same), Vec::new());
}
