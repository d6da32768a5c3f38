//! What `--check` knows of the host besides the IPVS table: the local
//! addresses and routes of the network namespace, its forwarding switches
//! and its IPVS settings, read from `/proc` (the namespace's own view: the
//! process has entered `--netns` by then). A fact that cannot be read is
//! kept as the reason, never guessed.
//!
//! The parsers take the files' text, so the rules can be tested with facts
//! made in memory and the parsers with text captured from a kernel.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use super::settings::{self, Setting};
use super::{Read, read_text};

/// Everything the rules look at besides the table.
#[derive(Debug, Clone, PartialEq)]
pub struct HostFacts {
    /// Prefixes the kernel routes to this host (the `LOCAL` entries of
    /// `/proc/net/fib_trie`): what IPVS accepts packets for. Sorted by
    /// length, then address, without repeats (as the parser makes them):
    /// a node of kube-proxy has every virtual address here.
    pub local_v4: Read<Vec<Prefix>>,
    /// Addresses of the interfaces (`/proc/net/if_inet6`), sorted, without
    /// repeats.
    pub local_v6: Read<Vec<Ipv6Addr>>,
    /// IPv4 routes of the main table (`/proc/net/route`).
    pub routes_v4: Read<Vec<Route>>,
    /// IPv6 routes (`/proc/net/ipv6_route`).
    pub routes_v6: Read<Vec<Route>>,
    /// Interface names (`/proc/net/dev`), for the fixes.
    pub interfaces: Vec<String>,
    /// `net.ipv4.ip_forward`, `net.ipv6.conf.all.forwarding` and every
    /// `net.ipv4.vs.*` setting, known ones first.
    pub settings: Vec<Setting>,
}

/// An address prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prefix {
    pub addr: IpAddr,
    pub len: u8,
}

impl Prefix {
    /// The prefix's first address (the address with the host bits
    /// cleared).
    pub fn network(&self) -> IpAddr {
        match self.addr {
            IpAddr::V4(a) => {
                let shift = 32 - u32::from(self.len.min(32));
                let mask = u32::MAX.checked_shl(shift).unwrap_or(0);
                IpAddr::V4(Ipv4Addr::from(u32::from(a) & mask))
            }
            IpAddr::V6(a) => {
                let shift = 128 - u32::from(self.len.min(128));
                let mask = u128::MAX.checked_shl(shift).unwrap_or(0);
                IpAddr::V6(Ipv6Addr::from(u128::from(a) & mask))
            }
        }
    }

    /// Whether `addr` is in this prefix.
    pub fn contains(&self, addr: &IpAddr) -> bool {
        match (self.addr, addr) {
            (IpAddr::V4(net), IpAddr::V4(a)) => {
                let shift = 32 - u32::from(self.len.min(32));
                let mask = u32::MAX.checked_shl(shift).unwrap_or(0);
                u32::from(net) & mask == u32::from(*a) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(a)) => {
                let shift = 128 - u32::from(self.len.min(128));
                let mask = u128::MAX.checked_shl(shift).unwrap_or(0);
                u128::from(net) & mask == u128::from(*a) & mask
            }
            _ => false,
        }
    }
}

/// A route: where it leads, and whether through a gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub dest: Prefix,
    pub via_gateway: bool,
    /// An unreachable, prohibit or blackhole route.
    pub reject: bool,
}

/// How a destination is reached, by the longest matching route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// On a network of one of this host's interfaces.
    Connected,
    /// Through a gateway.
    Gateway,
    /// No route, or a route that rejects it.
    Unreachable,
}

/// `RTF_GATEWAY` and `RTF_REJECT` of `<linux/route.h>`.
const RTF_GATEWAY: u32 = 0x2;
const RTF_REJECT: u32 = 0x200;

impl HostFacts {
    /// Facts of which nothing is known (each "not read").
    pub fn unknown() -> HostFacts {
        let not_read = "not read".to_string();
        HostFacts {
            local_v4: Err(not_read.clone()),
            local_v6: Err(not_read.clone()),
            routes_v4: Err(not_read.clone()),
            routes_v6: Err(not_read),
            interfaces: Vec::new(),
            settings: Vec::new(),
        }
    }

    /// Reads the facts of the current network namespace.
    pub fn read() -> HostFacts {
        HostFacts::read_from(Path::new("/proc"))
    }

    /// Reads the facts under `proc` (a `/proc`).
    pub fn read_from(proc: &Path) -> HostFacts {
        // `/proc/net` is the main thread's namespace: ask for this thread's.
        let net = proc.join("thread-self/net");
        let read = |name: &str| read_text(&net.join(name));
        HostFacts {
            local_v4: read("fib_trie").map(|t| parse_fib_trie_local(&t)),
            local_v6: read("if_inet6").map(|t| parse_if_inet6(&t)),
            routes_v4: read("route").map(|t| parse_route(&t)),
            routes_v6: read("ipv6_route").map(|t| parse_ipv6_route(&t)),
            interfaces: read("dev").map(|t| parse_dev(&t)).unwrap_or_default(),
            settings: settings::read_all(&proc.join("sys")),
        }
    }

    /// Whether `addr` is an address of this namespace (`Err`: cannot be
    /// read).
    pub fn is_local(&self, addr: &IpAddr) -> Read<bool> {
        match addr {
            IpAddr::V4(a) => match &self.local_v4 {
                Ok(prefixes) => Ok(in_sorted_prefixes(prefixes, *a)),
                Err(e) => Err(e.clone()),
            },
            IpAddr::V6(a) => match &self.local_v6 {
                Ok(addrs) => Ok(addrs.binary_search(a).is_ok()),
                Err(e) => Err(e.clone()),
            },
        }
    }

    /// How `addr` is reached, by the longest matching route.
    pub fn reach(&self, addr: &IpAddr) -> Read<Reach> {
        let routes = match addr {
            IpAddr::V4(_) => &self.routes_v4,
            IpAddr::V6(_) => &self.routes_v6,
        };
        let routes = routes.as_ref().map_err(String::clone)?;
        let best = routes
            .iter()
            .filter(|r| r.dest.contains(addr))
            .max_by_key(|r| r.dest.len);
        Ok(match best {
            None => Reach::Unreachable,
            Some(r) if r.reject => Reach::Unreachable,
            Some(r) if r.via_gateway => Reach::Gateway,
            Some(_) => Reach::Connected,
        })
    }

    /// A setting by its sysctl name (`net.ipv4.vs.run_estimation`).
    pub fn setting(&self, name: &str) -> Option<&Setting> {
        self.settings.iter().find(|s| s.name == name)
    }

    /// A setting's value as a number (`Err`: cannot be read, or absent).
    pub fn number(&self, name: &str) -> Read<i64> {
        let setting = self
            .setting(name)
            .ok_or_else(|| "not provided by this kernel".to_string())?;
        let text = setting.value.as_ref().map_err(String::clone)?;
        text.trim()
            .parse()
            .map_err(|_| format!("unexpected value `{}'", text.trim()))
    }
}

/// Whether `addr` is in one of `prefixes` (sorted by length, then
/// address): a binary search per prefix length.
fn in_sorted_prefixes(prefixes: &[Prefix], addr: Ipv4Addr) -> bool {
    let mut rest = prefixes;
    while let Some(first) = rest.first() {
        let len = first.len;
        let group_end = rest.partition_point(|p| p.len == len);
        let (group, after) = rest.split_at(group_end);
        let net = Prefix {
            addr: IpAddr::V4(addr),
            len,
        }
        .network();
        if group.binary_search_by_key(&net, |p| p.addr).is_ok() {
            return true;
        }
        rest = after;
    }
    false
}

/// The `LOCAL` prefixes of `/proc/net/fib_trie`: each leaf line
/// (`|-- 10.0.0.1`) is followed by its prefixes (`/32 host LOCAL`).
pub fn parse_fib_trie_local(text: &str) -> Vec<Prefix> {
    let mut out: Vec<Prefix> = Vec::new();
    let mut leaf: Option<Ipv4Addr> = None;
    for line in text.lines() {
        let line = line.trim();
        if let Some(addr) = line.strip_prefix("|-- ") {
            leaf = addr.trim().parse().ok();
        } else if let Some(rest) = line.strip_prefix('/') {
            let mut words = rest.split_whitespace();
            let len = words.next().and_then(|l| l.parse::<u8>().ok());
            let kind = words.nth(1);
            if let (Some(addr), Some(len), Some("LOCAL")) = (leaf, len, kind) {
                let prefix = Prefix {
                    addr: IpAddr::V4(addr),
                    len: len.min(32),
                };
                out.push(Prefix {
                    addr: prefix.network(),
                    len: prefix.len,
                });
            }
        } else {
            leaf = None;
        }
    }
    // Listed once per table (Main and Local).
    out.sort_by_key(|p| (p.len, p.addr));
    out.dedup();
    out
}

/// The addresses of `/proc/net/if_inet6` (32 hex digits, then the rest).
pub fn parse_if_inet6(text: &str) -> Vec<Ipv6Addr> {
    let mut out: Vec<Ipv6Addr> = text
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter_map(hex_v6)
        .collect();
    out.sort();
    out.dedup();
    out
}

/// `/proc/net/route`: `Iface Destination Gateway Flags RefCnt Use Metric
/// Mask ...`, addresses in hex in the kernel's (little-endian) order.
pub fn parse_route(text: &str) -> Vec<Route> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let dest = hex_v4(f.get(1)?)?;
            let flags = u32::from_str_radix(f.get(3)?, 16).ok()?;
            let mask = hex_v4(f.get(7)?)?;
            Some(Route {
                dest: Prefix {
                    addr: IpAddr::V4(dest),
                    len: u32::from(mask).count_ones() as u8,
                },
                via_gateway: flags & RTF_GATEWAY != 0,
                reject: flags & RTF_REJECT != 0,
            })
        })
        .collect()
}

/// `/proc/net/ipv6_route`: `dest plen src splen nexthop metric refcnt use
/// flags dev`, in hex.
pub fn parse_ipv6_route(text: &str) -> Vec<Route> {
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let dest = hex_v6(f.first()?)?;
            let len = u8::from_str_radix(f.get(1)?, 16).ok()?;
            let flags = u32::from_str_radix(f.get(8)?, 16).ok()?;
            Some(Route {
                dest: Prefix {
                    addr: IpAddr::V6(dest),
                    len,
                },
                via_gateway: flags & RTF_GATEWAY != 0,
                reject: flags & RTF_REJECT != 0,
            })
        })
        .collect()
}

/// Interface names of `/proc/net/dev` (`  name: counters...`).
pub fn parse_dev(text: &str) -> Vec<String> {
    text.lines()
        .skip(2)
        .filter_map(|l| l.split_once(':'))
        .map(|(name, _)| name.trim().to_string())
        .collect()
}

/// An IPv4 address as `/proc/net/route` writes it (`0100000A` is
/// 10.0.0.1: the bytes in memory order).
fn hex_v4(word: &str) -> Option<Ipv4Addr> {
    let n = u32::from_str_radix(word, 16).ok()?;
    Some(Ipv4Addr::from(n.to_le_bytes()))
}

/// An IPv6 address as 32 hex digits.
fn hex_v6(word: &str) -> Option<Ipv6Addr> {
    (word.len() == 32)
        .then(|| u128::from_str_radix(word, 16).ok())
        .flatten()
        .map(Ipv6Addr::from)
}
