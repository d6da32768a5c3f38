//! The kernel backend: IPVS over generic netlink.
//!
//! - [`attrs`]: typed attribute sets of the `IPVS` family;
//! - [`message`]: the family's message (`GenlFamily` for netlink-packet-generic);
//! - [`convert`]: model values to and from attribute sets, as libipvs does;
//! - [`encode`]: change requests written straight into the send buffer;
//! - [`socket`]: one socket, sequence numbers, batching, dumps.
//!
//! One socket per [`NetlinkIpvs`] (and one for real-server dumps), the
//! family id resolved once, buffers reused across requests. Batches
//! ([`IpvsBackend::apply`]) are sent many requests per `sendto()`, each
//! under its own sequence number; only the last of a datagram asks for an
//! ack. Service and destination dumps are decoded in place, straight into
//! the model, because listings are where the volume is; changes and the
//! real-server dump requests are encoded straight into the send buffer
//! ([`encode`]), because restores and listings send one per line or
//! service; everything else goes through the typed [`message::IpvsMessage`].
//!
//! Requests carry exactly the attributes libipvs (ipvsadm 1.31) sends, so
//! the kernel answers with the same errnos; callers pick the wording from
//! [`crate::error::Op`].

pub mod attrs;
pub mod convert;
pub mod encode;
pub mod message;
pub mod socket;

use std::process::{Command, Stdio};

use netlink_packet_core::{NLM_F_REQUEST, NlasIterator, ParseableParametrized};
use netlink_packet_generic::ctrl::nlas::GenlCtrlAttrs;
use netlink_packet_generic::ctrl::{GenlCtrl, GenlCtrlCmd};
use netlink_packet_generic::{GenlHeader, constants::GENL_ID_CTRL};

use self::attrs::{IPVS_CMD_ATTR_DEST, IPVS_CMD_ATTR_SERVICE, IpvsAttr};
use self::convert::*;
use self::message::{IPVS_FAMILY_NAME, IpvsCmd, IpvsMessage};
use self::socket::{GenlSocket, IncomingKind, SEND_CHUNK_BYTES, Step};
use crate::backend::{Change, IpvsBackend, Result};
use crate::error::{IpvsError, Op};
use crate::model::{Daemon, DaemonState, Dest, Info, Service, ServiceId, Timeouts};

/// `CTRL_ATTR_FAMILY_ID`
const CTRL_ATTR_FAMILY_ID: u16 = 1;
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

    /// Sends one request and feeds the payload (genl header onwards) of
    /// every reply message to `on_reply`.
    fn call_raw<F>(
        &mut self,
        op: Op,
        request: IpvsMessage,
        dump: bool,
        on_reply: F,
    ) -> Result<()>
    where
        F: FnMut(&[u8]) -> Result<()>,
    {
        let family_id = self.family_id;
        call_on(
            &mut self.socket,
            family_id,
            &mut self.send_buf,
            op,
            dump,
            |buf, flags, seq| socket::encode(buf, family_id, request, flags, seq),
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

    /// Sends one request and feeds every decoded reply to `on_reply`.
    fn call<F>(
        &mut self,
        op: Op,
        request: IpvsMessage,
        dump: bool,
        mut on_reply: F,
    ) -> Result<()>
    where
        F: FnMut(IpvsMessage) -> Result<()>,
    {
        self.call_raw(op, request, dump, |payload| on_reply(decode_ipvs(payload)?))
    }

    /// Services of a `GET_SERVICE` reply, decoded in place.
    fn call_services(
        &mut self,
        op: Op,
        request: IpvsMessage,
        dump: bool,
    ) -> Result<Vec<Service>> {
        let mut services = Vec::new();
        self.call_raw(op, request, dump, |payload| {
            each_nested_in_reply(payload, IPVS_CMD_ATTR_SERVICE, |svc| {
                services.push(service_in(svc)?);
                Ok(())
            })
            .map_err(decode_err)
        })?;
        Ok(services)
    }

    /// A request answered by one message (`GET_INFO`, `GET_CONFIG`, single
    /// `GET_SERVICE`).
    fn call_one(&mut self, op: Op, request: IpvsMessage) -> Result<IpvsMessage> {
        let mut reply = None;
        self.call(op, request, false, |msg| {
            reply.get_or_insert(msg);
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
        |buf, flags, seq| encode::dest_dump_request(buf, family_id, id, flags, seq),
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

/// Decodes a reply payload (genl header onwards) into the typed message.
/// Public for the fuzz targets only.
#[doc(hidden)]
pub fn decode_ipvs(payload: &[u8]) -> Result<IpvsMessage> {
    let header =
        GenlHeader::parse(payload).map_err(|e| IpvsError::Decode(e.to_string()))?;
    IpvsMessage::parse_with_param(&payload[4..], header)
        .map_err(|e| IpvsError::Decode(e.to_string()))
}

/// The family id, `None` when the kernel has no `IPVS` family.
fn resolve_family(socket: &mut GenlSocket) -> Result<Option<u16>> {
    let request = GenlCtrl {
        cmd: GenlCtrlCmd::GetFamily,
        nlas: vec![GenlCtrlAttrs::FamilyName(IPVS_FAMILY_NAME.to_string())],
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

#[cfg(test)]
fn service_msg(cmd: IpvsCmd, svc: &Service) -> IpvsMessage {
    IpvsMessage::new(cmd, vec![IpvsAttr::Service(service_attrs(svc))])
}

#[cfg(test)]
fn dest_msg(cmd: IpvsCmd, svc: &Service, dest: &Dest) -> IpvsMessage {
    IpvsMessage::new(
        cmd,
        vec![
            IpvsAttr::Service(service_attrs(svc)),
            IpvsAttr::Dest(dest_attrs(dest)),
        ],
    )
}

#[cfg(test)]
/// libipvs zeroes everything when the service identity is all zeros
/// (`ipvsadm -Z -t 0.0.0.0:0`), by leaving out the service attribute.
fn zero_msg(svc: Option<&Service>) -> IpvsMessage {
    match svc {
        Some(svc) if !encode::zeroes_all(svc) => service_msg(IpvsCmd::Zero, svc),
        _ => IpvsMessage::new(IpvsCmd::Zero, vec![]),
    }
}

#[cfg(test)]
fn start_daemon_msg(d: &Daemon) -> IpvsMessage {
    IpvsMessage::new(IpvsCmd::NewDaemon, vec![IpvsAttr::Daemon(daemon_attrs(d))])
}

#[cfg(test)]
fn stop_daemon_msg(state: DaemonState, syncid: u32) -> IpvsMessage {
    IpvsMessage::new(
        IpvsCmd::DelDaemon,
        vec![IpvsAttr::Daemon(stop_daemon_attrs(state, syncid))],
    )
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

/// The request and error wording of one change, as a typed message: the
/// reference [`encode::change`] is tested against.
#[cfg(test)]
fn change_request(change: &Change) -> (Op, IpvsMessage) {
    match change {
        Change::AddService(s) => (Op::AddService, service_msg(IpvsCmd::NewService, s)),
        Change::EditService(s) => (Op::EditService, service_msg(IpvsCmd::SetService, s)),
        Change::DelService(s) => (Op::DelService, service_msg(IpvsCmd::DelService, s)),
        Change::Zero(s) => (Op::ZeroService, zero_msg(s.as_ref())),
        Change::Flush => (Op::Flush, IpvsMessage::new(IpvsCmd::Flush, vec![])),
        Change::AddDest(s, d) => (Op::AddDest, dest_msg(IpvsCmd::NewDest, s, d)),
        Change::EditDest(s, d) => (Op::EditDest, dest_msg(IpvsCmd::SetDest, s, d)),
        Change::DelDest(s, d) => (Op::DelDest, dest_msg(IpvsCmd::DelDest, s, d)),
        Change::SetTimeouts(t) => (
            Op::SetTimeouts,
            IpvsMessage::new(IpvsCmd::SetConfig, timeout_attrs(t)),
        ),
        Change::StartDaemon(d) => (Op::StartDaemon, start_daemon_msg(d)),
        Change::StopDaemon { state, syncid } => {
            (Op::StopDaemon, stop_daemon_msg(*state, *syncid))
        }
    }
}

fn decode_err(e: netlink_packet_core::DecodeError) -> IpvsError {
    IpvsError::Decode(e.to_string())
}

impl IpvsBackend for NetlinkIpvs {
    fn info(&mut self) -> Result<Info> {
        let reply =
            self.call_one(Op::GetInfo, IpvsMessage::new(IpvsCmd::GetInfo, vec![]))?;
        info_from_attrs(&reply.attrs).map_err(decode_err)
    }

    fn services(&mut self) -> Result<Vec<Service>> {
        let request = IpvsMessage::new(IpvsCmd::GetService, vec![]);
        let mut services = self.call_services(Op::GetServices, request, true)?;
        drop_repeats(&mut services, |s| s.id);
        Ok(services)
    }

    fn service(&mut self, id: &ServiceId) -> Result<Service> {
        let request = IpvsMessage::new(
            IpvsCmd::GetService,
            vec![IpvsAttr::Service(service_id_attrs(id))],
        );
        let mut services = self.call_services(Op::GetService, request, false)?;
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
        let reply = self.call_one(
            Op::GetTimeouts,
            IpvsMessage::new(IpvsCmd::GetConfig, vec![]),
        )?;
        Ok(timeouts_from_attrs(&reply.attrs))
    }

    fn set_timeouts(&mut self, t: &Timeouts) -> Result<()> {
        self.send_change(&Change::SetTimeouts(*t))
    }

    fn daemons(&mut self) -> Result<Vec<Daemon>> {
        let mut daemons = Vec::new();
        let request = IpvsMessage::new(IpvsCmd::GetDaemon, vec![]);
        self.call(Op::GetDaemons, request, true, |msg| {
            for attr in &msg.attrs {
                if let IpvsAttr::Daemon(attrs) = attr {
                    daemons.push(daemon_from_attrs(attrs).map_err(decode_err)?);
                }
            }
            Ok(())
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
mod tests;
