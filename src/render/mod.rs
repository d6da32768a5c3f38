//! Listings in the formats ipvsadm never had: JSON, a human table and
//! Prometheus text. (ipvsadm's own text formats live in [`crate::output`].)

pub mod json;
pub mod prometheus;
pub mod table;

use std::io;

use crate::cli::{ListCmd, ListWhat, OutputStyle};
use crate::model::ServiceEntry;
use crate::run::{self, EXIT_LIST, Session, Streams};

/// Reads what `list` selects and renders it in `style`.
pub fn list(
    s: &mut Session,
    list: &ListCmd,
    style: OutputStyle,
    pretty: bool,
    io: &mut Streams,
) -> io::Result<i32> {
    let services = matches!(list.what, ListWhat::Table | ListWhat::Service(_));
    if !services && style != OutputStyle::Json {
        // Tables and metrics are about services; the rest keeps its text.
        return run::list_text(s, list, io);
    }
    match &list.what {
        ListWhat::Table | ListWhat::Service(_) => {
            let entries = match read_entries(s, list) {
                Ok(e) => e,
                Err(e) => {
                    writeln!(io.stderr, "{e}")?;
                    return Ok(EXIT_LIST);
                }
            };
            match style {
                OutputStyle::Json => {
                    json::write(io.stdout, &json::table(&s.info, &entries), pretty)?
                }
                OutputStyle::Prometheus => io
                    .stdout
                    .write_all(prometheus::render(&entries).as_bytes())?,
                OutputStyle::Table | OutputStyle::Text => io
                    .stdout
                    .write_all(table::render(&entries, terminal_width()).as_bytes())?,
            }
            Ok(0)
        }
        ListWhat::Timeouts => match s.ipvs.timeouts() {
            Ok(t) => {
                json::write(io.stdout, &json::timeouts(&t), pretty)?;
                Ok(0)
            }
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
                Err(e) => {
                    writeln!(io.stderr, "{e}")?;
                    Ok(EXIT_LIST)
                }
            }
        }
    }
}

/// The services a listing selects, in listing order: services and real
/// servers sorted as ipvsadm sorts them, unless `--nosort`.
pub fn read_entries(
    s: &mut Session,
    list: &ListCmd,
) -> Result<Vec<ServiceEntry>, crate::error::IpvsError> {
    let nosort = list.format.nosort;
    let mut entries = match &list.what {
        ListWhat::Service(svc) => vec![run::read_service(s.ipvs, svc)?],
        _ => run::read_table(s.ipvs, nosort)?,
    };
    if !nosort {
        for e in &mut entries {
            crate::output::sort::sort_dests(&mut e.dests);
        }
    }
    Ok(entries)
}

/// Columns of the terminal on standard output, if it is one.
pub fn terminal_width() -> Option<u16> {
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
    (rc == 0 && ws.ws_col > 0).then_some(ws.ws_col)
}
