//! One generic netlink socket and the request/reply machinery on top of
//! it: sequence numbers that tie every ack and reply to its request,
//! batched sends, dumps read until `NLMSG_DONE`, and a receive queue
//! filled by `recvmmsg` so that a run of small acks costs one system call.
//! In unit tests a socket can talk to a scripted kernel instead
//! (`netlink/scripted.rs`), so that everything above `send` and `recvmmsg`
//! runs as it does on the kernel.

use std::fmt::Debug;
use std::io;
use std::os::fd::AsRawFd;

use netlink_packet_core::{
    Emitable, ErrorBuffer, NLM_F_ACK, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_REQUEST,
    NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, NLMSG_OVERRUN, NetlinkBuffer, NetlinkMessage,
};
use netlink_packet_generic::{GenlFamily, GenlMessage};
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_GENERIC};

use crate::error::IpvsError;

/// Receive buffer we ask for: room for thousands of pipelined acks.
const RCVBUF_BYTES: libc::c_int = 8 << 20;
/// A conservative kernel-side cost of one queued ack (skb overhead
/// included), to keep a batch's acks within the receive buffer: the kernel
/// drops acks that do not fit.
const ACK_TRUESIZE: usize = 2048;
/// Upper bound of requests in flight, whatever the buffer size.
const MAX_IN_FLIGHT: usize = 1024;
/// Bytes per `sendto()`; stays below the default socket send buffer.
pub const SEND_CHUNK_BYTES: usize = 64 << 10;
/// One datagram slot: the kernel caps dump skbs just under 32 KiB.
const SLOT_BYTES: usize = 32 << 10;
/// What the kernel adds after each skb's data (`struct skb_shared_info`
/// on 64-bit kernels, cache-aligned); a page less this is `NLMSG_GOODSIZE`.
const SKB_SHARED_INFO_BYTES: usize = 320;
/// Datagrams read per `recvmmsg()`: 512 KiB of slots. More saves few
/// calls (a dump of 10,000 services is about 50 datagrams) and costs
/// resident memory, as every slot a dump fills is touched.
const SLOTS: usize = 16;

/// One netlink message as received, borrowed from the receive queue.
#[derive(Debug)]
pub struct Incoming<'a> {
    pub seq: u32,
    /// `NLM_F_DUMP_INTR`: the table changed while the dump that this
    /// message is part of was taken, so the dump may be inconsistent.
    pub interrupted: bool,
    pub kind: IncomingKind<'a>,
}

#[derive(Debug)]
pub enum IncomingKind<'a> {
    /// A family message: its type and its payload (genl header onwards).
    Data {
        message_type: u16,
        payload: &'a [u8],
    },
    /// `NLMSG_ERROR` with code 0: the request succeeded.
    Ack,
    /// `NLMSG_ERROR` with a code, or `NLMSG_DONE` carrying one: a positive
    /// errno.
    Error(i32),
    /// `NLMSG_DONE`: the end of a dump.
    Done,
}

/// What a receive handler wants next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    More,
    Finished,
}

/// Datagrams read but not yet handed out, so that nothing read past the
/// end of one exchange is lost for the next.
struct RecvQueue {
    buf: Vec<u8>,
    /// Bytes per slot, at most `SLOT_BYTES`.
    slot_len: usize,
    lens: [usize; SLOTS],
    filled: usize,
    slot: usize,
    offset: usize,
}

impl RecvQueue {
    fn new(slot_len: usize) -> RecvQueue {
        RecvQueue {
            buf: vec![0; SLOTS * slot_len],
            slot_len,
            lens: [0; SLOTS],
            filled: 0,
            slot: 0,
            offset: 0,
        }
    }

    fn is_empty(&self) -> bool {
        self.slot >= self.filled
    }

    /// Reads at least one datagram (blocking), and whatever else is
    /// already queued, up to `SLOTS`.
    fn fill(&mut self, fd: libc::c_int) -> Result<(), IpvsError> {
        let mut iovs: [libc::iovec; SLOTS] = [libc::iovec {
            iov_base: std::ptr::null_mut(),
            iov_len: 0,
        }; SLOTS];
        // SAFETY: mmsghdr is plain old data; all-zero is a valid value.
        let mut msgs: [libc::mmsghdr; SLOTS] = unsafe { std::mem::zeroed() };
        for (i, (iov, msg)) in iovs.iter_mut().zip(msgs.iter_mut()).enumerate() {
            iov.iov_base = self.buf[i * self.slot_len..].as_mut_ptr().cast();
            iov.iov_len = self.slot_len;
            msg.msg_hdr.msg_iov = iov;
            msg.msg_hdr.msg_iovlen = 1;
        }
        let received = loop {
            // SAFETY: every iovec points into `self.buf` at a distinct slot
            // of slot_len bytes, all alive and exclusively borrowed for
            // the call; `msgs` outlives it. MSG_TRUNC makes the kernel
            // report a datagram's full length so truncation is detected.
            let n = unsafe {
                libc::recvmmsg(
                    fd,
                    msgs.as_mut_ptr(),
                    SLOTS as libc::c_uint,
                    (libc::MSG_WAITFORONE | libc::MSG_TRUNC) as _,
                    std::ptr::null_mut(),
                )
            };
            if n >= 0 {
                break n as usize;
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(IpvsError::Io(err));
            }
        };
        for (len, msg) in self.lens.iter_mut().zip(&msgs[..received]) {
            *len = msg.msg_len as usize;
            if *len > self.slot_len || msg.msg_hdr.msg_flags & libc::MSG_TRUNC != 0 {
                return Err(IpvsError::Truncated {
                    len: *len,
                    room: self.slot_len,
                });
            }
        }
        self.filled = received;
        self.slot = 0;
        self.offset = 0;
        Ok(())
    }

    /// Reads the next datagram the scripted kernel has for us, as `fill`
    /// reads one from the kernel; none left is an error, not a hang.
    #[cfg(test)]
    fn fill_from(
        &mut self,
        script: &mut super::scripted::Script,
    ) -> Result<(), IpvsError> {
        let Some(datagram) = script.next_datagram() else {
            return Err(IpvsError::Io(io::Error::new(
                io::ErrorKind::WouldBlock,
                "the scripted kernel has nothing more to say",
            )));
        };
        if datagram.len() > self.slot_len {
            return Err(IpvsError::Truncated {
                len: datagram.len(),
                room: self.slot_len,
            });
        }
        self.buf[..datagram.len()].copy_from_slice(&datagram);
        self.lens[0] = datagram.len();
        self.filled = 1;
        self.slot = 0;
        self.offset = 0;
        Ok(())
    }

    /// The next message in the queue, or `None` when it is used up.
    fn next_message(&mut self) -> Option<Result<Incoming<'_>, IpvsError>> {
        while !self.is_empty() {
            let start = self.slot * self.slot_len;
            let datagram = &self.buf[start..start + self.lens[self.slot]];
            if self.offset >= datagram.len() {
                self.slot += 1;
                self.offset = 0;
                continue;
            }
            let rest = &datagram[self.offset..];
            let nl = match NetlinkBuffer::new_checked(rest) {
                Ok(nl) => nl,
                Err(e) => {
                    // A broken frame poisons the rest of its datagram.
                    self.slot += 1;
                    self.offset = 0;
                    return Some(Err(IpvsError::Decode(format!(
                        "bad netlink message header: {e}"
                    ))));
                }
            };
            let length = nl.length() as usize;
            self.offset += (length + 3) & !3;
            let seq = nl.sequence_number();
            let interrupted = nl.flags() & NLM_F_DUMP_INTR != 0;
            let message_type = nl.message_type();
            let payload = &rest[16..length];
            let kind = match message_type {
                NLMSG_NOOP | NLMSG_OVERRUN => continue,
                NLMSG_ERROR => match ErrorBuffer::new_checked(payload) {
                    Ok(err) => match err.code() {
                        None => IncomingKind::Ack,
                        Some(code) => IncomingKind::Error(code.get().saturating_abs()),
                    },
                    Err(e) => {
                        return Some(Err(IpvsError::Decode(format!(
                            "bad NLMSG_ERROR: {e}"
                        ))));
                    }
                },
                NLMSG_DONE => match payload.get(..4) {
                    Some(code) => {
                        let code =
                            i32::from_ne_bytes([code[0], code[1], code[2], code[3]]);
                        if code == 0 {
                            IncomingKind::Done
                        } else {
                            IncomingKind::Error(code.saturating_abs())
                        }
                    }
                    None => IncomingKind::Done,
                },
                _ => IncomingKind::Data {
                    message_type,
                    payload,
                },
            };
            return Some(Ok(Incoming {
                seq,
                interrupted,
                kind,
            }));
        }
        None
    }
}

/// Where a socket's datagrams go and come from: the kernel, or in unit
/// tests a scripted kernel (`netlink/scripted.rs`) that answers each request
/// with canned datagrams. An enum, not a trait object: outside tests it has
/// one variant and every `match` on it compiles to the kernel's call.
enum Transport {
    Kernel(Socket),
    #[cfg(test)]
    Scripted(super::scripted::Script),
}

/// A bound `NETLINK_GENERIC` socket.
pub struct GenlSocket {
    transport: Transport,
    kernel: SocketAddr,
    next_seq: u32,
    max_in_flight: usize,
    queue: RecvQueue,
}

impl GenlSocket {
    /// A socket for requests, acks and dumps of any size.
    pub fn open() -> Result<GenlSocket, IpvsError> {
        GenlSocket::open_with(SLOT_BYTES)
    }

    /// A socket for dumps of a few messages each (one service's real
    /// servers), read in page-sized datagrams.
    ///
    /// The kernel sizes each dump datagram after the largest read the
    /// socket has made (up to 32 KiB), or `NLMSG_GOODSIZE` (a page less
    /// the skb's shared info) if that is larger, and clears the whole
    /// allocation (Debian's kernels have `init_on_alloc`): reading a dump
    /// of ten real servers with 32 KiB slots made it allocate and clear
    /// 64 KiB for it (data, then the end marker), 8 pages where one does.
    /// A kernel whose `NLMSG_GOODSIZE` is larger than guessed sends a
    /// datagram that does not fit: [`IpvsError::Truncated`], and the caller
    /// goes back to a socket from [`GenlSocket::open`].
    pub fn open_for_small_dumps() -> Result<GenlSocket, IpvsError> {
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        let page = usize::try_from(page).unwrap_or(4096).clamp(4096, 8192);
        GenlSocket::open_with(page - SKB_SHARED_INFO_BYTES)
    }

    fn open_with(slot_len: usize) -> Result<GenlSocket, IpvsError> {
        let mut socket = Socket::new(NETLINK_GENERIC)?;
        socket.bind_auto()?;
        // Both are optimisations (error text in acks, acks without a copy
        // of the request); kernels without them still work.
        let _ = socket.set_ext_ack(true);
        let _ = socket.set_cap_ack(true);
        let rcvbuf = grow_receive_buffer(&socket);
        Ok(GenlSocket {
            transport: Transport::Kernel(socket),
            kernel: SocketAddr::new(0, 0),
            next_seq: 1,
            max_in_flight: (rcvbuf / ACK_TRUESIZE).clamp(8, MAX_IN_FLIGHT),
            queue: RecvQueue::new(slot_len),
        })
    }

    /// How many acked requests may be outstanding at once.
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight
    }

    /// Reserves `count` consecutive sequence numbers (wrapping) and
    /// returns the first.
    pub fn reserve_seqs(&mut self, count: usize) -> u32 {
        let first = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(count as u32);
        first
    }

    /// A socket on a scripted kernel, with `slot_len`-byte datagram slots.
    #[cfg(test)]
    pub fn scripted(script: super::scripted::Script, slot_len: usize) -> GenlSocket {
        GenlSocket {
            transport: Transport::Scripted(script),
            kernel: SocketAddr::new(0, 0),
            next_seq: 1,
            max_in_flight: 8,
            queue: RecvQueue::new(slot_len),
        }
    }

    /// Sends `buf`, which holds whole netlink messages, in one datagram.
    pub fn send(&mut self, buf: &[u8]) -> Result<(), IpvsError> {
        match &mut self.transport {
            Transport::Kernel(socket) => loop {
                match socket.send_to(buf, &self.kernel, 0) {
                    Ok(_) => return Ok(()),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(IpvsError::Io(e)),
                }
            },
            #[cfg(test)]
            Transport::Scripted(script) => {
                script.answer(buf);
                Ok(())
            }
        }
    }

    /// Hands received messages to `handler` until it says `Finished`.
    /// Messages after that stay queued for the next call.
    pub fn receive<F>(&mut self, mut handler: F) -> Result<(), IpvsError>
    where
        F: FnMut(Incoming<'_>) -> Result<Step, IpvsError>,
    {
        loop {
            while let Some(message) = self.queue.next_message() {
                if handler(message?)? == Step::Finished {
                    return Ok(());
                }
            }
            match &mut self.transport {
                Transport::Kernel(socket) => self.queue.fill(socket.as_raw_fd())?,
                #[cfg(test)]
                Transport::Scripted(script) => self.queue.fill_from(script)?,
            }
        }
    }

    /// One request, then its replies until the ack (or the end of the dump
    /// when `dump`). Data messages go to `on_data`; a kernel error is
    /// returned as its errno in `Ok(Err(errno))`.
    ///
    /// A dump the kernel marks `NLM_F_DUMP_INTR` (the table changed while
    /// it was taken) is read to its end and then fails with `EINVAL`, as it
    /// does in ipvsadm 1.31: libnl reads such a dump to `NLMSG_DONE` and
    /// returns `-NLE_DUMP_INTR`, which reaches libipvs without a kernel
    /// errno, so libipvs reports its default, `EINVAL`.
    pub fn exchange<M, F>(
        &mut self,
        family_id: u16,
        payload: M,
        dump: bool,
        buf: &mut Vec<u8>,
        on_data: F,
    ) -> Result<Result<(), i32>, IpvsError>
    where
        M: GenlFamily + Emitable + Debug,
        F: FnMut(u16, &[u8]) -> Result<(), IpvsError>,
    {
        self.exchange_encoded(
            dump,
            buf,
            |buf, flags, seq| encode(buf, family_id, payload, flags, seq),
            on_data,
        )
    }

    /// [`GenlSocket::exchange`] of a request that `encode_request` appends
    /// to the buffer, given its flags and sequence number.
    pub fn exchange_encoded<E, F>(
        &mut self,
        dump: bool,
        buf: &mut Vec<u8>,
        encode_request: E,
        mut on_data: F,
    ) -> Result<Result<(), i32>, IpvsError>
    where
        E: FnOnce(&mut Vec<u8>, u16, u32),
        F: FnMut(u16, &[u8]) -> Result<(), IpvsError>,
    {
        let seq = self.reserve_seqs(1);
        buf.clear();
        let flags = if dump {
            NLM_F_REQUEST | NLM_F_ACK | NLM_F_DUMP
        } else {
            NLM_F_REQUEST | NLM_F_ACK
        };
        encode_request(buf, flags, seq);
        self.send(buf)?;
        let mut outcome = Ok(());
        let mut failure = None;
        let mut interrupted = false;
        self.receive(|msg| {
            if msg.seq != seq {
                return Ok(Step::More); // a stale reply to an earlier request
            }
            interrupted |= msg.interrupted;
            match msg.kind {
                IncomingKind::Data {
                    message_type,
                    payload,
                } => {
                    // Keep reading to the end even after a bad message, so
                    // the socket is clean for the next request.
                    if failure.is_none() {
                        if let Err(e) = on_data(message_type, payload) {
                            failure = Some(e);
                        }
                    }
                    Ok(Step::More)
                }
                IncomingKind::Ack if dump => Ok(Step::More),
                IncomingKind::Ack | IncomingKind::Done => Ok(Step::Finished),
                IncomingKind::Error(errno) => {
                    outcome = Err(errno);
                    Ok(Step::Finished)
                }
            }
        })?;
        match failure {
            Some(e) => Err(e),
            None if interrupted && outcome.is_ok() => Ok(Err(libc::EINVAL)),
            None => Ok(outcome),
        }
    }
}

/// Appends one finished netlink message carrying `payload` to `buf`: the
/// controller's family lookup, which netlink-packet-generic spells out
/// (the `IPVS` requests are [`super::encode`]'s).
pub fn encode<M>(buf: &mut Vec<u8>, family_id: u16, payload: M, flags: u16, seq: u32)
where
    M: GenlFamily + Emitable + Debug,
{
    let mut genl = GenlMessage::from_payload(payload);
    genl.set_resolved_family_id(family_id);
    genl.finalize();
    let mut message = NetlinkMessage::from(genl);
    message.header.flags = flags;
    message.header.sequence_number = seq;
    message.finalize();
    let start = buf.len();
    buf.resize(start + message.buffer_len(), 0);
    message.serialize(&mut buf[start..]);
}

/// Adds `NLM_F_ACK` to the flags of the message that starts at `offset`
/// in `buf`.
pub fn request_ack(buf: &mut [u8], offset: usize) {
    // nlmsghdr: len u32, type u16, flags u16 (native endian), ...
    let at = offset + 6;
    if let Some(field) = buf.get_mut(at..at + 2) {
        let flags = u16::from_ne_bytes([field[0], field[1]]) | NLM_F_ACK;
        field.copy_from_slice(&flags.to_ne_bytes());
    }
}

/// Asks for a big receive buffer, past `rmem_max` when privileged; returns
/// the size the kernel granted.
fn grow_receive_buffer(socket: &Socket) -> usize {
    let size = RCVBUF_BYTES;
    // SAFETY: plain setsockopt on a socket we own, with a pointer to a
    // c_int that outlives the call and its exact size.
    let forced = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUFFORCE,
            (&size as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if forced != 0 {
        let _ = socket.set_rx_buf_sz(size);
    }
    socket.get_rx_buf_sz().unwrap_or(0)
}

#[cfg(all(test, target_endian = "little"))]
mod tests {
    use super::*;

    fn header(len: u32, kind: u16, flags: u16, seq: u32) -> Vec<u8> {
        let mut h = Vec::new();
        h.extend_from_slice(&len.to_ne_bytes());
        h.extend_from_slice(&kind.to_ne_bytes());
        h.extend_from_slice(&flags.to_ne_bytes());
        h.extend_from_slice(&seq.to_ne_bytes());
        h.extend_from_slice(&0u32.to_ne_bytes());
        h
    }

    /// NLMSG_ERROR as the kernel sends it with NETLINK_CAP_ACK: the code
    /// and the request's header.
    fn error(seq: u32, code: i32) -> Vec<u8> {
        let mut m = header(36, NLMSG_ERROR, 0x100, seq);
        m.extend_from_slice(&code.to_ne_bytes());
        m.extend_from_slice(&header(20, 0x20, 5, seq));
        m
    }

    fn queue_of(datagrams: &[Vec<u8>]) -> RecvQueue {
        let mut q = RecvQueue::new(SLOT_BYTES);
        for (i, d) in datagrams.iter().enumerate() {
            q.buf[i * q.slot_len..i * q.slot_len + d.len()].copy_from_slice(d);
            q.lens[i] = d.len();
        }
        q.filled = datagrams.len();
        q
    }

    fn drain(q: &mut RecvQueue) -> Vec<String> {
        let mut seen = Vec::new();
        while let Some(m) = q.next_message() {
            seen.push(match m {
                Ok(m) => format!("{} {:?}", m.seq, m.kind),
                Err(e) => format!("error {e}"),
            });
        }
        seen
    }

    #[test]
    fn acks_errors_data_and_done_in_order() {
        let mut dump = header(24, 0x20, 2, 8);
        dump.extend_from_slice(&[4, 1, 0, 0, 0, 0, 0, 0]);
        let mut done = header(20, NLMSG_DONE, 2, 8);
        done.extend_from_slice(&0i32.to_ne_bytes());
        dump.extend_from_slice(&done);
        let mut q = queue_of(&[error(5, 0), error(6, -17), dump]);
        assert_eq!(
            drain(&mut q),
            [
                "5 Ack",
                "6 Error(17)",
                "8 Data { message_type: 32, payload: [4, 1, 0, 0, 0, 0, 0, 0] }",
                "8 Done",
            ]
        );
        assert!(q.is_empty());
    }

    #[test]
    fn broken_frames_are_errors_not_panics() {
        let mut too_long = header(400, 0x20, 0, 1);
        too_long.extend_from_slice(&[0; 8]);
        let too_short = header(8, 0x20, 0, 2);
        let mut short_error = header(18, NLMSG_ERROR, 0, 3);
        short_error.extend_from_slice(&[0, 0]);
        let mut q = queue_of(&[
            too_long,
            too_short,
            short_error,
            error(4, -1),
            vec![1, 2, 3],
        ]);
        let seen = drain(&mut q);
        assert_eq!(seen.len(), 5, "{seen:?}");
        assert!(seen[0].starts_with("error"), "{seen:?}");
        assert!(seen[1].starts_with("error"), "{seen:?}");
        assert!(seen[2].starts_with("error"), "{seen:?}");
        assert_eq!(seen[3], "4 Error(1)");
        assert!(seen[4].starts_with("error"), "{seen:?}");
    }

    /// `fill` reads datagrams whatever the socket; a datagram larger than
    /// a slot is `Truncated` (what makes the real-server dumps go back to
    /// the main socket), one that fits is read whole.
    #[test]
    fn datagrams_larger_than_a_slot_are_truncation_errors() {
        let mut fds = [0 as libc::c_int; 2];
        // SAFETY: `fds` has room for the two descriptors.
        let rc = unsafe {
            libc::socketpair(libc::AF_UNIX, libc::SOCK_DGRAM, 0, fds.as_mut_ptr())
        };
        assert_eq!(rc, 0, "socketpair: {}", io::Error::last_os_error());
        // SAFETY: both descriptors were just created and are owned here.
        let (ours, theirs) = unsafe {
            use std::os::fd::{FromRawFd, OwnedFd};
            (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1]))
        };
        let send = |len: usize| {
            let mut datagram = header(len as u32, NLMSG_DONE, 0, 7);
            datagram.resize(len, 0);
            // SAFETY: the pointer and length describe `datagram`.
            let sent = unsafe {
                libc::send(theirs.as_raw_fd(), datagram.as_ptr().cast(), len, 0)
            };
            assert_eq!(sent, len as isize, "{}", io::Error::last_os_error());
        };
        let mut q = RecvQueue::new(4096 - SKB_SHARED_INFO_BYTES);
        send(3000);
        q.fill(ours.as_raw_fd()).expect("a datagram that fits");
        assert_eq!(q.lens[..q.filled], [3000]);
        send(4096);
        match q.fill(ours.as_raw_fd()) {
            Err(IpvsError::Truncated { len: 4096, room }) => {
                assert_eq!(room, 4096 - SKB_SHARED_INFO_BYTES)
            }
            other => panic!("expected a truncation, got {other:?}"),
        }
    }

    #[test]
    fn sequence_numbers_are_consecutive_and_wrap() {
        let mut s = GenlSocket {
            transport: Transport::Kernel(
                Socket::new(NETLINK_GENERIC).expect("netlink socket"),
            ),
            kernel: SocketAddr::new(0, 0),
            next_seq: u32::MAX - 1,
            max_in_flight: 8,
            queue: RecvQueue::new(SLOT_BYTES),
        };
        assert_eq!(s.reserve_seqs(2), u32::MAX - 1);
        assert_eq!(s.reserve_seqs(1), 0);
        assert_eq!(s.reserve_seqs(0), 1);
    }
}
