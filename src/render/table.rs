//! A human table of services and their real servers (`--format table`),
//! built with comfy-table: numbers scaled for reading, each real server's
//! share of its service's connections as a percentage, fitted to the
//! terminal width when there is a terminal.

use comfy_table::{Cell, CellAlignment, ContentArrangement, Table, presets};

use crate::model::{Dest, FwdMethod, Service, ServiceAddr, ServiceEntry};

/// Scales a count for reading: `999`, `1.2K`, `45.3M`, `7.0G`, `1.1T`.
pub fn human(n: u64) -> String {
    const UNITS: [(u64, &str); 4] = [
        (1_000_000_000_000, "T"),
        (1_000_000_000, "G"),
        (1_000_000, "M"),
        (1_000, "K"),
    ];
    for (div, unit) in UNITS {
        if n >= div {
            // One decimal, truncated so that a value never rounds up a unit.
            let tenths = n / (div / 10);
            return format!("{}.{}{unit}", tenths / 10, tenths % 10);
        }
    }
    n.to_string()
}

/// `part` as a percentage of `whole`, one decimal; `-` when `whole` is 0.
pub fn share(part: u64, whole: u128) -> String {
    if whole == 0 {
        return "-".to_string();
    }
    // `part` is one of the counters `whole` sums: at most 100.0%.
    let part = u128::from(part).min(whole);
    let tenths = (part * 1000 + whole / 2) / whole;
    format!("{}.{}%", tenths / 10, tenths % 10)
}

pub fn service_label(s: &Service) -> String {
    service_id_label(&s.id)
}

/// [`service_label`] of the service with this id.
pub fn service_id_label(id: &crate::model::ServiceId) -> String {
    let mut text = Vec::with_capacity(32);
    push_service_id_label(&mut text, id);
    String::from_utf8(text).unwrap_or_default()
}

/// [`service_id_label`] appended to `buf`, without a `String` of its own
/// (the `--watch --json` line writes one per service per tick).
pub(crate) fn push_service_id_label(buf: &mut Vec<u8>, id: &crate::model::ServiceId) {
    use crate::output::common::{push_decimal, push_ipv4};
    use std::io::Write;
    match id.addr {
        ServiceAddr::Inet {
            protocol,
            addr,
            port,
        } => {
            match crate::name_table::protocol(protocol) {
                Some(names) => buf.extend_from_slice(names.upper.as_bytes()),
                None => {
                    buf.extend_from_slice(b"proto ");
                    push_decimal(buf, u64::from(protocol.raw()));
                }
            }
            buf.push(b' ');
            match addr {
                std::net::IpAddr::V4(a) => push_ipv4(buf, &a),
                std::net::IpAddr::V6(a) => {
                    // Writing to a `Vec` cannot fail.
                    let _ = write!(buf, "[{a}]");
                }
            }
            buf.push(b':');
            push_decimal(buf, u64::from(port));
        }
        ServiceAddr::Fwmark(m) => {
            buf.extend_from_slice(b"FWM ");
            push_decimal(buf, u64::from(m));
            buf.extend_from_slice(
                crate::name_table::fwmark_family_suffix(id.family).as_bytes(),
            );
        }
    }
}

pub fn dest_label(d: &Dest) -> String {
    match d.addr {
        std::net::IpAddr::V4(a) => format!("{a}:{}", d.port),
        std::net::IpAddr::V6(a) => format!("[{a}]:{}", d.port),
    }
}

/// The Sched/Fwd column of a real server: ipvsadm's name, or the number.
pub fn fwd_name(f: FwdMethod) -> String {
    crate::name_table::fwd_method(f)
        .ipvsadm
        .map_or_else(|| format!("({})", f.raw()), str::to_string)
}

const HEADER: [&str; 13] = [
    "Service / real server",
    "Sched/Fwd",
    "Weight",
    "Active",
    "Inact",
    "Conns",
    "Share",
    "InPkts",
    "OutPkts",
    "InBytes",
    "OutBytes",
    "CPS",
    "InBPS",
];

fn right(s: String) -> Cell {
    Cell::new(s).set_alignment(CellAlignment::Right)
}

/// Columns in the order they are left out when the terminal is too
/// narrow (the service, its connections and the shares stay longest).
const DROP_ORDER: [usize; 10] = [10, 8, 9, 7, 12, 11, 2, 4, 1, 3];

/// Renders the table; `width` fits it to a terminal of that many columns:
/// whole columns are left out, least useful first, until it fits; only
/// when even the service, connection and share columns do not fit are
/// cells wrapped.
pub fn render(entries: &[ServiceEntry], width: Option<u16>) -> String {
    let rows = rows(entries);
    let Some(width) = width else {
        return build(&rows, &[true; 13], None);
    };
    let mut keep = [true; 13];
    let mut text = build(&rows, &keep, None);
    for col in DROP_ORDER {
        if fits(&text, width) {
            return text;
        }
        keep[col] = false;
        text = build(&rows, &keep, None);
    }
    if fits(&text, width) {
        text
    } else {
        build(&rows, &keep, Some(width))
    }
}

fn fits(text: &str, width: u16) -> bool {
    text.lines()
        .all(|l| l.chars().count() <= usize::from(width))
}

fn build(rows: &[Vec<Cell>], keep: &[bool; 13], wrap: Option<u16>) -> String {
    let mut t = Table::new();
    t.load_style(presets::UTF8_BORDERS_ONLY);
    let pick = |cells: Vec<Cell>| -> Vec<Cell> {
        cells
            .into_iter()
            .zip(keep)
            .filter(|(_, k)| **k)
            .map(|(c, _)| c)
            .collect()
    };
    t.set_header(pick(HEADER.iter().map(|h| Cell::new(*h)).collect()));
    match wrap {
        Some(w) => {
            t.set_content_arrangement(ContentArrangement::Dynamic);
            t.set_width(w);
        }
        None => {
            t.set_content_arrangement(ContentArrangement::Disabled);
        }
    }
    for row in rows {
        t.add_row(pick(row.clone()));
    }
    format!("{t}\n")
}

/// Every cell of every row, all 13 columns.
fn rows(entries: &[ServiceEntry]) -> Vec<Vec<Cell>> {
    let mut rows = Vec::new();
    for e in entries {
        let s = &e.service;
        // Wide enough that no real servers' counters can overflow it.
        let total: u128 = e.dests.iter().map(|d| u128::from(d.stats.conns)).sum();
        rows.push(vec![
            Cell::new(service_label(s)),
            Cell::new(s.scheduler),
            Cell::new(""),
            right(human(
                e.dests.iter().map(|d| u64::from(d.active_conns)).sum(),
            )),
            right(human(
                e.dests.iter().map(|d| u64::from(d.inact_conns)).sum(),
            )),
            right(human(s.stats.conns)),
            right(String::new()),
            right(human(s.stats.inpkts)),
            right(human(s.stats.outpkts)),
            right(human(s.stats.inbytes)),
            right(human(s.stats.outbytes)),
            right(human(s.stats.cps)),
            right(human(s.stats.inbps)),
        ]);
        for d in &e.dests {
            rows.push(vec![
                Cell::new(format!("  -> {}", dest_label(d))),
                Cell::new(fwd_name(d.fwd)),
                right(d.weight.to_string()),
                right(human(u64::from(d.active_conns))),
                right(human(u64::from(d.inact_conns))),
                right(human(d.stats.conns)),
                right(share(d.stats.conns, total)),
                right(human(d.stats.inpkts)),
                right(human(d.stats.outpkts)),
                right(human(d.stats.inbytes)),
                right(human(d.stats.outbytes)),
                right(human(d.stats.cps)),
                right(human(d.stats.inbps)),
            ]);
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_scaled_without_rounding_up() {
        assert_eq!(human(0), "0");
        assert_eq!(human(999), "999");
        assert_eq!(human(1000), "1.0K");
        assert_eq!(human(45_399), "45.3K");
        assert_eq!(human(999_999), "999.9K");
        assert_eq!(human(1_000_000), "1.0M");
        assert_eq!(human(7_049_999_999), "7.0G");
        assert_eq!(human(u64::MAX), "18446744.0T");
    }

    #[test]
    fn shares_are_percentages_of_the_service() {
        assert_eq!(share(34, 100), "34.0%");
        assert_eq!(share(1, 3), "33.3%");
        assert_eq!(share(2, 3), "66.7%");
        assert_eq!(share(0, 0), "-");
        assert_eq!(share(u64::MAX, u128::from(u64::MAX)), "100.0%");
        // Counters whose sum is past u64::MAX.
        assert_eq!(share(u64::MAX, u128::from(u64::MAX) * 2), "50.0%");
    }
}
