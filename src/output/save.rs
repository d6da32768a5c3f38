//! The `-S` / `--save` rule format (ipvsadm 1.31 `print_service_entry`
//! with `FMT_RULE`): one `-A` line per service, one `-a` line per dest.
//!
//! Deliberate difference: fwmarks are printed unsigned. 1.31 uses `%d`, so
//! a mark >= 2^31 saves as e.g. `-A -f -1`, which `-R` rejects; we save
//! `-A -f 4294967295`, which restores the same service.

use std::io::{self, Write};
use std::net::Ipv4Addr;

use crate::model::{
    Dest, Family, FwdMethod, Netmask, Protocol, Service, ServiceAddr, ServiceEntry,
    ServiceFlags, TunnelType,
};

use super::common::{
    addrport_to_anyname, has_sched_flags, push_addrport, push_int_left, sched_flag_names,
    service_proto, with_entry_buffer,
};
use super::text::service_protocol;
use crate::listing::sort::{dest_order, service_order};
use crate::name_table;
use crate::resolve::NameResolver;

/// The whole `-S` output: every service in ipvsadm's order (always
/// sorted: `-S` cannot be combined with `--nosort`). Entries and their
/// dests in kernel order. An empty table writes nothing.
pub fn write_save(
    out: &mut dyn Write,
    entries: &[ServiceEntry],
    numeric: bool,
    names: &dyn NameResolver,
) -> io::Result<()> {
    for entry in service_order(entries)
        .iter()
        .filter_map(|&i| entries.get(i))
    {
        write_save_entry(out, &entry.service, &entry.dests, numeric, names)?;
    }
    Ok(())
}

/// One service as restore commands. `dests` in kernel order: they are
/// sorted here (1.31 always sorts in `-S`).
pub fn write_save_entry(
    out: &mut dyn Write,
    svc: &Service,
    dests: &[Dest],
    numeric: bool,
    names: &dyn NameResolver,
) -> io::Result<()> {
    let svc_name = rule_service_name(svc, numeric, names);
    with_entry_buffer(|buf| {
        buf.extend_from_slice(b"-A ");
        buf.extend_from_slice(&svc_name);
        let mut rest = format!(" -s {}", svc.scheduler);
        if svc.flags.contains(ServiceFlags::PERSISTENT) {
            rest.push_str(&format!(" -p {}", svc.timeout));
            match svc.netmask {
                Netmask::V4(mask) if mask != Ipv4Addr::BROADCAST => {
                    rest.push_str(&format!(" -M {mask}"));
                }
                Netmask::V6(plen) if plen != 128 => {
                    rest.push_str(&format!(" -M {}", plen as i32))
                }
                _ => {}
            }
        }
        // Unlike the listing, the PE is saved even without persistence.
        if let Some(pe) = svc.pe_name.as_deref().filter(|pe| !pe.is_empty()) {
            rest.push_str(&format!(" --pe {pe}"));
        }
        if svc.flags.contains(ServiceFlags::ONEPACKET) {
            rest.push_str(" -o");
        }
        if has_sched_flags(svc.flags) {
            // `-s sh -b flag-3` saves as `-b ` with a trailing space, as 1.31.
            rest.push_str(&format!(
                " -b {}",
                sched_flag_names(&svc.scheduler, svc.flags)
            ));
        }
        rest.push('\n');
        buf.extend_from_slice(rest.as_bytes());

        let proto = service_proto(service_protocol(svc));
        for dest in dest_order(dests).into_iter().map(|i| &dests[i]) {
            buf.extend_from_slice(b"-a ");
            buf.extend_from_slice(&svc_name);
            buf.extend_from_slice(b" -r ");
            push_addrport(buf, &dest.addr, dest.port, proto, numeric, names);
            push_dest_options(buf, dest);
        }
        out.write_all(buf)
    })
}

/// A resolver that never finds a name: rules written for commands.
struct Numeric;

impl NameResolver for Numeric {
    fn host(&self, _: &std::net::IpAddr) -> Option<String> {
        None
    }
    fn service(&self, _: u16, _: &str) -> Option<String> {
        None
    }
}

/// The words that name `svc` in a command, numeric, as `-S` writes them
/// (`-t 10.0.0.1:80`, `-f 1 -6`).
pub fn service_words(svc: &Service) -> String {
    String::from_utf8_lossy(&rule_service_name(svc, true, &Numeric)).into_owned()
}

/// `ipvsadm -e` of `dest` of `svc` with `weight`, numeric, that keeps
/// the rest of the real server's settings (`-e` resets what it is not
/// given: the forwarding method, tunnel options and thresholds).
pub fn edit_dest_command(svc: &Service, dest: &Dest, weight: i32) -> String {
    let mut buf = b"ipvsadm -e ".to_vec();
    buf.extend_from_slice(&rule_service_name(svc, true, &Numeric));
    buf.extend_from_slice(b" -r ");
    let proto = service_proto(service_protocol(svc));
    push_addrport(&mut buf, &dest.addr, dest.port, proto, true, &Numeric);
    push_dest_options(
        &mut buf,
        &Dest {
            weight,
            ..dest.clone()
        },
    );
    buf.pop();
    let mut line = String::from_utf8_lossy(&buf).into_owned();
    if dest.u_threshold != 0 {
        line.push_str(&format!(" -x {}", dest.u_threshold));
    }
    if dest.l_threshold != 0 {
        line.push_str(&format!(" -y {}", dest.l_threshold));
    }
    line
}

/// `-t addr:port`, `-u ...`, `--sctp-service ...`, `-f MARK [-6]`.
fn rule_service_name(svc: &Service, numeric: bool, names: &dyn NameResolver) -> Vec<u8> {
    match svc.id.addr {
        ServiceAddr::Fwmark(mark) => {
            let ipv6 = if svc.id.family == Family::Inet6 {
                " -6"
            } else {
                ""
            };
            format!("-f {mark}{ipv6}").into_bytes()
        }
        ServiceAddr::Inet {
            protocol,
            addr,
            port,
        } => {
            let option = match protocol {
                Protocol::Tcp => "-t",
                Protocol::Udp => "-u",
                Protocol::Sctp => "--sctp-service",
                Protocol::Other(_) => "--xxx-service",
            };
            let mut name = format!("{option} ").into_bytes();
            name.extend_from_slice(&addrport_to_anyname(
                &addr,
                port,
                service_proto(Some(protocol)),
                numeric,
                names,
            ));
            name
        }
    }
}

/// ` -m -w 1`, plus the tunnel options of `-i` dests, and the newline.
fn push_dest_options(buf: &mut Vec<u8>, dest: &Dest) {
    // Only masquerading and tunnelling have their own switch; 1.31 saves
    // every other method (local node, bypass) as `-g`.
    let switch: &[u8] = match dest.fwd {
        FwdMethod::Masq => b" -m -w ",
        FwdMethod::Tunnel => b" -i -w ",
        _ => b" -g -w ",
    };
    buf.extend_from_slice(switch);
    push_int_left(buf, i64::from(dest.weight), 0);
    if dest.fwd == FwdMethod::Tunnel {
        let csum = name_table::tunnel_checksum(dest.tun_flags).save;
        let tunnel = match (dest.tun_type, name_table::tunnel_type(dest.tun_type)) {
            (TunnelType::Gue, Some(name)) => {
                format!(" --tun-type {name} --tun-port {} {csum}", dest.tun_port)
            }
            (TunnelType::Gre, Some(name)) => format!(" --tun-type {name} {csum}"),
            (_, Some(name)) => format!(" --tun-type {name}"),
            // 1.31 reads past its name table here; saying nothing restores
            // the dest with the default tunnel type.
            (_, None) => String::new(),
        };
        buf.extend_from_slice(tunnel.as_bytes());
    }
    buf.push(b'\n');
}

#[cfg(test)]
mod tests;
