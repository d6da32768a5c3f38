//! The rate tracker: what the watch remembers between ticks, and the
//! per-second deltas, appearances and shares computed from two ticks'
//! counters.

use std::cell::RefCell;
use std::net::IpAddr;
use std::ops::Range;
use std::time::{Duration, Instant};

use serde::ser::Error as _;
use serde::{Serialize, Serializer};

use crate::model::{Dest, ServiceEntry, ServiceId, Stats};
use crate::render::{json, table};

/// Identity of a real server inside its service.
pub(super) type DestKey = (IpAddr, u16);

pub(super) fn dest_key(d: &Dest) -> DestKey {
    (d.addr, d.port)
}

/// Per-second rates computed from two counter snapshots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
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
        Delta::since(
            &CounterSnapshot::of(prev),
            &CounterSnapshot::of(now),
            elapsed,
        )
    }

    /// Rates from `prev` to `now` over `elapsed`, from the counters the
    /// tracker kept; a counter that went backwards (zeroed) counts as no
    /// traffic.
    fn since(prev: &CounterSnapshot, now: &CounterSnapshot, elapsed: Duration) -> Delta {
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    Appeared,
    Present,
    Vanished,
}

/// Computed view of one real server at one tick, owned (the full-screen
/// view's rows are made from these).
#[derive(Debug, Clone, PartialEq)]
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

/// Computed view of one service at one tick, owned.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceDelta {
    /// The service as the text listing names it (`TCP 10.0.0.1:80`).
    pub service: String,
    pub presence: Presence,
    pub delta: Delta,
    pub conns_since_start: u64,
    pub real_servers: Vec<DestDelta>,
}

/// The counters a [`Delta`] is computed from: all the watch keeps of a
/// service's or real server's [`Stats`] between ticks.
#[derive(Debug, Clone, Copy)]
pub(super) struct CounterSnapshot {
    conns: u64,
    inpkts: u64,
    outpkts: u64,
    inbytes: u64,
    outbytes: u64,
}

impl CounterSnapshot {
    fn of(s: &Stats) -> CounterSnapshot {
        CounterSnapshot {
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
/// [`RateTracker::begin_tick`], then [`RateTracker::next_service`] for each
/// service in listing order, which keeps its counters and where it and
/// its real servers were in the previous tick. [`RateTracker::finish_tick`]
/// then computes the tick's deltas from both ticks' counters, a service
/// at a time; its views borrow a buffer reused from service to service
/// and tick to tick, so a tick allocates nothing per service once the
/// buffers have grown.
#[derive(Default)]
pub struct RateTracker {
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
    counters: CounterSnapshot,
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
    counters: CounterSnapshot,
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
/// tracker's buffers instead of owning text. Serialized, it is a member of
/// a `--watch --json` tick's `deltas`, keys in this order.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ServiceView<'a> {
    /// `"service"`: the service as the text listing names it
    /// (`TCP 10.0.0.1:80`).
    #[serde(rename = "service", serialize_with = "service_label")]
    pub id: ServiceId,
    pub presence: Presence,
    pub delta: Delta,
    pub conns_since_start: u64,
    /// The listed real servers in listing order, then those that vanished.
    pub real_servers: &'a [DestView],
}

/// One real server's deltas at one tick: a [`DestDelta`] with its address
/// as is.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DestView {
    #[serde(serialize_with = "address")]
    pub addr: IpAddr,
    pub port: u16,
    pub presence: Presence,
    pub delta: Delta,
    /// New connections since the watch started.
    pub conns_since_start: u64,
    /// Share (0-100) of the service's new connections since the watch
    /// started; `null` while the service has had none.
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
/// are of: in 128 bits, so that no counters can overflow it and every
/// share is a percentage from 0 to 100, however absurd the counters.
fn share_total(rows: &[DestView]) -> u128 {
    rows.iter().map(|r| u128::from(r.conns_since_start)).sum()
}

/// `part`'s share of `total` in percent. The floating-point division can
/// round the one real server that has all of a service's connections up
/// to 100.00000000000001: a share is at most 100.
fn share_percent(part: u64, total: u128) -> f64 {
    (part as f64 * 100.0 / total as f64).min(100.0)
}

impl RateTracker {
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
    /// previous tick. Its deltas come with [`RateTracker::finish_tick`].
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
                counters: CounterSnapshot::of(&d.stats),
                start_conns,
            });
        }
        // Re-created or new: its counters start from now.
        let start_conns = prev.map_or(e.service.stats.conns, |p| p.start_conns);
        self.next.push(Tracked {
            id,
            counters: CounterSnapshot::of(&e.service.stats),
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
                    r.share_percent = Some(share_percent(r.conns_since_start, total));
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
        IpAddr::V4(a) => crate::output::common::ipv4_text(a, &mut [0; 15]).to_owned(),
        IpAddr::V6(a) => a.to_string(),
    }
}

/// A hash map for keys the watch makes from the table itself (service
/// ids, addresses, row labels): no need for SipHash's cost.
pub(super) type FastMap<K, V> = rustc_hash::FxHashMap<K, V>;

/// `"service"` of a member of `deltas`: the service as the text listing
/// names it, written from a buffer reused across services.
fn service_label<S: Serializer>(
    id: &ServiceId,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    thread_local! {
        static LABEL: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    }
    LABEL.with(|label| {
        let mut label = label
            .try_borrow_mut()
            .map_err(|_| S::Error::custom("the label buffer is busy"))?;
        label.clear();
        table::push_service_id_label(&mut label, id);
        // Protocol names, numbers and addresses: ASCII.
        let text = std::str::from_utf8(&label).map_err(S::Error::custom)?;
        serializer.serialize_str(text)
    })
}

/// An address field of the deltas, as the documents write addresses.
fn address<S: Serializer>(addr: &IpAddr, serializer: S) -> Result<S::Ok, S::Error> {
    json::Addr(*addr).serialize(serializer)
}
