//! `--watch --json`: one NDJSON line per tick.

use std::io::{self, Write};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::listing_failure;
use super::tracker::{Delta, Presence, RateTracker, ServiceDelta, ServiceView};
use crate::listing as run;
use crate::listing::{ListCmd, ListWhat};
use crate::model::{Info, ServiceEntry};
use crate::render::json_writer::{JsonWriter, key};
use crate::render::{self, json, table};
use crate::session::Session;

/// One NDJSON line of `--watch --json` for a listing of services. Every
/// key is always present (`interval_ms` is `null` on the first tick).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatchTick {
    pub schema_version: u32,
    pub tick: u64,
    /// UTC, RFC 3339 with milliseconds.
    pub timestamp: String,
    /// Measured time since the previous tick (`null` on the first).
    pub interval_ms: Option<u64>,
    pub ipvs: json::JsonInfo,
    pub services: Vec<json::JsonService>,
    /// Aligned with `services`, then any services that vanished.
    pub deltas: Vec<ServiceDelta>,
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

/// The services a listing selects, read before anything of a tick is
/// written: a listing that cannot start prints nothing.
enum Selected {
    /// The whole table, in listing order, real servers still to read.
    Table(Vec<crate::model::Service>),
    /// One service (`-t`, `-u`, `-f`) and its real servers.
    One(ServiceEntry),
}

/// One `--watch --json` tick of a listing of services, streamed to `out` a
/// service at a time as `-L --json` streams its document: one service's
/// real servers held at a time. `Some` is the status and message of a
/// table that could not be read; a failure part-way leaves on `out` what
/// was listed before it, as `-L --json` does.
pub(super) fn stream_json_tick(
    s: &mut Session,
    list: &ListCmd,
    tick: JsonTick,
    out: &mut dyn Write,
) -> io::Result<Option<(i32, Option<String>)>> {
    let nosort = list.format.nosort;
    let selected = match &list.what {
        ListWhat::Service(svc) => run::read_service(s.ipvs, svc).map(Selected::One),
        _ => run::read_services(s.ipvs, nosort).map(Selected::Table),
    };
    let selected = match selected {
        Ok(selected) => selected,
        Err(e) => return listing_failure(&e).map(Some),
    };
    let JsonTick {
        header,
        now,
        tracker,
        writer,
    } = tick;
    writer.begin(header, tracker, now);
    let mut each = |entry: &mut ServiceEntry| {
        if !nosort {
            crate::listing::sort::sort_dests(&mut entry.dests);
        }
        writer.service(entry, tracker, out)
    };
    let result = match selected {
        Selected::Table(services) => run::for_each_entry(s.ipvs, services, each),
        Selected::One(mut entry) => each(&mut entry).map_err(run::ListingError::Output),
    };
    match result {
        Ok(()) => writer.finish(tracker, out).map(|()| None),
        Err(run::ListingError::Kernel(e)) => {
            writer.write_pending(out)?;
            listing_failure(&e).map(Some)
        }
        Err(run::ListingError::Output(e)) => Err(e),
    }
}

/// Writes the [`WatchTick`] lines of a listing of services a service at a
/// time, as `-L --json` writes its document: each service's JSON goes out
/// as it is read, while the tracker keeps its counters; once the
/// `services` array is closed, the tracker computes the deltas from both
/// ticks' counters and they go out the same way. The buffer is reused
/// from tick to tick.
pub struct TickWriter {
    /// What is written of the line and not yet out, in chunks.
    line: JsonWriter,
}

impl Default for TickWriter {
    fn default() -> TickWriter {
        TickWriter {
            line: JsonWriter::new(Vec::new(), false),
        }
    }
}

impl TickWriter {
    /// Starts a line, up to its open `services` array, and the tracker's
    /// tick taken at `now`.
    pub fn begin(&mut self, header: TickHeader, tracker: &mut RateTracker, now: Instant) {
        // A new document, the buffer kept.
        let mut buf = std::mem::take(&mut self.line.buf);
        buf.clear();
        self.line = JsonWriter::new(buf, false);
        let doc = &mut self.line;
        doc.begin_object();
        doc.uint(key!("schema_version"), u64::from(json::SCHEMA_VERSION));
        doc.uint(key!("tick"), header.tick);
        doc.str(key!("timestamp"), header.timestamp);
        doc.opt_uint(key!("interval_ms"), header.interval_ms);
        doc.info(header.info);
        doc.key(key!("services"));
        doc.begin_array();
        tracker.begin_tick(now);
    }

    /// The tick's next service (real servers in listing order), handed to
    /// the tracker; what has piled up of the line goes to `out` in large
    /// writes.
    pub fn service(
        &mut self,
        entry: &ServiceEntry,
        tracker: &mut RateTracker,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        self.line.service(&entry.service, &entry.dests);
        tracker.next_service(entry);
        self.write_chunk(out)
    }

    /// Ends the tick: the `deltas` array, the services taken then those
    /// that vanished, then the rest of the line, newline included, go to
    /// `out`.
    pub fn finish(
        &mut self,
        tracker: &mut RateTracker,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        self.line.end_array();
        self.line.key(key!("deltas"));
        self.line.begin_array();
        tracker.finish_tick(|delta| {
            write_service_delta(&mut self.line, &delta);
            self.write_chunk(out)
        })?;
        self.line.end_array();
        self.line.end_object();
        self.line.buf.push(b'\n');
        self.write_pending(out)
    }

    /// Writes what is written of the line once it is a large write: one
    /// call through `dyn Write` per chunk.
    fn write_chunk(&mut self, out: &mut dyn Write) -> io::Result<()> {
        if self.line.buf.len() >= render::JSON_CHUNK {
            self.write_pending(out)?;
        }
        Ok(())
    }

    /// Writes what is written of the line and not yet out: a tick cut
    /// short by the kernel shows what it listed, as `-L --json` does.
    pub fn write_pending(&mut self, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(&self.line.buf)?;
        self.line.buf.clear();
        Ok(())
    }
}

/// What a [`WatchTick`] says besides the table and its deltas.
pub struct TickHeader<'a> {
    pub tick: u64,
    pub timestamp: &'a str,
    pub interval_ms: Option<u64>,
    pub info: &'a Info,
}

/// One [`WatchTick`] line for `entries` (in listing order) taken at `now`,
/// written by a [`TickWriter`] into `out`: the bytes the watch streams.
pub fn write_tick(
    out: &mut Vec<u8>,
    header: TickHeader,
    entries: &[ServiceEntry],
    tracker: &mut RateTracker,
    now: Instant,
) -> io::Result<()> {
    let mut writer = TickWriter::default();
    writer.begin(header, tracker, now);
    for e in entries {
        writer.service(e, tracker, out)?;
    }
    writer.finish(tracker, out)
}

/// One member of `deltas`, a [`ServiceDelta`], keys in the struct's order.
fn write_service_delta(doc: &mut JsonWriter, d: &ServiceView) {
    doc.element();
    doc.begin_object();
    doc.key(key!("service"));
    // Protocol names, numbers and addresses: nothing to escape.
    doc.buf.push(b'"');
    table::push_service_id_label(&mut doc.buf, &d.id);
    doc.buf.push(b'"');
    doc.name(key!("presence"), presence_name(d.presence));
    write_delta(doc, &d.delta);
    doc.uint(key!("conns_since_start"), d.conns_since_start);
    doc.key(key!("real_servers"));
    doc.begin_array();
    for r in d.real_servers {
        doc.element();
        doc.begin_object();
        doc.addr(key!("addr"), &r.addr);
        doc.uint(key!("port"), u64::from(r.port));
        doc.name(key!("presence"), presence_name(r.presence));
        write_delta(doc, &r.delta);
        doc.uint(key!("conns_since_start"), r.conns_since_start);
        doc.key(key!("share_percent"));
        match r.share_percent {
            Some(share) => push_f64(&mut doc.buf, share),
            None => doc.buf.extend_from_slice(b"null"),
        }
        doc.end_object();
    }
    doc.end_array();
    doc.end_object();
}

/// `value` as serde_json writes an `f64` (the shortest text that reads
/// back the same).
fn push_f64(buf: &mut Vec<u8>, value: f64) {
    // Serializing a number into a `Vec` cannot fail.
    let _ = serde_json::to_writer(buf, &value);
}

/// `"delta": {...}`, a [`Delta`].
fn write_delta(doc: &mut JsonWriter, delta: &Delta) {
    doc.key(key!("delta"));
    doc.begin_object();
    doc.uint(key!("conns"), delta.conns);
    doc.uint(key!("cps"), delta.cps);
    doc.uint(key!("inpps"), delta.inpps);
    doc.uint(key!("outpps"), delta.outpps);
    doc.uint(key!("inbps"), delta.inbps);
    doc.uint(key!("outbps"), delta.outbps);
    doc.end_object();
}

/// A [`Presence`] as serde names it.
fn presence_name(p: Presence) -> &'static str {
    match p {
        Presence::Appeared => "appeared",
        Presence::Present => "present",
        Presence::Vanished => "vanished",
    }
}

/// One NDJSON line of `--watch --json` for `--timeout`, `--daemon` or
/// `-c`: the tick's fields and the listing's own payload key
/// (`timeouts`, `daemons` or `connections`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OtherTick {
    pub schema_version: u32,
    pub tick: u64,
    pub timestamp: String,
    pub interval_ms: Option<u64>,
    #[serde(flatten)]
    pub payload: serde_json::Value,
}

pub(super) fn without_version(mut doc: serde_json::Value) -> serde_json::Value {
    if let Some(map) = doc.as_object_mut() {
        map.remove("schema_version");
    }
    doc
}
