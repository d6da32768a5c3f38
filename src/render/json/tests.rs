//! The documents against the schema as documented (the module doc and
//! the structs' docs), stated as rules: every key present in the
//! documented order, the documented names, canonical addresses (RFC 5952,
//! as `Ipv6Addr`'s `Display` writes them), `null` where a key does not
//! apply, services in the order given. The expected document is built
//! here from the model values by those rules, as an [`Ordered`] value
//! that keeps key order, and `serde_json` prints it: the documents must be
//! those bytes, compact and `--pretty`, over arbitrary tables.

use std::fmt;

use crate::model::ShortName;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use pretty_assertions::assert_eq;
use proptest::prelude::*;
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Value, json};

use crate::model::{
    Daemon, DaemonState, Dest, Family, FwdMethod, Info, Netmask, Protocol, Service,
    ServiceAddr, ServiceEntry, ServiceFlags, ServiceId, Stats, Timeouts, TunnelFlags,
    TunnelType,
};
use crate::output::conn::ConnEntry;
use crate::render::json;

/// A JSON value whose objects keep their keys in order: what a document
/// is expected to be, and what one reads back as.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Ordered {
    Object(Vec<(String, Ordered)>),
    Array(Vec<Ordered>),
    /// A string, number, boolean or null.
    Scalar(Value),
}

/// An object from `(key, value)` pairs, in that order.
pub(crate) fn object<const N: usize>(members: [(&str, Ordered); N]) -> Ordered {
    Ordered::Object(
        members
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    )
}

pub(crate) fn scalar(v: impl Into<Value>) -> Ordered {
    Ordered::Scalar(v.into())
}

pub(crate) fn null() -> Ordered {
    Ordered::Scalar(Value::Null)
}

pub(crate) fn names(names: &[&str]) -> Ordered {
    Ordered::Array(names.iter().map(|n| scalar(*n)).collect())
}

impl Ordered {
    /// `self` with the keys of every object sorted by name.
    pub(crate) fn keys_sorted(self) -> Ordered {
        match self {
            Ordered::Object(mut members) => {
                members.sort_by(|a, b| a.0.cmp(&b.0));
                Ordered::Object(
                    members
                        .into_iter()
                        .map(|(k, v)| (k, v.keys_sorted()))
                        .collect(),
                )
            }
            Ordered::Array(items) => {
                Ordered::Array(items.into_iter().map(Ordered::keys_sorted).collect())
            }
            scalar => scalar,
        }
    }

    /// The bytes `serde_json` prints for this value, then a newline.
    pub(crate) fn printed(&self, pretty: bool) -> String {
        let text = if pretty {
            serde_json::to_string_pretty(self)
        } else {
            serde_json::to_string(self)
        };
        text.expect("a value prints") + "\n"
    }

    /// `text` read back, keys in the order written.
    pub(crate) fn parse(text: &str) -> Ordered {
        serde_json::from_str(text).expect("a document is JSON")
    }
}

impl Serialize for Ordered {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Ordered::Object(members) => {
                let mut map = serializer.serialize_map(Some(members.len()))?;
                for (k, v) in members {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
            Ordered::Array(items) => items.serialize(serializer),
            Ordered::Scalar(v) => v.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Ordered, D::Error> {
        struct OrderedVisitor;
        impl<'de> Visitor<'de> for OrderedVisitor {
            type Value = Ordered;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_bool<E>(self, v: bool) -> Result<Ordered, E> {
                Ok(scalar(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Ordered, E> {
                Ok(scalar(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Ordered, E> {
                Ok(scalar(v))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Ordered, E> {
                Ok(scalar(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<Ordered, E> {
                Ok(scalar(v))
            }
            fn visit_unit<E>(self) -> Result<Ordered, E> {
                Ok(null())
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Ordered, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Ordered::Array(items))
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Ordered, A::Error> {
                let mut members = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Ordered>()? {
                    members.push((k, v));
                }
                Ok(Ordered::Object(members))
            }
        }
        deserializer.deserialize_any(OrderedVisitor)
    }
}

// ------------------------------------------------- the schema, as rules

/// An address as the schema writes it: canonical text.
pub(crate) fn address(a: &IpAddr) -> Ordered {
    scalar(a.to_string())
}

fn family(f: Family) -> &'static str {
    match f {
        Family::Inet => "inet",
        Family::Inet6 => "inet6",
    }
}

fn stats_and_rates(s: &Stats) -> [(&'static str, Ordered); 2] {
    [
        (
            "stats",
            object([
                ("conns", scalar(s.conns)),
                ("inpkts", scalar(s.inpkts)),
                ("outpkts", scalar(s.outpkts)),
                ("inbytes", scalar(s.inbytes)),
                ("outbytes", scalar(s.outbytes)),
            ]),
        ),
        (
            "rates",
            object([
                ("cps", scalar(s.cps)),
                ("inpps", scalar(s.inpps)),
                ("outpps", scalar(s.outpps)),
                ("inbps", scalar(s.inbps)),
                ("outbps", scalar(s.outbps)),
            ]),
        ),
    ]
}

pub(crate) fn expected_info(info: &Info) -> Ordered {
    object([
        (
            "version",
            scalar(format!(
                "{}.{}.{}",
                info.version >> 16,
                (info.version >> 8) & 0xff,
                info.version & 0xff
            )),
        ),
        ("version_code", scalar(info.version)),
        ("conn_tab_size", scalar(info.conn_tab_size)),
    ])
}

/// `-b`'s names of the scheduler flags, per scheduler.
fn sched_flags(scheduler: &str, flags: ServiceFlags) -> Vec<&'static str> {
    let names = match scheduler {
        "sh" => ["sh-fallback", "sh-port", ""],
        "mh" => ["mh-fallback", "mh-port", ""],
        _ => ["flag-1", "flag-2", "flag-3"],
    };
    [
        ServiceFlags::SCHED1,
        ServiceFlags::SCHED2,
        ServiceFlags::SCHED3,
    ]
    .into_iter()
    .zip(names)
    .filter(|(bit, name)| flags.contains(*bit) && !name.is_empty())
    .map(|(_, name)| name)
    .collect()
}

fn expected_real_server(d: &Dest) -> Ordered {
    let tunnel = d.fwd == FwdMethod::Tunnel;
    let fwd_method = match d.fwd.raw() {
        0 => "masq",
        1 => "local",
        2 => "tunnel",
        3 => "route",
        4 => "bypass",
        _ => "unknown",
    };
    let tun_type = match d.tun_type.raw() {
        0 => "ipip".to_string(),
        1 => "gue".to_string(),
        2 => "gre".to_string(),
        n => n.to_string(),
    };
    let tun_flags: Vec<&str> = [
        (TunnelFlags::CSUM, "csum"),
        (TunnelFlags::REMCSUM, "remcsum"),
    ]
    .into_iter()
    .filter(|(bit, _)| d.tun_flags.contains(*bit))
    .map(|(_, name)| name)
    .collect();
    let [stats, rates] = stats_and_rates(&d.stats);
    object([
        ("af", scalar(family(d.family))),
        ("addr", address(&d.addr)),
        ("port", scalar(d.port)),
        ("fwd_method", scalar(fwd_method)),
        ("fwd_method_raw", scalar(d.fwd.raw())),
        ("weight", scalar(d.weight)),
        ("u_threshold", scalar(d.u_threshold)),
        ("l_threshold", scalar(d.l_threshold)),
        ("active_conns", scalar(d.active_conns)),
        ("inact_conns", scalar(d.inact_conns)),
        ("persist_conns", scalar(d.persist_conns)),
        ("tun_type", if tunnel { scalar(tun_type) } else { null() }),
        (
            "tun_port",
            if tunnel && d.tun_type == TunnelType::Gue {
                scalar(d.tun_port)
            } else {
                null()
            },
        ),
        ("tun_flags", if tunnel { names(&tun_flags) } else { null() }),
        stats,
        rates,
    ])
}

pub(crate) fn expected_service(e: &ServiceEntry) -> Ordered {
    let s = &e.service;
    let (protocol, addr, port, fwmark) = match s.id.addr {
        ServiceAddr::Inet {
            protocol,
            addr,
            port,
        } => {
            let name = match protocol.raw() {
                6 => "tcp".to_string(),
                17 => "udp".to_string(),
                132 => "sctp".to_string(),
                n => n.to_string(),
            };
            (scalar(name), address(&addr), scalar(port), null())
        }
        ServiceAddr::Fwmark(m) => (null(), null(), null(), scalar(m)),
    };
    let flags: Vec<&str> = [
        (ServiceFlags::PERSISTENT, "persistent"),
        (ServiceFlags::HASHED, "hashed"),
        (ServiceFlags::ONEPACKET, "one_packet"),
    ]
    .into_iter()
    .filter(|(bit, _)| s.flags.contains(*bit))
    .map(|(_, name)| name)
    .collect();
    let (netmask, prefix_len) = match s.netmask {
        Netmask::V4(m) => (address(&IpAddr::V4(m)), null()),
        Netmask::V6(p) => (null(), scalar(p)),
    };
    let [stats, rates] = stats_and_rates(&s.stats);
    object([
        ("af", scalar(family(s.id.family))),
        ("protocol", protocol),
        ("addr", addr),
        ("port", port),
        ("fwmark", fwmark),
        ("sched_name", scalar(s.scheduler.as_str())),
        ("flags", names(&flags)),
        ("sched_flags", names(&sched_flags(&s.scheduler, s.flags))),
        ("flags_raw", scalar(s.flags.bits())),
        ("timeout", scalar(s.timeout)),
        ("netmask", netmask),
        ("prefix_len", prefix_len),
        ("pe_name", s.pe_name.as_deref().map_or_else(null, scalar)),
        stats,
        rates,
        (
            "real_servers",
            Ordered::Array(e.dests.iter().map(expected_real_server).collect()),
        ),
    ])
}

fn expected_table(info: &Info, entries: &[ServiceEntry]) -> Ordered {
    object([
        ("schema_version", scalar(1)),
        ("ipvs", expected_info(info)),
        (
            "services",
            Ordered::Array(entries.iter().map(expected_service).collect()),
        ),
    ])
}

fn written_table(info: &Info, entries: &[ServiceEntry], pretty: bool) -> String {
    let mut out = Vec::new();
    json::serialize_into(&mut out, &json::table(info, entries), pretty)
        .expect("to memory");
    String::from_utf8(out).expect("JSON is UTF-8")
}

// ------------------------------------------------------ arbitrary tables

/// Counters of every size, `u64::MAX` included.
pub(crate) fn counter() -> impl Strategy<Value = u64> {
    prop_oneof![
        0..10u64,
        any::<u64>(),
        Just(u64::MAX),
        Just(u64::from(u32::MAX) + 1)
    ]
}

pub(crate) fn stats() -> impl Strategy<Value = Stats> {
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

pub(crate) fn addr() -> impl Strategy<Value = IpAddr> {
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
pub(crate) fn name() -> impl Strategy<Value = String> {
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

pub(crate) fn protocol() -> impl Strategy<Value = Protocol> {
    any::<u16>().prop_map(Protocol::from_raw)
}

pub(crate) fn service() -> impl Strategy<Value = Service> {
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
                    scheduler: ShortName::truncated(&scheduler, ShortName::CAPACITY),
                    pe_name: pe_name
                        .map(|pe| ShortName::truncated(&pe, ShortName::CAPACITY)),
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

pub(crate) fn dest() -> impl Strategy<Value = Dest> {
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

pub(crate) fn table() -> impl Strategy<Value = Vec<ServiceEntry>> {
    proptest::collection::vec(
        (service(), proptest::collection::vec(dest(), 0..4))
            .prop_map(|(service, dests)| ServiceEntry { service, dests }),
        0..5,
    )
}

pub(crate) fn info() -> impl Strategy<Value = Info> {
    (any::<u32>(), any::<u32>()).prop_map(|(version, conn_tab_size)| Info {
        version,
        conn_tab_size,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn the_listing_document_follows_the_schema(
        info in info(),
        entries in table(),
    ) {
        let expected = expected_table(&info, &entries);
        for pretty in [false, true] {
            let written = written_table(&info, &entries, pretty);
            prop_assert_eq!(Ordered::parse(&written), expected.clone());
            prop_assert_eq!(&written, &expected.printed(pretty));
        }
    }

    #[test]
    fn strings_read_back_as_they_were(text in name()) {
        // A name holds at most 16 bytes.
        let text = ShortName::truncated(&text, ShortName::CAPACITY);
        let service = ServiceEntry {
            service: Service {
                scheduler: text,
                pe_name: Some(text),
                ..plain_service()
            },
            dests: vec![],
        };
        let info = Info { version: 0, conn_tab_size: 0 };
        let doc: Value = serde_json::from_str(&written_table(&info, &[service], false))
            .expect("JSON");
        prop_assert_eq!(&doc["services"][0]["sched_name"], &json!(text.as_str()));
        prop_assert_eq!(&doc["services"][0]["pe_name"], &json!(text.as_str()));
    }
}

fn plain_service() -> Service {
    Service {
        id: ServiceId {
            family: Family::Inet,
            addr: ServiceAddr::Inet {
                protocol: Protocol::Tcp,
                addr: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
                port: 80,
            },
        },
        scheduler: ShortName::literal("sh"),
        pe_name: Some(ShortName::literal("sip")),
        flags: ServiceFlags::PERSISTENT | ServiceFlags::SCHED1 | ServiceFlags::SCHED3,
        timeout: 300,
        netmask: Netmask::default_for(Family::Inet),
        stats: Stats::default(),
    }
}

#[test]
fn an_empty_table_and_every_kind_of_object_follow_the_schema() {
    let info = Info {
        version: 0x010201,
        conn_tab_size: 4096,
    };
    let tunnel = Dest {
        family: Family::Inet,
        addr: IpAddr::V4(Ipv4Addr::new(10, 0, 1, 1)),
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
            service: plain_service(),
            dests: vec![],
        }],
        vec![
            ServiceEntry {
                service: plain_service(),
                dests: vec![tunnel, masq],
            },
            ServiceEntry {
                service: plain_service(),
                dests: vec![],
            },
        ],
    ] {
        let expected = expected_table(&info, &entries);
        for pretty in [false, true] {
            assert_eq!(
                written_table(&info, &entries, pretty),
                expected.printed(pretty)
            );
        }
    }
}

#[test]
fn the_documented_example_values() {
    let info = Info {
        version: 0x010201,
        conn_tab_size: 4096,
    };
    let mut gue = Dest {
        family: Family::Inet6,
        addr: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
        port: 80,
        fwd: FwdMethod::Tunnel,
        weight: 1,
        u_threshold: 0,
        l_threshold: 0,
        active_conns: 0,
        inact_conns: 0,
        persist_conns: 0,
        tun_type: TunnelType::Gue,
        tun_port: 6080,
        tun_flags: TunnelFlags::CSUM,
        stats: Stats::default(),
    };
    let entries = vec![ServiceEntry {
        service: Service {
            id: ServiceId {
                family: Family::Inet,
                addr: ServiceAddr::Inet {
                    protocol: Protocol::Other(50),
                    addr: IpAddr::V4(Ipv4Addr::new(192, 168, 100, 254)),
                    port: 443,
                },
            },
            ..plain_service()
        },
        dests: vec![gue.clone()],
    }];
    let doc: Value =
        serde_json::from_str(&written_table(&info, &entries, false)).expect("JSON");
    assert_eq!(doc["ipvs"]["version"], json!("1.2.1"));
    let service = &doc["services"][0];
    assert_eq!(service["protocol"], json!("50"));
    assert_eq!(service["addr"], json!("192.168.100.254"));
    assert_eq!(service["netmask"], json!("255.255.255.255"));
    assert_eq!(service["flags"], json!(["persistent"]));
    assert_eq!(service["sched_flags"], json!(["sh-fallback"]));
    let server = &service["real_servers"][0];
    assert_eq!(server["addr"], json!("2001:db8::1"));
    assert_eq!(server["fwd_method"], json!("tunnel"));
    assert_eq!(server["tun_type"], json!("gue"));
    assert_eq!(server["tun_port"], json!(6080));
    assert_eq!(server["tun_flags"], json!(["csum"]));
    gue.fwd = FwdMethod::Other(4);
    let bypass = ServiceEntry {
        dests: vec![gue],
        ..entries[0].clone()
    };
    let doc: Value =
        serde_json::from_str(&written_table(&info, &[bypass], false)).expect("JSON");
    let server = &doc["services"][0]["real_servers"][0];
    assert_eq!(server["fwd_method"], json!("bypass"));
    assert_eq!(server["tun_type"], Value::Null);
    assert_eq!(server["tun_flags"], Value::Null);
}

#[test]
fn timeouts_daemons_and_connections_follow_the_schema() {
    let t = Timeouts {
        tcp: 900,
        tcp_fin: 120,
        udp: 300,
    };
    let daemons = [
        Daemon {
            state: DaemonState::Master,
            mcast_ifn: "eth\"0".into(),
            syncid: 5,
            sync_maxlen: Some(1472),
            mcast_group: Some(IpAddr::V6(Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x51))),
            mcast_port: Some(8848),
            mcast_ttl: Some(1),
        },
        Daemon {
            state: DaemonState::Backup,
            mcast_ifn: "lo".into(),
            syncid: 0,
            sync_maxlen: None,
            mcast_group: None,
            mcast_port: None,
            mcast_ttl: None,
        },
    ];
    let conn = ConnEntry {
        protocol: "TCP".into(),
        client_addr: IpAddr::V4(Ipv4Addr::new(172, 16, 0, 2)),
        client_port: 35404,
        virtual_addr: IpAddr::V4(Ipv4Addr::new(10, 200, 1, 76)),
        virtual_port: 9000,
        dest_addr: IpAddr::V6(Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0x0a0a, 0x0102)),
        dest_port: 80,
        state: "TIME_WAIT".into(),
        expires: 59,
        pe_name: Some("sip".into()),
        pe_data: None,
    };
    let expected_timeouts = object([
        ("schema_version", scalar(1)),
        (
            "timeouts",
            object([
                ("tcp", scalar(900)),
                ("tcp_fin", scalar(120)),
                ("udp", scalar(300)),
            ]),
        ),
    ]);
    let expected_daemons = object([
        ("schema_version", scalar(1)),
        (
            "daemons",
            Ordered::Array(daemons.iter().map(expected_daemon).collect()),
        ),
    ]);
    let expected_connections = object([
        ("schema_version", scalar(1)),
        (
            "connections",
            Ordered::Array(vec![object([
                ("protocol", scalar("TCP")),
                ("client_addr", scalar("172.16.0.2")),
                ("client_port", scalar(35404)),
                ("virtual_addr", scalar("10.200.1.76")),
                ("virtual_port", scalar(9000)),
                ("dest_addr", scalar("::ffff:10.10.1.2")),
                ("dest_port", scalar(80)),
                ("state", scalar("TIME_WAIT")),
                ("expires", scalar(59)),
                ("pe_name", scalar("sip")),
                ("pe_data", null()),
            ])]),
        ),
    ]);
    for pretty in [false, true] {
        let written = |doc: &dyn erased::Doc| {
            let mut out = Vec::new();
            doc.write(&mut out, pretty);
            String::from_utf8(out).expect("UTF-8")
        };
        assert_eq!(
            written(&json::timeouts(&t)),
            expected_timeouts.printed(pretty)
        );
        assert_eq!(
            written(&json::daemons(&daemons)),
            expected_daemons.printed(pretty)
        );
        assert_eq!(
            written(&json::connections(std::slice::from_ref(&conn))),
            expected_connections.printed(pretty)
        );
    }
}

pub(crate) fn expected_daemon(d: &Daemon) -> Ordered {
    object([
        (
            "state",
            scalar(match d.state {
                DaemonState::Master => "master",
                DaemonState::Backup => "backup",
            }),
        ),
        ("mcast_ifn", scalar(d.mcast_ifn.as_str())),
        ("syncid", scalar(d.syncid)),
        ("sync_maxlen", d.sync_maxlen.map_or_else(null, scalar)),
        (
            "mcast_group",
            d.mcast_group.as_ref().map_or_else(null, address),
        ),
        ("mcast_port", d.mcast_port.map_or_else(null, scalar)),
        ("mcast_ttl", d.mcast_ttl.map_or_else(null, scalar)),
    ])
}

/// Documents of different types behind one reference.
mod erased {
    pub(super) trait Doc {
        fn write(&self, out: &mut Vec<u8>, pretty: bool);
    }

    impl<T: serde::Serialize> Doc for T {
        fn write(&self, out: &mut Vec<u8>, pretty: bool) {
            crate::render::json::write(out, self, pretty).expect("to memory");
        }
    }
}

#[test]
fn a_listing_stopped_part_way_has_written_whole_services() {
    let entries: Vec<ServiceEntry> = (0..3)
        .map(|_| ServiceEntry {
            service: plain_service(),
            dests: vec![],
        })
        .collect();
    let info = Info {
        version: 0x010201,
        conn_tab_size: 4096,
    };
    let listed = json::StreamedServices::new(|write_service| {
        write_service(&json::JsonService::from(&entries[0]))?;
        write_service(&json::JsonService::from(&entries[1]))?;
        // The kernel fails before the third.
        Err(json::Stopped)
    });
    let doc = json::JsonTable {
        schema_version: json::SCHEMA_VERSION,
        ipvs: (&info).into(),
        services: listed,
    };
    let mut out = Vec::new();
    assert!(json::serialize_into(&mut out, &doc, false).is_err());
    let whole = expected_table(&info, &entries[..2]).printed(false);
    // The document up to the end of the second service.
    assert_eq!(
        String::from_utf8(out).expect("UTF-8"),
        whole.trim_end_matches("]}\n")
    );
}

#[test]
fn large_documents_go_out_in_large_writes() {
    /// Counts the writes it is given.
    struct Writes(Vec<usize>);
    impl std::io::Write for Writes {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.push(bytes.len());
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let entries: Vec<ServiceEntry> = (0..2000)
        .map(|_| ServiceEntry {
            service: plain_service(),
            dests: vec![],
        })
        .collect();
    let info = Info {
        version: 0,
        conn_tab_size: 0,
    };
    let mut writes = Writes(Vec::new());
    json::write(&mut writes, &json::table(&info, &entries), false).expect("counted");
    let (last, chunks) = writes.0.split_last().expect("written");
    assert!(chunks.len() > 1, "{:?}", writes.0);
    assert!(
        chunks.iter().all(|&n| n >= json::JSON_CHUNK),
        "{:?}",
        writes.0
    );
    assert!(*last > 0);
    let total: usize = writes.0.iter().sum();
    assert_eq!(total, written_table(&info, &entries, false).len());
}

// ------------------------------------------------- the serializer itself

/// Arbitrary JSON: every kind of value, nested, with keys and strings
/// that need escaping.
fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        name().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            proptest::collection::vec((name(), inner), 0..6)
                .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them(text in name()) {
        let mut ours = Vec::new();
        super::ser::push_string(&mut ours, &text);
        prop_assert_eq!(ours, serde_json::to_vec(&text).expect("to memory"));
    }

    /// Names and addresses of any length go in whole, after what the
    /// buffer held (the copy in two overlapping pieces).
    #[test]
    fn plain_strings_are_written_as_serde_json_writes_them(
        before in "[a-z]{0,20}",
        text in "[a-zA-Z0-9.:_-]{0,40}",
    ) {
        let mut ours = before.clone().into_bytes();
        super::ser::push_plain_string(&mut ours, &text);
        let mut theirs = before.into_bytes();
        theirs.extend(serde_json::to_vec(&text).expect("to memory"));
        prop_assert_eq!(ours, theirs);
    }

    #[test]
    fn any_value_is_written_as_serde_json_writes_it(v in value(), pretty in any::<bool>()) {
        let mut ours = Vec::new();
        json::serialize_into(&mut ours, &v, pretty).expect("to memory");
        let theirs = if pretty {
            serde_json::to_string_pretty(&v)
        } else {
            serde_json::to_string(&v)
        };
        prop_assert_eq!(
            String::from_utf8(ours).expect("UTF-8"),
            theirs.expect("to memory") + "\n"
        );
    }
}
