//! `-R`: restore rules from standard input, safely.
//!
//! Unlike ipvsadm 1.31, which applies lines one by one and stops half-way
//! on the first bad line, the whole input is parsed and validated first;
//! if any line is invalid, every invalid line is reported with its number
//! and nothing is applied. Valid input is then sent in pipelined batches;
//! each line the kernel rejects is reported with its number, and the exit
//! status is non-zero if any line failed. With `--atomic`, the first
//! failure rolls back everything this restore applied.

use std::collections::HashMap;
use std::io;

use crate::backend::{Change, IpvsBackend};
use crate::cli::{self, Command, Invocation};
use crate::error::IpvsError;
use crate::model::{Daemon, Dest, Service, ServiceId, Timeouts};
use crate::run::{self, EXIT_KERNEL, Session, Streams};

/// Runs a restore from `io.stdin`.
pub fn run(s: &mut Session, atomic: bool, io: &mut Streams) -> io::Result<i32> {
    let mut input = Vec::new();
    io.stdin.read_to_end(&mut input)?;

    let (steps, invalid) = parse_all(&s.argv0, &input);
    if let Some((_, first)) = invalid.first() {
        for (line, e) in &invalid {
            writeln!(io.stderr, "line {line}: {}", e.message)?;
        }
        writeln!(
            io.stderr,
            "restore: {} invalid line{}, nothing applied",
            invalid.len(),
            if invalid.len() == 1 { "" } else { "s" }
        )?;
        return Ok(first.exit_code);
    }

    let mut tracker = if atomic {
        match Tracker::snapshot(s.ipvs) {
            Ok(t) => Some(t),
            Err(e) => {
                writeln!(io.stderr, "restore: cannot read the current table: {e}")?;
                return Ok(EXIT_KERNEL);
            }
        }
    } else {
        None
    };

    let mut applier = Applier {
        pending: Vec::new(),
        failures: 0,
    };
    for (line, inv) in &steps {
        if let Some(change) = change_of(&inv.command) {
            applier.pending.push((*line, change));
            continue;
        }
        applier.flush(s, tracker.as_mut(), io)?;
        if atomic && applier.failures > 0 {
            break;
        }
        let rc = run::execute_command(s, &inv.command, inv, io)?;
        if rc != 0 {
            applier.failures += 1;
        }
    }
    applier.flush(s, tracker.as_mut(), io)?;

    if applier.failures == 0 {
        return Ok(0);
    }
    if let Some(tracker) = tracker {
        roll_back(s, tracker, io)?;
    }
    Ok(EXIT_KERNEL)
}

type Parsed = (Vec<(usize, Invocation)>, Vec<(usize, cli::UsageError)>);

/// Parses every line; returns the valid steps and the invalid lines, both
/// with 1-based line numbers. Blank lines and `#` comments are skipped.
fn parse_all(argv0: &str, input: &[u8]) -> Parsed {
    let mut steps = Vec::new();
    let mut invalid = Vec::new();
    for (i, line) in input.split(|b| *b == b'\n').enumerate() {
        let tokens = cli::tokenize_restore_line(line);
        if tokens.is_empty() || tokens[0].starts_with('#') {
            continue;
        }
        match cli::parse_restore_line(argv0, &tokens) {
            Ok(inv) => steps.push((i + 1, inv)),
            Err(e) => invalid.push((i + 1, e)),
        }
    }
    (steps, invalid)
}

/// The table change a command makes, if it is one.
fn change_of(cmd: &Command) -> Option<Change> {
    Some(match cmd {
        Command::AddService(s) => Change::AddService(s.clone()),
        Command::EditService(s) => Change::EditService(s.clone()),
        Command::DelService(s) => Change::DelService(s.clone()),
        Command::Flush => Change::Flush,
        Command::Zero(s) => Change::Zero(s.clone()),
        Command::AddDest(s, d) => Change::AddDest(s.clone(), d.clone()),
        Command::EditDest(s, d) => Change::EditDest(s.clone(), d.clone()),
        Command::DelDest(s, d) => Change::DelDest(s.clone(), d.clone()),
        Command::SetTimeouts(t) => Change::SetTimeouts(*t),
        Command::StartDaemon(d) => Change::StartDaemon(d.clone()),
        Command::StopDaemon { state, syncid } => Change::StopDaemon {
            state: *state,
            syncid: *syncid,
        },
        Command::List(_)
        | Command::Save { .. }
        | Command::Help
        | Command::Version
        | Command::Restore => return None,
    })
}

/// Collects consecutive changes and sends them as one batch.
struct Applier {
    pending: Vec<(usize, Change)>,
    failures: usize,
}

impl Applier {
    fn flush(
        &mut self,
        s: &mut Session,
        mut tracker: Option<&mut Tracker>,
        io: &mut Streams,
    ) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.pending);
        let changes: Vec<Change> = batch.iter().map(|(_, c)| c.clone()).collect();
        let results = match s.ipvs.apply(&changes) {
            Ok(r) => r,
            Err(e) => {
                let (first, last) = (batch[0].0, batch[batch.len() - 1].0);
                writeln!(io.stderr, "lines {first}-{last}: {e}")?;
                self.failures += batch.len();
                return Ok(());
            }
        };
        for ((line, change), result) in batch.iter().zip(results) {
            match result {
                Ok(()) => {
                    if let Some(t) = tracker.as_deref_mut() {
                        t.record(change);
                    }
                }
                Err(e) => {
                    writeln!(io.stderr, "line {line}: {e}")?;
                    self.failures += 1;
                }
            }
        }
        Ok(())
    }
}

fn roll_back(s: &mut Session, tracker: Tracker, io: &mut Streams) -> io::Result<()> {
    let undo = tracker.undo_changes();
    let n = undo.len();
    let results = match s.ipvs.apply(&undo) {
        Ok(r) => r,
        Err(e) => {
            writeln!(io.stderr, "restore: rollback failed: {e}")?;
            return Ok(());
        }
    };
    let failed: Vec<IpvsError> = results.into_iter().filter_map(|r| r.err()).collect();
    if failed.is_empty() {
        writeln!(
            io.stderr,
            "restore: rolled back {n} applied change{}",
            if n == 1 { "" } else { "s" }
        )?;
    } else {
        for e in &failed {
            writeln!(io.stderr, "restore: rollback step failed: {e}")?;
        }
    }
    Ok(())
}

/// Follows the table through a restore and remembers, for every change
/// that succeeded, the changes that undo it.
struct Tracker {
    services: HashMap<ServiceId, (Service, Vec<Dest>)>,
    timeouts: Timeouts,
    daemons: Vec<Daemon>,
    /// Undo steps, in the order the changes were applied.
    undo: Vec<Vec<Change>>,
}

fn same_dest(a: &Dest, b: &Dest) -> bool {
    a.family == b.family && a.addr == b.addr && a.port == b.port
}

impl Tracker {
    fn snapshot(ipvs: &mut dyn IpvsBackend) -> Result<Tracker, IpvsError> {
        let table = run::read_table(ipvs, true)?;
        Ok(Tracker {
            services: table
                .into_iter()
                .map(|e| (e.service.id, (e.service, e.dests)))
                .collect(),
            timeouts: ipvs.timeouts()?,
            daemons: ipvs.daemons()?,
            undo: Vec::new(),
        })
    }

    /// The changes that recreate a service as it was, real servers
    /// re-added oldest first so they keep the kernel's order.
    fn recreate(svc: &Service, dests: &[Dest]) -> Vec<Change> {
        let mut v = vec![Change::AddService(svc.clone())];
        v.extend(
            dests
                .iter()
                .rev()
                .map(|d| Change::AddDest(svc.clone(), d.clone())),
        );
        v
    }

    /// Records a change the kernel accepted.
    fn record(&mut self, change: &Change) {
        let undo = match change {
            Change::AddService(svc) => {
                self.services.insert(svc.id, (svc.clone(), Vec::new()));
                vec![Change::DelService(svc.clone())]
            }
            Change::EditService(svc) => match self.services.get_mut(&svc.id) {
                Some((old, _)) => {
                    let undo = Change::EditService(old.clone());
                    *old = Service {
                        stats: old.stats,
                        ..svc.clone()
                    };
                    vec![undo]
                }
                None => Vec::new(),
            },
            Change::DelService(svc) => match self.services.remove(&svc.id) {
                Some((old, dests)) => Self::recreate(&old, &dests),
                None => Vec::new(),
            },
            Change::Flush => {
                let all: Vec<_> = self.services.drain().map(|(_, v)| v).collect();
                all.iter().flat_map(|(s, d)| Self::recreate(s, d)).collect()
            }
            // Counters cannot be put back; zeroing stays done.
            Change::Zero(_) => Vec::new(),
            Change::AddDest(svc, d) => {
                if let Some((_, dests)) = self.services.get_mut(&svc.id) {
                    dests.insert(0, d.clone());
                }
                vec![Change::DelDest(svc.clone(), d.clone())]
            }
            Change::EditDest(svc, d) => match self.services.get_mut(&svc.id) {
                Some((_, dests)) => match dests.iter_mut().find(|x| same_dest(x, d)) {
                    Some(old) => {
                        let undo = Change::EditDest(svc.clone(), old.clone());
                        *old = d.clone();
                        vec![undo]
                    }
                    None => Vec::new(),
                },
                None => Vec::new(),
            },
            Change::DelDest(svc, d) => match self.services.get_mut(&svc.id) {
                Some((current, dests)) => {
                    match dests.iter().position(|x| same_dest(x, d)) {
                        Some(i) => {
                            let old = dests.remove(i);
                            vec![Change::AddDest(current.clone(), old)]
                        }
                        None => Vec::new(),
                    }
                }
                None => Vec::new(),
            },
            Change::SetTimeouts(t) => {
                let old = self.timeouts;
                let pick = |new: u32, old: u32| if new == 0 { 0 } else { old };
                let undo = Timeouts {
                    tcp: pick(t.tcp, old.tcp),
                    tcp_fin: pick(t.tcp_fin, old.tcp_fin),
                    udp: pick(t.udp, old.udp),
                };
                let set = |new: u32, old: u32| if new == 0 { old } else { new };
                self.timeouts = Timeouts {
                    tcp: set(t.tcp, old.tcp),
                    tcp_fin: set(t.tcp_fin, old.tcp_fin),
                    udp: set(t.udp, old.udp),
                };
                vec![Change::SetTimeouts(undo)]
            }
            Change::StartDaemon(d) => {
                self.daemons.push(d.clone());
                vec![Change::StopDaemon {
                    state: d.state,
                    syncid: d.syncid,
                }]
            }
            Change::StopDaemon { state, .. } => {
                match self.daemons.iter().position(|d| d.state == *state) {
                    Some(i) => vec![Change::StartDaemon(self.daemons.remove(i))],
                    None => Vec::new(),
                }
            }
        };
        self.undo.push(undo);
    }

    /// Everything needed to return to the snapshot, last change first.
    fn undo_changes(self) -> Vec<Change> {
        self.undo.into_iter().rev().flatten().collect()
    }
}
