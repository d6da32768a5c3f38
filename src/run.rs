//! Executes a parsed [`Invocation`] against an IPVS table and renders the
//! results: the middle of the path arguments → command → kernel → output.
//!
//! Exit statuses follow ipvsadm 1.31: 0 success, 1 listing failures, 2
//! usage errors, 255 kernel errors.

use std::io::{self, BufRead, Write};
use std::path::PathBuf;

use crate::backend::{Change, IpvsBackend};
use crate::cli::{Command, Invocation, ListCmd, ListFormat, ListWhat, OutputStyle};
use crate::error::{IpvsError, Op};
use crate::model::{Info, ServiceEntry};
use crate::output::names::NameResolver;
use crate::output::{self, sort};
use crate::restore;

/// Exit status of a kernel operation that failed (ipvsadm returns -1).
pub const EXIT_KERNEL: i32 = 255;
/// Exit status of a listing that could not be produced.
pub const EXIT_LIST: i32 = 1;
/// Exit status of a usage error.
pub const EXIT_USAGE: i32 = 2;

/// Where `-c` reads connections from.
pub const CONN_PROC_FILE: &str = "/proc/net/ip_vs_conn";

/// Everything a command needs besides its arguments.
pub struct Session<'a> {
    pub ipvs: &'a mut dyn IpvsBackend,
    pub info: Info,
    pub names: &'a dyn NameResolver,
    pub conn_file: PathBuf,
    /// argv[0], for messages that name the program.
    pub argv0: String,
}

/// Standard streams, so tests can capture them.
pub struct Streams<'a> {
    pub stdin: &'a mut dyn BufRead,
    pub stdout: &'a mut dyn Write,
    pub stderr: &'a mut dyn Write,
}

/// Runs one invocation. `Err` is only returned for output errors (such as
/// a closed pipe), which the caller turns into an exit status.
pub fn execute(s: &mut Session, inv: &Invocation, io: &mut Streams) -> io::Result<i32> {
    match &inv.command {
        Command::Restore => restore::run(s, inv.atomic, io),
        cmd => execute_command(s, cmd, inv, io),
    }
}

/// Runs one command other than `-R` (restore lines come through here too).
pub fn execute_command(
    s: &mut Session,
    cmd: &Command,
    inv: &Invocation,
    io: &mut Streams,
) -> io::Result<i32> {
    let change = match cmd {
        // Outside restore input these are handled before a session exists.
        Command::Help => {
            io.stdout
                .write_all(crate::cli::help_text(&s.argv0).as_bytes())?;
            return Ok(0);
        }
        Command::Version => {
            writeln!(io.stdout, "{}", crate::cli::version_text())?;
            return Ok(0);
        }
        // Refused by the parser inside restore input.
        Command::Restore => return Ok(0),
        Command::List(list) => return list_command(s, list, inv, io),
        Command::Save { numeric } => return save(s, *numeric, io),
        Command::AddService(svc) => Change::AddService(svc.clone()),
        Command::EditService(svc) => Change::EditService(svc.clone()),
        Command::DelService(svc) => Change::DelService(svc.clone()),
        Command::Flush => Change::Flush,
        Command::Zero(svc) => Change::Zero(svc.clone()),
        Command::AddDest(svc, d) => Change::AddDest(svc.clone(), d.clone()),
        Command::EditDest(svc, d) => Change::EditDest(svc.clone(), d.clone()),
        Command::DelDest(svc, d) => Change::DelDest(svc.clone(), d.clone()),
        Command::SetTimeouts(t) => Change::SetTimeouts(*t),
        Command::StartDaemon(d) => Change::StartDaemon(d.clone()),
        Command::StopDaemon { state, syncid } => Change::StopDaemon {
            state: *state,
            syncid: *syncid,
        },
    };
    match s.ipvs.apply_one(&change) {
        Ok(()) => Ok(0),
        Err(e) => {
            writeln!(io.stderr, "{e}")?;
            Ok(EXIT_KERNEL)
        }
    }
}

/// Reads the whole table: services in ipvsadm's order (or the kernel's with
/// `nosort`), each with its real servers in the kernel's order. Real
/// servers are sorted only where they are rendered, exactly once:
/// ipvsadm's comparator is not a total order, so sorting twice could
/// change the result.
pub fn read_table(
    ipvs: &mut dyn IpvsBackend,
    nosort: bool,
) -> Result<Vec<ServiceEntry>, IpvsError> {
    let services = read_services(ipvs, nosort)?;
    let ids: Vec<_> = services.iter().map(|s| s.id).collect();
    let all_dests = ipvs.dests_many(&ids)?;
    Ok(services
        .into_iter()
        .zip(all_dests)
        .map(|(service, dests)| ServiceEntry { service, dests })
        .collect())
}

/// Services in ipvsadm's order (or the kernel's with `nosort`), for
/// [`for_each_entry`]: a listing reads these first, so it fails before
/// printing anything when IPVS cannot list.
pub fn read_services(
    ipvs: &mut dyn IpvsBackend,
    nosort: bool,
) -> Result<Vec<crate::model::Service>, IpvsError> {
    let mut services = ipvs.services()?;
    if !nosort {
        sort::sort_services(&mut services);
    }
    Ok(services)
}

/// Why a streamed listing stopped.
pub enum ListingError {
    Kernel(IpvsError),
    Output(io::Error),
}

/// Hands each of `services` with its real servers (kernel order) to `f`,
/// reading one service's real servers at a time, as ipvsadm does: a
/// listing of any size holds the services and one service's real servers.
pub fn for_each_entry(
    ipvs: &mut dyn IpvsBackend,
    services: Vec<crate::model::Service>,
    mut f: impl FnMut(&mut ServiceEntry) -> io::Result<()>,
) -> Result<(), ListingError> {
    // One vector for every service's real servers: allocating one per
    // service made musl's allocator map and unmap memory for most of them.
    let mut dests = Vec::new();
    for service in services {
        ipvs.dests_into(&service.id, &mut dests)
            .map_err(ListingError::Kernel)?;
        let mut entry = ServiceEntry { service, dests };
        f(&mut entry).map_err(ListingError::Output)?;
        dests = entry.dests;
    }
    Ok(())
}

/// Ends a streamed listing: output errors go up (a closed pipe ends the
/// program quietly); a kernel error mid-way is reported like a listing that
/// could not start.
pub fn finish_listing(
    io: &mut Streams,
    result: Result<(), ListingError>,
) -> io::Result<i32> {
    match result {
        Ok(()) => Ok(0),
        Err(ListingError::Output(e)) => Err(e),
        Err(ListingError::Kernel(e)) => listing_failed(io, &e),
    }
}

/// Reads one service and its real servers (kernel order).
pub fn read_service(
    ipvs: &mut dyn IpvsBackend,
    wanted: &crate::model::Service,
) -> Result<ServiceEntry, IpvsError> {
    let service = ipvs.service(&wanted.id)?;
    let dests = ipvs.dests(&service.id)?;
    Ok(ServiceEntry { service, dests })
}

fn list_command(
    s: &mut Session,
    list: &ListCmd,
    inv: &Invocation,
    io: &mut Streams,
) -> io::Result<i32> {
    if inv.output.watch.is_some() {
        return crate::watch::run(s, list, &inv.output, io);
    }
    match inv.output.style {
        OutputStyle::Text => list_text(s, list, io),
        style => crate::render::list(s, list, style, inv.output.pretty, io),
    }
}

/// The ipvsadm-compatible text listing.
pub fn list_text(s: &mut Session, list: &ListCmd, io: &mut Streams) -> io::Result<i32> {
    let fmt: &ListFormat = &list.format;
    match &list.what {
        ListWhat::Table => {
            let services = match read_services(s.ipvs, fmt.nosort) {
                Ok(t) => t,
                Err(e) => return listing_failed(io, &e),
            };
            output::text::write_table_header(io.stdout, &s.info)?;
            output::text::write_title(io.stdout, fmt)?;
            let names = s.names;
            let out = &mut *io.stdout;
            let result = for_each_entry(s.ipvs, services, |e| {
                output::text::write_service_entry(out, &e.service, &e.dests, fmt, names)
            });
            finish_listing(io, result)
        }
        ListWhat::Service(svc) => {
            let entry = match read_service(s.ipvs, svc) {
                Ok(e) => e,
                Err(e) => return listing_failed(io, &e),
            };
            let out = &mut *io.stdout;
            output::text::write_title(out, fmt)?;
            output::text::write_service_entry(
                out,
                &entry.service,
                &entry.dests,
                fmt,
                s.names,
            )?;
            Ok(0)
        }
        ListWhat::Connections => {
            let text = match std::fs::read(&s.conn_file) {
                Ok(t) => t,
                Err(_) => {
                    writeln!(io.stderr, "cannot open file {}", s.conn_file.display())?;
                    return Ok(EXIT_LIST);
                }
            };
            match output::conn::write_connections(
                io.stdout,
                &text,
                fmt.persistent_conn,
                fmt.numeric,
                s.names,
            ) {
                Ok(()) => Ok(0),
                Err(output::conn::ConnError::Io(e)) => Err(e),
                Err(_) => {
                    writeln!(
                        io.stderr,
                        "unexpected input from {}",
                        s.conn_file.display()
                    )?;
                    Ok(EXIT_LIST)
                }
            }
        }
        ListWhat::Timeouts => match s.ipvs.timeouts() {
            Ok(t) => {
                output::misc::write_timeouts(io.stdout, &t)?;
                Ok(0)
            }
            // ipvsadm fails silently here.
            Err(_) => Ok(EXIT_LIST),
        },
        ListWhat::Daemons => match s.ipvs.daemons() {
            Ok(d) => {
                output::misc::write_daemons(io.stdout, &d)?;
                Ok(0)
            }
            Err(_) => Ok(EXIT_LIST),
        },
    }
}

/// ipvsadm prints the error and exits 1 when a listing cannot be read;
/// a missing single service reads `No such service`.
fn listing_failed(io: &mut Streams, e: &IpvsError) -> io::Result<i32> {
    let msg = match e {
        IpvsError::Kernel { errno, .. } => {
            crate::error::kernel_message(Op::GetService, *errno)
        }
        other => other.to_string(),
    };
    writeln!(io.stderr, "{msg}")?;
    Ok(EXIT_LIST)
}

fn save(s: &mut Session, numeric: bool, io: &mut Streams) -> io::Result<i32> {
    let services = match read_services(s.ipvs, false) {
        Ok(t) => t,
        Err(e) => return listing_failed(io, &e),
    };
    let names = s.names;
    let out = &mut *io.stdout;
    let result = for_each_entry(s.ipvs, services, |e| {
        output::save::write_save_entry(out, &e.service, &e.dests, numeric, names)
    });
    finish_listing(io, result)
}
