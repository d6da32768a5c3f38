//! A scripted kernel, for unit tests of everything above the socket: it
//! answers each request sent on a [`super::socket::GenlSocket`] with the
//! next datagrams of its script, stamped with the request's sequence
//! number, and keeps the requests for the test to look at. The datagrams
//! are built from bytes captured from the kernel (`netlink/tests.rs`) with
//! the helpers below, so the socket's reading of acks, errors, dump parts,
//! `NLMSG_DONE` and flags is the code that runs against the kernel.
//!
//! Several sockets (the main one and the one for real-server dumps) can
//! share one script: requests are answered in the order they are sent,
//! whichever socket sends them.
#![cfg(target_endian = "little")]

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use netlink_packet_core::{NLM_F_MULTIPART, NLMSG_DONE, NLMSG_ERROR};
use netlink_packet_generic::constants::GENL_ID_CTRL;

use super::consts::CTRL_ATTR_FAMILY_ID;

/// The family id the scripted kernel gives `IPVS`.
pub const FAMILY_ID: u16 = 0x24;

/// The answers still to give and the requests received, shared by every
/// socket on the scripted kernel.
#[derive(Default)]
struct Kernel {
    answers: VecDeque<Vec<Vec<u8>>>,
    requests: Vec<Vec<u8>>,
}

/// A handle on the scripted kernel: what the test scripts and reads back.
#[derive(Clone, Default)]
pub struct ScriptedKernel(Rc<RefCell<Kernel>>);

impl ScriptedKernel {
    /// The kernel whose first answer resolves the `IPVS` family.
    pub fn new() -> ScriptedKernel {
        let kernel = ScriptedKernel::default();
        kernel.answer_with(vec![family_reply()]);
        kernel
    }

    /// The datagrams that answer the next request not yet scripted.
    pub fn answer_with(&self, datagrams: Vec<Vec<u8>>) {
        self.0.borrow_mut().answers.push_back(datagrams);
    }

    /// A socket end on this kernel.
    pub fn socket(&self) -> Script {
        Script {
            kernel: self.clone(),
            pending: VecDeque::new(),
        }
    }

    /// The `(message type, genl command, flags)` of every request received.
    pub fn requests(&self) -> Vec<(u16, u8, u16)> {
        self.0
            .borrow()
            .requests
            .iter()
            .map(|r| (u16_at(r, 4), r.get(16).copied().unwrap_or(0), u16_at(r, 6)))
            .collect()
    }

    /// Answers not given (requests the code under test did not send).
    pub fn unanswered(&self) -> usize {
        self.0.borrow().answers.len()
    }
}

/// One socket's end of the scripted kernel.
pub struct Script {
    kernel: ScriptedKernel,
    /// Datagrams answered to this socket, not yet read.
    pending: VecDeque<Vec<u8>>,
}

impl Script {
    /// Takes a request (one message, as every request but a batch's is)
    /// and queues the next answer, stamped with its sequence number.
    pub fn answer(&mut self, request: &[u8]) {
        let seq = u32::from_ne_bytes([request[8], request[9], request[10], request[11]]);
        let mut kernel = self.kernel.0.borrow_mut();
        kernel.requests.push(request.to_vec());
        let Some(datagrams) = kernel.answers.pop_front() else {
            return;
        };
        for mut datagram in datagrams {
            let mut at = 0;
            while at + 16 <= datagram.len() {
                datagram[at + 8..at + 12].copy_from_slice(&seq.to_ne_bytes());
                let len = u32::from_ne_bytes([
                    datagram[at],
                    datagram[at + 1],
                    datagram[at + 2],
                    datagram[at + 3],
                ]) as usize;
                at += (len.max(16) + 3) & !3;
            }
            self.pending.push_back(datagram);
        }
    }

    /// The next datagram for this socket, as one `recv` reads it.
    pub fn next_datagram(&mut self) -> Option<Vec<u8>> {
        self.pending.pop_front()
    }
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_ne_bytes([bytes[at], bytes[at + 1]])
}

/// One netlink message: header (sequence number 0, stamped when sent),
/// then `payload`, padded to 4 bytes.
pub fn message(kind: u16, flags: u16, payload: &[u8]) -> Vec<u8> {
    let len = 16 + payload.len();
    let mut m = Vec::with_capacity((len + 3) & !3);
    m.extend_from_slice(&(len as u32).to_ne_bytes());
    m.extend_from_slice(&kind.to_ne_bytes());
    m.extend_from_slice(&flags.to_ne_bytes());
    m.extend_from_slice(&0u32.to_ne_bytes());
    m.extend_from_slice(&0u32.to_ne_bytes());
    m.extend_from_slice(payload);
    m.resize((len + 3) & !3, 0);
    m
}

/// A part of an `IPVS` dump carrying a captured genl payload.
pub fn dump_part(genl_payload: &[u8]) -> Vec<u8> {
    message(FAMILY_ID, NLM_F_MULTIPART, genl_payload)
}

/// The end of a dump.
pub fn done() -> Vec<u8> {
    message(NLMSG_DONE, NLM_F_MULTIPART, &0i32.to_ne_bytes())
}

/// `NLMSG_ERROR` carrying `-errno`, as the kernel sends it on a socket
/// with `NETLINK_CAP_ACK`: the code, then the request's header (zeroes
/// here; nothing reads it).
pub fn error(errno: i32) -> Vec<u8> {
    let mut payload = (-errno).to_ne_bytes().to_vec();
    payload.extend_from_slice(&[0; 16]);
    // NLM_F_CAPPED
    message(NLMSG_ERROR, 0x100, &payload)
}

/// The controller's answer to `CTRL_CMD_GETFAMILY "IPVS"`: command
/// `CTRL_CMD_NEWFAMILY`, the name and the id (other attributes skipped).
fn family_reply() -> Vec<u8> {
    let mut payload = vec![1, 2, 0, 0];
    payload.extend_from_slice(&attr(2, b"IPVS\0"));
    payload.extend_from_slice(&attr(CTRL_ATTR_FAMILY_ID, &FAMILY_ID.to_ne_bytes()));
    let mut m = message(GENL_ID_CTRL, 0, &payload);
    m.extend_from_slice(&error(0));
    m
}

fn attr(kind: u16, value: &[u8]) -> Vec<u8> {
    let len = 4 + value.len();
    let mut a = Vec::with_capacity((len + 3) & !3);
    a.extend_from_slice(&(len as u16).to_ne_bytes());
    a.extend_from_slice(&kind.to_ne_bytes());
    a.extend_from_slice(value);
    a.resize((len + 3) & !3, 0);
    a
}
