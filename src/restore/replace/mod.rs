//! `-R --replace`: make the kernel's table exactly equal to the input.
//!
//! The input (rules in `-S` syntax, or a JSON document turned into them)
//! goes through the `-R` parser and its checks, and must describe a table:
//! `-A` lines, and `-a` lines of services given before them, each once.
//! The table is read once, as `-S` reads it, and compared with the input
//! service by service: only the services whose lines differ are parsed
//! ([`desired`]) and planned ([`crate::plan`]). Then:
//!
//! * with `--dry-run`, the steps are printed as `-R` lines (or as one JSON
//!   document with `--json`) and nothing is changed; the exit status is 0
//!   when there is nothing to do (and nothing is printed), 1 when there
//!   is, 2 when the input is bad, like `diff`'s;
//! * otherwise they are applied in pipelined batches, as `-R` applies
//!   lines (with `--atomic`, all or nothing), and one line on standard
//!   output says what was done, or that the table already matched; with
//!   `--drain`, what the plan removes is drained ([`crate::drain`]) once
//!   everything else went in.

use std::io::{self, IsTerminal};
use std::ops::Range;
use std::time::Duration;

use rustc_hash::FxHashMap;

use super::{Applier, Origin, UndoLog, roll_back};
use crate::backend::Change;
use crate::cli::RestoreOptions;
use crate::drain::{self, DrainOutcome};
use crate::model::{Dest, Service, ServiceEntry, ServiceId};
use crate::output::save::{self, RuleCmd, rule_line};
use crate::plan::{self, Counts, Step};
use crate::render::json;
use crate::session::{EXIT_KERNEL, EXIT_USAGE, Session, Streams};
use crate::{listing, signals};
use desired::{Blocks, Parsed};

/// Exit status of a dry run with changes pending.
const EXIT_PENDING: i32 = 1;

pub(super) fn run(
    session: &mut Session,
    atomic: bool,
    options: RestoreOptions,
    input: &[u8],
    origin: &Origin,
    streams: &mut Streams,
) -> io::Result<i32> {
    let blocks = Blocks::cut(input);
    let unreadable = |e: String, streams: &mut Streams| -> io::Result<i32> {
        writeln!(
            streams.stderr,
            "replace: cannot read the current table: {e}"
        )?;
        Ok(if options.dry_run {
            EXIT_USAGE
        } else {
            EXIT_KERNEL
        })
    };
    let Differing {
        mut current,
        mut set_aside,
    } = match differing(session, &blocks) {
        Ok(d) => d,
        Err(e) => {
            // Bad input is said first, as when the table can be read.
            let none = FxHashMap::default();
            if let Parsed::Invalid(errors) =
                desired::parse(&session.argv0, &blocks, &none)
            {
                return invalid(&errors, &options, origin, streams);
            }
            return unreadable(e, streams);
        }
    };
    let desired = loop {
        match desired::parse(&session.argv0, &blocks, &set_aside) {
            Parsed::Table(table) => break table,
            Parsed::Invalid(errors) => {
                return invalid(&errors, &options, origin, streams);
            }
            Parsed::Reopen(ids) => {
                for id in ids {
                    if set_aside.remove(&id).is_none() {
                        continue;
                    }
                    match listing::read_service(session.ipvs, &id) {
                        Ok(entry) => current.push(entry),
                        Err(e) => return unreadable(e.to_string(), streams),
                    }
                }
            }
        }
    };
    let steps = plan::plan(&current, &desired);
    let rules: Vec<String> = steps.iter().map(rule_of).collect();
    if options.dry_run {
        if steps.is_empty() {
            return Ok(0);
        }
        if options.json_plan {
            json::write(
                streams.stdout,
                &json::plan::plan(&steps, &rules),
                options.pretty,
            )?;
        } else {
            for rule in &rules {
                writeln!(streams.stdout, "{rule}")?;
            }
        }
        return Ok(EXIT_PENDING);
    }
    if steps.is_empty() {
        writeln!(
            streams.stdout,
            "replace: no changes, the table already matches"
        )?;
        return Ok(0);
    }
    apply(
        session,
        atomic,
        options.drain,
        current,
        &steps,
        rules,
        streams,
    )
}

/// Reports the input's bad lines: nothing is planned or applied.
fn invalid(
    errors: &[(usize, String)],
    options: &RestoreOptions,
    origin: &Origin,
    streams: &mut Streams,
) -> io::Result<i32> {
    for (line, message) in errors {
        writeln!(streams.stderr, "{}: {message}", origin.name(*line))?;
    }
    writeln!(
        streams.stderr,
        "replace: {} invalid line{}, nothing {}",
        errors.len(),
        if errors.len() == 1 { "" } else { "s" },
        if options.dry_run {
            "planned"
        } else {
            "applied"
        },
    )?;
    Ok(EXIT_USAGE)
}

/// The kernel's table, less what the input already says as it is.
struct Differing {
    /// The services (with their real servers) whose `-Sn` lines are no
    /// block of the input, in ipvsadm's order.
    current: Vec<ServiceEntry>,
    /// The other services, each with the block that is its `-Sn` lines:
    /// the blocks not to parse.
    set_aside: FxHashMap<ServiceId, usize>,
}

/// Reads the kernel's table as `-S` does (services in ipvsadm's order, one
/// service's real servers at a time) and sets aside every service whose
/// `-Sn` lines, saying every setting ([`save::says_everything`]), are a
/// block of the input: that block makes no step and needs no parse. So a
/// table checked against its own save costs one `-Sn`, and a replace that
/// changes a few services parses and plans only those.
fn differing(session: &mut Session, blocks: &Blocks) -> Result<Differing, String> {
    let services =
        listing::read_services(session.ipvs, false).map_err(|e| e.to_string())?;
    let mut by_text = blocks.by_text();
    let mut differing = Differing {
        current: Vec::new(),
        set_aside: FxHashMap::default(),
    };
    let mut text = Vec::new();
    let names = session.names;
    listing::for_each_entry(session.ipvs, services, |e| {
        text.clear();
        let block = if save::says_everything(&e.service, &e.dests) {
            save::write_save_entry(&mut text, &e.service, &e.dests, true, names)?;
            by_text.remove(text.as_slice())
        } else {
            None
        };
        match block {
            Some(block) => {
                differing.set_aside.insert(e.service.id, block);
            }
            None => differing.current.push(ServiceEntry {
                service: e.service.clone(),
                dests: e.dests.clone(),
            }),
        }
        Ok(())
    })
    .map_err(|e| match e {
        listing::ListingError::Kernel(e) => e.to_string(),
        listing::ListingError::Output(e) => e.to_string(),
    })?;
    Ok(differing)
}

/// The `-R` line of a step, without its newline.
fn rule_of(step: &Step) -> String {
    match step {
        Step::AddService(s) => rule_line(RuleCmd::Add, s, None),
        Step::EditService { after, .. } => rule_line(RuleCmd::Edit, after, None),
        Step::DelService(s) => rule_line(RuleCmd::Del, s, None),
        Step::AddDest(s, d) => rule_line(RuleCmd::Add, s, Some(d)),
        Step::EditDest { service, after, .. } => {
            rule_line(RuleCmd::Edit, service, Some(after))
        }
        Step::DelDest(s, d) => rule_line(RuleCmd::Del, s, Some(d)),
    }
}

/// Applies `steps` to the table `current` was read from. With `drain`,
/// the steps that remove something wait until everything else is applied
/// and went well, and then the real servers they remove are drained
/// ([`drain::drain_all`]) instead of deleted at once.
fn apply(
    session: &mut Session,
    atomic: bool,
    drain: Option<Duration>,
    current: Vec<ServiceEntry>,
    steps: &[Step],
    rules: Vec<String>,
    streams: &mut Streams,
) -> io::Result<i32> {
    let drained = drain.map(|timeout| (timeout, drain_targets(&current, steps)));
    let mut undo = if atomic {
        match UndoLog::from_table(session.ipvs, current) {
            Ok(t) => Some(t),
            Err(e) => {
                writeln!(
                    streams.stderr,
                    "replace: cannot read the current table: {e}"
                )?;
                return Ok(EXIT_KERNEL);
            }
        }
    } else {
        drop(current);
        None
    };
    let mut applier = Applier::new(atomic, Origin::Plan(rules));
    for (i, step) in steps.iter().enumerate() {
        if drained.is_some() && removes(step) {
            continue;
        }
        if applier.push(session, undo.as_mut(), streams, i + 1, step.change())? {
            break;
        }
    }
    applier.flush(session, undo.as_mut(), streams)?;
    let counts = Counts::of(steps);
    if applier.failures > 0 {
        writeln!(
            streams.stderr,
            "replace: {} of {} changes failed{}",
            applier.failures,
            counts.total(),
            if drained.is_some() {
                ", nothing drained or deleted"
            } else {
                ""
            }
        )?;
        if let Some(undo) = undo {
            roll_back(session, undo, streams)?;
        }
        return Ok(EXIT_KERNEL);
    }
    match drained {
        None => {
            writeln!(streams.stdout, "replace: {}", summary(&counts))?;
            Ok(0)
        }
        Some((timeout, targets)) => {
            drain_removals(session, timeout, targets, counts, streams)
        }
    }
}

/// Whether a step takes something out of the table.
fn removes(step: &Step) -> bool {
    matches!(step, Step::DelDest(..) | Step::DelService(_))
}

/// What `--drain` waits for: each real server a [`Step::DelDest`] removes,
/// and the real servers of each service a [`Step::DelService`] deletes
/// (as `current` has them), with the service each, in plan order.
struct DrainTargets {
    servers: Vec<(Service, Dest)>,
    /// The services to delete, each with the range of `servers` that are
    /// its real servers.
    services: Vec<(Service, Range<usize>)>,
}

fn drain_targets(current: &[ServiceEntry], steps: &[Step]) -> DrainTargets {
    let by_id: FxHashMap<ServiceId, &ServiceEntry> =
        current.iter().map(|e| (e.service.id, e)).collect();
    let mut targets = DrainTargets {
        servers: Vec::new(),
        services: Vec::new(),
    };
    for step in steps {
        match step {
            Step::DelDest(service, dest) => {
                targets.servers.push((service.clone(), dest.clone()));
            }
            Step::DelService(service) => {
                let start = targets.servers.len();
                if let Some(entry) = by_id.get(&service.id) {
                    targets
                        .servers
                        .extend(entry.dests.iter().map(|d| (service.clone(), d.clone())));
                }
                let range = start..targets.servers.len();
                targets.services.push((service.clone(), range));
            }
            _ => {}
        }
    }
    targets
}

/// Drains the real servers the plan removes, all within `timeout`, then
/// deletes the services to delete whose real servers are all gone. What
/// still has connections stays, at weight 0, and is said; the status is
/// 0 when everything was removed, 1 when something was left, 130 or 143
/// when a signal stopped the wait.
fn drain_removals(
    session: &mut Session,
    timeout: Duration,
    targets: DrainTargets,
    mut counts: Counts,
    streams: &mut Streams,
) -> io::Result<i32> {
    signals::catch();
    let mut clock = drain::WallClock::start();
    let on_terminal = io::stdout().is_terminal();
    let outcomes = {
        let mut progress = drain::Progress::new(&mut *streams.stdout, on_terminal);
        drain::drain_all(
            session.ipvs,
            &session.conn_file,
            &targets.servers,
            timeout,
            &mut clock,
            &mut progress,
        )
    };
    let outcomes = match outcomes {
        Ok(outcomes) => outcomes,
        Err(e) => {
            writeln!(streams.stderr, "replace: {e}")?;
            return Ok(EXIT_KERNEL);
        }
    };
    let gone = |o: &DrainOutcome| {
        matches!(o, DrainOutcome::Removed { .. } | DrainOutcome::Vanished)
    };
    let deletions: Vec<Change> = targets
        .services
        .iter()
        .filter(|(_, servers)| {
            outcomes
                .get(servers.clone())
                .is_some_and(|o| o.iter().all(gone))
        })
        .map(|(service, _)| Change::DelService(service.clone()))
        .collect();
    let mut status = 0;
    let mut deleted = 0;
    match session.ipvs.apply(&deletions) {
        Ok(results) => {
            for (change, result) in deletions.iter().zip(results) {
                match result {
                    Ok(()) => deleted += 1,
                    Err(e) => {
                        if let Change::DelService(service) = change {
                            let label = crate::render::table::service_label(service);
                            writeln!(streams.stderr, "replace: {label}: {e}")?;
                        }
                        status = EXIT_KERNEL;
                    }
                }
            }
        }
        Err(e) => {
            writeln!(streams.stderr, "replace: {e}")?;
            status = EXIT_KERNEL;
        }
    }
    // Real servers deleted by steps of their own; those of a deleted
    // service count with it.
    let mut of_a_service = vec![false; targets.servers.len()];
    for (_, servers) in &targets.services {
        for flag in of_a_service.get_mut(servers.clone()).unwrap_or_default() {
            *flag = true;
        }
    }
    counts.services_deleted = deleted;
    counts.dests_deleted = outcomes
        .iter()
        .zip(&of_a_service)
        .filter(|(o, of_a_service)| {
            !**of_a_service && matches!(o, DrainOutcome::Removed { .. })
        })
        .count();
    writeln!(streams.stdout, "replace: {}", summary(&counts))?;
    let mut left = 0;
    for ((service, dest), outcome) in targets.servers.iter().zip(&outcomes) {
        if matches!(outcome, DrainOutcome::Removed { .. }) {
            continue;
        }
        drain::report(streams, service, dest, outcome)?;
        if !gone(outcome) {
            left += 1;
        }
        // A signal's status says most (as `-d --drain`'s), then a failed
        // deletion's, then that something was left.
        status = match (outcome, status) {
            (DrainOutcome::Stopped { .. }, _) => outcome.exit_status(),
            (_, 0) => outcome.exit_status(),
            (_, status) => status,
        };
    }
    if left > 0 {
        let kept = targets.services.len() - deleted;
        writeln!(
            streams.stderr,
            "replace: {left} real server{} left in place with weight 0{}",
            if left == 1 { "" } else { "s" },
            if kept > 0 {
                format!(
                    ", and {kept} service{} not deleted",
                    if kept == 1 { "" } else { "s" }
                )
            } else {
                String::new()
            }
        )?;
    }
    Ok(status)
}

/// `7 changes applied (services: 1 added, 1 edited, 0 deleted; real
/// servers: 3 added, 1 edited, 1 deleted)`.
pub(super) fn summary(c: &Counts) -> String {
    let total = c.total();
    format!(
        "{total} change{} applied (services: {} added, {} edited, {} deleted; \
         real servers: {} added, {} edited, {} deleted)",
        if total == 1 { "" } else { "s" },
        c.services_added,
        c.services_edited,
        c.services_deleted,
        c.dests_added,
        c.dests_edited,
        c.dests_deleted,
    )
}

mod desired;

#[cfg(test)]
mod tests;
