//! `--watch --json`: one NDJSON line per tick, serialized from the same
//! views as the documents of `-L --json` (see [`crate::render::json`]).

use std::cell::{RefCell, RefMut};
use std::io::{self, Write};
use std::time::Instant;

use serde::ser::{Error as _, SerializeSeq};
use serde::{Serialize, Serializer};

use super::listing_failure;
use super::tracker::RateTracker;
use crate::listing::{self, ListCmd, ListWhat};
use crate::model::{Info, ServiceEntry};
use crate::render::json::{self, Stopped};
use crate::session::{EXIT_LIST, Session};

/// One NDJSON line of `--watch --json` for a listing of services: the
/// table document plus the tick's fields and its `deltas`. Every key is
/// always present (`interval_ms` is `null` on the first tick).
#[derive(Serialize)]
pub struct WatchTick<'a, S, D> {
    pub schema_version: u32,
    pub tick: u64,
    /// UTC, RFC 3339 with milliseconds.
    pub timestamp: &'a str,
    /// Measured time since the previous tick (`null` on the first).
    pub interval_ms: Option<u64>,
    pub ipvs: json::JsonInfo,
    /// [`json::JsonService`]s, as in the table document.
    pub services: S,
    /// [`ServiceView`](super::ServiceView)s: aligned with `services`,
    /// then any services that vanished.
    pub deltas: D,
}

impl<'a, S, D> WatchTick<'a, S, D> {
    /// The line of the tick `header` says, with its services and deltas.
    fn new(header: &TickHeader<'a>, services: S, deltas: D) -> WatchTick<'a, S, D> {
        WatchTick {
            schema_version: json::SCHEMA_VERSION,
            tick: header.tick,
            timestamp: header.timestamp,
            interval_ms: header.interval_ms,
            ipvs: header.info.into(),
            services,
            deltas,
        }
    }
}

/// One NDJSON line of `--watch --json` for `--timeout`, `--daemon` or
/// `-c`: the tick's fields and the document's payload (`timeouts`,
/// `daemons` or `connections`), its keys sorted by name as these lines
/// have always had them.
#[derive(Serialize)]
pub struct OtherTick<'a, P> {
    pub schema_version: u32,
    pub tick: u64,
    pub timestamp: &'a str,
    pub interval_ms: Option<u64>,
    #[serde(flatten)]
    pub payload: KeysSorted<P>,
}

/// A payload serialized with the keys of every object in name order.
pub struct KeysSorted<P>(pub P);

impl<P: Serialize> Serialize for KeysSorted<P> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // serde_json's map (without its `preserve_order` feature) is
        // ordered by key.
        serde_json::to_value(&self.0)
            .map_err(S::Error::custom)?
            .serialize(serializer)
    }
}

/// What a tick says besides its payload.
pub struct TickHeader<'a> {
    pub tick: u64,
    pub timestamp: &'a str,
    pub interval_ms: Option<u64>,
    pub info: &'a Info,
}

/// What one `--watch --json` tick of a listing of services needs besides
/// the table.
pub(super) struct JsonTick<'a> {
    pub(super) header: TickHeader<'a>,
    /// When the tick was taken.
    pub(super) now: Instant,
    pub(super) tracker: &'a mut RateTracker,
    pub(super) writer: &'a mut TickWriter,
}

/// The buffer `--watch --json` gathers its lines in, reused from tick to
/// tick.
#[derive(Default)]
pub struct TickWriter {
    buf: Vec<u8>,
}

/// `"deltas"` of a tick: the tracker's, computed once `services` is
/// written, and serialized a service at a time as it hands them out.
struct StreamedDeltas<'t, 'r>(&'t RefCell<&'r mut RateTracker>);

impl Serialize for StreamedDeltas<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut tracker = self
            .0
            .try_borrow_mut()
            .map_err(|_| S::Error::custom("the tracker is busy"))?;
        let mut seq = serializer.serialize_seq(None)?;
        tracker.finish_tick(|view| seq.serialize_element(&view))?;
        seq.end()
    }
}

/// The tracker as the services of a tick are handed to it.
fn tracker_of<'t, 'r>(
    tracker: &'t RefCell<&'r mut RateTracker>,
) -> Result<RefMut<'t, &'r mut RateTracker>, Stopped> {
    tracker.try_borrow_mut().map_err(|_| Stopped)
}

/// One `--watch --json` tick of a listing of services, streamed to `out` a
/// service at a time as `-L --json` streams its document: one service's
/// real servers held at a time, handed to the tracker as they are written;
/// once `services` is closed, the tracker computes the deltas from both
/// ticks' counters and they are written the same way. `Some` is the
/// status and message of a table that could not be read; a failure
/// part-way leaves on `out` what was listed before it, as `-L --json`
/// does.
pub(super) fn stream_json_tick(
    session: &mut Session,
    list: &ListCmd,
    tick: JsonTick,
    out: &mut dyn Write,
) -> io::Result<Option<(i32, Option<String>)>> {
    let nosort = list.format.nosort;
    let selected = match listing::select(session.ipvs, list) {
        Ok(selected) => selected,
        Err(e) => return listing_failure(&e).map(Some),
    };
    let JsonTick {
        header,
        now,
        tracker,
        writer,
    } = tick;
    tracker.begin_tick(now);
    let tracker = RefCell::new(tracker);
    let ipvs = &mut *session.ipvs;
    let mut kernel_error = None;
    let services = json::StreamedServices::new(|write_service| {
        let each = |entry: &mut ServiceEntry| -> io::Result<()> {
            listing::sort_real_servers(std::slice::from_mut(entry), nosort);
            let stopped = |Stopped| io::Error::from(io::ErrorKind::Other);
            tracker_of(&tracker).map_err(stopped)?.next_service(entry);
            write_service(&json::JsonService::from(&*entry)).map_err(stopped)
        };
        let result = listing::for_each_selected(ipvs, selected, each);
        match result {
            Ok(()) => Ok(()),
            Err(listing::ListingError::Kernel(e)) => {
                kernel_error = Some(e);
                Err(Stopped)
            }
            Err(listing::ListingError::Output(_)) => Err(Stopped),
        }
    });
    let line = WatchTick::new(&header, services, StreamedDeltas(&tracker));
    let written = json::write_chunked(out, &mut writer.buf, &line, false);
    drop(line);
    match (written, kernel_error) {
        (Ok(()), _) => Ok(None),
        // A tick cut short by the kernel shows what it listed.
        (Err(_), Some(e)) => {
            out.write_all(&writer.buf)?;
            listing_failure(&e).map(Some)
        }
        (Err(e), None) => Err(e.into()),
    }
}

/// One [`WatchTick`] line for `entries` (in listing order) taken at `now`,
/// appended to `out`: the bytes the watch streams.
pub fn write_tick(
    out: &mut Vec<u8>,
    header: TickHeader,
    entries: &[ServiceEntry],
    tracker: &mut RateTracker,
    now: Instant,
) -> io::Result<()> {
    tracker.begin_tick(now);
    let tracker = RefCell::new(tracker);
    let services = json::StreamedServices::new(|write_service| {
        for entry in entries {
            tracker_of(&tracker)?.next_service(entry);
            write_service(&json::JsonService::from(entry))?;
        }
        Ok(())
    });
    let line = WatchTick::new(&header, services, StreamedDeltas(&tracker));
    Ok(json::serialize_into(out, &line, false)?)
}

/// One `--watch --json` tick of `--timeout`, `--daemon` or `-c`, written
/// to `out`. `Some` is the status and message of a listing that could not
/// be read, as the listing reports them.
pub(super) fn write_other_tick(
    session: &mut Session,
    list: &ListCmd,
    header: TickHeader,
    out: &mut dyn Write,
) -> io::Result<Option<(i32, Option<String>)>> {
    fn tick<'a, P>(header: &TickHeader<'a>, payload: P) -> OtherTick<'a, P> {
        OtherTick {
            schema_version: json::SCHEMA_VERSION,
            tick: header.tick,
            timestamp: header.timestamp,
            interval_ms: header.interval_ms,
            payload: KeysSorted(payload),
        }
    }
    // As `-L --json` fails: silently for timeouts and daemons; with the
    // listing's own message for connections.
    let mut message = Vec::new();
    let failed = |rc: i32, message: Vec<u8>| {
        Ok(Some((
            rc,
            Some(String::from_utf8_lossy(&message).into_owned()),
        )))
    };
    match &list.what {
        ListWhat::Timeouts => match session.ipvs.timeouts() {
            Ok(t) => json::write(out, &tick(&header, json::timeouts(&t).payload), false)?,
            Err(_) => return failed(EXIT_LIST, message),
        },
        ListWhat::Daemons => match session.ipvs.daemons() {
            Ok(d) => json::write(out, &tick(&header, json::daemons(&d).payload), false)?,
            Err(_) => return failed(EXIT_LIST, message),
        },
        // Listings of services have ticks of their own.
        ListWhat::Table | ListWhat::Service(_) => {}
        ListWhat::Connections => {
            let text = match listing::read_connections(session, &mut message)? {
                Ok(text) => text,
                Err(rc) => return failed(rc, message),
            };
            let Ok(entries) = crate::output::conn::parse_conn_table(&text) else {
                let rc = listing::connections_unreadable(session, &mut message)?;
                return failed(rc, message);
            };
            json::write(
                out,
                &tick(&header, json::connections(&entries).payload),
                false,
            )?;
        }
    }
    Ok(None)
}
