//! An in-memory IPVS table that answers like the kernel (same errnos for
//! the same mistakes), so the executor and renderers can be unit-tested
//! without root or an IPVS kernel. Kernel tests in the lab remain the
//! authority; this only mirrors what they establish.

use crate::backend::{IpvsBackend, Result};
use crate::error::{IpvsError, Op};
use crate::model::{
    Daemon, DaemonState, Dest, FwdMethod, Info, Netmask, Service, ServiceId, Stats,
    Timeouts, TunnelType,
};

const KNOWN_SCHEDULERS: &[&str] = &[
    "rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf",
    "mh", "none",
];

/// A fake IPVS table. Services and real servers are kept newest first, as
/// the kernel's lists are.
#[derive(Debug, Clone)]
pub struct FakeIpvs {
    pub services: Vec<(Service, Vec<Dest>)>,
    pub timeouts: Timeouts,
    pub daemons: Vec<Daemon>,
    /// Interfaces a sync daemon may bind to.
    pub interfaces: Vec<String>,
    /// Number of requests served, to check batching and read-only paths.
    pub requests: usize,
}

impl Default for FakeIpvs {
    fn default() -> Self {
        FakeIpvs {
            services: Vec::new(),
            timeouts: Timeouts {
                tcp: 900,
                tcp_fin: 120,
                udp: 300,
            },
            daemons: Vec::new(),
            interfaces: vec!["lo".to_string()],
            requests: 0,
        }
    }
}

fn err(op: Op, errno: i32) -> IpvsError {
    IpvsError::Kernel { op, errno }
}

fn same_dest(a: &Dest, b: &Dest) -> bool {
    a.family == b.family && a.addr == b.addr && a.port == b.port
}

impl FakeIpvs {
    fn find(&self, id: &ServiceId) -> Option<usize> {
        self.services.iter().position(|(s, _)| s.id == *id)
    }

    fn check_service(op: Op, svc: &Service) -> Result<()> {
        if !KNOWN_SCHEDULERS.contains(&svc.scheduler.as_str()) {
            return Err(err(op, libc::ENOENT));
        }
        if let Some(pe) = &svc.pe_name {
            if pe != "sip" {
                return Err(err(op, libc::ENOENT));
            }
        }
        if let Netmask::V6(p) = svc.netmask {
            if !(1..=128).contains(&p) {
                return Err(err(op, libc::EINVAL));
            }
        }
        Ok(())
    }

    fn check_dest(op: Op, svc: &Service, dest: &Dest) -> Result<()> {
        if dest.weight < 0 || dest.l_threshold > dest.u_threshold {
            return Err(err(op, libc::ERANGE));
        }
        let unicast = match dest.addr {
            std::net::IpAddr::V4(a) => !a.is_multicast() && !a.is_broadcast(),
            std::net::IpAddr::V6(a) => !a.is_multicast(),
        };
        if !unicast
            || (dest.family != svc.id.family && dest.fwd != FwdMethod::Tunnel)
            || (dest.tun_type == TunnelType::Gue && dest.tun_port == 0)
        {
            return Err(err(op, libc::EINVAL));
        }
        Ok(())
    }

    fn settings_of(svc: &Service, stats: Stats) -> Service {
        Service {
            stats,
            ..svc.clone()
        }
    }
}

impl IpvsBackend for FakeIpvs {
    fn info(&mut self) -> Result<Info> {
        self.requests += 1;
        Ok(Info {
            version: 0x010201,
            conn_tab_size: 4096,
        })
    }

    fn services(&mut self) -> Result<Vec<Service>> {
        self.requests += 1;
        Ok(self.services.iter().map(|(s, _)| s.clone()).collect())
    }

    fn service(&mut self, id: &ServiceId) -> Result<Service> {
        self.requests += 1;
        match self.find(id) {
            Some(i) => Ok(self.services[i].0.clone()),
            None => Err(err(Op::GetService, libc::ESRCH)),
        }
    }

    fn dests(&mut self, id: &ServiceId) -> Result<Vec<Dest>> {
        self.requests += 1;
        Ok(self
            .find(id)
            .map(|i| self.services[i].1.clone())
            .unwrap_or_default())
    }

    /// Into `out`'s memory, as the netlink backend decodes: a listing's
    /// allocations are then its own.
    fn dests_into(&mut self, id: &ServiceId, out: &mut Vec<Dest>) -> Result<()> {
        self.requests += 1;
        out.clear();
        if let Some(i) = self.find(id) {
            out.extend_from_slice(&self.services[i].1);
        }
        Ok(())
    }

    fn add_service(&mut self, svc: &Service) -> Result<()> {
        self.requests += 1;
        if self.find(&svc.id).is_some() {
            return Err(err(Op::AddService, libc::EEXIST));
        }
        Self::check_service(Op::AddService, svc)?;
        let svc = Self::settings_of(svc, Stats::default());
        self.services.insert(0, (svc, Vec::new()));
        Ok(())
    }

    fn edit_service(&mut self, svc: &Service) -> Result<()> {
        self.requests += 1;
        let i = self
            .find(&svc.id)
            .ok_or_else(|| err(Op::EditService, libc::ESRCH))?;
        Self::check_service(Op::EditService, svc)?;
        let stats = self.services[i].0.stats;
        self.services[i].0 = Self::settings_of(svc, stats);
        Ok(())
    }

    fn del_service(&mut self, svc: &Service) -> Result<()> {
        self.requests += 1;
        let i = self
            .find(&svc.id)
            .ok_or_else(|| err(Op::DelService, libc::ESRCH))?;
        self.services.remove(i);
        Ok(())
    }

    fn zero(&mut self, svc: Option<&Service>) -> Result<()> {
        self.requests += 1;
        let targets: Vec<usize> = match svc {
            None => (0..self.services.len()).collect(),
            Some(s) => vec![
                self.find(&s.id)
                    .ok_or_else(|| err(Op::ZeroService, libc::ESRCH))?,
            ],
        };
        for i in targets {
            let (s, dests) = &mut self.services[i];
            s.stats = Stats::default();
            for d in dests {
                d.stats = Stats::default();
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        self.requests += 1;
        self.services.clear();
        Ok(())
    }

    fn add_dest(&mut self, svc: &Service, dest: &Dest) -> Result<()> {
        self.requests += 1;
        let i = self
            .find(&svc.id)
            .ok_or_else(|| err(Op::AddDest, libc::ESRCH))?;
        if self.services[i].1.iter().any(|d| same_dest(d, dest)) {
            return Err(err(Op::AddDest, libc::EEXIST));
        }
        Self::check_dest(Op::AddDest, svc, dest)?;
        let mut dest = dest.clone();
        dest.stats = Stats::default();
        self.services[i].1.insert(0, dest);
        Ok(())
    }

    fn edit_dest(&mut self, svc: &Service, dest: &Dest) -> Result<()> {
        self.requests += 1;
        let i = self
            .find(&svc.id)
            .ok_or_else(|| err(Op::EditDest, libc::ESRCH))?;
        let j = self.services[i]
            .1
            .iter()
            .position(|d| same_dest(d, dest))
            .ok_or_else(|| err(Op::EditDest, libc::ENOENT))?;
        Self::check_dest(Op::EditDest, svc, dest)?;
        let old = &self.services[i].1[j];
        let kept = Dest {
            active_conns: old.active_conns,
            inact_conns: old.inact_conns,
            persist_conns: old.persist_conns,
            stats: old.stats,
            ..dest.clone()
        };
        self.services[i].1[j] = kept;
        Ok(())
    }

    fn del_dest(&mut self, svc: &Service, dest: &Dest) -> Result<()> {
        self.requests += 1;
        let i = self
            .find(&svc.id)
            .ok_or_else(|| err(Op::DelDest, libc::ESRCH))?;
        let j = self.services[i]
            .1
            .iter()
            .position(|d| same_dest(d, dest))
            .ok_or_else(|| err(Op::DelDest, libc::ENOENT))?;
        self.services[i].1.remove(j);
        Ok(())
    }

    fn timeouts(&mut self) -> Result<Timeouts> {
        self.requests += 1;
        Ok(self.timeouts)
    }

    fn set_timeouts(&mut self, t: &Timeouts) -> Result<()> {
        self.requests += 1;
        if t.tcp != 0 {
            self.timeouts.tcp = t.tcp;
        }
        if t.tcp_fin != 0 {
            self.timeouts.tcp_fin = t.tcp_fin;
        }
        if t.udp != 0 {
            self.timeouts.udp = t.udp;
        }
        Ok(())
    }

    fn daemons(&mut self) -> Result<Vec<Daemon>> {
        self.requests += 1;
        let mut d = self.daemons.clone();
        d.sort_by_key(|d| d.state.raw());
        Ok(d)
    }

    fn start_daemon(&mut self, d: &Daemon) -> Result<()> {
        self.requests += 1;
        if self.daemons.iter().any(|x| x.state == d.state) {
            return Err(err(Op::StartDaemon, libc::EEXIST));
        }
        if !self.interfaces.contains(&d.mcast_ifn) {
            return Err(err(Op::StartDaemon, libc::ENODEV));
        }
        self.daemons.push(d.clone());
        Ok(())
    }

    fn stop_daemon(&mut self, state: DaemonState, _syncid: u32) -> Result<()> {
        self.requests += 1;
        let i = self
            .daemons
            .iter()
            .position(|x| x.state == state)
            .ok_or_else(|| err(Op::StopDaemon, libc::ESRCH))?;
        self.daemons.remove(i);
        Ok(())
    }
}
