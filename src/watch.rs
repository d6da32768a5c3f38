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
use std::net::IpAddr;
use std::ops::Range;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::cli::{ListCmd, ListWhat, OutputOptions, OutputStyle};
use crate::error::IpvsError;
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
type DestKey = (IpAddr, u16);

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
    /// [`Delta::since`] of two full counter sets: what the tests'
    /// reference tracker, which keeps whole snapshots, computes with.
    #[cfg(test)]
    pub(crate) fn between(prev: &Stats, now: &Stats, elapsed: Duration) -> Delta {
        Delta::since(&Counters::of(prev), &Counters::of(now), elapsed)
    }

    /// Rates from `prev` to `now` over `elapsed`, from the counters the
    /// tracker kept; a counter that went backwards (zeroed) counts as no
    /// traffic.
    fn since(prev: &Counters, now: &Counters, elapsed: Duration) -> Delta {
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

/// The counters a [`Delta`] is computed from: all the watch keeps of a
/// service's or real server's [`Stats`] between ticks.
#[derive(Debug, Clone, Copy)]
struct Counters {
    conns: u64,
    inpkts: u64,
    outpkts: u64,
    inbytes: u64,
    outbytes: u64,
}

impl Counters {
    fn of(s: &Stats) -> Counters {
        Counters {
            conns: s.conns,
            inpkts: s.inpkts,
            outpkts: s.outpkts,
            inbytes: s.inbytes,
            outbytes: s.outbytes,
        }
    }
}

/// What the watch remembers between ticks: for each service and real
/// server of the previous tick, its counters then and when it was first
/// seen (or last appeared again). Nothing else of the table is kept.
///
/// A tick is handed over a service at a time, as the listing reads it:
/// [`Tracker::begin_tick`], then [`Tracker::next_service`] for each
/// service in listing order, which keeps its counters and where it and
/// its real servers were in the previous tick. [`Tracker::finish_tick`]
/// then computes the tick's deltas from both ticks' counters, a service
/// at a time; its views borrow a buffer reused from service to service
/// and tick to tick, so a tick allocates nothing per service once the
/// buffers have grown.
#[derive(Default)]
pub struct Tracker {
    /// The previous tick's services, in listing order.
    prev: Vec<Tracked>,
    /// Their real servers, each service's a range of it.
    prev_dests: Vec<TrackedDest>,
    /// The tick under way, which becomes `prev` (swapped, not copied).
    next: Vec<Tracked>,
    next_dests: Vec<TrackedDest>,
    /// Where each service of `prev` is, by id: needed only when the table
    /// changed, so built on the first miss of a tick.
    prev_index: FastMap<ServiceId, usize>,
    /// Whether `prev_index` is the index of `prev`.
    indexed: bool,
    prev_at: Option<Instant>,
    ticks: u64,
    /// When the tick under way was taken.
    tick_at: Option<Instant>,
    /// Time since the previous tick (`None` on the first).
    elapsed: Option<Duration>,
    /// Where in `prev` the next service of the tick probably is.
    cursor: usize,
    /// Which services of `prev` are still there.
    seen: Vec<bool>,
    /// Where each real server of a previous tick's service is, by key.
    dest_index: FastMap<DestKey, usize>,
    /// Which real servers of a previous tick's service are still there.
    dests_seen: Vec<bool>,
    /// The real servers of the view last handed out.
    rows: Vec<DestView>,
}

/// A service of a tick.
struct Tracked {
    id: ServiceId,
    counters: Counters,
    /// Its connection counter when first seen.
    start_conns: u64,
    /// Its real servers in the tracker's real-server vector.
    dests: Range<usize>,
    /// Where it was in the tick before its own (`None`: not there).
    before: Option<usize>,
}

/// A real server of a tick.
struct TrackedDest {
    key: DestKey,
    /// Where it was among its service's real servers in the tick before.
    before: DestBefore,
    counters: Counters,
    start_conns: u64,
}

/// The position of a real server among its service's real servers in the
/// tick before, or none: a `u32` fits where `TrackedDest` has padding
/// (an `Option<usize>` would add 8 bytes to each real server kept).
#[derive(Clone, Copy)]
struct DestBefore(u32);

impl DestBefore {
    const NONE: DestBefore = DestBefore(u32::MAX);

    /// A service has far fewer than 2^32 - 1 real servers; one that had
    /// more would count as new rather than panic.
    fn at(position: Option<usize>) -> DestBefore {
        position
            .and_then(|i| u32::try_from(i).ok())
            .filter(|&i| i != u32::MAX)
            .map_or(DestBefore::NONE, DestBefore)
    }

    fn position(self) -> Option<usize> {
        (self.0 != u32::MAX).then_some(self.0 as usize)
    }
}

/// One service's deltas at one tick: a [`ServiceDelta`] that borrows the
/// tracker's buffers instead of owning text.
#[derive(Debug, Clone, Copy)]
pub struct ServiceView<'a> {
    pub id: ServiceId,
    pub presence: Presence,
    pub delta: Delta,
    pub conns_since_start: u64,
    /// The listed real servers in listing order, then those that vanished.
    pub real_servers: &'a [DestView],
}

/// One real server's deltas at one tick: a [`DestDelta`] with its address
/// as is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DestView {
    pub addr: IpAddr,
    pub port: u16,
    pub presence: Presence,
    pub delta: Delta,
    pub conns_since_start: u64,
    pub share_percent: Option<f64>,
}

impl ServiceView<'_> {
    /// The owned [`ServiceDelta`] (label and addresses as text).
    pub fn to_delta(&self) -> ServiceDelta {
        ServiceDelta {
            service: table::service_id_label(&self.id),
            presence: self.presence,
            delta: self.delta,
            conns_since_start: self.conns_since_start,
            real_servers: self.real_servers.iter().map(DestView::to_delta).collect(),
        }
    }
}

impl DestView {
    /// The owned [`DestDelta`].
    pub fn to_delta(&self) -> DestDelta {
        DestDelta {
            addr: addr_text(&self.addr),
            port: self.port,
            presence: self.presence,
            delta: self.delta,
            conns_since_start: self.conns_since_start,
            share_percent: self.share_percent,
        }
    }
}

/// A service's presence: everything on the first tick is simply present.
fn service_presence(was_there: bool, first_tick: bool) -> Presence {
    if was_there || first_tick {
        Presence::Present
    } else {
        Presence::Appeared
    }
}

/// A real server's presence: its service's, unless the service was there
/// in the tick before.
fn dest_presence(
    service_was_there: bool,
    was_there: bool,
    service: Presence,
) -> Presence {
    match (service_was_there, was_there) {
        (true, true) => Presence::Present,
        (true, false) => Presence::Appeared,
        (false, _) => service,
    }
}

/// The sum of the listed real servers' new connections that their shares
/// are of. Wrapping, as an unchecked sum is in a release build, so that
/// absurd counters give the same output in every build and never panic.
fn share_total(rows: &[DestView]) -> u64 {
    rows.iter()
        .fold(0u64, |total, r| total.wrapping_add(r.conns_since_start))
}

impl Tracker {
    /// Computes the deltas for a new snapshot taken at `now` and remembers
    /// it. Vanished services and real servers are appended, marked.
    pub fn update(
        &mut self,
        entries: &[ServiceEntry],
        now: Instant,
    ) -> Vec<ServiceDelta> {
        self.begin_tick(now);
        for e in entries {
            self.next_service(e);
        }
        let mut out = Vec::with_capacity(entries.len());
        let Ok(()) = self.finish_tick(|view| {
            out.push(view.to_delta());
            Ok::<(), std::convert::Infallible>(())
        });
        out
    }

    /// Starts a tick taken at `now`.
    pub fn begin_tick(&mut self, now: Instant) {
        self.elapsed = self.prev_at.map(|at| now.saturating_duration_since(at));
        self.tick_at = Some(now);
        self.cursor = 0;
        self.next.clear();
        self.next_dests.clear();
        self.seen.clear();
        self.seen.resize(self.prev.len(), false);
    }

    /// Takes the tick's next service `e` (real servers in listing order):
    /// its counters, and where it and its real servers were in the
    /// previous tick. Its deltas come with [`Tracker::finish_tick`].
    pub fn next_service(&mut self, e: &ServiceEntry) {
        let id = e.service.id;
        // Both ticks are in listing order: the service at the cursor is
        // usually the one wanted, found without hashing.
        let found = match self.prev.get(self.cursor) {
            Some(p) if p.id == id => Some(self.cursor),
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
            self.cursor = i + 1;
            if let Some(seen) = self.seen.get_mut(i) {
                *seen = true;
            }
        }
        let prev = found.and_then(|i| self.prev.get(i));
        let prev_dests = prev
            .and_then(|p| self.prev_dests.get(p.dests.clone()))
            .unwrap_or(&[]);
        let dests_from = self.next_dests.len();
        let mut indexed = false;
        for (j, d) in e.dests.iter().enumerate() {
            let key = dest_key(d);
            // Same position first, as for services.
            let found = match prev_dests.get(j) {
                Some(pd) if pd.key == key => Some(j),
                _ if prev_dests.is_empty() => None,
                _ => {
                    if !indexed {
                        self.dest_index.clear();
                        self.dest_index.extend(
                            prev_dests.iter().enumerate().map(|(i, pd)| (pd.key, i)),
                        );
                        indexed = true;
                    }
                    self.dest_index.get(&key).copied()
                }
            };
            // Counted from when it was first seen, or appeared again
            // (it was in the previous tick only if its service was).
            let start_conns = found
                .and_then(|i| prev_dests.get(i))
                .map_or(d.stats.conns, |pd| pd.start_conns);
            self.next_dests.push(TrackedDest {
                key,
                before: DestBefore::at(found),
                counters: Counters::of(&d.stats),
                start_conns,
            });
        }
        // Re-created or new: its counters start from now.
        let start_conns = prev.map_or(e.service.stats.conns, |p| p.start_conns);
        self.next.push(Tracked {
            id,
            counters: Counters::of(&e.service.stats),
            start_conns,
            dests: dests_from..self.next_dests.len(),
            before: found,
        });
    }

    /// Ends the tick: hands the deltas of each service taken, in the
    /// tick's order, then of each service of the previous tick that was
    /// not in this one (in the previous tick's order), to `each`; then
    /// remembers this tick, even if `each` failed, whose error it returns.
    pub fn finish_tick<E>(
        &mut self,
        mut each: impl FnMut(ServiceView<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        let result = self.hand_out_deltas(&mut each);
        std::mem::swap(&mut self.prev, &mut self.next);
        std::mem::swap(&mut self.prev_dests, &mut self.next_dests);
        self.indexed = false;
        self.prev_at = self.tick_at.take();
        self.ticks += 1;
        result
    }

    /// The one place deltas are computed: from the counters of the tick
    /// taken (`next`) and of the previous one (`prev`).
    fn hand_out_deltas<E>(
        &mut self,
        each: &mut impl FnMut(ServiceView<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        let first_tick = self.ticks == 0;
        for t in &self.next {
            let prev = t.before.and_then(|i| self.prev.get(i));
            let presence = service_presence(prev.is_some(), first_tick);
            let prev_dests = prev
                .and_then(|p| self.prev_dests.get(p.dests.clone()))
                .unwrap_or(&[]);
            let dests = self.next_dests.get(t.dests.clone()).unwrap_or(&[]);
            self.rows.clear();
            self.dests_seen.clear();
            self.dests_seen.resize(prev_dests.len(), false);
            for d in dests {
                let found = d.before.position();
                if let Some(seen) = found.and_then(|i| self.dests_seen.get_mut(i)) {
                    *seen = true;
                }
                let pd = found.and_then(|i| prev_dests.get(i));
                let delta = match (prev, pd, self.elapsed) {
                    (Some(_), Some(pd), Some(el)) => {
                        Delta::since(&pd.counters, &d.counters, el)
                    }
                    _ => Delta::default(),
                };
                self.rows.push(DestView {
                    addr: d.key.0,
                    port: d.key.1,
                    presence: dest_presence(prev.is_some(), pd.is_some(), presence),
                    delta,
                    conns_since_start: d.counters.conns.saturating_sub(d.start_conns),
                    share_percent: None,
                });
            }
            let total = share_total(&self.rows);
            if total > 0 {
                for r in self.rows.iter_mut() {
                    r.share_percent =
                        Some(r.conns_since_start as f64 * 100.0 / total as f64);
                }
            }
            for (pd, _) in prev_dests
                .iter()
                .zip(&self.dests_seen)
                .filter(|(_, seen)| !**seen)
            {
                self.rows.push(vanished_dest(pd));
            }
            let delta = match (prev, self.elapsed) {
                (Some(p), Some(el)) => Delta::since(&p.counters, &t.counters, el),
                _ => Delta::default(),
            };
            each(ServiceView {
                id: t.id,
                presence,
                delta,
                conns_since_start: t.counters.conns.saturating_sub(t.start_conns),
                real_servers: &self.rows,
            })?;
        }
        for (p, _) in self.prev.iter().zip(&self.seen).filter(|(_, seen)| !**seen) {
            self.rows.clear();
            let dests = self.prev_dests.get(p.dests.clone()).unwrap_or(&[]);
            self.rows.extend(dests.iter().map(vanished_dest));
            each(ServiceView {
                id: p.id,
                presence: Presence::Vanished,
                delta: Delta::default(),
                conns_since_start: 0,
                real_servers: &self.rows,
            })?;
        }
        Ok(())
    }
}

fn vanished_dest(pd: &TrackedDest) -> DestView {
    DestView {
        addr: pd.key.0,
        port: pd.key.1,
        presence: Presence::Vanished,
        delta: Delta::default(),
        conns_since_start: 0,
        share_percent: None,
    }
}

/// An address as `Display` writes it; IPv4 without `core::fmt`.
fn addr_text(addr: &IpAddr) -> String {
    match addr {
        IpAddr::V4(a) => {
            let mut text = Vec::with_capacity(15);
            crate::output::common::push_ipv4(&mut text, a);
            String::from_utf8(text).unwrap_or_default()
        }
        IpAddr::V6(a) => a.to_string(),
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
    // Its buffers are reused from tick to tick.
    let mut tick_writer = TickWriter::default();
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
        } else if screen.is_none() && opts.style == OutputStyle::Json {
            // Streamed as `-L --json` streams it, deltas computed on the way.
            let info = s.info;
            let header = TickHeader {
                tick,
                timestamp: &stamp,
                interval_ms,
                info: &info,
            };
            let failure = stream_json_tick(
                s,
                list,
                JsonTick {
                    header,
                    now,
                    tracker: &mut tracker,
                    writer: &mut tick_writer,
                },
                io.stdout,
            )?;
            if let Some(failure) = failure {
                return Ok(failure);
            }
        } else {
            // One read of the table per tick, whatever is shown.
            let mut raw = match render::read_raw(s, list) {
                Ok(e) => e,
                Err(e) => return listing_failure(&e),
            };
            if let Some(screen) = screen.as_deref_mut() {
                render::sort_in_listing_order(&mut raw, list.format.nosort);
                let entries = raw;
                let deltas = tracker.update(&entries, now);
                let rows = frame_rows(&entries, &deltas);
                screen.draw_rows(io.stdout, &stamp, interval, interval_ms, rows)?;
            } else {
                // The listing as it is: no deltas to show, none computed.
                io.stdout
                    .write_all(stamp_line(interval, &stamp).as_bytes())?;
                render::write_entries(s, list, opts.style, opts.pretty, &mut raw, io)?;
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

/// The status and message of a listing that could not be read, as the
/// listing reports them (said once the terminal is restored).
fn listing_failure(e: &IpvsError) -> io::Result<(i32, Option<String>)> {
    let mut err = Vec::new();
    let mut stdin = io::empty();
    let mut nothing = io::sink();
    let rc = render::listing_failed(
        &mut Streams {
            stdin: &mut stdin,
            stdout: &mut nothing,
            stderr: &mut err,
        },
        e,
    )?;
    Ok((rc, Some(String::from_utf8_lossy(&err).into_owned())))
}

/// What one `--watch --json` tick of a listing of services needs besides
/// the table.
struct JsonTick<'a> {
    header: TickHeader<'a>,
    /// When the tick was taken.
    now: Instant,
    tracker: &'a mut Tracker,
    writer: &'a mut TickWriter,
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
fn stream_json_tick(
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
            crate::output::sort::sort_dests(&mut entry.dests);
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
    pub fn begin(&mut self, header: TickHeader, tracker: &mut Tracker, now: Instant) {
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
        tracker: &mut Tracker,
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
        tracker: &mut Tracker,
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
    tracker: &mut Tracker,
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
