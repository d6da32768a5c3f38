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
    has_sched_flags, push_addrport, push_decimal, push_int, push_int_left, push_ipv4,
    push_sched_flag_names, service_proto, with_entry_buffer,
};
use super::text::service_protocol;
use crate::listing::sort::{service_order, with_dest_order};
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
    with_entry_buffer(|buf| {
        buf.extend_from_slice(b"-A ");
        let name_start = buf.len();
        push_rule_service_name(buf, svc, numeric, names);
        let svc_name = name_start..buf.len();
        push_service_options(buf, svc);

        let proto = service_proto(service_protocol(svc));
        with_dest_order(dests, |order| {
            for dest in order.iter().map(|&i| &dests[i]) {
                buf.extend_from_slice(b"-a ");
                buf.extend_from_within(svc_name.clone());
                buf.extend_from_slice(b" -r ");
                push_addrport(buf, &dest.addr, dest.port, proto, numeric, names);
                push_dest_options(buf, dest, false);
            }
        });
        out.write_all(buf)
    })
}

/// Whether the lines `-S` writes of `svc` and `dests` say every setting
/// they have, so that `-R` of them makes the same service and real servers
/// (settings the kernel ignores aside): not when a real server has
/// thresholds (`-S` does not write them), a forwarding method `-S` writes
/// as `-g` (local node, bypass), an unnamed tunnel type, an IPIP tunnel
/// with checksum flags, or is routed or tunnelled to a port other than its
/// service's (`-R` gives such a server the service's port); nor when the
/// service has a protocol without an option or a flag without a name
/// (`sh`'s and `mh`'s third scheduler flag, unknown bits).
pub fn says_everything(svc: &Service, dests: &[Dest]) -> bool {
    let mut named = ServiceFlags::PERSISTENT
        | ServiceFlags::HASHED
        | ServiceFlags::ONEPACKET
        | ServiceFlags::SCHED1
        | ServiceFlags::SCHED2;
    if !matches!(svc.scheduler.as_str(), "sh" | "mh") {
        named |= ServiceFlags::SCHED3;
    }
    let (protocol_named, port) = match svc.id.addr {
        ServiceAddr::Inet { protocol, port, .. } => {
            (!matches!(protocol, Protocol::Other(_)), Some(port))
        }
        ServiceAddr::Fwmark(_) => (true, None),
    };
    named.contains(svc.flags)
        && protocol_named
        && dests.iter().all(|d| {
            let port_kept = d.fwd == FwdMethod::Masq || port.is_none_or(|p| p == d.port);
            d.u_threshold == 0
                && d.l_threshold == 0
                && port_kept
                && match d.fwd {
                    FwdMethod::Masq | FwdMethod::Route => true,
                    FwdMethod::Tunnel => match d.tun_type {
                        TunnelType::Ipip => d.tun_flags.is_empty(),
                        TunnelType::Gue | TunnelType::Gre => true,
                        TunnelType::Other(_) => false,
                    },
                    _ => false,
                }
        })
}

/// What a rule line does: `-A`/`-a`, `-E`/`-e` or `-D`/`-d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleCmd {
    Add,
    Edit,
    Del,
}

/// One change as a `-R` line in the syntax `-S` writes (numeric): a
/// service (`-A`, `-E` with its settings, `-D`), or a real server of it
/// (`-a`, `-e` with its settings, `-d`). Unlike `-S`, non-zero thresholds
/// are written (`-x`, `-y`), so the line sets everything the change does.
pub fn push_rule(buf: &mut Vec<u8>, cmd: RuleCmd, svc: &Service, dest: Option<&Dest>) {
    let names = Numeric;
    let letter: &[u8] = match (cmd, dest.is_some()) {
        (RuleCmd::Add, false) => b"-A ",
        (RuleCmd::Edit, false) => b"-E ",
        (RuleCmd::Del, false) => b"-D ",
        (RuleCmd::Add, true) => b"-a ",
        (RuleCmd::Edit, true) => b"-e ",
        (RuleCmd::Del, true) => b"-d ",
    };
    buf.extend_from_slice(letter);
    push_rule_service_name(buf, svc, true, &names);
    match (dest, cmd) {
        (None, RuleCmd::Del) => buf.push(b'\n'),
        (None, _) => push_service_options(buf, svc),
        (Some(dest), cmd) => {
            let proto = service_proto(service_protocol(svc));
            buf.extend_from_slice(b" -r ");
            push_addrport(buf, &dest.addr, dest.port, proto, true, &names);
            if cmd == RuleCmd::Del {
                buf.push(b'\n');
            } else {
                push_dest_options(buf, dest, true);
            }
        }
    }
}

/// The resolver of numeric rules: it knows no name.
struct Numeric;

impl NameResolver for Numeric {
    fn host(&self, _: &std::net::IpAddr) -> Option<String> {
        None
    }

    fn service(&self, _: u16, _: &str) -> Option<String> {
        None
    }
}

/// ` -s wlc -p 360 ...` and the newline.
fn push_service_options(buf: &mut Vec<u8>, svc: &Service) {
    buf.extend_from_slice(b" -s ");
    buf.extend_from_slice(svc.scheduler.as_bytes());
    if svc.flags.contains(ServiceFlags::PERSISTENT) {
        buf.extend_from_slice(b" -p ");
        push_decimal(buf, u64::from(svc.timeout));
        match svc.netmask {
            Netmask::V4(mask) if mask != Ipv4Addr::BROADCAST => {
                buf.extend_from_slice(b" -M ");
                push_ipv4(buf, &mask);
            }
            Netmask::V6(plen) if plen != 128 => {
                buf.extend_from_slice(b" -M ");
                push_int(buf, i64::from(plen as i32));
            }
            _ => {}
        }
    }
    // Unlike the listing, the PE is saved even without persistence.
    if let Some(pe) = svc.pe_name.as_deref().filter(|pe| !pe.is_empty()) {
        buf.extend_from_slice(b" --pe ");
        buf.extend_from_slice(pe.as_bytes());
    }
    if svc.flags.contains(ServiceFlags::ONEPACKET) {
        buf.extend_from_slice(b" -o");
    }
    if has_sched_flags(svc.flags) {
        // `-s sh -b flag-3` saves as `-b ` with a trailing space, as 1.31.
        buf.extend_from_slice(b" -b ");
        push_sched_flag_names(buf, &svc.scheduler, svc.flags);
    }
    buf.push(b'\n');
}

/// The words that name `svc` in a command, numeric, as `-S` writes them
/// (`-t 10.0.0.1:80`, `-f 1 -6`).
pub fn service_words(svc: &Service) -> String {
    let mut words = Vec::new();
    push_rule_service_name(&mut words, svc, true, &Numeric);
    String::from_utf8_lossy(&words).into_owned()
}

/// `ipvsadm -e` of `dest` of `svc` with `weight`, numeric, that keeps the
/// rest of the real server's settings (`-e` resets what it is not given:
/// the forwarding method, tunnel options and thresholds).
pub fn edit_dest_command(svc: &Service, dest: &Dest, weight: i32) -> String {
    let dest = Dest {
        weight,
        ..dest.clone()
    };
    format!("ipvsadm {}", rule_line(RuleCmd::Edit, svc, Some(&dest)))
}

/// [`push_rule`]'s line as a string, without its newline.
pub fn rule_line(cmd: RuleCmd, svc: &Service, dest: Option<&Dest>) -> String {
    let mut line = Vec::new();
    push_rule(&mut line, cmd, svc, dest);
    line.pop(); // the newline
    String::from_utf8_lossy(&line).into_owned()
}

/// `-t addr:port`, `-u ...`, `--sctp-service ...`, `-f MARK [-6]`,
/// appended to `buf`.
fn push_rule_service_name(
    buf: &mut Vec<u8>,
    svc: &Service,
    numeric: bool,
    names: &dyn NameResolver,
) {
    match svc.id.addr {
        ServiceAddr::Fwmark(mark) => {
            buf.extend_from_slice(b"-f ");
            push_decimal(buf, u64::from(mark));
            if svc.id.family == Family::Inet6 {
                buf.extend_from_slice(b" -6");
            }
        }
        ServiceAddr::Inet {
            protocol,
            addr,
            port,
        } => {
            let option: &[u8] = match protocol {
                Protocol::Tcp => b"-t ",
                Protocol::Udp => b"-u ",
                Protocol::Sctp => b"--sctp-service ",
                Protocol::Other(_) => b"--xxx-service ",
            };
            buf.extend_from_slice(option);
            let proto = service_proto(Some(protocol));
            push_addrport(buf, &addr, port, proto, numeric, names);
        }
    }
}

/// ` -m -w 1`, plus the tunnel options of `-i` dests, non-zero
/// thresholds when `thresholds` (`-S` never writes them), and the newline.
fn push_dest_options(buf: &mut Vec<u8>, dest: &Dest, thresholds: bool) {
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
    if thresholds && (dest.u_threshold != 0 || dest.l_threshold != 0) {
        let x = format!(" -x {} -y {}", dest.u_threshold, dest.l_threshold);
        buf.extend_from_slice(x.as_bytes());
    }
    buf.push(b'\n');
}

#[cfg(test)]
mod tests;
