//! The connection listing (`-L -c`), read from `/proc/net/ip_vs_conn`
//! as ipvsadm 1.31's `list_conn` / `print_conn` do.
//!
//! 1.31 reads the file with `fgets` into a 256-byte buffer and splits each
//! line with `sscanf("%s %s %hX %s %hX %s %hX %s %d %s %s")`. We reproduce
//! the fields and the 255-byte line cut; where 1.31 would print
//! uninitialised memory (a line with fewer than 9 fields, an unparsable
//! number or address) or exit silently (an empty line), we report
//! [`ConnError::Malformed`] instead, before writing anything. The tail of a
//! line longer than 255 bytes, which 1.31 parses as a line of its own, is
//! ignored.

use std::fmt;
use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::Serialize;

use super::common::{addrport_to_anyname, push_left};
use crate::resolve::NameResolver;

/// The file 1.31 reads; named in error messages.
const CONN_PROC_FILE: &str = "/proc/net/ip_vs_conn";
/// `fgets(buffer, 256, fp)` keeps at most 255 bytes per read.
const FGETS_MAX: usize = 255;

/// Why the connection table could not be listed.
#[derive(Debug)]
pub enum ConnError {
    /// Writing the listing failed.
    Io(io::Error),
    /// The table text is not what the kernel writes. The message starts
    /// with 1.31's `unexpected input from /proc/net/ip_vs_conn` (exactly
    /// that for an empty file).
    Malformed(String),
}

impl fmt::Display for ConnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnError::Io(err) => write!(f, "{err}"),
            ConnError::Malformed(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for ConnError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConnError::Io(err) => Some(err),
            ConnError::Malformed(_) => None,
        }
    }
}

impl From<io::Error> for ConnError {
    fn from(err: io::Error) -> Self {
        ConnError::Io(err)
    }
}

/// One IPVS connection (or persistence template) from the table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnEntry {
    /// As the kernel names it: `TCP`, `UDP`, `SCTP`, ...
    pub protocol: String,
    pub client_addr: IpAddr,
    /// 0 for persistence templates.
    pub client_port: u16,
    pub virtual_addr: IpAddr,
    pub virtual_port: u16,
    pub dest_addr: IpAddr,
    pub dest_port: u16,
    /// Protocol state (`ESTABLISHED`, `TIME_WAIT`, `UDP`, `ASSURED`, ...).
    pub state: String,
    /// Seconds until the entry expires.
    pub expires: u32,
    /// Persistence engine (`sip`), when the connection has one.
    pub pe_name: Option<String>,
    /// The engine's data (the SIP Call-ID).
    pub pe_data: Option<String>,
}

impl ConnEntry {
    /// The protocol name `getservbyport` is asked with (1.31 knows these
    /// three; other protocols keep numeric ports).
    fn service_proto(&self) -> Option<&'static str> {
        crate::name_table::protocol_by_upper(&self.protocol).map(|names| names.lower)
    }
}

fn malformed(line_no: usize, what: &str) -> ConnError {
    ConnError::Malformed(format!(
        "unexpected input from {CONN_PROC_FILE}: line {line_no}: {what}"
    ))
}

/// The pieces `fgets` returns: at most 255 bytes, ending after a newline
/// when there is one. The flag tells whether the piece continues a line.
fn fgets_pieces(text: &[u8]) -> Vec<(&[u8], bool)> {
    let mut pieces = Vec::new();
    let mut rest = text;
    let mut continuation = false;
    while !rest.is_empty() {
        let limit = rest.len().min(FGETS_MAX);
        let end = rest[..limit]
            .iter()
            .position(|b| *b == b'\n')
            .map_or(limit, |nl| nl + 1);
        let (piece, tail) = rest.split_at(end);
        pieces.push((piece, continuation));
        continuation = piece.last() != Some(&b'\n');
        rest = tail;
    }
    pieces
}

/// C `isspace` (includes the vertical tab, unlike Rust's ASCII test).
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// Address as `print_conn` accepts it: IPv6 text, dotted IPv4, or the
/// kernel's `%08X` IPv4.
fn parse_addr(token: &str) -> Option<IpAddr> {
    if token.contains(':') {
        token.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
    } else if token.contains('.') {
        token.parse::<Ipv4Addr>().ok().map(IpAddr::V4)
    } else if !token.is_empty() && token.len() <= 8 {
        u32::from_str_radix(token, 16)
            .ok()
            .map(|v| IpAddr::V4(Ipv4Addr::from(v)))
    } else {
        None
    }
}

fn parse_port(token: &str) -> Option<u16> {
    if token.is_empty() || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u16::from_str_radix(token, 16).ok()
}

fn parse_line(line_no: usize, piece: &[u8]) -> Result<ConnEntry, ConnError> {
    // sscanf stops at a NUL byte.
    let piece = piece.split(|b| *b == 0).next().unwrap_or_default();
    let tokens: Vec<String> = piece
        .split(|b| is_c_space(*b))
        .filter(|t| !t.is_empty())
        .map(|t| String::from_utf8_lossy(t).into_owned())
        .collect();
    if tokens.len() < 9 {
        return Err(malformed(
            line_no,
            &format!("{} fields, expected at least 9", tokens.len()),
        ));
    }
    let addr = |i: usize, what: &str| {
        parse_addr(&tokens[i])
            .ok_or_else(|| malformed(line_no, &format!("bad {what} address")))
    };
    let port = |i: usize, what: &str| {
        parse_port(&tokens[i])
            .ok_or_else(|| malformed(line_no, &format!("bad {what} port")))
    };
    let client_addr = addr(1, "client")?;
    let virtual_addr = addr(3, "virtual")?;
    // 1.31 parses the virtual address in the client's family.
    if client_addr.is_ipv4() != virtual_addr.is_ipv4() {
        return Err(malformed(
            line_no,
            "client and virtual address families differ",
        ));
    }
    let expires = tokens[8]
        .parse::<u32>()
        .map_err(|_| malformed(line_no, "bad expiry"))?;
    Ok(ConnEntry {
        protocol: tokens[0].clone(),
        client_addr,
        client_port: port(2, "client")?,
        virtual_addr,
        virtual_port: port(4, "virtual")?,
        dest_addr: addr(5, "destination")?,
        dest_port: port(6, "destination")?,
        state: tokens[7].clone(),
        expires,
        pe_name: tokens.get(9).cloned(),
        pe_data: tokens.get(10).cloned(),
    })
}

/// Parses the contents of `/proc/net/ip_vs_conn` (header line included).
pub fn parse_conn_table(text: &[u8]) -> Result<Vec<ConnEntry>, ConnError> {
    let pieces = fgets_pieces(text);
    if pieces.is_empty() {
        return Err(ConnError::Malformed(format!(
            "unexpected input from {CONN_PROC_FILE}"
        )));
    }
    let mut line_no = 1;
    let mut entries = Vec::new();
    // The first piece is the header; tails of over-long lines are skipped.
    for (piece, continuation) in pieces.into_iter().skip(1) {
        if continuation {
            continue;
        }
        line_no += 1;
        entries.push(parse_line(line_no, piece)?);
    }
    Ok(entries)
}

/// Writes 1.31's `-c` listing of `text` (the contents of
/// `/proc/net/ip_vs_conn`). With `persistent_conn`, entries that carry PE
/// data get the two extra columns.
pub fn write_connections(
    out: &mut dyn Write,
    text: &[u8],
    persistent_conn: bool,
    numeric: bool,
    names: &dyn NameResolver,
) -> Result<(), ConnError> {
    let entries = parse_conn_table(text)?;
    let mut buf = Vec::with_capacity(100 * (entries.len() + 2));
    buf.extend_from_slice(b"IPVS connection entries\n");
    let title = if persistent_conn {
        format!(
            "pro expire {:<11} {:<18} {:<18} {:<18} {:<16} {}\n",
            "state", "source", "virtual", "destination", "pe name", "pe_data"
        )
    } else {
        format!(
            "pro expire {:<11} {:<18} {:<18} {}\n",
            "state", "source", "virtual", "destination"
        )
    };
    buf.extend_from_slice(title.as_bytes());
    for entry in &entries {
        push_entry(&mut buf, entry, persistent_conn, numeric, names);
    }
    out.write_all(&buf)?;
    Ok(())
}

fn push_entry(
    buf: &mut Vec<u8>,
    entry: &ConnEntry,
    persistent_conn: bool,
    numeric: bool,
    names: &dyn NameResolver,
) {
    let proto = entry.service_proto();
    let name =
        |addr: &IpAddr, port: u16| addrport_to_anyname(addr, port, proto, numeric, names);
    let client = name(&entry.client_addr, entry.client_port);
    let virt = name(&entry.virtual_addr, entry.virtual_port);
    let dest = name(&entry.dest_addr, entry.dest_port);
    // Minutes are not capped at 99.
    let expire = format!("{:02}:{:02}", entry.expires / 60, entry.expires % 60);

    push_left(buf, entry.protocol.as_bytes(), 3);
    buf.push(b' ');
    push_left(buf, expire.as_bytes(), 6);
    buf.push(b' ');
    push_left(buf, entry.state.as_bytes(), 11);
    buf.push(b' ');
    push_left(buf, &client, 18);
    buf.push(b' ');
    push_left(buf, &virt, 18);
    buf.push(b' ');
    match (&entry.pe_name, &entry.pe_data) {
        // 1.31 needs all 11 fields; its row widths (16 for the destination,
        // 18 for the PE name) differ from its title's.
        (Some(pe_name), Some(pe_data)) if persistent_conn => {
            push_left(buf, &dest, 16);
            buf.push(b' ');
            push_left(buf, pe_name.as_bytes(), 18);
            buf.push(b' ');
            buf.extend_from_slice(pe_data.as_bytes());
        }
        _ => buf.extend_from_slice(&dest),
    }
    buf.push(b'\n');
}

#[cfg(test)]
mod tests;
