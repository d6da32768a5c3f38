//! Change requests written straight into the send buffer: the netlink and
//! genl headers, then the attributes libipvs sends, with nested lengths
//! patched once their children are written. A large `-R` encodes one
//! request per line, and building the typed [`super::message::IpvsMessage`]
//! for each (attribute vectors, a cloned scheduler name, lengths of nested
//! sets computed again at every level) cost more than the parsing.
//!
//! The bytes are exactly those of the typed path (`socket::encode` of
//! `change_request`'s message), which the tests below check for every
//! kind of change; the encoding quirks are those of [`super::attrs`].

use std::net::IpAddr;

use netlink_packet_core::NLA_F_NESTED;

use super::convert::{netmask_raw, raw_addr};
use super::message::{IPVS_GENL_VERSION, IpvsCmd};
use crate::backend::Change;
use crate::model::{
    Daemon, DaemonState, Dest, Service, ServiceAddr, ServiceId, Timeouts,
};

// Attribute numbers (`<linux/ip_vs.h>`), as in `attrs`.
const CMD_ATTR_SERVICE: u16 = 1;
const CMD_ATTR_DEST: u16 = 2;
const CMD_ATTR_DAEMON: u16 = 3;
const CMD_ATTR_TIMEOUT_TCP: u16 = 4;
const CMD_ATTR_TIMEOUT_TCP_FIN: u16 = 5;
const CMD_ATTR_TIMEOUT_UDP: u16 = 6;

const SVC_ATTR_AF: u16 = 1;
const SVC_ATTR_PROTOCOL: u16 = 2;
const SVC_ATTR_ADDR: u16 = 3;
const SVC_ATTR_PORT: u16 = 4;
const SVC_ATTR_FWMARK: u16 = 5;
const SVC_ATTR_SCHED_NAME: u16 = 6;
const SVC_ATTR_FLAGS: u16 = 7;
const SVC_ATTR_TIMEOUT: u16 = 8;
const SVC_ATTR_NETMASK: u16 = 9;
const SVC_ATTR_PE_NAME: u16 = 11;

const DEST_ATTR_ADDR: u16 = 1;
const DEST_ATTR_PORT: u16 = 2;
const DEST_ATTR_FWD_METHOD: u16 = 3;
const DEST_ATTR_WEIGHT: u16 = 4;
const DEST_ATTR_U_THRESH: u16 = 5;
const DEST_ATTR_L_THRESH: u16 = 6;
const DEST_ATTR_ADDR_FAMILY: u16 = 11;
const DEST_ATTR_TUN_TYPE: u16 = 13;
const DEST_ATTR_TUN_PORT: u16 = 14;
const DEST_ATTR_TUN_FLAGS: u16 = 15;

const DAEMON_ATTR_STATE: u16 = 1;
const DAEMON_ATTR_MCAST_IFN: u16 = 2;
const DAEMON_ATTR_SYNC_ID: u16 = 3;
const DAEMON_ATTR_SYNC_MAXLEN: u16 = 4;
const DAEMON_ATTR_MCAST_GROUP: u16 = 5;
const DAEMON_ATTR_MCAST_GROUP6: u16 = 6;
const DAEMON_ATTR_MCAST_PORT: u16 = 7;
const DAEMON_ATTR_MCAST_TTL: u16 = 8;

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
        cmd: IpvsCmd,
        flags: u16,
        seq: u32,
    ) -> Request<'a> {
        let start = buf.len();
        buf.extend_from_slice(&0u32.to_ne_bytes());
        buf.extend_from_slice(&family_id.to_ne_bytes());
        buf.extend_from_slice(&flags.to_ne_bytes());
        buf.extend_from_slice(&seq.to_ne_bytes());
        buf.extend_from_slice(&0u32.to_ne_bytes()); // port id: the kernel's
        buf.extend_from_slice(&[u8::from(cmd), IPVS_GENL_VERSION, 0, 0]);
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

    /// `convert::service_id_attrs`, nested: what a `GET_DEST` names its
    /// service by.
    fn service_id(&mut self, id: &ServiceId) {
        let at = self.begin_nested(CMD_ATTR_SERVICE);
        self.service_identity(id);
        self.end_nested(at);
    }

    /// The family, then the fwmark or the protocol, address and port.
    fn service_identity(&mut self, id: &ServiceId) {
        self.u16(SVC_ATTR_AF, id.family.raw());
        match id.addr {
            ServiceAddr::Fwmark(mark) if mark != 0 => self.u32(SVC_ATTR_FWMARK, mark),
            ServiceAddr::Fwmark(_) => {
                self.u16(SVC_ATTR_PROTOCOL, 0);
                self.attr(SVC_ATTR_ADDR, &[0; 16]);
                self.port(SVC_ATTR_PORT, 0);
            }
            ServiceAddr::Inet {
                protocol,
                addr,
                port,
            } => {
                self.u16(SVC_ATTR_PROTOCOL, protocol.raw());
                self.attr(SVC_ATTR_ADDR, &raw_addr(&addr));
                self.port(SVC_ATTR_PORT, port);
            }
        }
    }

    /// `convert::service_attrs`, nested.
    fn service(&mut self, svc: &Service) {
        let at = self.begin_nested(CMD_ATTR_SERVICE);
        self.service_identity(&svc.id);
        self.string(SVC_ATTR_SCHED_NAME, &svc.scheduler);
        if let Some(pe) = svc.pe_name.as_deref().filter(|pe| !pe.is_empty()) {
            self.string(SVC_ATTR_PE_NAME, pe);
        }
        let mut flags = [0u8; 8];
        flags[..4].copy_from_slice(&svc.flags.bits().to_ne_bytes());
        flags[4..].copy_from_slice(&u32::MAX.to_ne_bytes()); // full replace
        self.attr(SVC_ATTR_FLAGS, &flags);
        self.u32(SVC_ATTR_TIMEOUT, svc.timeout);
        self.u32(SVC_ATTR_NETMASK, netmask_raw(svc.netmask));
        self.end_nested(at);
    }

    /// `convert::dest_attrs`, nested.
    fn dest(&mut self, dest: &Dest) {
        let at = self.begin_nested(CMD_ATTR_DEST);
        self.u16(DEST_ATTR_ADDR_FAMILY, dest.family.raw());
        self.attr(DEST_ATTR_ADDR, &raw_addr(&dest.addr));
        self.port(DEST_ATTR_PORT, dest.port);
        self.u32(DEST_ATTR_FWD_METHOD, dest.fwd.raw() & 0x7);
        self.u32(DEST_ATTR_WEIGHT, dest.weight as u32);
        self.u8(DEST_ATTR_TUN_TYPE, dest.tun_type.raw());
        self.port(DEST_ATTR_TUN_PORT, dest.tun_port);
        self.u16(DEST_ATTR_TUN_FLAGS, dest.tun_flags.bits());
        self.u32(DEST_ATTR_U_THRESH, dest.u_threshold);
        self.u32(DEST_ATTR_L_THRESH, dest.l_threshold);
        self.end_nested(at);
    }

    /// `convert::daemon_attrs`, nested.
    fn start_daemon(&mut self, d: &Daemon) {
        let at = self.begin_nested(CMD_ATTR_DAEMON);
        self.u32(DAEMON_ATTR_STATE, d.state.raw());
        self.string(DAEMON_ATTR_MCAST_IFN, &d.mcast_ifn);
        self.u32(DAEMON_ATTR_SYNC_ID, d.syncid);
        if let Some(maxlen) = d.sync_maxlen.filter(|&v| v != 0) {
            self.u16(DAEMON_ATTR_SYNC_MAXLEN, maxlen);
        }
        if let Some(port) = d.mcast_port.filter(|&v| v != 0) {
            self.u16(DAEMON_ATTR_MCAST_PORT, port); // host order, unlike the others
        }
        if let Some(ttl) = d.mcast_ttl.filter(|&v| v != 0) {
            self.u8(DAEMON_ATTR_MCAST_TTL, ttl);
        }
        match d.mcast_group {
            Some(IpAddr::V6(group)) => {
                self.attr(DAEMON_ATTR_MCAST_GROUP6, &group.octets())
            }
            Some(IpAddr::V4(group)) => {
                self.attr(DAEMON_ATTR_MCAST_GROUP, &group.octets())
            }
            None => {}
        }
        self.end_nested(at);
    }

    /// `convert::stop_daemon_attrs`, nested.
    fn stop_daemon(&mut self, state: DaemonState, syncid: u32) {
        let at = self.begin_nested(CMD_ATTR_DAEMON);
        self.u32(DAEMON_ATTR_STATE, state.raw());
        self.string(DAEMON_ATTR_MCAST_IFN, "");
        self.u32(DAEMON_ATTR_SYNC_ID, syncid);
        self.end_nested(at);
    }

    /// `convert::timeout_attrs`.
    fn timeouts(&mut self, t: &Timeouts) {
        self.u32(CMD_ATTR_TIMEOUT_TCP, t.tcp);
        self.u32(CMD_ATTR_TIMEOUT_TCP_FIN, t.tcp_fin);
        self.u32(CMD_ATTR_TIMEOUT_UDP, t.udp);
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
pub(super) fn zeroes_all(svc: &Service) -> bool {
    match svc.id.addr {
        ServiceAddr::Fwmark(mark) => mark == 0,
        ServiceAddr::Inet { addr, port, .. } => addr.is_unspecified() && port == 0,
    }
}

/// Appends the `GET_DEST` request of the dump of `id`'s real servers: a
/// listing sends one per service.
pub fn dest_dump_request(
    buf: &mut Vec<u8>,
    family_id: u16,
    id: &ServiceId,
    flags: u16,
    seq: u32,
) {
    let mut request = Request::begin(buf, family_id, IpvsCmd::GetDest, flags, seq);
    request.service_id(id);
    request.finish();
}

/// Appends the request for `change` to `buf`: one whole netlink message,
/// the same bytes as the typed message of `change_request` through
/// `socket::encode`.
pub fn change(buf: &mut Vec<u8>, family_id: u16, change: &Change, flags: u16, seq: u32) {
    let cmd = match change {
        Change::AddService(_) => IpvsCmd::NewService,
        Change::EditService(_) => IpvsCmd::SetService,
        Change::DelService(_) => IpvsCmd::DelService,
        Change::Zero(_) => IpvsCmd::Zero,
        Change::Flush => IpvsCmd::Flush,
        Change::AddDest(..) => IpvsCmd::NewDest,
        Change::EditDest(..) => IpvsCmd::SetDest,
        Change::DelDest(..) => IpvsCmd::DelDest,
        Change::SetTimeouts(_) => IpvsCmd::SetConfig,
        Change::StartDaemon(_) => IpvsCmd::NewDaemon,
        Change::StopDaemon { .. } => IpvsCmd::DelDaemon,
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

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use netlink_packet_core::{NLM_F_ACK, NLM_F_REQUEST};
    use proptest::prelude::*;

    use super::*;
    use crate::model::{
        Family, FwdMethod, Netmask, Protocol, ServiceFlags, ServiceId, Stats,
        TunnelFlags, TunnelType,
    };
    use crate::netlink::change_request;
    use crate::netlink::socket::encode;

    fn family() -> impl Strategy<Value = Family> {
        prop_oneof![Just(Family::Inet), Just(Family::Inet6)]
    }

    fn addr(family: Family) -> BoxedStrategy<IpAddr> {
        match family {
            Family::Inet => any::<[u8; 4]>()
                .prop_map(|o| IpAddr::V4(Ipv4Addr::from(o)))
                .boxed(),
            Family::Inet6 => prop_oneof![
                Just(IpAddr::V6(Ipv6Addr::UNSPECIFIED)),
                any::<[u8; 16]>().prop_map(|o| IpAddr::V6(Ipv6Addr::from(o))),
            ]
            .boxed(),
        }
    }

    fn protocol() -> impl Strategy<Value = Protocol> {
        prop_oneof![
            Just(Protocol::Tcp),
            Just(Protocol::Udp),
            Just(Protocol::Sctp),
            any::<u16>().prop_map(Protocol::from_raw),
        ]
    }

    /// Names of every length, multi-byte characters included.
    fn name() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(String::new()),
            Just("rr".to_string()),
            "[a-z]{1,16}",
            ".{0,20}",
        ]
    }

    fn service() -> impl Strategy<Value = Service> {
        let addr = family().prop_flat_map(|family| {
            let inet = (protocol(), addr(family), any::<u16>()).prop_map(
                |(protocol, addr, port)| ServiceAddr::Inet {
                    protocol,
                    addr,
                    port,
                },
            );
            let fwmark =
                prop_oneof![Just(0u32), any::<u32>()].prop_map(ServiceAddr::Fwmark);
            (Just(family), prop_oneof![inet, fwmark])
        });
        (
            addr,
            name(),
            proptest::option::of(name()),
            any::<u32>(),
            any::<u32>(),
            any::<u32>(),
        )
            .prop_map(
                |((family, addr), scheduler, pe_name, flags, timeout, mask)| Service {
                    id: ServiceId { family, addr },
                    scheduler,
                    pe_name,
                    flags: ServiceFlags::from_bits_retain(flags),
                    timeout,
                    netmask: match family {
                        Family::Inet => Netmask::V4(Ipv4Addr::from(mask)),
                        Family::Inet6 => Netmask::V6(mask % 129),
                    },
                    stats: Stats::default(),
                },
            )
    }

    fn dest() -> impl Strategy<Value = Dest> {
        let fwd = prop_oneof![
            Just(FwdMethod::Masq),
            Just(FwdMethod::Local),
            Just(FwdMethod::Tunnel),
            Just(FwdMethod::Route),
            any::<u32>().prop_map(FwdMethod::from_raw),
        ];
        let tun_type = prop_oneof![
            Just(TunnelType::Ipip),
            Just(TunnelType::Gue),
            Just(TunnelType::Gre),
            any::<u8>().prop_map(TunnelType::from_raw),
        ];
        (
            family().prop_flat_map(|f| (Just(f), addr(f))),
            any::<u16>(),
            fwd,
            any::<i32>(),
            (any::<u32>(), any::<u32>(), any::<u32>()),
            (tun_type, any::<u16>(), any::<u16>()),
        )
            .prop_map(
                |((family, addr), port, fwd, weight, (u, l, conns), (tt, tp, tf))| Dest {
                    family,
                    addr,
                    port,
                    fwd,
                    weight,
                    u_threshold: u,
                    l_threshold: l,
                    active_conns: conns,
                    inact_conns: conns,
                    persist_conns: conns,
                    tun_type: tt,
                    tun_port: tp,
                    tun_flags: TunnelFlags::from_bits_retain(tf),
                    stats: Stats::default(),
                },
            )
    }

    fn state() -> impl Strategy<Value = DaemonState> {
        prop_oneof![Just(DaemonState::Master), Just(DaemonState::Backup)]
    }

    fn daemon() -> impl Strategy<Value = Daemon> {
        let group = proptest::option::of(prop_oneof![
            any::<[u8; 4]>().prop_map(|o| IpAddr::V4(Ipv4Addr::from(o))),
            any::<[u8; 16]>().prop_map(|o| IpAddr::V6(Ipv6Addr::from(o))),
        ]);
        (
            state(),
            name(),
            any::<u32>(),
            proptest::option::of(prop_oneof![Just(0u16), any::<u16>()]),
            group,
            proptest::option::of(prop_oneof![Just(0u16), any::<u16>()]),
            proptest::option::of(prop_oneof![Just(0u8), any::<u8>()]),
        )
            .prop_map(
                |(
                    state,
                    mcast_ifn,
                    syncid,
                    sync_maxlen,
                    mcast_group,
                    mcast_port,
                    mcast_ttl,
                )| {
                    Daemon {
                        state,
                        mcast_ifn,
                        syncid,
                        sync_maxlen,
                        mcast_group,
                        mcast_port,
                        mcast_ttl,
                    }
                },
            )
    }

    fn change_strategy() -> impl Strategy<Value = Change> {
        prop_oneof![
            service().prop_map(Change::AddService),
            service().prop_map(Change::EditService),
            service().prop_map(Change::DelService),
            proptest::option::of(service()).prop_map(Change::Zero),
            Just(Change::Flush),
            (service(), dest()).prop_map(|(s, d)| Change::AddDest(s, d)),
            (service(), dest()).prop_map(|(s, d)| Change::EditDest(s, d)),
            (service(), dest()).prop_map(|(s, d)| Change::DelDest(s, d)),
            (any::<u32>(), any::<u32>(), any::<u32>()).prop_map(|(tcp, tcp_fin, udp)| {
                Change::SetTimeouts(Timeouts { tcp, tcp_fin, udp })
            }),
            daemon().prop_map(Change::StartDaemon),
            (state(), any::<u32>())
                .prop_map(|(state, syncid)| Change::StopDaemon { state, syncid }),
        ]
    }

    fn typed(family_id: u16, change: &Change, flags: u16, seq: u32) -> Vec<u8> {
        let mut buf = Vec::new();
        encode(&mut buf, family_id, change_request(change).1, flags, seq);
        buf
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Every kind of change encodes to the bytes of the typed path,
        /// appended after whatever the buffer already holds.
        #[test]
        fn direct_encoding_is_byte_for_byte_the_typed_one(
            changes in proptest::collection::vec(change_strategy(), 1..4),
            family_id in any::<u16>(),
            seq in any::<u32>(),
            ack in any::<bool>(),
        ) {
            let flags = if ack { NLM_F_REQUEST | NLM_F_ACK } else { NLM_F_REQUEST };
            let mut direct = vec![0xaa; 3];
            let mut expected = direct.clone();
            for (i, c) in changes.iter().enumerate() {
                let seq = seq.wrapping_add(i as u32);
                change(&mut direct, family_id, c, flags, seq);
                expected.extend(typed(family_id, c, flags, seq));
            }
            prop_assert_eq!(direct, expected);
        }
    }

    proptest! {
        /// The real-server dump request too: the bytes of the typed
        /// `GET_DEST` with the service's identity.
        #[test]
        fn dest_dump_requests_are_the_typed_ones(
            svc in service(),
            family_id in any::<u16>(),
            seq in any::<u32>(),
        ) {
            use netlink_packet_core::NLM_F_DUMP;
            use crate::netlink::attrs::IpvsAttr;
            use crate::netlink::convert::service_id_attrs;
            use crate::netlink::message::IpvsMessage;
            let flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_DUMP;
            let mut direct = vec![0x55; 5];
            dest_dump_request(&mut direct, family_id, &svc.id, flags, seq);
            let mut expected = vec![0x55; 5];
            let typed = IpvsMessage::new(
                IpvsCmd::GetDest,
                vec![IpvsAttr::Service(service_id_attrs(&svc.id))],
            );
            encode(&mut expected, family_id, typed, flags, seq);
            prop_assert_eq!(direct, expected);
        }
    }

    #[test]
    fn zeroing_everything_leaves_the_service_out() {
        let all = Service {
            id: ServiceId {
                family: Family::Inet,
                addr: ServiceAddr::Inet {
                    protocol: Protocol::Tcp,
                    addr: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                    port: 0,
                },
            },
            scheduler: String::new(),
            pe_name: None,
            flags: ServiceFlags::empty(),
            timeout: 0,
            netmask: Netmask::V4(Ipv4Addr::BROADCAST),
            stats: Stats::default(),
        };
        for zero in [Change::Zero(None), Change::Zero(Some(all))] {
            let mut buf = Vec::new();
            change(&mut buf, 0x20, &zero, NLM_F_REQUEST, 1);
            assert_eq!(buf.len(), 20, "headers only");
            assert_eq!(buf, typed(0x20, &zero, NLM_F_REQUEST, 1));
        }
    }
}
