//! `-R`: restore rules from standard input, safely.
//!
//! Unlike ipvsadm 1.31, which applies lines one by one and stops half-way
//! on the first bad line, the whole input is parsed and validated first;
//! if any line is invalid, every invalid line is reported with its number
//! and nothing is applied. Valid input is then sent in pipelined batches;
//! each line the kernel rejects is reported with its number, and the exit
//! status is non-zero if any line failed. With `--atomic`, the first
//! failure rolls back everything this restore applied.
//!
//! With `--format json` the input is the document `-L --json` writes; its
//! services and real servers become `-A` and `-a` lines ([`json_input`])
//! and go through the same parser. With `--replace`, the input describes
//! the whole table and [`replace`] applies the plan that makes the kernel's
//! table equal to it.

use std::collections::HashMap;
use std::io;

use crate::backend::{Change, IpvsBackend};
use crate::cli::{self, Command, Invocation, RestoreOptions};
use crate::error::IpvsError;
use crate::listing;
use crate::model::{Daemon, Dest, Service, ServiceEntry, ServiceId, Timeouts};
use crate::session::{EXIT_KERNEL, EXIT_USAGE, Session, Streams};

mod json_input;
mod replace;

/// Most changes collected before they are sent (pipelined). It bounds
/// memory: lines are parsed again as they are applied, so a restore
/// of any size holds its input text and one batch, not every parsed line.
const BATCH: usize = 4096;

/// How a line of `-R` input that is no table change (`-L`, `-S`, ...) is
/// run: the dispatcher's, handed down so this module need not know it.
pub type RunCommand =
    fn(&mut Session, &Command, &Invocation, &mut Streams) -> io::Result<i32>;

/// Runs a plain restore (text input, no `--replace`) from `streams.stdin`.
pub fn run(
    session: &mut Session,
    atomic: bool,
    streams: &mut Streams,
    run_command: RunCommand,
) -> io::Result<i32> {
    run_with(
        session,
        atomic,
        RestoreOptions::default(),
        streams,
        run_command,
    )
}

/// Runs `-R` from `streams.stdin`, as `options` say.
pub fn run_with(
    session: &mut Session,
    atomic: bool,
    options: RestoreOptions,
    streams: &mut Streams,
    run_command: RunCommand,
) -> io::Result<i32> {
    let mut input = Vec::new();
    streams.stdin.read_to_end(&mut input)?;
    let mut origin = Origin::Text;
    if options.json_input {
        match json_input::to_rules(&input) {
            Ok((rules, labels)) => {
                input = rules;
                origin = Origin::Json(labels);
            }
            Err(e) => {
                writeln!(streams.stderr, "restore: invalid JSON input: {e}")?;
                writeln!(streams.stderr, "restore: nothing applied")?;
                return Ok(EXIT_USAGE);
            }
        }
    }
    if options.replace {
        return replace::run(session, atomic, options, &input, &origin, streams);
    }

    // First pass: check every line, keeping only the errors.
    let invalid: Vec<(usize, cli::UsageError)> = parse_lines(&session.argv0, &input, 1)
        .filter_map(|(line, parsed)| parsed.err().map(|e| (line, e)))
        .collect();
    if let Some((_, first)) = invalid.first() {
        for (line, e) in &invalid {
            writeln!(streams.stderr, "{}: {}", origin.name(*line), e.message)?;
        }
        writeln!(
            streams.stderr,
            "restore: {} invalid line{}, nothing applied",
            invalid.len(),
            if invalid.len() == 1 { "" } else { "s" }
        )?;
        return Ok(first.exit_code);
    }

    let mut undo = if atomic {
        match UndoLog::snapshot(session.ipvs) {
            Ok(t) => Some(t),
            Err(e) => {
                writeln!(
                    streams.stderr,
                    "restore: cannot read the current table: {e}"
                )?;
                return Ok(EXIT_KERNEL);
            }
        }
    } else {
        None
    };

    // Second pass: the same lines, all valid now, applied in batches.
    let mut applier = Applier::new(atomic, origin);
    let argv0 = session.argv0.clone();
    for (line, parsed) in parse_lines(&argv0, &input, 1) {
        let Ok(inv) = parsed else { continue };
        let inv = match into_change(inv) {
            Err(inv) => inv,
            Ok(change) => {
                if applier.push(session, undo.as_mut(), streams, line, change)? {
                    break;
                }
                continue;
            }
        };
        applier.flush(session, undo.as_mut(), streams)?;
        if applier.stopped() {
            break;
        }
        let rc = run_command(session, &inv.command, &inv, streams)?;
        if rc != 0 {
            applier.failures += 1;
        }
    }
    applier.flush(session, undo.as_mut(), streams)?;

    if applier.failures == 0 {
        return Ok(0);
    }
    if let Some(undo) = undo {
        roll_back(session, undo, streams)?;
    }
    Ok(EXIT_KERNEL)
}

/// Where the lines applied come from, to name them in messages.
enum Origin {
    /// The input's own lines: `line 3`.
    Text,
    /// Lines made from a JSON document, each named by where its service
    /// or real server is in it (`services[2].real_servers[0]`).
    Json(Vec<String>),
    /// The changes of a `--replace` plan, each with its `-R` line.
    Plan(Vec<String>),
}

impl Origin {
    fn name(&self, line: usize) -> String {
        let label = |labels: &[String]| {
            line.checked_sub(1)
                .and_then(|i| labels.get(i))
                .cloned()
                .unwrap_or_else(|| format!("line {line}"))
        };
        match self {
            Origin::Text => format!("line {line}"),
            Origin::Json(labels) => label(labels),
            Origin::Plan(rules) => format!("change {line} ({})", label(rules)),
        }
    }
}

/// Parses the input line by line: each non-blank, non-`#` line with its
/// number (counted from `first_line`, the number of the input's first
/// line) and its parse result. Public for the fuzz targets only.
#[doc(hidden)]
pub fn parse_lines<'a>(
    argv0: &'a str,
    input: &'a [u8],
    first_line: usize,
) -> impl Iterator<Item = (usize, Result<Invocation, cli::UsageError>)> + 'a {
    // Tokens borrow from `input`; their vector is reused line after line.
    let mut tokens = Vec::new();
    input
        .split(|b| *b == b'\n')
        .enumerate()
        .filter_map(move |(i, line)| {
            let parsed = cli::parse_restore_bytes(argv0, line, &mut tokens)?;
            Some((first_line + i, parsed))
        })
}

/// The table change an invocation makes, if it is one (taken from it,
/// without copying its names); otherwise the invocation back (boxed: it
/// is big, and rare in restore input).
fn into_change(inv: Invocation) -> Result<Change, Box<Invocation>> {
    Ok(match inv.command {
        Command::AddService(s) => Change::AddService(s),
        Command::EditService(s) => Change::EditService(s),
        Command::DelService(s) => Change::DelService(s),
        Command::Flush => Change::Flush,
        Command::Zero(s) => Change::Zero(s),
        Command::AddDest(s, d) => Change::AddDest(s, d),
        Command::EditDest(s, d) => Change::EditDest(s, d),
        Command::DelDest(s, d) => Change::DelDest(s, d),
        Command::SetTimeouts(t) => Change::SetTimeouts(t),
        Command::StartDaemon(d) => Change::StartDaemon(d),
        Command::StopDaemon { state, syncid } => Change::StopDaemon { state, syncid },
        command @ (Command::List(_)
        | Command::Save { .. }
        | Command::Help
        | Command::Version
        | Command::Restore
        | Command::Check { .. }) => return Err(Box::new(Invocation { command, ..inv })),
    })
}

/// Most changes sent at once in `--atomic` mode: after a failure, at most
/// this many more are applied (and then undone).
const ATOMIC_SEGMENT: usize = 256;

/// Changes that cannot be undone exactly (counters and connections of what
/// they remove are lost), so `--atomic` sends them only once everything
/// before them succeeded.
fn destructive(change: &Change) -> bool {
    matches!(
        change,
        Change::Flush | Change::DelService(_) | Change::DelDest(..) | Change::Zero(_)
    )
}

/// Collects consecutive changes and sends them as one batch (the netlink
/// backend pipelines it). With `atomic`, the batch goes in segments, each
/// destructive change starting a new one, and stops at the first segment
/// with a failure: nothing destructive is ever sent after a failed line.
struct Applier {
    /// Line numbers of `pending`, one each.
    lines: Vec<usize>,
    pending: Vec<Change>,
    failures: usize,
    atomic: bool,
    /// What `lines` number.
    origin: Origin,
}

impl Applier {
    /// Nothing pending yet; `origin` names the lines it will be given.
    fn new(atomic: bool, origin: Origin) -> Applier {
        Applier {
            lines: Vec::new(),
            pending: Vec::new(),
            failures: 0,
            atomic,
            origin,
        }
    }

    /// Queues `change`, made by line `line`, and sends the batch once it
    /// is full. Whether that send stopped the restore ([`Self::stopped`]).
    fn push(
        &mut self,
        session: &mut Session,
        undo: Option<&mut UndoLog>,
        streams: &mut Streams,
        line: usize,
        change: Change,
    ) -> io::Result<bool> {
        self.lines.push(line);
        self.pending.push(change);
        if self.pending.len() < BATCH {
            return Ok(false);
        }
        self.flush(session, undo, streams)?;
        Ok(self.stopped())
    }

    /// Whether nothing more may be sent: a change failed in `--atomic`
    /// mode.
    fn stopped(&self) -> bool {
        self.atomic && self.failures > 0
    }

    fn flush(
        &mut self,
        session: &mut Session,
        undo: Option<&mut UndoLog>,
        streams: &mut Streams,
    ) -> io::Result<()> {
        // Taken for the sending and given back empty: the vectors keep
        // their capacity from batch to batch.
        let mut lines = std::mem::take(&mut self.lines);
        let mut pending = std::mem::take(&mut self.pending);
        let sent = self.send_all(session, undo, streams, &lines, &pending);
        lines.clear();
        pending.clear();
        self.lines = lines;
        self.pending = pending;
        sent
    }

    fn send_all(
        &mut self,
        session: &mut Session,
        mut undo: Option<&mut UndoLog>,
        streams: &mut Streams,
        lines: &[usize],
        pending: &[Change],
    ) -> io::Result<()> {
        if !self.atomic {
            return self.send(session, undo, streams, lines, pending);
        }
        let mut start = 0;
        while start < pending.len() && self.failures == 0 {
            let rest = &pending[start..];
            let end = rest
                .iter()
                .skip(1)
                .take(ATOMIC_SEGMENT - 1)
                .position(destructive)
                .map_or(rest.len().min(ATOMIC_SEGMENT), |i| i + 1);
            let range = start..start + end;
            self.send(
                session,
                undo.as_deref_mut(),
                streams,
                &lines[range.clone()],
                &pending[range],
            )?;
            start += end;
        }
        Ok(())
    }

    fn send(
        &mut self,
        session: &mut Session,
        mut undo: Option<&mut UndoLog>,
        streams: &mut Streams,
        lines: &[usize],
        changes: &[Change],
    ) -> io::Result<()> {
        let (Some(first), Some(last)) = (lines.first(), lines.last()) else {
            return Ok(());
        };
        let results = match session.ipvs.apply(changes) {
            Ok(r) => r,
            Err(e) => {
                match &self.origin {
                    Origin::Text => {
                        writeln!(streams.stderr, "lines {first}-{last}: {e}")?
                    }
                    o => writeln!(
                        streams.stderr,
                        "{} to {}: {e}",
                        o.name(*first),
                        o.name(*last)
                    )?,
                }
                self.failures += changes.len();
                return Ok(());
            }
        };
        for ((line, change), result) in lines.iter().zip(changes).zip(results) {
            match result {
                Ok(()) => {
                    if let Some(t) = undo.as_deref_mut() {
                        t.record(change);
                    }
                }
                Err(e) => {
                    writeln!(streams.stderr, "{}: {e}", self.origin.name(*line))?;
                    self.failures += 1;
                }
            }
        }
        Ok(())
    }
}

fn roll_back(
    session: &mut Session,
    undo: UndoLog,
    streams: &mut Streams,
) -> io::Result<()> {
    let changes = undo.undo_changes();
    let n = changes.len();
    let results = match session.ipvs.apply(&changes) {
        Ok(r) => r,
        Err(e) => {
            writeln!(streams.stderr, "restore: rollback failed: {e}")?;
            return Ok(());
        }
    };
    let failed: Vec<IpvsError> = results.into_iter().filter_map(|r| r.err()).collect();
    if failed.is_empty() {
        writeln!(
            streams.stderr,
            "restore: rolled back {n} applied change{}",
            if n == 1 { "" } else { "s" }
        )?;
    } else {
        for e in &failed {
            writeln!(streams.stderr, "restore: rollback step failed: {e}")?;
        }
    }
    Ok(())
}

/// Follows the table through a restore and remembers, for every change
/// that succeeded, the changes that undo it.
struct UndoLog {
    services: HashMap<ServiceId, (Service, Vec<Dest>)>,
    timeouts: Timeouts,
    daemons: Vec<Daemon>,
    /// Undo steps, in the order the changes were applied.
    steps: Vec<Vec<Change>>,
}

fn same_dest(a: &Dest, b: &Dest) -> bool {
    a.family == b.family && a.addr == b.addr && a.port == b.port
}

impl UndoLog {
    fn snapshot(ipvs: &mut dyn IpvsBackend) -> Result<UndoLog, IpvsError> {
        let table = listing::read_table(ipvs, true)?;
        Self::from_table(ipvs, table)
    }

    /// The log of a table already read (`table`, all of its services).
    fn from_table(
        ipvs: &mut dyn IpvsBackend,
        table: Vec<ServiceEntry>,
    ) -> Result<UndoLog, IpvsError> {
        Ok(UndoLog {
            services: table
                .into_iter()
                .map(|e| (e.service.id, (e.service, e.dests)))
                .collect(),
            timeouts: ipvs.timeouts()?,
            daemons: ipvs.daemons()?,
            steps: Vec::new(),
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
        self.steps.push(undo);
    }

    /// Everything needed to return to the snapshot, last change first.
    fn undo_changes(self) -> Vec<Change> {
        self.steps.into_iter().rev().flatten().collect()
    }
}

#[cfg(test)]
mod tests;
