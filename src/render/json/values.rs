//! The values inside the documents: addresses, the schema's names, flag
//! names. Each writes itself without a `String` of its own.

use std::net::IpAddr;

use serde::{Serialize, Serializer};

use crate::model::{ServiceFlags, TunnelFlags};
use crate::name_table;
use crate::output::common::ipv4_text;

/// An address as a canonical string (RFC 5952 for IPv6), written without
/// a `String` of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Addr(pub IpAddr);

impl Serialize for Addr {
    #[inline]
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            IpAddr::V4(a) => serializer.serialize_newtype_struct(
                super::ser::PLAIN,
                &Text(ipv4_text(a, &mut [0; 15])),
            ),
            // `Display` is RFC 5952, written without a copy.
            IpAddr::V6(a) => serializer.collect_str(a),
        }
    }
}

/// A string, serialized inline (serde's `str` is called out of line).
struct Text<'t>(&'t str);

impl Serialize for Text<'_> {
    #[inline(always)]
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0)
    }
}

/// One of the schema's own names (`"inet"`, `"masq"`, `"persistent"`):
/// a unit variant to serde, as the names are the variants of a closed set.
/// `serde_json` writes it as the string it is; `json::ser` copies it
/// without looking for characters to escape (there are none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaName(pub &'static str);

impl Serialize for SchemaName {
    #[inline(always)]
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_unit_variant("SchemaName", 0, self.0)
    }
}

/// A value the schema names, or its number as a string when it has no
/// name (`"50"` for an unnamed protocol).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameOrNumber {
    Name(&'static str),
    Number(u32),
}

impl NameOrNumber {
    pub(super) fn new(
        name: Option<&'static str>,
        number: impl Into<u32>,
    ) -> NameOrNumber {
        name.map_or_else(|| NameOrNumber::Number(number.into()), NameOrNumber::Name)
    }
}

impl Serialize for NameOrNumber {
    #[inline]
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            NameOrNumber::Name(name) => SchemaName(name).serialize(serializer),
            NameOrNumber::Number(n) => serializer.collect_str(n),
        }
    }
}

/// `"flags"` of a service: the names of its set bits.
#[derive(Debug, Clone, Copy)]
pub struct ServiceFlagNames(pub ServiceFlags);

impl Serialize for ServiceFlagNames {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(
            name_table::flag_names(&name_table::SERVICE_FLAGS, self.0).map(SchemaName),
        )
    }
}

/// `"sched_flags"` of a service: its scheduler's names of the set bits.
#[derive(Debug, Clone, Copy)]
pub struct SchedFlagNames<'a> {
    pub scheduler: &'a str,
    pub flags: ServiceFlags,
}

impl Serialize for SchedFlagNames<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(
            name_table::sched_flags(self.scheduler, self.flags).map(SchemaName),
        )
    }
}

/// `"tun_flags"` of a tunnel real server: the names of its set bits.
#[derive(Debug, Clone, Copy)]
pub struct TunnelFlagNames(pub TunnelFlags);

impl Serialize for TunnelFlagNames {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(
            name_table::flag_names(&name_table::TUNNEL_FLAGS, self.0).map(SchemaName),
        )
    }
}
