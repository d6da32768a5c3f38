//! The typed IPVS model shared by the netlink codec, the command executor
//! and every renderer (ipvsadm text, save format, JSON, watch, Prometheus).
//!
//! It describes kernel state only: nothing here knows about argv or about
//! output formats. Values keep the kernel's full width (64-bit counters,
//! 32-bit fwmarks) so renderers decide what to show.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bitflags::bitflags;

/// Address family of a service, a destination or a multicast group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// `AF_INET` (2)
    Inet,
    /// `AF_INET6` (10)
    Inet6,
}

impl Family {
    pub const AF_INET: u16 = 2;
    pub const AF_INET6: u16 = 10;

    pub fn from_raw(af: u16) -> Option<Family> {
        match af {
            Self::AF_INET => Some(Family::Inet),
            Self::AF_INET6 => Some(Family::Inet6),
            _ => None,
        }
    }

    pub fn raw(self) -> u16 {
        match self {
            Family::Inet => Self::AF_INET,
            Family::Inet6 => Self::AF_INET6,
        }
    }

    pub fn of(addr: &IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::Inet,
            IpAddr::V6(_) => Family::Inet6,
        }
    }

    /// The all-zero address of this family.
    pub fn unspecified(self) -> IpAddr {
        match self {
            Family::Inet => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            Family::Inet6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        }
    }
}

/// Transport protocol of an address-based virtual service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
    /// A protocol number the kernel reported that we have no name for.
    Other(u16),
}

impl Protocol {
    pub fn from_raw(p: u16) -> Protocol {
        match p {
            6 => Protocol::Tcp,
            17 => Protocol::Udp,
            132 => Protocol::Sctp,
            other => Protocol::Other(other),
        }
    }

    pub fn raw(self) -> u16 {
        match self {
            Protocol::Tcp => 6,
            Protocol::Udp => 17,
            Protocol::Sctp => 132,
            Protocol::Other(p) => p,
        }
    }
}

/// How a virtual service is addressed: by (protocol, address, port) or by
/// firewall mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceAddr {
    Inet {
        protocol: Protocol,
        addr: IpAddr,
        port: u16,
    },
    Fwmark(u32),
}

/// The identity of a virtual service: what the kernel uses to find it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ServiceId {
    pub family: Family,
    pub addr: ServiceAddr,
}

impl ServiceId {
    pub fn fwmark(&self) -> Option<u32> {
        match self.addr {
            ServiceAddr::Fwmark(m) => Some(m),
            ServiceAddr::Inet { .. } => None,
        }
    }
}

bitflags! {
    /// `IP_VS_SVC_F_*` service flags. Unknown kernel bits are retained.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct ServiceFlags: u32 {
        const PERSISTENT = 0x0001;
        const HASHED = 0x0002;
        const ONEPACKET = 0x0004;
        const SCHED1 = 0x0008;
        const SCHED2 = 0x0010;
        const SCHED3 = 0x0020;
        const _ = !0;
    }
}

/// Persistence granularity: an IPv4 netmask, or an IPv6 prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Netmask {
    /// IPv4 mask (`255.255.255.255` is the default /32).
    V4(Ipv4Addr),
    /// IPv6 prefix length (128 is the default). Kept as the kernel's u32.
    V6(u32),
}

impl Netmask {
    pub fn default_for(family: Family) -> Netmask {
        match family {
            Family::Inet => Netmask::V4(Ipv4Addr::BROADCAST),
            Family::Inet6 => Netmask::V6(128),
        }
    }
}

/// Traffic counters and rate estimates. Always 64-bit: filled from
/// `*_STATS64` when the kernel sends it, else from the legacy `*_STATS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Stats {
    pub conns: u64,
    pub inpkts: u64,
    pub outpkts: u64,
    pub inbytes: u64,
    pub outbytes: u64,
    pub cps: u64,
    pub inpps: u64,
    pub outpps: u64,
    pub inbps: u64,
    pub outbps: u64,
}

/// A scheduler's or persistence engine's name: at most 16 bytes, the size of
/// the kernel's name fields (`IP_VS_SCHEDNAME_MAXLEN`, `IP_VS_PENAME_MAXLEN`,
/// NUL included for the scheduler).
pub type ShortName = InlineStr<16>;

/// The longest start of `text` of at most `max` bytes that does not split
/// a character: what `strncpy` into a fixed buffer keeps, whole characters
/// only.
pub fn prefix_within(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// A string of at most `N` bytes (`N` < 256) held inline, as C keeps one in a
/// fixed buffer: a service is built and copied without touching the heap, so
/// a `-R` of services makes no allocation per line.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct InlineStr<const N: usize> {
    len: u8,
    bytes: [u8; N],
}

impl<const N: usize> InlineStr<N> {
    /// The most bytes it holds.
    pub const CAPACITY: usize = N;

    /// `text` if it fits, else `None`.
    pub fn new(text: &str) -> Option<Self> {
        (text.len() <= N).then(|| Self::copied(text))
    }

    /// At most `max` bytes (at most `N`) of `text`, as `strncpy` into a
    /// fixed buffer keeps them, but never splitting a character.
    pub fn truncated(text: &str, max: usize) -> Self {
        Self::copied(prefix_within(text, max.min(N)))
    }

    /// A string written in the program (`"wlc"`); one too long is a bug
    /// there, so it panics (at compile time in a `const`).
    pub const fn literal(text: &'static str) -> Self {
        assert!(text.len() <= N && N < 256, "literal longer than its buffer");
        let mut bytes = [0; N];
        let mut i = 0;
        while i < text.len() {
            bytes[i] = text.as_bytes()[i];
            i += 1;
        }
        InlineStr {
            len: text.len() as u8,
            bytes,
        }
    }

    fn copied(text: &str) -> Self {
        let mut bytes = [0; N];
        bytes[..text.len()].copy_from_slice(text.as_bytes());
        InlineStr {
            len: text.len() as u8,
            bytes,
        }
    }

    pub fn as_str(&self) -> &str {
        // Built only from whole `&str`s cut at character boundaries.
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or_default()
    }
}

impl<const N: usize> Default for InlineStr<N> {
    fn default() -> Self {
        InlineStr {
            len: 0,
            bytes: [0; N],
        }
    }
}

impl<const N: usize> std::ops::Deref for InlineStr<N> {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl<const N: usize> AsRef<str> for InlineStr<N> {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl<const N: usize> std::fmt::Debug for InlineStr<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl<const N: usize> std::fmt::Display for InlineStr<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<const N: usize> PartialEq<str> for InlineStr<N> {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl<const N: usize> PartialEq<&str> for InlineStr<N> {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// A virtual service as the kernel reports it (and as we ask for it: the
/// stats are ignored when sending).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub id: ServiceId,
    /// Scheduler name; the kernel reports `none` when there is none.
    pub scheduler: ShortName,
    /// Persistence engine name (`sip`), if any.
    pub pe_name: Option<ShortName>,
    pub flags: ServiceFlags,
    /// Persistence timeout in seconds.
    pub timeout: u32,
    pub netmask: Netmask,
    pub stats: Stats,
}

/// Forwarding method of a real server (`IP_VS_CONN_F_FWD_MASK` values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FwdMethod {
    /// NAT, `-m` (0)
    Masq,
    /// Local node (1); never requested by ipvsadm.
    Local,
    /// IP-in-IP / GUE / GRE tunnel, `-i` (2)
    Tunnel,
    /// Direct routing, `-g` (3)
    Route,
    /// Any other value (e.g. bypass, 4).
    Other(u32),
}

impl FwdMethod {
    pub fn from_raw(v: u32) -> FwdMethod {
        match v {
            0 => FwdMethod::Masq,
            1 => FwdMethod::Local,
            2 => FwdMethod::Tunnel,
            3 => FwdMethod::Route,
            other => FwdMethod::Other(other),
        }
    }

    pub fn raw(self) -> u32 {
        match self {
            FwdMethod::Masq => 0,
            FwdMethod::Local => 1,
            FwdMethod::Tunnel => 2,
            FwdMethod::Route => 3,
            FwdMethod::Other(v) => v,
        }
    }
}

/// Tunnel encapsulation of a tunnel real server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TunnelType {
    #[default]
    Ipip,
    Gue,
    Gre,
    Other(u8),
}

impl TunnelType {
    pub fn from_raw(v: u8) -> TunnelType {
        match v {
            0 => TunnelType::Ipip,
            1 => TunnelType::Gue,
            2 => TunnelType::Gre,
            other => TunnelType::Other(other),
        }
    }

    pub fn raw(self) -> u8 {
        match self {
            TunnelType::Ipip => 0,
            TunnelType::Gue => 1,
            TunnelType::Gre => 2,
            TunnelType::Other(v) => v,
        }
    }
}

bitflags! {
    /// `IP_VS_TUNNEL_ENCAP_FLAG_*`: 0 = no checksum.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct TunnelFlags: u16 {
        const CSUM = 0x1;
        const REMCSUM = 0x2;
        const _ = !0;
    }
}

/// A real server (destination) of a virtual service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dest {
    /// Address family of the real server (may differ from the service's
    /// for tunnel servers).
    pub family: Family,
    pub addr: IpAddr,
    pub port: u16,
    pub fwd: FwdMethod,
    /// The kernel treats the weight as a signed int and rejects negatives.
    pub weight: i32,
    pub u_threshold: u32,
    pub l_threshold: u32,
    pub active_conns: u32,
    pub inact_conns: u32,
    pub persist_conns: u32,
    pub tun_type: TunnelType,
    pub tun_port: u16,
    pub tun_flags: TunnelFlags,
    pub stats: Stats,
}

/// Connection timeouts (seconds) as set by `--set` and shown by `--timeout`.
/// Zero in a request means "leave unchanged".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timeouts {
    pub tcp: u32,
    pub tcp_fin: u32,
    pub udp: u32,
}

/// Role of a connection synchronisation daemon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DaemonState {
    Master,
    Backup,
}

impl DaemonState {
    pub fn raw(self) -> u32 {
        match self {
            DaemonState::Master => 1,
            DaemonState::Backup => 2,
        }
    }

    pub fn from_raw(v: u32) -> Option<DaemonState> {
        match v {
            1 => Some(DaemonState::Master),
            2 => Some(DaemonState::Backup),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            DaemonState::Master => "master",
            DaemonState::Backup => "backup",
        }
    }
}

/// A connection synchronisation daemon. Optional fields are `None` when the
/// kernel did not report them (or, in a request, when they are not sent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Daemon {
    pub state: DaemonState,
    pub mcast_ifn: String,
    pub syncid: u32,
    pub sync_maxlen: Option<u16>,
    pub mcast_group: Option<IpAddr>,
    pub mcast_port: Option<u16>,
    pub mcast_ttl: Option<u8>,
}

/// What `IPVS_CMD_GET_INFO` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Info {
    /// Encoded as `major << 16 | minor << 8 | patch` (0x010201 = 1.2.1).
    pub version: u32,
    pub conn_tab_size: u32,
}

impl Info {
    pub fn version_triple(&self) -> (u32, u32, u32) {
        (
            self.version >> 16,
            (self.version >> 8) & 0xff,
            self.version & 0xff,
        )
    }
}

/// A service together with its real servers, in listing order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceEntry {
    pub service: Service,
    pub dests: Vec<Dest>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `strncpy` into a buffer of `max` bytes keeps the first `max` bytes;
    /// a character is never split, so one that would be is left out whole.
    #[test]
    fn inline_strings_keep_what_a_fixed_buffer_keeps() {
        assert_eq!(
            InlineStr::<16>::truncated("abcdefghijklmnopq", 15),
            "abcdefghijklmno"
        );
        assert_eq!(
            InlineStr::<16>::truncated("abcdefghijklmnopq", 99),
            "abcdefghijklmnop"
        );
        // "é" is two bytes: 7 of them fit in 15, the eighth would be split.
        assert_eq!(InlineStr::<16>::truncated("ééééééééé", 15), "ééééééé");
        assert_eq!(
            ShortName::new("sixteen-bytes-ok"),
            Some(ShortName::literal("sixteen-bytes-ok"))
        );
        assert_eq!(ShortName::new("seventeen-bytes-x"), None);
        assert_eq!(ShortName::default(), "");
        assert_eq!(format!("{:?}", ShortName::literal("sip")), "\"sip\"");
    }
}
