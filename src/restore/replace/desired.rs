//! The input of `--replace` as the table it describes, parsed only where
//! it can differ from the kernel's.
//!
//! The input is cut into blocks at its `-A` lines ([`Blocks`]). A block
//! whose text is, byte for byte, what `-Sn` writes of a service of the
//! kernel (and those lines say every setting, [`save::says_everything`])
//! describes that service exactly as the kernel has it: it makes no step
//! and is never parsed. The rest is parsed with `-R`'s parser and checks,
//! line numbers kept, as if the whole input were: a line of another block
//! that names a service set aside that way (its `-A` line again, or a real
//! server of it) takes that service's block back into the parse
//! ([`Parsed::Reopen`]), so the table, the errors and the plan are those of
//! the whole input.
//!
//! [`save::says_everything`]: crate::output::save::says_everything

use std::collections::hash_map::Entry;
use std::net::IpAddr;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::cli::Command;
use crate::model::{Dest, ServiceEntry, ServiceId};
use crate::restore::parse_lines;

/// The input cut at the lines that start with `-A `: each block is such
/// a line and the lines after it up to the next one (lines before the
/// first form a block of their own).
pub(super) struct Blocks<'a> {
    input: &'a [u8],
    spans: Vec<Span>,
}

#[derive(Debug, Clone, Copy)]
struct Span {
    start: usize,
    end: usize,
    /// The number of the block's first line (1-based).
    first_line: usize,
}

impl<'a> Blocks<'a> {
    pub(super) fn cut(input: &'a [u8]) -> Blocks<'a> {
        let mut spans = Vec::new();
        let mut start = 0;
        let mut first_line = 1;
        let mut at = 0;
        for (i, line) in input.split_inclusive(|b| *b == b'\n').enumerate() {
            if at > start && line.starts_with(b"-A ") {
                spans.push(Span {
                    start,
                    end: at,
                    first_line,
                });
                start = at;
                first_line = i + 1;
            }
            at += line.len();
        }
        if at > start {
            spans.push(Span {
                start,
                end: at,
                first_line,
            });
        }
        Blocks { input, spans }
    }

    pub(super) fn len(&self) -> usize {
        self.spans.len()
    }

    pub(super) fn text(&self, block: usize) -> &'a [u8] {
        self.spans
            .get(block)
            .and_then(|s| self.input.get(s.start..s.end))
            .unwrap_or_default()
    }

    pub(super) fn first_line(&self, block: usize) -> usize {
        self.spans.get(block).map_or(0, |s| s.first_line)
    }

    /// Where each block that starts with an `-A` line is, by its text; of
    /// blocks with the same text only the first (a second is a service
    /// given twice, which the parse reports).
    pub(super) fn by_text(&self) -> FxHashMap<&'a [u8], usize> {
        let mut map = FxHashMap::default();
        map.reserve(self.spans.len());
        for block in 0..self.spans.len() {
            let text = self.text(block);
            if text.starts_with(b"-A ") {
                map.entry(text).or_insert(block);
            }
        }
        map
    }
}

/// What the parse of the blocks to parse gave.
#[derive(Debug)]
pub(super) enum Parsed {
    /// The table those blocks describe, services in input order.
    Table(Vec<ServiceEntry>),
    /// Every bad line, with its number and what is wrong with it.
    Invalid(Vec<(usize, String)>),
    /// Services set aside that lines parsed name: their blocks must be
    /// parsed too.
    Reopen(Vec<ServiceId>),
}

/// Parses every block but those of the services `set_aside` holds, in
/// input order; a line that names one of those services makes the answer
/// [`Parsed::Reopen`].
pub(super) fn parse(
    argv0: &str,
    blocks: &Blocks,
    set_aside: &FxHashMap<ServiceId, usize>,
) -> Parsed {
    let mut parse = vec![true; blocks.len()];
    for &block in set_aside.values() {
        if let Some(parse) = parse.get_mut(block) {
            *parse = false;
        }
    }
    let mut table: Vec<ServiceEntry> = Vec::new();
    // Where each service is in `table`, and the line that gave it.
    let mut services: FxHashMap<ServiceId, (usize, usize)> = FxHashMap::default();
    // Every real server with its service's place in `table` and its line,
    // in one vector: one growing vector per service would cost a table of
    // a hundred thousand real servers several times its size in memory.
    let mut dests: Vec<(usize, usize, Dest)> = Vec::new();
    let mut errors = Vec::new();
    let mut reopen = FxHashSet::default();
    let lines = (0..blocks.len())
        .filter(|&b| parse.get(b).copied().unwrap_or(true))
        .flat_map(|b| parse_lines(argv0, blocks.text(b), blocks.first_line(b)));
    for (line, parsed) in lines {
        let inv = match parsed {
            Ok(inv) => inv,
            Err(e) => {
                errors.push((line, e.message));
                continue;
            }
        };
        match inv.command {
            Command::AddService(svc) | Command::AddDest(svc, _)
                if set_aside.contains_key(&svc.id) =>
            {
                reopen.insert(svc.id);
            }
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
    if !reopen.is_empty() {
        return Parsed::Reopen(reopen.into_iter().collect());
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
        Parsed::Table(table)
    } else {
        errors.sort_by_key(|(line, _)| *line);
        Parsed::Invalid(errors)
    }
}
