//! `-d ... --drain[=SECONDS]`: takes a real server out without breaking a
//! connection. Its weight is set to 0 (an edit that keeps every other
//! setting as the kernel has it), so the scheduler sends it nothing new;
//! then the kernel's counters are read every second until the server has
//! no active and no inactive connection and no persistence template left,
//! and only then is it deleted. When the time is up, or on Ctrl-C, SIGTERM
//! or SIGHUP, the server stays in place at weight 0 and what is left is
//! said: a server that still has connections is never deleted.
//!
//! [`drain`] does the work for one real server and [`drain_all`] for many
//! at once, with the clock and the progress writer passed in, so anything
//! that removes real servers can drain them; [`run`] is the `-d --drain`
//! command around it.

mod progress;

use std::io::{self, IsTerminal};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::backend::IpvsBackend;
use crate::error::{IpvsError, Op};
use crate::listing;
use crate::model::{Dest, Service, ServiceAddr, ServiceFlags};
use crate::output::conn::{ConnEntry, parse_conn_table};
use crate::session::{EXIT_KERNEL, Session, Streams};
use crate::signals;

pub use progress::{Progress, report};

/// How often the counters are read while waiting.
pub const POLL: Duration = Duration::from_secs(1);

/// Exit status of a drain that ended with connections left (timeout, or
/// someone else gave the server a weight again).
pub const EXIT_NOT_DRAINED: i32 = 1;

/// What is still on a real server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Remaining {
    pub active: u32,
    pub inactive: u32,
    /// Persistence templates pointing at the server.
    pub templates: u32,
}

impl Remaining {
    pub fn total(&self) -> u64 {
        u64::from(self.active) + u64::from(self.inactive) + u64::from(self.templates)
    }

    pub fn is_empty(&self) -> bool {
        self.total() == 0
    }

    fn plus(self, other: &Remaining) -> Remaining {
        Remaining {
            active: self.active.saturating_add(other.active),
            inactive: self.inactive.saturating_add(other.inactive),
            templates: self.templates.saturating_add(other.templates),
        }
    }
}

/// How a drain ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DrainOutcome {
    /// The server had nothing left and was deleted, after `waited`.
    Removed { waited: Duration },
    /// The time was up with `remaining` still there: left at weight 0.
    TimedOut {
        remaining: Remaining,
        waited: Duration,
    },
    /// A signal stopped the wait: left at weight 0.
    Stopped {
        signal: i32,
        remaining: Remaining,
        waited: Duration,
    },
    /// Someone else deleted the server (or its service) meanwhile.
    Vanished,
    /// Someone else gave the server a weight again: left as they set it.
    Reweighted { weight: i32 },
}

impl DrainOutcome {
    /// The exit status of a `-d --drain` that ended so.
    pub fn exit_status(&self) -> i32 {
        match self {
            DrainOutcome::Removed { .. } | DrainOutcome::Vanished => 0,
            DrainOutcome::TimedOut { .. } | DrainOutcome::Reweighted { .. } => {
                EXIT_NOT_DRAINED
            }
            DrainOutcome::Stopped { signal, .. } => signals::exit_status(*signal),
        }
    }
}

/// The time a drain runs on: the real one ([`WallClock`]), or a fake in
/// tests.
pub trait Clock {
    /// Time since the drain started.
    fn elapsed(&self) -> Duration;
    /// Waits until `elapsed()` reaches `at`; the signal that came first,
    /// if one did.
    fn wait_until(&mut self, at: Duration) -> Option<i32>;
}

/// The real clock, stopped by the signals [`signals::catch`] catches.
pub struct WallClock {
    start: Instant,
}

impl WallClock {
    /// Starts counting now.
    pub fn start() -> WallClock {
        WallClock {
            start: Instant::now(),
        }
    }
}

impl Clock for WallClock {
    fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    fn wait_until(&mut self, at: Duration) -> Option<i32> {
        signals::sleep_until(self.start + at);
        signals::caught()
    }
}

/// Drains the real server `dest` of `service` (their identities are what
/// count; the server's settings are read from the kernel): weight 0, then
/// a look at once and then every [`POLL`] until it has nothing left, when
/// it is deleted, or until `timeout` has passed or a signal came, when it
/// is left at weight 0. A `timeout` of 0 deletes the server only if it is
/// empty already. `conn_file` is the kernel's connection table, read for
/// the persistence templates of persistent services. A missing service or
/// server is `-d`'s error.
pub fn drain(
    ipvs: &mut dyn IpvsBackend,
    conn_file: &Path,
    service: &Service,
    dest: &Dest,
    timeout: Duration,
    clock: &mut dyn Clock,
    progress: &mut Progress,
) -> Result<DrainOutcome, IpvsError> {
    let targets = [(service.clone(), dest.clone())];
    let outcomes = drain_all(ipvs, conn_file, &targets, timeout, clock, progress)?;
    Ok(outcomes
        .into_iter()
        .next()
        .unwrap_or(DrainOutcome::Vanished))
}

/// [`drain`] for many real servers at once, all within one `timeout`:
/// every one is found before any is changed, all go to weight 0, then each
/// look reads them all and deletes those with nothing left. The progress
/// shows what is left on them together. One outcome per target, in order.
/// A kernel failure after the weights were set ends the drain with that
/// error (the servers not yet deleted stay at weight 0).
pub fn drain_all(
    ipvs: &mut dyn IpvsBackend,
    conn_file: &Path,
    targets: &[(Service, Dest)],
    timeout: Duration,
    clock: &mut dyn Clock,
    progress: &mut Progress,
) -> Result<Vec<DrainOutcome>, IpvsError> {
    // As `-d` says it when the service or the server does not exist.
    let missing = |errno| IpvsError::Kernel {
        op: Op::DelDest,
        errno,
    };
    let mut found = Vec::with_capacity(targets.len());
    for (service, dest) in targets {
        match read_server(ipvs, service, dest) {
            Ok(Some(server)) => found.push(server),
            Ok(None) => return Err(missing(libc::ENOENT)),
            Err(e) if e.errno() == Some(libc::ESRCH) => return Err(missing(libc::ESRCH)),
            Err(e) => return Err(e),
        }
    }
    for (service, current) in &found {
        if current.weight != 0 {
            let quiet = Dest {
                weight: 0,
                ..current.clone()
            };
            ipvs.edit_dest(service, &quiet)?;
        }
    }
    let mut outcomes: Vec<Option<DrainOutcome>> = vec![None; found.len()];
    let mut next = Duration::ZERO;
    loop {
        let signal = clock.wait_until(next);
        let waited = clock.elapsed();
        let mut table = ConnTable::new(conn_file);
        let mut pending = Vec::new();
        for ((service, current), outcome) in found.iter().zip(outcomes.iter_mut()) {
            if outcome.is_some() {
                continue;
            }
            let now = match read_server(ipvs, service, current) {
                Ok(Some((_, now))) => now,
                Ok(None) => {
                    *outcome = Some(DrainOutcome::Vanished);
                    continue;
                }
                Err(e) if e.errno() == Some(libc::ESRCH) => {
                    *outcome = Some(DrainOutcome::Vanished);
                    continue;
                }
                Err(e) => return Err(e),
            };
            if now.weight != 0 {
                *outcome = Some(DrainOutcome::Reweighted { weight: now.weight });
                continue;
            }
            let remaining = table.remaining_on(service, &now);
            // After a signal nothing more is deleted.
            if signal.is_none() && remaining.is_empty() {
                *outcome = Some(match ipvs.del_dest(service, &now) {
                    Ok(()) => DrainOutcome::Removed { waited },
                    Err(e) if matches!(e.errno(), Some(libc::ENOENT | libc::ESRCH)) => {
                        DrainOutcome::Vanished
                    }
                    Err(e) => return Err(e),
                });
                continue;
            }
            pending.push((outcome, remaining, now));
        }
        if pending.is_empty() || signal.is_some() || waited >= timeout {
            for (outcome, remaining, _) in pending {
                *outcome = Some(match signal {
                    Some(signal) => DrainOutcome::Stopped {
                        signal,
                        remaining,
                        waited,
                    },
                    None => DrainOutcome::TimedOut { remaining, waited },
                });
            }
            progress.finish();
            return Ok(outcomes.into_iter().flatten().collect());
        }
        let left = pending
            .iter()
            .fold(Remaining::default(), |sum, (_, r, _)| sum.plus(r));
        let label = match (targets.len(), pending.as_slice()) {
            (1, [(_, _, now)]) => crate::render::table::dest_label(now),
            (_, [_]) => "1 real server".to_string(),
            (_, many) => format!("{} real servers", many.len()),
        };
        progress.update(&label, left, timeout.saturating_sub(waited));
        next = (next + POLL).min(timeout);
    }
}

/// The service (as the kernel has it) and the real server `dest` names,
/// `None` if the service has no such server.
fn read_server(
    ipvs: &mut dyn IpvsBackend,
    service: &Service,
    dest: &Dest,
) -> Result<Option<(Service, Dest)>, IpvsError> {
    let entry = listing::read_service(ipvs, &service.id)?;
    let found = entry
        .dests
        .into_iter()
        .find(|d| d.family == dest.family && d.addr == dest.addr && d.port == dest.port);
    Ok(found.map(|d| (entry.service, d)))
}

/// The kernel's connection table, read at most once per look, and only
/// for a persistent service.
struct ConnTable<'a> {
    path: &'a Path,
    entries: Option<Vec<ConnEntry>>,
}

impl<'a> ConnTable<'a> {
    fn new(path: &'a Path) -> ConnTable<'a> {
        ConnTable {
            path,
            entries: None,
        }
    }

    /// What is left on `dest`: its active and inactive connections as the
    /// kernel counts them, and its persistence templates, the larger of
    /// the kernel's count and the template rows of the connection table.
    fn remaining_on(&mut self, service: &Service, dest: &Dest) -> Remaining {
        let templates = if service.flags.contains(ServiceFlags::PERSISTENT) {
            dest.persist_conns.max(self.templates(service, dest))
        } else {
            dest.persist_conns
        };
        Remaining {
            active: dest.active_conns,
            inactive: dest.inact_conns,
            templates,
        }
    }

    /// The persistence templates of the connection table (rows with
    /// client port 0) that point at `dest` of `service`. A template of a
    /// fwmark service carries the mark, not an address, as its virtual
    /// address, so there only the real server is compared. An unreadable
    /// table counts nothing: the kernel's own count stands.
    fn templates(&mut self, service: &Service, dest: &Dest) -> u32 {
        let path = self.path;
        let entries = self.entries.get_or_insert_with(|| {
            std::fs::read(path)
                .ok()
                .and_then(|text| parse_conn_table(&text).ok())
                .unwrap_or_default()
        });
        let virtual_addr = match service.id.addr {
            ServiceAddr::Inet { addr, .. } => Some(addr),
            ServiceAddr::Fwmark(_) => None,
        };
        let count = entries
            .iter()
            .filter(|c| c.client_port == 0)
            .filter(|c| {
                c.dest_addr == dest.addr && (c.dest_port == dest.port || c.dest_port == 0)
            })
            .filter(|c| virtual_addr.is_none_or(|a| c.virtual_addr == a))
            .count();
        u32::try_from(count).unwrap_or(u32::MAX)
    }
}

/// `-d ... --drain=SECONDS`: drains the server with the real clock,
/// progress on stdout (redrawn in place on a terminal, a line a second
/// otherwise), and says on stderr how it ended unless the server was
/// deleted.
pub fn run(
    session: &mut Session,
    service: &Service,
    dest: &Dest,
    timeout: Duration,
    streams: &mut Streams,
) -> io::Result<i32> {
    signals::catch();
    let mut clock = WallClock::start();
    let on_terminal = io::stdout().is_terminal();
    let outcome = {
        let mut progress = Progress::new(&mut *streams.stdout, on_terminal);
        drain(
            session.ipvs,
            &session.conn_file,
            service,
            dest,
            timeout,
            &mut clock,
            &mut progress,
        )
    };
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(e) => {
            writeln!(streams.stderr, "{e}")?;
            return Ok(EXIT_KERNEL);
        }
    };
    // The status says how the drain ended, whether or not it could be
    // said (a closed pipe is no failure of the drain).
    if let Err(e) = progress::report(streams, service, dest, &outcome) {
        if e.kind() != io::ErrorKind::BrokenPipe {
            let _ = writeln!(streams.stderr, "ipvsadm: cannot write output: {e}");
        }
    }
    Ok(outcome.exit_status())
}

#[cfg(test)]
mod tests;
