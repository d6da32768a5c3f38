//! The table document (`-L --json`) read back, for `-R --format json`.
//!
//! The keys are those [`super::JsonService`] and [`super::JsonRealServer`]
//! write (a round-trip test holds the two together); what a table needs
//! is read, everything else (`stats`, `rates`, connection counts, the
//! flag names that repeat `flags_raw`) is ignored. Values are read as the
//! listing writes them; checking them is left to the `-R` parser, which
//! every service and real server read here goes through.

use std::net::{IpAddr, Ipv4Addr};

use serde::Deserialize;

use crate::model::{
    Dest, Family, FwdMethod, Netmask, Protocol, Service, ServiceAddr, ServiceEntry,
    ServiceFlags, ServiceId, ShortName, Stats, TunnelFlags, TunnelType,
};
use crate::name_table;

#[derive(Deserialize)]
struct TableIn {
    schema_version: u32,
    services: Vec<ServiceIn>,
}

#[derive(Deserialize)]
struct ServiceIn {
    af: String,
    protocol: Option<String>,
    addr: Option<IpAddr>,
    port: Option<u16>,
    fwmark: Option<u32>,
    sched_name: String,
    flags_raw: u32,
    timeout: u32,
    netmask: Option<Ipv4Addr>,
    prefix_len: Option<u32>,
    pe_name: Option<String>,
    real_servers: Vec<RealServerIn>,
}

#[derive(Deserialize)]
struct RealServerIn {
    af: String,
    addr: IpAddr,
    port: u16,
    fwd_method_raw: u32,
    weight: i32,
    u_threshold: u32,
    l_threshold: u32,
    tun_type: Option<String>,
    tun_port: Option<u16>,
    tun_flags: Option<Vec<String>>,
}

/// Reads a table document: its services, each with its real servers, in
/// the document's order. The error names where the document is wrong:
/// its line and column, or the service (`services[2]`) or real server
/// (`services[2].real_servers[0]`).
pub fn read_table(text: &[u8]) -> Result<Vec<ServiceEntry>, String> {
    let doc: TableIn = serde_json::from_slice(text).map_err(|e| e.to_string())?;
    if doc.schema_version != super::SCHEMA_VERSION {
        return Err(format!(
            "schema_version {} is not supported (expected {})",
            doc.schema_version,
            super::SCHEMA_VERSION
        ));
    }
    doc.services
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            let at = format!("services[{i}]");
            let service = s.service().map_err(|e| format!("{at}: {e}"))?;
            let dests = s
                .real_servers
                .iter()
                .enumerate()
                .map(|(j, d)| {
                    d.dest().map_err(|e| format!("{at}.real_servers[{j}]: {e}"))
                })
                .collect::<Result<_, _>>()?;
            Ok(ServiceEntry { service, dests })
        })
        .collect()
}

fn family(af: &str) -> Result<Family, String> {
    match af {
        "inet" => Ok(Family::Inet),
        "inet6" => Ok(Family::Inet6),
        _ => Err(format!("af `{af}' is not \"inet\" or \"inet6\"")),
    }
}

/// A scheduler's or persistence engine's name, which the kernel holds in
/// a field of [`ShortName::CAPACITY`] bytes.
fn short_name(key: &str, text: &str) -> Result<ShortName, String> {
    ShortName::new(text).ok_or_else(|| {
        format!(
            "{key} `{text}' is longer than {} bytes",
            ShortName::CAPACITY
        )
    })
}

/// The name JSON writes for a value of `T`, or its number as a string.
fn by_name_or_number<T: Copy>(
    text: &str,
    candidates: &[T],
    name: impl Fn(T) -> Option<&'static str>,
    from_number: impl Fn(u16) -> T,
) -> Option<T> {
    candidates
        .iter()
        .copied()
        .find(|c| name(*c) == Some(text))
        .or_else(|| text.parse::<u16>().ok().map(from_number))
}

impl ServiceIn {
    fn service(&self) -> Result<Service, String> {
        let family = family(&self.af)?;
        let addr = match (self.fwmark, &self.protocol, self.addr, self.port) {
            (Some(mark), None, None, None) => ServiceAddr::Fwmark(mark),
            (None, Some(p), Some(addr), Some(port)) => ServiceAddr::Inet {
                protocol: by_name_or_number(
                    p,
                    &[Protocol::Tcp, Protocol::Udp, Protocol::Sctp],
                    |p| name_table::protocol(p).map(|n| n.lower),
                    Protocol::from_raw,
                )
                .ok_or_else(|| format!("protocol `{p}' is unknown"))?,
                addr,
                port,
            },
            _ => {
                return Err(
                    "a service has either a fwmark or a protocol, addr and port".into()
                );
            }
        };
        let netmask = match (family, self.netmask, self.prefix_len) {
            (Family::Inet, Some(mask), None) => Netmask::V4(mask),
            (Family::Inet6, None, Some(plen)) => Netmask::V6(plen),
            (Family::Inet, None, None) | (Family::Inet6, None, None) => {
                Netmask::default_for(family)
            }
            _ => {
                return Err(
                    "an inet service has a netmask, an inet6 service a prefix_len".into(),
                );
            }
        };
        Ok(Service {
            id: ServiceId { family, addr },
            scheduler: short_name("sched_name", &self.sched_name)?,
            pe_name: match self.pe_name.as_deref() {
                None | Some("") => None,
                Some(pe) => Some(short_name("pe_name", pe)?),
            },
            flags: ServiceFlags::from_bits_retain(self.flags_raw) - ServiceFlags::HASHED,
            timeout: self.timeout,
            netmask,
            stats: Stats::default(),
        })
    }
}

impl RealServerIn {
    fn dest(&self) -> Result<Dest, String> {
        let fwd = FwdMethod::from_raw(self.fwd_method_raw);
        let mut tun_type = TunnelType::default();
        let mut tun_flags = TunnelFlags::empty();
        if let Some(t) = &self.tun_type {
            tun_type = by_name_or_number(
                t,
                &[TunnelType::Ipip, TunnelType::Gue, TunnelType::Gre],
                name_table::tunnel_type,
                |n| TunnelType::from_raw(n as u8),
            )
            .ok_or_else(|| format!("tun_type `{t}' is unknown"))?;
        }
        for name in self.tun_flags.iter().flatten() {
            let (bit, _) = name_table::TUNNEL_FLAGS
                .iter()
                .find(|(_, n)| n == name)
                .ok_or_else(|| format!("tun_flags name `{name}' is unknown"))?;
            tun_flags |= *bit;
        }
        Ok(Dest {
            family: family(&self.af)?,
            addr: self.addr,
            port: self.port,
            fwd,
            weight: self.weight,
            u_threshold: self.u_threshold,
            l_threshold: self.l_threshold,
            active_conns: 0,
            inact_conns: 0,
            persist_conns: 0,
            tun_type,
            tun_port: self.tun_port.unwrap_or(0),
            tun_flags,
            stats: Stats::default(),
        })
    }
}
