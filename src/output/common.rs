//! Formatting helpers shared by the text, save and connection writers.
//!
//! Lines are assembled as bytes: host and service names come from the
//! system and 1.31 pads and truncates them by bytes, not characters.

use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::model::{Protocol, ServiceFlags};

use crate::name_table;
use crate::resolve::NameResolver;

/// `addrport_to_anyname` formats into a 60-byte buffer with `snprintf`.
pub(crate) const ADDRPORT_MAX: usize = 59;

thread_local! {
    static ENTRY_BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `write` with an empty buffer for one service's lines, the same
/// buffer every time: a fresh one per service made musl's allocator map
/// and unmap memory for most services of a listing.
pub(crate) fn with_entry_buffer<R>(write: impl FnOnce(&mut Vec<u8>) -> R) -> R {
    ENTRY_BUFFER.with_borrow_mut(|buf| {
        buf.clear();
        write(buf)
    })
}

/// printf `%-<width>s`: left-aligned, padded with spaces, never cut.
pub(crate) fn push_left(line: &mut Vec<u8>, text: &[u8], width: usize) {
    let end = line.len() + width;
    line.extend_from_slice(text);
    pad_to(line, end);
}

/// Spaces up to length `end` (none if the line is that long already).
/// Byte by byte: pads are a few bytes, shorter than a `memset` call.
pub(crate) fn pad_to(line: &mut Vec<u8>, end: usize) {
    while line.len() < end {
        line.push(b' ');
    }
}

/// Two-digit numbers `00` to `99`, each at twice its value.
const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
    2021222324252627282930313233343536373839\
    4041424344454647484950515253545556575859\
    6061626364656667686970717273747576777879\
    8081828384858687888990919293949596979899";

/// The two digits of `n` (below 100).
fn pair(n: u32) -> [u8; 2] {
    let from = n as usize * 2;
    [PAIRS[from], PAIRS[from + 1]]
}

/// `value` in decimal. Listings print hundreds of thousands of numbers:
/// this spares `core::fmt` its per-call and per-pad-character work, and
/// the buffer a `memcpy` call per number. A single digit (most counters of
/// an idle table, a JSON document's many zeros) is written in place, with
/// no call; others are short (ports, octets, weights) and take a path of
/// their own; longer ones are made two digits at a time (eight per 64-bit
/// division) in a fixed-size array, copied whole (an inlined copy) and cut
/// to length.
#[inline(always)]
pub(crate) fn push_decimal(line: &mut Vec<u8>, value: u64) {
    if value < 10 {
        line.push(b'0' + value as u8);
    } else {
        push_decimal_from_ten(line, value);
    }
}

/// [`push_decimal`] of 10 and up.
fn push_decimal_from_ten(line: &mut Vec<u8>, value: u64) {
    if value < 1000 {
        let value = value as u32;
        if value < 100 {
            line.extend_from_slice(&pair(value));
        } else {
            line.push(b'0' + (value / 100) as u8);
            line.extend_from_slice(&pair(value % 100));
        }
        return;
    }
    let len = value.checked_ilog10().map_or(1, |log| log as usize + 1);
    let mut digits = [b'0'; 20];
    let mut at = len;
    let mut rest = value;
    while rest >= 100_000_000 {
        let mut low = (rest % 100_000_000) as u32;
        rest /= 100_000_000;
        for _ in 0..4 {
            at -= 2;
            digits[at..at + 2].copy_from_slice(&pair(low % 100));
            low /= 100;
        }
    }
    let mut rest = rest as u32;
    while rest >= 100 {
        at -= 2;
        digits[at..at + 2].copy_from_slice(&pair(rest % 100));
        rest /= 100;
    }
    if rest >= 10 {
        digits[at - 2..at].copy_from_slice(&pair(rest));
    } else {
        digits[at - 1] = b'0' + rest as u8;
    }
    if line.capacity() - line.len() >= digits.len() {
        line.extend_from_slice(&digits);
        line.truncate(line.len() - digits.len() + len);
    } else {
        // Not past a capacity the caller sized for the line.
        line.extend_from_slice(&digits[..len]);
    }
}

/// printf `%-<width>llu`.
pub(crate) fn push_uint_left(line: &mut Vec<u8>, value: u64, width: usize) {
    let end = line.len() + width;
    push_decimal(line, value);
    pad_to(line, end);
}

/// printf `%-<width>d`.
pub(crate) fn push_int_left(line: &mut Vec<u8>, value: i64, width: usize) {
    let end = line.len() + width;
    push_int(line, value);
    pad_to(line, end);
}

/// printf `%d`.
pub(crate) fn push_int(line: &mut Vec<u8>, value: i64) {
    if value < 0 {
        line.push(b'-');
    }
    push_decimal(line, value.unsigned_abs());
}

/// printf `%<width>llu`.
pub(crate) fn push_uint_right(line: &mut Vec<u8>, value: u64, width: usize) {
    let start = line.len();
    push_decimal(line, value);
    let written = line.len() - start;
    if written < width {
        let pad = width - written;
        line.resize(line.len() + pad, b' ');
        line[start..].rotate_right(pad);
    }
}

/// `inet_ntoa`: dotted decimal.
pub(crate) fn push_ipv4(line: &mut Vec<u8>, addr: &Ipv4Addr) {
    line.extend_from_slice(ipv4_text(addr, &mut [0; 15]).as_bytes());
}

/// Dotted decimal `addr` in `text`, as `inet_ntoa` and `Display` write it,
/// without `core::fmt` (listings write one per real server).
pub(crate) fn ipv4_text<'t>(addr: &Ipv4Addr, text: &'t mut [u8; 15]) -> &'t str {
    let mut len = 0;
    for (i, octet) in addr.octets().into_iter().enumerate() {
        if i > 0 {
            text[len] = b'.';
            len += 1;
        }
        if octet >= 100 {
            text[len] = b'0' + octet / 100;
            len += 1;
        }
        if octet >= 10 {
            text[len] = b'0' + octet / 10 % 10;
            len += 1;
        }
        text[len] = b'0' + octet % 10;
        len += 1;
    }
    // SAFETY: only ASCII digits and dots were written, and they are UTF-8.
    // (`str::from_utf8` costs more than the rest of this function.)
    unsafe { std::str::from_utf8_unchecked(&text[..len]) }
}

/// glibc `inet_ntop(AF_INET6)`, which differs from Rust's `Display` for
/// IPv4-compatible addresses (`::10.0.0.1`, not `::a00:1`).
pub(crate) fn ntop6(addr: &Ipv6Addr) -> String {
    let mut text = Vec::with_capacity(40);
    push_ntop6(&mut text, addr);
    String::from_utf8_lossy(&text).into_owned()
}

/// [`ntop6`] appended to `line`.
pub(crate) fn push_ntop6(line: &mut Vec<u8>, addr: &Ipv6Addr) {
    let words = addr.segments();
    // Longest run of zero words (the first one on ties), if at least 2.
    let mut best: Option<(usize, usize)> = None;
    let mut current: Option<(usize, usize)> = None;
    for (i, word) in words.iter().enumerate() {
        if *word == 0 {
            current = Some(match current {
                Some((base, len)) => (base, len + 1),
                None => (i, 1),
            });
        } else if let Some(run) = current.take() {
            if best.is_none_or(|b| run.1 > b.1) {
                best = Some(run);
            }
        }
    }
    if let Some(run) = current {
        if best.is_none_or(|b| run.1 > b.1) {
            best = Some(run);
        }
    }
    let best = best.filter(|b| b.1 >= 2);

    let mut i = 0;
    while i < 8 {
        if let Some((base, len)) = best {
            if i >= base && i < base + len {
                if i == base {
                    line.push(b':');
                }
                i += 1;
                continue;
            }
        }
        if i != 0 {
            line.push(b':');
        }
        // IPv4-compatible (`::a.b.c.d`) and IPv4-mapped (`::ffff:a.b.c.d`).
        let embedded_v4 = i == 6
            && match best {
                Some((0, 6)) => true,
                Some((0, 5)) => words[5] == 0xffff,
                _ => false,
            };
        if embedded_v4 {
            let o = addr.octets();
            push_ipv4(line, &Ipv4Addr::new(o[12], o[13], o[14], o[15]));
            return;
        }
        // Writing to a Vec cannot fail.
        let _ = write!(line, "{:x}", words[i]);
        i += 1;
    }
    if let Some((base, len)) = best {
        if base + len == 8 {
            line.push(b':');
        }
    }
}

/// `inet_ntop` for either family.
pub(crate) fn ntop(addr: &IpAddr) -> String {
    match addr {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => ntop6(v6),
    }
}

/// The protocol name `getservbyport` is asked with, if any: 1.31 looks up
/// only TCP, UDP and SCTP ports (fwmark services have protocol 0).
pub(crate) fn service_proto(protocol: Option<Protocol>) -> Option<&'static str> {
    name_table::protocol(protocol?).map(|names| names.lower)
}

/// `addrport_to_anyname`: `addr:port`, IPv6 in brackets, names unless
/// `numeric`, cut to 59 bytes.
pub(crate) fn addrport_to_anyname(
    addr: &IpAddr,
    port: u16,
    proto: Option<&str>,
    numeric: bool,
    names: &dyn NameResolver,
) -> Vec<u8> {
    let mut text = Vec::new();
    push_addrport(&mut text, addr, port, proto, numeric, names);
    text
}

/// [`addrport_to_anyname`] appended to `line`: listings write one per real
/// server, so the usual case (numeric IPv4) takes no buffer of its own.
pub(crate) fn push_addrport(
    line: &mut Vec<u8>,
    addr: &IpAddr,
    port: u16,
    proto: Option<&str>,
    numeric: bool,
    names: &dyn NameResolver,
) {
    let (open, close) = match addr {
        IpAddr::V4(a) if numeric => {
            // At most 21 bytes: never cut.
            push_ipv4(line, a);
            line.push(b':');
            push_decimal(line, u64::from(port));
            return;
        }
        IpAddr::V6(a) if numeric => {
            // At most 54 bytes (`[` 45 `]:` 5): never cut.
            line.push(b'[');
            push_ntop6(line, a);
            line.extend_from_slice(b"]:");
            push_decimal(line, u64::from(port));
            return;
        }
        IpAddr::V4(_) => ("", ""),
        IpAddr::V6(_) => ("[", "]"),
    };
    let host = names.host(addr).unwrap_or_else(|| ntop(addr));
    let service = proto
        .and_then(|p| names.service(port, p))
        .unwrap_or_else(|| port.to_string());
    let start = line.len();
    line.extend_from_slice(format!("{open}{host}{close}:{service}").as_bytes());
    line.truncate(start + ADDRPORT_MAX);
}

/// `print_sched_flags`: the names of the set SCHED1..3 bits, joined by `,`,
/// appended to `line`.
pub(crate) fn push_sched_flag_names(
    line: &mut Vec<u8>,
    scheduler: &str,
    flags: ServiceFlags,
) {
    for (i, name) in name_table::sched_flags(scheduler, flags).enumerate() {
        if i > 0 {
            line.push(b',');
        }
        line.extend_from_slice(name.as_bytes());
    }
}

/// Whether any scheduler flag bit is set (1.31 then prints the flag list,
/// even when it comes out empty).
pub(crate) fn has_sched_flags(flags: ServiceFlags) -> bool {
    flags.intersects(ServiceFlags::SCHED1 | ServiceFlags::SCHED2 | ServiceFlags::SCHED3)
}

/// `print_largenum`: a 64-bit counter in a 9-column field, scaled to
/// K/M/G/T (thresholds 1e8/1e9/1e11/1e14) unless `exact`.
pub(crate) fn push_largenum(line: &mut Vec<u8>, value: u64, exact: bool) {
    if value < 100_000_000 {
        return push_uint_right(line, value, 9);
    }
    if exact {
        // %9llu, or wider with one leading space when it has more digits.
        line.push(b' ');
        return push_decimal(line, value);
    }
    let (scaled, unit) = if value < 1_000_000_000 {
        (value / 1_000, b'K')
    } else if value < 100_000_000_000 {
        (value / 1_000_000, b'M')
    } else if value < 100_000_000_000_000 {
        (value / 1_000_000_000, b'G')
    } else {
        (value / 1_000_000_000_000, b'T')
    };
    push_uint_right(line, scaled, 8);
    line.push(unit);
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The hand-written number and address writers print exactly
        /// what the printf-style formats they replace print.
        #[test]
        fn number_writers_match_core_fmt(v in proptest::num::u64::ANY, i in proptest::num::i64::ANY,
                                         width in 0usize..24, octets in proptest::array::uniform4(0u8..),
                                         small in 0u64..=u64::from(u32::MAX) + 1) {
            let run = |f: &dyn Fn(&mut Vec<u8>)| { let mut line = b"x".to_vec(); f(&mut line); String::from_utf8(line).unwrap() };
            proptest::prop_assert_eq!(run(&|l| push_decimal(l, v)), format!("x{v}"));
            proptest::prop_assert_eq!(run(&|l| push_decimal(l, small)), format!("x{small}"));
            proptest::prop_assert_eq!(run(&|l| push_uint_left(l, v, width)), format!("x{v:<width$}"));
            proptest::prop_assert_eq!(run(&|l| push_uint_right(l, v, width)), format!("x{v:>width$}"));
            proptest::prop_assert_eq!(run(&|l| push_int_left(l, i, width)), format!("x{i:<width$}"));
            let addr = Ipv4Addr::from(octets);
            proptest::prop_assert_eq!(run(&|l| push_ipv4(l, &addr)), format!("x{addr}"));
        }
    }

    #[test]
    fn decimals_of_every_length() {
        let mut values = vec![0, 1, 9, u64::MAX, u64::MAX - 1];
        for power in (1..20).map(|n| 10u64.pow(n)) {
            values.extend([power - 1, power, power + 1, power / 2 * 3]);
        }
        for v in values {
            let mut line = b"x".to_vec();
            push_decimal(&mut line, v);
            assert_eq!(String::from_utf8(line).unwrap(), format!("x{v}"));
        }
    }

    fn largenum(value: u64, exact: bool) -> String {
        let mut line = Vec::new();
        push_largenum(&mut line, value, exact);
        String::from_utf8_lossy(&line).into_owned()
    }

    #[test]
    fn largenum_scaling_matches_spec_examples() {
        assert_eq!(largenum(0, false), "        0");
        assert_eq!(largenum(99_999_999, false), " 99999999");
        assert_eq!(largenum(100_000_000, false), "  100000K");
        assert_eq!(largenum(315_234_604, false), "  315234K");
        assert_eq!(largenum(1_234_567_890, false), "    1234M");
        assert_eq!(largenum(99_999_999_999, false), "   99999M");
        assert_eq!(largenum(100_000_000_000, false), "     100G");
        assert_eq!(largenum(99_999_999_999_999, false), "   99999G");
        assert_eq!(largenum(100_000_000_000_000, false), "     100T");
        assert_eq!(largenum(u64::MAX, false), "18446744T");
    }

    #[test]
    fn largenum_exact_keeps_a_leading_space() {
        assert_eq!(largenum(123, true), "      123");
        assert_eq!(largenum(12_345_678, true), " 12345678");
        assert_eq!(largenum(123_456_789, true), " 123456789");
        assert_eq!(largenum(123_456_789_012, true), " 123456789012");
    }

    #[test]
    fn ntop6_matches_glibc() {
        let cases = [
            ("::", "::"),
            ("::1", "::1"),
            ("2001:db8::1", "2001:db8::1"),
            ("2001:db8:0:1:0:0:0:1", "2001:db8:0:1::1"),
            ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),
            ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
            ("::ffff:10.0.0.1", "::ffff:10.0.0.1"),
            ("::10.0.0.1", "::10.0.0.1"),
            ("::ffff:0:0", "::ffff:0.0.0.0"),
            ("1::", "1::"),
            (
                "2001:db8:ffff:ffff:ffff:ffff:ffff:fffe",
                "2001:db8:ffff:ffff:ffff:ffff:ffff:fffe",
            ),
            ("2001:db8::8:80", "2001:db8::8:80"),
            ("0:0:1::", "0:0:1::"),
        ];
        for (input, expected) in cases {
            let addr: Ipv6Addr = input.parse().expect("test address");
            assert_eq!(ntop6(&addr), expected, "{input}");
        }
    }

    #[test]
    fn sched_flags_per_scheduler() {
        let names = |scheduler: &str, flags: ServiceFlags| {
            let mut line = b"-b ".to_vec();
            push_sched_flag_names(&mut line, scheduler, flags);
            String::from_utf8(line).expect("names are ASCII")
        };
        let all = ServiceFlags::SCHED1 | ServiceFlags::SCHED2 | ServiceFlags::SCHED3;
        assert_eq!(names("sh", all), "-b sh-fallback,sh-port");
        assert_eq!(names("mh", ServiceFlags::SCHED2), "-b mh-port");
        assert_eq!(names("sh", ServiceFlags::SCHED3), "-b ");
        assert_eq!(
            names("rr", ServiceFlags::SCHED1 | ServiceFlags::SCHED3),
            "-b flag-1,flag-3"
        );
    }
}
