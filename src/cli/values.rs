//! Value parsers with ipvsadm's (and glibc's) exact acceptance rules:
//! `strtol`-style integers, `inet_aton` addresses, `host[:port]` service
//! addresses with name lookups, fwmarks, timeouts, netmasks, scheduler
//! flags.

use std::ffi::{CStr, CString};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::model::{Family, Protocol, ServiceFlags, TunnelType};

/// Longest persistence / connection timeout: 31 days.
pub(crate) const MAX_TIMEOUT: i64 = 2_678_400;
/// `IPVS_SVC_PERSISTENT_TIMEOUT`: `-p` without a value.
pub(crate) const DEFAULT_PERSISTENT_TIMEOUT: u32 = 360;

fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// `strtol(s, &end, 10)` read up to `end`: returns the value (saturated on
/// overflow, with the overflow flag) and how many bytes were consumed (0
/// when no digit was found).
fn strtol_prefix(s: &str) -> (i64, bool, usize) {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() && is_c_space(bytes[i]) {
        i += 1;
    }
    let negative = match bytes.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let digits_start = i;
    let mut value: i64 = 0;
    let mut overflow = false;
    while let Some(d) = bytes.get(i).filter(|b| b.is_ascii_digit()) {
        let digit = i64::from(d - b'0');
        let next = value.checked_mul(10).and_then(|v| {
            if negative {
                v.checked_sub(digit)
            } else {
                v.checked_add(digit)
            }
        });
        match next {
            Some(v) => value = v,
            None => {
                overflow = true;
                value = if negative { i64::MIN } else { i64::MAX };
            }
        }
        i += 1;
    }
    if i == digits_start {
        return (0, false, 0);
    }
    (value, overflow, i)
}

/// A whole-string `strtol`: `None` for no digits, trailing junk or ERANGE.
pub(crate) fn strtol_exact(s: &str) -> Option<i64> {
    let (value, overflow, used) = strtol_prefix(s);
    (used > 0 && used == s.len() && !overflow).then_some(value)
}

/// ipvsadm's `string_to_number(s, min, max)`.
pub(crate) fn string_to_number(s: &str, min: i64, max: i64) -> Option<i64> {
    strtol_exact(s).filter(|n| (min..=max).contains(n))
}

/// glibc `atoi`: `(int) strtol(s, NULL, 10)` with no error checks.
pub(crate) fn atoi(s: &str) -> i32 {
    let (value, _, _) = strtol_prefix(s);
    value as i32
}

/// glibc `inet_aton`: 1 to 4 parts, each decimal, octal (`0` prefix) or hex
/// (`0x`); the last part fills the remaining bytes; anything after a
/// whitespace character is ignored.
pub(crate) fn inet_aton(s: &str) -> Option<Ipv4Addr> {
    let bytes = s.as_bytes();
    // The parts before the last (at most three), without a heap vector.
    let mut parts = [0u32; 3];
    let mut count = 0;
    let mut i = 0;
    let last: u64;
    loop {
        if !bytes.get(i).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        let mut base = 10;
        if bytes[i] == b'0' {
            i += 1;
            if matches!(bytes.get(i), Some(b'x' | b'X')) {
                base = 16;
                i += 1;
            } else {
                base = 8;
            }
        }
        let mut value: u64 = 0;
        while let Some(&c) = bytes.get(i) {
            let digit = match c {
                b'0'..=b'9' if base == 8 && c >= b'8' => return None,
                b'0'..=b'9' => u64::from(c - b'0'),
                b'a'..=b'f' if base == 16 => u64::from(c - b'a' + 10),
                b'A'..=b'F' if base == 16 => u64::from(c - b'A' + 10),
                _ => break,
            };
            value = value * base + digit;
            if value > u64::from(u32::MAX) {
                return None;
            }
            i += 1;
        }
        if bytes.get(i) == Some(&b'.') {
            if count > 2 || value > 0xff {
                return None;
            }
            parts[count] = value as u32;
            count += 1;
            i += 1;
        } else {
            last = value;
            break;
        }
    }
    if bytes.get(i).is_some_and(|c| !is_c_space(*c)) {
        return None;
    }
    let max_last: u64 = match count {
        0 => 0xffff_ffff,
        1 => 0x00ff_ffff,
        2 => 0xffff,
        _ => 0xff,
    };
    if last > max_last {
        return None;
    }
    let mut addr = last as u32;
    for (n, part) in parts[..count].iter().enumerate() {
        addr |= part << (24 - 8 * n);
    }
    Some(Ipv4Addr::from(addr))
}

/// glibc answers these without any lookup (`__nss_hostname_digits_dots`):
/// numeric-looking names that are not valid addresses are simply unknown.
fn looks_numeric(name: &str) -> bool {
    let b = name.as_bytes();
    let Some(&first) = b.first() else {
        return true;
    };
    if first.is_ascii_digit() && b.iter().all(|c| c.is_ascii_digit() || *c == b'.') {
        return true;
    }
    (first == b':' || (first.is_ascii_hexdigit() && name.contains(':')))
        && b.iter()
            .all(|c| c.is_ascii_hexdigit() || *c == b':' || *c == b'.')
}

#[cfg(test)]
thread_local! {
    /// Lets tests that feed arbitrary words avoid real DNS queries.
    pub(crate) static NO_HOST_LOOKUPS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// `gethostbyname(name)`, IPv4 and the first address only, as ipvsadm's
/// `host_to_addr` does (the hosts file, DNS, ... per nsswitch).
pub(crate) fn resolve_ipv4_host(name: &str) -> Option<Ipv4Addr> {
    // Fuzzing must not query the resolver (files, DNS).
    if looks_numeric(name) || cfg!(fuzzing) {
        return None;
    }
    #[cfg(test)]
    if NO_HOST_LOOKUPS.with(std::cell::Cell::get) && name != "localhost" {
        return None;
    }
    system_ipv4_host(name).or_else(|| {
        let hosts = std::fs::read_to_string("/etc/hosts").ok()?;
        ipv4_of_ipv6_hosts_line(&hosts, name)
    })
}

/// glibc's hosts file answers an IPv4 lookup with `127.0.0.1` for a name on
/// a `::1` line and with the IPv4 address of a v4-mapped `::ffff:a.b.c.d`
/// line (so 1.31 takes `ip6-localhost` as `127.0.0.1`); musl skips such
/// lines. The first such line naming `name` (case-insensitively), if any.
fn ipv4_of_ipv6_hosts_line(hosts: &str, name: &str) -> Option<Ipv4Addr> {
    hosts.lines().find_map(|line| {
        let line = line.split('#').next().unwrap_or_default();
        let mut words = line.split_whitespace();
        let addr: std::net::Ipv6Addr = words.next()?.parse().ok()?;
        if !words.any(|word| word.eq_ignore_ascii_case(name)) {
            return None;
        }
        if addr.is_loopback() {
            Some(Ipv4Addr::LOCALHOST)
        } else {
            addr.to_ipv4_mapped()
        }
    })
}

/// `gethostbyname_r` of the C library, IPv4 and the first address only.
fn system_ipv4_host(name: &str) -> Option<Ipv4Addr> {
    let c_name = CString::new(name).ok()?;
    let mut buf: Vec<libc::c_char> = vec![0; 1024];
    loop {
        // SAFETY: every pointer passed is valid for the call: `c_name` is
        // NUL-terminated, `host` and `buf` outlive it and `buf.len()` is the
        // buffer's real size. On success `result` points at `host`, whose
        // pointers point into `buf`; they are read before `buf` changes.
        unsafe {
            let mut host: libc::hostent = std::mem::zeroed();
            let mut result: *mut libc::hostent = std::ptr::null_mut();
            let mut h_errno: libc::c_int = 0;
            let rc = gethostbyname_r(
                c_name.as_ptr(),
                &mut host,
                buf.as_mut_ptr(),
                buf.len(),
                &mut result,
                &mut h_errno,
            );
            if rc == libc::ERANGE && buf.len() < MAX_LOOKUP_BUFFER {
                buf.resize(buf.len() * 2, 0);
                continue;
            }
            if rc != 0 || result.is_null() {
                return None;
            }
            let host = &*result;
            if host.h_addrtype != libc::AF_INET
                || host.h_length != 4
                || host.h_addr_list.is_null()
            {
                return None;
            }
            // ipvsadm uses the first address only.
            let first = *host.h_addr_list;
            if first.is_null() {
                return None;
            }
            let octets = std::slice::from_raw_parts(first as *const u8, 4);
            return Some(Ipv4Addr::new(octets[0], octets[1], octets[2], octets[3]));
        }
    }
}

/// Largest buffer offered to the `*_r` lookups for one answer.
const MAX_LOOKUP_BUFFER: usize = 1 << 20;

// SAFETY: this signature is the one <netdb.h> declares in glibc and musl.
unsafe extern "C" {
    /// The reentrant `gethostbyname` (glibc and musl), so that lookups
    /// behave exactly like ipvsadm's `host_to_addr`.
    fn gethostbyname_r(
        name: *const libc::c_char,
        ret: *mut libc::hostent,
        buf: *mut libc::c_char,
        buflen: libc::size_t,
        result: *mut *mut libc::hostent,
        h_errnop: *mut libc::c_int,
    ) -> libc::c_int;

    /// The reentrant `getservbyname`, as ipvsadm's `service_to_port` uses.
    fn getservbyname_r(
        name: *const libc::c_char,
        proto: *const libc::c_char,
        result_buf: *mut libc::servent,
        buf: *mut libc::c_char,
        buflen: libc::size_t,
        result: *mut *mut libc::servent,
    ) -> libc::c_int;
}

/// `getservbyname(name, proto)` for the protocols ipvsadm looks names up
/// with (others, and a real server given before its service, never match).
pub(crate) fn service_port(name: &str, protocol: Option<Protocol>) -> Option<u16> {
    let proto: &CStr = match protocol? {
        Protocol::Tcp => c"tcp",
        Protocol::Udp => c"udp",
        Protocol::Sctp => c"sctp",
        Protocol::Other(_) => return None,
    };
    if cfg!(fuzzing) {
        return None;
    }
    let c_name = CString::new(name).ok()?;
    let mut buf: Vec<libc::c_char> = vec![0; 1024];
    loop {
        // SAFETY: every pointer passed is valid for the call: both names are
        // NUL-terminated, `entry` and `buf` outlive it and `buf.len()` is the
        // buffer's real size. `result` is only read on success.
        unsafe {
            let mut entry: libc::servent = std::mem::zeroed();
            let mut result: *mut libc::servent = std::ptr::null_mut();
            let rc = getservbyname_r(
                c_name.as_ptr(),
                proto.as_ptr(),
                &mut entry,
                buf.as_mut_ptr(),
                buf.len(),
                &mut result,
            );
            if rc == libc::ERANGE && buf.len() < MAX_LOOKUP_BUFFER {
                buf.resize(buf.len() * 2, 0);
                continue;
            }
            if rc != 0 || result.is_null() {
                return None;
            }
            // The port is a network-order 16-bit value stored in an int.
            return Some(u16::from_be((*result).s_port as u16));
        }
    }
}

/// What ipvsadm's `parse_service` found in `host[:port]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HostPort {
    pub family: Family,
    pub addr: IpAddr,
    /// `None` when no port was given (ipvsadm's `SERVICE_ADDR` only).
    pub port: Option<u16>,
}

/// ipvsadm's `parse_service`: `[v6]:port`, bare IPv6 (never with a port),
/// IPv4 in any `inet_aton` form or an IPv4 host name, then `:port` as a
/// number or a service name for `protocol`.
pub(crate) fn parse_host_port(buf: &str, protocol: Option<Protocol>) -> Option<HostPort> {
    if buf.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut host = buf;
    // Text after the ':' that precedes the port, when there is one.
    let mut port_text: Option<&str> = None;
    if let Some(inner) = buf.strip_prefix('[') {
        let (inside, after) = inner.split_once(']')?;
        port_text = Some(after.strip_prefix(':')?);
        host = inside;
    }
    // Every IPv6 address has two colons at least: IPv4 skips that parser.
    let maybe_v6 = host.bytes().filter(|b| *b == b':').nth(1).is_some();
    let (family, addr) =
        if let Some(v6) = maybe_v6.then(|| host.parse::<Ipv6Addr>().ok()).flatten() {
            (Family::Inet6, IpAddr::V6(v6))
        } else {
            // The IPv4 branch looks for the port again in what is left, so a
            // bracketed IPv4 address loses its port, as in ipvsadm.
            port_text = None;
            if let Some((h, p)) = host.rsplit_once(':') {
                host = h;
                port_text = Some(p);
            }
            let v4 = inet_aton(host).or_else(|| resolve_ipv4_host(host))?;
            (Family::Inet, IpAddr::V4(v4))
        };
    let port = match port_text {
        None => None,
        Some(p) => Some(
            string_to_number(p, 0, 65535)
                .map(|n| n as u16)
                .or_else(|| service_port(p, protocol))?,
        ),
    };
    Some(HostPort { family, addr, port })
}

/// ipvsadm's `parse_fwmark`: 1..=4294967295 in decimal.
pub(crate) fn parse_fwmark(buf: &str) -> Result<u32, String> {
    strtol_exact(buf)
        .and_then(|n| u32::try_from(n).ok())
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("invalid fwmark value `{buf}' specified"))
}

/// ipvsadm's `parse_timeout(buf, min, max)`.
pub(crate) fn parse_timeout(buf: &str, min: i64) -> Result<u32, String> {
    string_to_number(buf, min, MAX_TIMEOUT)
        .map(|n| n as u32)
        .ok_or_else(|| format!("invalid timeout value `{buf}' specified"))
}

/// An IPv4 persistence mask (`inet_aton`, else an IPv4 host name).
pub(crate) fn parse_netmask_v4(buf: &str) -> Option<Ipv4Addr> {
    inet_aton(buf).or_else(|| resolve_ipv4_host(buf))
}

/// An IPv6 persistence prefix: `atoi`, 1..=128.
pub(crate) fn parse_netmask_v6(buf: &str) -> Option<u32> {
    let prefix = atoi(buf) as u32;
    (1..=128).contains(&prefix).then_some(prefix)
}

/// ipvsadm's `parse_sched_flags`, checked against `scheduler` (or `wlc`).
/// An argument without any flag (`,`) crashes ipvsadm; we reject it.
pub(crate) fn parse_sched_flags(
    scheduler: &str,
    arg: &str,
) -> Result<ServiceFlags, String> {
    let scheduler = if scheduler.is_empty() {
        "wlc"
    } else {
        scheduler
    };
    let mut flags = ServiceFlags::empty();
    let mut any = false;
    for flag in arg.split(',').filter(|f| !f.is_empty()) {
        any = true;
        let (bit, needs) = match flag {
            "flag-1" => (ServiceFlags::SCHED1, None),
            "flag-2" => (ServiceFlags::SCHED2, None),
            "flag-3" => (ServiceFlags::SCHED3, None),
            "sh-fallback" => (ServiceFlags::SCHED1, Some("sh")),
            "sh-port" => (ServiceFlags::SCHED2, Some("sh")),
            "mh-fallback" => (ServiceFlags::SCHED1, Some("mh")),
            "mh-port" => (ServiceFlags::SCHED2, Some("mh")),
            _ => return Err(format!("invalid scheduler flag `{flag}'")),
        };
        flags |= bit;
        if needs.is_some_and(|s| s != scheduler) {
            return Err(format!("incompatible scheduler flag `{flag}'"));
        }
    }
    if !any {
        return Err(format!(
            "no scheduler flag in `{arg}' (expected a comma-separated list such as sh-port,sh-fallback)"
        ));
    }
    Ok(flags)
}

/// `--tun-type`.
pub(crate) fn parse_tun_type(buf: &str) -> Option<TunnelType> {
    match buf {
        "ipip" => Some(TunnelType::Ipip),
        "gue" => Some(TunnelType::Gue),
        "gre" => Some(TunnelType::Gre),
        _ => None,
    }
}

/// `--mcast-group`: IPv6 when it contains ':', else IPv4; multicast only.
pub(crate) fn parse_mcast_group(buf: &str) -> Result<IpAddr, String> {
    if buf.contains(':') {
        buf.parse::<Ipv6Addr>()
            .ok()
            .filter(Ipv6Addr::is_multicast)
            .map(IpAddr::V6)
            .ok_or_else(|| format!("invalid IPv6 mcast-group `{buf}'"))
    } else {
        buf.parse::<Ipv4Addr>()
            .ok()
            .filter(Ipv4Addr::is_multicast)
            .map(IpAddr::V4)
            .ok_or_else(|| format!("invalid IPv4 mcast-group `{buf}'"))
    }
}

/// Copies at most `max` bytes of `s`, as `strncpy` into a fixed buffer
/// does (never splitting a character).
pub(crate) fn truncate_bytes(s: &str, max: usize) -> String {
    crate::model::prefix_within(s, max).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strtol_rules() {
        let cases: [(&str, Option<i64>); 12] = [
            ("7", Some(7)),
            ("+5", Some(5)),
            (" 6", Some(6)),
            ("007", Some(7)),
            ("-1", Some(-1)),
            ("7 ", None),
            ("0x10", None),
            ("", None),
            ("+", None),
            ("-", None),
            ("99999999999999999999", None),
            ("12a", None),
        ];
        for (s, want) in cases {
            assert_eq!(strtol_exact(s), want, "{s:?}");
        }
        assert_eq!(string_to_number("2147483648", 0, i64::from(i32::MAX)), None);
        assert_eq!(atoi("64abc"), 64);
        assert_eq!(atoi("ffff::"), 0);
    }

    #[test]
    fn inet_aton_forms() {
        let cases: [(&str, Option<[u8; 4]>); 14] = [
            ("10.0.0.1", Some([10, 0, 0, 1])),
            ("10.1", Some([10, 0, 0, 1])),
            ("123", Some([0, 0, 0, 123])),
            ("012.0.0.1", Some([10, 0, 0, 1])),
            ("0x0a000001", Some([10, 0, 0, 1])),
            ("10.0.1", Some([10, 0, 0, 1])),
            ("10.0.0.1 junk", Some([10, 0, 0, 1])),
            ("10.0.0.300", None),
            ("10.0.0.1.1", None),
            ("08", None),
            ("", None),
            ("a.b.c.d", None),
            ("10.0.0.", None),
            ("4294967296", None),
        ];
        for (s, want) in cases {
            assert_eq!(inet_aton(s), want.map(Ipv4Addr::from), "{s:?}");
        }
    }

    #[test]
    fn host_port_forms() {
        let v4 = |a: [u8; 4], p: Option<u16>| {
            Some(HostPort {
                family: Family::Inet,
                addr: IpAddr::V4(Ipv4Addr::from(a)),
                port: p,
            })
        };
        let v6 = |a: &str, p: Option<u16>| {
            Some(HostPort {
                family: Family::Inet6,
                addr: IpAddr::V6(a.parse().unwrap()),
                port: p,
            })
        };
        let tcp = Some(Protocol::Tcp);
        let cases = [
            ("10.0.0.1:80", v4([10, 0, 0, 1], Some(80))),
            ("10.0.0.1", v4([10, 0, 0, 1], None)),
            ("123:80", v4([0, 0, 0, 123], Some(80))),
            ("10.0.0.1:+81", v4([10, 0, 0, 1], Some(81))),
            ("[10.0.0.9]:80", v4([10, 0, 0, 9], None)),
            ("[2001:db8::1]:80", v6("2001:db8::1", Some(80))),
            ("2001:db8::8:80", v6("2001:db8::8:80", None)),
            ("[::ffff:10.0.0.1]:80", v6("::ffff:10.0.0.1", Some(80))),
            ("10.0.0.1:", None),
            ("10.0.0.1:99999", None),
            ("10.0.0.1:0x50", None),
            (":80", None),
            ("123", None),
            ("", None),
            ("10.0.0.300:80", None),
            ("[2001:db8::9]", None),
            ("[2001:db8::9]80", None),
            ("[2001:db8::9:80", None),
            ("\"10.0.0.2:80\"", None),
        ];
        for (s, want) in cases {
            assert_eq!(parse_host_port(s, tcp), want, "{s:?}");
        }
    }

    #[test]
    fn service_names_follow_the_protocol() {
        // Only where the services database has the usual entries.
        if service_port("ssh", Some(Protocol::Tcp)) == Some(22) {
            assert_eq!(service_port("ssh", None), None);
            assert_eq!(service_port("ssh", Some(Protocol::Other(99))), None);
        }
        assert_eq!(
            service_port("no-such-service-name", Some(Protocol::Tcp)),
            None
        );
        assert_eq!(service_port("a\0b", Some(Protocol::Tcp)), None);
    }

    #[test]
    fn ipv6_loopback_and_v4_mapped_hosts_lines_answer_ipv4_lookups_as_glibc_does() {
        let hosts = "127.0.0.1\tlocalhost lab\n\
                     ::1 localhost ip6-localhost ip6-loopback # loopback\n\
                     ::ffff:10.0.0.7 mapped\n\
                     2001:db8::1 six\n\
                     # ::1 commented\n";
        let lookup = |name| ipv4_of_ipv6_hosts_line(hosts, name);
        assert_eq!(lookup("ip6-localhost"), Some(Ipv4Addr::LOCALHOST));
        assert_eq!(lookup("IP6-Loopback"), Some(Ipv4Addr::LOCALHOST));
        assert_eq!(lookup("mapped"), Some(Ipv4Addr::new(10, 0, 0, 7)));
        assert_eq!(lookup("six"), None);
        assert_eq!(lookup("commented"), None);
        assert_eq!(lookup("loopback"), None);
        assert_eq!(lookup("lab"), None);
    }

    #[test]
    fn numeric_looking_names_are_not_looked_up() {
        assert!(looks_numeric("10.0.0.300"));
        assert!(
            looks_numeric("2001:db8::1:zz")
                || resolve_ipv4_host("2001:db8::1:zz").is_none()
        );
        assert!(!looks_numeric("rs1"));
        assert_eq!(resolve_ipv4_host(""), None);
    }

    #[test]
    fn fwmarks_timeouts_masks() {
        assert_eq!(parse_fwmark("1"), Ok(1));
        assert_eq!(parse_fwmark("4294967295"), Ok(u32::MAX));
        for bad in ["0", "4294967296", "0x10", "-1", ""] {
            assert_eq!(
                parse_fwmark(bad),
                Err(format!("invalid fwmark value `{bad}' specified"))
            );
        }
        assert_eq!(parse_timeout("2678400", 1), Ok(2_678_400));
        assert!(parse_timeout("0", 1).is_err());
        assert_eq!(parse_timeout("0", 0), Ok(0));
        assert_eq!(parse_netmask_v4("16"), Some(Ipv4Addr::new(0, 0, 0, 16)));
        assert_eq!(
            parse_netmask_v4("255.0.255.0"),
            Some(Ipv4Addr::new(255, 0, 255, 0))
        );
        assert_eq!(parse_netmask_v6("64"), Some(64));
        assert_eq!(parse_netmask_v6("0"), None);
        assert_eq!(parse_netmask_v6("129"), None);
        assert_eq!(parse_netmask_v6("ffff::"), None);
    }

    #[test]
    fn sched_flags() {
        assert_eq!(parse_sched_flags("sh", "sh-port"), Ok(ServiceFlags::SCHED2));
        assert_eq!(
            parse_sched_flags("", "sh-port"),
            Err("incompatible scheduler flag `sh-port'".into())
        );
        assert_eq!(
            parse_sched_flags("rr", "flag-1,bogus"),
            Err("invalid scheduler flag `bogus'".into())
        );
        assert_eq!(
            parse_sched_flags("mh", "mh-port,mh-fallback,flag-3"),
            Ok(ServiceFlags::SCHED1 | ServiceFlags::SCHED2 | ServiceFlags::SCHED3)
        );
        assert!(parse_sched_flags("rr", ",").is_err());
        assert_eq!(
            parse_sched_flags("rr", ",flag-1,"),
            Ok(ServiceFlags::SCHED1)
        );
    }

    #[test]
    fn mcast_groups() {
        assert!(parse_mcast_group("239.1.2.3").is_ok());
        assert!(parse_mcast_group("ff02::81").is_ok());
        assert_eq!(
            parse_mcast_group("10.1.1.1"),
            Err("invalid IPv4 mcast-group `10.1.1.1'".into())
        );
        assert_eq!(
            parse_mcast_group("::1"),
            Err("invalid IPv6 mcast-group `::1'".into())
        );
    }

    proptest::proptest! {
        /// `parse_host_port` skips the IPv6 parser below two colons.
        #[test]
        fn fewer_than_two_colons_is_never_ipv6(text in "[0-9a-fA-F:.%\\[\\]]{0,40}") {
            if text.matches(':').count() < 2 {
                proptest::prop_assert!(text.parse::<Ipv6Addr>().is_err());
            }
        }
    }

    #[test]
    fn truncation_keeps_characters_whole() {
        assert_eq!(truncate_bytes("abcdefghijklmnopq", 15), "abcdefghijklmno");
        assert_eq!(truncate_bytes("ééééééééé", 15), "ééééééé");
    }
}
