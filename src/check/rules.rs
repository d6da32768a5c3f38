//! The rules: what in the table and the host keeps a service from
//! answering, or makes what it shows wrong. Each finding says what
//! happens because of it and the command that fixes it.

use std::net::IpAddr;

use super::facts::{HostFacts, Reach};
use super::settings::{
    CONN_REUSE_MODE, EST_CPULIST, EXPIRE_NODEST_CONN, EXPIRE_QUIESCENT_TEMPLATE,
    IP_FORWARD, IPV6_FORWARDING, RUN_ESTIMATION,
};
use crate::model::{
    Dest, FwdMethod, Service, ServiceAddr, ServiceEntry, ServiceFlags, ServiceId,
    TunnelType,
};
use crate::name_table;
use crate::output::save::{edit_dest_command, service_words};

/// How bad a finding is. Errors and warnings make `--check` fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The service does not answer (or not as configured).
    Error,
    /// It answers, but not as one would expect (or what is shown is wrong).
    Warning,
    /// Worth knowing; nothing this host shows is wrong.
    Note,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

/// One problem.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub severity: Severity,
    /// A stable name for the kind of problem (`vip-not-local`).
    pub code: &'static str,
    /// The service it concerns (`None`: the whole namespace).
    pub service: Option<ServiceId>,
    /// The real server it concerns, if one.
    pub real_server: Option<(IpAddr, u16)>,
    /// What is wrong and what happens because of it.
    pub message: String,
    /// The command that fixes it, if there is one.
    pub fix: Option<String>,
}

/// Finding codes, one per kind of problem.
pub mod code {
    pub const VIP_NOT_LOCAL: &str = "vip-not-local";
    pub const NO_REAL_SERVERS: &str = "no-real-servers";
    pub const ALL_WEIGHTS_ZERO: &str = "all-weights-zero";
    pub const FORWARDING_OFF: &str = "forwarding-off";
    pub const NOT_DIRECTLY_CONNECTED: &str = "not-directly-connected";
    pub const TUNNEL_DECAPSULATION: &str = "tunnel-decapsulation";
    pub const ESTIMATOR_DISABLED: &str = "estimator-disabled";
    pub const ESTIMATOR_NO_CPUS: &str = "estimator-no-cpus";
    pub const WEIGHT_ZERO_STILL_USED: &str = "weight-zero-still-used";
    pub const WEIGHT_ZERO_PERSISTENCE: &str = "weight-zero-persistence";
    pub const CANNOT_READ: &str = "cannot-read";
}

/// Why the kernel's rate estimator does not run (`None`: it runs, or
/// that cannot be read): `run_estimation` is 0 (since 5.16), or
/// `est_cpulist` is empty (since 6.2).
pub fn estimator_off(facts: &HostFacts) -> Option<(&'static str, String)> {
    if facts.number(RUN_ESTIMATION) == Ok(0) {
        return Some((code::ESTIMATOR_DISABLED, format!("{RUN_ESTIMATION} = 0")));
    }
    match facts.setting(EST_CPULIST).map(|s| s.value.as_ref()) {
        Some(Ok(cpus)) if cpus.is_empty() => {
            Some((code::ESTIMATOR_NO_CPUS, format!("{EST_CPULIST} is empty")))
        }
        _ => None,
    }
}

/// Findings about the namespace as a whole (the rate estimator).
pub fn host_findings(facts: &HostFacts, out: &mut Vec<Finding>) {
    if let Some((code, why)) = estimator_off(facts) {
        let fix = if code == code::ESTIMATOR_DISABLED {
            format!("sysctl -w {RUN_ESTIMATION}=1")
        } else {
            format!("sysctl -w {EST_CPULIST}=0-$(($(getconf _NPROCESSORS_ONLN) - 1))")
        };
        out.push(host_finding(
            Severity::Warning,
            code,
            format!(
                "the kernel's rate estimator does not run ({why}): the rates of --rate \
                 and of the JSON listings are no longer updated (they stay at their last \
                 value, 0 for services made since), and on kernels before 6.2 neither \
                 are the counters of --stats; the watch then shows the namespace's own \
                 rates from the per-CPU counters"
            ),
            fix,
        ));
    }
}

fn host_finding(
    severity: Severity,
    code: &'static str,
    message: String,
    fix: String,
) -> Finding {
    Finding {
        severity,
        code,
        service: None,
        real_server: None,
        message,
        fix: Some(fix),
    }
}

/// Makes a finding about the service at hand: severity, code, real
/// server, message, fix.
type MakeFinding<'a> = dyn Fn(Severity, &'static str, Option<(IpAddr, u16)>, String, Option<String>) -> Finding
    + 'a;

/// Findings about one service and its real servers.
pub fn service_findings(entry: &ServiceEntry, facts: &HostFacts, out: &mut Vec<Finding>) {
    let svc = &entry.service;
    let finding =
        |severity, code, real_server, message: String, fix: Option<String>| Finding {
            severity,
            code,
            service: Some(svc.id),
            real_server,
            message,
            fix,
        };

    if let ServiceAddr::Inet { addr, .. } = svc.id.addr {
        if !addr.is_unspecified() {
            match facts.is_local(&addr) {
                Ok(true) => {}
                Ok(false) => out.push(finding(
                    Severity::Error,
                    code::VIP_NOT_LOCAL,
                    None,
                    format!(
                        "{addr} is no local address of this network namespace: packets \
                         for it are never delivered to IPVS, so the service does not answer"
                    ),
                    Some(add_address_command(&addr, facts)),
                )),
                Err(why) => out.push(finding(
                    Severity::Note,
                    code::CANNOT_READ,
                    None,
                    format!("whether {addr} is a local address cannot be read: {why}"),
                    None,
                )),
            }
        }
    }

    let words = service_words(svc);
    if entry.dests.is_empty() {
        out.push(finding(
            Severity::Error,
            code::NO_REAL_SERVERS,
            None,
            "the service has no real server: IPVS has nowhere to send a new \
             connection and refuses it"
                .to_string(),
            Some(format!("ipvsadm -a {words} -r SERVER-ADDRESS[:PORT] -m")),
        ));
    } else if entry.dests.iter().all(|d| d.weight == 0) {
        let fix = entry
            .dests
            .iter()
            .map(|d| edit_dest_command(svc, d, 1))
            .collect::<Vec<_>>()
            .join("; ");
        out.push(finding(
            Severity::Error,
            code::ALL_WEIGHTS_ZERO,
            None,
            format!(
                "all {} real servers have weight 0: no new connection is scheduled \
                 (the kernel logs \"no destination available\") and clients are refused",
                entry.dests.len()
            ),
            Some(fix),
        ));
    }

    forwarding_findings(entry, facts, out, &finding);

    for d in &entry.dests {
        let rs = Some((d.addr, d.port));
        match d.fwd {
            FwdMethod::Route => match facts.reach(&d.addr) {
                _ if facts.is_local(&d.addr) == Ok(true) => {}
                Ok(Reach::Connected) => {}
                Ok(reach) => out.push(finding(
                    Severity::Error,
                    code::NOT_DIRECTLY_CONNECTED,
                    rs,
                    format!(
                        "direct routing (-g) needs the real server on a network this host \
                         is connected to, but {} is {}: the frames IPVS sends for it never \
                         reach it",
                        d.addr,
                        match reach {
                            Reach::Gateway => "reached through a gateway",
                            _ => "not reachable at all",
                        }
                    ),
                    Some(edit_dest_command(
                        svc,
                        &Dest {
                            fwd: FwdMethod::Masq,
                            ..d.clone()
                        },
                        d.weight,
                    )),
                )),
                Err(why) => out.push(finding(
                    Severity::Note,
                    code::CANNOT_READ,
                    rs,
                    format!("how {} is reached cannot be read: {why}", d.addr),
                    None,
                )),
            },
            FwdMethod::Tunnel => out.push(finding(
                Severity::Note,
                code::TUNNEL_DECAPSULATION,
                rs,
                tunnel_note(d),
                None,
            )),
            _ => {}
        }
        if d.weight == 0 {
            weight_zero_findings(svc, d, facts, out, &finding);
        }
    }
}

/// Masquerading needs the host to forward the real servers' replies.
fn forwarding_findings(
    entry: &ServiceEntry,
    facts: &HostFacts,
    out: &mut Vec<Finding>,
    finding: &MakeFinding,
) {
    for (v6, switch) in [(false, IP_FORWARD), (true, IPV6_FORWARDING)] {
        let masq = entry
            .dests
            .iter()
            .filter(|d| d.fwd == FwdMethod::Masq && d.addr.is_ipv6() == v6)
            .count();
        if masq == 0 {
            continue;
        }
        match facts.number(switch) {
            Ok(0) => out.push(finding(
                Severity::Error,
                code::FORWARDING_OFF,
                None,
                format!(
                    "{masq} real server{} masqueraded (-m) but {switch} is 0: their replies \
                     are dropped instead of passing back through this host, so clients \
                     get no answer",
                    if masq == 1 { " is" } else { "s are" }
                ),
                Some(format!("sysctl -w {switch}=1")),
            )),
            Ok(_) => {}
            Err(why) => out.push(finding(
                Severity::Note,
                code::CANNOT_READ,
                None,
                format!("{switch}, which masquerading needs, cannot be read: {why}"),
                None,
            )),
        }
    }
}

/// A real server at weight 0 gets no new connection from the scheduler,
/// but the kernel still sends it some.
fn weight_zero_findings(
    svc: &Service,
    d: &Dest,
    facts: &HostFacts,
    out: &mut Vec<Finding>,
    finding: &MakeFinding,
) {
    let rs = Some((d.addr, d.port));
    if svc.flags.contains(ServiceFlags::PERSISTENT) && d.persist_conns > 0 {
        if let Ok(0) = facts.number(EXPIRE_QUIESCENT_TEMPLATE) {
            out.push(finding(
                Severity::Warning,
                code::WEIGHT_ZERO_PERSISTENCE,
                rs,
                format!(
                    "weight 0, but {} persistence template{} still send{} its clients' new \
                     connections to it until they expire ({EXPIRE_QUIESCENT_TEMPLATE} = 0)",
                    d.persist_conns,
                    plural(u64::from(d.persist_conns)),
                    if d.persist_conns == 1 { "s" } else { "" },
                ),
                Some(format!("sysctl -w {EXPIRE_QUIESCENT_TEMPLATE}=1")),
            ));
        }
    }
    // A new connection from a client address and port that still has an
    // entry goes where the entry points, unless conn_reuse_mode schedules
    // it again: mode 0 never does; modes 1 and 2 do for TIME_WAIT entries
    // (inactive), and for any entry of a weight-0 server with
    // expire_nodest_conn = 1.
    let (Ok(reuse), Ok(expire)) = (
        facts.number(CONN_REUSE_MODE),
        facts.number(EXPIRE_NODEST_CONN),
    ) else {
        return;
    };
    let active = u64::from(d.active_conns);
    let entries = active + u64::from(d.inact_conns);
    let mut fixes = Vec::new();
    let stuck = if reuse == 0 {
        fixes.push(format!("{CONN_REUSE_MODE}=1"));
        if expire == 0 && active > 0 {
            fixes.push(format!("{EXPIRE_NODEST_CONN}=1"));
        }
        entries
    } else if expire == 0 {
        fixes.push(format!("{EXPIRE_NODEST_CONN}=1"));
        active
    } else {
        0
    };
    if stuck > 0 {
        let why = if reuse == 0 {
            format!("{CONN_REUSE_MODE} = 0")
        } else {
            format!("{EXPIRE_NODEST_CONN} = 0")
        };
        out.push(finding(
            Severity::Warning,
            code::WEIGHT_ZERO_STILL_USED,
            rs,
            format!(
                "weight 0, but {stuck} connection{} of it {} still known: a client that \
                 opens a new connection from the same address and port is sent to it \
                 again ({why})",
                plural(stuck),
                if stuck == 1 { "is" } else { "are" },
            ),
            Some(format!("sysctl -w {}", fixes.join(" "))),
        ));
    }
}

/// What a tunnel real server needs on its side, which this host cannot
/// read.
fn tunnel_note(d: &Dest) -> String {
    let name = name_table::tunnel_type(d.tun_type).unwrap_or("unknown");
    let needs = match d.tun_type {
        TunnelType::Ipip => "the ipip module and its tunl0 interface up".to_string(),
        TunnelType::Gue => format!(
            "the fou module with GUE on UDP port {} (ip fou add port {} gue) and an \
             ipip interface",
            d.tun_port, d.tun_port
        ),
        TunnelType::Gre => "the ip_gre module and its gre0 interface up".to_string(),
        TunnelType::Other(_) => "a decapsulation this program does not know".to_string(),
    };
    format!(
        "tunnel ({name}): the real server must decapsulate what IPVS sends it ({needs}, \
         the virtual address on one of its interfaces, rp_filter relaxed there); that is \
         set up on the real server, which this host cannot read"
    )
}

/// `ip addr add` for a virtual address: on `kube-ipvs0` where kube-proxy
/// made one, else on `lo`.
fn add_address_command(addr: &IpAddr, facts: &HostFacts) -> String {
    let dev = if facts.interfaces.iter().any(|i| i == "kube-ipvs0") {
        "kube-ipvs0"
    } else {
        "lo"
    };
    match addr {
        IpAddr::V4(a) => format!("ip addr add {a}/32 dev {dev}"),
        IpAddr::V6(a) => format!("ip -6 addr add {a}/128 dev {dev}"),
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}
