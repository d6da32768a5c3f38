//! The JSON view of IPVS state (`-j`, `--json`, `--format json`).
//!
//! # Schema (version 1)
//!
//! One document per run, compact on one line (indented with `--pretty`),
//! always an object with `"schema_version": 1` and one payload key:
//!
//! * table or single-service listing: `"ipvs"` (kernel IPVS `version`
//!   string, `version_code`, `conn_tab_size`) and `"services"`, an array of
//!   [`JsonService`] in the same order as the text listing (ipvsadm's sort,
//!   or kernel order with `--nosort`), each with its `"real_servers"`;
//! * `-c`: `"connections"`, an array of [`JsonConnection`];
//! * `--timeout`: `"timeouts"`, a [`JsonTimeouts`];
//! * `--daemon`: `"daemons"`, an array of [`JsonDaemon`].
//!
//! `--watch --json` writes one object per tick per line instead (NDJSON):
//! [`crate::watch::WatchTick`] for listings of services (the table
//! document plus `tick`, `timestamp`, `interval_ms` and the computed
//! `deltas`), and [`crate::watch::OtherTick`] for the others.
//!
//! Rules: keys are snake_case and named after the IPVS netlink attributes;
//! every key is present in every object (`null` when it does not apply);
//! counters, rates, ports, weights and timeouts are integers (64-bit,
//! never scaled with K/M/G); addresses are canonical strings (RFC 5952
//! for IPv6) with the port as a separate integer; flags are arrays of
//! names; no name resolution ever happens. The listing flags (`--stats`,
//! `--rate`, `--thresholds`, `--persistent-conn`, `--tun-info`, `--exact`,
//! `-n`) do not change the document: everything is always included.

use std::borrow::Cow;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::model::{
    Daemon, Dest, Family, FwdMethod, Info, Netmask, Protocol, Service, ServiceAddr,
    ServiceEntry, ServiceFlags, Stats, Timeouts, TunnelFlags, TunnelType,
};
use crate::output::conn::ConnEntry;

/// The current schema version. Bumped only for breaking changes.
pub const SCHEMA_VERSION: u32 = 1;

/// A listing of services (`-L`, `-L <service>`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonTable {
    pub schema_version: u32,
    pub ipvs: JsonInfo,
    pub services: Vec<JsonService>,
}

/// What the kernel says about its IPVS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonInfo {
    /// `"1.2.1"`
    pub version: String,
    /// The raw version, `major << 16 | minor << 8 | patch`.
    pub version_code: u32,
    /// Size of the connection hash table.
    pub conn_tab_size: u32,
}

/// A virtual service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonService {
    /// `"inet"` or `"inet6"`.
    pub af: Cow<'static, str>,
    /// `"tcp"`, `"udp"`, `"sctp"`, or `null` for fwmark services.
    pub protocol: Option<String>,
    /// Virtual address; `null` for fwmark services.
    pub addr: Option<String>,
    /// Virtual port; `null` for fwmark services.
    pub port: Option<u16>,
    /// Firewall mark; `null` for address-based services.
    pub fwmark: Option<u32>,
    /// Scheduler (`"none"` when the kernel has none).
    pub sched_name: String,
    /// Service flags by name: `persistent`, `hashed`, `one_packet`.
    pub flags: Vec<String>,
    /// Scheduler flags by the names `-b` takes (`sh-port`, `flag-1`, ...).
    pub sched_flags: Vec<String>,
    /// All flag bits as the kernel reported them.
    pub flags_raw: u32,
    /// Persistence timeout in seconds (0 when not persistent).
    pub timeout: u32,
    /// IPv4 persistence netmask (`"255.255.255.255"` by default); `null`
    /// for IPv6 services.
    pub netmask: Option<String>,
    /// IPv6 persistence prefix length (128 by default); `null` for IPv4.
    pub prefix_len: Option<u32>,
    /// Persistence engine, or `null`.
    pub pe_name: Option<String>,
    pub stats: JsonStats,
    pub rates: JsonRates,
    pub real_servers: Vec<JsonRealServer>,
}

/// A real server of a service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonRealServer {
    /// `"inet"` or `"inet6"` (may differ from the service's for tunnels).
    pub af: Cow<'static, str>,
    pub addr: String,
    pub port: u16,
    /// `"masq"`, `"local"`, `"tunnel"`, `"route"`, or `"bypass"`.
    pub fwd_method: Cow<'static, str>,
    /// The raw forwarding method number.
    pub fwd_method_raw: u32,
    pub weight: i32,
    pub u_threshold: u32,
    pub l_threshold: u32,
    pub active_conns: u32,
    pub inact_conns: u32,
    pub persist_conns: u32,
    /// `"ipip"`, `"gue"` or `"gre"` for tunnel servers, else `null`.
    pub tun_type: Option<String>,
    /// GUE port for tunnel servers, else `null`.
    pub tun_port: Option<u16>,
    /// Tunnel checksum flags by name (`csum`, `remcsum`; empty = none);
    /// `null` for servers that are not tunnels.
    pub tun_flags: Option<Vec<String>>,
    pub stats: JsonStats,
    pub rates: JsonRates,
}

/// Counters since the service was created or zeroed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonStats {
    pub conns: u64,
    pub inpkts: u64,
    pub outpkts: u64,
    pub inbytes: u64,
    pub outbytes: u64,
}

/// The kernel's rate estimates (per second, 2-second estimator).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonRates {
    pub cps: u64,
    pub inpps: u64,
    pub outpps: u64,
    pub inbps: u64,
    pub outbps: u64,
}

/// `--timeout` as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonTimeoutsDoc {
    pub schema_version: u32,
    pub timeouts: JsonTimeouts,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonTimeouts {
    pub tcp: u32,
    pub tcp_fin: u32,
    pub udp: u32,
}

/// `--daemon` as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonDaemonsDoc {
    pub schema_version: u32,
    pub daemons: Vec<JsonDaemon>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonDaemon {
    /// `"master"` or `"backup"`.
    pub state: String,
    pub mcast_ifn: String,
    pub syncid: u32,
    pub sync_maxlen: Option<u16>,
    pub mcast_group: Option<String>,
    pub mcast_port: Option<u16>,
    pub mcast_ttl: Option<u8>,
}

/// `-c` as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonConnectionsDoc {
    pub schema_version: u32,
    pub connections: Vec<JsonConnection>,
}

/// One entry of the kernel's connection table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonConnection {
    /// As the kernel names it: `"TCP"`, `"UDP"`, `"SCTP"`, ...
    pub protocol: String,
    pub client_addr: String,
    pub client_port: u16,
    pub virtual_addr: String,
    pub virtual_port: u16,
    pub dest_addr: String,
    pub dest_port: u16,
    /// Connection state as the kernel names it (`ESTABLISHED`, ...).
    pub state: String,
    /// Seconds until the entry expires.
    pub expires: u64,
    pub pe_name: Option<String>,
    pub pe_data: Option<String>,
}

// The schema's names, for these documents and for the hand-written
// listing (`json_writer`).

pub(crate) fn family_name(f: Family) -> &'static str {
    match f {
        Family::Inet => "inet",
        Family::Inet6 => "inet6",
    }
}

/// `None` for protocols without a name: they are written as the number.
pub(crate) fn protocol_name(p: Protocol) -> Option<&'static str> {
    match p {
        Protocol::Tcp => Some("tcp"),
        Protocol::Udp => Some("udp"),
        Protocol::Sctp => Some("sctp"),
        Protocol::Other(_) => None,
    }
}

pub(crate) fn fwd_method_name(f: FwdMethod) -> &'static str {
    match f {
        FwdMethod::Masq => "masq",
        FwdMethod::Local => "local",
        FwdMethod::Tunnel => "tunnel",
        FwdMethod::Route => "route",
        FwdMethod::Other(4) => "bypass",
        FwdMethod::Other(_) => "unknown",
    }
}

/// `None` for tunnel types without a name: they are written as the number.
pub(crate) fn tun_type_name(t: TunnelType) -> Option<&'static str> {
    match t {
        TunnelType::Ipip => Some("ipip"),
        TunnelType::Gue => Some("gue"),
        TunnelType::Gre => Some("gre"),
        TunnelType::Other(_) => None,
    }
}

/// `"flags"` of a service, in this order.
pub(crate) const SERVICE_FLAG_NAMES: [(ServiceFlags, &str); 3] = [
    (ServiceFlags::PERSISTENT, "persistent"),
    (ServiceFlags::HASHED, "hashed"),
    (ServiceFlags::ONEPACKET, "one_packet"),
];

/// `"tun_flags"` of a tunnel real server, in this order.
pub(crate) const TUNNEL_FLAG_NAMES: [(TunnelFlags, &str); 2] = [
    (TunnelFlags::CSUM, "csum"),
    (TunnelFlags::REMCSUM, "remcsum"),
];

fn addr_string(a: &IpAddr) -> String {
    a.to_string()
}

impl From<&Stats> for JsonStats {
    fn from(s: &Stats) -> Self {
        JsonStats {
            conns: s.conns,
            inpkts: s.inpkts,
            outpkts: s.outpkts,
            inbytes: s.inbytes,
            outbytes: s.outbytes,
        }
    }
}

impl From<&Stats> for JsonRates {
    fn from(s: &Stats) -> Self {
        JsonRates {
            cps: s.cps,
            inpps: s.inpps,
            outpps: s.outpps,
            inbps: s.inbps,
            outbps: s.outbps,
        }
    }
}

impl From<&Info> for JsonInfo {
    fn from(info: &Info) -> Self {
        let (a, b, c) = info.version_triple();
        JsonInfo {
            version: format!("{a}.{b}.{c}"),
            version_code: info.version,
            conn_tab_size: info.conn_tab_size,
        }
    }
}

/// Scheduler flag names as `-b` accepts them, per scheduler (ipvsadm's
/// display rules: `sh`/`mh` have their own names and no third flag).
pub fn sched_flag_names(scheduler: &str, flags: ServiceFlags) -> Vec<String> {
    sched_flag_name_iter(scheduler, flags)
        .map(str::to_string)
        .collect()
}

/// [`sched_flag_names`] without allocating.
pub(crate) fn sched_flag_name_iter(
    scheduler: &str,
    flags: ServiceFlags,
) -> impl Iterator<Item = &'static str> {
    let names: [Option<&'static str>; 3] = match scheduler {
        "sh" => [Some("sh-fallback"), Some("sh-port"), None],
        "mh" => [Some("mh-fallback"), Some("mh-port"), None],
        _ => [Some("flag-1"), Some("flag-2"), Some("flag-3")],
    };
    [
        ServiceFlags::SCHED1,
        ServiceFlags::SCHED2,
        ServiceFlags::SCHED3,
    ]
    .into_iter()
    .zip(names)
    .filter(move |(bit, _)| flags.contains(*bit))
    .filter_map(|(_, name)| name)
}

impl From<&Service> for JsonService {
    fn from(s: &Service) -> Self {
        let (protocol, addr, port, fwmark) = match s.id.addr {
            ServiceAddr::Inet {
                protocol,
                addr,
                port,
            } => (
                Some(
                    protocol_name(protocol)
                        .map_or_else(|| protocol.raw().to_string(), str::to_string),
                ),
                Some(addr_string(&addr)),
                Some(port),
                None,
            ),
            ServiceAddr::Fwmark(m) => (None, None, None, Some(m)),
        };
        let flags = SERVICE_FLAG_NAMES
            .into_iter()
            .filter(|(bit, _)| s.flags.contains(*bit))
            .map(|(_, name)| name.to_string())
            .collect();
        let (netmask, prefix_len) = match s.netmask {
            Netmask::V4(m) => (Some(m.to_string()), None),
            Netmask::V6(p) => (None, Some(p)),
        };
        JsonService {
            af: Cow::Borrowed(family_name(s.id.family)),
            protocol,
            addr,
            port,
            fwmark,
            sched_name: s.scheduler.clone(),
            flags,
            sched_flags: sched_flag_names(&s.scheduler, s.flags),
            flags_raw: s.flags.bits(),
            timeout: s.timeout,
            netmask,
            prefix_len,
            pe_name: s.pe_name.clone(),
            stats: (&s.stats).into(),
            rates: (&s.stats).into(),
            real_servers: Vec::new(),
        }
    }
}

impl From<&Dest> for JsonRealServer {
    fn from(d: &Dest) -> Self {
        let tunnel = d.fwd == FwdMethod::Tunnel;
        let tun_type = tunnel.then(|| {
            tun_type_name(d.tun_type)
                .map_or_else(|| d.tun_type.raw().to_string(), str::to_string)
        });
        let tun_flags = tunnel.then(|| {
            TUNNEL_FLAG_NAMES
                .into_iter()
                .filter(|(bit, _)| d.tun_flags.contains(*bit))
                .map(|(_, name)| name.to_string())
                .collect()
        });
        JsonRealServer {
            af: Cow::Borrowed(family_name(d.family)),
            addr: addr_string(&d.addr),
            port: d.port,
            fwd_method: Cow::Borrowed(fwd_method_name(d.fwd)),
            fwd_method_raw: d.fwd.raw(),
            weight: d.weight,
            u_threshold: d.u_threshold,
            l_threshold: d.l_threshold,
            active_conns: d.active_conns,
            inact_conns: d.inact_conns,
            persist_conns: d.persist_conns,
            tun_type,
            tun_port: (tunnel && d.tun_type == TunnelType::Gue).then_some(d.tun_port),
            tun_flags,
            stats: (&d.stats).into(),
            rates: (&d.stats).into(),
        }
    }
}

impl From<&ServiceEntry> for JsonService {
    fn from(e: &ServiceEntry) -> Self {
        let mut s = JsonService::from(&e.service);
        s.real_servers = e.dests.iter().map(JsonRealServer::from).collect();
        s
    }
}

/// The document for a listing of services.
pub fn table(info: &Info, entries: &[ServiceEntry]) -> JsonTable {
    JsonTable {
        schema_version: SCHEMA_VERSION,
        ipvs: info.into(),
        services: entries.iter().map(JsonService::from).collect(),
    }
}

pub fn timeouts(t: &Timeouts) -> JsonTimeoutsDoc {
    JsonTimeoutsDoc {
        schema_version: SCHEMA_VERSION,
        timeouts: JsonTimeouts {
            tcp: t.tcp,
            tcp_fin: t.tcp_fin,
            udp: t.udp,
        },
    }
}

pub fn daemons(ds: &[Daemon]) -> JsonDaemonsDoc {
    JsonDaemonsDoc {
        schema_version: SCHEMA_VERSION,
        daemons: ds
            .iter()
            .map(|d| JsonDaemon {
                state: d.state.name().to_string(),
                mcast_ifn: d.mcast_ifn.clone(),
                syncid: d.syncid,
                sync_maxlen: d.sync_maxlen,
                mcast_group: d.mcast_group.as_ref().map(addr_string),
                mcast_port: d.mcast_port,
                mcast_ttl: d.mcast_ttl,
            })
            .collect(),
    }
}

/// Writes `doc` as one line (or indented with `pretty`), then a newline.
pub fn write<T: Serialize>(
    out: &mut dyn std::io::Write,
    doc: &T,
    pretty: bool,
) -> std::io::Result<()> {
    if pretty {
        serde_json::to_writer_pretty(&mut *out, doc)?;
    } else {
        serde_json::to_writer(&mut *out, doc)?;
    }
    out.write_all(b"\n")
}

/// The connection table (`/proc/net/ip_vs_conn`) as a document.
pub fn connections(entries: &[ConnEntry]) -> JsonConnectionsDoc {
    JsonConnectionsDoc {
        schema_version: SCHEMA_VERSION,
        connections: entries
            .iter()
            .map(|c| JsonConnection {
                protocol: c.protocol.clone(),
                client_addr: addr_string(&c.client_addr),
                client_port: c.client_port,
                virtual_addr: addr_string(&c.virtual_addr),
                virtual_port: c.virtual_port,
                dest_addr: addr_string(&c.dest_addr),
                dest_port: c.dest_port,
                state: c.state.clone(),
                expires: u64::from(c.expires),
                pe_name: c.pe_name.clone(),
                pe_data: c.pe_data.clone(),
            })
            .collect(),
    }
}

/// The listing document of `entries` (real servers already in listing
/// order) appended to `out`, newline included: the bytes
/// `write(out, &table(info, entries), pretty)` writes, built without the
/// intermediate structs.
pub fn write_table(
    out: &mut Vec<u8>,
    info: &Info,
    entries: &[ServiceEntry],
    pretty: bool,
) {
    let mut doc = super::json_writer::JsonWriter::new(std::mem::take(out), pretty);
    doc.begin_table(info);
    for e in entries {
        doc.service(&e.service, &e.dests);
    }
    doc.end_table();
    *out = doc.buf;
}
