//! The listing document ([`JsonTable`](super::json::JsonTable)) written
//! by hand into a byte buffer, a service at a time: the same bytes as
//! `serde_json` writes for the schema's structs (compact, or `--pretty`'s
//! two-space indentation), without building them. A large table's JSON is
//! five times its text; through serde every key, number and address costs
//! an allocation or a call through `dyn Write`.
//!
//! The unit tests compare the two byte for byte over arbitrary tables.

use std::io::Write;
use std::net::IpAddr;

use crate::model::{
    Dest, FwdMethod, Info, Netmask, Service, ServiceAddr, Stats, TunnelType,
};
use crate::output::common::{push_decimal, push_ipv4};

use super::json::{
    SCHEMA_VERSION, SERVICE_FLAG_NAMES, TUNNEL_FLAG_NAMES, family_name, fwd_method_name,
    protocol_name, tun_type_name,
};

/// `,"name":`, what [`JsonWriter::key`] takes: keys are the schema's own
/// snake_case names, nothing to escape.
macro_rules! key {
    ($name:literal) => {
        concat!(",\"", $name, "\":")
    };
}
pub(crate) use key;

/// A JSON writer for one document: commas, and with `pretty` the newlines
/// and indentation `serde_json::to_writer_pretty` puts between tokens.
pub(crate) struct JsonWriter {
    pub(crate) buf: Vec<u8>,
    pretty: bool,
    depth: usize,
    /// Whether the innermost open object or array has no member yet.
    empty: bool,
}

impl JsonWriter {
    pub(crate) fn new(buf: Vec<u8>, pretty: bool) -> JsonWriter {
        JsonWriter {
            buf,
            pretty,
            depth: 0,
            empty: true,
        }
    }

    #[inline(always)]
    fn newline(&mut self) {
        self.buf.push(b'\n');
        self.buf.resize(self.buf.len() + 2 * self.depth, b' ');
    }

    /// Before a member of the open object or array.
    #[inline(always)]
    fn separate(&mut self) {
        if !self.empty {
            self.buf.push(b',');
        }
        self.empty = false;
        if self.pretty {
            self.newline();
        }
    }

    #[inline(always)]
    fn open(&mut self, bracket: u8) {
        self.buf.push(bracket);
        self.depth += 1;
        self.empty = true;
    }

    #[inline(always)]
    fn close(&mut self, bracket: u8) {
        self.depth = self.depth.saturating_sub(1);
        if self.pretty && !self.empty {
            self.newline();
        }
        self.buf.push(bracket);
        // The closed container is a member of its parent.
        self.empty = false;
    }

    #[inline(always)]
    pub(crate) fn begin_object(&mut self) {
        self.open(b'{');
    }

    #[inline(always)]
    pub(crate) fn end_object(&mut self) {
        self.close(b'}');
    }

    #[inline(always)]
    pub(crate) fn begin_array(&mut self) {
        self.open(b'[');
    }

    #[inline(always)]
    pub(crate) fn end_array(&mut self) {
        self.close(b']');
    }

    /// An array member comes next.
    #[inline(always)]
    pub(crate) fn element(&mut self) {
        self.separate();
    }

    /// The key of the next member of the open object, from its
    /// [`key!`] fragment `,"name":` (one copy of a constant when compact).
    #[inline(always)]
    pub(crate) fn key(&mut self, fragment: &'static str) {
        let fragment = fragment.as_bytes();
        if self.pretty {
            self.separate();
            // `"name"` then `: `.
            self.buf.extend_from_slice(&fragment[1..fragment.len() - 1]);
            self.buf.extend_from_slice(b": ");
        } else if self.empty {
            self.empty = false;
            self.buf.extend_from_slice(&fragment[1..]);
        } else {
            self.buf.extend_from_slice(fragment);
        }
    }

    #[inline(always)]
    pub(crate) fn uint(&mut self, key: &'static str, value: u64) {
        self.key(key);
        push_decimal(&mut self.buf, value);
    }

    #[inline(always)]
    fn int(&mut self, key: &'static str, value: i64) {
        self.key(key);
        if value < 0 {
            self.buf.push(b'-');
        }
        push_decimal(&mut self.buf, value.unsigned_abs());
    }

    #[inline(always)]
    pub(crate) fn opt_uint(&mut self, key: &'static str, value: Option<u64>) {
        match value {
            Some(v) => self.uint(key, v),
            None => self.null(key),
        }
    }

    #[inline(always)]
    fn null(&mut self, key: &'static str) {
        self.key(key);
        self.buf.extend_from_slice(b"null");
    }

    #[inline(always)]
    pub(crate) fn str(&mut self, key: &'static str, value: &str) {
        self.key(key);
        push_string(&mut self.buf, value);
    }

    /// One of the schema's own names (`"inet"`, `"masq"`, ...): nothing
    /// to escape.
    #[inline(always)]
    pub(crate) fn name(&mut self, key: &'static str, value: &'static str) {
        self.key(key);
        self.buf.push(b'"');
        self.buf.extend_from_slice(value.as_bytes());
        self.buf.push(b'"');
    }

    #[inline(always)]
    fn opt_str(&mut self, key: &'static str, value: Option<&str>) {
        match value {
            Some(v) => self.str(key, v),
            None => self.null(key),
        }
    }

    pub(crate) fn addr(&mut self, key: &'static str, addr: &IpAddr) {
        self.key(key);
        self.buf.push(b'"');
        match addr {
            IpAddr::V4(a) => push_ipv4(&mut self.buf, a),
            // RFC 5952, as `Display` (and so serde) writes it.
            IpAddr::V6(a) => {
                let _ = write!(self.buf, "{a}");
            }
        }
        self.buf.push(b'"');
    }

    /// A number as a JSON string (`"6"`), as the schema names an unknown
    /// protocol or tunnel type.
    #[inline(always)]
    fn number_str(&mut self, key: &'static str, value: u64) {
        self.key(key);
        self.buf.push(b'"');
        push_decimal(&mut self.buf, value);
        self.buf.push(b'"');
    }

    /// An array of the schema's own names (flags): nothing to escape.
    fn name_array(
        &mut self,
        key: &'static str,
        values: impl Iterator<Item = &'static str>,
    ) {
        self.key(key);
        self.begin_array();
        for v in values {
            self.element();
            self.buf.push(b'"');
            self.buf.extend_from_slice(v.as_bytes());
            self.buf.push(b'"');
        }
        self.end_array();
    }

    fn stats(&mut self, s: &Stats) {
        self.key(key!("stats"));
        self.begin_object();
        self.uint(key!("conns"), s.conns);
        self.uint(key!("inpkts"), s.inpkts);
        self.uint(key!("outpkts"), s.outpkts);
        self.uint(key!("inbytes"), s.inbytes);
        self.uint(key!("outbytes"), s.outbytes);
        self.end_object();
        self.key(key!("rates"));
        self.begin_object();
        self.uint(key!("cps"), s.cps);
        self.uint(key!("inpps"), s.inpps);
        self.uint(key!("outpps"), s.outpps);
        self.uint(key!("inbps"), s.inbps);
        self.uint(key!("outbps"), s.outbps);
        self.end_object();
    }

    /// `"ipvs": {...}`, a [`JsonInfo`](super::json::JsonInfo).
    pub(crate) fn info(&mut self, info: &Info) {
        let (a, b, c) = info.version_triple();
        self.key(key!("ipvs"));
        self.begin_object();
        self.key(key!("version"));
        self.buf.push(b'"');
        push_decimal(&mut self.buf, u64::from(a));
        self.buf.push(b'.');
        push_decimal(&mut self.buf, u64::from(b));
        self.buf.push(b'.');
        push_decimal(&mut self.buf, u64::from(c));
        self.buf.push(b'"');
        self.uint(key!("version_code"), u64::from(info.version));
        self.uint(key!("conn_tab_size"), u64::from(info.conn_tab_size));
        self.end_object();
    }

    /// The start of a listing document, up to its open `services` array.
    pub(crate) fn begin_table(&mut self, info: &Info) {
        self.begin_object();
        self.uint(key!("schema_version"), u64::from(SCHEMA_VERSION));
        self.info(info);
        self.key(key!("services"));
        self.begin_array();
    }

    /// Closes the `services` array and the document, then a newline.
    pub(crate) fn end_table(&mut self) {
        self.end_array();
        self.end_object();
        self.buf.push(b'\n');
    }

    /// One member of `services`: a [`JsonService`](super::json::JsonService)
    /// with `dests` (in listing order) as its `real_servers`.
    pub(crate) fn service(&mut self, s: &Service, dests: &[Dest]) {
        self.element();
        self.begin_object();
        self.name(key!("af"), family_name(s.id.family));
        match s.id.addr {
            ServiceAddr::Inet {
                protocol,
                addr,
                port,
            } => {
                match protocol_name(protocol) {
                    Some(name) => self.name(key!("protocol"), name),
                    None => self.number_str(key!("protocol"), u64::from(protocol.raw())),
                }
                self.addr(key!("addr"), &addr);
                self.uint(key!("port"), u64::from(port));
                self.null(key!("fwmark"));
            }
            ServiceAddr::Fwmark(mark) => {
                self.null(key!("protocol"));
                self.null(key!("addr"));
                self.null(key!("port"));
                self.uint(key!("fwmark"), u64::from(mark));
            }
        }
        self.str(key!("sched_name"), &s.scheduler);
        self.name_array(
            key!("flags"),
            SERVICE_FLAG_NAMES
                .into_iter()
                .filter(|(bit, _)| s.flags.contains(*bit))
                .map(|(_, name)| name),
        );
        self.name_array(
            key!("sched_flags"),
            super::json::sched_flag_name_iter(&s.scheduler, s.flags),
        );
        self.uint(key!("flags_raw"), u64::from(s.flags.bits()));
        self.uint(key!("timeout"), u64::from(s.timeout));
        match s.netmask {
            Netmask::V4(mask) => {
                self.addr(key!("netmask"), &IpAddr::V4(mask));
                self.null(key!("prefix_len"));
            }
            Netmask::V6(prefix) => {
                self.null(key!("netmask"));
                self.uint(key!("prefix_len"), u64::from(prefix));
            }
        }
        self.opt_str(key!("pe_name"), s.pe_name.as_deref());
        self.stats(&s.stats);
        self.key(key!("real_servers"));
        self.begin_array();
        for d in dests {
            self.element();
            self.real_server(d);
        }
        self.end_array();
        self.end_object();
    }

    fn real_server(&mut self, d: &Dest) {
        self.begin_object();
        self.name(key!("af"), family_name(d.family));
        self.addr(key!("addr"), &d.addr);
        self.uint(key!("port"), u64::from(d.port));
        self.name(key!("fwd_method"), fwd_method_name(d.fwd));
        self.uint(key!("fwd_method_raw"), u64::from(d.fwd.raw()));
        self.int(key!("weight"), i64::from(d.weight));
        self.uint(key!("u_threshold"), u64::from(d.u_threshold));
        self.uint(key!("l_threshold"), u64::from(d.l_threshold));
        self.uint(key!("active_conns"), u64::from(d.active_conns));
        self.uint(key!("inact_conns"), u64::from(d.inact_conns));
        self.uint(key!("persist_conns"), u64::from(d.persist_conns));
        if d.fwd == FwdMethod::Tunnel {
            match tun_type_name(d.tun_type) {
                Some(name) => self.name(key!("tun_type"), name),
                None => self.number_str(key!("tun_type"), u64::from(d.tun_type.raw())),
            }
            self.opt_uint(
                key!("tun_port"),
                (d.tun_type == TunnelType::Gue).then_some(u64::from(d.tun_port)),
            );
            self.name_array(
                key!("tun_flags"),
                TUNNEL_FLAG_NAMES
                    .into_iter()
                    .filter(|(bit, _)| d.tun_flags.contains(*bit))
                    .map(|(_, name)| name),
            );
        } else {
            self.null(key!("tun_type"));
            self.null(key!("tun_port"));
            self.null(key!("tun_flags"));
        }
        self.stats(&d.stats);
        self.end_object();
    }
}

/// `value` as a JSON string, escaped as `serde_json` escapes: `"` and `\`,
/// the short forms `\b \f \n \r \t`, other control characters as
/// `\u00XX` (lowercase hex); everything else, UTF-8 included, as is.
pub(crate) fn push_string(buf: &mut Vec<u8>, value: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    buf.push(b'"');
    let bytes = value.as_bytes();
    let mut plain_from = 0;
    for (i, &byte) in bytes.iter().enumerate() {
        let short = match byte {
            b'"' => b'"',
            b'\\' => b'\\',
            0x08 => b'b',
            0x0c => b'f',
            b'\n' => b'n',
            b'\r' => b'r',
            b'\t' => b't',
            0..=0x1f => b'u',
            _ => continue,
        };
        buf.extend_from_slice(&bytes[plain_from..i]);
        buf.push(b'\\');
        buf.push(short);
        if short == b'u' {
            buf.extend_from_slice(b"00");
            buf.push(HEX[usize::from(byte >> 4)]);
            buf.push(HEX[usize::from(byte & 0xf)]);
        }
        plain_from = i + 1;
    }
    buf.extend_from_slice(&bytes[plain_from..]);
    buf.push(b'"');
}

#[cfg(test)]
mod tests;
