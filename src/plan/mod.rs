//! `-R --replace`: the plan that turns the table the kernel has into the
//! table an input describes. Pure: tables in, ordered steps out.
//!
//! What identifies a thing and what is a setting of it:
//!
//! * a service is its [`ServiceId`] (address family, and protocol,
//!   address and port, or firewall mark); its settings are the scheduler,
//!   the flags (persistence, one-packet, scheduler flags), the persistence
//!   engine and, for a persistent service, the persistence timeout and
//!   netmask (the kernel ignores them otherwise, and `-S` does not show
//!   them);
//! * a real server is its address and port within its service; its
//!   settings are the forwarding method, the weight, the two thresholds
//!   and, for a tunnel, the tunnel type, port (GUE) and checksum flags.
//!
//! The kernel edits every setting in place (`-E`, `-e`), so a thing whose
//! settings differ is always edited, never deleted and added again: its
//! counters and connections survive.
//!
//! Order protects traffic: for each service of the input in its order,
//! the service is added or edited, then its new real servers are added,
//! then the changed ones edited, and only then those the input lacks are
//! deleted; services the input lacks are deleted last, after everything
//! that may replace them exists. A [`Step::DelDest`] is a step of its own,
//! so an applier can hand it to something gentler than a delete.

use std::net::IpAddr;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::backend::Change;
use crate::model::{
    Dest, FwdMethod, Service, ServiceEntry, ServiceFlags, ServiceId, TunnelType,
};

/// One step of a plan.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    AddService(Service),
    EditService {
        before: Service,
        after: Service,
    },
    /// The service as the kernel has it.
    DelService(Service),
    AddDest(Service, Dest),
    EditDest {
        service: Service,
        before: Dest,
        after: Dest,
    },
    /// The real server as the kernel has it.
    DelDest(Service, Dest),
}

impl Step {
    /// The table change that carries the step out.
    pub fn change(&self) -> Change {
        match self {
            Step::AddService(s) => Change::AddService(s.clone()),
            Step::EditService { after, .. } => Change::EditService(after.clone()),
            Step::DelService(s) => Change::DelService(s.clone()),
            Step::AddDest(s, d) => Change::AddDest(s.clone(), d.clone()),
            Step::EditDest { service, after, .. } => {
                Change::EditDest(service.clone(), after.clone())
            }
            Step::DelDest(s, d) => Change::DelDest(s.clone(), d.clone()),
        }
    }
}

/// How many steps of each kind a plan has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    pub services_added: usize,
    pub services_edited: usize,
    pub services_deleted: usize,
    pub dests_added: usize,
    pub dests_edited: usize,
    pub dests_deleted: usize,
}

impl Counts {
    pub fn of(steps: &[Step]) -> Counts {
        let mut c = Counts::default();
        for step in steps {
            *match step {
                Step::AddService(_) => &mut c.services_added,
                Step::EditService { .. } => &mut c.services_edited,
                Step::DelService(_) => &mut c.services_deleted,
                Step::AddDest(..) => &mut c.dests_added,
                Step::EditDest { .. } => &mut c.dests_edited,
                Step::DelDest(..) => &mut c.dests_deleted,
            } += 1;
        }
        c
    }

    pub fn total(&self) -> usize {
        self.services_added
            + self.services_edited
            + self.services_deleted
            + self.dests_added
            + self.dests_edited
            + self.dests_deleted
    }
}

/// The flags that are settings: the kernel adds `HASHED` itself.
fn setting_flags(s: &Service) -> ServiceFlags {
    s.flags - ServiceFlags::HASHED
}

/// Whether two services with the same identity have the same settings.
pub fn same_service_settings(a: &Service, b: &Service) -> bool {
    let pe = |s: &Service| s.pe_name.filter(|p| !p.is_empty());
    let persistent = setting_flags(a).contains(ServiceFlags::PERSISTENT);
    a.scheduler == b.scheduler
        && setting_flags(a) == setting_flags(b)
        && pe(a) == pe(b)
        && (!persistent || (a.timeout == b.timeout && a.netmask == b.netmask))
}

/// Whether two real servers with the same address and port have the same
/// settings.
pub fn same_dest_settings(a: &Dest, b: &Dest) -> bool {
    let tunnel = a.fwd == FwdMethod::Tunnel;
    a.fwd == b.fwd
        && a.weight == b.weight
        && a.u_threshold == b.u_threshold
        && a.l_threshold == b.l_threshold
        && (!tunnel
            || (a.tun_type == b.tun_type
                && a.tun_flags == b.tun_flags
                && (a.tun_type != TunnelType::Gue || a.tun_port == b.tun_port)))
}

/// What identifies a real server within its service.
pub fn dest_key(d: &Dest) -> (IpAddr, u16) {
    (d.addr, d.port)
}

/// The steps that turn `current` into `desired` (each a table whose
/// services and real servers are unique by identity), in a safe order.
/// Equal tables give no step.
pub fn plan(current: &[ServiceEntry], desired: &[ServiceEntry]) -> Vec<Step> {
    let by_id: FxHashMap<ServiceId, &ServiceEntry> =
        current.iter().map(|e| (e.service.id, e)).collect();
    let mut steps = Vec::new();
    for want in desired {
        let svc = &want.service;
        let Some(have) = by_id.get(&svc.id) else {
            steps.push(Step::AddService(svc.clone()));
            steps.extend(
                want.dests
                    .iter()
                    .map(|d| Step::AddDest(svc.clone(), d.clone())),
            );
            continue;
        };
        if !same_service_settings(&have.service, svc) {
            steps.push(Step::EditService {
                before: have.service.clone(),
                after: svc.clone(),
            });
        }
        let had = Lookup::new(&have.dests);
        let mut edits = Vec::new();
        for d in &want.dests {
            match had.get(dest_key(d)) {
                None => steps.push(Step::AddDest(svc.clone(), d.clone())),
                Some(old) if !same_dest_settings(old, d) => edits.push(Step::EditDest {
                    service: svc.clone(),
                    before: (*old).clone(),
                    after: d.clone(),
                }),
                Some(_) => {}
            }
        }
        steps.extend(edits);
        let wanted = Lookup::new(&want.dests);
        steps.extend(
            have.dests
                .iter()
                .filter(|d| wanted.get(dest_key(d)).is_none())
                .map(|d| Step::DelDest(svc.clone(), d.clone())),
        );
    }
    let wanted: FxHashSet<ServiceId> = desired.iter().map(|e| e.service.id).collect();
    steps.extend(
        current
            .iter()
            .filter(|e| !wanted.contains(&e.service.id))
            .map(|e| Step::DelService(e.service.clone())),
    );
    steps
}

/// The real servers of one service by address and port: a scan when they
/// are few (the usual case, and cheaper than hashing), else a map.
enum Lookup<'a> {
    Few(&'a [Dest]),
    Many(FxHashMap<(IpAddr, u16), &'a Dest>),
}

impl<'a> Lookup<'a> {
    const FEW: usize = 16;

    fn new(dests: &'a [Dest]) -> Lookup<'a> {
        if dests.len() <= Self::FEW {
            Lookup::Few(dests)
        } else {
            Lookup::Many(dests.iter().map(|d| (dest_key(d), d)).collect())
        }
    }

    fn get(&self, key: (IpAddr, u16)) -> Option<&'a Dest> {
        match self {
            Lookup::Few(dests) => dests.iter().find(|d| dest_key(d) == key),
            Lookup::Many(map) => map.get(&key).copied(),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
