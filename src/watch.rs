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
use crate::model::{Dest, ServiceEntry, ServiceId, Stats};
use crate::render::{self, json, table};
use crate::run::{Session, Streams};

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

/// What the watch remembers between ticks.
#[derive(Default)]
pub struct Tracker {
    /// Counters of each service and real server when first seen (or when
    /// it last appeared again).
    start: HashMap<ServiceId, (Stats, HashMap<DestKey, Stats>)>,
    /// The previous snapshot, in listing order, and when it was taken.
    prev: Vec<ServiceEntry>,
    prev_at: Option<Instant>,
    ticks: u64,
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
        // Indexes, so that a tick costs O(services + real servers).
        let prev_index: HashMap<ServiceId, &ServiceEntry> =
            self.prev.iter().map(|p| (p.service.id, p)).collect();
        let current: std::collections::HashSet<ServiceId> =
            entries.iter().map(|e| e.service.id).collect();
        for e in entries {
            let id = e.service.id;
            let prev = prev_index.get(&id).copied();
            let prev_dests: HashMap<DestKey, &Dest> = prev
                .map(|p| p.dests.iter().map(|d| (dest_key(d), d)).collect())
                .unwrap_or_default();
            // Everything on the first tick is simply present.
            let presence = match (prev, first) {
                (Some(_), _) | (None, true) => Presence::Present,
                (None, false) => Presence::Appeared,
            };
            if presence == Presence::Appeared {
                // Re-created: its counters start again from zero.
                self.start.remove(&id);
            }
            let start = self.start.entry(id).or_insert_with(|| {
                (
                    e.service.stats,
                    e.dests.iter().map(|d| (dest_key(d), d.stats)).collect(),
                )
            });
            let mut rs: Vec<DestDelta> = Vec::with_capacity(e.dests.len());
            for d in &e.dests {
                let pd = prev_dests.get(&dest_key(d)).copied();
                let (dpresence, delta) = match (prev, pd, elapsed) {
                    (Some(_), Some(pd), Some(el)) => {
                        (Presence::Present, Delta::between(&pd.stats, &d.stats, el))
                    }
                    (Some(_), None, _) => (Presence::Appeared, Delta::default()),
                    _ => (presence, Delta::default()),
                };
                if dpresence == Presence::Appeared {
                    start.1.insert(dest_key(d), d.stats);
                }
                let base = *start.1.entry(dest_key(d)).or_insert(d.stats);
                rs.push(DestDelta {
                    addr: d.addr.to_string(),
                    port: d.port,
                    presence: dpresence,
                    delta,
                    conns_since_start: d.stats.conns.saturating_sub(base.conns),
                    share_percent: None,
                });
            }
            let total: u64 = rs.iter().map(|r| r.conns_since_start).sum();
            if total > 0 {
                for r in &mut rs {
                    r.share_percent =
                        Some(r.conns_since_start as f64 * 100.0 / total as f64);
                }
            }
            if let Some(p) = prev {
                let now_dests: std::collections::HashSet<DestKey> =
                    e.dests.iter().map(dest_key).collect();
                for pd in &p.dests {
                    if !now_dests.contains(&dest_key(pd)) {
                        start.1.remove(&dest_key(pd));
                        rs.push(DestDelta {
                            addr: pd.addr.to_string(),
                            port: pd.port,
                            presence: Presence::Vanished,
                            delta: Delta::default(),
                            conns_since_start: 0,
                            share_percent: None,
                        });
                    }
                }
            }
            let svc_delta = match (prev, elapsed) {
                (Some(p), Some(el)) => {
                    Delta::between(&p.service.stats, &e.service.stats, el)
                }
                _ => Delta::default(),
            };
            out.push(ServiceDelta {
                service: table::service_label(&e.service),
                presence,
                delta: svc_delta,
                conns_since_start: e.service.stats.conns.saturating_sub(start.0.conns),
                real_servers: rs,
            });
        }
        for p in &self.prev {
            if !current.contains(&p.service.id) {
                self.start.remove(&p.service.id);
                out.push(ServiceDelta {
                    service: table::service_label(&p.service),
                    presence: Presence::Vanished,
                    delta: Delta::default(),
                    conns_since_start: 0,
                    real_servers: p
                        .dests
                        .iter()
                        .map(|pd| DestDelta {
                            addr: pd.addr.to_string(),
                            port: pd.port,
                            presence: Presence::Vanished,
                            delta: Delta::default(),
                            conns_since_start: 0,
                            share_percent: None,
                        })
                        .collect(),
                });
            }
        }
        self.prev = entries.to_vec();
        self.prev_at = Some(now);
        self.ticks += 1;
        out
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
        } else {
            // One read of the table per tick, whatever is shown.
            let raw = match render::read_raw(s, list) {
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
            let entries = render::in_listing_order(&raw, list.format.nosort);
            let deltas = tracker.update(&entries, now);
            if let Some(screen) = screen.as_deref_mut() {
                let rows = frame_rows(&entries, &deltas);
                screen.draw(io.stdout, &stamp, interval, interval_ms, &rows)?;
            } else if opts.style == OutputStyle::Json {
                let doc = WatchTick {
                    schema_version: json::SCHEMA_VERSION,
                    tick,
                    timestamp: stamp,
                    interval_ms,
                    ipvs: (&s.info).into(),
                    services: entries.iter().map(json::JsonService::from).collect(),
                    deltas,
                };
                serde_json::to_writer(&mut *io.stdout, &doc)?;
                io.stdout.write_all(b"\n")?;
            } else {
                io.stdout
                    .write_all(stamp_line(interval, &stamp).as_bytes())?;
                render::write_entries(s, list, opts.style, opts.pretty, &raw, io)?;
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
    previous: HashMap<String, Vec<String>>,
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
        let mut next = HashMap::with_capacity(rows.len());
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
            next.insert(row.key.clone(), row.cells.clone());
        }
        self.previous = next;
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
