//! Between the shared model and the attribute sets: what libipvs sends for
//! each object, and how a kernel reply becomes a model value.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use netlink_packet_core::{
    DecodeError, ErrorContext, parse_u8, parse_u16, parse_u16_be, parse_u32, parse_u64,
};

use super::attrs::*;
use crate::model::{
    Daemon, DaemonState, Dest, Family, FwdMethod, Info, Netmask, Protocol, Service,
    ServiceAddr, ServiceFlags, ServiceId, Stats, Timeouts, TunnelFlags, TunnelType,
};

pub fn raw_addr(addr: &IpAddr) -> RawAddr {
    let mut raw = [0u8; 16];
    match addr {
        IpAddr::V4(a) => raw[..4].copy_from_slice(&a.octets()),
        IpAddr::V6(a) => raw = a.octets(),
    }
    raw
}

pub fn addr_of(family: Family, raw: &RawAddr) -> IpAddr {
    match family {
        Family::Inet => IpAddr::V4(Ipv4Addr::new(raw[0], raw[1], raw[2], raw[3])),
        Family::Inet6 => IpAddr::V6(Ipv6Addr::from(*raw)),
    }
}

/// The identifying attributes of a service, as libipvs sends them: a
/// non-zero fwmark alone, otherwise protocol, address and port.
pub fn service_id_attrs(id: &ServiceId) -> Vec<ServiceAttr> {
    let mut attrs = Vec::with_capacity(8);
    attrs.push(ServiceAttr::Af(id.family.raw()));
    match id.addr {
        ServiceAddr::Fwmark(mark) if mark != 0 => attrs.push(ServiceAttr::Fwmark(mark)),
        ServiceAddr::Fwmark(_) => {
            attrs.push(ServiceAttr::Protocol(0));
            attrs.push(ServiceAttr::Addr([0; 16]));
            attrs.push(ServiceAttr::Port(0));
        }
        ServiceAddr::Inet {
            protocol,
            addr,
            port,
        } => {
            attrs.push(ServiceAttr::Protocol(protocol.raw()));
            attrs.push(ServiceAttr::Addr(raw_addr(&addr)));
            attrs.push(ServiceAttr::Port(port));
        }
    }
    attrs
}

pub(crate) fn netmask_raw(netmask: Netmask) -> u32 {
    match netmask {
        // The kernel reads the attribute as a __be32 mask.
        Netmask::V4(mask) => u32::from_ne_bytes(mask.octets()),
        Netmask::V6(prefix) => prefix,
    }
}

/// The full service attribute set libipvs sends for NEW/SET/DEL_SERVICE,
/// ZERO and NEW/SET/DEL_DEST; the flags mask is all ones (full replace).
pub fn service_attrs(svc: &Service) -> Vec<ServiceAttr> {
    let mut attrs = service_id_attrs(&svc.id);
    attrs.push(ServiceAttr::SchedName(svc.scheduler.clone()));
    if let Some(pe) = svc.pe_name.as_ref().filter(|pe| !pe.is_empty()) {
        attrs.push(ServiceAttr::PeName(pe.clone()));
    }
    attrs.push(ServiceAttr::Flags(FlagsMask {
        flags: svc.flags.bits(),
        mask: u32::MAX,
    }));
    attrs.push(ServiceAttr::Timeout(svc.timeout));
    attrs.push(ServiceAttr::Netmask(netmask_raw(svc.netmask)));
    attrs
}

/// The destination attribute set libipvs sends for NEW/SET/DEL_DEST.
pub fn dest_attrs(dest: &Dest) -> Vec<DestAttr> {
    vec![
        DestAttr::AddrFamily(dest.family.raw()),
        DestAttr::Addr(raw_addr(&dest.addr)),
        DestAttr::Port(dest.port),
        DestAttr::FwdMethod(dest.fwd.raw() & 0x7),
        DestAttr::Weight(dest.weight),
        DestAttr::TunType(dest.tun_type.raw()),
        DestAttr::TunPort(dest.tun_port),
        DestAttr::TunFlags(dest.tun_flags.bits()),
        DestAttr::UThresh(dest.u_threshold),
        DestAttr::LThresh(dest.l_threshold),
    ]
}

/// What libipvs sends to start a daemon: the optional fields only when
/// set and non-zero.
pub fn daemon_attrs(d: &Daemon) -> Vec<DaemonAttr> {
    let mut attrs = vec![
        DaemonAttr::State(d.state.raw()),
        DaemonAttr::McastIfn(d.mcast_ifn.clone()),
        DaemonAttr::SyncId(d.syncid),
    ];
    if let Some(maxlen) = d.sync_maxlen.filter(|&v| v != 0) {
        attrs.push(DaemonAttr::SyncMaxlen(maxlen));
    }
    if let Some(port) = d.mcast_port.filter(|&v| v != 0) {
        attrs.push(DaemonAttr::McastPort(port));
    }
    if let Some(ttl) = d.mcast_ttl.filter(|&v| v != 0) {
        attrs.push(DaemonAttr::McastTtl(ttl));
    }
    match d.mcast_group {
        Some(IpAddr::V6(group)) => attrs.push(DaemonAttr::McastGroup6(group)),
        Some(IpAddr::V4(group)) => attrs.push(DaemonAttr::McastGroup(group)),
        None => {}
    }
    attrs
}

/// What libipvs sends to stop a daemon.
pub fn stop_daemon_attrs(state: DaemonState, syncid: u32) -> Vec<DaemonAttr> {
    vec![
        DaemonAttr::State(state.raw()),
        DaemonAttr::McastIfn(String::new()),
        DaemonAttr::SyncId(syncid),
    ]
}

pub fn timeout_attrs(t: &Timeouts) -> Vec<IpvsAttr> {
    vec![
        IpvsAttr::TimeoutTcp(t.tcp),
        IpvsAttr::TimeoutTcpFin(t.tcp_fin),
        IpvsAttr::TimeoutUdp(t.udp),
    ]
}

fn missing(what: &str, attr: &str) -> DecodeError {
    DecodeError::from(format!("{what} without {attr}"))
}

fn add_legacy(s: &mut Stats, attr: &StatsAttr) {
    match *attr {
        StatsAttr::Conns(v) => s.conns = v.into(),
        StatsAttr::InPkts(v) => s.inpkts = v.into(),
        StatsAttr::OutPkts(v) => s.outpkts = v.into(),
        StatsAttr::InBytes(v) => s.inbytes = v,
        StatsAttr::OutBytes(v) => s.outbytes = v,
        StatsAttr::Cps(v) => s.cps = v.into(),
        StatsAttr::InPps(v) => s.inpps = v.into(),
        StatsAttr::OutPps(v) => s.outpps = v.into(),
        StatsAttr::InBps(v) => s.inbps = v.into(),
        StatsAttr::OutBps(v) => s.outbps = v.into(),
        StatsAttr::Other(_) => {}
    }
}

fn add_wide(s: &mut Stats, attr: &Stats64Attr) {
    match *attr {
        Stats64Attr::Conns(v) => s.conns = v,
        Stats64Attr::InPkts(v) => s.inpkts = v,
        Stats64Attr::OutPkts(v) => s.outpkts = v,
        Stats64Attr::InBytes(v) => s.inbytes = v,
        Stats64Attr::OutBytes(v) => s.outbytes = v,
        Stats64Attr::Cps(v) => s.cps = v,
        Stats64Attr::InPps(v) => s.inpps = v,
        Stats64Attr::OutPps(v) => s.outpps = v,
        Stats64Attr::InBps(v) => s.inbps = v,
        Stats64Attr::OutBps(v) => s.outbps = v,
        Stats64Attr::Other(_) => {}
    }
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

/// Legacy counters straight from a nested STATS payload: 32-bit, but for
/// the byte counters.
fn legacy_stats_in(payload: &[u8]) -> Result<Stats, DecodeError> {
    let mut s = Stats::default();
    for attr in raw_attrs(payload) {
        let RawAttr { kind, value, .. } = attr?;
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

/// 64-bit counters straight from a nested STATS64 payload.
fn wide_stats_in(payload: &[u8]) -> Result<Stats, DecodeError> {
    let mut s = Stats::default();
    for attr in raw_attrs(payload) {
        let RawAttr { kind, value, .. } = attr?;
        if let Some(counter) = counter_of(&mut s, kind) {
            *counter = parse_u64(value)
                .with_context(|| format!("invalid stats64 attribute {kind}"))?;
        }
    }
    Ok(s)
}

/// The counters of an in-place decoded reply: STATS64 when the kernel sent
/// it (every kernel since 4.1), else the legacy STATS, which are then the
/// only ones decoded.
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

/// Counters of a typed reply: STATS64 when present, else the legacy STATS.
#[derive(Default)]
struct Counters {
    legacy: Option<Stats>,
    wide: Option<Stats>,
}

impl Counters {
    fn legacy_from(&mut self, attrs: &[StatsAttr]) {
        let mut s = Stats::default();
        attrs.iter().for_each(|a| add_legacy(&mut s, a));
        self.legacy = Some(s);
    }

    fn wide_from(&mut self, attrs: &[Stats64Attr]) {
        let mut s = Stats::default();
        attrs.iter().for_each(|a| add_wide(&mut s, a));
        self.wide = Some(s);
    }

    fn stats(&self) -> Stats {
        self.wide.or(self.legacy).unwrap_or_default()
    }
}

fn family_of(af: u16, what: &str) -> Result<Family, DecodeError> {
    Family::from_raw(af)
        .ok_or_else(|| DecodeError::from(format!("{what} with address family {af}")))
}

/// The fields of a service reply, gathered attribute by attribute.
#[derive(Default)]
struct ServiceFields {
    af: Option<u16>,
    protocol: Option<u16>,
    addr: Option<RawAddr>,
    port: Option<u16>,
    fwmark: Option<u32>,
    sched: Option<String>,
    pe: Option<String>,
    flags: Option<FlagsMask>,
    timeout: Option<u32>,
    netmask: Option<u32>,
    counters: Counters,
}

impl ServiceFields {
    fn take(&mut self, attr: ServiceAttr) {
        match attr {
            ServiceAttr::Af(v) => self.af = Some(v),
            ServiceAttr::Protocol(v) => self.protocol = Some(v),
            ServiceAttr::Addr(v) => self.addr = Some(v),
            ServiceAttr::Port(v) => self.port = Some(v),
            ServiceAttr::Fwmark(v) => self.fwmark = Some(v),
            ServiceAttr::SchedName(v) => self.sched = Some(v),
            ServiceAttr::PeName(v) => self.pe = Some(v),
            ServiceAttr::Flags(v) => self.flags = Some(v),
            ServiceAttr::Timeout(v) => self.timeout = Some(v),
            ServiceAttr::Netmask(v) => self.netmask = Some(v),
            ServiceAttr::Stats(v) => self.counters.legacy_from(&v),
            ServiceAttr::Stats64(v) => self.counters.wide_from(&v),
            ServiceAttr::Other(_) => {}
        }
    }

    /// Requires what libipvs requires: AF, identity, scheduler, flags,
    /// timeout and netmask. `stats`: the counters, however they were read.
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
        let flags = self
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
            flags: ServiceFlags::from_bits_retain(flags.flags & flags.mask),
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

/// A service from typed reply attributes.
pub fn service_from_attrs(attrs: &[ServiceAttr]) -> Result<Service, DecodeError> {
    let mut fields = ServiceFields::default();
    attrs.iter().for_each(|a| fields.take(a.clone()));
    let stats = fields.counters.stats();
    fields.finish(stats)
}

/// A service straight from the payload of an `IPVS_CMD_ATTR_SERVICE`
/// attribute, without building attribute vectors (the listing hot path).
pub fn service_in(payload: &[u8]) -> Result<Service, DecodeError> {
    let mut fields = ServiceFields::default();
    let mut counters = RawCounters::default();
    for attr in raw_attrs(payload) {
        let attr = attr.context("invalid IPVS_CMD_ATTR_SERVICE")?;
        match attr.kind {
            IPVS_SVC_ATTR_STATS => counters.legacy = Some(attr.value),
            IPVS_SVC_ATTR_STATS64 => counters.wide = Some(attr.value),
            _ => fields.take(ServiceAttr::parse(&attr.buffer())?),
        }
    }
    fields.finish(counters.stats(["IPVS_SVC_ATTR_STATS", "IPVS_SVC_ATTR_STATS64"])?)
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
    counters: Counters,
}

impl DestFields {
    fn take(&mut self, attr: &DestAttr) {
        match attr {
            DestAttr::Addr(v) => self.addr = Some(*v),
            DestAttr::Port(v) => self.port = Some(*v),
            DestAttr::FwdMethod(v) => self.fwd = Some(*v),
            DestAttr::Weight(v) => self.weight = Some(*v),
            DestAttr::UThresh(v) => self.u_thr = Some(*v),
            DestAttr::LThresh(v) => self.l_thr = Some(*v),
            DestAttr::ActiveConns(v) => self.active = Some(*v),
            DestAttr::InactConns(v) => self.inact = Some(*v),
            DestAttr::PersistConns(v) => self.persist = Some(*v),
            DestAttr::AddrFamily(v) => self.af = Some(*v),
            DestAttr::TunType(v) => self.tun_type = *v,
            DestAttr::TunPort(v) => self.tun_port = *v,
            DestAttr::TunFlags(v) => self.tun_flags = *v,
            DestAttr::Stats(v) => self.counters.legacy_from(v),
            DestAttr::Stats64(v) => self.counters.wide_from(v),
            DestAttr::Other(_) => {}
        }
    }

    /// Requires what libipvs requires; the family defaults to the
    /// service's when the kernel does not say (before Linux 3.18).
    /// `stats`: the counters, however they were read.
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

/// A real server from typed reply attributes.
pub fn dest_from_attrs(
    attrs: &[DestAttr],
    service_family: Family,
) -> Result<Dest, DecodeError> {
    let mut fields = DestFields::default();
    attrs.iter().for_each(|a| fields.take(a));
    let stats = fields.counters.stats();
    fields.finish(service_family, stats)
}

/// A real server straight from the payload of an `IPVS_CMD_ATTR_DEST`
/// attribute, without allocating (the listing hot path: one per real
/// server). Reads what [`DestAttr::parse`] reads, with the same checks.
pub fn dest_in(payload: &[u8], service_family: Family) -> Result<Dest, DecodeError> {
    let mut f = DestFields::default();
    let mut counters = RawCounters::default();
    for attr in raw_attrs(payload) {
        let RawAttr { kind, value, .. } = attr.context("invalid IPVS_CMD_ATTR_DEST")?;
        let u32_of =
            |name: &str| parse_u32(value).with_context(|| format!("invalid {name}"));
        match kind {
            IPVS_DEST_ATTR_ADDR => {
                f.addr =
                    Some(parse_raw_addr(value).context("invalid IPVS_DEST_ATTR_ADDR")?)
            }
            IPVS_DEST_ATTR_PORT => {
                f.port = Some(parse_u16_be(value).context("invalid IPVS_DEST_ATTR_PORT")?)
            }
            IPVS_DEST_ATTR_FWD_METHOD => {
                f.fwd = Some(u32_of("IPVS_DEST_ATTR_FWD_METHOD")?)
            }
            IPVS_DEST_ATTR_WEIGHT => {
                f.weight =
                    Some(parse_i32_ne(value).context("invalid IPVS_DEST_ATTR_WEIGHT")?)
            }
            IPVS_DEST_ATTR_U_THRESH => f.u_thr = Some(u32_of("IPVS_DEST_ATTR_U_THRESH")?),
            IPVS_DEST_ATTR_L_THRESH => f.l_thr = Some(u32_of("IPVS_DEST_ATTR_L_THRESH")?),
            IPVS_DEST_ATTR_ACTIVE_CONNS => {
                f.active = Some(u32_of("IPVS_DEST_ATTR_ACTIVE_CONNS")?)
            }
            IPVS_DEST_ATTR_INACT_CONNS => {
                f.inact = Some(u32_of("IPVS_DEST_ATTR_INACT_CONNS")?)
            }
            IPVS_DEST_ATTR_PERSIST_CONNS => {
                f.persist = Some(u32_of("IPVS_DEST_ATTR_PERSIST_CONNS")?)
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
    let attrs = payload
        .get(4..)
        .ok_or_else(|| DecodeError::buffer_too_small(payload.len(), 4))
        .context("IPVS reply shorter than its genl header")?;
    for attr in raw_attrs(attrs) {
        let attr = attr.context("invalid IPVS reply attribute")?;
        if attr.kind == kind {
            each(attr.value)?;
        }
    }
    Ok(())
}

pub fn daemon_from_attrs(attrs: &[DaemonAttr]) -> Result<Daemon, DecodeError> {
    let (mut state, mut ifn, mut syncid) = (None, None, None);
    let mut daemon_opts = (None, None, None, None);
    for attr in attrs {
        match attr {
            DaemonAttr::State(v) => state = Some(*v),
            DaemonAttr::McastIfn(v) => ifn = Some(v),
            DaemonAttr::SyncId(v) => syncid = Some(*v),
            DaemonAttr::SyncMaxlen(v) => daemon_opts.0 = Some(*v),
            DaemonAttr::McastGroup(v) => daemon_opts.1 = Some(IpAddr::V4(*v)),
            DaemonAttr::McastGroup6(v) => daemon_opts.1 = Some(IpAddr::V6(*v)),
            DaemonAttr::McastPort(v) => daemon_opts.2 = Some(*v),
            DaemonAttr::McastTtl(v) => daemon_opts.3 = Some(*v),
            DaemonAttr::Other(_) => {}
        }
    }
    let what = "sync daemon";
    let state = state.ok_or_else(|| missing(what, "IPVS_DAEMON_ATTR_STATE"))?;
    Ok(Daemon {
        state: DaemonState::from_raw(state)
            .ok_or_else(|| DecodeError::from(format!("sync daemon in state {state}")))?,
        mcast_ifn: ifn
            .ok_or_else(|| missing(what, "IPVS_DAEMON_ATTR_MCAST_IFN"))?
            .clone(),
        syncid: syncid.ok_or_else(|| missing(what, "IPVS_DAEMON_ATTR_SYNC_ID"))?,
        sync_maxlen: daemon_opts.0,
        mcast_group: daemon_opts.1,
        mcast_port: daemon_opts.2,
        mcast_ttl: daemon_opts.3,
    })
}

/// `SET_INFO` reply; both attributes are required (the kernel always
/// sends them).
pub fn info_from_attrs(attrs: &[IpvsAttr]) -> Result<Info, DecodeError> {
    let (mut version, mut size) = (None, None);
    for attr in attrs {
        match attr {
            IpvsAttr::InfoVersion(v) => version = Some(*v),
            IpvsAttr::InfoConnTabSize(v) => size = Some(*v),
            _ => {}
        }
    }
    Ok(Info {
        version: version.ok_or_else(|| missing("info", "IPVS_INFO_ATTR_VERSION"))?,
        conn_tab_size: size
            .ok_or_else(|| missing("info", "IPVS_INFO_ATTR_CONN_TAB_SIZE"))?,
    })
}

/// `GET_CONFIG` reply; a missing timeout stays 0, as in libipvs.
pub fn timeouts_from_attrs(attrs: &[IpvsAttr]) -> Timeouts {
    let mut t = Timeouts::default();
    for attr in attrs {
        match attr {
            IpvsAttr::TimeoutTcp(v) => t.tcp = *v,
            IpvsAttr::TimeoutTcpFin(v) => t.tcp_fin = *v,
            IpvsAttr::TimeoutUdp(v) => t.udp = *v,
            _ => {}
        }
    }
    t
}
