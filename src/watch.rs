//! `--watch[=SECONDS]`: a live view of any listing.
//!
//! On a terminal, a full-screen view redrawn in place (alternate screen,
//! restored on exit or Ctrl-C) with the cells that changed since the last
//! tick highlighted, as `watch -d` does. For every real server it shows
//! connections, packets and bytes per second computed from the 64-bit
//! counter deltas over the measured interval, and its share of its
//! service's new connections since the watch started. Services and real
//! servers that appear or vanish are marked, never crashed on.
//!
//! Without a terminal it writes one block per tick: with `--json` an
//! NDJSON line (timestamp, interval, full state, deltas), otherwise the
//! ordinary listing headed by a timestamp line.

use std::collections::HashMap;
use std::io::{self, IsTerminal, Write};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::cli::{ListCmd, OutputOptions, OutputStyle};
use crate::model::{Dest, Info, ServiceEntry, ServiceId, Stats};
use crate::render::json_writer::{JsonWriter, key};
use crate::render::{self, json, table};
use crate::run::{self, Session, Streams};

/// The signal that asked the watch to stop (0: none yet).
static INTERRUPTED: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_interrupt(sig: libc::c_int) {
    INTERRUPTED.store(sig, Ordering::SeqCst);
}

/// Exit status after Ctrl-C, as a shell reports a SIGINT death (SIGTERM
/// and SIGHUP, which also restore the terminal, give 143 and 129).
pub const EXIT_INTERRUPTED: i32 = 130;

/// Identity of a real server inside its service.
type DestKey = (std::net::IpAddr, u16);

fn dest_key(d: &Dest) -> DestKey {
    (d.addr, d.port)
}

/// Per-second rates computed from two counter snapshots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delta {
    /// New connections in the interval.
    pub conns: u64,
    /// New connections per second over the measured interval.
    pub cps: u64,
    /// Packets per second from clients.
    pub inpps: u64,
    /// Packets per second to clients.
    pub outpps: u64,
    /// Bytes per second from clients.
    pub inbps: u64,
    /// Bytes per second to clients.
    pub outbps: u64,
}

impl Delta {
    /// Rates from `prev` to `now` over `elapsed`; a counter that went
    /// backwards (zeroed) counts as no traffic.
    pub fn between(prev: &Stats, now: &Stats, elapsed: Duration) -> Delta {
        let ms = elapsed.as_millis().max(1);
        let per_sec = |a: u64, b: u64| -> u64 {
            let d = u128::from(b.saturating_sub(a));
            u64::try_from(d * 1000 / ms).unwrap_or(u64::MAX)
        };
        Delta {
            conns: now.conns.saturating_sub(prev.conns),
            cps: per_sec(prev.conns, now.conns),
            inpps: per_sec(prev.inpkts, now.inpkts),
            outpps: per_sec(prev.outpkts, now.outpkts),
            inbps: per_sec(prev.inbytes, now.inbytes),
            outbps: per_sec(prev.outbytes, now.outbytes),
        }
    }
}

/// Whether an entry is new, still there, or just vanished.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    Appeared,
    Present,
    Vanished,
}

/// Computed view of one real server at one tick.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DestDelta {
    pub addr: String,
    pub port: u16,
    pub presence: Presence,
    pub delta: Delta,
    /// New connections since the watch started.
    pub conns_since_start: u64,
    /// Share (0-100) of the service's new connections since the watch
    /// started; `null` while the service has had none.
    pub share_percent: Option<f64>,
}

/// Computed view of one service at one tick.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceDelta {
    /// The service as the text listing names it (`TCP 10.0.0.1:80`).
    pub service: String,
    pub presence: Presence,
    pub delta: Delta,
    pub conns_since_start: u64,
    pub real_servers: Vec<DestDelta>,
}

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

/// What the watch remembers between ticks: for each service and real
/// server of the previous tick, its counters then and when it was first
/// seen (or last appeared again). Nothing else of the table is kept.
#[derive(Default)]
pub struct Tracker {
    /// The previous tick's services, in listing order.
    prev: Vec<Tracked>,
    /// Where each service of `prev` is, by id: needed only when the table
    /// changed, so built on the first miss of a tick.
    prev_index: FastMap<ServiceId, usize>,
    /// Whether `prev_index` is the index of `prev`.
    indexed: bool,
    prev_at: Option<Instant>,
    ticks: u64,
    /// Which services of `prev` are still there (reused tick to tick).
    seen: Vec<bool>,
    dest_scratch: DestScratch,
}

/// What matching one service's real servers needs, reused from service
/// to service.
#[derive(Default)]
struct DestScratch {
    /// Where each real server of the previous tick is, by key.
    index: FastMap<DestKey, usize>,
    /// Which real servers of the previous tick are still there.
    seen: Vec<bool>,
}

/// A service of the previous tick.
struct Tracked {
    id: ServiceId,
    stats: Stats,
    /// Its connection counter when first seen.
    start_conns: u64,
    dests: Vec<TrackedDest>,
}

/// A real server of the previous tick.
struct TrackedDest {
    key: DestKey,
    stats: Stats,
    start_conns: u64,
}

impl Tracker {
    /// Computes the deltas for a new snapshot taken at `now` and remembers
    /// it. Vanished services and real servers are appended, marked.
    pub fn update(
        &mut self,
        entries: &[ServiceEntry],
        now: Instant,
    ) -> Vec<ServiceDelta> {
        let mut out = Vec::with_capacity(entries.len());
        let first = self.ticks == 0;
        let elapsed = self.prev_at.map(|at| now.saturating_duration_since(at));
        let mut next: Vec<Tracked> = Vec::with_capacity(entries.len());
        self.seen.clear();
        self.seen.resize(self.prev.len(), false);
        // Both ticks are in listing order: the service at the cursor is
        // usually the one wanted, found without hashing.
        let mut cursor = 0;
        for e in entries {
            let id = e.service.id;
            let found = match self.prev.get(cursor) {
                Some(p) if p.id == id => Some(cursor),
                _ => {
                    if !self.indexed {
                        self.prev_index.clear();
                        self.prev_index
                            .extend(self.prev.iter().enumerate().map(|(i, p)| (p.id, i)));
                        self.indexed = true;
                    }
                    self.prev_index.get(&id).copied()
                }
            };
            if let Some(i) = found {
                cursor = i + 1;
                self.seen[i] = true;
            }
            let prev = found.map(|i| &self.prev[i]);
            // Everything on the first tick is simply present.
            let presence = match (prev, first) {
                (Some(_), _) | (None, true) => Presence::Present,
                (None, false) => Presence::Appeared,
            };
            let (rs, tracked_dests) =
                self.dest_scratch.dests_of(e, prev, presence, elapsed);
            let svc_delta = match (prev, elapsed) {
                (Some(p), Some(el)) => Delta::between(&p.stats, &e.service.stats, el),
                _ => Delta::default(),
            };
            // Re-created or new: its counters start from now.
            let start_conns = prev.map_or(e.service.stats.conns, |p| p.start_conns);
            out.push(ServiceDelta {
                service: table::service_label(&e.service),
                presence,
                delta: svc_delta,
                conns_since_start: e.service.stats.conns.saturating_sub(start_conns),
                real_servers: rs,
            });
            next.push(Tracked {
                id,
                stats: e.service.stats,
                start_conns,
                dests: tracked_dests,
            });
        }
        for (p, _) in self.prev.iter().zip(&self.seen).filter(|(_, seen)| !**seen) {
            out.push(ServiceDelta {
                service: table::service_id_label(&p.id),
                presence: Presence::Vanished,
                delta: Delta::default(),
                conns_since_start: 0,
                real_servers: p.dests.iter().map(vanished_dest).collect(),
            });
        }
        self.prev = next;
        self.indexed = false;
        self.prev_at = Some(now);
        self.ticks += 1;
        out
    }
}

impl DestScratch {
    /// The deltas of `e`'s real servers against `prev` (the same service
    /// at the previous tick, if it was there), and what to remember of
    /// them.
    fn dests_of(
        &mut self,
        e: &ServiceEntry,
        prev: Option<&Tracked>,
        presence: Presence,
        elapsed: Option<Duration>,
    ) -> (Vec<DestDelta>, Vec<TrackedDest>) {
        let mut rs: Vec<DestDelta> = Vec::with_capacity(e.dests.len());
        let mut tracked = Vec::with_capacity(e.dests.len());
        let prev_dests = prev.map_or(&[][..], |p| &p.dests[..]);
        self.seen.clear();
        self.seen.resize(prev_dests.len(), false);
        let mut indexed = false;
        for (j, d) in e.dests.iter().enumerate() {
            let key = dest_key(d);
            // Same position first, as for services.
            let found = match prev_dests.get(j) {
                Some(pd) if pd.key == key => Some(j),
                _ if prev_dests.is_empty() => None,
                _ => {
                    if !indexed {
                        self.index.clear();
                        self.index.extend(
                            prev_dests.iter().enumerate().map(|(i, pd)| (pd.key, i)),
                        );
                        indexed = true;
                    }
                    self.index.get(&key).copied()
                }
            };
            if let Some(i) = found {
                self.seen[i] = true;
            }
            let pd = found.map(|i| &prev_dests[i]);
            let (dpresence, delta) = match (prev, pd, elapsed) {
                (Some(_), Some(pd), Some(el)) => {
                    (Presence::Present, Delta::between(&pd.stats, &d.stats, el))
                }
                (Some(_), None, _) => (Presence::Appeared, Delta::default()),
                _ => (presence, Delta::default()),
            };
            // Counted from when it was first seen, or appeared again.
            let start_conns = match pd {
                Some(pd) if dpresence != Presence::Appeared => pd.start_conns,
                _ => d.stats.conns,
            };
            rs.push(DestDelta {
                addr: addr_text(&d.addr),
                port: d.port,
                presence: dpresence,
                delta,
                conns_since_start: d.stats.conns.saturating_sub(start_conns),
                share_percent: None,
            });
            tracked.push(TrackedDest {
                key,
                stats: d.stats,
                start_conns,
            });
        }
        let total: u64 = rs.iter().map(|r| r.conns_since_start).sum();
        if total > 0 {
            for r in &mut rs {
                r.share_percent = Some(r.conns_since_start as f64 * 100.0 / total as f64);
            }
        }
        for (pd, _) in prev_dests
            .iter()
            .zip(&self.seen)
            .filter(|(_, seen)| !**seen)
        {
            rs.push(vanished_dest(pd));
        }
        (rs, tracked)
    }
}

fn vanished_dest(pd: &TrackedDest) -> DestDelta {
    DestDelta {
        addr: addr_text(&pd.key.0),
        port: pd.key.1,
        presence: Presence::Vanished,
        delta: Delta::default(),
        conns_since_start: 0,
        share_percent: None,
    }
}

/// An address as `Display` writes it; IPv4 without `core::fmt`.
fn addr_text(addr: &std::net::IpAddr) -> String {
    match addr {
        std::net::IpAddr::V4(a) => {
            let mut text = Vec::with_capacity(15);
            crate::output::common::push_ipv4(&mut text, a);
            String::from_utf8(text).unwrap_or_default()
        }
        std::net::IpAddr::V6(a) => a.to_string(),
    }
}

/// A hash map for keys the watch makes from the table itself (service
/// ids, addresses, row labels): no need for SipHash's cost.
type FastMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<FxHasher>>;

/// The multiply-rotate hash of rustc's `FxHasher`.
#[derive(Default)]
struct FxHasher(u64);

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl std::hash::Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        for &byte in chunks.remainder() {
            self.add(u64::from(byte));
        }
    }

    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    fn write_u16(&mut self, n: u16) {
        self.add(u64::from(n));
    }

    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// UTC time as RFC 3339 with milliseconds (`2026-11-25T09:41:07.123Z`).
pub fn rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60,
        d.subsec_millis()
    )
}

/// Runs the watch loop until `--count` ticks, Ctrl-C, or a closed pipe.
pub fn run(
    s: &mut Session,
    list: &ListCmd,
    opts: &OutputOptions,
    io: &mut Streams,
) -> io::Result<i32> {
    let interval = Duration::from_millis(opts.watch.unwrap_or_default().0.max(1));
    let on_terminal = io::stdout().is_terminal() && opts.style != OutputStyle::Json;
    let handler = nix::sys::signal::SigHandler::Handler(on_interrupt);
    INTERRUPTED.store(0, Ordering::SeqCst);
    use nix::sys::signal::Signal;
    for sig in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        // SAFETY: the handler only stores to an atomic, which is
        // async-signal-safe.
        let _ = unsafe { nix::sys::signal::signal(sig, handler) };
    }

    let mut screen = if on_terminal {
        Some(Screen::enter(io.stdout)?)
    } else {
        None
    };
    let result = watch_loop(s, list, opts, interval, screen.as_mut(), io);
    if let Some(screen) = screen {
        // Restore the terminal before anything else is said.
        screen.leave(io.stdout)?;
    }
    let (rc, failure) = result?;
    if let Some(message) = failure {
        io.stderr.write_all(message.as_bytes())?;
    }
    let sig = INTERRUPTED.load(Ordering::SeqCst);
    if sig != 0 {
        return Ok(128 + sig);
    }
    Ok(rc)
}

/// An interval as `watch` shows it (`2.0s`, `0.5s`), with the
/// milliseconds when it has them (`0.25s`, `0.001s`).
pub fn seconds(d: Duration) -> String {
    let ms = d.as_millis();
    if ms % 100 == 0 {
        format!("{:.1}s", d.as_secs_f64())
    } else {
        let s = format!("{:.3}", d.as_secs_f64());
        format!("{}s", s.trim_end_matches('0'))
    }
}

/// The header line of a tick outside the full-screen view.
fn stamp_line(interval: Duration, stamp: &str) -> String {
    format!("Every {}: {stamp}\n", seconds(interval))
}

/// Runs the ticks; returns the exit status and what to say on stderr
/// once the terminal is restored.
fn watch_loop(
    s: &mut Session,
    list: &ListCmd,
    opts: &OutputOptions,
    interval: Duration,
    mut screen: Option<&mut Screen>,
    io: &mut Streams,
) -> io::Result<(i32, Option<String>)> {
    let mut tracker = Tracker::default();
    let mut tick: u64 = 0;
    let mut last: Option<Instant> = None;
    let services = render::lists_services(&list.what);
    // Reused from tick to tick.
    let mut json_line = Vec::new();
    loop {
        tick += 1;
        let now = Instant::now();
        let stamp = rfc3339(SystemTime::now());
        let interval_ms = last.map(|l| (now - l).as_millis() as u64);
        last = Some(now);

        if !services {
            // Timeouts, daemons and connections: the ordinary listing (or
            // document), rendered into a buffer, then shown per mode.
            let mut body = Vec::new();
            let mut err = Vec::new();
            let mut stdin = io::empty();
            let rc = {
                let mut sub = Streams {
                    stdin: &mut stdin,
                    stdout: &mut body,
                    stderr: &mut err,
                };
                render::list(s, list, opts.style, false, &mut sub)?
            };
            if rc != 0 {
                return Ok((rc, Some(String::from_utf8_lossy(&err).into_owned())));
            }
            if let Some(screen) = screen.as_deref_mut() {
                screen.draw_text(io.stdout, &stamp, interval, interval_ms, &body)?;
            } else if opts.style == OutputStyle::Json {
                let payload: serde_json::Value = serde_json::from_slice(&body)
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                let doc = OtherTick {
                    schema_version: json::SCHEMA_VERSION,
                    tick,
                    timestamp: stamp,
                    interval_ms,
                    payload: without_version(payload),
                };
                serde_json::to_writer(&mut *io.stdout, &doc)?;
                io.stdout.write_all(b"\n")?;
            } else {
                io.stdout
                    .write_all(stamp_line(interval, &stamp).as_bytes())?;
                io.stdout.write_all(&body)?;
            }
        } else if screen.is_none() && opts.style == OutputStyle::Text {
            // Streamed as `-L` streams it, a service at a time: a refresh
            // costs one listing, and nothing is computed that is not shown.
            io.stdout
                .write_all(stamp_line(interval, &stamp).as_bytes())?;
            let mut err = Vec::new();
            let mut stdin = io::empty();
            let rc = run::list_text(
                s,
                list,
                &mut Streams {
                    stdin: &mut stdin,
                    stdout: &mut *io.stdout,
                    stderr: &mut err,
                },
            )?;
            if rc != 0 {
                return Ok((rc, Some(String::from_utf8_lossy(&err).into_owned())));
            }
        } else {
            // One read of the table per tick, whatever is shown.
            let mut raw = match render::read_raw(s, list) {
                Ok(e) => e,
                Err(e) => {
                    let mut err = Vec::new();
                    let mut stdin = io::empty();
                    let mut nothing = io::sink();
                    let rc = render::listing_failed(
                        &mut Streams {
                            stdin: &mut stdin,
                            stdout: &mut nothing,
                            stderr: &mut err,
                        },
                        &e,
                    )?;
                    return Ok((rc, Some(String::from_utf8_lossy(&err).into_owned())));
                }
            };
            if screen.is_none() && opts.style != OutputStyle::Json {
                // The listing as it is: no deltas to show, none computed.
                io.stdout
                    .write_all(stamp_line(interval, &stamp).as_bytes())?;
                render::write_entries(s, list, opts.style, opts.pretty, &mut raw, io)?;
            } else {
                render::sort_in_listing_order(&mut raw, list.format.nosort);
                let entries = raw;
                let deltas = tracker.update(&entries, now);
                if let Some(screen) = screen.as_deref_mut() {
                    let rows = frame_rows(&entries, &deltas);
                    screen.draw_rows(io.stdout, &stamp, interval, interval_ms, rows)?;
                } else {
                    json_line.clear();
                    write_tick(
                        &mut json_line,
                        TickHeader {
                            tick,
                            timestamp: &stamp,
                            interval_ms,
                            info: &s.info,
                        },
                        &entries,
                        &deltas,
                    )?;
                    io.stdout.write_all(&json_line)?;
                }
            }
        }
        io.stdout.flush()?;
        if opts.count.is_some_and(|c| tick >= c) {
            return Ok((0, None));
        }
        if !sleep_unless_interrupted(now + interval) {
            return Ok((0, None));
        }
    }
}

/// What a [`WatchTick`] says besides the table and its deltas.
pub struct TickHeader<'a> {
    pub tick: u64,
    pub timestamp: &'a str,
    pub interval_ms: Option<u64>,
    pub info: &'a Info,
}

/// One [`WatchTick`] line, newline included, appended to `out`: the bytes
/// `serde_json` writes for it, without building its services.
pub fn write_tick(
    out: &mut Vec<u8>,
    header: TickHeader,
    entries: &[ServiceEntry],
    deltas: &[ServiceDelta],
) -> io::Result<()> {
    let mut doc = JsonWriter::new(std::mem::take(out), false);
    doc.begin_object();
    doc.uint(key!("schema_version"), u64::from(json::SCHEMA_VERSION));
    doc.uint(key!("tick"), header.tick);
    doc.str(key!("timestamp"), header.timestamp);
    doc.opt_uint(key!("interval_ms"), header.interval_ms);
    doc.info(header.info);
    doc.key(key!("services"));
    doc.begin_array();
    for e in entries {
        doc.service(&e.service, &e.dests);
    }
    doc.end_array();
    doc.key(key!("deltas"));
    let written = write_deltas(&mut doc, deltas);
    doc.end_object();
    doc.buf.push(b'\n');
    *out = doc.buf;
    written
}

/// `deltas` as an array of [`ServiceDelta`], keys in the structs' order.
fn write_deltas(doc: &mut JsonWriter, deltas: &[ServiceDelta]) -> io::Result<()> {
    doc.begin_array();
    for d in deltas {
        doc.element();
        doc.begin_object();
        doc.str(key!("service"), &d.service);
        doc.name(key!("presence"), presence_name(d.presence));
        write_delta(doc, &d.delta);
        doc.uint(key!("conns_since_start"), d.conns_since_start);
        doc.key(key!("real_servers"));
        doc.begin_array();
        for r in &d.real_servers {
            doc.element();
            doc.begin_object();
            doc.str(key!("addr"), &r.addr);
            doc.uint(key!("port"), u64::from(r.port));
            doc.name(key!("presence"), presence_name(r.presence));
            write_delta(doc, &r.delta);
            doc.uint(key!("conns_since_start"), r.conns_since_start);
            doc.key(key!("share_percent"));
            match r.share_percent {
                // serde_json's float format (shortest round-trip).
                Some(share) => serde_json::to_writer(&mut doc.buf, &share)?,
                None => doc.buf.extend_from_slice(b"null"),
            }
            doc.end_object();
        }
        doc.end_array();
        doc.end_object();
    }
    doc.end_array();
    Ok(())
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

fn without_version(mut doc: serde_json::Value) -> serde_json::Value {
    if let Some(map) = doc.as_object_mut() {
        map.remove("schema_version");
    }
    doc
}

/// Sleeps until `deadline`; false if Ctrl-C came first.
fn sleep_unless_interrupted(deadline: Instant) -> bool {
    loop {
        if INTERRUPTED.load(Ordering::SeqCst) != 0 {
            return false;
        }
        let now = Instant::now();
        if now >= deadline {
            return true;
        }
        std::thread::sleep((deadline - now).min(Duration::from_millis(50)));
    }
}

/// One row of the terminal view: a stable key and its cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub key: String,
    pub cells: Vec<String>,
}

const COLUMNS: [(&str, usize); 11] = [
    ("Service / real server", 30),
    ("Fwd", 7),
    ("Weight", 6),
    ("ActConn", 7),
    ("InAct", 6),
    ("CPS", 7),
    ("InPPS", 7),
    ("OutPPS", 7),
    ("InBPS", 8),
    ("OutBPS", 8),
    ("Share", 7),
];

/// The rows of the terminal view for one tick.
pub fn frame_rows(entries: &[ServiceEntry], deltas: &[ServiceDelta]) -> Vec<Row> {
    let mut rows = Vec::new();
    let mark = |p: Presence| match p {
        Presence::Appeared => " (new)",
        Presence::Present => "",
        Presence::Vanished => " (gone)",
    };
    for (i, d) in deltas.iter().enumerate() {
        let entry = entries.get(i);
        let svc_key = d.service.clone();
        rows.push(Row {
            key: svc_key.clone(),
            cells: vec![
                format!("{}{}", d.service, mark(d.presence)),
                entry
                    .map(|e| e.service.scheduler.clone())
                    .unwrap_or_default(),
                String::new(),
                entry
                    .map(|e| {
                        e.dests
                            .iter()
                            .map(|x| u64::from(x.active_conns))
                            .sum::<u64>()
                            .to_string()
                    })
                    .unwrap_or_default(),
                entry
                    .map(|e| {
                        e.dests
                            .iter()
                            .map(|x| u64::from(x.inact_conns))
                            .sum::<u64>()
                            .to_string()
                    })
                    .unwrap_or_default(),
                table::human(d.delta.cps),
                table::human(d.delta.inpps),
                table::human(d.delta.outpps),
                table::human(d.delta.inbps),
                table::human(d.delta.outbps),
                String::new(),
            ],
        });
        for (j, r) in d.real_servers.iter().enumerate() {
            // The real servers listed come first, in order; vanished ones
            // (no longer listed) after them.
            let dest = entry
                .and_then(|e| e.dests.get(j))
                .filter(|_| r.presence != Presence::Vanished);
            let addr = if r.addr.contains(':') {
                format!("[{}]:{}", r.addr, r.port)
            } else {
                format!("{}:{}", r.addr, r.port)
            };
            rows.push(Row {
                key: format!("{svc_key} -> {addr}"),
                cells: vec![
                    format!("  -> {addr}{}", mark(r.presence)),
                    dest.map(|x| table::fwd_name(x.fwd)).unwrap_or_default(),
                    dest.map(|x| x.weight.to_string()).unwrap_or_default(),
                    dest.map(|x| x.active_conns.to_string()).unwrap_or_default(),
                    dest.map(|x| x.inact_conns.to_string()).unwrap_or_default(),
                    table::human(r.delta.cps),
                    table::human(r.delta.inpps),
                    table::human(r.delta.outpps),
                    table::human(r.delta.inbps),
                    table::human(r.delta.outbps),
                    r.share_percent
                        .map(|p| format!("{p:.1}%"))
                        .unwrap_or_else(|| "-".to_string()),
                ],
            });
        }
    }
    rows
}

/// The full-screen terminal view.
#[derive(Debug, Default)]
pub struct Screen {
    previous: FastMap<String, Vec<String>>,
    previous_text: Vec<String>,
    /// `(columns, rows)`; `None` asks the terminal at each frame.
    size: Option<(u16, u16)>,
}

/// Enters the alternate screen and hides the cursor.
pub const ENTER: &[u8] = b"\x1b[?1049h\x1b[?25l";
/// Shows the cursor and leaves the alternate screen.
pub const LEAVE: &[u8] = b"\x1b[?25h\x1b[?1049l";
/// Reverse video on and off, for changed cells.
const HIGHLIGHT: (&[u8], &[u8]) = (b"\x1b[7m", b"\x1b[0m");

impl Screen {
    /// A view of a terminal of fixed size (for tests; no escape sequence
    /// is written until [`Screen::draw`]).
    pub fn with_size(columns: u16, rows: u16) -> Screen {
        Screen {
            size: Some((columns, rows)),
            ..Screen::default()
        }
    }

    fn enter(out: &mut dyn Write) -> io::Result<Screen> {
        out.write_all(ENTER)?;
        out.flush()?;
        Ok(Screen::default())
    }

    fn leave(self, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(LEAVE)?;
        out.flush()
    }

    fn size(&self) -> (usize, usize) {
        let (c, r) = self
            .size
            .or_else(render::terminal_size)
            .unwrap_or((u16::MAX, u16::MAX));
        (usize::from(c), usize::from(r))
    }

    fn header(
        &self,
        buf: &mut Vec<u8>,
        stamp: &str,
        interval: Duration,
        measured: Option<u64>,
    ) {
        buf.extend_from_slice(b"\x1b[H\x1b[2J");
        let measured = measured
            .map(|ms| format!(" (last {:.2}s)", ms as f64 / 1000.0))
            .unwrap_or_default();
        let line = format!(
            "Every {}{measured}: ipvsadm --watch    {stamp}",
            seconds(interval)
        );
        let (cols, _) = self.size();
        buf.extend_from_slice(clip(&line, cols).as_bytes());
        buf.extend_from_slice(b"\r\n\r\n");
    }

    /// Draws one frame; cells that differ from the last frame's cell of
    /// the same row and column are shown in reverse video. Columns that do
    /// not fit the terminal's width are left out, rows that do not fit
    /// its height are cut.
    pub fn draw(
        &mut self,
        out: &mut dyn Write,
        stamp: &str,
        interval: Duration,
        measured: Option<u64>,
        rows: &[Row],
    ) -> io::Result<()> {
        self.draw_rows(out, stamp, interval, measured, rows.to_vec())
    }

    /// [`Screen::draw`], keeping `rows` for the next frame's comparison
    /// instead of a copy of them.
    pub fn draw_rows(
        &mut self,
        out: &mut dyn Write,
        stamp: &str,
        interval: Duration,
        measured: Option<u64>,
        rows: Vec<Row>,
    ) -> io::Result<()> {
        let (cols, height) = self.size();
        let mut buf = Vec::with_capacity(rows.len() * 120 + 256);
        self.header(&mut buf, stamp, interval, measured);
        // As many whole columns as fit (the first always).
        let mut shown = 0;
        let mut used = 0;
        for (_, width) in COLUMNS {
            if shown > 0 && used + width + 1 > cols {
                break;
            }
            used += width + 1;
            shown += 1;
        }
        let mut title = String::new();
        for (name, width) in &COLUMNS[..shown] {
            title.push_str(&format!("{name:<width$} "));
        }
        buf.extend_from_slice(clip(title.trim_end(), cols).as_bytes());
        buf.extend_from_slice(b"\r\n");
        for (n, row) in rows.iter().enumerate() {
            if n + 4 < height {
                let before = self.previous.get(&row.key);
                for (i, ((_, width), cell)) in
                    COLUMNS[..shown].iter().zip(&row.cells).enumerate()
                {
                    let changed = before.is_some_and(|b| b.get(i) != Some(cell));
                    if i > 0 {
                        buf.push(b' ');
                    }
                    if changed {
                        buf.extend_from_slice(HIGHLIGHT.0);
                    }
                    let text = clip(cell, if i == 0 { cols } else { *width });
                    buf.extend_from_slice(
                        format!("{text:<width$}", width = *width).as_bytes(),
                    );
                    if changed {
                        buf.extend_from_slice(HIGHLIGHT.1);
                    }
                }
                buf.extend_from_slice(b"\r\n");
            }
        }
        self.previous.clear();
        self.previous
            .extend(rows.into_iter().map(|row| (row.key, row.cells)));
        out.write_all(&buf)?;
        out.flush()
    }

    /// Draws a text listing (`--timeout`, `--daemon`, `-c`), lines that
    /// changed since the last frame highlighted.
    pub fn draw_text(
        &mut self,
        out: &mut dyn Write,
        stamp: &str,
        interval: Duration,
        measured: Option<u64>,
        body: &[u8],
    ) -> io::Result<()> {
        let (cols, height) = self.size();
        let mut buf = Vec::with_capacity(body.len() + 256);
        self.header(&mut buf, stamp, interval, measured);
        let lines: Vec<String> = String::from_utf8_lossy(body)
            .lines()
            .map(str::to_string)
            .collect();
        for (n, line) in lines.iter().enumerate() {
            if n + 3 >= height {
                break;
            }
            let changed =
                !self.previous_text.is_empty() && self.previous_text.get(n) != Some(line);
            if changed {
                buf.extend_from_slice(HIGHLIGHT.0);
            }
            buf.extend_from_slice(clip(line, cols).as_bytes());
            if changed {
                buf.extend_from_slice(HIGHLIGHT.1);
            }
            buf.extend_from_slice(b"\r\n");
        }
        self.previous_text = lines;
        out.write_all(&buf)?;
        out.flush()
    }
}

/// At most `width` characters of `s`.
fn clip(s: &str, width: usize) -> String {
    s.chars().take(width).collect()
}

#[cfg(test)]
mod tests;
