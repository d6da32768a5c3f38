//! Listings in every style: ipvsadm's own text ([`text`], written by
//! [`crate::output`]), and the formats ipvsadm never had: JSON, a human
//! table and Prometheus text. The table is read with [`crate::listing`].

pub mod json;
pub mod prometheus;
pub mod table;
pub mod text;

use std::io::{self, Write};

use crate::listing::{self, ListCmd, ListWhat, OutputStyle};
use crate::model::{Info, ServiceEntry};
use crate::session::{EXIT_LIST, Session, Streams};

/// Reads what `list` selects and renders it in `style`.
pub fn list(
    session: &mut Session,
    list: &ListCmd,
    style: OutputStyle,
    pretty: bool,
    streams: &mut Streams,
) -> io::Result<i32> {
    if style == OutputStyle::Text
        || (!list.what.lists_services() && style != OutputStyle::Json)
    {
        // Tables and metrics are about services; the rest keeps its text.
        return text::list(session, list, streams);
    }
    match &list.what {
        ListWhat::Table if style == OutputStyle::Json => {
            stream_json_table(session, list, pretty, streams)
        }
        ListWhat::Table | ListWhat::Service(_) => {
            let mut entries = match listing::read_selected(session.ipvs, list) {
                Ok(e) => e,
                Err(e) => return listing::listing_failed(streams.stderr, &e),
            };
            write_entries(
                &session.info,
                list,
                style,
                pretty,
                &mut entries,
                streams.stdout,
            )?;
            Ok(0)
        }
        ListWhat::Timeouts => match session.ipvs.timeouts() {
            Ok(t) => {
                json::write(streams.stdout, &json::timeouts(&t), pretty)?;
                Ok(0)
            }
            // ipvsadm fails silently here.
            Err(_) => Ok(EXIT_LIST),
        },
        ListWhat::Daemons => match session.ipvs.daemons() {
            Ok(d) => {
                json::write(streams.stdout, &json::daemons(&d), pretty)?;
                Ok(0)
            }
            Err(_) => Ok(EXIT_LIST),
        },
        ListWhat::Connections => {
            let text = match listing::read_connections(session, streams.stderr)? {
                Ok(text) => text,
                Err(rc) => return Ok(rc),
            };
            match crate::output::conn::parse_conn_table(&text) {
                Ok(entries) => {
                    json::write(streams.stdout, &json::connections(&entries), pretty)?;
                    Ok(0)
                }
                // The text listing's message.
                Err(_) => listing::connections_unreadable(session, streams.stderr),
            }
        }
    }
}

/// The table as one JSON document, serialized a service at a time as its
/// real servers are read: a listing of any size holds one service's real
/// servers, as `-Ln` does.
fn stream_json_table(
    session: &mut Session,
    list: &ListCmd,
    pretty: bool,
    streams: &mut Streams,
) -> io::Result<i32> {
    let nosort = list.format.nosort;
    let services = match listing::read_services(session.ipvs, nosort) {
        Ok(services) => services,
        Err(e) => return listing::listing_failed(streams.stderr, &e),
    };
    let ipvs = &mut *session.ipvs;
    let mut kernel_error = None;
    let listed = json::StreamedServices::new(|write_service| {
        let result = listing::for_each_entry(ipvs, services, |entry| {
            let (service, dests) = (&entry.service, &entry.dests);
            let written = if nosort {
                write_service(&json::JsonService::new(service, dests))
            } else {
                listing::sort::with_dest_order(dests, |order| {
                    write_service(&json::JsonService::in_order(service, dests, order))
                })
            };
            written.map_err(|json::Stopped| io::ErrorKind::Other.into())
        });
        match result {
            Ok(()) => Ok(()),
            Err(listing::ListingError::Kernel(e)) => {
                kernel_error = Some(e);
                Err(json::Stopped)
            }
            Err(listing::ListingError::Output(_)) => Err(json::Stopped),
        }
    });
    let doc = json::JsonTable {
        schema_version: json::SCHEMA_VERSION,
        ipvs: (&session.info).into(),
        services: listed,
    };
    let mut buf = Vec::with_capacity(json::JSON_CHUNK * 2);
    let written = json::write_chunked(&mut *streams.stdout, &mut buf, &doc, pretty);
    drop(doc);
    match (written, kernel_error) {
        (Ok(()), _) => Ok(0),
        // What was listed before the kernel failed, as `-Ln` shows it.
        (Err(_), Some(e)) => {
            streams.stdout.write_all(&buf)?;
            listing::listing_failed(streams.stderr, &e)
        }
        (Err(e), None) => Err(e.into()),
    }
}

/// Renders services read whole (real servers in kernel order) as JSON, the
/// human table or Prometheus text; the real servers are put in listing
/// order first. (ipvsadm's text streams instead: [`text::list`].)
pub fn write_entries(
    info: &Info,
    list: &ListCmd,
    style: OutputStyle,
    pretty: bool,
    entries: &mut [ServiceEntry],
    stdout: &mut dyn Write,
) -> io::Result<()> {
    listing::sort_real_servers(entries, list.format.nosort);
    let entries = &*entries;
    match style {
        OutputStyle::Json => json::write(stdout, &json::table(info, entries), pretty),
        OutputStyle::Prometheus => {
            stdout.write_all(prometheus::render(entries).as_bytes())
        }
        OutputStyle::Table | OutputStyle::Text => {
            stdout.write_all(table::render(entries, terminal_width()).as_bytes())
        }
    }
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
