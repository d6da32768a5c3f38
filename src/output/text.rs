//! The `-L` table: version header, column titles and service entries, as
//! ipvsadm 1.31's `list_all` / `print_title` / `print_service_entry`.

use std::io::{self, Write};
use std::net::Ipv4Addr;

use crate::listing::ListFormat;
use crate::model::{
    Dest, Family, FwdMethod, Info, Netmask, Protocol, Service, ServiceAddr, ServiceEntry,
    ServiceFlags, TunnelType,
};

use super::common::{
    has_sched_flags, pad_to, push_addrport, push_decimal, push_int, push_int_left,
    push_ipv4, push_largenum, push_left, push_sched_flag_names, push_uint_left,
    service_proto, with_entry_buffer,
};
use crate::listing::sort::{service_order, with_dest_order};
use crate::name_table;
use crate::resolve::NameResolver;

/// Service names (IPv4 and fwmark) are cut to this many bytes in listings.
const SERVICE_NAME_MAX: usize = 33;
/// Dest names (IPv4) are cut to this many bytes in listings.
const DEST_NAME_MAX: usize = 28;

/// Which column set a listing uses; the first matching flag wins, in
/// 1.31's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    Stats,
    Rate,
    Thresholds,
    PersistentConn,
    TunInfo,
    Plain,
}

impl Layout {
    fn of(fmt: &ListFormat) -> Layout {
        if fmt.stats {
            Layout::Stats
        } else if fmt.rate {
            Layout::Rate
        } else if fmt.thresholds {
            Layout::Thresholds
        } else if fmt.persistent_conn {
            Layout::PersistentConn
        } else if fmt.tun_info {
            Layout::TunInfo
        } else {
            Layout::Plain
        }
    }
}

/// `IP Virtual Server version 1.2.1 (size=4096)`
pub fn write_table_header(out: &mut dyn Write, info: &Info) -> io::Result<()> {
    let (major, minor, patch) = info.version_triple();
    // 1.31 prints the table size with %d.
    writeln!(
        out,
        "IP Virtual Server version {major}.{minor}.{patch} (size={})",
        info.conn_tab_size as i32
    )
}

/// The two column-title lines of a listing.
pub fn write_title(out: &mut dyn Write, fmt: &ListFormat) -> io::Result<()> {
    let title = match Layout::of(fmt) {
        Layout::Stats => format!(
            "{:<33} {:>8} {:>8} {:>8} {:>8} {:>8}\n  -> RemoteAddress:Port\n",
            "Prot LocalAddress:Port", "Conns", "InPkts", "OutPkts", "InBytes", "OutBytes"
        ),
        Layout::Rate => format!(
            "{:<33} {:>8} {:>8} {:>8} {:>8} {:>8}\n  -> RemoteAddress:Port\n",
            "Prot LocalAddress:Port", "CPS", "InPPS", "OutPPS", "InBPS", "OutBPS"
        ),
        Layout::Thresholds => format!(
            "{:<33} {:<10} {:<10} {:<10} {:<10}\n  -> RemoteAddress:Port\n",
            "Prot LocalAddress:Port", "Uthreshold", "Lthreshold", "ActiveConn", "InActConn"
        ),
        Layout::PersistentConn => format!(
            "{:<33} {:<9} {:<11} {:<10} {:<10}\n  -> RemoteAddress:Port\n",
            "Prot LocalAddress:Port", "Weight", "PersistConn", "ActiveConn", "InActConn"
        ),
        Layout::TunInfo => "Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n".to_owned(),
        Layout::Plain => "Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n".to_owned(),
    };
    out.write_all(title.as_bytes())
}

/// A whole listing as `list_all` prints it: the version header (when
/// `info` is given; `-L <service>` has none), the services in ipvsadm's
/// order unless `fmt.nosort`, the title, and every entry. Entries and
/// their dests are expected in kernel order.
pub fn write_table(
    out: &mut dyn Write,
    info: Option<&Info>,
    entries: &[ServiceEntry],
    fmt: &ListFormat,
    names: &dyn NameResolver,
) -> io::Result<()> {
    if let Some(info) = info {
        write_table_header(out, info)?;
    }
    let order: Vec<usize> = if fmt.nosort {
        (0..entries.len()).collect()
    } else {
        service_order(entries)
    };
    write_title(out, fmt)?;
    for entry in order.iter().filter_map(|&i| entries.get(i)) {
        write_service_entry(out, &entry.service, &entry.dests, fmt, names)?;
    }
    Ok(())
}

/// One service line and its real-server lines.
///
/// `dests` must be in kernel order: they are sorted here unless
/// `fmt.nosort`, as 1.31 does per service.
pub fn write_service_entry(
    out: &mut dyn Write,
    svc: &Service,
    dests: &[Dest],
    fmt: &ListFormat,
    names: &dyn NameResolver,
) -> io::Result<()> {
    let layout = Layout::of(fmt);
    with_entry_buffer(|buf| {
        let start = buf.len();
        push_list_service_name(buf, svc, fmt.numeric, names);
        match layout {
            Layout::Stats | Layout::Rate => {
                // The name left-aligned in 33 columns (`%-33s`).
                pad_to(buf, start + 33);
                let s = &svc.stats;
                let values = if layout == Layout::Stats {
                    [s.conns, s.inpkts, s.outpkts, s.inbytes, s.outbytes]
                } else {
                    [s.cps, s.inpps, s.outpps, s.inbps, s.outbps]
                };
                for value in values {
                    push_largenum(buf, value, fmt.exact);
                }
                buf.push(b'\n');
            }
            _ => push_service_details(buf, svc),
        }

        let proto = service_proto(service_protocol(svc));
        let mut push_dest = |dest: &Dest| {
            buf.extend_from_slice(b"  -> ");
            let start = buf.len();
            push_addrport(buf, &dest.addr, dest.port, proto, fmt.numeric, names);
            if dest.addr.is_ipv4() {
                buf.truncate(start + DEST_NAME_MAX);
            }
            pad_to(buf, start + 28);
            push_dest_columns(buf, dest, layout, fmt.exact);
        };
        if fmt.nosort {
            dests.iter().for_each(push_dest);
        } else {
            with_dest_order(dests, |order| {
                order.iter().for_each(|&i| push_dest(&dests[i]));
            });
        }
        out.write_all(buf)
    })
}

/// The service's protocol, `None` for fwmark services (protocol 0).
pub(crate) fn service_protocol(svc: &Service) -> Option<Protocol> {
    match svc.id.addr {
        ServiceAddr::Inet { protocol, .. } => Some(protocol),
        ServiceAddr::Fwmark(_) => None,
    }
}

/// `svc_name` in list form, appended to `buf`: `TCP  addr:port` or
/// `FWM  n`, cut to 33 bytes unless the service is IPv6.
fn push_list_service_name(
    buf: &mut Vec<u8>,
    svc: &Service,
    numeric: bool,
    names: &dyn NameResolver,
) {
    let start = buf.len();
    match svc.id.addr {
        // 1.31 prints the mark with %d: 4294967295 lists as `FWM  -1`.
        ServiceAddr::Fwmark(mark) => {
            buf.extend_from_slice(b"FWM  ");
            push_int(buf, i64::from(mark as i32));
            buf.extend_from_slice(
                name_table::fwmark_family_suffix(svc.id.family).as_bytes(),
            );
        }
        ServiceAddr::Inet {
            protocol,
            addr,
            port,
        } => {
            let label = name_table::protocol(protocol).map_or("?", |names| names.upper);
            push_left(buf, label.as_bytes(), 4);
            buf.push(b' ');
            let proto = service_proto(Some(protocol));
            push_addrport(buf, &addr, port, proto, numeric, names);
        }
    }
    if svc.id.family != Family::Inet6 {
        buf.truncate(start + SERVICE_NAME_MAX);
    }
}

/// ` sched [(flags)] [persistent N [mask M] [pe P]] [ops]` and the newline,
/// after the service's name.
fn push_service_details(buf: &mut Vec<u8>, svc: &Service) {
    buf.push(b' ');
    buf.extend_from_slice(svc.scheduler.as_bytes());
    if has_sched_flags(svc.flags) {
        buf.extend_from_slice(b" (");
        push_sched_flag_names(buf, &svc.scheduler, svc.flags);
        buf.push(b')');
    }
    if svc.flags.contains(ServiceFlags::PERSISTENT) {
        buf.extend_from_slice(b" persistent ");
        push_decimal(buf, u64::from(svc.timeout));
        match svc.netmask {
            Netmask::V4(mask) if mask != Ipv4Addr::BROADCAST => {
                buf.extend_from_slice(b" mask ");
                push_ipv4(buf, &mask);
            }
            // 1.31 prints the IPv6 prefix length with %i.
            Netmask::V6(plen) if plen != 128 => {
                buf.extend_from_slice(b" mask ");
                push_int(buf, i64::from(plen as i32));
            }
            _ => {}
        }
        if let Some(pe) = svc.pe_name.as_deref().filter(|pe| !pe.is_empty()) {
            buf.extend_from_slice(b" pe ");
            buf.extend_from_slice(pe.as_bytes());
        }
    }
    if svc.flags.contains(ServiceFlags::ONEPACKET) {
        buf.extend_from_slice(b" ops");
    }
    buf.push(b'\n');
}

/// The columns after the 28-wide dest name (each layout's printf).
fn push_dest_columns(buf: &mut Vec<u8>, dest: &Dest, layout: Layout, exact: bool) {
    let s = &dest.stats;
    // Writing to a Vec cannot fail; formatting straight into it saves an
    // allocation per line.
    let _ = match layout {
        Layout::Stats => {
            for value in [s.conns, s.inpkts, s.outpkts, s.inbytes, s.outbytes] {
                push_largenum(buf, value, exact);
            }
            buf.write_all(b"\n")
        }
        Layout::Rate => {
            // cps/inpps/outpps are never scaled (plain %8llu), even
            // without --exact.
            let _ = write!(buf, " {:8} {:8} {:8}", s.cps, s.inpps, s.outpps);
            for value in [s.inbps, s.outbps] {
                push_largenum(buf, value, exact);
            }
            buf.write_all(b"\n")
        }
        Layout::Thresholds => writeln!(
            buf,
            " {:<10} {:<10} {:<10} {:<10}",
            dest.u_threshold, dest.l_threshold, dest.active_conns, dest.inact_conns
        ),
        // The weight is printed with %u here: negative weights wrap.
        Layout::PersistentConn => writeln!(
            buf,
            " {:<9} {:<11} {:<10} {:<10}",
            dest.weight as u32, dest.persist_conns, dest.active_conns, dest.inact_conns
        ),
        Layout::TunInfo => writeln!(
            buf,
            " {:<7} {:<13} {:<6} {:<10} {:<10}",
            fwd_name(dest.fwd),
            tunnel_info(dest),
            dest.weight,
            dest.active_conns,
            dest.inact_conns
        ),
        // " %-7s %-6d %-10d %-10d\n", the common case, without core::fmt.
        Layout::Plain => {
            buf.push(b' ');
            push_left(buf, fwd_name(dest.fwd).as_bytes(), 7);
            buf.push(b' ');
            push_int_left(buf, i64::from(dest.weight), 6);
            buf.push(b' ');
            push_uint_left(buf, u64::from(dest.active_conns), 10);
            buf.push(b' ');
            push_uint_left(buf, u64::from(dest.inact_conns), 10);
            buf.write_all(b"\n")
        }
    };
}

/// The Forward column; 1.31 passes NULL for unknown methods and glibc
/// prints `(null)`.
fn fwd_name(fwd: FwdMethod) -> &'static str {
    name_table::fwd_method(fwd).ipvsadm.unwrap_or("(null)")
}

/// The TunnelInfo column (`fwd_tun_info`).
fn tunnel_info(dest: &Dest) -> String {
    let name = name_table::tunnel_type(dest.tun_type);
    let (true, Some(name)) = (dest.fwd == FwdMethod::Tunnel, name) else {
        return "n/a".to_owned();
    };
    let csum = name_table::tunnel_checksum(dest.tun_flags).ipvsadm;
    match dest.tun_type {
        TunnelType::Gue => format!("{name}:{}:{csum}", dest.tun_port),
        TunnelType::Gre => format!("{name}:{csum}"),
        _ => name.to_owned(),
    }
}

#[cfg(test)]
mod tests;
