//! ipvsadm 1.31's own listings (`-L` in every form, `-S`), read with
//! [`crate::listing`] and written by [`crate::output`], byte for byte.

use std::io;

use crate::listing::{self, ListCmd, ListWhat};
use crate::output;
use crate::session::{EXIT_LIST, Session, Streams};

/// The ipvsadm-compatible text listing.
pub fn list(
    session: &mut Session,
    list: &ListCmd,
    streams: &mut Streams,
) -> io::Result<i32> {
    let fmt = &list.format;
    match &list.what {
        ListWhat::Table | ListWhat::Service(_) => {
            // ipvsadm's `list_all` prints the version header before it
            // reads the services: a table that cannot be read shows it.
            if list.what == ListWhat::Table {
                output::text::write_table_header(streams.stdout, &session.info)?;
            }
            let selected = match listing::select(session.ipvs, list) {
                Ok(selected) => selected,
                Err(e) => return listing::listing_failed(streams.stderr, &e),
            };
            let out = &mut *streams.stdout;
            output::text::write_title(out, fmt)?;
            let names = session.names;
            let result = listing::for_each_selected(session.ipvs, selected, |e| {
                // Sorts the real servers itself unless --nosort.
                output::text::write_service_entry(out, &e.service, &e.dests, fmt, names)
            });
            listing::finish_listing(streams.stderr, result)
        }
        ListWhat::Connections => {
            let text = match listing::read_connections(session, streams.stderr)? {
                Ok(text) => text,
                Err(rc) => return Ok(rc),
            };
            match output::conn::write_connections(
                streams.stdout,
                &text,
                fmt.persistent_conn,
                fmt.numeric,
                session.names,
            ) {
                Ok(()) => Ok(0),
                Err(output::conn::ConnError::Io(e)) => Err(e),
                Err(_) => listing::connections_unreadable(session, streams.stderr),
            }
        }
        ListWhat::Timeouts => match session.ipvs.timeouts() {
            Ok(t) => {
                output::misc::write_timeouts(streams.stdout, &t)?;
                Ok(0)
            }
            // ipvsadm fails silently here.
            Err(_) => Ok(EXIT_LIST),
        },
        ListWhat::Daemons => match session.ipvs.daemons() {
            Ok(d) => {
                output::misc::write_daemons(streams.stdout, &d)?;
                Ok(0)
            }
            Err(_) => Ok(EXIT_LIST),
        },
    }
}

/// `-S`: the table as `-R` input.
pub fn save(
    session: &mut Session,
    numeric: bool,
    streams: &mut Streams,
) -> io::Result<i32> {
    let services = match listing::read_services(session.ipvs, false) {
        Ok(services) => services,
        Err(e) => return listing::listing_failed(streams.stderr, &e),
    };
    let names = session.names;
    let out = &mut *streams.stdout;
    let result = listing::for_each_entry(session.ipvs, services, |e| {
        output::save::write_save_entry(out, &e.service, &e.dests, numeric, names)
    });
    listing::finish_listing(streams.stderr, result)
}
