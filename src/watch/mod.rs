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

use std::io::{self, IsTerminal};
use std::time::{Duration, Instant, SystemTime};

use crate::error::IpvsError;
use crate::listing::{self, ListCmd, OutputOptions, OutputStyle};
use crate::session::{EXIT_LIST, Session, Streams};
use crate::{render, signals};

use ndjson::{JsonTick, TickWriter, stream_json_tick, write_other_tick};
pub use ndjson::{KeysSorted, OtherTick, TickHeader, WatchTick, write_tick};
pub use screen::{ENTER, LEAVE, Row, Screen, frame_rows};
pub use tracker::{
    Delta, DestDelta, DestView, Presence, RateTracker, ServiceDelta, ServiceView,
};

/// Runs the watch loop until `--count` ticks, Ctrl-C, or a closed pipe.
/// Ctrl-C, SIGTERM and SIGHUP restore the terminal, then end the watch
/// with the shell's status for the signal ([`signals`]).
pub fn run(
    session: &mut Session,
    list: &ListCmd,
    opts: &OutputOptions,
    streams: &mut Streams,
) -> io::Result<i32> {
    let interval = Duration::from_millis(opts.watch.unwrap_or_default().0.max(1));
    let on_terminal = io::stdout().is_terminal() && opts.style != OutputStyle::Json;
    signals::catch();

    let mut screen = if on_terminal {
        Some(Screen::enter(streams.stdout)?)
    } else {
        None
    };
    let result = watch_loop(session, list, opts, interval, screen.as_mut(), streams);
    if let Some(screen) = screen {
        // Restore the terminal before anything else is said.
        screen.leave(streams.stdout)?;
    }
    let (rc, failure) = result?;
    if let Some(message) = failure {
        streams.stderr.write_all(message.as_bytes())?;
    }
    Ok(signals::caught().map_or(rc, signals::exit_status))
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
    session: &mut Session,
    list: &ListCmd,
    opts: &OutputOptions,
    interval: Duration,
    mut screen: Option<&mut Screen>,
    streams: &mut Streams,
) -> io::Result<(i32, Option<String>)> {
    let mut tracker = RateTracker::default();
    // A listing of services says on every tick when the kernel's
    // estimator is off, with the namespace's own rates.
    let mut estimator = if list.what.lists_services() {
        estimator::EstimatorOff::detect()
    } else {
        None
    };
    let mut tick: u64 = 0;
    let mut last: Option<Instant> = None;
    let services = list.what.lists_services();
    // Its buffers are reused from tick to tick.
    let mut tick_writer = TickWriter::default();
    loop {
        tick += 1;
        let now = Instant::now();
        let stamp = rfc3339(SystemTime::now());
        let notice = estimator.as_mut().map(|e| e.line(now));
        if let Some(screen) = screen.as_deref_mut() {
            screen.set_notice(notice.clone());
        } else if let Some(notice) = &notice {
            // Beside the document in `--json` lines; a comment line
            // after the stamp line otherwise.
            if opts.style == OutputStyle::Json {
                writeln!(streams.stderr, "ipvsadm: {notice}")?;
            }
        }
        let stamp_line = |interval, stamp: &str| {
            let mut line = stamp_line(interval, stamp);
            if let Some(notice) = notice
                .as_deref()
                .filter(|_| opts.style != OutputStyle::Json)
            {
                line.push_str("# ");
                line.push_str(notice);
                line.push('\n');
            }
            line
        };
        let interval_ms = last.map(|l| (now - l).as_millis() as u64);
        last = Some(now);
        // What a `--json` tick line says besides its payload.
        let info = session.info;
        let header = TickHeader {
            tick,
            timestamp: &stamp,
            interval_ms,
            info: &info,
        };

        if !services && screen.is_none() && opts.style == OutputStyle::Json {
            // Timeouts, daemons and connections: their document's payload
            // in a tick line.
            if let Some(failure) =
                write_other_tick(session, list, header, streams.stdout)?
            {
                return Ok(failure);
            }
        } else if !services {
            // Timeouts, daemons and connections: the ordinary listing,
            // rendered into a buffer, then shown per mode.
            let mut body = Vec::new();
            let mut err = Vec::new();
            let mut stdin = io::empty();
            let rc = {
                let mut sub = Streams {
                    stdin: &mut stdin,
                    stdout: &mut body,
                    stderr: &mut err,
                };
                render::list(session, list, opts.style, false, &mut sub)?
            };
            if rc != 0 {
                return Ok((rc, Some(String::from_utf8_lossy(&err).into_owned())));
            }
            if let Some(screen) = screen.as_deref_mut() {
                screen.draw_text(streams.stdout, &stamp, interval, interval_ms, &body)?;
            } else {
                streams
                    .stdout
                    .write_all(stamp_line(interval, &stamp).as_bytes())?;
                streams.stdout.write_all(&body)?;
            }
        } else if screen.is_none() && opts.style == OutputStyle::Text {
            // Streamed as `-L` streams it, a service at a time: a refresh
            // costs one listing, and nothing is computed that is not shown.
            streams
                .stdout
                .write_all(stamp_line(interval, &stamp).as_bytes())?;
            let mut err = Vec::new();
            let mut stdin = io::empty();
            let rc = render::text::list(
                session,
                list,
                &mut Streams {
                    stdin: &mut stdin,
                    stdout: &mut *streams.stdout,
                    stderr: &mut err,
                },
            )?;
            if rc != 0 {
                return Ok((rc, Some(String::from_utf8_lossy(&err).into_owned())));
            }
        } else if screen.is_none() && opts.style == OutputStyle::Json {
            // Streamed as `-L --json` streams it, deltas computed on the way.
            let failure = stream_json_tick(
                session,
                list,
                JsonTick {
                    header,
                    now,
                    tracker: &mut tracker,
                    writer: &mut tick_writer,
                },
                streams.stdout,
            )?;
            if let Some(failure) = failure {
                return Ok(failure);
            }
        } else {
            // One read of the table per tick, whatever is shown.
            let mut entries = match listing::read_selected(session.ipvs, list) {
                Ok(e) => e,
                Err(e) => return listing_failure(&e),
            };
            if let Some(screen) = screen.as_deref_mut() {
                listing::sort_real_servers(&mut entries, list.format.nosort);
                let deltas = tracker.update(&entries, now);
                let rows = frame_rows(&entries, &deltas);
                screen.draw_rows(streams.stdout, &stamp, interval, interval_ms, rows)?;
            } else {
                // The listing as it is: no deltas to show, none computed.
                streams
                    .stdout
                    .write_all(stamp_line(interval, &stamp).as_bytes())?;
                render::write_entries(
                    &session.info,
                    list,
                    opts.style,
                    opts.pretty,
                    &mut entries,
                    streams.stdout,
                )?;
            }
        }
        streams.stdout.flush()?;
        if opts.count.is_some_and(|c| tick >= c) {
            return Ok((0, None));
        }
        if !signals::sleep_until(now + interval) {
            return Ok((0, None));
        }
    }
}

/// The status and message of a listing that could not be read, as the
/// listing reports them (said once the terminal is restored).
fn listing_failure(e: &IpvsError) -> io::Result<(i32, Option<String>)> {
    Ok((
        EXIT_LIST,
        Some(format!("{}\n", listing::failure_message(e))),
    ))
}

mod estimator;
mod ndjson;
mod screen;
#[cfg(test)]
mod tests;
mod tracker;

/// UTC time as RFC 3339 with milliseconds (`2026-11-25T09:41:07.123Z`).
pub fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}
