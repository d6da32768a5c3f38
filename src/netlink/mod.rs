//! The kernel backend: IPVS over generic netlink.
//!
//! - [`consts`]: the family's numbers (`<linux/ip_vs.h>`) and the
//!   kernel's encoding quirks;
//! - [`encode`]: every request, written straight into the send buffer;
//! - [`decode`]: every reply, read in place into the model;
//! - [`socket`]: one socket, sequence numbers, batching, dumps.
//!
//! One socket per [`NetlinkIpvs`] (and one for real-server dumps), the
//! family id resolved once, buffers reused across requests. Batches
//! ([`IpvsBackend::apply`]) are sent many requests per `sendto()`, each
//! under its own sequence number; only the last of a datagram asks for an
//! ack. There is one codec per direction, without intermediate attribute
//! values: requests are encoded straight into the send buffer, because
//! restores and listings send one per line or service, and replies are
//! decoded in place, because listings are where the volume is. Only the
//! family lookup goes through netlink-packet-generic's controller messages.
//!
//! Requests carry exactly the attributes libipvs (ipvsadm 1.31) sends, so
//! the kernel answers with the same errnos; callers pick the wording from
//! [`crate::error::Op`].

pub mod consts;
pub mod decode;
pub mod encode;
pub mod socket;

use std::process::{Command, Stdio};

use netlink_packet_core::{DecodeError, NLM_F_REQUEST, NlasIterator};
use netlink_packet_generic::constants::GENL_ID_CTRL;
use netlink_packet_generic::ctrl::nlas::GenlCtrlAttrs;
use netlink_packet_generic::ctrl::{GenlCtrl, GenlCtrlCmd};

use self::consts::{
    CTRL_ATTR_FAMILY_ID, IPVS_CMD_ATTR_DAEMON, IPVS_CMD_ATTR_DEST, IPVS_CMD_ATTR_SERVICE,
    IPVS_GENL_NAME,
};
use self::decode::{
    daemon_in, dest_in, each_nested_in_reply, info_in, service_in, timeouts_in,
};
use self::encode::Query;
use self::socket::{GenlSocket, IncomingKind, SEND_CHUNK_BYTES, Step};
use crate::backend::{Change, IpvsBackend, Result};
use crate::error::{IpvsError, Op};
use crate::model::{Daemon, DaemonState, Dest, Info, Service, ServiceId, Timeouts};

/// What ipvsadm runs when the family is missing: fixed path, fixed args.
const MODPROBE: &str = "/sbin/modprobe";

/// The IPVS table of the current network namespace, through the kernel.
pub struct NetlinkIpvs {
    socket: GenlSocket,
    /// Real-server dumps, one per service listed, read in small datagrams
    /// (see [`GenlSocket::open_for_small_dumps`]); opened on first use.
    dest_dumps: DestDumpSocket,
    family_id: u16,
    /// Reused for every encoded request.
    send_buf: Vec<u8>,
}

enum DestDumpSocket {
    Unopened,
    Open(Box<GenlSocket>),
    /// It could not be opened, or the kernel's datagrams did not fit: the
    /// main socket does the real-server dumps.
    Unusable,
}

impl NetlinkIpvs {
    /// Opens the socket and resolves the `IPVS` family; when the family is
    /// missing, runs `/sbin/modprobe -- ip_vs` once and tries again, as
    /// ipvsadm does. Still missing: [`IpvsError::Unavailable`].
    ///
    /// Resolving needs no privilege; the first IPVS request does (EPERM,
    /// as [`IpvsError::Kernel`]), so ipvsadm's init is this plus
    /// [`IpvsBackend::info`].
    pub fn new() -> std::result::Result<NetlinkIpvs, IpvsError> {
        let mut socket = GenlSocket::open()?;
        let family_id = match resolve_family(&mut socket)? {
            Some(id) => id,
            None => {
                load_ipvs_module();
                resolve_family(&mut socket)?.ok_or(IpvsError::Unavailable)?
            }
        };
        Ok(NetlinkIpvs {
            socket,
            dest_dumps: DestDumpSocket::Unopened,
            family_id,
            send_buf: Vec::with_capacity(SEND_CHUNK_BYTES + 4096),
        })
    }

    /// The dynamic id of the `IPVS` family in this namespace's kernel.
    pub fn family_id(&self) -> u16 {
        self.family_id
    }

    /// Sends `query` and feeds the payload (genl header onwards) of every
    /// reply message to `on_reply`.
    fn call_raw<F>(&mut self, op: Op, query: Query, on_reply: F) -> Result<()>
    where
        F: FnMut(&[u8]) -> Result<()>,
    {
        let family_id = self.family_id;
        call_on(
            &mut self.socket,
            family_id,
            &mut self.send_buf,
            op,
            query.is_dump(),
            |buf, flags, seq| encode::query(buf, family_id, &query, flags, seq),
            on_reply,
        )
    }

    /// Opens the socket for real-server dumps on first use.
    fn open_dest_dump_socket(&mut self) {
        if let DestDumpSocket::Unopened = self.dest_dumps {
            self.dest_dumps = match GenlSocket::open_for_small_dumps() {
                Ok(socket) => DestDumpSocket::Open(Box::new(socket)),
                Err(_) => DestDumpSocket::Unusable,
            };
        }
    }

    /// Services of a `GET_SERVICE` reply.
    fn call_services(&mut self, op: Op, query: Query) -> Result<Vec<Service>> {
        let mut services = Vec::new();
        self.call_raw(op, query, |payload| {
            each_nested_in_reply(payload, IPVS_CMD_ATTR_SERVICE, |svc| {
                services.push(service_in(svc)?);
                Ok(())
            })
            .map_err(decode_err)
        })?;
        Ok(services)
    }

    /// A query answered by one message (`GET_INFO`, `GET_CONFIG`), read by
    /// `decode`.
    fn call_one<T>(
        &mut self,
        op: Op,
        query: Query,
        decode: impl Fn(&[u8]) -> std::result::Result<T, DecodeError>,
    ) -> Result<T> {
        let mut reply = None;
        self.call_raw(op, query, |payload| {
            let decoded = decode(payload).map_err(decode_err)?;
            reply.get_or_insert(decoded);
            Ok(())
        })?;
        reply.ok_or_else(|| IpvsError::Decode(format!("no reply to {op}")))
    }

    /// Sends the requests of `changes` (encoded straight into the send
    /// buffer) in as few `sendto()`s as possible, keeping no more in flight
    /// than the receive buffer holds answers for. One result per request,
    /// in order.
    ///
    /// Only the last request of each `sendto()` asks for an ack: the kernel
    /// handles a datagram's requests in order and answers every failing one
    /// with an error whatever its flags, so once the last is answered, each
    /// request without an error succeeded. That spares the kernel an skb per
    /// request and us reading it.
    fn pipeline(&mut self, changes: &[Change]) -> Result<Vec<Result<()>>> {
        let count = changes.len();
        let mut results: Vec<Result<()>> = Vec::with_capacity(count);
        let window = self.socket.max_in_flight();
        let mut ops: Vec<Op> = Vec::with_capacity(window.min(count));
        let mut answers: Vec<Option<i32>> = Vec::with_capacity(window.min(count));
        let mut next = 0;
        while next < count {
            // Encode one window: up to `window` requests, about one chunk.
            self.send_buf.clear();
            ops.clear();
            let mut last_offset = 0;
            let first_seq = self.socket.reserve_seqs(0);
            while next < count
                && ops.len() < window
                && (ops.is_empty() || self.send_buf.len() < SEND_CHUNK_BYTES)
            {
                let change = &changes[next];
                let seq = self.socket.reserve_seqs(1);
                last_offset = self.send_buf.len();
                encode::change(
                    &mut self.send_buf,
                    self.family_id,
                    change,
                    NLM_F_REQUEST,
                    seq,
                );
                ops.push(change_op(change));
                next += 1;
            }
            socket::request_ack(&mut self.send_buf, last_offset);
            self.socket.send(&self.send_buf)?;
            // Collect its acks: a request's index is its seq - first_seq.
            let sent = ops.len();
            answers.clear();
            answers.resize(sent, None);
            self.socket.receive(|msg| {
                let index = msg.seq.wrapping_sub(first_seq) as usize;
                if index >= sent || answers[index].is_some() {
                    return Ok(Step::More); // stale, or not an answer
                }
                answers[index] = match msg.kind {
                    IncomingKind::Ack | IncomingKind::Done => Some(0),
                    IncomingKind::Error(errno) => Some(errno),
                    IncomingKind::Data { .. } => return Ok(Step::More),
                };
                Ok(if index == sent - 1 {
                    Step::Finished
                } else {
                    Step::More
                })
            })?;
            for (answer, op) in answers.iter().zip(&ops) {
                results.push(match answer {
                    Some(0) | None => Ok(()),
                    Some(errno) => Err(IpvsError::Kernel {
                        op: *op,
                        errno: *errno,
                    }),
                });
            }
        }
        Ok(results)
    }

    /// One change, acked: the bytes a batch sends for it ([`encode::change`]).
    fn send_change(&mut self, change: &Change) -> Result<()> {
        let family_id = self.family_id;
        call_on(
            &mut self.socket,
            family_id,
            &mut self.send_buf,
            change_op(change),
            false,
            |buf, flags, seq| encode::change(buf, family_id, change, flags, seq),
            |_| Ok(()),
        )
    }
}

/// One request on `socket`, appended to `send_buf` by `encode_request`
/// (given its flags and sequence number), and the payload (genl header
/// onwards) of every reply message of the family to `on_reply`.
fn call_on<E, F>(
    socket: &mut GenlSocket,
    family_id: u16,
    send_buf: &mut Vec<u8>,
    op: Op,
    dump: bool,
    encode_request: E,
    mut on_reply: F,
) -> Result<()>
where
    E: FnOnce(&mut Vec<u8>, u16, u32),
    F: FnMut(&[u8]) -> Result<()>,
{
    let outcome =
        socket.exchange_encoded(dump, send_buf, encode_request, |kind, payload| {
            if kind != family_id {
                return Ok(());
            }
            on_reply(payload)
        })?;
    outcome.map_err(|errno| IpvsError::Kernel { op, errno })
}

/// The real servers of one service, dumped on `socket` into `dests`.
fn dests_on(
    socket: &mut GenlSocket,
    family_id: u16,
    send_buf: &mut Vec<u8>,
    id: &ServiceId,
    dests: &mut Vec<Dest>,
) -> Result<()> {
    dests.clear();
    let family = id.family;
    call_on(
        socket,
        family_id,
        send_buf,
        Op::GetDests,
        true,
        |buf, flags, seq| encode::query(buf, family_id, &Query::Dests(id), flags, seq),
        |payload| {
            each_nested_in_reply(payload, IPVS_CMD_ATTR_DEST, |dest| {
                dests.push(dest_in(dest, family)?);
                Ok(())
            })
            .map_err(decode_err)
        },
    )?;
    drop_repeats(dests, |d| (d.addr, d.port));
    Ok(())
}

/// The family id, `None` when the kernel has no `IPVS` family.
fn resolve_family(socket: &mut GenlSocket) -> Result<Option<u16>> {
    let request = GenlCtrl {
        cmd: GenlCtrlCmd::GetFamily,
        nlas: vec![GenlCtrlAttrs::FamilyName(IPVS_GENL_NAME.to_string())],
    };
    let mut buf = Vec::with_capacity(64);
    let mut id = None;
    let outcome =
        socket.exchange(GENL_ID_CTRL, request, false, &mut buf, |kind, payload| {
            if kind != GENL_ID_CTRL || payload.len() < 4 {
                return Ok(());
            }
            // Only the id matters; other controller attributes are skipped.
            for nla in NlasIterator::new(&payload[4..]) {
                let nla =
                    nla.map_err(|e| IpvsError::Decode(format!("bad nlctrl reply: {e}")))?;
                if nla.kind() == CTRL_ATTR_FAMILY_ID {
                    let value = nla.value();
                    if value.len() >= 2 {
                        id = Some(u16::from_ne_bytes([value[0], value[1]]));
                    }
                }
            }
            Ok(())
        })?;
    match outcome {
        Ok(()) => id
            .map(Some)
            .ok_or_else(|| IpvsError::Decode("nlctrl reply without a family id".into())),
        Err(libc::ENOENT) => Ok(None),
        Err(errno) => Err(IpvsError::Kernel {
            op: Op::Init,
            errno,
        }),
    }
}

/// The kernel resumes a dump by position, so a dump that services or real
/// servers are added to while it runs can list one twice (ipvsadm 1.31
/// prints it twice): keep the first.
fn drop_repeats<T, K: Eq + std::hash::Hash>(items: &mut Vec<T>, key: impl Fn(&T) -> K) {
    // Most services have a handful of real servers: comparing each with
    // the ones before it is cheaper than hashing them.
    const SCAN_UP_TO: usize = 32;
    if items.len() <= SCAN_UP_TO {
        let mut i = 1;
        while i < items.len() {
            let k = key(&items[i]);
            if items[..i].iter().any(|earlier| key(earlier) == k) {
                items.remove(i);
            } else {
                i += 1;
            }
        }
        return;
    }
    let mut seen = std::collections::HashSet::with_capacity(items.len());
    items.retain(|item| seen.insert(key(item)));
}

/// `/sbin/modprobe -- ip_vs`, no shell, no PATH; its outcome shows in
/// whether the family resolves afterwards.
fn load_ipvs_module() {
    let _ = Command::new(MODPROBE)
        .args(["--", "ip_vs"])
        .stdin(Stdio::null())
        .status();
}

/// The error wording of one change.
fn change_op(change: &Change) -> Op {
    match change {
        Change::AddService(_) => Op::AddService,
        Change::EditService(_) => Op::EditService,
        Change::DelService(_) => Op::DelService,
        Change::Zero(_) => Op::ZeroService,
        Change::Flush => Op::Flush,
        Change::AddDest(..) => Op::AddDest,
        Change::EditDest(..) => Op::EditDest,
        Change::DelDest(..) => Op::DelDest,
        Change::SetTimeouts(_) => Op::SetTimeouts,
        Change::StartDaemon(_) => Op::StartDaemon,
        Change::StopDaemon { .. } => Op::StopDaemon,
    }
}

fn decode_err(e: DecodeError) -> IpvsError {
    IpvsError::Decode(e.to_string())
}

impl IpvsBackend for NetlinkIpvs {
    fn info(&mut self) -> Result<Info> {
        self.call_one(Op::GetInfo, Query::Info, info_in)
    }

    fn services(&mut self) -> Result<Vec<Service>> {
        let mut services = self.call_services(Op::GetServices, Query::Services)?;
        drop_repeats(&mut services, |s| s.id);
        Ok(services)
    }

    fn service(&mut self, id: &ServiceId) -> Result<Service> {
        let mut services = self.call_services(Op::GetService, Query::Service(id))?;
        services.pop().ok_or_else(|| {
            IpvsError::Decode("GET_SERVICE reply without a service".into())
        })
    }

    fn dests(&mut self, id: &ServiceId) -> Result<Vec<Dest>> {
        let mut dests = Vec::new();
        self.dests_into(id, &mut dests)?;
        Ok(dests)
    }

    fn dests_into(&mut self, id: &ServiceId, out: &mut Vec<Dest>) -> Result<()> {
        self.open_dest_dump_socket();
        if let DestDumpSocket::Open(socket) = &mut self.dest_dumps {
            match dests_on(socket, self.family_id, &mut self.send_buf, id, out) {
                Err(IpvsError::Truncated { .. }) => {
                    // Closing the socket ends the dump it was in.
                    self.dest_dumps = DestDumpSocket::Unusable;
                }
                other => return other,
            }
        }
        dests_on(
            &mut self.socket,
            self.family_id,
            &mut self.send_buf,
            id,
            out,
        )
    }

    // The kernel runs one dump per socket at a time (a second one gets
    // EBUSY), and each dump needs a receive to finish, so dumps go one
    // after another; each costs one sendto() and usually one recvmmsg().
    fn dests_many(&mut self, ids: &[ServiceId]) -> Result<Vec<Vec<Dest>>> {
        ids.iter().map(|id| self.dests(id)).collect()
    }

    fn add_service(&mut self, svc: &Service) -> Result<()> {
        self.send_change(&Change::AddService(svc.clone()))
    }

    fn edit_service(&mut self, svc: &Service) -> Result<()> {
        self.send_change(&Change::EditService(svc.clone()))
    }

    fn del_service(&mut self, svc: &Service) -> Result<()> {
        self.send_change(&Change::DelService(svc.clone()))
    }

    fn zero(&mut self, svc: Option<&Service>) -> Result<()> {
        self.send_change(&Change::Zero(svc.cloned()))
    }

    fn flush(&mut self) -> Result<()> {
        self.send_change(&Change::Flush)
    }

    fn add_dest(&mut self, svc: &Service, dest: &Dest) -> Result<()> {
        self.send_change(&Change::AddDest(svc.clone(), dest.clone()))
    }

    fn edit_dest(&mut self, svc: &Service, dest: &Dest) -> Result<()> {
        self.send_change(&Change::EditDest(svc.clone(), dest.clone()))
    }

    fn del_dest(&mut self, svc: &Service, dest: &Dest) -> Result<()> {
        self.send_change(&Change::DelDest(svc.clone(), dest.clone()))
    }

    fn timeouts(&mut self) -> Result<Timeouts> {
        self.call_one(Op::GetTimeouts, Query::Timeouts, timeouts_in)
    }

    fn set_timeouts(&mut self, t: &Timeouts) -> Result<()> {
        self.send_change(&Change::SetTimeouts(*t))
    }

    fn daemons(&mut self) -> Result<Vec<Daemon>> {
        let mut daemons = Vec::new();
        self.call_raw(Op::GetDaemons, Query::Daemons, |payload| {
            each_nested_in_reply(payload, IPVS_CMD_ATTR_DAEMON, |daemon| {
                daemons.push(daemon_in(daemon)?);
                Ok(())
            })
            .map_err(decode_err)
        })?;
        Ok(daemons)
    }

    fn start_daemon(&mut self, d: &Daemon) -> Result<()> {
        self.send_change(&Change::StartDaemon(d.clone()))
    }

    fn stop_daemon(&mut self, state: DaemonState, syncid: u32) -> Result<()> {
        self.send_change(&Change::StopDaemon { state, syncid })
    }

    fn apply(&mut self, changes: &[Change]) -> Result<Vec<Result<()>>> {
        self.pipeline(changes)
    }
}

#[cfg(test)]
mod dump_failures;
#[cfg(test)]
mod scripted;
#[cfg(test)]
mod tests;
