//! Between the shared model and the attribute sets: what libipvs sends for
//! each object, and how a kernel reply becomes a model value.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use netlink_packet_core::DecodeError;

use super::attrs::{
    DaemonAttr, DestAttr, FlagsMask, IpvsAttr, RawAddr, ServiceAttr, Stats64Attr,
    StatsAttr,
};
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

fn netmask_raw(netmask: Netmask) -> u32 {
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

fn stats_from_legacy(attrs: &[StatsAttr]) -> Stats {
    let mut s = Stats::default();
    for attr in attrs {
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
    s
}

fn stats_from_64(attrs: &[Stats64Attr]) -> Stats {
    let mut s = Stats::default();
    for attr in attrs {
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
    s
}

/// Counters from STATS64 when present, else from the legacy STATS.
fn pick_stats(legacy: Option<&[StatsAttr]>, wide: Option<&[Stats64Attr]>) -> Stats {
    match (wide, legacy) {
        (Some(wide), _) => stats_from_64(wide),
        (None, Some(legacy)) => stats_from_legacy(legacy),
        (None, None) => Stats::default(),
    }
}

fn family_of(af: u16, what: &str) -> Result<Family, DecodeError> {
    Family::from_raw(af)
        .ok_or_else(|| DecodeError::from(format!("{what} with address family {af}")))
}

/// A service from a kernel reply. Requires what libipvs requires: AF,
/// identity, scheduler, flags, timeout and netmask.
pub fn service_from_attrs(attrs: &[ServiceAttr]) -> Result<Service, DecodeError> {
    let (mut af, mut protocol, mut addr, mut port, mut fwmark) =
        (None, None, None, None, None);
    let (mut sched, mut pe, mut flags, mut timeout, mut netmask) =
        (None, None, None, None, None);
    let (mut legacy, mut wide) = (None, None);
    for attr in attrs {
        match attr {
            ServiceAttr::Af(v) => af = Some(*v),
            ServiceAttr::Protocol(v) => protocol = Some(*v),
            ServiceAttr::Addr(v) => addr = Some(v),
            ServiceAttr::Port(v) => port = Some(*v),
            ServiceAttr::Fwmark(v) => fwmark = Some(*v),
            ServiceAttr::SchedName(v) => sched = Some(v),
            ServiceAttr::PeName(v) => pe = Some(v),
            ServiceAttr::Flags(v) => flags = Some(*v),
            ServiceAttr::Timeout(v) => timeout = Some(*v),
            ServiceAttr::Netmask(v) => netmask = Some(*v),
            ServiceAttr::Stats(v) => legacy = Some(v.as_slice()),
            ServiceAttr::Stats64(v) => wide = Some(v.as_slice()),
            ServiceAttr::Other(_) => {}
        }
    }
    let what = "service";
    let family = family_of(af.ok_or_else(|| missing(what, "IPVS_SVC_ATTR_AF"))?, what)?;
    let svc_addr = match (fwmark, protocol, addr, port) {
        (Some(mark), _, _, _) => ServiceAddr::Fwmark(mark),
        (None, Some(protocol), Some(addr), Some(port)) => ServiceAddr::Inet {
            protocol: Protocol::from_raw(protocol),
            addr: addr_of(family, addr),
            port,
        },
        _ => return Err(missing(what, "IPVS_SVC_ATTR_FWMARK or PROTOCOL/ADDR/PORT")),
    };
    let flags = flags.ok_or_else(|| missing(what, "IPVS_SVC_ATTR_FLAGS"))?;
    let netmask = netmask.ok_or_else(|| missing(what, "IPVS_SVC_ATTR_NETMASK"))?;
    Ok(Service {
        id: ServiceId {
            family,
            addr: svc_addr,
        },
        scheduler: sched
            .ok_or_else(|| missing(what, "IPVS_SVC_ATTR_SCHED_NAME"))?
            .clone(),
        pe_name: pe.filter(|pe| !pe.is_empty()).cloned(),
        flags: ServiceFlags::from_bits_retain(flags.flags & flags.mask),
        timeout: timeout.ok_or_else(|| missing(what, "IPVS_SVC_ATTR_TIMEOUT"))?,
        netmask: match family {
            Family::Inet => Netmask::V4(Ipv4Addr::from(netmask.to_ne_bytes())),
            Family::Inet6 => Netmask::V6(netmask),
        },
        stats: pick_stats(legacy, wide),
    })
}

/// A real server from a kernel reply; its family defaults to the
/// service's when the kernel does not say (before Linux 3.18).
pub fn dest_from_attrs(
    attrs: &[DestAttr],
    service_family: Family,
) -> Result<Dest, DecodeError> {
    let (mut addr, mut port, mut fwd, mut weight, mut u_thr, mut l_thr) =
        (None, None, None, None, None, None);
    let (mut active, mut inact, mut persist, mut af) = (None, None, None, None);
    let (mut tun_type, mut tun_port, mut tun_flags) = (0, 0, 0);
    let (mut legacy, mut wide) = (None, None);
    for attr in attrs {
        match attr {
            DestAttr::Addr(v) => addr = Some(v),
            DestAttr::Port(v) => port = Some(*v),
            DestAttr::FwdMethod(v) => fwd = Some(*v),
            DestAttr::Weight(v) => weight = Some(*v),
            DestAttr::UThresh(v) => u_thr = Some(*v),
            DestAttr::LThresh(v) => l_thr = Some(*v),
            DestAttr::ActiveConns(v) => active = Some(*v),
            DestAttr::InactConns(v) => inact = Some(*v),
            DestAttr::PersistConns(v) => persist = Some(*v),
            DestAttr::AddrFamily(v) => af = Some(*v),
            DestAttr::TunType(v) => tun_type = *v,
            DestAttr::TunPort(v) => tun_port = *v,
            DestAttr::TunFlags(v) => tun_flags = *v,
            DestAttr::Stats(v) => legacy = Some(v.as_slice()),
            DestAttr::Stats64(v) => wide = Some(v.as_slice()),
            DestAttr::Other(_) => {}
        }
    }
    let what = "destination";
    let family = match af {
        Some(af) => family_of(af, what)?,
        None => service_family,
    };
    let addr = addr.ok_or_else(|| missing(what, "IPVS_DEST_ATTR_ADDR"))?;
    Ok(Dest {
        family,
        addr: addr_of(family, addr),
        port: port.ok_or_else(|| missing(what, "IPVS_DEST_ATTR_PORT"))?,
        fwd: FwdMethod::from_raw(
            fwd.ok_or_else(|| missing(what, "IPVS_DEST_ATTR_FWD_METHOD"))?,
        ),
        weight: weight.ok_or_else(|| missing(what, "IPVS_DEST_ATTR_WEIGHT"))?,
        u_threshold: u_thr.ok_or_else(|| missing(what, "IPVS_DEST_ATTR_U_THRESH"))?,
        l_threshold: l_thr.ok_or_else(|| missing(what, "IPVS_DEST_ATTR_L_THRESH"))?,
        active_conns: active
            .ok_or_else(|| missing(what, "IPVS_DEST_ATTR_ACTIVE_CONNS"))?,
        inact_conns: inact.ok_or_else(|| missing(what, "IPVS_DEST_ATTR_INACT_CONNS"))?,
        persist_conns: persist
            .ok_or_else(|| missing(what, "IPVS_DEST_ATTR_PERSIST_CONNS"))?,
        tun_type: TunnelType::from_raw(tun_type),
        tun_port,
        tun_flags: TunnelFlags::from_bits_retain(tun_flags),
        stats: pick_stats(legacy, wide),
    })
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
