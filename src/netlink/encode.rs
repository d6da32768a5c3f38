//! Requests written straight into the send buffer: the netlink and genl
//! headers, then the attributes libipvs (ipvsadm 1.31) sends, in its
//! order, with nested lengths patched once their children are written. A
//! large `-R` encodes one request per line, so nothing is built on the
//! way: no attribute vectors, no cloned names, no lengths computed twice.
//! The quirks of the encoding are those stated in [`super::consts`].
//!
//! Every request goes through here: the changes ([`change`]) and the
//! queries ([`query`]).

use std::net::IpAddr;

use netlink_packet_core::NLA_F_NESTED;

use super::consts::*;
use crate::backend::Change;
use crate::model::{
    Daemon, DaemonState, Dest, Netmask, Service, ServiceAddr, ServiceId, Timeouts,
};

/// `sizeof(struct nlattr)`
const NLA_HEADER_LEN: usize = 4;

/// One request being appended to a buffer.
struct Request<'a> {
    buf: &'a mut Vec<u8>,
    /// Where its netlink header starts.
    start: usize,
}

impl<'a> Request<'a> {
    /// Writes the netlink header (its length patched by `finish`) and the
    /// genl header.
    fn begin(
        buf: &'a mut Vec<u8>,
        family_id: u16,
        cmd: u8,
        flags: u16,
        seq: u32,
    ) -> Request<'a> {
        let start = buf.len();
        buf.extend_from_slice(&0u32.to_ne_bytes());
        buf.extend_from_slice(&family_id.to_ne_bytes());
        buf.extend_from_slice(&flags.to_ne_bytes());
        buf.extend_from_slice(&seq.to_ne_bytes());
        buf.extend_from_slice(&0u32.to_ne_bytes()); // port id: the kernel's
        buf.extend_from_slice(&[cmd, IPVS_GENL_VERSION, 0, 0]);
        Request { buf, start }
    }

    fn finish(self) {
        patch_len(self.buf, self.start);
    }

    /// One attribute with its value, padded with zeros to 4 bytes.
    fn attr(&mut self, kind: u16, value: &[u8]) {
        self.attr_with(kind, value, &[]);
    }

    /// One attribute whose value is `value` then `tail` (a string and its
    /// NUL), padded with zeros to 4 bytes.
    fn attr_with(&mut self, kind: u16, value: &[u8], tail: &[u8]) {
        let len = NLA_HEADER_LEN + value.len() + tail.len();
        // Values here are a few bytes; names are capped far below 64 KiB.
        self.buf.extend_from_slice(&(len as u16).to_ne_bytes());
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        self.buf.extend_from_slice(value);
        self.buf.extend_from_slice(tail);
        let padding = (4 - len % 4) % 4;
        self.buf.extend_from_slice(&[0; 3][..padding]);
    }

    fn u8(&mut self, kind: u16, v: u8) {
        self.attr(kind, &[v]);
    }

    fn u16(&mut self, kind: u16, v: u16) {
        self.attr(kind, &v.to_ne_bytes());
    }

    /// Ports: network byte order, without `NLA_F_NET_BYTEORDER`.
    fn port(&mut self, kind: u16, v: u16) {
        self.attr(kind, &v.to_be_bytes());
    }

    fn u32(&mut self, kind: u16, v: u32) {
        self.attr(kind, &v.to_ne_bytes());
    }

    /// A string with its terminating NUL.
    fn string(&mut self, kind: u16, s: &str) {
        self.attr_with(kind, s.as_bytes(), &[0]);
    }

    /// Starts a nested set (marked `NLA_F_NESTED`, as libnl does); returns
    /// where it starts, for `end_nested`.
    fn begin_nested(&mut self, kind: u16) -> usize {
        let at = self.buf.len();
        self.buf.extend_from_slice(&0u16.to_ne_bytes());
        self.buf
            .extend_from_slice(&(kind | NLA_F_NESTED).to_ne_bytes());
        at
    }

    /// Sets the length of the nested set started at `at` to cover what was
    /// written since (children are padded already).
    fn end_nested(&mut self, at: usize) {
        let len = (self.buf.len() - at) as u16;
        self.buf[at..at + 2].copy_from_slice(&len.to_ne_bytes());
    }

    /// The service's identity alone, nested: what `GET_SERVICE` and
    /// `GET_DEST` name a service by.
    fn service_id(&mut self, id: &ServiceId) {
        let at = self.begin_nested(IPVS_CMD_ATTR_SERVICE);
        self.service_identity(id);
        self.end_nested(at);
    }

    /// The family, then the fwmark or the protocol, address and port.
    fn service_identity(&mut self, id: &ServiceId) {
        self.u16(IPVS_SVC_ATTR_AF, id.family.raw());
        match id.addr {
            ServiceAddr::Fwmark(mark) if mark != 0 => {
                self.u32(IPVS_SVC_ATTR_FWMARK, mark)
            }
            ServiceAddr::Fwmark(_) => {
                self.u16(IPVS_SVC_ATTR_PROTOCOL, 0);
                self.attr(IPVS_SVC_ATTR_ADDR, &[0; 16]);
                self.port(IPVS_SVC_ATTR_PORT, 0);
            }
            ServiceAddr::Inet {
                protocol,
                addr,
                port,
            } => {
                self.u16(IPVS_SVC_ATTR_PROTOCOL, protocol.raw());
                self.attr(IPVS_SVC_ATTR_ADDR, &raw_addr(&addr));
                self.port(IPVS_SVC_ATTR_PORT, port);
            }
        }
    }

    /// The whole service, nested, as libipvs sends it for NEW/SET/DEL_SERVICE,
    /// ZERO and NEW/SET/DEL_DEST: the identity, scheduler, persistence
    /// engine when set, flags with an all-ones mask (a full replace),
    /// timeout and netmask.
    fn service(&mut self, svc: &Service) {
        let at = self.begin_nested(IPVS_CMD_ATTR_SERVICE);
        self.service_identity(&svc.id);
        self.string(IPVS_SVC_ATTR_SCHED_NAME, &svc.scheduler);
        if let Some(pe) = svc.pe_name.as_deref().filter(|pe| !pe.is_empty()) {
            self.string(IPVS_SVC_ATTR_PE_NAME, pe);
        }
        let mut flags = [0u8; 8];
        flags[..4].copy_from_slice(&svc.flags.bits().to_ne_bytes());
        flags[4..].copy_from_slice(&u32::MAX.to_ne_bytes()); // full replace
        self.attr(IPVS_SVC_ATTR_FLAGS, &flags);
        self.u32(IPVS_SVC_ATTR_TIMEOUT, svc.timeout);
        self.u32(IPVS_SVC_ATTR_NETMASK, netmask_raw(svc.netmask));
        self.end_nested(at);
    }

    /// The real server, nested, as libipvs sends it for NEW/SET/DEL_DEST.
    fn dest(&mut self, dest: &Dest) {
        let at = self.begin_nested(IPVS_CMD_ATTR_DEST);
        self.u16(IPVS_DEST_ATTR_ADDR_FAMILY, dest.family.raw());
        self.attr(IPVS_DEST_ATTR_ADDR, &raw_addr(&dest.addr));
        self.port(IPVS_DEST_ATTR_PORT, dest.port);
        self.u32(IPVS_DEST_ATTR_FWD_METHOD, dest.fwd.raw() & 0x7);
        self.u32(IPVS_DEST_ATTR_WEIGHT, dest.weight as u32);
        self.u8(IPVS_DEST_ATTR_TUN_TYPE, dest.tun_type.raw());
        self.port(IPVS_DEST_ATTR_TUN_PORT, dest.tun_port);
        self.u16(IPVS_DEST_ATTR_TUN_FLAGS, dest.tun_flags.bits());
        self.u32(IPVS_DEST_ATTR_U_THRESH, dest.u_threshold);
        self.u32(IPVS_DEST_ATTR_L_THRESH, dest.l_threshold);
        self.end_nested(at);
    }

    /// What libipvs sends to start a daemon: the optional fields only when
    /// set and non-zero.
    fn start_daemon(&mut self, d: &Daemon) {
        let at = self.begin_nested(IPVS_CMD_ATTR_DAEMON);
        self.u32(IPVS_DAEMON_ATTR_STATE, d.state.raw());
        self.string(IPVS_DAEMON_ATTR_MCAST_IFN, &d.mcast_ifn);
        self.u32(IPVS_DAEMON_ATTR_SYNC_ID, d.syncid);
        if let Some(maxlen) = d.sync_maxlen.filter(|&v| v != 0) {
            self.u16(IPVS_DAEMON_ATTR_SYNC_MAXLEN, maxlen);
        }
        if let Some(port) = d.mcast_port.filter(|&v| v != 0) {
            self.u16(IPVS_DAEMON_ATTR_MCAST_PORT, port); // host order, unlike the others
        }
        if let Some(ttl) = d.mcast_ttl.filter(|&v| v != 0) {
            self.u8(IPVS_DAEMON_ATTR_MCAST_TTL, ttl);
        }
        match d.mcast_group {
            Some(IpAddr::V6(group)) => {
                self.attr(IPVS_DAEMON_ATTR_MCAST_GROUP6, &group.octets())
            }
            Some(IpAddr::V4(group)) => {
                self.attr(IPVS_DAEMON_ATTR_MCAST_GROUP, &group.octets())
            }
            None => {}
        }
        self.end_nested(at);
    }

    /// What libipvs sends to stop a daemon: the state, an empty interface
    /// and the sync id.
    fn stop_daemon(&mut self, state: DaemonState, syncid: u32) {
        let at = self.begin_nested(IPVS_CMD_ATTR_DAEMON);
        self.u32(IPVS_DAEMON_ATTR_STATE, state.raw());
        self.string(IPVS_DAEMON_ATTR_MCAST_IFN, "");
        self.u32(IPVS_DAEMON_ATTR_SYNC_ID, syncid);
        self.end_nested(at);
    }

    /// The three timeouts, at top level (0 keeps the kernel's).
    fn timeouts(&mut self, t: &Timeouts) {
        self.u32(IPVS_CMD_ATTR_TIMEOUT_TCP, t.tcp);
        self.u32(IPVS_CMD_ATTR_TIMEOUT_TCP_FIN, t.tcp_fin);
        self.u32(IPVS_CMD_ATTR_TIMEOUT_UDP, t.udp);
    }
}

/// Sets the netlink length of the message that starts at `start` to the
/// end of `buf`.
fn patch_len(buf: &mut [u8], start: usize) {
    let len = (buf.len() - start) as u32;
    buf[start..start + 4].copy_from_slice(&len.to_ne_bytes());
}

/// libipvs zeroes everything when the service identity is all zeros
/// (`ipvsadm -Z -t 0.0.0.0:0`), by leaving out the service attribute.
fn zeroes_all(svc: &Service) -> bool {
    match svc.id.addr {
        ServiceAddr::Fwmark(mark) => mark == 0,
        ServiceAddr::Inet { addr, port, .. } => addr.is_unspecified() && port == 0,
    }
}

/// The kernel's `union nf_inet_addr`: IPv4 in the first four bytes.
fn raw_addr(addr: &IpAddr) -> [u8; 16] {
    let mut raw = [0u8; 16];
    match addr {
        IpAddr::V4(a) => raw[..4].copy_from_slice(&a.octets()),
        IpAddr::V6(a) => raw = a.octets(),
    }
    raw
}

fn netmask_raw(netmask: Netmask) -> u32 {
    match netmask {
        // The kernel reads the attribute as a __be32 mask.
        Netmask::V4(mask) => u32::from_ne_bytes(mask.octets()),
        Netmask::V6(prefix) => prefix,
    }
}

/// A request that reads the table, as libipvs sends it.
#[derive(Debug, Clone, Copy)]
pub enum Query<'a> {
    /// `GET_INFO`: the version and connection table size.
    Info,
    /// `GET_SERVICE` dump: every service.
    Services,
    /// `GET_SERVICE` of one service, named by its identity.
    Service(&'a ServiceId),
    /// `GET_DEST` dump: the real servers of one service (a listing sends
    /// one per service).
    Dests(&'a ServiceId),
    /// `GET_CONFIG`: the timeouts.
    Timeouts,
    /// `GET_DAEMON` dump: the sync daemons.
    Daemons,
}

impl Query<'_> {
    /// Whether the kernel answers with a dump (`NLM_F_DUMP`) rather than
    /// one message.
    pub fn is_dump(&self) -> bool {
        matches!(self, Query::Services | Query::Dests(_) | Query::Daemons)
    }
}

/// Appends the request for `query` to `buf`: one whole netlink message.
pub fn query(buf: &mut Vec<u8>, family_id: u16, query: &Query, flags: u16, seq: u32) {
    let cmd = match query {
        Query::Info => IPVS_CMD_GET_INFO,
        Query::Services | Query::Service(_) => IPVS_CMD_GET_SERVICE,
        Query::Dests(_) => IPVS_CMD_GET_DEST,
        Query::Timeouts => IPVS_CMD_GET_CONFIG,
        Query::Daemons => IPVS_CMD_GET_DAEMON,
    };
    let mut request = Request::begin(buf, family_id, cmd, flags, seq);
    match query {
        Query::Service(id) | Query::Dests(id) => request.service_id(id),
        Query::Info | Query::Services | Query::Timeouts | Query::Daemons => {}
    }
    request.finish();
}

/// Appends the request for `change` to `buf`: one whole netlink message.
pub fn change(buf: &mut Vec<u8>, family_id: u16, change: &Change, flags: u16, seq: u32) {
    let cmd = match change {
        Change::AddService(_) => IPVS_CMD_NEW_SERVICE,
        Change::EditService(_) => IPVS_CMD_SET_SERVICE,
        Change::DelService(_) => IPVS_CMD_DEL_SERVICE,
        Change::Zero(_) => IPVS_CMD_ZERO,
        Change::Flush => IPVS_CMD_FLUSH,
        Change::AddDest(..) => IPVS_CMD_NEW_DEST,
        Change::EditDest(..) => IPVS_CMD_SET_DEST,
        Change::DelDest(..) => IPVS_CMD_DEL_DEST,
        Change::SetTimeouts(_) => IPVS_CMD_SET_CONFIG,
        Change::StartDaemon(_) => IPVS_CMD_NEW_DAEMON,
        Change::StopDaemon { .. } => IPVS_CMD_DEL_DAEMON,
    };
    let mut request = Request::begin(buf, family_id, cmd, flags, seq);
    match change {
        Change::AddService(s) | Change::EditService(s) | Change::DelService(s) => {
            request.service(s)
        }
        Change::Zero(s) => {
            if let Some(s) = s.as_ref().filter(|s| !zeroes_all(s)) {
                request.service(s);
            }
        }
        Change::Flush => {}
        Change::AddDest(s, d) | Change::EditDest(s, d) | Change::DelDest(s, d) => {
            request.service(s);
            request.dest(d);
        }
        Change::SetTimeouts(t) => request.timeouts(t),
        Change::StartDaemon(d) => request.start_daemon(d),
        Change::StopDaemon { state, syncid } => request.stop_daemon(*state, *syncid),
    }
    request.finish();
}
