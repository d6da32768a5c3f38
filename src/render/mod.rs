//! Listings in the formats ipvsadm never had: JSON, a human table and
//! Prometheus text. (ipvsadm's own text formats live in [`crate::output`].)

pub mod json;
pub mod name_table;
pub mod prometheus;
pub mod table;

use std::io;

use crate::cli::{ListCmd, ListWhat, OutputStyle};
use crate::error::{IpvsError, Op};
use crate::model::ServiceEntry;
use crate::run::{self, EXIT_LIST, Session, Streams};

/// Whether `what` is a listing of services (the whole table or one).
pub fn lists_services(what: &ListWhat) -> bool {
    matches!(what, ListWhat::Table | ListWhat::Service(_))
}

/// Reads what `list` selects and renders it in `style`.
pub fn list(
    s: &mut Session,
    list: &ListCmd,
    style: OutputStyle,
    pretty: bool,
    io: &mut Streams,
) -> io::Result<i32> {
    if !lists_services(&list.what) && style != OutputStyle::Json {
        // Tables and metrics are about services; the rest keeps its text.
        return run::list_text(s, list, io);
    }
    match &list.what {
        ListWhat::Table if style == OutputStyle::Json => {
            stream_json_table(s, list, pretty, io)
        }
        ListWhat::Table | ListWhat::Service(_) => {
            let mut entries = match read_raw(s, list) {
                Ok(e) => e,
                Err(e) => return listing_failed(io, &e),
            };
            write_entries(s, list, style, pretty, &mut entries, io)?;
            Ok(0)
        }
        ListWhat::Timeouts => match s.ipvs.timeouts() {
            Ok(t) => {
                json::write(io.stdout, &json::timeouts(&t), pretty)?;
                Ok(0)
            }
            // ipvsadm fails silently here.
            Err(_) => Ok(EXIT_LIST),
        },
        ListWhat::Daemons => match s.ipvs.daemons() {
            Ok(d) => {
                json::write(io.stdout, &json::daemons(&d), pretty)?;
                Ok(0)
            }
            Err(_) => Ok(EXIT_LIST),
        },
        ListWhat::Connections => {
            let text = match std::fs::read(&s.conn_file) {
                Ok(t) => t,
                Err(_) => {
                    writeln!(io.stderr, "cannot open file {}", s.conn_file.display())?;
                    return Ok(EXIT_LIST);
                }
            };
            match crate::output::conn::parse_conn_table(&text) {
                Ok(entries) => {
                    json::write(io.stdout, &json::connections(&entries), pretty)?;
                    Ok(0)
                }
                Err(_) => {
                    // The text listing's message.
                    writeln!(
                        io.stderr,
                        "unexpected input from {}",
                        s.conn_file.display()
                    )?;
                    Ok(EXIT_LIST)
                }
            }
        }
    }
}

/// The table as one JSON document, serialized a service at a time as its
/// real servers are read: a listing of any size holds one service's real
/// servers, as `-Ln` does.
fn stream_json_table(
    s: &mut Session,
    list: &ListCmd,
    pretty: bool,
    io: &mut Streams,
) -> io::Result<i32> {
    let nosort = list.format.nosort;
    let services = match run::read_services(s.ipvs, nosort) {
        Ok(services) => services,
        Err(e) => return listing_failed(io, &e),
    };
    let ipvs = &mut *s.ipvs;
    let mut kernel_error = None;
    let listed = json::StreamedServices::new(|write_service| {
        let result = run::for_each_entry(ipvs, services, |entry| {
            if !nosort {
                crate::output::sort::sort_dests(&mut entry.dests);
            }
            write_service(entry).map_err(|json::Stopped| io::ErrorKind::Other.into())
        });
        match result {
            Ok(()) => Ok(()),
            Err(run::ListingError::Kernel(e)) => {
                kernel_error = Some(e);
                Err(json::Stopped)
            }
            Err(run::ListingError::Output(_)) => Err(json::Stopped),
        }
    });
    let doc = json::JsonTable {
        schema_version: json::SCHEMA_VERSION,
        ipvs: (&s.info).into(),
        services: listed,
    };
    let mut buf = Vec::with_capacity(json::JSON_CHUNK * 2);
    let written = json::write_chunked(&mut *io.stdout, &mut buf, &doc, pretty);
    drop(doc);
    match (written, kernel_error) {
        (Ok(()), _) => Ok(0),
        // What was listed before the kernel failed, as `-Ln` shows it.
        (Err(_), Some(e)) => {
            io.stdout.write_all(&buf)?;
            listing_failed(io, &e)
        }
        (Err(e), None) => Err(e.into()),
    }
}

/// Reports a listing that could not be read exactly as the text listing
/// does (`No such service` for a missing single service), status 1.
pub fn listing_failed(io: &mut Streams, e: &IpvsError) -> io::Result<i32> {
    let msg = match e {
        IpvsError::Kernel { errno, .. } => {
            crate::error::kernel_message(Op::GetService, *errno)
        }
        other => other.to_string(),
    };
    writeln!(io.stderr, "{msg}")?;
    Ok(EXIT_LIST)
}

/// Renders services already read with [`read_raw`] (real servers in kernel
/// order) in `style`; `Text` is ipvsadm 1.31's listing, byte for byte. The
/// other styles put `raw`'s real servers in listing order first.
pub fn write_entries(
    s: &Session,
    list: &ListCmd,
    style: OutputStyle,
    pretty: bool,
    raw: &mut [ServiceEntry],
    io: &mut Streams,
) -> io::Result<()> {
    match style {
        OutputStyle::Text => {
            let out = &mut *io.stdout;
            if list.what == ListWhat::Table {
                crate::output::text::write_table_header(out, &s.info)?;
            }
            crate::output::text::write_title(out, &list.format)?;
            for e in raw.iter() {
                // Sorts the real servers itself unless --nosort.
                crate::output::text::write_service_entry(
                    out,
                    &e.service,
                    &e.dests,
                    &list.format,
                    s.names,
                )?;
            }
            Ok(())
        }
        style => {
            sort_in_listing_order(raw, list.format.nosort);
            let entries = &*raw;
            match style {
                OutputStyle::Json => {
                    json::write(io.stdout, &json::table(&s.info, entries), pretty)
                }
                OutputStyle::Prometheus => {
                    io.stdout.write_all(prometheus::render(entries).as_bytes())
                }
                _ => io
                    .stdout
                    .write_all(table::render(entries, terminal_width()).as_bytes()),
            }
        }
    }
}

/// The services a listing selects, in listing order (ipvsadm's sort, or
/// the kernel's order with `--nosort`), each with its real servers in
/// the kernel's order. One table read: a dump of the services and one of
/// the real servers (as `-Ln` costs).
pub fn read_raw(s: &mut Session, list: &ListCmd) -> Result<Vec<ServiceEntry>, IpvsError> {
    match &list.what {
        ListWhat::Service(svc) => Ok(vec![run::read_service(s.ipvs, svc)?]),
        _ => run::read_table(s.ipvs, list.format.nosort),
    }
}

/// `raw` with each service's real servers sorted as ipvsadm sorts them
/// (exactly once: the comparator is not a total order), unless `nosort`.
pub fn in_listing_order(raw: &[ServiceEntry], nosort: bool) -> Vec<ServiceEntry> {
    let mut entries = raw.to_vec();
    sort_in_listing_order(&mut entries, nosort);
    entries
}

/// [`in_listing_order`] in place, for entries read with [`read_raw`] and
/// not sorted yet.
pub fn sort_in_listing_order(raw: &mut [ServiceEntry], nosort: bool) {
    if !nosort {
        for e in raw {
            crate::output::sort::sort_dests(&mut e.dests);
        }
    }
}

/// The services a listing selects, in listing order, real servers sorted.
pub fn read_entries(
    s: &mut Session,
    list: &ListCmd,
) -> Result<Vec<ServiceEntry>, IpvsError> {
    let mut entries = read_raw(s, list)?;
    sort_in_listing_order(&mut entries, list.format.nosort);
    Ok(entries)
}

/// Columns of the terminal on standard output, if it is one.
pub fn terminal_width() -> Option<u16> {
    terminal_size().map(|(cols, _)| cols)
}

/// `(columns, rows)` of the terminal on standard output, if it is one.
pub fn terminal_size() -> Option<(u16, u16)> {
    use std::io::IsTerminal;
    if !io::stdout().is_terminal() {
        return None;
    }
    let mut ws = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes a `winsize` into the pointer we pass, which
    // points to a live, properly aligned local.
    let rc = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut ws) };
    (rc == 0 && ws.ws_col > 0 && ws.ws_row > 0).then_some((ws.ws_col, ws.ws_row))
}
