//! Errors of kernel operations, with ipvsadm 1.31's wording.
//!
//! ipvsadm chooses its message from the operation that failed and the
//! errno the kernel returned (libipvs `ipvs_strerror`); scripts grep for
//! those words, so we keep them exactly.

use std::fmt;
use std::io;

/// The kernel operation a request performed, for error wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    Init,
    GetInfo,
    AddService,
    EditService,
    DelService,
    ZeroService,
    Flush,
    AddDest,
    EditDest,
    DelDest,
    GetServices,
    GetService,
    GetDests,
    SetTimeouts,
    GetTimeouts,
    StartDaemon,
    StopDaemon,
    GetDaemons,
}

/// An IPVS operation failed.
#[derive(Debug, thiserror::Error)]
pub enum IpvsError {
    /// The kernel answered with an errno.
    #[error("{}", kernel_message(*.op, *.errno))]
    Kernel { op: Op, errno: i32 },
    /// The generic netlink family `IPVS` does not exist (module not loaded
    /// and could not be loaded).
    #[error("Protocol not available")]
    Unavailable,
    /// Socket-level failure talking to the kernel.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The kernel sent something we could not decode.
    #[error("malformed reply from the kernel: {0}")]
    Decode(String),
    /// A datagram did not fit the slot it was read into (and was lost).
    #[error(
        "malformed reply from the kernel: netlink datagram of {len} bytes exceeds the {room}-byte buffer"
    )]
    Truncated { len: usize, room: usize },
}

impl IpvsError {
    pub fn errno(&self) -> Option<i32> {
        match self {
            IpvsError::Kernel { errno, .. } => Some(*errno),
            IpvsError::Io(e) => e.raw_os_error(),
            _ => None,
        }
    }
}

/// ipvsadm's message for `errno` returned by `op` (spec §10.1); falls back
/// to the C library's `strerror` text.
pub fn kernel_message(op: Op, errno: i32) -> String {
    use libc::*;
    let specific = match (op, errno) {
        (Op::AddService, EEXIST) => Some("Service already exists"),
        (Op::AddService, ENOENT) => Some("Scheduler or persistence engine not found"),
        (Op::EditService, ESRCH) => Some("No such service"),
        (Op::EditService, ENOENT) => Some("Scheduler or persistence engine not found"),
        (Op::DelService, ESRCH) => Some("No such service"),
        (Op::ZeroService, ESRCH) => Some("No such service"),
        (Op::AddDest, ESRCH) => Some("Service not defined"),
        (Op::AddDest, EEXIST) => Some("Destination already exists"),
        (Op::EditDest, ESRCH) => Some("Service not defined"),
        (Op::EditDest, ENOENT) => Some("No such destination"),
        (Op::DelDest, ESRCH) => Some("Service not defined"),
        (Op::DelDest, ENOENT) => Some("No such destination"),
        (Op::StartDaemon, EEXIST) => Some("Daemon has already run"),
        (Op::StopDaemon, ESRCH) => Some("No daemon is running"),
        (Op::GetServices, ESRCH) => Some("No such service"),
        (Op::GetDests, ESRCH) => Some("No such service"),
        (Op::GetService, ESRCH) => Some("No such service"),
        (_, EPERM) => Some("Permission denied (you must be root)"),
        (_, EINVAL) => Some(
            "Invalid operation.  Possibly wrong module version, address not unicast, ...",
        ),
        (_, ENOPROTOOPT) => Some("Protocol not available"),
        (_, ENOMEM) => Some("Memory allocation problem"),
        (_, EOPNOTSUPP) => Some("Operation not supported with IPv6"),
        (_, EAFNOSUPPORT) => {
            Some("Operation not supported with specified address family")
        }
        (_, EMSGSIZE) => Some("Module is wrong version"),
        _ => None,
    };
    match specific {
        Some(s) => s.to_string(),
        None => self::strerror(errno),
    }
}

/// The C library's English text for `errno`, without Rust's
/// " (os error N)" suffix.
pub fn strerror(errno: i32) -> String {
    let text = io::Error::from_raw_os_error(errno).to_string();
    match text.rfind(" (os error ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_follow_the_operation() {
        assert_eq!(
            kernel_message(Op::AddService, libc::EEXIST),
            "Service already exists"
        );
        assert_eq!(
            kernel_message(Op::AddDest, libc::ESRCH),
            "Service not defined"
        );
        assert_eq!(
            kernel_message(Op::DelService, libc::ESRCH),
            "No such service"
        );
        assert_eq!(
            kernel_message(Op::AddDest, libc::ERANGE),
            "Numerical result out of range"
        );
        assert_eq!(
            kernel_message(Op::StartDaemon, libc::ENODEV),
            "No such device"
        );
        assert_eq!(
            kernel_message(Op::GetInfo, libc::EPERM),
            "Permission denied (you must be root)"
        );
    }
}
