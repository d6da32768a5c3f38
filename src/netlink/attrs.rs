//! Typed attribute sets of the `IPVS` generic netlink family, one enum per
//! kernel attribute set (`<linux/ip_vs.h>`). Each enum ends in
//! `Other(DefaultNla)` so that attributes a newer kernel adds are kept and
//! skipped instead of failing the whole message.
//!
//! The kernel's encoding quirks live here and nowhere else: ports are in
//! network byte order without `NLA_F_NET_BYTEORDER`, addresses are 16-byte
//! `nf_inet_addr` unions whose family comes from a sibling attribute, and
//! strings carry their terminating NUL.

use std::net::{Ipv4Addr, Ipv6Addr};

use netlink_packet_core::{
    DecodeError, DefaultNla, Emitable, ErrorContext, NLA_F_NESTED, NLA_TYPE_MASK, Nla,
    NlaBuffer, NlasIterator, Parseable, emit_u16, emit_u16_be, emit_u32, emit_u64,
    parse_u8, parse_u16, parse_u16_be, parse_u32, parse_u64,
};

// Top-level attributes (`IPVS_CMD_ATTR_*`).
pub const IPVS_CMD_ATTR_SERVICE: u16 = 1;
pub const IPVS_CMD_ATTR_DEST: u16 = 2;
const IPVS_CMD_ATTR_DAEMON: u16 = 3;
const IPVS_CMD_ATTR_TIMEOUT_TCP: u16 = 4;
const IPVS_CMD_ATTR_TIMEOUT_TCP_FIN: u16 = 5;
const IPVS_CMD_ATTR_TIMEOUT_UDP: u16 = 6;

// Top-level attributes of `SET_INFO` replies (`IPVS_INFO_ATTR_*`): a number
// space of their own, chosen by the command.
const IPVS_INFO_ATTR_VERSION: u16 = 1;
const IPVS_INFO_ATTR_CONN_TAB_SIZE: u16 = 2;

// Service attributes (`IPVS_SVC_ATTR_*`).
const IPVS_SVC_ATTR_AF: u16 = 1;
const IPVS_SVC_ATTR_PROTOCOL: u16 = 2;
const IPVS_SVC_ATTR_ADDR: u16 = 3;
const IPVS_SVC_ATTR_PORT: u16 = 4;
const IPVS_SVC_ATTR_FWMARK: u16 = 5;
const IPVS_SVC_ATTR_SCHED_NAME: u16 = 6;
const IPVS_SVC_ATTR_FLAGS: u16 = 7;
const IPVS_SVC_ATTR_TIMEOUT: u16 = 8;
const IPVS_SVC_ATTR_NETMASK: u16 = 9;
pub const IPVS_SVC_ATTR_STATS: u16 = 10;
const IPVS_SVC_ATTR_PE_NAME: u16 = 11;
pub const IPVS_SVC_ATTR_STATS64: u16 = 12;

// Destination attributes (`IPVS_DEST_ATTR_*`).
pub const IPVS_DEST_ATTR_ADDR: u16 = 1;
pub const IPVS_DEST_ATTR_PORT: u16 = 2;
pub const IPVS_DEST_ATTR_FWD_METHOD: u16 = 3;
pub const IPVS_DEST_ATTR_WEIGHT: u16 = 4;
pub const IPVS_DEST_ATTR_U_THRESH: u16 = 5;
pub const IPVS_DEST_ATTR_L_THRESH: u16 = 6;
pub const IPVS_DEST_ATTR_ACTIVE_CONNS: u16 = 7;
pub const IPVS_DEST_ATTR_INACT_CONNS: u16 = 8;
pub const IPVS_DEST_ATTR_PERSIST_CONNS: u16 = 9;
pub const IPVS_DEST_ATTR_STATS: u16 = 10;
pub const IPVS_DEST_ATTR_ADDR_FAMILY: u16 = 11;
pub const IPVS_DEST_ATTR_STATS64: u16 = 12;
pub const IPVS_DEST_ATTR_TUN_TYPE: u16 = 13;
pub const IPVS_DEST_ATTR_TUN_PORT: u16 = 14;
pub const IPVS_DEST_ATTR_TUN_FLAGS: u16 = 15;

// Sync daemon attributes (`IPVS_DAEMON_ATTR_*`).
const IPVS_DAEMON_ATTR_STATE: u16 = 1;
const IPVS_DAEMON_ATTR_MCAST_IFN: u16 = 2;
const IPVS_DAEMON_ATTR_SYNC_ID: u16 = 3;
const IPVS_DAEMON_ATTR_SYNC_MAXLEN: u16 = 4;
const IPVS_DAEMON_ATTR_MCAST_GROUP: u16 = 5;
const IPVS_DAEMON_ATTR_MCAST_GROUP6: u16 = 6;
const IPVS_DAEMON_ATTR_MCAST_PORT: u16 = 7;
const IPVS_DAEMON_ATTR_MCAST_TTL: u16 = 8;

// Counter attributes (`IPVS_STATS_ATTR_*`), shared by STATS and STATS64.
pub const IPVS_STATS_ATTR_CONNS: u16 = 1;
pub const IPVS_STATS_ATTR_INPKTS: u16 = 2;
pub const IPVS_STATS_ATTR_OUTPKTS: u16 = 3;
pub const IPVS_STATS_ATTR_INBYTES: u16 = 4;
pub const IPVS_STATS_ATTR_OUTBYTES: u16 = 5;
pub const IPVS_STATS_ATTR_CPS: u16 = 6;
pub const IPVS_STATS_ATTR_INPPS: u16 = 7;
pub const IPVS_STATS_ATTR_OUTPPS: u16 = 8;
pub const IPVS_STATS_ATTR_INBPS: u16 = 9;
pub const IPVS_STATS_ATTR_OUTBPS: u16 = 10;

/// The kernel's `union nf_inet_addr`: 16 bytes, IPv4 in the first four.
pub type RawAddr = [u8; 16];

/// `struct ip_vs_flags`: the kernel applies `(old & !mask) | (flags & mask)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlagsMask {
    pub flags: u32,
    pub mask: u32,
}

/// Top-level attributes of an IPVS message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IpvsAttr {
    Service(Vec<ServiceAttr>),
    Dest(Vec<DestAttr>),
    Daemon(Vec<DaemonAttr>),
    TimeoutTcp(u32),
    TimeoutTcpFin(u32),
    TimeoutUdp(u32),
    /// `IPVS_INFO_ATTR_VERSION`, only in `SET_INFO` replies.
    InfoVersion(u32),
    /// `IPVS_INFO_ATTR_CONN_TAB_SIZE`, only in `SET_INFO` replies.
    InfoConnTabSize(u32),
    Other(DefaultNla),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceAttr {
    Af(u16),
    Protocol(u16),
    Addr(RawAddr),
    /// Host-order value; sent and received in network byte order.
    Port(u16),
    Fwmark(u32),
    SchedName(String),
    Flags(FlagsMask),
    Timeout(u32),
    /// IPv4: the mask's bytes as a native u32; IPv6: the prefix length.
    Netmask(u32),
    Stats(Vec<StatsAttr>),
    PeName(String),
    Stats64(Vec<Stats64Attr>),
    Other(DefaultNla),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DestAttr {
    Addr(RawAddr),
    /// Host-order value; sent and received in network byte order.
    Port(u16),
    FwdMethod(u32),
    /// The kernel reads it as an int and rejects negative values.
    Weight(i32),
    UThresh(u32),
    LThresh(u32),
    ActiveConns(u32),
    InactConns(u32),
    PersistConns(u32),
    Stats(Vec<StatsAttr>),
    AddrFamily(u16),
    Stats64(Vec<Stats64Attr>),
    TunType(u8),
    /// Host-order value; sent and received in network byte order.
    TunPort(u16),
    TunFlags(u16),
    Other(DefaultNla),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DaemonAttr {
    State(u32),
    McastIfn(String),
    SyncId(u32),
    SyncMaxlen(u16),
    McastGroup(Ipv4Addr),
    McastGroup6(Ipv6Addr),
    /// Host byte order, unlike the service and destination ports.
    McastPort(u16),
    McastTtl(u8),
    Other(DefaultNla),
}

/// Legacy counters (`*_ATTR_STATS`): 32-bit except the byte counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatsAttr {
    Conns(u32),
    InPkts(u32),
    OutPkts(u32),
    InBytes(u64),
    OutBytes(u64),
    Cps(u32),
    InPps(u32),
    OutPps(u32),
    InBps(u32),
    OutBps(u32),
    Other(DefaultNla),
}

/// 64-bit counters (`*_ATTR_STATS64`). The kernel pads them with
/// `IPVS_STATS_ATTR_PAD` attributes, which land in `Other`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stats64Attr {
    Conns(u64),
    InPkts(u64),
    OutPkts(u64),
    InBytes(u64),
    OutBytes(u64),
    Cps(u64),
    InPps(u64),
    OutPps(u64),
    InBps(u64),
    OutBps(u64),
    Other(DefaultNla),
}

/// The attributes of a payload as `(type, value)` pairs, checked as
/// [`NlasIterator`] checks them (and failing with its errors) but without
/// building an `NlaBuffer` for each: the listing hot path walks hundreds of
/// thousands of them.
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
    /// The whole attribute, header included.
    pub bytes: &'a [u8],
}

impl<'a> RawAttr<'a> {
    /// For the typed parsers.
    pub fn buffer(&self) -> NlaBuffer<&'a [u8]> {
        NlaBuffer::new(self.bytes)
    }
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
            bytes: &buf[..len],
        }))
    }
}

fn emit_string(buffer: &mut [u8], s: &str) {
    buffer[..s.len()].copy_from_slice(s.as_bytes());
    buffer[s.len()] = 0;
}

/// A NUL-terminated string; bytes after the first NUL are ignored and
/// invalid UTF-8 is replaced rather than rejected (interface names are
/// arbitrary bytes).
fn parse_cstring(payload: &[u8]) -> String {
    let end = payload
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(payload.len());
    String::from_utf8_lossy(&payload[..end]).into_owned()
}

pub fn parse_raw_addr(payload: &[u8]) -> Result<RawAddr, DecodeError> {
    let mut addr = [0u8; 16];
    match payload.len() {
        4 | 16 => {
            addr[..payload.len()].copy_from_slice(payload);
            Ok(addr)
        }
        other => Err(DecodeError::invalid_ip_address(other)),
    }
}

pub fn parse_i32_ne(payload: &[u8]) -> Result<i32, DecodeError> {
    parse_u32(payload).map(|v| v as i32)
}

fn parse_nested<T, F>(payload: &[u8], what: &str, parse: F) -> Result<Vec<T>, DecodeError>
where
    F: Fn(&NlaBuffer<&[u8]>) -> Result<T, DecodeError>,
{
    NlasIterator::new(payload)
        .map(|nla| nla.and_then(|nla| parse(&nla)))
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("invalid {what}"))
}

fn other(buf: &NlaBuffer<&[u8]>) -> Result<DefaultNla, DecodeError> {
    DefaultNla::parse(buf)
}

impl Nla for IpvsAttr {
    fn value_len(&self) -> usize {
        match self {
            IpvsAttr::Service(a) => a.as_slice().buffer_len(),
            IpvsAttr::Dest(a) => a.as_slice().buffer_len(),
            IpvsAttr::Daemon(a) => a.as_slice().buffer_len(),
            IpvsAttr::TimeoutTcp(_)
            | IpvsAttr::TimeoutTcpFin(_)
            | IpvsAttr::TimeoutUdp(_)
            | IpvsAttr::InfoVersion(_)
            | IpvsAttr::InfoConnTabSize(_) => 4,
            IpvsAttr::Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        // libnl's nla_nest_start() marks containers NLA_F_NESTED; so do we.
        match self {
            IpvsAttr::Service(_) => IPVS_CMD_ATTR_SERVICE | NLA_F_NESTED,
            IpvsAttr::Dest(_) => IPVS_CMD_ATTR_DEST | NLA_F_NESTED,
            IpvsAttr::Daemon(_) => IPVS_CMD_ATTR_DAEMON | NLA_F_NESTED,
            IpvsAttr::TimeoutTcp(_) => IPVS_CMD_ATTR_TIMEOUT_TCP,
            IpvsAttr::TimeoutTcpFin(_) => IPVS_CMD_ATTR_TIMEOUT_TCP_FIN,
            IpvsAttr::TimeoutUdp(_) => IPVS_CMD_ATTR_TIMEOUT_UDP,
            IpvsAttr::InfoVersion(_) => IPVS_INFO_ATTR_VERSION,
            IpvsAttr::InfoConnTabSize(_) => IPVS_INFO_ATTR_CONN_TAB_SIZE,
            IpvsAttr::Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        match self {
            IpvsAttr::Service(a) => a.as_slice().emit(buffer),
            IpvsAttr::Dest(a) => a.as_slice().emit(buffer),
            IpvsAttr::Daemon(a) => a.as_slice().emit(buffer),
            IpvsAttr::TimeoutTcp(v)
            | IpvsAttr::TimeoutTcpFin(v)
            | IpvsAttr::TimeoutUdp(v)
            | IpvsAttr::InfoVersion(v)
            | IpvsAttr::InfoConnTabSize(v) => {
                emit_u32(buffer, *v).expect("sized by value_len")
            }
            IpvsAttr::Other(nla) => nla.emit_value(buffer),
        }
    }
}

impl IpvsAttr {
    /// Parses one top-level attribute. `info` selects the `SET_INFO`
    /// number space, where 1 and 2 mean version and table size.
    pub fn parse(buf: &NlaBuffer<&[u8]>, info: bool) -> Result<Self, DecodeError> {
        let payload = buf.value();
        Ok(match (info, buf.kind()) {
            (true, IPVS_INFO_ATTR_VERSION) => IpvsAttr::InfoVersion(
                parse_u32(payload).context("invalid IPVS_INFO_ATTR_VERSION")?,
            ),
            (true, IPVS_INFO_ATTR_CONN_TAB_SIZE) => IpvsAttr::InfoConnTabSize(
                parse_u32(payload).context("invalid IPVS_INFO_ATTR_CONN_TAB_SIZE")?,
            ),
            (true, _) => IpvsAttr::Other(other(buf)?),
            (false, IPVS_CMD_ATTR_SERVICE) => IpvsAttr::Service(parse_nested(
                payload,
                "IPVS_CMD_ATTR_SERVICE",
                ServiceAttr::parse,
            )?),
            (false, IPVS_CMD_ATTR_DEST) => IpvsAttr::Dest(parse_nested(
                payload,
                "IPVS_CMD_ATTR_DEST",
                DestAttr::parse,
            )?),
            (false, IPVS_CMD_ATTR_DAEMON) => IpvsAttr::Daemon(parse_nested(
                payload,
                "IPVS_CMD_ATTR_DAEMON",
                DaemonAttr::parse,
            )?),
            (false, IPVS_CMD_ATTR_TIMEOUT_TCP) => IpvsAttr::TimeoutTcp(
                parse_u32(payload).context("invalid IPVS_CMD_ATTR_TIMEOUT_TCP")?,
            ),
            (false, IPVS_CMD_ATTR_TIMEOUT_TCP_FIN) => IpvsAttr::TimeoutTcpFin(
                parse_u32(payload).context("invalid IPVS_CMD_ATTR_TIMEOUT_TCP_FIN")?,
            ),
            (false, IPVS_CMD_ATTR_TIMEOUT_UDP) => IpvsAttr::TimeoutUdp(
                parse_u32(payload).context("invalid IPVS_CMD_ATTR_TIMEOUT_UDP")?,
            ),
            (false, _) => IpvsAttr::Other(other(buf)?),
        })
    }
}

impl Nla for ServiceAttr {
    fn value_len(&self) -> usize {
        match self {
            ServiceAttr::Af(_) | ServiceAttr::Protocol(_) | ServiceAttr::Port(_) => 2,
            ServiceAttr::Addr(_) => 16,
            ServiceAttr::Fwmark(_)
            | ServiceAttr::Timeout(_)
            | ServiceAttr::Netmask(_) => 4,
            ServiceAttr::SchedName(s) | ServiceAttr::PeName(s) => s.len() + 1,
            ServiceAttr::Flags(_) => 8,
            ServiceAttr::Stats(a) => a.as_slice().buffer_len(),
            ServiceAttr::Stats64(a) => a.as_slice().buffer_len(),
            ServiceAttr::Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        match self {
            ServiceAttr::Af(_) => IPVS_SVC_ATTR_AF,
            ServiceAttr::Protocol(_) => IPVS_SVC_ATTR_PROTOCOL,
            ServiceAttr::Addr(_) => IPVS_SVC_ATTR_ADDR,
            ServiceAttr::Port(_) => IPVS_SVC_ATTR_PORT,
            ServiceAttr::Fwmark(_) => IPVS_SVC_ATTR_FWMARK,
            ServiceAttr::SchedName(_) => IPVS_SVC_ATTR_SCHED_NAME,
            ServiceAttr::Flags(_) => IPVS_SVC_ATTR_FLAGS,
            ServiceAttr::Timeout(_) => IPVS_SVC_ATTR_TIMEOUT,
            ServiceAttr::Netmask(_) => IPVS_SVC_ATTR_NETMASK,
            ServiceAttr::Stats(_) => IPVS_SVC_ATTR_STATS,
            ServiceAttr::PeName(_) => IPVS_SVC_ATTR_PE_NAME,
            ServiceAttr::Stats64(_) => IPVS_SVC_ATTR_STATS64,
            ServiceAttr::Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        let sized = "sized by value_len";
        match self {
            ServiceAttr::Af(v) | ServiceAttr::Protocol(v) => {
                emit_u16(buffer, *v).expect(sized)
            }
            ServiceAttr::Port(v) => emit_u16_be(buffer, *v).expect(sized),
            ServiceAttr::Addr(a) => buffer.copy_from_slice(a),
            ServiceAttr::Fwmark(v)
            | ServiceAttr::Timeout(v)
            | ServiceAttr::Netmask(v) => emit_u32(buffer, *v).expect(sized),
            ServiceAttr::SchedName(s) | ServiceAttr::PeName(s) => emit_string(buffer, s),
            ServiceAttr::Flags(f) => {
                emit_u32(&mut buffer[..4], f.flags).expect(sized);
                emit_u32(&mut buffer[4..8], f.mask).expect(sized);
            }
            ServiceAttr::Stats(a) => a.as_slice().emit(buffer),
            ServiceAttr::Stats64(a) => a.as_slice().emit(buffer),
            ServiceAttr::Other(nla) => nla.emit_value(buffer),
        }
    }
}

impl ServiceAttr {
    pub fn parse(buf: &NlaBuffer<&[u8]>) -> Result<Self, DecodeError> {
        let payload = buf.value();
        Ok(match buf.kind() {
            IPVS_SVC_ATTR_AF => {
                ServiceAttr::Af(parse_u16(payload).context("invalid IPVS_SVC_ATTR_AF")?)
            }
            IPVS_SVC_ATTR_PROTOCOL => ServiceAttr::Protocol(
                parse_u16(payload).context("invalid IPVS_SVC_ATTR_PROTOCOL")?,
            ),
            IPVS_SVC_ATTR_ADDR => ServiceAttr::Addr(
                parse_raw_addr(payload).context("invalid IPVS_SVC_ATTR_ADDR")?,
            ),
            IPVS_SVC_ATTR_PORT => ServiceAttr::Port(
                parse_u16_be(payload).context("invalid IPVS_SVC_ATTR_PORT")?,
            ),
            IPVS_SVC_ATTR_FWMARK => ServiceAttr::Fwmark(
                parse_u32(payload).context("invalid IPVS_SVC_ATTR_FWMARK")?,
            ),
            IPVS_SVC_ATTR_SCHED_NAME => ServiceAttr::SchedName(parse_cstring(payload)),
            IPVS_SVC_ATTR_FLAGS => {
                if payload.len() != 8 {
                    return Err(DecodeError::invalid_number(8, payload.len()))
                        .context("invalid IPVS_SVC_ATTR_FLAGS");
                }
                ServiceAttr::Flags(FlagsMask {
                    flags: parse_u32(&payload[..4])?,
                    mask: parse_u32(&payload[4..])?,
                })
            }
            IPVS_SVC_ATTR_TIMEOUT => ServiceAttr::Timeout(
                parse_u32(payload).context("invalid IPVS_SVC_ATTR_TIMEOUT")?,
            ),
            IPVS_SVC_ATTR_NETMASK => ServiceAttr::Netmask(
                parse_u32(payload).context("invalid IPVS_SVC_ATTR_NETMASK")?,
            ),
            IPVS_SVC_ATTR_STATS => ServiceAttr::Stats(parse_nested(
                payload,
                "IPVS_SVC_ATTR_STATS",
                StatsAttr::parse,
            )?),
            IPVS_SVC_ATTR_PE_NAME => ServiceAttr::PeName(parse_cstring(payload)),
            IPVS_SVC_ATTR_STATS64 => ServiceAttr::Stats64(parse_nested(
                payload,
                "IPVS_SVC_ATTR_STATS64",
                Stats64Attr::parse,
            )?),
            _ => ServiceAttr::Other(other(buf)?),
        })
    }
}

impl Nla for DestAttr {
    fn value_len(&self) -> usize {
        match self {
            DestAttr::Addr(_) => 16,
            DestAttr::Port(_)
            | DestAttr::AddrFamily(_)
            | DestAttr::TunPort(_)
            | DestAttr::TunFlags(_) => 2,
            DestAttr::TunType(_) => 1,
            DestAttr::FwdMethod(_)
            | DestAttr::Weight(_)
            | DestAttr::UThresh(_)
            | DestAttr::LThresh(_)
            | DestAttr::ActiveConns(_)
            | DestAttr::InactConns(_)
            | DestAttr::PersistConns(_) => 4,
            DestAttr::Stats(a) => a.as_slice().buffer_len(),
            DestAttr::Stats64(a) => a.as_slice().buffer_len(),
            DestAttr::Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        match self {
            DestAttr::Addr(_) => IPVS_DEST_ATTR_ADDR,
            DestAttr::Port(_) => IPVS_DEST_ATTR_PORT,
            DestAttr::FwdMethod(_) => IPVS_DEST_ATTR_FWD_METHOD,
            DestAttr::Weight(_) => IPVS_DEST_ATTR_WEIGHT,
            DestAttr::UThresh(_) => IPVS_DEST_ATTR_U_THRESH,
            DestAttr::LThresh(_) => IPVS_DEST_ATTR_L_THRESH,
            DestAttr::ActiveConns(_) => IPVS_DEST_ATTR_ACTIVE_CONNS,
            DestAttr::InactConns(_) => IPVS_DEST_ATTR_INACT_CONNS,
            DestAttr::PersistConns(_) => IPVS_DEST_ATTR_PERSIST_CONNS,
            DestAttr::Stats(_) => IPVS_DEST_ATTR_STATS,
            DestAttr::AddrFamily(_) => IPVS_DEST_ATTR_ADDR_FAMILY,
            DestAttr::Stats64(_) => IPVS_DEST_ATTR_STATS64,
            DestAttr::TunType(_) => IPVS_DEST_ATTR_TUN_TYPE,
            DestAttr::TunPort(_) => IPVS_DEST_ATTR_TUN_PORT,
            DestAttr::TunFlags(_) => IPVS_DEST_ATTR_TUN_FLAGS,
            DestAttr::Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        let sized = "sized by value_len";
        match self {
            DestAttr::Addr(a) => buffer.copy_from_slice(a),
            DestAttr::Port(v) | DestAttr::TunPort(v) => {
                emit_u16_be(buffer, *v).expect(sized)
            }
            DestAttr::AddrFamily(v) | DestAttr::TunFlags(v) => {
                emit_u16(buffer, *v).expect(sized)
            }
            DestAttr::TunType(v) => buffer[0] = *v,
            DestAttr::Weight(v) => emit_u32(buffer, *v as u32).expect(sized),
            DestAttr::FwdMethod(v)
            | DestAttr::UThresh(v)
            | DestAttr::LThresh(v)
            | DestAttr::ActiveConns(v)
            | DestAttr::InactConns(v)
            | DestAttr::PersistConns(v) => emit_u32(buffer, *v).expect(sized),
            DestAttr::Stats(a) => a.as_slice().emit(buffer),
            DestAttr::Stats64(a) => a.as_slice().emit(buffer),
            DestAttr::Other(nla) => nla.emit_value(buffer),
        }
    }
}

impl DestAttr {
    pub fn parse(buf: &NlaBuffer<&[u8]>) -> Result<Self, DecodeError> {
        let payload = buf.value();
        let u32_of =
            |name: &str| parse_u32(payload).with_context(|| format!("invalid {name}"));
        Ok(match buf.kind() {
            IPVS_DEST_ATTR_ADDR => DestAttr::Addr(
                parse_raw_addr(payload).context("invalid IPVS_DEST_ATTR_ADDR")?,
            ),
            IPVS_DEST_ATTR_PORT => DestAttr::Port(
                parse_u16_be(payload).context("invalid IPVS_DEST_ATTR_PORT")?,
            ),
            IPVS_DEST_ATTR_FWD_METHOD => {
                DestAttr::FwdMethod(u32_of("IPVS_DEST_ATTR_FWD_METHOD")?)
            }
            IPVS_DEST_ATTR_WEIGHT => DestAttr::Weight(
                parse_i32_ne(payload).context("invalid IPVS_DEST_ATTR_WEIGHT")?,
            ),
            IPVS_DEST_ATTR_U_THRESH => {
                DestAttr::UThresh(u32_of("IPVS_DEST_ATTR_U_THRESH")?)
            }
            IPVS_DEST_ATTR_L_THRESH => {
                DestAttr::LThresh(u32_of("IPVS_DEST_ATTR_L_THRESH")?)
            }
            IPVS_DEST_ATTR_ACTIVE_CONNS => {
                DestAttr::ActiveConns(u32_of("IPVS_DEST_ATTR_ACTIVE_CONNS")?)
            }
            IPVS_DEST_ATTR_INACT_CONNS => {
                DestAttr::InactConns(u32_of("IPVS_DEST_ATTR_INACT_CONNS")?)
            }
            IPVS_DEST_ATTR_PERSIST_CONNS => {
                DestAttr::PersistConns(u32_of("IPVS_DEST_ATTR_PERSIST_CONNS")?)
            }
            IPVS_DEST_ATTR_STATS => DestAttr::Stats(parse_nested(
                payload,
                "IPVS_DEST_ATTR_STATS",
                StatsAttr::parse,
            )?),
            IPVS_DEST_ATTR_ADDR_FAMILY => DestAttr::AddrFamily(
                parse_u16(payload).context("invalid IPVS_DEST_ATTR_ADDR_FAMILY")?,
            ),
            IPVS_DEST_ATTR_STATS64 => DestAttr::Stats64(parse_nested(
                payload,
                "IPVS_DEST_ATTR_STATS64",
                Stats64Attr::parse,
            )?),
            IPVS_DEST_ATTR_TUN_TYPE => DestAttr::TunType(
                parse_u8(payload).context("invalid IPVS_DEST_ATTR_TUN_TYPE")?,
            ),
            IPVS_DEST_ATTR_TUN_PORT => DestAttr::TunPort(
                parse_u16_be(payload).context("invalid IPVS_DEST_ATTR_TUN_PORT")?,
            ),
            IPVS_DEST_ATTR_TUN_FLAGS => DestAttr::TunFlags(
                parse_u16(payload).context("invalid IPVS_DEST_ATTR_TUN_FLAGS")?,
            ),
            _ => DestAttr::Other(other(buf)?),
        })
    }
}

impl Nla for DaemonAttr {
    fn value_len(&self) -> usize {
        match self {
            DaemonAttr::State(_) | DaemonAttr::SyncId(_) | DaemonAttr::McastGroup(_) => 4,
            DaemonAttr::McastIfn(s) => s.len() + 1,
            DaemonAttr::SyncMaxlen(_) | DaemonAttr::McastPort(_) => 2,
            DaemonAttr::McastGroup6(_) => 16,
            DaemonAttr::McastTtl(_) => 1,
            DaemonAttr::Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        match self {
            DaemonAttr::State(_) => IPVS_DAEMON_ATTR_STATE,
            DaemonAttr::McastIfn(_) => IPVS_DAEMON_ATTR_MCAST_IFN,
            DaemonAttr::SyncId(_) => IPVS_DAEMON_ATTR_SYNC_ID,
            DaemonAttr::SyncMaxlen(_) => IPVS_DAEMON_ATTR_SYNC_MAXLEN,
            DaemonAttr::McastGroup(_) => IPVS_DAEMON_ATTR_MCAST_GROUP,
            DaemonAttr::McastGroup6(_) => IPVS_DAEMON_ATTR_MCAST_GROUP6,
            DaemonAttr::McastPort(_) => IPVS_DAEMON_ATTR_MCAST_PORT,
            DaemonAttr::McastTtl(_) => IPVS_DAEMON_ATTR_MCAST_TTL,
            DaemonAttr::Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        let sized = "sized by value_len";
        match self {
            DaemonAttr::State(v) | DaemonAttr::SyncId(v) => {
                emit_u32(buffer, *v).expect(sized)
            }
            DaemonAttr::McastIfn(s) => emit_string(buffer, s),
            DaemonAttr::SyncMaxlen(v) | DaemonAttr::McastPort(v) => {
                emit_u16(buffer, *v).expect(sized)
            }
            DaemonAttr::McastGroup(a) => buffer.copy_from_slice(&a.octets()),
            DaemonAttr::McastGroup6(a) => buffer.copy_from_slice(&a.octets()),
            DaemonAttr::McastTtl(v) => buffer[0] = *v,
            DaemonAttr::Other(nla) => nla.emit_value(buffer),
        }
    }
}

impl DaemonAttr {
    pub fn parse(buf: &NlaBuffer<&[u8]>) -> Result<Self, DecodeError> {
        let payload = buf.value();
        Ok(match buf.kind() {
            IPVS_DAEMON_ATTR_STATE => DaemonAttr::State(
                parse_u32(payload).context("invalid IPVS_DAEMON_ATTR_STATE")?,
            ),
            IPVS_DAEMON_ATTR_MCAST_IFN => DaemonAttr::McastIfn(parse_cstring(payload)),
            IPVS_DAEMON_ATTR_SYNC_ID => DaemonAttr::SyncId(
                parse_u32(payload).context("invalid IPVS_DAEMON_ATTR_SYNC_ID")?,
            ),
            IPVS_DAEMON_ATTR_SYNC_MAXLEN => DaemonAttr::SyncMaxlen(
                parse_u16(payload).context("invalid IPVS_DAEMON_ATTR_SYNC_MAXLEN")?,
            ),
            IPVS_DAEMON_ATTR_MCAST_GROUP => {
                let octets: [u8; 4] = payload
                    .try_into()
                    .map_err(|_| DecodeError::invalid_ip_address(payload.len()))
                    .context("invalid IPVS_DAEMON_ATTR_MCAST_GROUP")?;
                DaemonAttr::McastGroup(Ipv4Addr::from(octets))
            }
            IPVS_DAEMON_ATTR_MCAST_GROUP6 => {
                let octets: [u8; 16] = payload
                    .try_into()
                    .map_err(|_| DecodeError::invalid_ip_address(payload.len()))
                    .context("invalid IPVS_DAEMON_ATTR_MCAST_GROUP6")?;
                DaemonAttr::McastGroup6(Ipv6Addr::from(octets))
            }
            IPVS_DAEMON_ATTR_MCAST_PORT => DaemonAttr::McastPort(
                parse_u16(payload).context("invalid IPVS_DAEMON_ATTR_MCAST_PORT")?,
            ),
            IPVS_DAEMON_ATTR_MCAST_TTL => DaemonAttr::McastTtl(
                parse_u8(payload).context("invalid IPVS_DAEMON_ATTR_MCAST_TTL")?,
            ),
            _ => DaemonAttr::Other(other(buf)?),
        })
    }
}

impl Nla for StatsAttr {
    fn value_len(&self) -> usize {
        match self {
            StatsAttr::InBytes(_) | StatsAttr::OutBytes(_) => 8,
            StatsAttr::Other(nla) => nla.value_len(),
            _ => 4,
        }
    }

    fn kind(&self) -> u16 {
        match self {
            StatsAttr::Conns(_) => IPVS_STATS_ATTR_CONNS,
            StatsAttr::InPkts(_) => IPVS_STATS_ATTR_INPKTS,
            StatsAttr::OutPkts(_) => IPVS_STATS_ATTR_OUTPKTS,
            StatsAttr::InBytes(_) => IPVS_STATS_ATTR_INBYTES,
            StatsAttr::OutBytes(_) => IPVS_STATS_ATTR_OUTBYTES,
            StatsAttr::Cps(_) => IPVS_STATS_ATTR_CPS,
            StatsAttr::InPps(_) => IPVS_STATS_ATTR_INPPS,
            StatsAttr::OutPps(_) => IPVS_STATS_ATTR_OUTPPS,
            StatsAttr::InBps(_) => IPVS_STATS_ATTR_INBPS,
            StatsAttr::OutBps(_) => IPVS_STATS_ATTR_OUTBPS,
            StatsAttr::Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        let sized = "sized by value_len";
        match self {
            StatsAttr::InBytes(v) | StatsAttr::OutBytes(v) => {
                emit_u64(buffer, *v).expect(sized)
            }
            StatsAttr::Conns(v)
            | StatsAttr::InPkts(v)
            | StatsAttr::OutPkts(v)
            | StatsAttr::Cps(v)
            | StatsAttr::InPps(v)
            | StatsAttr::OutPps(v)
            | StatsAttr::InBps(v)
            | StatsAttr::OutBps(v) => emit_u32(buffer, *v).expect(sized),
            StatsAttr::Other(nla) => nla.emit_value(buffer),
        }
    }
}

impl StatsAttr {
    pub fn parse(buf: &NlaBuffer<&[u8]>) -> Result<Self, DecodeError> {
        let payload = buf.value();
        let kind = buf.kind();
        let u32_value = || {
            parse_u32(payload).with_context(|| format!("invalid stats attribute {kind}"))
        };
        let u64_value = || {
            parse_u64(payload).with_context(|| format!("invalid stats attribute {kind}"))
        };
        Ok(match kind {
            IPVS_STATS_ATTR_CONNS => StatsAttr::Conns(u32_value()?),
            IPVS_STATS_ATTR_INPKTS => StatsAttr::InPkts(u32_value()?),
            IPVS_STATS_ATTR_OUTPKTS => StatsAttr::OutPkts(u32_value()?),
            IPVS_STATS_ATTR_INBYTES => StatsAttr::InBytes(u64_value()?),
            IPVS_STATS_ATTR_OUTBYTES => StatsAttr::OutBytes(u64_value()?),
            IPVS_STATS_ATTR_CPS => StatsAttr::Cps(u32_value()?),
            IPVS_STATS_ATTR_INPPS => StatsAttr::InPps(u32_value()?),
            IPVS_STATS_ATTR_OUTPPS => StatsAttr::OutPps(u32_value()?),
            IPVS_STATS_ATTR_INBPS => StatsAttr::InBps(u32_value()?),
            IPVS_STATS_ATTR_OUTBPS => StatsAttr::OutBps(u32_value()?),
            _ => StatsAttr::Other(other(buf)?),
        })
    }
}

impl Nla for Stats64Attr {
    fn value_len(&self) -> usize {
        match self {
            Stats64Attr::Other(nla) => nla.value_len(),
            _ => 8,
        }
    }

    fn kind(&self) -> u16 {
        match self {
            Stats64Attr::Conns(_) => IPVS_STATS_ATTR_CONNS,
            Stats64Attr::InPkts(_) => IPVS_STATS_ATTR_INPKTS,
            Stats64Attr::OutPkts(_) => IPVS_STATS_ATTR_OUTPKTS,
            Stats64Attr::InBytes(_) => IPVS_STATS_ATTR_INBYTES,
            Stats64Attr::OutBytes(_) => IPVS_STATS_ATTR_OUTBYTES,
            Stats64Attr::Cps(_) => IPVS_STATS_ATTR_CPS,
            Stats64Attr::InPps(_) => IPVS_STATS_ATTR_INPPS,
            Stats64Attr::OutPps(_) => IPVS_STATS_ATTR_OUTPPS,
            Stats64Attr::InBps(_) => IPVS_STATS_ATTR_INBPS,
            Stats64Attr::OutBps(_) => IPVS_STATS_ATTR_OUTBPS,
            Stats64Attr::Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        match self {
            Stats64Attr::Conns(v)
            | Stats64Attr::InPkts(v)
            | Stats64Attr::OutPkts(v)
            | Stats64Attr::InBytes(v)
            | Stats64Attr::OutBytes(v)
            | Stats64Attr::Cps(v)
            | Stats64Attr::InPps(v)
            | Stats64Attr::OutPps(v)
            | Stats64Attr::InBps(v)
            | Stats64Attr::OutBps(v) => emit_u64(buffer, *v).expect("sized by value_len"),
            Stats64Attr::Other(nla) => nla.emit_value(buffer),
        }
    }
}

impl Stats64Attr {
    pub fn parse(buf: &NlaBuffer<&[u8]>) -> Result<Self, DecodeError> {
        let payload = buf.value();
        let kind = buf.kind();
        let value = || {
            parse_u64(payload)
                .with_context(|| format!("invalid stats64 attribute {kind}"))
        };
        Ok(match kind {
            IPVS_STATS_ATTR_CONNS => Stats64Attr::Conns(value()?),
            IPVS_STATS_ATTR_INPKTS => Stats64Attr::InPkts(value()?),
            IPVS_STATS_ATTR_OUTPKTS => Stats64Attr::OutPkts(value()?),
            IPVS_STATS_ATTR_INBYTES => Stats64Attr::InBytes(value()?),
            IPVS_STATS_ATTR_OUTBYTES => Stats64Attr::OutBytes(value()?),
            IPVS_STATS_ATTR_CPS => Stats64Attr::Cps(value()?),
            IPVS_STATS_ATTR_INPPS => Stats64Attr::InPps(value()?),
            IPVS_STATS_ATTR_OUTPPS => Stats64Attr::OutPps(value()?),
            IPVS_STATS_ATTR_INBPS => Stats64Attr::InBps(value()?),
            IPVS_STATS_ATTR_OUTBPS => Stats64Attr::OutBps(value()?),
            _ => Stats64Attr::Other(other(buf)?),
        })
    }
}
