//! The plan of `-R --replace --dry-run --json`: one document,
//! `{"schema_version": 1, "changes": [...], "counts": {...}}`.
//!
//! Each change has `kind` (`add_service`, `edit_service`,
//! `delete_service`, `add_real_server`, `edit_real_server`,
//! `delete_real_server`), `rule` (the `-R` line that makes it), `service`
//! (its identity: `af`, `protocol`, `addr`, `port`, `fwmark`),
//! `real_server` (`af`, `addr`, `port`; `null` for a service change), and
//! the settings `before` and `after` (`null` for what is added or
//! deleted): for a service `sched_name`, `flags`, `sched_flags`,
//! `flags_raw`, `timeout`, `netmask`, `prefix_len`, `pe_name`; for a real
//! server `fwd_method`, `fwd_method_raw`, `weight`, `u_threshold`,
//! `l_threshold`, `tun_type`, `tun_port`, `tun_flags`. Keys and values are
//! those of the table document: each is taken from a [`JsonService`] or
//! [`JsonRealServer`] built from the same value.

use serde::{Serialize, Serializer};

use super::{
    Addr, JsonRealServer, JsonService, NameOrNumber, SCHEMA_VERSION, SchedFlagNames,
    SchemaName, ServiceFlagNames, TunnelFlagNames,
};
use crate::model::{Dest, Service};
use crate::plan::{Counts, Step};

/// The document.
#[derive(Serialize)]
pub struct JsonPlan<'a> {
    pub schema_version: u32,
    pub changes: Vec<JsonChange<'a>>,
    pub counts: JsonCounts,
}

/// One change of the plan.
#[derive(Serialize)]
pub struct JsonChange<'a> {
    pub kind: &'static str,
    pub rule: &'a str,
    pub service: JsonServiceKey,
    pub real_server: Option<JsonRealServerKey>,
    pub before: Option<Settings<'a>>,
    pub after: Option<Settings<'a>>,
}

/// What identifies a service.
#[derive(Serialize)]
pub struct JsonServiceKey {
    pub af: SchemaName,
    pub protocol: Option<NameOrNumber>,
    pub addr: Option<Addr>,
    pub port: Option<u16>,
    pub fwmark: Option<u32>,
}

/// What identifies a real server within its service.
#[derive(Serialize)]
pub struct JsonRealServerKey {
    pub af: SchemaName,
    pub addr: Addr,
    pub port: u16,
}

/// The settings of a service or of a real server.
pub enum Settings<'a> {
    Service(JsonServiceSettings<'a>),
    RealServer(JsonRealServerSettings),
}

impl Serialize for Settings<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Settings::Service(s) => s.serialize(serializer),
            Settings::RealServer(d) => d.serialize(serializer),
        }
    }
}

#[derive(Serialize)]
pub struct JsonServiceSettings<'a> {
    pub sched_name: &'a str,
    pub flags: ServiceFlagNames,
    pub sched_flags: SchedFlagNames<'a>,
    pub flags_raw: u32,
    pub timeout: u32,
    pub netmask: Option<Addr>,
    pub prefix_len: Option<u32>,
    pub pe_name: Option<&'a str>,
}

#[derive(Serialize)]
pub struct JsonRealServerSettings {
    pub fwd_method: SchemaName,
    pub fwd_method_raw: u32,
    pub weight: i32,
    pub u_threshold: u32,
    pub l_threshold: u32,
    pub tun_type: Option<NameOrNumber>,
    pub tun_port: Option<u16>,
    pub tun_flags: Option<TunnelFlagNames>,
}

/// How many changes of each kind, and in all.
#[derive(Serialize)]
pub struct JsonCounts {
    pub services_added: usize,
    pub services_edited: usize,
    pub services_deleted: usize,
    pub real_servers_added: usize,
    pub real_servers_edited: usize,
    pub real_servers_deleted: usize,
    pub total: usize,
}

fn service_key(s: &Service) -> JsonServiceKey {
    let j = JsonService::new(s, &[]);
    JsonServiceKey {
        af: j.af,
        protocol: j.protocol,
        addr: j.addr,
        port: j.port,
        fwmark: j.fwmark,
    }
}

fn service_settings(s: &Service) -> Settings<'_> {
    let j = JsonService::new(s, &[]);
    Settings::Service(JsonServiceSettings {
        sched_name: j.sched_name,
        flags: j.flags,
        sched_flags: j.sched_flags,
        flags_raw: j.flags_raw,
        timeout: j.timeout,
        netmask: j.netmask,
        prefix_len: j.prefix_len,
        pe_name: j.pe_name,
    })
}

fn dest_key(d: &Dest) -> JsonRealServerKey {
    let j = JsonRealServer::from(d);
    JsonRealServerKey {
        af: j.af,
        addr: j.addr,
        port: j.port,
    }
}

fn dest_settings(d: &Dest) -> Settings<'static> {
    let j = JsonRealServer::from(d);
    Settings::RealServer(JsonRealServerSettings {
        fwd_method: j.fwd_method,
        fwd_method_raw: j.fwd_method_raw,
        weight: j.weight,
        u_threshold: j.u_threshold,
        l_threshold: j.l_threshold,
        tun_type: j.tun_type,
        tun_port: j.tun_port,
        tun_flags: j.tun_flags,
    })
}

impl<'a> JsonChange<'a> {
    /// `step`, made by the `-R` line `rule`.
    pub fn new(step: &'a Step, rule: &'a str) -> JsonChange<'a> {
        let (kind, svc, dest, before, after) = match step {
            Step::AddService(s) => {
                ("add_service", s, None, None, Some(service_settings(s)))
            }
            Step::EditService { before, after } => (
                "edit_service",
                after,
                None,
                Some(service_settings(before)),
                Some(service_settings(after)),
            ),
            Step::DelService(s) => {
                ("delete_service", s, None, Some(service_settings(s)), None)
            }
            Step::AddDest(s, d) => {
                ("add_real_server", s, Some(d), None, Some(dest_settings(d)))
            }
            Step::EditDest {
                service,
                before,
                after,
            } => (
                "edit_real_server",
                service,
                Some(after),
                Some(dest_settings(before)),
                Some(dest_settings(after)),
            ),
            Step::DelDest(s, d) => (
                "delete_real_server",
                s,
                Some(d),
                Some(dest_settings(d)),
                None,
            ),
        };
        JsonChange {
            kind,
            rule,
            service: service_key(svc),
            real_server: dest.map(dest_key),
            before,
            after,
        }
    }
}

/// The plan `steps`, each with its `-R` line (without its newline).
pub fn plan<'a>(steps: &'a [Step], rules: &'a [String]) -> JsonPlan<'a> {
    let c = Counts::of(steps);
    JsonPlan {
        schema_version: SCHEMA_VERSION,
        changes: steps
            .iter()
            .zip(rules)
            .map(|(step, rule)| JsonChange::new(step, rule))
            .collect(),
        counts: JsonCounts {
            services_added: c.services_added,
            services_edited: c.services_edited,
            services_deleted: c.services_deleted,
            real_servers_added: c.dests_added,
            real_servers_edited: c.dests_edited,
            real_servers_deleted: c.dests_deleted,
            total: c.total(),
        },
    }
}
