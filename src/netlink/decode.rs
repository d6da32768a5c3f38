//! Kernel replies read in place: each attribute is read straight from the
//! received datagram into the model value it fills, without building
//! attribute vectors (listings are where the volume is: one service or
//! real server per attribute set). The quirks of the encoding are those
//! stated in [`super::consts`].
//!
//! Every reader checks attributes as netlink-packet-core's `NlasIterator`
//! does and fails with its errors; attributes of newer kernels (and the
//! counters' padding) are skipped.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use netlink_packet_core::{
    DecodeError, ErrorContext, NLA_TYPE_MASK, NlaBuffer, parse_u8, parse_u16,
    parse_u16_be, parse_u32, parse_u64,
};

use super::consts::*;
use crate::model::{
    Daemon, DaemonState, Dest, Family, FwdMethod, Info, Netmask, Protocol, Service,
    ServiceAddr, ServiceFlags, ServiceId, ShortName, Stats, Timeouts, TunnelFlags,
    TunnelType,
};

/// The attributes of a payload as `(type, value)` pairs, checked as
/// [`netlink_packet_core::NlasIterator`] checks them (and failing with its
/// errors) but without building an `NlaBuffer` for each: the listing hot
/// path walks hundreds of thousands of them.
pub fn raw_attrs(payload: &[u8]) -> RawAttrs<'_> {
    RawAttrs { rest: payload }
}

pub struct RawAttrs<'a> {
    rest: &'a [u8],
}

/// One attribute from [`raw_attrs`].
#[derive(Debug, Clone, Copy)]
pub struct RawAttr<'a> {
    /// The type, without the nested and byte-order flags.
    pub kind: u16,
    pub value: &'a [u8],
}

impl<'a> Iterator for RawAttrs<'a> {
    type Item = Result<RawAttr<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        let buf = self.rest;
        if buf.is_empty() {
            return None;
        }
        let (len, kind) = match buf {
            [l0, l1, t0, t1, ..] => (
                usize::from(u16::from_ne_bytes([*l0, *l1])),
                u16::from_ne_bytes([*t0, *t1]) & NLA_TYPE_MASK,
            ),
            _ => (0, 0),
        };
        if len < 4 || len > buf.len() {
            self.rest = &[];
            let error = NlaBuffer::new_checked(buf)
                .err()
                .unwrap_or_else(|| DecodeError::from("invalid netlink attribute"));
            return Some(Err(error));
        }
        self.rest = buf.get((len + 3) & !3..).unwrap_or(&[]);
        Some(Ok(RawAttr {
            kind,
            value: &buf[4..len],
        }))
    }
}

/// The top-level attributes of a reply (genl payload: header, then
/// attributes).
pub fn reply_attrs(payload: &[u8]) -> Result<RawAttrs<'_>, DecodeError> {
    payload
        .get(4..)
        .map(raw_attrs)
        .ok_or_else(|| DecodeError::buffer_too_small(payload.len(), 4))
        .context("IPVS reply shorter than its genl header")
}

/// Hands the payload of every top-level attribute of type `kind` in a
/// reply (genl payload: header, then attributes) to `each`; other
/// attributes are skipped.
pub fn each_nested_in_reply<F>(
    payload: &[u8],
    kind: u16,
    mut each: F,
) -> Result<(), DecodeError>
where
    F: FnMut(&[u8]) -> Result<(), DecodeError>,
{
    for attr in reply_attrs(payload)? {
        let attr = attr.context("invalid IPVS reply attribute")?;
        if attr.kind == kind {
            each(attr.value)?;
        }
    }
    Ok(())
}

/// The kernel's `union nf_inet_addr`: 16 bytes, IPv4 in the first four.
type RawAddr = [u8; 16];

/// An address attribute: the 16-byte union, or 4 bytes of IPv4.
fn parse_raw_addr(payload: &[u8]) -> Result<RawAddr, DecodeError> {
    let mut addr = [0u8; 16];
    match payload.len() {
        4 | 16 => {
            addr[..payload.len()].copy_from_slice(payload);
            Ok(addr)
        }
        other => Err(DecodeError::invalid_ip_address(other)),
    }
}

fn addr_of(family: Family, raw: &RawAddr) -> IpAddr {
    match family {
        Family::Inet => IpAddr::V4(Ipv4Addr::new(raw[0], raw[1], raw[2], raw[3])),
        Family::Inet6 => IpAddr::V6(Ipv6Addr::from(*raw)),
    }
}

/// A NUL-terminated string; bytes after the first NUL are ignored and
/// invalid UTF-8 is replaced rather than rejected (interface names are
/// arbitrary bytes).
fn parse_cstring(payload: &[u8]) -> String {
    String::from_utf8_lossy(up_to_nul(payload)).into_owned()
}

/// A scheduler's or persistence engine's name: cut at 16 bytes, as libipvs
/// copies it into its fixed field (the kernel never sends a longer one).
fn parse_name(payload: &[u8]) -> ShortName {
    ShortName::truncated(
        &String::from_utf8_lossy(up_to_nul(payload)),
        ShortName::CAPACITY,
    )
}

fn up_to_nul(payload: &[u8]) -> &[u8] {
    let end = payload
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(payload.len());
    &payload[..end]
}

fn missing(what: &str, attr: &str) -> DecodeError {
    DecodeError::from(format!("{what} without {attr}"))
}

fn family_of(af: u16, what: &str) -> Result<Family, DecodeError> {
    Family::from_raw(af)
        .ok_or_else(|| DecodeError::from(format!("{what} with address family {af}")))
}

/// `parse_u32` with the attribute's name in its error.
fn u32_named(value: &[u8], name: &str) -> Result<u32, DecodeError> {
    parse_u32(value).with_context(|| format!("invalid {name}"))
}

/// The counter an `IPVS_STATS_ATTR_*` kind fills; `None` for padding and
/// kinds this program does not know.
fn counter_of(s: &mut Stats, kind: u16) -> Option<&mut u64> {
    Some(match kind {
        IPVS_STATS_ATTR_CONNS => &mut s.conns,
        IPVS_STATS_ATTR_INPKTS => &mut s.inpkts,
        IPVS_STATS_ATTR_OUTPKTS => &mut s.outpkts,
        IPVS_STATS_ATTR_INBYTES => &mut s.inbytes,
        IPVS_STATS_ATTR_OUTBYTES => &mut s.outbytes,
        IPVS_STATS_ATTR_CPS => &mut s.cps,
        IPVS_STATS_ATTR_INPPS => &mut s.inpps,
        IPVS_STATS_ATTR_OUTPPS => &mut s.outpps,
        IPVS_STATS_ATTR_INBPS => &mut s.inbps,
        IPVS_STATS_ATTR_OUTBPS => &mut s.outbps,
        _ => return None,
    })
}

/// Legacy counters from a nested STATS payload: 32-bit, but for the byte
/// counters.
fn legacy_stats_in(payload: &[u8]) -> Result<Stats, DecodeError> {
    let mut s = Stats::default();
    for attr in raw_attrs(payload) {
        let RawAttr { kind, value } = attr?;
        let wide = matches!(kind, IPVS_STATS_ATTR_INBYTES | IPVS_STATS_ATTR_OUTBYTES);
        if let Some(counter) = counter_of(&mut s, kind) {
            *counter = if wide {
                parse_u64(value)
            } else {
                parse_u32(value).map(u64::from)
            }
            .with_context(|| format!("invalid stats attribute {kind}"))?;
        }
    }
    Ok(s)
}

/// 64-bit counters from a nested STATS64 payload.
fn wide_stats_in(payload: &[u8]) -> Result<Stats, DecodeError> {
    let mut s = Stats::default();
    for attr in raw_attrs(payload) {
        let RawAttr { kind, value } = attr?;
        if let Some(counter) = counter_of(&mut s, kind) {
            *counter = parse_u64(value)
                .with_context(|| format!("invalid stats64 attribute {kind}"))?;
        }
    }
    Ok(s)
}

/// The counters of a reply: STATS64 when the kernel sent it (every kernel
/// since 4.1), else the legacy STATS, which are then the only ones read.
#[derive(Default)]
struct RawCounters<'a> {
    legacy: Option<&'a [u8]>,
    wide: Option<&'a [u8]>,
}

impl RawCounters<'_> {
    /// `names`: the STATS and STATS64 attributes, for errors.
    fn stats(&self, names: [&'static str; 2]) -> Result<Stats, DecodeError> {
        match (self.wide, self.legacy) {
            (Some(wide), _) => {
                wide_stats_in(wide).with_context(|| format!("invalid {}", names[1]))
            }
            (None, Some(legacy)) => {
                legacy_stats_in(legacy).with_context(|| format!("invalid {}", names[0]))
            }
            (None, None) => Ok(Stats::default()),
        }
    }
}

/// The fields of a service reply, gathered attribute by attribute.
#[derive(Default)]
struct ServiceFields {
    af: Option<u16>,
    protocol: Option<u16>,
    addr: Option<RawAddr>,
    port: Option<u16>,
    fwmark: Option<u32>,
    sched: Option<ShortName>,
    pe: Option<ShortName>,
    /// `struct ip_vs_flags`: flags, then the mask they apply under.
    flags: Option<(u32, u32)>,
    timeout: Option<u32>,
    netmask: Option<u32>,
}

impl ServiceFields {
    /// Requires what libipvs requires: AF, identity, scheduler, flags,
    /// timeout and netmask.
    fn finish(self, stats: Stats) -> Result<Service, DecodeError> {
        let what = "service";
        let family = family_of(
            self.af.ok_or_else(|| missing(what, "IPVS_SVC_ATTR_AF"))?,
            what,
        )?;
        let addr = match (self.fwmark, self.protocol, self.addr, self.port) {
            (Some(mark), _, _, _) => ServiceAddr::Fwmark(mark),
            (None, Some(protocol), Some(addr), Some(port)) => ServiceAddr::Inet {
                protocol: Protocol::from_raw(protocol),
                addr: addr_of(family, &addr),
                port,
            },
            _ => return Err(missing(what, "IPVS_SVC_ATTR_FWMARK or PROTOCOL/ADDR/PORT")),
        };
        let (flags, mask) = self
            .flags
            .ok_or_else(|| missing(what, "IPVS_SVC_ATTR_FLAGS"))?;
        let netmask = self
            .netmask
            .ok_or_else(|| missing(what, "IPVS_SVC_ATTR_NETMASK"))?;
        Ok(Service {
            id: ServiceId { family, addr },
            scheduler: self
                .sched
                .ok_or_else(|| missing(what, "IPVS_SVC_ATTR_SCHED_NAME"))?,
            pe_name: self.pe.filter(|pe| !pe.is_empty()),
            flags: ServiceFlags::from_bits_retain(flags & mask),
            timeout: self
                .timeout
                .ok_or_else(|| missing(what, "IPVS_SVC_ATTR_TIMEOUT"))?,
            netmask: match family {
                Family::Inet => Netmask::V4(Ipv4Addr::from(netmask.to_ne_bytes())),
                Family::Inet6 => Netmask::V6(netmask),
            },
            stats,
        })
    }
}

/// A service from the payload of an `IPVS_CMD_ATTR_SERVICE` attribute.
pub fn service_in(payload: &[u8]) -> Result<Service, DecodeError> {
    let mut f = ServiceFields::default();
    let mut counters = RawCounters::default();
    for attr in raw_attrs(payload) {
        let RawAttr { kind, value } = attr.context("invalid IPVS_CMD_ATTR_SERVICE")?;
        match kind {
            IPVS_SVC_ATTR_AF => {
                f.af = Some(parse_u16(value).context("invalid IPVS_SVC_ATTR_AF")?)
            }
            IPVS_SVC_ATTR_PROTOCOL => {
                f.protocol =
                    Some(parse_u16(value).context("invalid IPVS_SVC_ATTR_PROTOCOL")?)
            }
            IPVS_SVC_ATTR_ADDR => {
                f.addr =
                    Some(parse_raw_addr(value).context("invalid IPVS_SVC_ATTR_ADDR")?)
            }
            IPVS_SVC_ATTR_PORT => {
                f.port = Some(parse_u16_be(value).context("invalid IPVS_SVC_ATTR_PORT")?)
            }
            IPVS_SVC_ATTR_FWMARK => {
                f.fwmark = Some(u32_named(value, "IPVS_SVC_ATTR_FWMARK")?)
            }
            IPVS_SVC_ATTR_SCHED_NAME => f.sched = Some(parse_name(value)),
            IPVS_SVC_ATTR_FLAGS => {
                let (Some(flags), Some(mask), 8) =
                    (value.get(..4), value.get(4..8), value.len())
                else {
                    return Err(DecodeError::invalid_number(8, value.len()))
                        .context("invalid IPVS_SVC_ATTR_FLAGS");
                };
                f.flags = Some((parse_u32(flags)?, parse_u32(mask)?));
            }
            IPVS_SVC_ATTR_TIMEOUT => {
                f.timeout = Some(u32_named(value, "IPVS_SVC_ATTR_TIMEOUT")?)
            }
            IPVS_SVC_ATTR_NETMASK => {
                f.netmask = Some(u32_named(value, "IPVS_SVC_ATTR_NETMASK")?)
            }
            IPVS_SVC_ATTR_STATS => counters.legacy = Some(value),
            IPVS_SVC_ATTR_PE_NAME => f.pe = Some(parse_name(value)),
            IPVS_SVC_ATTR_STATS64 => counters.wide = Some(value),
            _ => {} // attributes of newer kernels
        }
    }
    f.finish(counters.stats(["IPVS_SVC_ATTR_STATS", "IPVS_SVC_ATTR_STATS64"])?)
}

/// The fields of a destination reply, gathered attribute by attribute.
#[derive(Default)]
struct DestFields {
    addr: Option<RawAddr>,
    port: Option<u16>,
    fwd: Option<u32>,
    weight: Option<i32>,
    u_thr: Option<u32>,
    l_thr: Option<u32>,
    active: Option<u32>,
    inact: Option<u32>,
    persist: Option<u32>,
    af: Option<u16>,
    tun_type: u8,
    tun_port: u16,
    tun_flags: u16,
}

impl DestFields {
    /// Requires what libipvs requires; the family defaults to the
    /// service's when the kernel does not say (before Linux 3.18).
    fn finish(self, service_family: Family, stats: Stats) -> Result<Dest, DecodeError> {
        let what = "destination";
        let family = match self.af {
            Some(af) => family_of(af, what)?,
            None => service_family,
        };
        let addr = self
            .addr
            .ok_or_else(|| missing(what, "IPVS_DEST_ATTR_ADDR"))?;
        let fwd = self
            .fwd
            .ok_or_else(|| missing(what, "IPVS_DEST_ATTR_FWD_METHOD"))?;
        Ok(Dest {
            family,
            addr: addr_of(family, &addr),
            port: self
                .port
                .ok_or_else(|| missing(what, "IPVS_DEST_ATTR_PORT"))?,
            fwd: FwdMethod::from_raw(fwd),
            weight: self
                .weight
                .ok_or_else(|| missing(what, "IPVS_DEST_ATTR_WEIGHT"))?,
            u_threshold: self
                .u_thr
                .ok_or_else(|| missing(what, "IPVS_DEST_ATTR_U_THRESH"))?,
            l_threshold: self
                .l_thr
                .ok_or_else(|| missing(what, "IPVS_DEST_ATTR_L_THRESH"))?,
            active_conns: self
                .active
                .ok_or_else(|| missing(what, "IPVS_DEST_ATTR_ACTIVE_CONNS"))?,
            inact_conns: self
                .inact
                .ok_or_else(|| missing(what, "IPVS_DEST_ATTR_INACT_CONNS"))?,
            persist_conns: self
                .persist
                .ok_or_else(|| missing(what, "IPVS_DEST_ATTR_PERSIST_CONNS"))?,
            tun_type: TunnelType::from_raw(self.tun_type),
            tun_port: self.tun_port,
            tun_flags: TunnelFlags::from_bits_retain(self.tun_flags),
            stats,
        })
    }
}

/// A real server from the payload of an `IPVS_CMD_ATTR_DEST` attribute,
/// without allocating (the listing hot path: one per real server).
pub fn dest_in(payload: &[u8], service_family: Family) -> Result<Dest, DecodeError> {
    let mut f = DestFields::default();
    let mut counters = RawCounters::default();
    for attr in raw_attrs(payload) {
        let RawAttr { kind, value } = attr.context("invalid IPVS_CMD_ATTR_DEST")?;
        match kind {
            IPVS_DEST_ATTR_ADDR => {
                f.addr =
                    Some(parse_raw_addr(value).context("invalid IPVS_DEST_ATTR_ADDR")?)
            }
            IPVS_DEST_ATTR_PORT => {
                f.port = Some(parse_u16_be(value).context("invalid IPVS_DEST_ATTR_PORT")?)
            }
            IPVS_DEST_ATTR_FWD_METHOD => {
                f.fwd = Some(u32_named(value, "IPVS_DEST_ATTR_FWD_METHOD")?)
            }
            IPVS_DEST_ATTR_WEIGHT => {
                // The kernel reads it as an int and rejects negative values.
                f.weight = Some(u32_named(value, "IPVS_DEST_ATTR_WEIGHT")? as i32)
            }
            IPVS_DEST_ATTR_U_THRESH => {
                f.u_thr = Some(u32_named(value, "IPVS_DEST_ATTR_U_THRESH")?)
            }
            IPVS_DEST_ATTR_L_THRESH => {
                f.l_thr = Some(u32_named(value, "IPVS_DEST_ATTR_L_THRESH")?)
            }
            IPVS_DEST_ATTR_ACTIVE_CONNS => {
                f.active = Some(u32_named(value, "IPVS_DEST_ATTR_ACTIVE_CONNS")?)
            }
            IPVS_DEST_ATTR_INACT_CONNS => {
                f.inact = Some(u32_named(value, "IPVS_DEST_ATTR_INACT_CONNS")?)
            }
            IPVS_DEST_ATTR_PERSIST_CONNS => {
                f.persist = Some(u32_named(value, "IPVS_DEST_ATTR_PERSIST_CONNS")?)
            }
            IPVS_DEST_ATTR_STATS => counters.legacy = Some(value),
            IPVS_DEST_ATTR_ADDR_FAMILY => {
                f.af =
                    Some(parse_u16(value).context("invalid IPVS_DEST_ATTR_ADDR_FAMILY")?)
            }
            IPVS_DEST_ATTR_STATS64 => counters.wide = Some(value),
            IPVS_DEST_ATTR_TUN_TYPE => {
                f.tun_type = parse_u8(value).context("invalid IPVS_DEST_ATTR_TUN_TYPE")?
            }
            IPVS_DEST_ATTR_TUN_PORT => {
                f.tun_port =
                    parse_u16_be(value).context("invalid IPVS_DEST_ATTR_TUN_PORT")?
            }
            IPVS_DEST_ATTR_TUN_FLAGS => {
                f.tun_flags =
                    parse_u16(value).context("invalid IPVS_DEST_ATTR_TUN_FLAGS")?
            }
            _ => {} // attributes of newer kernels
        }
    }
    f.finish(
        service_family,
        counters.stats(["IPVS_DEST_ATTR_STATS", "IPVS_DEST_ATTR_STATS64"])?,
    )
}

/// A sync daemon from the payload of an `IPVS_CMD_ATTR_DAEMON` attribute;
/// state, interface and sync id are required, the rest (newer kernels)
/// optional.
pub fn daemon_in(payload: &[u8]) -> Result<Daemon, DecodeError> {
    let (mut state, mut mcast_ifn, mut syncid) = (None, None, None);
    let mut daemon = Daemon {
        state: DaemonState::Master,
        mcast_ifn: String::new(),
        syncid: 0,
        sync_maxlen: None,
        mcast_group: None,
        mcast_port: None,
        mcast_ttl: None,
    };
    for attr in raw_attrs(payload) {
        let RawAttr { kind, value } = attr.context("invalid IPVS_CMD_ATTR_DAEMON")?;
        match kind {
            IPVS_DAEMON_ATTR_STATE => {
                state = Some(u32_named(value, "IPVS_DAEMON_ATTR_STATE")?)
            }
            IPVS_DAEMON_ATTR_MCAST_IFN => mcast_ifn = Some(parse_cstring(value)),
            IPVS_DAEMON_ATTR_SYNC_ID => {
                syncid = Some(u32_named(value, "IPVS_DAEMON_ATTR_SYNC_ID")?)
            }
            IPVS_DAEMON_ATTR_SYNC_MAXLEN => {
                daemon.sync_maxlen = Some(
                    parse_u16(value).context("invalid IPVS_DAEMON_ATTR_SYNC_MAXLEN")?,
                )
            }
            IPVS_DAEMON_ATTR_MCAST_GROUP => {
                let octets: [u8; 4] = value
                    .try_into()
                    .map_err(|_| DecodeError::invalid_ip_address(value.len()))
                    .context("invalid IPVS_DAEMON_ATTR_MCAST_GROUP")?;
                daemon.mcast_group = Some(IpAddr::V4(Ipv4Addr::from(octets)))
            }
            IPVS_DAEMON_ATTR_MCAST_GROUP6 => {
                let octets: [u8; 16] = value
                    .try_into()
                    .map_err(|_| DecodeError::invalid_ip_address(value.len()))
                    .context("invalid IPVS_DAEMON_ATTR_MCAST_GROUP6")?;
                daemon.mcast_group = Some(IpAddr::V6(Ipv6Addr::from(octets)))
            }
            IPVS_DAEMON_ATTR_MCAST_PORT => {
                daemon.mcast_port = Some(
                    parse_u16(value).context("invalid IPVS_DAEMON_ATTR_MCAST_PORT")?,
                )
            }
            IPVS_DAEMON_ATTR_MCAST_TTL => {
                daemon.mcast_ttl =
                    Some(parse_u8(value).context("invalid IPVS_DAEMON_ATTR_MCAST_TTL")?)
            }
            _ => {} // attributes of newer kernels
        }
    }
    let what = "sync daemon";
    let state = state.ok_or_else(|| missing(what, "IPVS_DAEMON_ATTR_STATE"))?;
    daemon.state = DaemonState::from_raw(state)
        .ok_or_else(|| DecodeError::from(format!("sync daemon in state {state}")))?;
    daemon.mcast_ifn =
        mcast_ifn.ok_or_else(|| missing(what, "IPVS_DAEMON_ATTR_MCAST_IFN"))?;
    daemon.syncid = syncid.ok_or_else(|| missing(what, "IPVS_DAEMON_ATTR_SYNC_ID"))?;
    Ok(daemon)
}

/// The `SET_INFO` reply to `GET_INFO` (genl payload); both attributes are
/// required (the kernel always sends them).
pub fn info_in(payload: &[u8]) -> Result<Info, DecodeError> {
    let (mut version, mut size) = (None, None);
    for attr in reply_attrs(payload)? {
        let RawAttr { kind, value } = attr.context("invalid IPVS reply attribute")?;
        match kind {
            IPVS_INFO_ATTR_VERSION => {
                version = Some(u32_named(value, "IPVS_INFO_ATTR_VERSION")?)
            }
            IPVS_INFO_ATTR_CONN_TAB_SIZE => {
                size = Some(u32_named(value, "IPVS_INFO_ATTR_CONN_TAB_SIZE")?)
            }
            _ => {}
        }
    }
    Ok(Info {
        version: version.ok_or_else(|| missing("info", "IPVS_INFO_ATTR_VERSION"))?,
        conn_tab_size: size
            .ok_or_else(|| missing("info", "IPVS_INFO_ATTR_CONN_TAB_SIZE"))?,
    })
}

/// The `SET_CONFIG` reply to `GET_CONFIG` (genl payload); a missing
/// timeout stays 0, as in libipvs.
pub fn timeouts_in(payload: &[u8]) -> Result<Timeouts, DecodeError> {
    let mut t = Timeouts::default();
    for attr in reply_attrs(payload)? {
        let RawAttr { kind, value } = attr.context("invalid IPVS reply attribute")?;
        match kind {
            IPVS_CMD_ATTR_TIMEOUT_TCP => {
                t.tcp = u32_named(value, "IPVS_CMD_ATTR_TIMEOUT_TCP")?
            }
            IPVS_CMD_ATTR_TIMEOUT_TCP_FIN => {
                t.tcp_fin = u32_named(value, "IPVS_CMD_ATTR_TIMEOUT_TCP_FIN")?
            }
            IPVS_CMD_ATTR_TIMEOUT_UDP => {
                t.udp = u32_named(value, "IPVS_CMD_ATTR_TIMEOUT_UDP")?
            }
            _ => {}
        }
    }
    Ok(t)
}
