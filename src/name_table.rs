//! The one table of the names IPVS values go by, for every output:
//! ipvsadm's text and save formats, the human table, JSON, Prometheus and
//! the watch. Where outputs spell a value differently (ipvsadm's `Masq`,
//! JSON's `masq`) its row has a column for each. A value without a name in
//! some column (`None`) is written there as that output always wrote it
//! (ipvsadm's `(null)`, the table's `(5)`, JSON's number).

use crate::model::{Family, FwdMethod, Protocol, ServiceFlags, TunnelFlags, TunnelType};

/// An address family as JSON's `af` and Prometheus's `family` name it.
pub fn family(f: Family) -> &'static str {
    match f {
        Family::Inet => "inet",
        Family::Inet6 => "inet6",
    }
}

/// What ipvsadm's text (and the table, the watch and Prometheus) adds to
/// a fwmark service of this family: ` IPv6` or nothing.
pub fn fwmark_family_suffix(f: Family) -> &'static str {
    match f {
        Family::Inet => "",
        Family::Inet6 => " IPv6",
    }
}

/// The names of a transport protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProtocolNames {
    /// ipvsadm's, the kernel connection table's, the table's and
    /// Prometheus's: `TCP`.
    pub upper: &'static str,
    /// JSON's, and what `getservbyport` is asked with: `tcp`.
    pub lower: &'static str,
}

const PROTOCOLS: [(Protocol, ProtocolNames); 3] = [
    (
        Protocol::Tcp,
        ProtocolNames {
            upper: "TCP",
            lower: "tcp",
        },
    ),
    (
        Protocol::Udp,
        ProtocolNames {
            upper: "UDP",
            lower: "udp",
        },
    ),
    (
        Protocol::Sctp,
        ProtocolNames {
            upper: "SCTP",
            lower: "sctp",
        },
    ),
];

/// The names of `p`; `None` for protocols IPVS has no name for.
pub fn protocol(p: Protocol) -> Option<ProtocolNames> {
    PROTOCOLS
        .iter()
        .find(|(known, _)| *known == p)
        .map(|(_, names)| *names)
}

/// The names of the protocol the kernel's connection table calls `upper`.
pub fn protocol_by_upper(upper: &str) -> Option<ProtocolNames> {
    PROTOCOLS
        .iter()
        .find(|(_, names)| names.upper == upper)
        .map(|(_, names)| *names)
}

/// The names of a forwarding method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FwdMethodNames {
    /// ipvsadm's Forward column (and the table's): `Masq`; `None` for the
    /// methods ipvsadm has no name for.
    pub ipvsadm: Option<&'static str>,
    /// JSON's `fwd_method`: `masq`, `bypass` for 4, `unknown` beyond.
    pub json: &'static str,
}

pub fn fwd_method(f: FwdMethod) -> FwdMethodNames {
    let (ipvsadm, json) = match f {
        FwdMethod::Masq => (Some("Masq"), "masq"),
        FwdMethod::Local => (Some("Local"), "local"),
        FwdMethod::Tunnel => (Some("Tunnel"), "tunnel"),
        FwdMethod::Route => (Some("Route"), "route"),
        FwdMethod::Other(4) => (None, "bypass"),
        FwdMethod::Other(_) => (None, "unknown"),
    };
    FwdMethodNames { ipvsadm, json }
}

/// A tunnel type as every output names it (`ipip`, `gue`, `gre`); `None`
/// for types IPVS has no name for.
pub fn tunnel_type(t: TunnelType) -> Option<&'static str> {
    match t {
        TunnelType::Ipip => Some("ipip"),
        TunnelType::Gue => Some("gue"),
        TunnelType::Gre => Some("gre"),
        TunnelType::Other(_) => None,
    }
}

/// A tunnel's checksum mode as ipvsadm's text (`+c`) and save format
/// (`--tun-csum`) write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChecksumNames {
    pub ipvsadm: &'static str,
    pub save: &'static str,
}

/// The checksum mode of a tunnel with `flags`: none, checksum, or remote
/// checksum. 1.31 indexes past its table when both bits are set; remote
/// checksum wins here whenever its bit is set.
pub fn tunnel_checksum(flags: TunnelFlags) -> ChecksumNames {
    let (ipvsadm, save) = if flags.contains(TunnelFlags::REMCSUM) {
        ("r+c", "--tun-remcsum")
    } else if flags.contains(TunnelFlags::CSUM) {
        ("+c", "--tun-csum")
    } else {
        ("-c", "--tun-nocsum")
    };
    ChecksumNames { ipvsadm, save }
}

/// JSON's `flags` of a service, in this order.
pub const SERVICE_FLAGS: [(ServiceFlags, &str); 3] = [
    (ServiceFlags::PERSISTENT, "persistent"),
    (ServiceFlags::HASHED, "hashed"),
    (ServiceFlags::ONEPACKET, "one_packet"),
];

/// JSON's `tun_flags` of a tunnel real server, in this order.
pub const TUNNEL_FLAGS: [(TunnelFlags, &str); 2] = [
    (TunnelFlags::CSUM, "csum"),
    (TunnelFlags::REMCSUM, "remcsum"),
];

/// The names of the set bits of `flags`, from `table`, in its order.
pub fn flag_names<F: bitflags::Flags + Copy>(
    table: &'static [(F, &'static str)],
    flags: F,
) -> impl Iterator<Item = &'static str> {
    table
        .iter()
        .filter(move |(bit, _)| flags.contains(*bit))
        .map(|(_, name)| *name)
}

/// The scheduler flags set in `flags` by the names `-b` takes and every
/// output shows, per scheduler (`sh` and `mh` have their own names and no
/// third flag: SCHED3 is not shown for them, as in ipvsadm).
pub fn sched_flags(
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
