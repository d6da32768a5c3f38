//! Listings: what a listing asks for (the selection, ipvsadm's format
//! flags, our output styles), filled by the command line and obeyed by the
//! renderers, and reading the table for it, which every style and the
//! watch share: services in ipvsadm's order ([`sort`]), real servers a
//! service at a time, a dump cut short, and the failure message.
//!
//! Real servers are read in the kernel's order and sorted only where they
//! are rendered, exactly once: ipvsadm's comparator is not a total order,
//! so sorting twice could change the result.

pub mod sort;

use std::io::{self, Write};

use crate::backend::IpvsBackend;
use crate::error::{IpvsError, Op};
use crate::model::{Service, ServiceEntry, ServiceId};
use crate::session::{EXIT_LIST, Session};

#[derive(Debug, Clone, PartialEq)]
pub struct ListCmd {
    pub what: ListWhat,
    pub format: ListFormat,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ListWhat {
    /// The whole table, with the `IP Virtual Server version` header.
    Table,
    /// One service (`-L -t VIP:PORT`), no version header. The service's
    /// identity is what matters.
    Service(Service),
    /// `-c`: connections from `/proc/net/ip_vs_conn`.
    Connections,
    /// `--timeout`
    Timeouts,
    /// `--daemon`
    Daemons,
}

/// Listing modifiers, one per ipvsadm format flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ListFormat {
    /// `-n`: no name resolution.
    pub numeric: bool,
    /// `--exact` / `-X`: no K/M/G scaling.
    pub exact: bool,
    /// `--nosort`: kernel order.
    pub nosort: bool,
    pub stats: bool,
    pub rate: bool,
    pub thresholds: bool,
    pub persistent_conn: bool,
    pub tun_info: bool,
}

/// How listings are rendered (extensions over ipvsadm).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutputOptions {
    pub style: OutputStyle,
    /// `--pretty`: indent JSON.
    pub pretty: bool,
    /// `--watch[=SECONDS]`: redraw every this many seconds.
    pub watch: Option<WatchInterval>,
    /// `--count=N`: stop watching after N ticks.
    pub count: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputStyle {
    /// ipvsadm 1.31's text, byte for byte.
    #[default]
    Text,
    /// `-j`, `--json`, `--format json`
    Json,
    /// `--format table`
    Table,
    /// `--format prometheus`
    Prometheus,
}

/// A watch interval in milliseconds (accepts fractional seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WatchInterval(pub u64);

impl Default for WatchInterval {
    /// The kernel's rate estimator period.
    fn default() -> Self {
        WatchInterval(2000)
    }
}

impl ListWhat {
    /// Whether this is a listing of services (the whole table or one).
    pub fn lists_services(&self) -> bool {
        matches!(self, ListWhat::Table | ListWhat::Service(_))
    }
}

/// The services a listing of services selects, read before anything is
/// written but `-L`'s version header (ipvsadm prints it before reading): a
/// listing that cannot start prints nothing else.
pub enum Selected {
    /// The whole table, in listing order, real servers still to read
    /// (with [`for_each_entry`]).
    Table(Vec<Service>),
    /// One service (`-t`, `-u`, `-f`) and its real servers.
    One(ServiceEntry),
}

/// Reads what a listing of services selects: `Table` for anything but
/// [`ListWhat::Service`].
pub fn select(ipvs: &mut dyn IpvsBackend, list: &ListCmd) -> Result<Selected, IpvsError> {
    match &list.what {
        ListWhat::Service(svc) => read_service(ipvs, &svc.id).map(Selected::One),
        _ => read_services(ipvs, list.format.nosort).map(Selected::Table),
    }
}

/// Hands each selected service with its real servers (kernel order) to
/// `f`, reading one service's real servers at a time.
pub fn for_each_selected(
    ipvs: &mut dyn IpvsBackend,
    selected: Selected,
    mut f: impl FnMut(&mut ServiceEntry) -> io::Result<()>,
) -> Result<(), ListingError> {
    match selected {
        Selected::Table(services) => for_each_entry(ipvs, services, f),
        Selected::One(mut entry) => f(&mut entry).map_err(ListingError::Output),
    }
}

/// Services in ipvsadm's order (or the kernel's with `nosort`), for
/// [`for_each_entry`].
pub fn read_services(
    ipvs: &mut dyn IpvsBackend,
    nosort: bool,
) -> Result<Vec<Service>, IpvsError> {
    let mut services = ipvs.services()?;
    if !nosort {
        sort::sort_services(&mut services);
    }
    Ok(services)
}

/// Reads one service and its real servers (kernel order).
pub fn read_service(
    ipvs: &mut dyn IpvsBackend,
    wanted: &ServiceId,
) -> Result<ServiceEntry, IpvsError> {
    let service = ipvs.service(wanted)?;
    let dests = ipvs.dests(&service.id)?;
    Ok(ServiceEntry { service, dests })
}

/// Reads the whole table at once: services in ipvsadm's order (or the
/// kernel's with `nosort`), each with its real servers in the kernel's
/// order. For what needs every service at hand (the undo log of `-R
/// --atomic`, the human table); listings stream with [`for_each_entry`].
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

/// The services `list` selects, read whole, each with its real servers in
/// the kernel's order.
pub fn read_selected(
    ipvs: &mut dyn IpvsBackend,
    list: &ListCmd,
) -> Result<Vec<ServiceEntry>, IpvsError> {
    match &list.what {
        ListWhat::Service(svc) => Ok(vec![read_service(ipvs, &svc.id)?]),
        _ => read_table(ipvs, list.format.nosort),
    }
}

/// Puts each service's real servers in listing order (ipvsadm's sort,
/// exactly once), unless `nosort`.
pub fn sort_real_servers(entries: &mut [ServiceEntry], nosort: bool) {
    if !nosort {
        for e in entries {
            sort::sort_dests(&mut e.dests);
        }
    }
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
    services: Vec<Service>,
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

/// What ipvsadm says when a listing cannot be read (`No such service` for
/// a missing single service).
pub fn failure_message(e: &IpvsError) -> String {
    match e {
        IpvsError::Kernel { errno, .. } => {
            crate::error::kernel_message(Op::GetService, *errno)
        }
        other => other.to_string(),
    }
}

/// Reports a listing that could not be read as ipvsadm does: the message,
/// status 1.
pub fn listing_failed(stderr: &mut dyn Write, e: &IpvsError) -> io::Result<i32> {
    writeln!(stderr, "{}", failure_message(e))?;
    Ok(EXIT_LIST)
}

/// Ends a streamed listing: output errors go up (a closed pipe ends the
/// program quietly); a kernel error mid-way is reported like a listing that
/// could not start, after what was listed before it.
pub fn finish_listing(
    stderr: &mut dyn Write,
    result: Result<(), ListingError>,
) -> io::Result<i32> {
    match result {
        Ok(()) => Ok(0),
        Err(ListingError::Output(e)) => Err(e),
        Err(ListingError::Kernel(e)) => listing_failed(stderr, &e),
    }
}

/// The connection table `-c` lists, or ipvsadm's message and status when
/// it cannot be opened (written to `stderr`).
pub fn read_connections(
    session: &Session,
    stderr: &mut dyn Write,
) -> io::Result<Result<Vec<u8>, i32>> {
    match std::fs::read(&session.conn_file) {
        Ok(text) => Ok(Ok(text)),
        Err(_) => {
            writeln!(stderr, "cannot open file {}", session.conn_file.display())?;
            Ok(Err(EXIT_LIST))
        }
    }
}

/// ipvsadm's message for a connection table it cannot parse, status 1.
pub fn connections_unreadable(
    session: &Session,
    stderr: &mut dyn Write,
) -> io::Result<i32> {
    writeln!(
        stderr,
        "unexpected input from {}",
        session.conn_file.display()
    )?;
    Ok(EXIT_LIST)
}
