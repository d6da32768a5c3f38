//! What a drain says: the progress while it waits (one line redrawn in
//! place on a terminal, a line per look otherwise) and how it ended.

use std::io::{self, Write};
use std::time::Duration;

use super::{DrainOutcome, Remaining};
use crate::model::{Dest, Service};
use crate::render::table::{dest_label, service_label};
use crate::session::Streams;

/// Back to the start of the line, and clear it.
const REDRAW: &str = "\r\x1b[K";

/// The progress of one drain, written to `out`. It is only shown: a
/// failure to write it (a closed pipe) stops the showing, not the drain.
pub struct Progress<'a> {
    out: &'a mut dyn Write,
    /// Redraw one line in place instead of writing a line each time.
    terminal: bool,
    /// The terminal's width, if fixed (else asked at each redraw): a line
    /// that wrapped could not be redrawn in place.
    width: Option<usize>,
    /// A line is on the terminal that the next redraw replaces.
    drawn: bool,
    /// Writing failed: nothing more is written.
    failed: bool,
}

impl<'a> Progress<'a> {
    /// Progress on `out`, redrawn in place if it is a `terminal` (as wide
    /// as standard output's terminal says).
    pub fn new(out: &'a mut dyn Write, terminal: bool) -> Progress<'a> {
        Progress {
            out,
            terminal,
            width: None,
            drawn: false,
            failed: false,
        }
    }

    /// Progress redrawn in place on a terminal `width` columns wide.
    pub fn on_terminal(out: &'a mut dyn Write, width: usize) -> Progress<'a> {
        Progress {
            width: Some(width),
            ..Progress::new(out, true)
        }
    }

    /// Shows what is left on `server` and how long the drain may still wait.
    pub fn update(&mut self, server: &str, remaining: Remaining, left: Duration) {
        let mut line = progress_line(server, remaining, left);
        if self.terminal {
            let width = self.width.or_else(|| {
                crate::render::terminal_size().map(|(columns, _)| usize::from(columns))
            });
            // One column short of the width: a full line would wrap on some
            // terminals. The text is ASCII.
            if let Some(width) = width {
                line.truncate(width.saturating_sub(1).max(1));
            }
            self.write(&format!("{REDRAW}{line}"));
            self.drawn = true;
        } else {
            self.write(&format!("{line}\n"));
        }
    }

    /// Clears the progress line, if one is drawn, for what comes next.
    pub fn finish(&mut self) {
        if self.drawn {
            self.write(REDRAW);
            self.drawn = false;
        }
    }

    fn write(&mut self, text: &str) {
        if !self.failed {
            self.failed = self
                .out
                .write_all(text.as_bytes())
                .and_then(|()| self.out.flush())
                .is_err();
        }
    }
}

/// `draining 10.10.1.2:80: 3 connections left (1 active, 2 inactive, 0
/// persistent), 297 s to go`
pub fn progress_line(server: &str, remaining: Remaining, left: Duration) -> String {
    format!(
        "draining {server}: {} left {}, {} s to go",
        connections(remaining),
        breakdown(remaining),
        left.as_secs_f64().ceil() as u64
    )
}

/// `3 connections (1 active, 2 inactive, 0 persistent)`
fn describe(r: Remaining) -> String {
    format!("{} {}", connections(r), breakdown(r))
}

/// `3 connections`, `1 connection`
fn connections(r: Remaining) -> String {
    let total = r.total();
    format!("{total} connection{}", if total == 1 { "" } else { "s" })
}

/// `(1 active, 2 inactive, 0 persistent)`
fn breakdown(r: Remaining) -> String {
    format!(
        "({} active, {} inactive, {} persistent)",
        r.active, r.inactive, r.templates
    )
}

/// Says how the drain of `dest` ended: the deletion on stdout, anything
/// else on stderr.
pub fn report(
    streams: &mut Streams,
    service: &Service,
    dest: &Dest,
    outcome: &DrainOutcome,
) -> io::Result<()> {
    let server = format!(
        "real server {} of {}",
        dest_label(dest),
        service_label(service)
    );
    match outcome {
        DrainOutcome::Removed { waited } => {
            writeln!(
                streams.stdout,
                "{server}: no connections left, deleted after {} s",
                waited.as_secs()
            )?;
            streams.stdout.flush()
        }
        DrainOutcome::TimedOut { remaining, waited } => writeln!(
            streams.stderr,
            "{server} still has {} after {} s: left in place with weight 0",
            describe(*remaining),
            waited.as_secs()
        ),
        DrainOutcome::Stopped {
            signal,
            remaining,
            waited,
        } => writeln!(
            streams.stderr,
            "{server} still has {} after {} s, stopped by {}: left in place with weight 0",
            describe(*remaining),
            waited.as_secs(),
            signal_name(*signal)
        ),
        DrainOutcome::Vanished => writeln!(
            streams.stderr,
            "{server} was deleted by someone else while it drained"
        ),
        DrainOutcome::Reweighted { weight } => writeln!(
            streams.stderr,
            "{server} was given weight {weight} by someone else while it drained: left in place"
        ),
    }
}

fn signal_name(signal: i32) -> String {
    match signal {
        libc::SIGINT => "SIGINT".to_string(),
        libc::SIGTERM => "SIGTERM".to_string(),
        libc::SIGHUP => "SIGHUP".to_string(),
        other => format!("signal {other}"),
    }
}
