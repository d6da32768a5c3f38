//! Host and port names for listings without `-n`.
//!
//! 1.31 resolves hosts with `gethostbyaddr` (first `h_name`, else the
//! numeric address) and ports with `getservbyport(port, "tcp"|"udp"|"sctp")`
//! using the *service's* protocol; fwmark services (protocol 0) and
//! connection entries of other protocols keep numeric ports.

use std::collections::HashMap;
use std::ffi::{CStr, CString};
use std::net::IpAddr;
use std::sync::Mutex;

/// Resolves addresses and ports to names; `None` means "print it numeric".
pub trait NameResolver {
    /// The host name of `addr` (reverse lookup), if it has one.
    fn host(&self, addr: &IpAddr) -> Option<String>;
    /// The service name of `port` for `proto` (`"tcp"`, `"udp"`, `"sctp"`).
    fn service(&self, port: u16, proto: &str) -> Option<String>;
}

/// The system's resolver (NSS: `/etc/hosts`, DNS, `/etc/services`), with a
/// per-instance cache: one listing asks for the same addresses many times.
#[derive(Debug, Default)]
pub struct SystemResolver {
    hosts: Mutex<HashMap<IpAddr, Option<String>>>,
    services: Mutex<HashMap<(u16, String), Option<String>>>,
}

/// `getservbyport` returns a pointer to static storage: serialise callers.
static GETSERV_LOCK: Mutex<()> = Mutex::new(());

impl SystemResolver {
    pub fn new() -> SystemResolver {
        SystemResolver::default()
    }

    /// `getnameinfo(NI_NAMEREQD)`: glibc answers it with the first
    /// `h_name` of `gethostbyaddr`, which is what 1.31 prints.
    fn lookup_host(addr: &IpAddr) -> Option<String> {
        let mut host = [0 as libc::c_char; 1025];
        let rc = match addr {
            IpAddr::V4(v4) => {
                // SAFETY: all-zero bytes are a valid sockaddr_in.
                let mut sin: libc::sockaddr_in = unsafe { std::mem::zeroed() };
                sin.sin_family = libc::AF_INET as libc::sa_family_t;
                sin.sin_addr.s_addr = u32::from_ne_bytes(v4.octets());
                // SAFETY: sin is a valid sockaddr_in of the given length and
                // host a writable buffer of the given length.
                unsafe {
                    libc::getnameinfo(
                        (&sin as *const libc::sockaddr_in).cast(),
                        std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
                        host.as_mut_ptr(),
                        host.len() as libc::socklen_t,
                        std::ptr::null_mut(),
                        0,
                        libc::NI_NAMEREQD,
                    )
                }
            }
            IpAddr::V6(v6) => {
                // SAFETY: all-zero bytes are a valid sockaddr_in6.
                let mut sin6: libc::sockaddr_in6 = unsafe { std::mem::zeroed() };
                sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
                sin6.sin6_addr.s6_addr = v6.octets();
                // SAFETY: as above, for sockaddr_in6.
                unsafe {
                    libc::getnameinfo(
                        (&sin6 as *const libc::sockaddr_in6).cast(),
                        std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t,
                        host.as_mut_ptr(),
                        host.len() as libc::socklen_t,
                        std::ptr::null_mut(),
                        0,
                        libc::NI_NAMEREQD,
                    )
                }
            }
        };
        if rc != 0 {
            return None;
        }
        // SAFETY: on success getnameinfo wrote a NUL-terminated string into
        // host; the last byte is never overwritten past the buffer.
        let name = unsafe { CStr::from_ptr(host.as_ptr()) };
        Some(name.to_string_lossy().into_owned())
    }

    fn lookup_service(port: u16, proto: &str) -> Option<String> {
        let proto = CString::new(proto).ok()?;
        let _guard = GETSERV_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: proto is NUL-terminated; the result points to static
        // storage that stays valid while we hold the lock.
        let entry =
            unsafe { libc::getservbyport(i32::from(port.to_be()), proto.as_ptr()) };
        if entry.is_null() {
            return None;
        }
        // SAFETY: entry is non-null and s_name a NUL-terminated string.
        let name = unsafe { (*entry).s_name };
        if name.is_null() {
            return None;
        }
        // SAFETY: name is a non-null NUL-terminated string (see above).
        Some(
            unsafe { CStr::from_ptr(name) }
                .to_string_lossy()
                .into_owned(),
        )
    }
}

impl NameResolver for SystemResolver {
    fn host(&self, addr: &IpAddr) -> Option<String> {
        let mut cache = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .entry(*addr)
            .or_insert_with(|| SystemResolver::lookup_host(addr))
            .clone()
    }

    fn service(&self, port: u16, proto: &str) -> Option<String> {
        let mut cache = self.services.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .entry((port, proto.to_owned()))
            .or_insert_with(|| SystemResolver::lookup_service(port, proto))
            .clone()
    }
}

/// A resolver from fixed tables, for tests.
#[derive(Debug, Clone, Default)]
pub struct FakeResolver {
    pub hosts: HashMap<IpAddr, String>,
    /// Keyed by (port, protocol name).
    pub services: HashMap<(u16, String), String>,
}

impl FakeResolver {
    pub fn new() -> FakeResolver {
        FakeResolver::default()
    }

    pub fn with_host(mut self, addr: IpAddr, name: &str) -> FakeResolver {
        self.hosts.insert(addr, name.to_owned());
        self
    }

    pub fn with_service(mut self, port: u16, proto: &str, name: &str) -> FakeResolver {
        self.services
            .insert((port, proto.to_owned()), name.to_owned());
        self
    }
}

impl NameResolver for FakeResolver {
    fn host(&self, addr: &IpAddr) -> Option<String> {
        self.hosts.get(addr).cloned()
    }

    fn service(&self, port: u16, proto: &str) -> Option<String> {
        self.services.get(&(port, proto.to_owned())).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fake_resolver_answers_from_its_tables() {
        let names = FakeResolver::new()
            .with_host([10, 0, 0, 1].into(), "vip")
            .with_service(80, "tcp", "http");
        assert_eq!(names.host(&[10, 0, 0, 1].into()).as_deref(), Some("vip"));
        assert_eq!(names.host(&[10, 0, 0, 2].into()), None);
        assert_eq!(names.service(80, "tcp").as_deref(), Some("http"));
        assert_eq!(names.service(80, "udp"), None);
    }

    #[test]
    fn system_resolver_does_not_fail_on_unknowns() {
        let names = SystemResolver::new();
        // Port 0 is never a service; the answer must simply be "none".
        assert_eq!(names.service(0, "tcp"), None);
        assert_eq!(names.service(80, "no\0such"), None);
    }
}
