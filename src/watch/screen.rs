//! The full-screen terminal view: rows of a tick, redrawn in place with
//! the cells that changed highlighted.

use std::io::{self, Write};
use std::time::Duration;

use super::seconds;
use super::tracker::{FastMap, Presence, ServiceDelta};
use crate::model::ServiceEntry;
use crate::render::{self, table};

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
                    .map(|e| e.service.scheduler.to_string())
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
    /// A line under the header (the kernel's estimator is off).
    notice: Option<String>,
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

    pub(super) fn enter(out: &mut dyn Write) -> io::Result<Screen> {
        out.write_all(ENTER)?;
        out.flush()?;
        Ok(Screen::default())
    }

    /// Shows `notice` under the header from the next frame on.
    pub(super) fn set_notice(&mut self, notice: Option<String>) {
        self.notice = notice;
    }

    pub(super) fn leave(self, out: &mut dyn Write) -> io::Result<()> {
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
        buf.extend_from_slice(b"\r\n");
        if let Some(notice) = &self.notice {
            buf.extend_from_slice(clip(notice, cols).as_bytes());
            buf.extend_from_slice(b"\r\n");
        }
        buf.extend_from_slice(b"\r\n");
    }

    /// Lines the header takes.
    fn header_lines(&self) -> usize {
        2 + usize::from(self.notice.is_some())
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
            if n + 2 + self.header_lines() < height {
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
            if n + 1 + self.header_lines() >= height {
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
