//! Codec tests, against oracles other than the codec itself: what the
//! kernel and ipvsadm 1.31 sent, and properties stated from first
//! principles.
//!
//! The reply vectors were captured from Linux 6.1 (Debian 6.1.0 cloud
//! kernel, IPVS 1.2.1) in the lab VM: the genl payload (genl header
//! onwards) of each message the kernel sent. Each decodes to the model
//! values written out in its test, and what we send for a decoded object
//! carries, byte for byte, the attributes the kernel reported for it. The
//! request vectors are what ipvsadm 1.31 (libnl 3.7) sent in the same VM,
//! read at its `sendmsg()`; we send the same bytes for the same values.
//! Integers in the vectors are little-endian, hence the guard.
#![cfg(target_endian = "little")]

use std::net::{IpAddr, Ipv4Addr};

use netlink_packet_core::{DecodeError, NLA_F_NESTED};
use pretty_assertions::assert_eq;

use super::consts::*;
use super::decode::*;
use super::encode::{self, Query};
use super::socket::request_ack;
use crate::backend::Change;
use crate::error::IpvsError;
use crate::model::*;

pub(super) fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("test vector is hex"))
        .collect()
}

// GET_INFO reply (cmd SET_INFO): version 1.2.1, table size 4096.
pub(super) const INFO_REPLY: &str = "0e01000008000100010201000800020000100000";

// GET_CONFIG reply (cmd SET_CONFIG) after `--set 901 121 301`.
const CONFIG_REPLY: &str = "0c01000008000400850300000800050079000000080006002d010000";

// The kube demo's service, TCP 10.200.1.76:9000 rr, after 100 requests.
pub(super) const SERVICE_TCP_WITH_STATS: &str = concat!(
    "010100002c01010006000100020000000600020006000000140003000ac8014c0000000000000000000000",
    "0006000400232800000700060072720000",
    "0c00070002000000ffffffff080008000000000008000900ffffffff5c000a00080001006400000008000200",
    "7302000008000300420200000c00040058a10000000000000c00050034d10000000000000800060007000000",
    "0800070029000000080008002600000008000900960a000008000a00b40d00007c000c000c00010064000000",
    "000000000c00020073020000000000000c00030042020000000000000c00040058a10000000000000c000500",
    "34d10000000000000c00060007000000000000000c00070029000000000000000c0008002600000000000000",
    "0c000900960a0000000000000c000a00b40d000000000000",
);

// One of its real servers: 10.10.3.2:80 masq, 34 connections.
pub(super) const DEST_MASQ_WITH_STATS: &str = concat!(
    "0501000050010200140001000a0a030200000000000000000000000006000200005000000800030000000000",
    "080004000100000005000d000000000006000e000000000006000f0000000000080005000000000008000600",
    "0000000008000700000000000800080022000000080009000000000006000b00020000005c000a0008000100",
    "2200000008000200d500000008000300c50000000c000400d2360000000000000c0005003a47000000000000",
    "0800060002000000080007000e000000080008000d000000080009009b03000008000a00aa0400007c000c00",
    "0c00010022000000000000000c000200d5000000000000000c000300c5000000000000000c000400d2360000",
    "000000000c0005003a470000000000000c00060002000000000000000c0007000e000000000000000c000800",
    "0d000000000000000c0009009b030000000000000c000a00aa04000000000000",
);

// GET_DAEMON dump: master on vw1, syncid 3, maxlen 1400, 239.1.2.3:9000 ttl 5.
const DAEMON_MASTER: &str = concat!(
    "090100003c000300080001000100000008000200767731000800030003000000060004007805000006000700",
    "28230000050008000500000008000500ef010203",
);

// ... and backup on vw2, syncid 200, group ff02::81 (kernel defaults for the rest).
const DAEMON_BACKUP_V6_GROUP: &str = concat!(
    "09010000480003000800010002000000080002007677320008000300c800000006000400ac05000006000700",
    "90220000050008000100000014000600ff020000000000000000000000000081",
);

// UDP [2001:db8::1]:53 wlc, persistent 300 s, IPv6 prefix 64.
const SERVICE_UDP6_PERSISTENT: &str = concat!(
    "010100002c010100060001000a00000006000200110000001400030020010db8000000000000000000000001",
    "060004000035000008000600776c63000c00070003000000ffffffff080008002c0100000800090040000000",
    "5c000a000800010000000000080002000000000008000300000000000c00040000000000000000000c000500",
    "0000000000000000080006000000000008000700000000000800080000000000080009000000000008000a00",
    "000000007c000c000c00010000000000000000000c00020000000000000000000c0003000000000000000000",
    "0c00040000000000000000000c00050000000000000000000c00060000000000000000000c00070000000000",
    "000000000c00080000000000000000000c00090000000000000000000c000a000000000000000000",
);

// UDP 10.0.0.2:5060 rr, persistent 360 s, netmask 255.255.255.0, pe sip.
const SERVICE_UDP_SIP: &str = concat!(
    "010100003401010006000100020000000600020011000000140003000a000002000000000000000000000000",
    "0600040013c40000070006007272000008000b00736970000c00070003000000ffffffff0800080068010000",
    "08000900ffffff005c000a000800010000000000080002000000000008000300000000000c00040000000000",
    "000000000c000500000000000000000008000600000000000800070000000000080008000000000008000900",
    "0000000008000a00000000007c000c000c00010000000000000000000c00020000000000000000000c000300",
    "00000000000000000c00040000000000000000000c00050000000000000000000c0006000000000000000000",
    "0c00070000000000000000000c00080000000000000000000c00090000000000000000000c000a0000000000",
    "00000000",
);

// fwmark 5 (IPv4) sh with sched flags 1 and 2.
pub(super) const SERVICE_FWMARK_SCHED_FLAGS: &str = concat!(
    "01010000100101000600010002000000080005000500000007000600736800000c0007001a000000ffffffff",
    "080008000000000008000900ffffffff5c000a00080001000000000008000200000000000800030000000000",
    "0c00040000000000000000000c00050000000000000000000800060000000000080007000000000008000800",
    "00000000080009000000000008000a00000000007c000c000c00010000000000000000000c00020000000000",
    "000000000c00030000000000000000000c00040000000000000000000c00050000000000000000000c000600",
    "00000000000000000c00070000000000000000000c00080000000000000000000c0009000000000000000000",
    "0c000a000000000000000000",
);

// fwmark 7 (IPv6) mh.
const SERVICE_FWMARK6: &str = concat!(
    "0101000010010100060001000a0000000800050007000000070006006d6800000c00070002000000ffffffff",
    "080008000000000008000900800000005c000a00080001000000000008000200000000000800030000000000",
    "0c00040000000000000000000c00050000000000000000000800060000000000080007000000000008000800",
    "00000000080009000000000008000a00000000007c000c000c00010000000000000000000c00020000000000",
    "000000000c00030000000000000000000c00040000000000000000000c00050000000000000000000c000600",
    "00000000000000000c00070000000000000000000c00080000000000000000000c0009000000000000000000",
    "0c000a000000000000000000",
);

// 192.168.1.4:0 tunnel, GRE, remcsum.
const DEST_GRE_REMCSUM: &str = concat!(
    "050100005001020014000100c0a8010400000000000000000000000006000200000000000800030002000000",
    "080004000100000005000d000200000006000e000000000006000f0002000000080005000000000008000600",
    "0000000008000700000000000800080000000000080009000000000006000b00020000005c000a0008000100",
    "00000000080002000000000008000300000000000c00040000000000000000000c0005000000000000000000",
    "080006000000000008000700000000000800080000000000080009000000000008000a00000000007c000c00",
    "0c00010000000000000000000c00020000000000000000000c00030000000000000000000c00040000000000",
    "000000000c00050000000000000000000c00060000000000000000000c00070000000000000000000c000800",
    "00000000000000000c00090000000000000000000c000a000000000000000000",
);

// [2001:db8::9]:80 tunnel GUE port 6080 csum, in an IPv4 service.
const DEST_GUE6_IN_V4_SERVICE: &str = concat!(
    "05010000500102001400010020010db800000000000000000000000906000200005000000800030002000000",
    "080004000200000005000d000100000006000e0017c0000006000f0001000000080005000000000008000600",
    "0000000008000700000000000800080000000000080009000000000006000b000a0000005c000a0008000100",
    "00000000080002000000000008000300000000000c00040000000000000000000c0005000000000000000000",
    "080006000000000008000700000000000800080000000000080009000000000008000a00000000007c000c00",
    "0c00010000000000000000000c00020000000000000000000c00030000000000000000000c00040000000000",
    "000000000c00050000000000000000000c00060000000000000000000c00070000000000000000000c000800",
    "00000000000000000c00090000000000000000000c000a000000000000000000",
);

// 192.168.1.2:8080 route, weight 3, thresholds 100/10.
const DEST_ROUTE_THRESHOLDS: &str = concat!(
    "050100005001020014000100c0a80102000000000000000000000000060002001f9000000800030003000000",
    "080004000300000005000d000000000006000e000000000006000f0000000000080005006400000008000600",
    "0a00000008000700000000000800080000000000080009000000000006000b00020000005c000a0008000100",
    "00000000080002000000000008000300000000000c00040000000000000000000c0005000000000000000000",
    "080006000000000008000700000000000800080000000000080009000000000008000a00000000007c000c00",
    "0c00010000000000000000000c00020000000000000000000c00030000000000000000000c00040000000000",
    "000000000c00050000000000000000000c00060000000000000000000c00070000000000000000000c000800",
    "00000000000000000c00090000000000000000000c000a000000000000000000",
);

/// An attribute as a test writes it by hand: header, value, zero padding.
fn nla(kind: u16, value: &[u8]) -> Vec<u8> {
    let len = 4 + value.len();
    let mut bytes = Vec::with_capacity((len + 3) & !3);
    bytes.extend_from_slice(&(len as u16).to_ne_bytes());
    bytes.extend_from_slice(&kind.to_ne_bytes());
    bytes.extend_from_slice(value);
    bytes.resize((len + 3) & !3, 0);
    bytes
}

/// The attributes of well-formed test bytes as (type with its flags,
/// value), split by hand.
fn split(mut bytes: &[u8]) -> Vec<(u16, &[u8])> {
    let mut attrs = Vec::new();
    while !bytes.is_empty() {
        let len = usize::from(u16::from_ne_bytes([bytes[0], bytes[1]]));
        let kind = u16::from_ne_bytes([bytes[2], bytes[3]]);
        attrs.push((kind, &bytes[4..len]));
        bytes = &bytes[((len + 3) & !3).min(bytes.len())..];
    }
    attrs
}

/// The value of the one top-level attribute of a captured reply or an
/// encoded request (`skip`: the headers before it) with type `kind`,
/// which must be the only one and carry exactly the flags `flags`.
fn container(bytes: &[u8], skip: usize, kind: u16, flags: u16) -> &[u8] {
    match split(&bytes[skip..])[..] {
        [(found, value)] => {
            assert_eq!(found, kind | flags, "the container and its flags");
            value
        }
        ref other => panic!("expected one attribute {kind}, got {other:?}"),
    }
}

const NLMSG_HEADER: usize = 16;
const GENL_HEADER: usize = 4;

/// The bytes of one request, flags `REQUEST_ACK`, sequence number 1.
fn request(change: &Change) -> Vec<u8> {
    let mut buf = Vec::new();
    encode::change(&mut buf, 0x20, change, REQUEST_ACK, 1);
    buf
}

fn services_of(reply: &[u8]) -> Result<Vec<Service>, DecodeError> {
    let mut services = Vec::new();
    each_nested_in_reply(reply, IPVS_CMD_ATTR_SERVICE, |p| {
        services.push(service_in(p)?);
        Ok(())
    })?;
    Ok(services)
}

fn dests_of(reply: &[u8], family: Family) -> Result<Vec<Dest>, DecodeError> {
    let mut dests = Vec::new();
    each_nested_in_reply(reply, IPVS_CMD_ATTR_DEST, |p| {
        dests.push(dest_in(p, family)?);
        Ok(())
    })?;
    Ok(dests)
}

fn daemons_of(reply: &[u8]) -> Result<Vec<Daemon>, DecodeError> {
    let mut daemons = Vec::new();
    each_nested_in_reply(reply, IPVS_CMD_ATTR_DAEMON, |p| {
        daemons.push(daemon_in(p)?);
        Ok(())
    })?;
    Ok(daemons)
}

/// The one service of a captured reply.
pub(super) fn captured_service(hex: &str) -> Service {
    match &services_of(&unhex(hex)).expect("captured reply decodes")[..] {
        [svc] => svc.clone(),
        other => panic!("expected one service, got {other:?}"),
    }
}

/// The one real server of a captured reply, in an IPv4 service.
fn captured_dest(hex: &str) -> Dest {
    match &dests_of(&unhex(hex), Family::Inet).expect("captured reply decodes")[..] {
        [dest] => dest.clone(),
        other => panic!("expected one real server, got {other:?}"),
    }
}

/// What we send for `svc` (decoded from the captured reply `hex`) carries
/// the attributes the kernel sent for it, byte for byte and in the same
/// order, but for the counters, which only replies carry.
fn assert_service_sent_as_reported(svc: &Service, hex: &str) {
    let reply = unhex(hex);
    let reported: Vec<_> =
        split(container(&reply, GENL_HEADER, IPVS_CMD_ATTR_SERVICE, 0))
            .into_iter()
            .filter(|(kind, _)| {
                !matches!(*kind, IPVS_SVC_ATTR_STATS | IPVS_SVC_ATTR_STATS64)
            })
            .collect();
    let sent = request(&Change::EditService(svc.clone()));
    let sent = container(
        &sent,
        NLMSG_HEADER + GENL_HEADER,
        IPVS_CMD_ATTR_SERVICE,
        NLA_F_NESTED,
    );
    assert_eq!(split(sent), reported);
}

/// What we send for `dest` (decoded from the captured reply `hex`) carries
/// attributes the kernel sent for it, byte for byte (in libipvs's order,
/// not the kernel's); the kernel's others are those only replies carry.
fn assert_dest_sent_as_reported(dest: &Dest, hex: &str) {
    let reply = unhex(hex);
    let mut reported = split(container(&reply, GENL_HEADER, IPVS_CMD_ATTR_DEST, 0));
    let svc = service(inet(Protocol::Tcp, "10.0.0.1", 80), "rr");
    let request = request(&Change::AddDest(svc, dest.clone()));
    let service_len = split(&request[NLMSG_HEADER + GENL_HEADER..])[0].1.len() + 4;
    let sent = container(
        &request,
        NLMSG_HEADER + GENL_HEADER + service_len,
        IPVS_CMD_ATTR_DEST,
        NLA_F_NESTED,
    );
    for attr in split(sent) {
        let at = reported.iter().position(|r| *r == attr);
        let at = at.unwrap_or_else(|| panic!("{attr:?} is not in the reply"));
        reported.remove(at);
    }
    let only_in_replies: Vec<u16> = reported.iter().map(|(kind, _)| *kind).collect();
    assert_eq!(
        only_in_replies,
        [
            IPVS_DEST_ATTR_ACTIVE_CONNS,
            IPVS_DEST_ATTR_INACT_CONNS,
            IPVS_DEST_ATTR_PERSIST_CONNS,
            IPVS_DEST_ATTR_STATS,
            IPVS_DEST_ATTR_STATS64,
        ]
    );
}

fn inet(protocol: Protocol, addr: &str, port: u16) -> ServiceId {
    let addr: IpAddr = addr.parse().expect("test address");
    ServiceId {
        family: Family::of(&addr),
        addr: ServiceAddr::Inet {
            protocol,
            addr,
            port,
        },
    }
}

fn service(id: ServiceId, scheduler: &str) -> Service {
    Service {
        id,
        scheduler: ShortName::truncated(scheduler, ShortName::CAPACITY),
        pe_name: None,
        flags: ServiceFlags::empty(),
        timeout: 0,
        netmask: Netmask::default_for(id.family),
        stats: Stats::default(),
    }
}

fn dest(addr: &str, port: u16, fwd: FwdMethod, weight: i32) -> Dest {
    let addr: IpAddr = addr.parse().expect("test address");
    Dest {
        family: Family::of(&addr),
        addr,
        port,
        fwd,
        weight,
        u_threshold: 0,
        l_threshold: 0,
        active_conns: 0,
        inact_conns: 0,
        persist_conns: 0,
        tun_type: TunnelType::Ipip,
        tun_port: 0,
        tun_flags: TunnelFlags::empty(),
        stats: Stats::default(),
    }
}

#[test]
fn info_reply() {
    let reply = unhex(INFO_REPLY);
    assert_eq!(reply[0], IPVS_CMD_SET_INFO);
    assert_eq!(
        info_in(&reply).expect("info"),
        Info {
            version: 0x010201,
            conn_tab_size: 4096
        }
    );
}

/// The reply to `GET_CONFIG` has the layout of the `SET_CONFIG` request:
/// what we send for the timeouts read is the kernel's reply again.
#[test]
fn config_reply() {
    let reply = unhex(CONFIG_REPLY);
    let timeouts = timeouts_in(&reply).expect("timeouts");
    assert_eq!(
        timeouts,
        Timeouts {
            tcp: 901,
            tcp_fin: 121,
            udp: 301
        }
    );
    assert_eq!(
        request(&Change::SetTimeouts(timeouts))[NLMSG_HEADER..],
        reply[..]
    );
}

#[test]
fn service_with_stats64() {
    assert_eq!(unhex(SERVICE_TCP_WITH_STATS)[0], IPVS_CMD_NEW_SERVICE);
    let svc = captured_service(SERVICE_TCP_WITH_STATS);
    let expected = Service {
        flags: ServiceFlags::HASHED,
        stats: Stats {
            conns: 100,
            inpkts: 627,
            outpkts: 578,
            inbytes: 41304,
            outbytes: 53556,
            cps: 7,
            inpps: 41,
            outpps: 38,
            inbps: 2710,
            outbps: 3508,
        },
        ..service(inet(Protocol::Tcp, "10.200.1.76", 9000), "rr")
    };
    assert_eq!(svc, expected);
    assert_service_sent_as_reported(&svc, SERVICE_TCP_WITH_STATS);
}

#[test]
fn service_variants() {
    let v6 = captured_service(SERVICE_UDP6_PERSISTENT);
    assert_eq!(
        v6,
        Service {
            flags: ServiceFlags::PERSISTENT | ServiceFlags::HASHED,
            timeout: 300,
            netmask: Netmask::V6(64),
            ..service(inet(Protocol::Udp, "2001:db8::1", 53), "wlc")
        }
    );
    assert_service_sent_as_reported(&v6, SERVICE_UDP6_PERSISTENT);

    let sip = captured_service(SERVICE_UDP_SIP);
    assert_eq!(
        sip,
        Service {
            pe_name: Some(ShortName::literal("sip")),
            flags: ServiceFlags::PERSISTENT | ServiceFlags::HASHED,
            timeout: 360,
            netmask: Netmask::V4(Ipv4Addr::new(255, 255, 255, 0)),
            ..service(inet(Protocol::Udp, "10.0.0.2", 5060), "rr")
        }
    );
    assert_service_sent_as_reported(&sip, SERVICE_UDP_SIP);

    let fwmark = captured_service(SERVICE_FWMARK_SCHED_FLAGS);
    let fwmark_id = ServiceId {
        family: Family::Inet,
        addr: ServiceAddr::Fwmark(5),
    };
    assert_eq!(
        fwmark,
        Service {
            flags: ServiceFlags::HASHED | ServiceFlags::SCHED1 | ServiceFlags::SCHED2,
            ..service(fwmark_id, "sh")
        }
    );
    assert_service_sent_as_reported(&fwmark, SERVICE_FWMARK_SCHED_FLAGS);

    let fwmark6 = captured_service(SERVICE_FWMARK6);
    let fwmark6_id = ServiceId {
        family: Family::Inet6,
        addr: ServiceAddr::Fwmark(7),
    };
    assert_eq!(
        fwmark6,
        Service {
            flags: ServiceFlags::HASHED,
            ..service(fwmark6_id, "mh")
        }
    );
    assert_service_sent_as_reported(&fwmark6, SERVICE_FWMARK6);
}

#[test]
fn dest_with_stats64() {
    assert_eq!(unhex(DEST_MASQ_WITH_STATS)[0], IPVS_CMD_NEW_DEST);
    let d = captured_dest(DEST_MASQ_WITH_STATS);
    let expected = Dest {
        inact_conns: 34,
        stats: Stats {
            conns: 34,
            inpkts: 213,
            outpkts: 197,
            inbytes: 14034,
            outbytes: 18234,
            cps: 2,
            inpps: 14,
            outpps: 13,
            inbps: 923,
            outbps: 1194,
        },
        ..dest("10.10.3.2", 80, FwdMethod::Masq, 1)
    };
    assert_eq!(d, expected);
    assert_dest_sent_as_reported(&d, DEST_MASQ_WITH_STATS);
}

#[test]
fn tunnel_and_threshold_dests() {
    let gre = captured_dest(DEST_GRE_REMCSUM);
    assert_eq!(
        gre,
        Dest {
            tun_type: TunnelType::Gre,
            tun_flags: TunnelFlags::REMCSUM,
            ..dest("192.168.1.4", 0, FwdMethod::Tunnel, 1)
        }
    );
    assert_dest_sent_as_reported(&gre, DEST_GRE_REMCSUM);

    // The family comes from IPVS_DEST_ATTR_ADDR_FAMILY, not the service.
    let gue = captured_dest(DEST_GUE6_IN_V4_SERVICE);
    assert_eq!(
        gue,
        Dest {
            tun_type: TunnelType::Gue,
            tun_port: 6080,
            tun_flags: TunnelFlags::CSUM,
            ..dest("2001:db8::9", 80, FwdMethod::Tunnel, 2)
        }
    );
    assert_dest_sent_as_reported(&gue, DEST_GUE6_IN_V4_SERVICE);

    let route = captured_dest(DEST_ROUTE_THRESHOLDS);
    assert_eq!(
        route,
        Dest {
            u_threshold: 100,
            l_threshold: 10,
            ..dest("192.168.1.2", 8080, FwdMethod::Route, 3)
        }
    );
    assert_dest_sent_as_reported(&route, DEST_ROUTE_THRESHOLDS);
}

/// Each daemon decodes to the values it was started with, and starting it
/// again sends what the kernel reported, byte for byte.
#[test]
fn daemons() {
    let master = Daemon {
        state: DaemonState::Master,
        mcast_ifn: "vw1".to_string(),
        syncid: 3,
        sync_maxlen: Some(1400),
        mcast_group: Some("239.1.2.3".parse().expect("addr")),
        mcast_port: Some(9000),
        mcast_ttl: Some(5),
    };
    let backup = Daemon {
        state: DaemonState::Backup,
        mcast_ifn: "vw2".to_string(),
        syncid: 200,
        sync_maxlen: Some(1452),
        mcast_group: Some("ff02::81".parse().expect("addr")),
        mcast_port: Some(8848),
        mcast_ttl: Some(1),
    };
    for (hex, expected) in [(DAEMON_MASTER, master), (DAEMON_BACKUP_V6_GROUP, backup)] {
        let reply = unhex(hex);
        assert_eq!(reply[0], IPVS_CMD_NEW_DAEMON);
        assert_eq!(
            daemons_of(&reply).expect("daemon"),
            std::slice::from_ref(&expected)
        );
        let sent = request(&Change::StartDaemon(expected));
        assert_eq!(
            container(
                &sent,
                NLMSG_HEADER + GENL_HEADER,
                IPVS_CMD_ATTR_DAEMON,
                NLA_F_NESTED
            ),
            container(&reply, GENL_HEADER, IPVS_CMD_ATTR_DAEMON, 0),
        );
    }
}

/// A service reply rebuilt from the captured one: its attributes but the
/// counters, then `counters`.
fn service_reply_with_counters(counters: &[u8]) -> Vec<u8> {
    let captured = unhex(SERVICE_TCP_WITH_STATS);
    let mut attrs = Vec::new();
    for (kind, value) in
        split(container(&captured, GENL_HEADER, IPVS_CMD_ATTR_SERVICE, 0))
    {
        if !matches!(kind, IPVS_SVC_ATTR_STATS | IPVS_SVC_ATTR_STATS64) {
            attrs.extend(nla(kind, value));
        }
    }
    attrs.extend_from_slice(counters);
    let mut reply = captured[..GENL_HEADER].to_vec();
    reply.extend(nla(IPVS_CMD_ATTR_SERVICE, &attrs));
    reply
}

#[test]
fn stats64_wins_over_legacy_stats() {
    let legacy = nla(
        IPVS_SVC_ATTR_STATS,
        &[
            nla(IPVS_STATS_ATTR_CONNS, &1u32.to_ne_bytes()),
            nla(IPVS_STATS_ATTR_INBYTES, &2u64.to_ne_bytes()),
        ]
        .concat(),
    );
    let legacy_only =
        &services_of(&service_reply_with_counters(&legacy)).expect("service")[0];
    assert_eq!((legacy_only.stats.conns, legacy_only.stats.inbytes), (1, 2));

    let wide = nla(
        IPVS_SVC_ATTR_STATS64,
        &[
            nla(IPVS_STATS_ATTR_CONNS, &(1u64 << 40).to_ne_bytes()),
            nla(IPVS_STATS_ATTR_PAD, &[]),
            nla(IPVS_STATS_ATTR_INPKTS, &u64::MAX.to_ne_bytes()),
        ]
        .concat(),
    );
    let both = service_reply_with_counters(&[legacy, wide].concat());
    let wide = &services_of(&both).expect("service")[0];
    assert_eq!(
        (wide.stats.conns, wide.stats.inpkts, wide.stats.inbytes),
        (1 << 40, u64::MAX, 0)
    );
}

/// Attributes of newer kernels, at top level and inside, are skipped.
#[test]
fn unknown_attributes_are_skipped() {
    let captured = unhex(SERVICE_TCP_WITH_STATS);
    let inner = container(&captured, GENL_HEADER, IPVS_CMD_ATTR_SERVICE, 0);
    let mut reply = captured[..GENL_HEADER].to_vec();
    reply.extend(nla(77, &[0xaa; 8]));
    reply.extend(nla(
        IPVS_CMD_ATTR_SERVICE,
        &[nla(200, &[1, 2, 3, 4, 5]), inner.to_vec()].concat(),
    ));
    assert_eq!(
        services_of(&reply).expect("service"),
        [captured_service(SERVICE_TCP_WITH_STATS)]
    );
}

/// Decodes a captured reply the way the backend does, to the model.
fn decode_to_model(kind: &str, bytes: &[u8]) -> Result<(), IpvsError> {
    let decode = |e: DecodeError| IpvsError::Decode(e.to_string());
    let found = match kind {
        "service" => services_of(bytes).map_err(decode)?.len(),
        "dest" => dests_of(bytes, Family::Inet).map_err(decode)?.len(),
        "daemon" => daemons_of(bytes).map_err(decode)?.len(),
        "info" => info_in(bytes).map(|_| 1).map_err(decode)?,
        "config" => timeouts_in(bytes).map(|_| 1).map_err(decode)?,
        _ => unreachable!("test kind"),
    };
    match found {
        1 => Ok(()),
        n => Err(IpvsError::Decode(format!("{n} objects"))),
    }
}

const CAPTURES: &[(&str, &str)] = &[
    ("info", INFO_REPLY),
    ("config", CONFIG_REPLY),
    ("service", SERVICE_TCP_WITH_STATS),
    ("service", SERVICE_UDP6_PERSISTENT),
    ("service", SERVICE_UDP_SIP),
    ("service", SERVICE_FWMARK_SCHED_FLAGS),
    ("service", SERVICE_FWMARK6),
    ("dest", DEST_MASQ_WITH_STATS),
    ("dest", DEST_GRE_REMCSUM),
    ("dest", DEST_GUE6_IN_V4_SERVICE),
    ("dest", DEST_ROUTE_THRESHOLDS),
    ("daemon", DAEMON_MASTER),
    ("daemon", DAEMON_BACKUP_V6_GROUP),
];

/// A reply cut anywhere is an error, never a partial object; but the
/// timeouts, which libipvs reads as 0 when missing, so a cut between
/// attributes reads fewer.
#[test]
fn truncated_replies_are_decode_errors() {
    for (kind, hex) in CAPTURES {
        let raw = unhex(hex);
        decode_to_model(kind, &raw).expect("the whole capture decodes");
        for cut in 0..raw.len() {
            let between_timeouts = *kind == "config" && cut >= 4 && (cut - 4) % 8 == 0;
            match decode_to_model(kind, &raw[..cut]) {
                Err(IpvsError::Decode(_)) => {}
                Ok(()) if between_timeouts => {}
                other => panic!("{kind} cut at {cut}/{}: {other:?}", raw.len()),
            }
        }
    }
    let err = decode_to_model("service", &unhex(SERVICE_TCP_WITH_STATS)[..40]);
    let text = err.expect_err("truncated").to_string();
    assert!(text.contains("IPVS"), "{text}");
}

#[test]
fn corrupted_replies_never_panic() {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for (kind, hex) in CAPTURES {
        let raw = unhex(hex);
        for _ in 0..2000 {
            let mut bytes = raw.clone();
            for _ in 0..1 + next() % 4 {
                let i = (next() as usize) % bytes.len();
                bytes[i] = next() as u8;
            }
            let _ = decode_to_model(kind, &bytes);
        }
    }
}

const REQUEST_ACK: u16 = 0x0005;

/// A request of ours or of ipvsadm's.
#[allow(clippy::large_enum_variant)] // a few dozen, in one test
enum Sent<'a> {
    Change(Change),
    Query(Query<'a>),
}

/// Requests ipvsadm 1.31 sent (through libnl's `sendmsg`) in the lab VM
/// for the command line before them, family id 0x20: the `GET_INFO` of
/// its start, then the command's requests. Each is one netlink message.
const SENT_BY_IPVSADM: &[(&str, &[&str])] = &[
    (
        "-A -t 10.0.0.1:80 -s rr",
        &[
            "1400000020000500ccfb106b7f0000d50f010000",
            concat!(
                "6800000020000500ccfb106b7f00c0ef0101000054000180060001000200000006000200060000001400",
                "03000a000001000000000000000000000000060004000050000007000600727200000c00070000000000",
                "ffffffff080008000000000008000900ffffffff",
            ),
        ],
    ),
    (
        "-E -t 10.0.0.1:80 -s wlc -p 300 -M 255.255.255.0",
        &[concat!(
            "6800000020000500ccfb106b8100c0ef0201000054000180060001000200000006000200060000001400",
            "03000a000001000000000000000000000000060004000050000008000600776c63000c00070001000000",
            "ffffffff080008002c01000008000900ffffff00",
        )],
    ),
    (
        "-A -u [2001:db8::1]:53 -s sh -b sh-port",
        &[concat!(
            "6800000020000500cdfb106b830080ef0101000054000180060001000a00000006000200110000001400",
            "030020010db8000000000000000000000001060004000035000007000600736800000c00070010000000",
            "ffffffff08000800000000000800090080000000",
        )],
    ),
    (
        "-A -f 5 -s rr",
        &[concat!(
            "4c00000020000500cdfb106b850080ef0101000038000180060001000200000008000500050000000700",
            "0600727200000c00070000000000ffffffff080008000000000008000900ffffffff",
        )],
    ),
    (
        "-A --fwmark-service 7 -6 -s mh",
        &[concat!(
            "4c00000020000500cefb106b870040ef0101000038000180060001000a00000008000500070000000700",
            "06006d6800000c00070000000000ffffffff08000800000000000800090080000000",
        )],
    ),
    (
        "-A -u 10.0.0.2:5060 -s rr -p 360 --pe sip",
        &[concat!(
            "7000000020000500cefb106b890040ef010100005c000180060001000200000006000200110000001400",
            "03000a0000020000000000000000000000000600040013c40000070006007272000008000b0073697000",
            "0c00070001000000ffffffff080008006801000008000900ffffffff",
        )],
    ),
    (
        "-a -t 10.0.0.1:80 -r 192.168.1.1:80 -m -w 1",
        &[concat!(
            "c800000020000500cefb106b8b0040ef0501000054000180060001000200000006000200060000001400",
            "03000a000001000000000000000000000000060004000050000005000600000000000c00070000000000",
            "ffffffff080008000000000008000900ffffffff6000028006000b000200000014000100c0a801010000",
            "0000000000000000000006000200005000000800030000000000080004000100000005000d0000000000",
            "06000e000000000006000f000000000008000500000000000800060000000000",
        )],
    ),
    (
        "-e -t 10.0.0.1:80 -r 192.168.1.1:80 -g -w 3 -x 100 -y 10",
        &[concat!(
            "c800000020000500cefb106b8d0040ef0601000054000180060001000200000006000200060000001400",
            "03000a000001000000000000000000000000060004000050000005000600000000000c00070000000000",
            "ffffffff080008000000000008000900ffffffff6000028006000b000200000014000100c0a801010000",
            "0000000000000000000006000200005000000800030003000000080004000300000005000d0000000000",
            "06000e000000000006000f00000000000800050064000000080006000a000000",
        )],
    ),
    (
        "-a -t 10.0.0.1:80 -r 192.168.1.4:80 -i --tun-type gue --tun-port 6080 --tun-csum",
        &[concat!(
            "c800000020000500cefb106b8f0040ef0501000054000180060001000200000006000200060000001400",
            "03000a000001000000000000000000000000060004000050000005000600000000000c00070000000000",
            "ffffffff080008000000000008000900ffffffff6000028006000b000200000014000100c0a801040000",
            "0000000000000000000006000200005000000800030002000000080004000100000005000d0001000000",
            "06000e0017c0000006000f000100000008000500000000000800060000000000",
        )],
    ),
    (
        "-d -t 10.0.0.1:80 -r 192.168.1.4:80",
        &[concat!(
            "c800000020000500cffb106b930000ef0701000054000180060001000200000006000200060000001400",
            "03000a000001000000000000000000000000060004000050000005000600000000000c00070000000000",
            "ffffffff080008000000000008000900ffffffff6000028006000b000200000014000100c0a801040000",
            "0000000000000000000006000200005000000800030003000000080004000100000005000d0000000000",
            "06000e000000000006000f000000000008000500000000000800060000000000",
        )],
    ),
    (
        "-Z -t 10.0.0.1:80",
        &[concat!(
            "6800000020000500cffb106b950000ef1001000054000180060001000200000006000200060000001400",
            "03000a000001000000000000000000000000060004000050000005000600000000000c00070000000000",
            "ffffffff080008000000000008000900ffffffff",
        )],
    ),
    ("-Z", &["1400000020000500cffb106b970000ef10010000"]),
    (
        "--set 900 0 300",
        &[concat!(
            "2c00000020000500cffb106b990000ef0c01000008000400840300000800050000000000080006002c01",
            "0000",
        )],
    ),
    (
        "-L --timeout",
        &["1400000020000500cffb106b9b0000ef0d010000"],
    ),
    ("-L --daemon", &["1400000020000503d0fb106b9d00c0ee0b010000"]),
    (
        "--start-daemon backup --mcast-interface dummy0 --syncid 1 --mcast-group 224.0.0.81 --mcast-port 8848",
        &[concat!(
            "4400000020000500d0fb106b9f00c0ee090100003000038008000100020000000b00020064756d6d7930",
            "00000800030001000000060007009022000008000500e0000051",
        )],
    ),
    (
        "--start-daemon master --mcast-interface dummy0 --syncid 3 --sync-maxlen 1400 --mcast-group 239.1.2.3 --mcast-port 9000 --mcast-ttl 5",
        &[concat!(
            "5400000020000500d0fb106ba200c0ee090100004000038008000100010000000b00020064756d6d7930",
            "0000080003000300000006000400780500000600070028230000050008000500000008000500ef010203",
        )],
    ),
    (
        "--stop-daemon master",
        &[concat!(
            "3000000020000500d0fb106ba500c0ee0a0100001c000380080001000100000005000200000000000800",
            "030000000000",
        )],
    ),
    (
        "--stop-daemon backup",
        &[concat!(
            "3000000020000500d0fb106ba700c0ee0a0100001c000380080001000200000005000200000000000800",
            "030000000000",
        )],
    ),
    // The table then held the services above, in the kernel's order.
    (
        "-Ln",
        &[
            "1400000020000500d1fb106ba900c0cf0f010000",
            "1400000020000503d1fb106ba90080e204010000",
            concat!(
                "4400000020000503d1fb106ba900401d0801000030000180060001000200000006000200060000001400",
                "03000a0000010000000000000000000000000600040000500000",
            ),
            concat!(
                "4400000020000503d1fb106ba90000400801000030000180060001000200000006000200110000001400",
                "03000a0000020000000000000000000000000600040013c40000",
            ),
            concat!(
                "4400000020000503d1fb106ba900c05a0801000030000180060001000a00000006000200110000001400",
                "030020010db80000000000000000000000010600040000350000",
            ),
            "2800000020000503d1fb106ba900808d080100001400018006000100020000000800050005000000",
            "2800000020000503d1fb106ba90040b00801000014000180060001000a0000000800050007000000",
        ],
    ),
    (
        "-D -t 10.0.0.1:80",
        &[concat!(
            "6800000020000500d1fb106bad0080e20301000054000180060001000200000006000200060000001400",
            "03000a000001000000000000000000000000060004000050000005000600000000000c00070000000000",
            "ffffffff080008000000000008000900ffffffff",
        )],
    ),
    ("-C", &["1400000020000500d2fb106baf0080e211010000"]),
];

/// `ipvsadm -L -n -t 10.0.0.1:80`'s `GET_SERVICE`: libipvs sends the
/// service as it filled it (no scheduler, flags, timeout or netmask).
const SENT_BY_IPVSADM_GET_SERVICE: &str = concat!(
    "6800000020000500d1fb106bab0080e20401000054000180060001000200000006000200060000001400",
    "03000a000001000000000000000000000000060004000050000005000600000000000c00070000000000",
    "ffffffff08000800000000000800090000000000",
);

/// `encode` writes, for the family id, flags and sequence number libnl
/// used, the bytes ipvsadm sent; all but the port id, which libnl sets to
/// its socket's and we leave 0 (the kernel replies to the sending socket
/// whatever the field says).
fn assert_sent_as_by_ipvsadm(captured: &str, sent: &Sent, what: &str) {
    let mut expected = unhex(captured);
    let family_id = u16::from_ne_bytes([expected[4], expected[5]]);
    let flags = u16::from_ne_bytes([expected[6], expected[7]]);
    let seq = u32::from_ne_bytes([expected[8], expected[9], expected[10], expected[11]]);
    expected[12..16].fill(0);
    let mut ours = Vec::new();
    match sent {
        Sent::Change(change) => encode::change(&mut ours, family_id, change, flags, seq),
        Sent::Query(query) => encode::query(&mut ours, family_id, query, flags, seq),
    }
    assert_eq!(ours, expected, "{what}");
}

/// Every request we encode is, byte for byte, the one ipvsadm 1.31 sends
/// for the same values.
#[test]
fn requests_are_those_of_ipvsadm() {
    let tcp80 = inet(Protocol::Tcp, "10.0.0.1", 80);
    let udp5060 = inet(Protocol::Udp, "10.0.0.2", 5060);
    let udp53 = inet(Protocol::Udp, "2001:db8::1", 53);
    let fwmark = |family, mark| ServiceId {
        family,
        addr: ServiceAddr::Fwmark(mark),
    };
    let (fwmark5, fwmark7) = (fwmark(Family::Inet, 5), fwmark(Family::Inet6, 7));
    // ipvsadm names the service of a real-server command, a zeroing or a
    // deletion with an otherwise empty one.
    let named = service(tcp80, "");
    let daemon = |state, syncid| Daemon {
        state,
        mcast_ifn: "dummy0".into(),
        syncid,
        sync_maxlen: None,
        mcast_group: None,
        mcast_port: None,
        mcast_ttl: None,
    };
    let mut ours = vec![
        vec![
            Sent::Query(Query::Info),
            Sent::Change(Change::AddService(service(tcp80, "rr"))),
        ],
        vec![Sent::Change(Change::EditService(Service {
            flags: ServiceFlags::PERSISTENT,
            timeout: 300,
            netmask: Netmask::V4(Ipv4Addr::new(255, 255, 255, 0)),
            ..service(tcp80, "wlc")
        }))],
        vec![Sent::Change(Change::AddService(Service {
            flags: ServiceFlags::SCHED2,
            ..service(udp53, "sh")
        }))],
        vec![Sent::Change(Change::AddService(service(fwmark5, "rr")))],
        vec![Sent::Change(Change::AddService(service(fwmark7, "mh")))],
        vec![Sent::Change(Change::AddService(Service {
            pe_name: Some(ShortName::literal("sip")),
            flags: ServiceFlags::PERSISTENT,
            timeout: 360,
            ..service(udp5060, "rr")
        }))],
        vec![Sent::Change(Change::AddDest(
            named.clone(),
            dest("192.168.1.1", 80, FwdMethod::Masq, 1),
        ))],
        vec![Sent::Change(Change::EditDest(
            named.clone(),
            Dest {
                u_threshold: 100,
                l_threshold: 10,
                ..dest("192.168.1.1", 80, FwdMethod::Route, 3)
            },
        ))],
        vec![Sent::Change(Change::AddDest(
            named.clone(),
            Dest {
                tun_type: TunnelType::Gue,
                tun_port: 6080,
                tun_flags: TunnelFlags::CSUM,
                ..dest("192.168.1.4", 80, FwdMethod::Tunnel, 1)
            },
        ))],
        vec![Sent::Change(Change::DelDest(
            named.clone(),
            dest("192.168.1.4", 80, FwdMethod::Route, 1),
        ))],
        vec![Sent::Change(Change::Zero(Some(named.clone())))],
        vec![Sent::Change(Change::Zero(None))],
        vec![Sent::Change(Change::SetTimeouts(Timeouts {
            tcp: 900,
            tcp_fin: 0,
            udp: 300,
        }))],
        vec![Sent::Query(Query::Timeouts)],
        vec![Sent::Query(Query::Daemons)],
        vec![Sent::Change(Change::StartDaemon(Daemon {
            mcast_group: Some("224.0.0.81".parse().expect("addr")),
            mcast_port: Some(8848),
            ..daemon(DaemonState::Backup, 1)
        }))],
        vec![Sent::Change(Change::StartDaemon(Daemon {
            sync_maxlen: Some(1400),
            mcast_group: Some("239.1.2.3".parse().expect("addr")),
            mcast_port: Some(9000),
            mcast_ttl: Some(5),
            ..daemon(DaemonState::Master, 3)
        }))],
        vec![Sent::Change(Change::StopDaemon {
            state: DaemonState::Master,
            syncid: 0,
        })],
        vec![Sent::Change(Change::StopDaemon {
            state: DaemonState::Backup,
            syncid: 0,
        })],
        vec![
            Sent::Query(Query::Info),
            Sent::Query(Query::Services),
            Sent::Query(Query::Dests(&tcp80)),
            Sent::Query(Query::Dests(&udp5060)),
            Sent::Query(Query::Dests(&udp53)),
            Sent::Query(Query::Dests(&fwmark5)),
            Sent::Query(Query::Dests(&fwmark7)),
        ],
        vec![Sent::Change(Change::DelService(named.clone()))],
        vec![Sent::Change(Change::Flush)],
    ];
    assert_eq!(ours.len(), SENT_BY_IPVSADM.len());
    for ((command, captured), ours) in SENT_BY_IPVSADM.iter().zip(ours.drain(..)) {
        assert_eq!(captured.len(), ours.len(), "{command}");
        for (captured, sent) in captured.iter().zip(&ours) {
            assert_sent_as_by_ipvsadm(captured, sent, command);
        }
    }
}

/// The single `GET_SERVICE` names the service by its identity alone: the
/// kernel reads nothing else of it (ipvsadm sends the rest empty).
#[test]
fn a_single_service_is_asked_for_by_its_identity() {
    let id = inet(Protocol::Tcp, "10.0.0.1", 80);
    let captured = unhex(SENT_BY_IPVSADM_GET_SERVICE);
    let seq = u32::from_ne_bytes([captured[8], captured[9], captured[10], captured[11]]);
    let mut ours = Vec::new();
    encode::query(&mut ours, 0x20, &Query::Service(&id), REQUEST_ACK, seq);
    let headers = NLMSG_HEADER + GENL_HEADER;
    assert_eq!(
        ours[4..12],
        captured[4..12],
        "type, flags and sequence number"
    );
    assert_eq!(ours[NLMSG_HEADER..headers], captured[NLMSG_HEADER..headers]);
    let theirs = container(&captured, headers, IPVS_CMD_ATTR_SERVICE, NLA_F_NESTED);
    let ours = container(&ours, headers, IPVS_CMD_ATTR_SERVICE, NLA_F_NESTED);
    assert_eq!(split(ours), split(theirs)[..4]);
}

/// Dumps ask for `NLM_F_DUMP`; the others are answered by one message.
#[test]
fn which_queries_are_dumps() {
    let id = inet(Protocol::Tcp, "10.0.0.1", 80);
    for (query, dump) in [
        (Query::Info, false),
        (Query::Services, true),
        (Query::Service(&id), false),
        (Query::Dests(&id), true),
        (Query::Timeouts, false),
        (Query::Daemons, true),
    ] {
        assert_eq!(query.is_dump(), dump, "{query:?}");
    }
}

/// A pipelined batch asks for one ack, on its last request: the flags of
/// that request alone gain `NLM_F_ACK`, nothing else changes.
#[test]
fn only_the_last_request_of_a_batch_asks_for_an_ack() {
    let add =
        |port| Change::AddService(service(inet(Protocol::Tcp, "10.0.0.1", port), "rr"));
    let mut batch = Vec::new();
    encode::change(&mut batch, 0x20, &add(80), 0x0001, 1);
    let last = batch.len();
    encode::change(&mut batch, 0x20, &add(81), 0x0001, 2);
    request_ack(&mut batch, last);
    let mut expected = Vec::new();
    encode::change(&mut expected, 0x20, &add(80), 0x0001, 1);
    encode::change(&mut expected, 0x20, &add(81), REQUEST_ACK, 2);
    assert_eq!(batch, expected);
    assert_eq!(
        u16::from_ne_bytes([batch[last + 6], batch[last + 7]]),
        REQUEST_ACK
    );
    // An offset past the end changes nothing (and does not panic).
    let before = batch.clone();
    request_ack(&mut batch, before.len());
    assert_eq!(batch, before);
}

/// libipvs: an all-zero identity means "zero everything", and leaves the
/// service out.
#[test]
fn zeroing_an_all_zero_identity_zeroes_everything() {
    let all = request(&Change::Zero(None));
    let anything = service(inet(Protocol::Tcp, "0.0.0.0", 0), "rr");
    assert_eq!(request(&Change::Zero(Some(anything))), all);
    let fwmark_zero = service(
        ServiceId {
            family: Family::Inet6,
            addr: ServiceAddr::Fwmark(0),
        },
        "rr",
    );
    assert_eq!(request(&Change::Zero(Some(fwmark_zero))), all);
    assert_eq!(all.len(), NLMSG_HEADER + GENL_HEADER);
    let one = service(inet(Protocol::Udp, "::", 53), "rr");
    let zero_one = request(&Change::Zero(Some(one)));
    assert_eq!(split(&zero_one[NLMSG_HEADER + GENL_HEADER..]).len(), 1);
}

#[test]
fn fwmark_zero_is_sent_as_address_identity() {
    let id = ServiceId {
        family: Family::Inet,
        addr: ServiceAddr::Fwmark(0),
    };
    let mut sent = Vec::new();
    encode::query(&mut sent, 0x20, &Query::Dests(&id), REQUEST_ACK, 1);
    let identity = container(
        &sent,
        NLMSG_HEADER + GENL_HEADER,
        IPVS_CMD_ATTR_SERVICE,
        NLA_F_NESTED,
    );
    assert_eq!(
        split(identity),
        [
            (IPVS_SVC_ATTR_AF, &[2, 0][..]),
            (IPVS_SVC_ATTR_PROTOCOL, &[0, 0][..]),
            (IPVS_SVC_ATTR_ADDR, &[0; 16][..]),
            (IPVS_SVC_ATTR_PORT, &[0, 0][..]),
        ]
    );
}

#[test]
fn a_dump_that_lists_an_entry_twice_keeps_the_first() {
    let mut kept = vec![(1, 'a'), (2, 'b'), (1, 'c'), (3, 'd'), (2, 'e')];
    super::drop_repeats(&mut kept, |e| e.0);
    assert_eq!(kept, vec![(1, 'a'), (2, 'b'), (3, 'd')]);
    // Past the size where it hashes instead of scanning, the same.
    let mut kept: Vec<(u32, u32)> = (0..100).chain(0..100).map(|k| (k % 70, k)).collect();
    super::drop_repeats(&mut kept, |e| e.0);
    assert_eq!(kept, (0..70).map(|k| (k, k)).collect::<Vec<_>>());
}

/// Properties of every request, for arbitrary model values: each is one
/// whole, well-formed netlink message with the command of its change, and
/// what it carries reads back as the values sent (as far as the kernel's
/// encoding keeps them).
mod properties {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    use netlink_packet_core::{NLM_F_ACK, NLM_F_REQUEST};
    use proptest::prelude::*;

    use super::{GENL_HEADER, NLMSG_HEADER, container, nla, split};
    use crate::backend::Change;
    use crate::model::*;
    use crate::netlink::consts::*;
    use crate::netlink::decode::{daemon_in, dest_in, service_in, timeouts_in};
    use crate::netlink::encode;

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
                    scheduler: ShortName::truncated(&scheduler, ShortName::CAPACITY),
                    pe_name: pe_name
                        .map(|pe| ShortName::truncated(&pe, ShortName::CAPACITY)),
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

    /// The command each change is sent as (`<linux/ip_vs.h>`, libipvs).
    fn command_of(change: &Change) -> u8 {
        match change {
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
        }
    }

    /// A string as the kernel keeps it: up to its first NUL.
    fn c_string(s: &str) -> &str {
        s.split('\0').next().unwrap_or_default()
    }

    /// What a service reads back as: names end at their first NUL, an
    /// empty persistence engine is not sent, and fwmark 0 is sent as the
    /// all-zero address identity (libipvs).
    fn as_read_back(svc: &Service) -> Service {
        let addr = match svc.id.addr {
            ServiceAddr::Fwmark(0) => ServiceAddr::Inet {
                protocol: Protocol::from_raw(0),
                addr: match svc.id.family {
                    Family::Inet => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                    Family::Inet6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
                },
                port: 0,
            },
            other => other,
        };
        Service {
            id: ServiceId {
                family: svc.id.family,
                addr,
            },
            scheduler: ShortName::truncated(
                c_string(&svc.scheduler),
                ShortName::CAPACITY,
            ),
            pe_name: svc
                .pe_name
                .as_deref()
                .map(|pe| ShortName::truncated(c_string(pe), ShortName::CAPACITY))
                .filter(|pe| !pe.is_empty()),
            ..svc.clone()
        }
    }

    /// The service a request carries, read back.
    fn service_sent(message: &[u8]) -> Service {
        let attrs = split(&message[NLMSG_HEADER + GENL_HEADER..]);
        assert_eq!(attrs[0].0, IPVS_CMD_ATTR_SERVICE | NLA_F_NESTED_FLAG);
        service_in(attrs[0].1).expect("the service reads back")
    }

    const NLA_F_NESTED_FLAG: u16 = netlink_packet_core::NLA_F_NESTED;

    /// Checks what `message` carries for `change` against the values sent.
    fn assert_reads_back(change: &Change, message: &[u8]) {
        let attrs = split(&message[NLMSG_HEADER + GENL_HEADER..]);
        match change {
            Change::AddService(s) | Change::EditService(s) | Change::DelService(s) => {
                assert_eq!(attrs.len(), 1);
                assert_eq!(service_sent(message), as_read_back(s));
            }
            Change::Zero(Some(s)) if !attrs.is_empty() => {
                assert_eq!(service_sent(message), as_read_back(s));
            }
            Change::Zero(_) | Change::Flush => assert!(attrs.is_empty()),
            Change::AddDest(s, d) | Change::EditDest(s, d) | Change::DelDest(s, d) => {
                assert_eq!(attrs.len(), 2);
                assert_eq!(service_sent(message), as_read_back(s));
                assert_eq!(attrs[1].0, IPVS_CMD_ATTR_DEST | NLA_F_NESTED_FLAG);
                // Connection counts are reply-only: add them as the kernel does.
                let mut reply = attrs[1].1.to_vec();
                for (kind, count) in [
                    (IPVS_DEST_ATTR_ACTIVE_CONNS, d.active_conns),
                    (IPVS_DEST_ATTR_INACT_CONNS, d.inact_conns),
                    (IPVS_DEST_ATTR_PERSIST_CONNS, d.persist_conns),
                ] {
                    reply.extend(nla(kind, &count.to_ne_bytes()));
                }
                // The family is the real server's own, whatever the service's.
                let other = match d.family {
                    Family::Inet => Family::Inet6,
                    Family::Inet6 => Family::Inet,
                };
                let read = dest_in(&reply, other).expect("the real server reads back");
                // Only the forwarding method's three bits are sent.
                let fwd = FwdMethod::from_raw(d.fwd.raw() & 0x7);
                assert_eq!(read, Dest { fwd, ..d.clone() });
            }
            Change::SetTimeouts(t) => {
                // A SET_CONFIG request has the layout of GET_CONFIG's reply.
                let read = timeouts_in(&message[NLMSG_HEADER..]).expect("timeouts");
                assert_eq!(read, *t);
            }
            Change::StartDaemon(d) => {
                let sent = container(
                    message,
                    NLMSG_HEADER + GENL_HEADER,
                    IPVS_CMD_ATTR_DAEMON,
                    NLA_F_NESTED_FLAG,
                );
                let read = daemon_in(sent).expect("the daemon reads back");
                // Zeros mean "the kernel's default" and are not sent.
                let expected = Daemon {
                    mcast_ifn: c_string(&d.mcast_ifn).to_string(),
                    sync_maxlen: d.sync_maxlen.filter(|&v| v != 0),
                    mcast_port: d.mcast_port.filter(|&v| v != 0),
                    mcast_ttl: d.mcast_ttl.filter(|&v| v != 0),
                    ..d.clone()
                };
                assert_eq!(read, expected);
            }
            Change::StopDaemon { state, syncid } => {
                let sent = container(
                    message,
                    NLMSG_HEADER + GENL_HEADER,
                    IPVS_CMD_ATTR_DAEMON,
                    NLA_F_NESTED_FLAG,
                );
                let read = daemon_in(sent).expect("the daemon reads back");
                assert_eq!(
                    (read.state, read.mcast_ifn, read.syncid),
                    (*state, String::new(), *syncid)
                );
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Requests appended one after another, after whatever the buffer
        /// already holds: each has its length, family, flags, sequence
        /// number and command in its headers, and reads back as sent.
        #[test]
        fn every_request_is_whole_and_reads_back(
            changes in proptest::collection::vec(change_strategy(), 1..4),
            family_id in any::<u16>(),
            seq in any::<u32>(),
            ack in any::<bool>(),
        ) {
            let flags = if ack { NLM_F_REQUEST | NLM_F_ACK } else { NLM_F_REQUEST };
            let mut buf = vec![0xaa; 3];
            for (i, change) in changes.iter().enumerate() {
                let seq = seq.wrapping_add(i as u32);
                let start = buf.len();
                encode::change(&mut buf, family_id, change, flags, seq);
                prop_assert_eq!(&buf[..3], &[0xaa; 3]);
                let message = &buf[start..];
                let mut header = Vec::new();
                header.extend_from_slice(&(message.len() as u32).to_ne_bytes());
                header.extend_from_slice(&family_id.to_ne_bytes());
                header.extend_from_slice(&flags.to_ne_bytes());
                header.extend_from_slice(&seq.to_ne_bytes());
                header.extend_from_slice(&[0; 4]);
                header.extend_from_slice(&[command_of(change), IPVS_GENL_VERSION, 0, 0]);
                prop_assert_eq!(&message[..NLMSG_HEADER + GENL_HEADER], &header[..]);
                assert_reads_back(change, message);
            }
        }

        /// The queries that name a service carry exactly its identity.
        #[test]
        fn queries_carry_the_identity(svc in service(), dests in any::<bool>()) {
            let query = if dests {
                encode::Query::Dests(&svc.id)
            } else {
                encode::Query::Service(&svc.id)
            };
            let mut buf = Vec::new();
            encode::query(&mut buf, 0x20, &query, NLM_F_REQUEST, 1);
            let mut edit = Vec::new();
            encode::change(&mut edit, 0x20, &Change::DelService(svc.clone()), NLM_F_REQUEST, 1);
            let identity = |message: &[u8]| -> Vec<(u16, Vec<u8>)> {
                let nest = container(message, NLMSG_HEADER + GENL_HEADER, IPVS_CMD_ATTR_SERVICE, NLA_F_NESTED_FLAG);
                split(nest)
                    .into_iter()
                    .filter(|(kind, _)| matches!(*kind, IPVS_SVC_ATTR_AF | IPVS_SVC_ATTR_PROTOCOL | IPVS_SVC_ATTR_ADDR | IPVS_SVC_ATTR_PORT | IPVS_SVC_ATTR_FWMARK))
                    .map(|(kind, value)| (kind, value.to_vec()))
                    .collect()
            };
            let nest = container(&buf, NLMSG_HEADER + GENL_HEADER, IPVS_CMD_ATTR_SERVICE, NLA_F_NESTED_FLAG);
            prop_assert_eq!(split(nest).len(), identity(&buf).len());
            prop_assert_eq!(identity(&buf), identity(&edit));
        }
    }
}
