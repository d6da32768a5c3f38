//! A backend that only encodes what it is asked to apply, as the netlink
//! backend does before it sends: restores measured without a kernel.
//! Included by the tests that need it (`#[path]`), one copy for all.

use std::hint::black_box;

use ipvsadm_rs::backend::{Change, IpvsBackend, Result};
use ipvsadm_rs::error::IpvsError;
use ipvsadm_rs::model::{Daemon, DaemonState, Dest, Info, Service, ServiceId, Timeouts};
use ipvsadm_rs::netlink::encode;
use netlink_packet_core::NLM_F_REQUEST;

/// The backend: every batch encoded into one reused buffer, every change
/// answered as applied.
pub struct Encoding {
    pub buf: Vec<u8>,
    pub seq: u32,
    pub requests: usize,
}

fn unused<T>() -> Result<T> {
    Err(IpvsError::Unavailable)
}

impl IpvsBackend for Encoding {
    fn info(&mut self) -> Result<Info> {
        unused()
    }
    fn services(&mut self) -> Result<Vec<Service>> {
        unused()
    }
    fn service(&mut self, _: &ServiceId) -> Result<Service> {
        unused()
    }
    fn dests(&mut self, _: &ServiceId) -> Result<Vec<Dest>> {
        unused()
    }
    fn add_service(&mut self, _: &Service) -> Result<()> {
        unused()
    }
    fn edit_service(&mut self, _: &Service) -> Result<()> {
        unused()
    }
    fn del_service(&mut self, _: &Service) -> Result<()> {
        unused()
    }
    fn zero(&mut self, _: Option<&Service>) -> Result<()> {
        unused()
    }
    fn flush(&mut self) -> Result<()> {
        unused()
    }
    fn add_dest(&mut self, _: &Service, _: &Dest) -> Result<()> {
        unused()
    }
    fn edit_dest(&mut self, _: &Service, _: &Dest) -> Result<()> {
        unused()
    }
    fn del_dest(&mut self, _: &Service, _: &Dest) -> Result<()> {
        unused()
    }
    fn timeouts(&mut self) -> Result<Timeouts> {
        unused()
    }
    fn set_timeouts(&mut self, _: &Timeouts) -> Result<()> {
        unused()
    }
    fn daemons(&mut self) -> Result<Vec<Daemon>> {
        unused()
    }
    fn start_daemon(&mut self, _: &Daemon) -> Result<()> {
        unused()
    }
    fn stop_daemon(&mut self, _: DaemonState, _: u32) -> Result<()> {
        unused()
    }

    fn apply(&mut self, changes: &[Change]) -> Result<Vec<Result<()>>> {
        // Like the pipeline: one send buffer, reused for every batch.
        self.buf.clear();
        for change in changes {
            encode::change(&mut self.buf, 0x20, change, NLM_F_REQUEST, self.seq);
            self.seq = self.seq.wrapping_add(1);
        }
        self.requests += changes.len();
        black_box(&self.buf);
        Ok(changes.iter().map(|_| Ok(())).collect())
    }
}
