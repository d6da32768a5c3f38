//! The hand-written listing document against `serde_json`'s rendering of
//! the schema's structs, byte for byte, over arbitrary tables.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use pretty_assertions::assert_eq;
use proptest::prelude::*;

use crate::model::{
    Dest, Family, FwdMethod, Info, Netmask, Protocol, Service, ServiceAddr, ServiceEntry,
    ServiceFlags, ServiceId, Stats, TunnelFlags, TunnelType,
};
use crate::render::json;

fn serde_bytes(info: &Info, entries: &[ServiceEntry], pretty: bool) -> String {
    let mut out = Vec::new();
    json::write(&mut out, &json::table(info, entries), pretty).expect("to memory");
    String::from_utf8(out).expect("JSON is UTF-8")
}

fn hand_bytes(info: &Info, entries: &[ServiceEntry], pretty: bool) -> String {
    let mut out = Vec::new();
    json::write_table(&mut out, info, entries, pretty);
    String::from_utf8(out).expect("JSON is UTF-8")
}

/// Counters of every size, `u64::MAX` included.
fn counter() -> impl Strategy<Value = u64> {
    prop_oneof![
        0..10u64,
        any::<u64>(),
        Just(u64::MAX),
        Just(u64::from(u32::MAX) + 1)
    ]
}

fn stats() -> impl Strategy<Value = Stats> {
    proptest::array::uniform10(counter()).prop_map(|c| Stats {
        conns: c[0],
        inpkts: c[1],
        outpkts: c[2],
        inbytes: c[3],
        outbytes: c[4],
        cps: c[5],
        inpps: c[6],
        outpps: c[7],
        inbps: c[8],
        outbps: c[9],
    })
}

fn addr() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<u32>().prop_map(|a| IpAddr::V4(Ipv4Addr::from(a))),
        any::<u128>().prop_map(|a| IpAddr::V6(Ipv6Addr::from(a))),
        // Runs of zeros, IPv4-mapped and -compatible forms.
        (any::<u32>(), 0..4u8).prop_map(|(v4, kind)| {
            let low = u128::from(v4);
            IpAddr::V6(Ipv6Addr::from(match kind {
                0 => low,
                1 => 0xffff_0000_0000 | low,
                2 => (0x2001_0db8 << 96) | (low & 0xffff),
                _ => 0,
            }))
        }),
    ]
}

/// Names that need escaping: quotes, backslashes, every control
/// character, DEL and non-ASCII.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("wlc".to_string()),
        Just("sh".to_string()),
        Just("mh".to_string()),
        Just(String::new()),
        "\\PC{0,12}",
        proptest::collection::vec(
            prop_oneof![
                0u32..0x20,
                Just(0x22),
                Just(0x5c),
                Just(0x7f),
                0x20u32..0x3000
            ],
            0..12,
        )
        .prop_map(|cs| cs.into_iter().filter_map(char::from_u32).collect()),
    ]
}

fn protocol() -> impl Strategy<Value = Protocol> {
    any::<u16>().prop_map(Protocol::from_raw)
}

fn service() -> impl Strategy<Value = Service> {
    (
        (
            any::<bool>(),
            protocol(),
            addr(),
            any::<u16>(),
            any::<u32>(),
        ),
        name(),
        proptest::option::of(name()),
        any::<u32>(),
        any::<u32>(),
        (any::<bool>(), any::<u32>(), any::<u32>()),
        stats(),
    )
        .prop_map(
            |(
                (fwmark, protocol, addr, port, mark),
                scheduler,
                pe_name,
                flags,
                timeout,
                (v6_mask, mask, prefix),
                stats,
            )| {
                let family = Family::of(&addr);
                Service {
                    id: ServiceId {
                        family,
                        addr: if fwmark {
                            ServiceAddr::Fwmark(mark)
                        } else {
                            ServiceAddr::Inet {
                                protocol,
                                addr,
                                port,
                            }
                        },
                    },
                    scheduler,
                    pe_name,
                    flags: ServiceFlags::from_bits_retain(flags),
                    timeout,
                    netmask: if v6_mask {
                        Netmask::V6(prefix)
                    } else {
                        Netmask::V4(Ipv4Addr::from(mask))
                    },
                    stats,
                }
            },
        )
}

fn dest() -> impl Strategy<Value = Dest> {
    (
        (addr(), any::<u16>(), prop_oneof![0u32..6, any::<u32>()]),
        (any::<i32>(), any::<u32>(), any::<u32>()),
        (any::<u32>(), any::<u32>(), any::<u32>()),
        (any::<u8>(), any::<u16>(), any::<u16>()),
        stats(),
    )
        .prop_map(
            |(
                (addr, port, fwd),
                (weight, u_threshold, l_threshold),
                (active_conns, inact_conns, persist_conns),
                (tun_type, tun_port, tun_flags),
                stats,
            )| Dest {
                family: Family::of(&addr),
                addr,
                port,
                fwd: FwdMethod::from_raw(fwd),
                weight,
                u_threshold,
                l_threshold,
                active_conns,
                inact_conns,
                persist_conns,
                tun_type: TunnelType::from_raw(tun_type % 5),
                tun_port,
                tun_flags: TunnelFlags::from_bits_retain(tun_flags),
                stats,
            },
        )
}

fn table() -> impl Strategy<Value = Vec<ServiceEntry>> {
    proptest::collection::vec(
        (service(), proptest::collection::vec(dest(), 0..4))
            .prop_map(|(service, dests)| ServiceEntry { service, dests }),
        0..5,
    )
}

fn info() -> impl Strategy<Value = Info> {
    (any::<u32>(), any::<u32>()).prop_map(|(version, conn_tab_size)| Info {
        version,
        conn_tab_size,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn the_listing_document_is_serdes_byte_for_byte(
        info in info(),
        entries in table(),
        pretty in any::<bool>(),
    ) {
        prop_assert_eq!(
            hand_bytes(&info, &entries, pretty),
            serde_bytes(&info, &entries, pretty)
        );
    }

    #[test]
    fn strings_are_escaped_as_serde_escapes_them(text in name()) {
        let mut ours = Vec::new();
        super::push_string(&mut ours, &text);
        let theirs = serde_json::to_vec(&text).expect("to memory");
        prop_assert_eq!(ours, theirs);
    }
}

#[test]
fn an_empty_table_and_every_kind_of_object_match_serde() {
    let info = Info {
        version: 0x010201,
        conn_tab_size: 4096,
    };
    let v4 = |a: [u8; 4]| IpAddr::V4(Ipv4Addr::from(a));
    let service = Service {
        id: ServiceId {
            family: Family::Inet,
            addr: ServiceAddr::Inet {
                protocol: Protocol::Tcp,
                addr: v4([10, 0, 0, 1]),
                port: 80,
            },
        },
        scheduler: "sh".into(),
        pe_name: Some("sip".into()),
        flags: ServiceFlags::PERSISTENT | ServiceFlags::SCHED1 | ServiceFlags::SCHED3,
        timeout: 300,
        netmask: Netmask::default_for(Family::Inet),
        stats: Stats::default(),
    };
    let tunnel = Dest {
        family: Family::Inet,
        addr: v4([10, 0, 1, 1]),
        port: 80,
        fwd: FwdMethod::Tunnel,
        weight: -1,
        u_threshold: 0,
        l_threshold: 0,
        active_conns: 0,
        inact_conns: 0,
        persist_conns: 0,
        tun_type: TunnelType::Gue,
        tun_port: 6080,
        tun_flags: TunnelFlags::CSUM | TunnelFlags::REMCSUM,
        stats: Stats::default(),
    };
    let masq = Dest {
        fwd: FwdMethod::Masq,
        ..tunnel.clone()
    };
    for entries in [
        vec![],
        vec![ServiceEntry {
            service: service.clone(),
            dests: vec![],
        }],
        vec![
            ServiceEntry {
                service: service.clone(),
                dests: vec![tunnel, masq],
            },
            ServiceEntry {
                service,
                dests: vec![],
            },
        ],
    ] {
        for pretty in [false, true] {
            assert_eq!(
                hand_bytes(&info, &entries, pretty),
                serde_bytes(&info, &entries, pretty)
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn a_watch_tick_line_is_serdes_byte_for_byte(
        info in info(),
        before in table(),
        changes in proptest::collection::vec((any::<bool>(), 0..1_000_000u64), 32),
        added in table(),
        interval_ms in proptest::option::of(any::<u64>()),
        timestamp in name(),
    ) {
        use crate::watch::{TickHeader, RateTracker, WatchTick, write_tick};
        // The same table a tick later: counters up, some services and real
        // servers gone, others new.
        let mut change = changes.iter().cycle().copied();
        let mut next = move || change.next().unwrap_or((true, 0));
        let mut entries = Vec::new();
        for e in &before {
            if !next().0 {
                continue;
            }
            let mut e = e.clone();
            e.dests.retain(|_| next().0);
            for stats in std::iter::once(&mut e.service.stats)
                .chain(e.dests.iter_mut().map(|d| &mut d.stats))
            {
                let bump = next().1;
                stats.conns = stats.conns.saturating_add(bump);
                stats.inbytes = stats.inbytes.saturating_add(bump * 1500);
            }
            entries.push(e);
        }
        entries.extend(added);
        // The line streamed with one tracker; the deltas serde writes from
        // another's collected ones.
        let (mut streamed, mut collected) = (RateTracker::default(), RateTracker::default());
        let start = std::time::Instant::now();
        let later = start + std::time::Duration::from_millis(1500);
        let mut ours = Vec::new();
        let first = TickHeader { tick: 1, timestamp: &timestamp, interval_ms: None, info: &info };
        write_tick(&mut ours, first, &before, &mut streamed, start).expect("to memory");
        collected.update(&before, start);
        let deltas = collected.update(&entries, later);
        ours.clear();
        write_tick(
            &mut ours,
            TickHeader { tick: 2, timestamp: &timestamp, interval_ms, info: &info },
            &entries,
            &mut streamed,
            later,
        )
        .expect("to memory");
        let doc = WatchTick {
            schema_version: json::SCHEMA_VERSION,
            tick: 2,
            timestamp,
            interval_ms,
            ipvs: (&info).into(),
            services: entries.iter().map(json::JsonService::from).collect(),
            deltas,
        };
        let mut theirs = serde_json::to_vec(&doc).expect("to memory");
        theirs.push(b'\n');
        prop_assert_eq!(String::from_utf8(ours), String::from_utf8(theirs));
    }
}
