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
//! `deltas`), and [`crate::watch::OtherTick`] for the others (the tick's
//! fields and the document's payload, keys sorted by name).
//!
//! Rules: keys are snake_case and named after the IPVS netlink attributes;
//! every key is present in every object (`null` when it does not apply);
//! counters, rates, ports, weights and timeouts are integers (64-bit,
//! never scaled with K/M/G); addresses are canonical strings (RFC 5952
//! for IPv6) with the port as a separate integer; flags are arrays of
//! names; no name resolution ever happens. The listing flags (`--stats`,
//! `--rate`, `--thresholds`, `--persistent-conn`, `--tun-info`, `--exact`,
//! `-n`) do not change the document: everything is always included.
//!
//! # One definition
//!
//! The structs below are the schema and what writes it: `serde` views that
//! borrow the model, with names from [`crate::name_table`] and addresses
//! written without a `String` of their own. `json::ser` serializes them as
//! `serde_json` would (compact, or `--pretty`'s two-space indentation),
//! straight into a buffer. A listing is serialized a service at a time as
//! the kernel is read ([`StreamedServices`]) and written a chunk at a time
//! ([`write_chunked`]), so a table of any size holds one service's real
//! servers.

use std::cell::Cell;
use std::fmt;
use std::io::{self, Write};
use std::net::IpAddr;

use serde::ser::{Error as _, SerializeSeq};
use serde::{Serialize, Serializer};

use crate::model::{
    Daemon, Dest, FwdMethod, Info, Netmask, Service, ServiceAddr, ServiceEntry, Stats,
    Timeouts, TunnelType,
};
use crate::output::conn::ConnEntry;

use crate::name_table;
pub use ser::Error;
use ser::JsonSerializer;

pub mod input;
pub mod plan;
mod ser;
mod values;

pub use values::{
    Addr, NameOrNumber, SchedFlagNames, SchemaName, ServiceFlagNames, TunnelFlagNames,
};

/// The current schema version. Bumped only for breaking changes.
pub const SCHEMA_VERSION: u32 = 1;

/// How much of a document is gathered before it is written.
pub(crate) const JSON_CHUNK: usize = 256 * 1024;

/// A listing of services (`-L`, `-L <service>`). `services` is a sequence
/// of [`JsonService`]: [`ServiceList`] over a table in memory, or
/// [`StreamedServices`] as the kernel is read.
#[derive(Serialize)]
pub struct JsonTable<S> {
    pub schema_version: u32,
    pub ipvs: JsonInfo,
    pub services: S,
}

/// What the kernel says about its IPVS.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct JsonInfo {
    /// `"1.2.1"`
    pub version: VersionText,
    /// The raw version, `major << 16 | minor << 8 | patch`.
    pub version_code: u32,
    /// Size of the connection hash table.
    pub conn_tab_size: u32,
}

/// An IPVS version as `"major.minor.patch"`.
#[derive(Debug, Clone, Copy)]
pub struct VersionText(u32, u32, u32);

impl fmt::Display for VersionText {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

impl Serialize for VersionText {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A virtual service.
#[derive(Serialize)]
pub struct JsonService<'a> {
    /// `"inet"` or `"inet6"`.
    pub af: SchemaName,
    /// `"tcp"`, `"udp"`, `"sctp"` (other protocols by number, `"50"`), or
    /// `null` for fwmark services.
    pub protocol: Option<NameOrNumber>,
    /// Virtual address; `null` for fwmark services.
    pub addr: Option<Addr>,
    /// Virtual port; `null` for fwmark services.
    pub port: Option<u16>,
    /// Firewall mark; `null` for address-based services.
    pub fwmark: Option<u32>,
    /// Scheduler (`"none"` when the kernel has none).
    pub sched_name: &'a str,
    /// Service flags by name: `persistent`, `hashed`, `one_packet`.
    pub flags: ServiceFlagNames,
    /// Scheduler flags by the names `-b` takes (`sh-port`, `flag-1`, ...).
    pub sched_flags: SchedFlagNames<'a>,
    /// All flag bits as the kernel reported them.
    pub flags_raw: u32,
    /// Persistence timeout in seconds (0 when not persistent).
    pub timeout: u32,
    /// IPv4 persistence netmask (`"255.255.255.255"` by default); `null`
    /// for IPv6 services.
    pub netmask: Option<Addr>,
    /// IPv6 persistence prefix length (128 by default); `null` for IPv4.
    pub prefix_len: Option<u32>,
    /// Persistence engine, or `null`.
    pub pe_name: Option<&'a str>,
    pub stats: JsonStats,
    pub rates: JsonRates,
    pub real_servers: RealServers<'a>,
}

/// A real server of a service.
#[derive(Serialize)]
pub struct JsonRealServer {
    /// `"inet"` or `"inet6"` (may differ from the service's for tunnels).
    pub af: SchemaName,
    pub addr: Addr,
    pub port: u16,
    /// `"masq"`, `"local"`, `"tunnel"`, `"route"`, `"bypass"` or
    /// `"unknown"`.
    pub fwd_method: SchemaName,
    /// The raw forwarding method number.
    pub fwd_method_raw: u32,
    pub weight: i32,
    pub u_threshold: u32,
    pub l_threshold: u32,
    pub active_conns: u32,
    pub inact_conns: u32,
    pub persist_conns: u32,
    /// `"ipip"`, `"gue"` or `"gre"` (others by number) for tunnel
    /// servers, else `null`.
    pub tun_type: Option<NameOrNumber>,
    /// GUE port for tunnel servers, else `null`.
    pub tun_port: Option<u16>,
    /// Tunnel checksum flags by name (`csum`, `remcsum`; empty = none);
    /// `null` for servers that are not tunnels.
    pub tun_flags: Option<TunnelFlagNames>,
    pub stats: JsonStats,
    pub rates: JsonRates,
}

/// Counters since the service was created or zeroed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct JsonStats {
    pub conns: u64,
    pub inpkts: u64,
    pub outpkts: u64,
    pub inbytes: u64,
    pub outbytes: u64,
}

/// The kernel's rate estimates (per second, 2-second estimator).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct JsonRates {
    pub cps: u64,
    pub inpps: u64,
    pub outpps: u64,
    pub inbps: u64,
    pub outbps: u64,
}

/// A document: the schema version, then its payload's keys.
#[derive(Serialize)]
pub struct Versioned<P> {
    pub schema_version: u32,
    #[serde(flatten)]
    pub payload: P,
}

/// `--timeout` as JSON.
pub type JsonTimeoutsDoc = Versioned<TimeoutsPayload>;

/// The payload of `--timeout`.
#[derive(Serialize)]
pub struct TimeoutsPayload {
    pub timeouts: JsonTimeouts,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct JsonTimeouts {
    pub tcp: u32,
    pub tcp_fin: u32,
    pub udp: u32,
}

/// `--daemon` as JSON.
pub type JsonDaemonsDoc<'a> = Versioned<DaemonsPayload<'a>>;

/// The payload of `--daemon`.
#[derive(Serialize)]
pub struct DaemonsPayload<'a> {
    pub daemons: DaemonList<'a>,
}

#[derive(Serialize)]
pub struct JsonDaemon<'a> {
    /// `"master"` or `"backup"`.
    pub state: SchemaName,
    pub mcast_ifn: &'a str,
    pub syncid: u32,
    pub sync_maxlen: Option<u16>,
    pub mcast_group: Option<Addr>,
    pub mcast_port: Option<u16>,
    pub mcast_ttl: Option<u8>,
}

/// `-c` as JSON.
pub type JsonConnectionsDoc<'a> = Versioned<ConnectionsPayload<'a>>;

/// The payload of `-c`.
#[derive(Serialize)]
pub struct ConnectionsPayload<'a> {
    pub connections: ConnectionList<'a>,
}

/// One entry of the kernel's connection table.
#[derive(Serialize)]
pub struct JsonConnection<'a> {
    /// As the kernel names it: `"TCP"`, `"UDP"`, `"SCTP"`, ...
    pub protocol: &'a str,
    pub client_addr: Addr,
    pub client_port: u16,
    pub virtual_addr: Addr,
    pub virtual_port: u16,
    pub dest_addr: Addr,
    pub dest_port: u16,
    /// Connection state as the kernel names it (`ESTABLISHED`, ...).
    pub state: &'a str,
    /// Seconds until the entry expires.
    pub expires: u64,
    pub pe_name: Option<&'a str>,
    pub pe_data: Option<&'a str>,
}

// ------------------------------------------------------------- sequences

/// `"real_servers"`: a service's real servers in listing order, `dests` as
/// they are or, with `order`, at the positions it lists (ipvsadm's sort
/// made without moving them: a real server is 144 bytes).
#[derive(Debug, Clone, Copy)]
pub struct RealServers<'a> {
    pub dests: &'a [Dest],
    pub order: Option<&'a [usize]>,
}

impl Serialize for RealServers<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.order {
            None => serializer.collect_seq(self.dests.iter().map(JsonRealServer::from)),
            Some(order) => serializer.collect_seq(
                order
                    .iter()
                    .filter_map(|&i| self.dests.get(i))
                    .map(JsonRealServer::from),
            ),
        }
    }
}

/// `"services"` of a table in memory (real servers in listing order).
#[derive(Debug, Clone, Copy)]
pub struct ServiceList<'a>(pub &'a [ServiceEntry]);

impl Serialize for ServiceList<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(JsonService::from))
    }
}

/// Why a streamed sequence ended early: its source failed (and kept its
/// own error) or the serializer did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped;

/// `"services"` serialized as they are listed: `list` hands each service
/// (its real servers in listing order) to the function it is given, which
/// writes it; it returns [`Stopped`] when that function did, or when its
/// own source failed. Then serializing fails: what was written holds the
/// services listed before, whole. Serialized once.
pub struct StreamedServices<F>(Cell<Option<F>>);

impl<F> StreamedServices<F>
where
    F: FnOnce(&mut dyn FnMut(&JsonService) -> Result<(), Stopped>) -> Result<(), Stopped>,
{
    pub fn new(list: F) -> StreamedServices<F> {
        StreamedServices(Cell::new(Some(list)))
    }
}

impl<F> Serialize for StreamedServices<F>
where
    F: FnOnce(&mut dyn FnMut(&JsonService) -> Result<(), Stopped>) -> Result<(), Stopped>,
{
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let list = self
            .0
            .take()
            .ok_or_else(|| S::Error::custom("a streamed listing is written once"))?;
        let mut seq = serializer.serialize_seq(None)?;
        let mut failed = None;
        let listed = list(&mut |service| {
            seq.serialize_element(service).map_err(|e| {
                failed = Some(e);
                Stopped
            })
        });
        match (listed, failed) {
            (_, Some(e)) => Err(e),
            (Ok(()), None) => seq.end(),
            (Err(Stopped), None) => Err(S::Error::custom("the listing stopped")),
        }
    }
}

/// `"daemons"`.
#[derive(Debug, Clone, Copy)]
pub struct DaemonList<'a>(pub &'a [Daemon]);

impl Serialize for DaemonList<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(JsonDaemon::from))
    }
}

/// `"connections"`.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionList<'a>(pub &'a [ConnEntry]);

impl Serialize for ConnectionList<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(JsonConnection::from))
    }
}

impl From<&Stats> for JsonStats {
    #[inline]
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
    #[inline]
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
        let (major, minor, patch) = info.version_triple();
        JsonInfo {
            version: VersionText(major, minor, patch),
            version_code: info.version,
            conn_tab_size: info.conn_tab_size,
        }
    }
}

impl<'a> JsonService<'a> {
    /// `service` with `dests` (in kernel order), listed in `order`
    /// (positions into `dests`, from [`crate::listing::sort::with_dest_order`]).
    pub fn in_order(
        s: &'a Service,
        dests: &'a [Dest],
        order: &'a [usize],
    ) -> JsonService<'a> {
        let mut service = JsonService::new(s, dests);
        service.real_servers.order = Some(order);
        service
    }

    /// `service` with `dests` (in listing order) as its real servers.
    pub fn new(s: &'a Service, dests: &'a [Dest]) -> JsonService<'a> {
        let (protocol, addr, port, fwmark) = match s.id.addr {
            ServiceAddr::Inet {
                protocol,
                addr,
                port,
            } => (
                Some(NameOrNumber::new(
                    name_table::protocol(protocol).map(|names| names.lower),
                    protocol.raw(),
                )),
                Some(Addr(addr)),
                Some(port),
                None,
            ),
            ServiceAddr::Fwmark(m) => (None, None, None, Some(m)),
        };
        let (netmask, prefix_len) = match s.netmask {
            Netmask::V4(m) => (Some(Addr(IpAddr::V4(m))), None),
            Netmask::V6(p) => (None, Some(p)),
        };
        let scheduler = s.scheduler.as_str();
        JsonService {
            af: SchemaName(name_table::family(s.id.family)),
            protocol,
            addr,
            port,
            fwmark,
            sched_name: scheduler,
            flags: ServiceFlagNames(s.flags),
            sched_flags: SchedFlagNames {
                scheduler,
                flags: s.flags,
            },
            flags_raw: s.flags.bits(),
            timeout: s.timeout,
            netmask,
            prefix_len,
            pe_name: s.pe_name.as_deref(),
            stats: (&s.stats).into(),
            rates: (&s.stats).into(),
            real_servers: RealServers { dests, order: None },
        }
    }
}

impl<'a> From<&'a ServiceEntry> for JsonService<'a> {
    fn from(e: &'a ServiceEntry) -> Self {
        JsonService::new(&e.service, &e.dests)
    }
}

impl From<&Dest> for JsonRealServer {
    #[inline]
    fn from(d: &Dest) -> Self {
        let tunnel = d.fwd == FwdMethod::Tunnel;
        JsonRealServer {
            af: SchemaName(name_table::family(d.family)),
            addr: Addr(d.addr),
            port: d.port,
            fwd_method: SchemaName(name_table::fwd_method(d.fwd).json),
            fwd_method_raw: d.fwd.raw(),
            weight: d.weight,
            u_threshold: d.u_threshold,
            l_threshold: d.l_threshold,
            active_conns: d.active_conns,
            inact_conns: d.inact_conns,
            persist_conns: d.persist_conns,
            tun_type: tunnel.then(|| {
                NameOrNumber::new(name_table::tunnel_type(d.tun_type), d.tun_type.raw())
            }),
            tun_port: (tunnel && d.tun_type == TunnelType::Gue).then_some(d.tun_port),
            tun_flags: tunnel.then_some(TunnelFlagNames(d.tun_flags)),
            stats: (&d.stats).into(),
            rates: (&d.stats).into(),
        }
    }
}

impl<'a> From<&'a Daemon> for JsonDaemon<'a> {
    fn from(d: &'a Daemon) -> Self {
        JsonDaemon {
            state: SchemaName(d.state.name()),
            mcast_ifn: &d.mcast_ifn,
            syncid: d.syncid,
            sync_maxlen: d.sync_maxlen,
            mcast_group: d.mcast_group.map(Addr),
            mcast_port: d.mcast_port,
            mcast_ttl: d.mcast_ttl,
        }
    }
}

impl<'a> From<&'a ConnEntry> for JsonConnection<'a> {
    fn from(c: &'a ConnEntry) -> Self {
        JsonConnection {
            protocol: &c.protocol,
            client_addr: Addr(c.client_addr),
            client_port: c.client_port,
            virtual_addr: Addr(c.virtual_addr),
            virtual_port: c.virtual_port,
            dest_addr: Addr(c.dest_addr),
            dest_port: c.dest_port,
            state: &c.state,
            expires: u64::from(c.expires),
            pe_name: c.pe_name.as_deref(),
            pe_data: c.pe_data.as_deref(),
        }
    }
}

// ------------------------------------------------------------- documents

/// The document of a listing of `entries` (real servers in listing order).
pub fn table<'a>(info: &Info, entries: &'a [ServiceEntry]) -> JsonTable<ServiceList<'a>> {
    JsonTable {
        schema_version: SCHEMA_VERSION,
        ipvs: info.into(),
        services: ServiceList(entries),
    }
}

pub fn timeouts(t: &Timeouts) -> JsonTimeoutsDoc {
    Versioned {
        schema_version: SCHEMA_VERSION,
        payload: TimeoutsPayload {
            timeouts: JsonTimeouts {
                tcp: t.tcp,
                tcp_fin: t.tcp_fin,
                udp: t.udp,
            },
        },
    }
}

pub fn daemons(ds: &[Daemon]) -> JsonDaemonsDoc<'_> {
    Versioned {
        schema_version: SCHEMA_VERSION,
        payload: DaemonsPayload {
            daemons: DaemonList(ds),
        },
    }
}

/// The connection table (`/proc/net/ip_vs_conn`) as a document.
pub fn connections(entries: &[ConnEntry]) -> JsonConnectionsDoc<'_> {
    Versioned {
        schema_version: SCHEMA_VERSION,
        payload: ConnectionsPayload {
            connections: ConnectionList(entries),
        },
    }
}

/// Appends `doc` to `buf` as one line (indented with `pretty`, two
/// spaces), then a newline.
pub fn serialize_into<T: Serialize + ?Sized>(
    buf: &mut Vec<u8>,
    doc: &T,
    pretty: bool,
) -> Result<(), Error> {
    if pretty {
        doc.serialize(&mut JsonSerializer::<true>::new(buf, None))?;
    } else {
        doc.serialize(&mut JsonSerializer::<false>::new(buf, None))?;
    }
    buf.push(b'\n');
    Ok(())
}

/// Writes `doc` to `out` as [`serialize_into`] makes it, gathered in
/// `buf` (emptied first) and written a chunk at a time. On an error `buf`
/// holds what was made and not written: for a listing the kernel cut
/// short, the rest of the services it listed, whole.
pub fn write_chunked<T: Serialize + ?Sized>(
    out: &mut dyn Write,
    buf: &mut Vec<u8>,
    doc: &T,
    pretty: bool,
) -> Result<(), Error> {
    buf.clear();
    if pretty {
        doc.serialize(&mut JsonSerializer::<true>::new(buf, Some(&mut *out)))?;
    } else {
        doc.serialize(&mut JsonSerializer::<false>::new(buf, Some(&mut *out)))?;
    }
    buf.push(b'\n');
    out.write_all(buf).map_err(Error::io)?;
    buf.clear();
    Ok(())
}

/// Writes `doc` as one line (or indented with `pretty`), then a newline.
pub fn write<T: Serialize + ?Sized>(
    out: &mut dyn Write,
    doc: &T,
    pretty: bool,
) -> io::Result<()> {
    Ok(write_chunked(out, &mut Vec::new(), doc, pretty)?)
}

#[cfg(test)]
pub(crate) mod tests;
