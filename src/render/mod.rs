//! Listings in every style: ipvsadm's own text ([`text`], written by
//! [`crate::output`]), and the formats ipvsadm never had: JSON, a human
//! table and Prometheus text. The table is read with [`crate::listing`].

pub mod json;
pub(crate) mod json_writer;
pub mod prometheus;
pub mod table;
pub mod text;

use std::io;

use crate::listing::{
    self as run, ListCmd, ListWhat, OutputStyle, listing_failed as failed,
};
use crate::model::ServiceEntry;
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
            let mut entries = match run::read_selected(session.ipvs, list) {
                Ok(e) => e,
                Err(e) => return failed(streams.stderr, &e),
            };
            write_entries(session, list, style, pretty, &mut entries, streams)?;
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
            let text = match run::read_connections(session, streams.stderr)? {
                Ok(text) => text,
                Err(rc) => return Ok(rc),
            };
            match crate::output::conn::parse_conn_table(&text) {
                Ok(entries) => {
                    json::write(streams.stdout, &json::connections(&entries), pretty)?;
                    Ok(0)
                }
                // The text listing's message.
                Err(_) => run::connections_unreadable(session, streams.stderr),
            }
        }
    }
}

/// The table as one JSON document, written a service at a time as its real
/// servers are read (the bytes of [`json::table`] serialized whole): a
/// listing of any size holds one service's real servers, as `-Ln` does.
fn stream_json_table(
    s: &mut Session,
    list: &ListCmd,
    pretty: bool,
    io: &mut Streams,
) -> io::Result<i32> {
    let nosort = list.format.nosort;
    let services = match run::read_services(s.ipvs, nosort) {
        Ok(services) => services,
        Err(e) => return failed(io.stderr, &e),
    };
    let out = &mut *io.stdout;
    let mut doc =
        json_writer::JsonWriter::new(Vec::with_capacity(JSON_CHUNK * 2), pretty);
    doc.begin_table(&s.info);
    let result = run::for_each_entry(s.ipvs, services, |entry| {
        if !nosort {
            crate::listing::sort::sort_dests(&mut entry.dests);
        }
        doc.service(&entry.service, &entry.dests);
        // Large writes: one call through `dyn Write` per chunk.
        if doc.buf.len() >= JSON_CHUNK {
            out.write_all(&doc.buf)?;
            doc.buf.clear();
        }
        Ok(())
    });
    match result {
        Ok(()) => doc.end_table(),
        // What was listed before the kernel failed, as `-Ln` shows it.
        Err(run::ListingError::Kernel(_)) => {}
        Err(run::ListingError::Output(_)) => doc.buf.clear(),
    }
    out.write_all(&doc.buf)?;
    run::finish_listing(io.stderr, result)
}

/// How much of a streamed JSON document is written at once.
pub(crate) const JSON_CHUNK: usize = 64 * 1024;

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
            run::sort_real_servers(raw, list.format.nosort);
            let entries = &*raw;
            match style {
                OutputStyle::Json => {
                    let mut doc = Vec::new();
                    json::write_table(&mut doc, &s.info, entries, pretty);
                    io.stdout.write_all(&doc)
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
