//! `-R --replace`: make the kernel's table exactly equal to the input.
//!
//! The input (rules in `-S` syntax, or a JSON document turned into them)
//! goes through the `-R` parser and its checks, and must describe a table:
//! `-A` lines, and `-a` lines of services given before them, each once.
//! The table is read once, [`crate::plan`] works out the steps, and then:
//!
//! * with `--dry-run`, the steps are printed as `-R` lines (or as one JSON
//!   document with `--json`) and nothing is changed; the exit status is 0
//!   when there is nothing to do (and nothing is printed), 1 when there
//!   is, 2 when the input is bad, like `diff`'s;
//! * otherwise they are applied in pipelined batches, as `-R` applies
//!   lines (with `--atomic`, all or nothing), and one line on standard
//!   output says what was done, or that the table already matched.

use std::collections::hash_map::Entry;
use std::io;
use std::net::IpAddr;

use super::{Applier, Origin, UndoLog, parse_lines, roll_back};
use rustc_hash::FxHashMap;

use crate::backend::IpvsBackend;
use crate::cli::{Command, RestoreOptions};
use crate::listing;
use crate::model::{Dest, ServiceEntry, ServiceId};
use crate::output::save::{self, RuleCmd, push_rule};
use crate::plan::{self, Counts, Step};
use crate::render::json;
use crate::session::{EXIT_KERNEL, EXIT_USAGE, Session, Streams};

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
    if is_own_save(session, input) {
        if !options.dry_run {
            writeln!(
                streams.stdout,
                "replace: no changes, the table already matches"
            )?;
        }
        return Ok(0);
    }
    let desired = match desired_table(&session.argv0, input) {
        Ok(table) => table,
        Err(errors) => {
            for (line, message) in &errors {
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
            return Ok(EXIT_USAGE);
        }
    };
    let current = match read_current(session.ipvs) {
        Ok(table) => table,
        Err(e) => {
            writeln!(
                streams.stderr,
                "replace: cannot read the current table: {e}"
            )?;
            return Ok(if options.dry_run {
                EXIT_USAGE
            } else {
                EXIT_KERNEL
            });
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
    apply(session, atomic, current, &steps, rules, streams)
}

/// Whether `input` is, byte for byte, what `-Sn` writes of the kernel's
/// table, in lines that say every setting the plan compares
/// ([`save::says_everything`]): then there is nothing to do, known without
/// parsing a line, and checking a table against a file `-Sn` saved (the
/// usual check for drift) costs one `-Sn`. The table is read as `-S` reads
/// it, up to the first service whose lines differ; whatever goes wrong
/// leaves the answer to the plan.
fn is_own_save(session: &mut Session, input: &[u8]) -> bool {
    let Ok(services) = listing::read_services(session.ipvs, false) else {
        return false;
    };
    let mut rest = input;
    let mut lines = Vec::new();
    let names = session.names;
    let differs = || io::Error::other("differs");
    let compared = listing::for_each_entry(session.ipvs, services, |e| {
        if !save::says_everything(&e.service, &e.dests) {
            return Err(differs());
        }
        lines.clear();
        save::write_save_entry(&mut lines, &e.service, &e.dests, true, names)?;
        match rest.strip_prefix(lines.as_slice()) {
            Some(after) => {
                rest = after;
                Ok(())
            }
            None => Err(differs()),
        }
    });
    compared.is_ok() && rest.is_empty()
}

/// The kernel's table, services in ipvsadm's order, read as `-S` reads it
/// (one service's real servers at a time, into one reused vector), each
/// service's real servers then kept in a vector of their number.
fn read_current(ipvs: &mut dyn IpvsBackend) -> Result<Vec<ServiceEntry>, String> {
    let services = listing::read_services(ipvs, false).map_err(|e| e.to_string())?;
    let mut table = Vec::with_capacity(services.len());
    listing::for_each_entry(ipvs, services, |e| {
        table.push(ServiceEntry {
            service: e.service.clone(),
            dests: e.dests.clone(),
        });
        Ok(())
    })
    .map_err(|e| match e {
        listing::ListingError::Kernel(e) => e.to_string(),
        listing::ListingError::Output(e) => e.to_string(),
    })?;
    Ok(table)
}

/// The `-R` line of a step, without its newline.
fn rule_of(step: &Step) -> String {
    let mut buf = Vec::new();
    match step {
        Step::AddService(s) => push_rule(&mut buf, RuleCmd::Add, s, None),
        Step::EditService { after, .. } => {
            push_rule(&mut buf, RuleCmd::Edit, after, None)
        }
        Step::DelService(s) => push_rule(&mut buf, RuleCmd::Del, s, None),
        Step::AddDest(s, d) => push_rule(&mut buf, RuleCmd::Add, s, Some(d)),
        Step::EditDest { service, after, .. } => {
            push_rule(&mut buf, RuleCmd::Edit, service, Some(after))
        }
        Step::DelDest(s, d) => push_rule(&mut buf, RuleCmd::Del, s, Some(d)),
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// Applies `steps` to the table `current` was read from.
fn apply(
    session: &mut Session,
    atomic: bool,
    current: Vec<ServiceEntry>,
    steps: &[Step],
    rules: Vec<String>,
    streams: &mut Streams,
) -> io::Result<i32> {
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
    let mut applier = Applier {
        lines: Vec::new(),
        pending: Vec::new(),
        failures: 0,
        atomic,
        origin: Origin::Plan(rules),
    };
    for (i, step) in steps.iter().enumerate() {
        applier.lines.push(i + 1);
        applier.pending.push(step.change());
        if applier.pending.len() >= super::BATCH {
            applier.flush(session, undo.as_mut(), streams)?;
            if atomic && applier.failures > 0 {
                break;
            }
        }
    }
    applier.flush(session, undo.as_mut(), streams)?;
    let counts = Counts::of(steps);
    if applier.failures == 0 {
        writeln!(streams.stdout, "replace: {}", summary(&counts))?;
        return Ok(0);
    }
    writeln!(
        streams.stderr,
        "replace: {} of {} changes failed",
        applier.failures,
        counts.total()
    )?;
    if let Some(undo) = undo {
        roll_back(session, undo, streams)?;
    }
    Ok(EXIT_KERNEL)
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

/// The table the input describes, in its order, or every bad line with its
/// number and what is wrong with it.
fn desired_table(
    argv0: &str,
    input: &[u8],
) -> Result<Vec<ServiceEntry>, Vec<(usize, String)>> {
    let mut table: Vec<ServiceEntry> = Vec::new();
    // Where each service is in `table`, and the line that gave it.
    let mut services: FxHashMap<ServiceId, (usize, usize)> = FxHashMap::default();
    // Every real server with its service's place in `table` and its line,
    // in one vector: one growing vector per service would cost a table of
    // a hundred thousand real servers several times its size in memory.
    let mut dests: Vec<(usize, usize, Dest)> = Vec::new();
    let mut errors = Vec::new();
    for (line, parsed) in parse_lines(argv0, input) {
        let inv = match parsed {
            Ok(inv) => inv,
            Err(e) => {
                errors.push((line, e.message));
                continue;
            }
        };
        match inv.command {
            Command::AddService(svc) => match services.entry(svc.id) {
                Entry::Occupied(first) => {
                    let first = first.get().1;
                    errors.push((line, format!("the service of line {first} again")));
                }
                Entry::Vacant(place) => {
                    place.insert((table.len(), line));
                    table.push(ServiceEntry {
                        service: svc,
                        dests: Vec::new(),
                    });
                }
            },
            Command::AddDest(svc, dest) => {
                // Real servers mostly follow their service: try it first.
                let i = match table.last() {
                    Some(last) if last.service.id == svc.id => table.len() - 1,
                    _ => match services.get(&svc.id) {
                        Some(&(i, _)) => i,
                        None => {
                            errors.push((
                                line,
                                "a real server of a service no -A line before it gives"
                                    .to_string(),
                            ));
                            continue;
                        }
                    },
                };
                dests.push((i, line, dest));
            }
            _ => errors.push((
                line,
                "only -A and -a lines describe the table for --replace".to_string(),
            )),
        }
    }
    drop(services);
    // Each service's real servers, in input order; one given twice is an
    // error on its second line.
    dests.sort_by_key(|(i, line, _)| (*i, *line));
    let mut counts = vec![0usize; table.len()];
    for (i, _, _) in &dests {
        if let Some(n) = counts.get_mut(*i) {
            *n += 1;
        }
    }
    for (entry, n) in table.iter_mut().zip(counts) {
        entry.dests.reserve_exact(n);
    }
    let mut seen: FxHashMap<(IpAddr, u16), usize> = FxHashMap::default();
    let mut current = usize::MAX;
    for (i, line, d) in dests {
        if i != current {
            seen.clear();
            current = i;
        }
        if let Some(first) = seen.insert((d.addr, d.port), line) {
            errors.push((line, format!("the real server of line {first} again")));
        } else if let Some(entry) = table.get_mut(i) {
            entry.dests.push(d);
        }
    }
    if errors.is_empty() {
        Ok(table)
    } else {
        errors.sort_by_key(|(line, _)| *line);
        Err(errors)
    }
}

#[cfg(test)]
mod tests;
