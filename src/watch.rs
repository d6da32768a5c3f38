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
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::cli::{ListCmd, ListWhat, OutputOptions, OutputStyle};
use crate::model::{Dest, ServiceEntry, ServiceId, Stats};
use crate::render::{self, json, table};
use crate::run::{EXIT_LIST, Session, Streams};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_interrupt(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Exit status after Ctrl-C, as a shell reports a SIGINT death.
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
    pub cps: u64,
    pub inpps: u64,
    pub outpps: u64,
    pub inbps: u64,
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

/// One NDJSON line of `--watch --json`.
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
    start: HashMap<ServiceId, (Stats, HashMap<DestKey, Stats>)>,
    prev: HashMap<ServiceId, (ServiceEntry, Instant)>,
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
        let mut seen = HashMap::with_capacity(entries.len());
        for e in entries {
            let id = e.service.id;
            let start = self.start.entry(id).or_insert_with(|| {
                (
                    e.service.stats,
                    e.dests.iter().map(|d| (dest_key(d), d.stats)).collect(),
                )
            });
            for d in &e.dests {
                start.1.entry(dest_key(d)).or_insert(d.stats);
            }
            let prev = self.prev.get(&id);
            // Everything on the first tick is simply present.
            let presence = if prev.is_some() || self.ticks == 0 {
                Presence::Present
            } else {
                Presence::Appeared
            };
            let (svc_delta, prev_dests) = match prev {
                Some((p, at)) => (
                    Delta::between(&p.service.stats, &e.service.stats, now - *at),
                    Some((p, *at)),
                ),
                None => (Delta::default(), None),
            };
            let since: Vec<u64> = e
                .dests
                .iter()
                .map(|d| {
                    let base = start.1.get(&dest_key(d)).copied().unwrap_or_default();
                    d.stats.conns.saturating_sub(base.conns)
                })
                .collect();
            let total: u64 = since.iter().sum();
            let mut rs: Vec<DestDelta> = e
                .dests
                .iter()
                .zip(&since)
                .map(|(d, since)| {
                    let (presence, delta) = match prev_dests {
                        Some((p, at)) => {
                            match p.dests.iter().find(|x| dest_key(x) == dest_key(d)) {
                                Some(pd) => (
                                    Presence::Present,
                                    Delta::between(&pd.stats, &d.stats, now - at),
                                ),
                                None => (Presence::Appeared, Delta::default()),
                            }
                        }
                        None => (presence, Delta::default()),
                    };
                    DestDelta {
                        addr: d.addr.to_string(),
                        port: d.port,
                        presence,
                        delta,
                        conns_since_start: *since,
                        share_percent: (total > 0)
                            .then(|| (*since as f64) * 100.0 / (total as f64)),
                    }
                })
                .collect();
            if let Some((p, _)) = prev_dests {
                for pd in &p.dests {
                    if !e.dests.iter().any(|d| dest_key(d) == dest_key(pd)) {
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
            out.push(ServiceDelta {
                service: table::service_label(&e.service),
                presence,
                delta: svc_delta,
                conns_since_start: e.service.stats.conns.saturating_sub(start.0.conns),
                real_servers: rs,
            });
            seen.insert(id, (e.clone(), now));
        }
        for (id, (p, _)) in &self.prev {
            if !seen.contains_key(id) {
                out.push(ServiceDelta {
                    service: table::service_label(&p.service),
                    presence: Presence::Vanished,
                    delta: Delta::default(),
                    conns_since_start: 0,
                    real_servers: Vec::new(),
                });
            }
        }
        self.prev = seen;
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
    // SAFETY: the handler only stores to an atomic, which is
    // async-signal-safe.
    let _ =
        unsafe { nix::sys::signal::signal(nix::sys::signal::Signal::SIGINT, handler) };
    INTERRUPTED.store(false, Ordering::SeqCst);

    let mut screen = if on_terminal {
        Some(Screen::enter(io.stdout)?)
    } else {
        None
    };
    let result = watch_loop(s, list, opts, interval, screen.as_mut(), io);
    if let Some(screen) = screen {
        screen.leave(io.stdout)?;
    }
    let rc = result?;
    if INTERRUPTED.load(Ordering::SeqCst) {
        return Ok(EXIT_INTERRUPTED);
    }
    Ok(rc)
}

fn watch_loop(
    s: &mut Session,
    list: &ListCmd,
    opts: &OutputOptions,
    interval: Duration,
    mut screen: Option<&mut Screen>,
    io: &mut Streams,
) -> io::Result<i32> {
    let mut tracker = Tracker::default();
    let mut tick: u64 = 0;
    let mut last: Option<Instant> = None;
    let table_like = matches!(list.what, ListWhat::Table | ListWhat::Service(_));
    loop {
        tick += 1;
        let now = Instant::now();
        let stamp = rfc3339(SystemTime::now());
        let interval_ms = last.map(|l| (now - l).as_millis() as u64);
        last = Some(now);

        if !table_like {
            // Timeouts, daemons and connections: the ordinary listing,
            // headed by a timestamp.
            writeln!(io.stdout, "Every {:.1}s: {stamp}", interval.as_secs_f64())?;
            let plain = OutputOptions {
                watch: None,
                ..*opts
            };
            let inv_style = plain.style;
            let rc = match inv_style {
                OutputStyle::Text => crate::run::list_text(s, list, io)?,
                style => render::list(s, list, style, plain.pretty, io)?,
            };
            if rc != 0 {
                return Ok(rc);
            }
        } else {
            let entries = match render::read_entries(s, list) {
                Ok(e) => e,
                Err(e) => {
                    writeln!(io.stderr, "{e}")?;
                    return Ok(EXIT_LIST);
                }
            };
            let deltas = tracker.update(&entries, now);
            if let Some(screen) = screen.as_deref_mut() {
                let rows = frame_rows(&entries, &deltas);
                screen.draw(io.stdout, &stamp, interval, &rows)?;
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
                writeln!(io.stdout, "Every {:.1}s: {stamp}", interval.as_secs_f64())?;
                let plain = OutputOptions {
                    watch: None,
                    ..*opts
                };
                match plain.style {
                    OutputStyle::Text => {
                        crate::run::list_text(s, list, io)?;
                    }
                    style => {
                        render::list(s, list, style, plain.pretty, io)?;
                    }
                }
            }
            io.stdout.flush()?;
        }
        io.stdout.flush()?;
        if opts.count.is_some_and(|c| tick >= c) {
            return Ok(0);
        }
        if !sleep_unless_interrupted(now + interval) {
            return Ok(0);
        }
    }
}

/// Sleeps until `deadline`; false if Ctrl-C came first.
fn sleep_unless_interrupted(deadline: Instant) -> bool {
    loop {
        if INTERRUPTED.load(Ordering::SeqCst) {
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
        for r in &d.real_servers {
            let dest = entry.and_then(|e| {
                e.dests
                    .iter()
                    .find(|x| x.addr.to_string() == r.addr && x.port == r.port)
            });
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
pub struct Screen {
    previous: HashMap<String, Vec<String>>,
}

impl Screen {
    fn enter(out: &mut dyn Write) -> io::Result<Screen> {
        // Alternate screen, cursor hidden.
        out.write_all(b"\x1b[?1049h\x1b[?25l")?;
        out.flush()?;
        Ok(Screen {
            previous: HashMap::new(),
        })
    }

    fn leave(self, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(b"\x1b[?25h\x1b[?1049l")?;
        out.flush()
    }

    /// Draws one frame; cells that differ from the last frame's cell of
    /// the same row and column are shown in reverse video.
    pub fn draw(
        &mut self,
        out: &mut dyn Write,
        stamp: &str,
        interval: Duration,
        rows: &[Row],
    ) -> io::Result<()> {
        let mut buf = Vec::with_capacity(rows.len() * 100 + 256);
        buf.extend_from_slice(b"\x1b[H\x1b[2J");
        let _ = write!(
            buf,
            "Every {:.1}s: ipvsadm --watch    {stamp}\r\n\r\n",
            interval.as_secs_f64()
        );
        for (name, width) in COLUMNS {
            let _ = write!(buf, "{name:<width$} ");
        }
        buf.extend_from_slice(b"\r\n");
        let height = terminal_rows().unwrap_or(u16::MAX) as usize;
        let mut next = HashMap::with_capacity(rows.len());
        for (n, row) in rows.iter().enumerate() {
            if n + 4 < height {
                let before = self.previous.get(&row.key);
                for (i, ((_, width), cell)) in COLUMNS.iter().zip(&row.cells).enumerate()
                {
                    let changed = before.is_some_and(|b| b.get(i) != Some(cell));
                    if changed {
                        buf.extend_from_slice(b"\x1b[7m");
                    }
                    let _ = write!(buf, "{cell:<width$}", width = *width);
                    if changed {
                        buf.extend_from_slice(b"\x1b[0m");
                    }
                    buf.push(b' ');
                }
                buf.extend_from_slice(b"\r\n");
            }
            next.insert(row.key.clone(), row.cells.clone());
        }
        self.previous = next;
        out.write_all(&buf)?;
        out.flush()
    }
}

fn terminal_rows() -> Option<u16> {
    let mut ws = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes a `winsize` into the pointer we pass, which
    // points to a live, properly aligned local.
    let rc = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut ws) };
    (rc == 0 && ws.ws_row > 0).then_some(ws.ws_row)
}
