//! The kernel operations the tool needs, as a trait, so that everything
//! above the netlink layer can also run against an in-memory table in
//! unit tests. The real implementation is [`crate::netlink::NetlinkIpvs`].

use crate::error::IpvsError;
use crate::model::{Daemon, DaemonState, Dest, Info, Service, ServiceId, Timeouts};

pub type Result<T> = std::result::Result<T, IpvsError>;

/// One IPVS table (one network namespace).
pub trait IpvsBackend {
    fn info(&mut self) -> Result<Info>;
    /// All services, in the kernel's dump order.
    fn services(&mut self) -> Result<Vec<Service>>;
    /// One service by identity (`ESRCH` when absent).
    fn service(&mut self, id: &ServiceId) -> Result<Service>;
    /// The real servers of a service, in the kernel's dump order (empty,
    /// not an error, when the service does not exist).
    fn dests(&mut self, id: &ServiceId) -> Result<Vec<Dest>>;
    /// [`IpvsBackend::dests`] into `out` (replacing what it held), reusing
    /// its memory: listings read one service at a time.
    fn dests_into(&mut self, id: &ServiceId, out: &mut Vec<Dest>) -> Result<()> {
        *out = self.dests(id)?;
        Ok(())
    }
    /// Real servers of many services at once, one result per id, in the
    /// same order. Implementations may pipeline the requests.
    fn dests_many(&mut self, ids: &[ServiceId]) -> Result<Vec<Vec<Dest>>> {
        ids.iter().map(|id| self.dests(id)).collect()
    }
    fn add_service(&mut self, svc: &Service) -> Result<()>;
    /// Full replace of the service's settings.
    fn edit_service(&mut self, svc: &Service) -> Result<()>;
    fn del_service(&mut self, svc: &Service) -> Result<()>;
    /// Zero the counters of one service, or of all when `None`.
    fn zero(&mut self, svc: Option<&Service>) -> Result<()>;
    fn flush(&mut self) -> Result<()>;
    fn add_dest(&mut self, svc: &Service, dest: &Dest) -> Result<()>;
    fn edit_dest(&mut self, svc: &Service, dest: &Dest) -> Result<()>;
    fn del_dest(&mut self, svc: &Service, dest: &Dest) -> Result<()>;
    fn timeouts(&mut self) -> Result<Timeouts>;
    fn set_timeouts(&mut self, t: &Timeouts) -> Result<()>;
    /// Running sync daemons: master first, then backup.
    fn daemons(&mut self) -> Result<Vec<Daemon>>;
    fn start_daemon(&mut self, d: &Daemon) -> Result<()>;
    fn stop_daemon(&mut self, state: DaemonState, syncid: u32) -> Result<()>;

    /// Applies many changes in order, returning one result per change.
    /// The outer error means the batch could not be carried out at all.
    /// Implementations may pipeline the requests (the netlink one sends
    /// them in as few system calls as it can).
    fn apply(&mut self, changes: &[Change]) -> Result<Vec<Result<()>>> {
        Ok(changes.iter().map(|c| self.apply_one(c)).collect())
    }

    /// Applies one change through the single-operation methods.
    fn apply_one(&mut self, change: &Change) -> Result<()> {
        match change {
            Change::AddService(s) => self.add_service(s),
            Change::EditService(s) => self.edit_service(s),
            Change::DelService(s) => self.del_service(s),
            Change::Zero(s) => self.zero(s.as_ref()),
            Change::Flush => self.flush(),
            Change::AddDest(s, d) => self.add_dest(s, d),
            Change::EditDest(s, d) => self.edit_dest(s, d),
            Change::DelDest(s, d) => self.del_dest(s, d),
            Change::SetTimeouts(t) => self.set_timeouts(t),
            Change::StartDaemon(d) => self.start_daemon(d),
            Change::StopDaemon { state, syncid } => self.stop_daemon(*state, *syncid),
        }
    }
}

/// One change to the IPVS table, as sent to the kernel.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    AddService(Service),
    EditService(Service),
    DelService(Service),
    Zero(Option<Service>),
    Flush,
    AddDest(Service, Dest),
    EditDest(Service, Dest),
    DelDest(Service, Dest),
    SetTimeouts(Timeouts),
    StartDaemon(Daemon),
    StopDaemon { state: DaemonState, syncid: u32 },
}
