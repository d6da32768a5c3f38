//! The IPVS settings of a network namespace (`/proc/sys/net/ipv4/vs/*`)
//! and the forwarding switches NAT depends on: their values as the kernel
//! shows them, and one line each on what they do.

use std::path::Path;

use super::{Read, read_text, reason};

/// One sysctl of the namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// Its sysctl name (`net.ipv4.vs.run_estimation`).
    pub name: String,
    /// Its value as the kernel writes it (trimmed), or why it cannot be
    /// read.
    pub value: Read<String>,
    /// What it does, for the settings this program knows.
    pub about: Option<&'static str>,
}

/// The forwarding switches masquerading needs.
pub const IP_FORWARD: &str = "net.ipv4.ip_forward";
pub const IPV6_FORWARDING: &str = "net.ipv6.conf.all.forwarding";

/// `net.ipv4.vs.` names used by the rules.
pub const RUN_ESTIMATION: &str = "net.ipv4.vs.run_estimation";
pub const EST_CPULIST: &str = "net.ipv4.vs.est_cpulist";
pub const EXPIRE_NODEST_CONN: &str = "net.ipv4.vs.expire_nodest_conn";
pub const CONN_REUSE_MODE: &str = "net.ipv4.vs.conn_reuse_mode";
pub const EXPIRE_QUIESCENT_TEMPLATE: &str = "net.ipv4.vs.expire_quiescent_template";

/// The IPVS settings this program can say something about (the kernel's
/// `Documentation/networking/ipvs-sysctl.rst`), in that document's order.
/// Some exist only on some kernels (`run_estimation` since 5.16,
/// `est_cpulist` and `est_nice` since 6.2, the latter two only in the
/// initial namespace; `debug_level` only in debugging builds).
const KNOWN: &[(&str, &str)] = &[
    (
        "am_droprate",
        "packets dropped 1 in this many by drop_packet under memory pressure",
    ),
    (
        "amemthresh",
        "free memory (pages) below which the drop_entry, drop_packet and secure_tcp defences start",
    ),
    (
        "backup_only",
        "1: a host running a backup sync daemon does not balance itself",
    ),
    (
        "cache_bypass",
        "1: with no real server available, packets go straight to their destination",
    ),
    (
        "conn_reuse_mode",
        "new connections from a client port IPVS still knows: 0 go to the old real server, 1 or 2 are scheduled again",
    ),
    (
        "conntrack",
        "1: keep netfilter connection tracking for IPVS connections",
    ),
    (
        "debug_level",
        "kernel debug messages (debugging builds only)",
    ),
    (
        "drop_entry",
        "defence: drop connection entries at random under memory pressure (0 off, 1 auto, 2 on, 3 always)",
    ),
    (
        "drop_packet",
        "defence: drop 1 packet in am_droprate under memory pressure",
    ),
    (
        "est_cpulist",
        "CPUs the rate estimator runs on (empty: it does not run, and rates are not updated)",
    ),
    (
        "est_nice",
        "nice value of the rate estimator's kernel threads",
    ),
    (
        "expire_nodest_conn",
        "1: a packet for a connection whose real server is gone or at weight 0 ends it, so the client is scheduled again",
    ),
    (
        "expire_quiescent_template",
        "1: persistence to a real server at weight 0 ends, so its clients are scheduled again",
    ),
    ("ignore_tunneled", "1: IPVS ignores tunnelled packets"),
    (
        "lblc_expiration",
        "seconds after which an unused lblc entry expires",
    ),
    (
        "lblcr_expiration",
        "seconds after which an unused lblcr entry expires",
    ),
    (
        "nat_icmp_send",
        "1: send ICMP errors for NAT connections whose real server is gone",
    ),
    (
        "pmtu_disc",
        "1: honour DF and send ICMP fragmentation-needed for NAT and tunnels",
    ),
    (
        "run_estimation",
        "1: the rate estimator runs (0: rates, and before 6.2 counters, are no longer updated)",
    ),
    ("schedule_icmp", "1: ICMP packets may create connections"),
    (
        "secure_tcp",
        "defence: stricter TCP state timeouts under memory pressure (0 off, 1 auto, 2 on, 3 always)",
    ),
    (
        "sloppy_sctp",
        "1: any SCTP packet may create a connection, not only INIT",
    ),
    (
        "sloppy_tcp",
        "1: any TCP packet may create a connection, not only SYN",
    ),
    (
        "snat_reroute",
        "1: route NAT replies again after their source is rewritten",
    ),
    (
        "sync_persist_mode",
        "1: the sync daemon sends persistence templates only",
    ),
    (
        "sync_ports",
        "sync daemon threads (and ports) for sync protocol 1",
    ),
    ("sync_qlen_max", "sync messages queued at most"),
    (
        "sync_refresh_period",
        "seconds between syncs of an unchanged connection (0: on state changes only)",
    ),
    (
        "sync_retries",
        "times a sync message of a connection is sent again",
    ),
    (
        "sync_sock_size",
        "sync socket buffer size in bytes (0: the default)",
    ),
    (
        "sync_threshold",
        "sync a connection after this many packets, then every so many",
    ),
    ("sync_version", "sync protocol version sent (0 or 1)"),
];

/// Why a known setting has no file here.
pub const ABSENT: &str = "not provided by this kernel in this namespace";

/// Reads the forwarding switches and every `net/ipv4/vs` file under
/// `sys` (a `/proc/sys`): the known settings in [`KNOWN`]'s order (those
/// without a file said to be [`ABSENT`]), then any others.
pub fn read_all(sys: &Path) -> Vec<Setting> {
    let mut out = Vec::with_capacity(KNOWN.len() + 2);
    for (name, path, about) in [
        (
            IP_FORWARD,
            "net/ipv4/ip_forward",
            "1: forward IPv4 packets (replies of masqueraded IPv4 real servers pass through here)",
        ),
        (
            IPV6_FORWARDING,
            "net/ipv6/conf/all/forwarding",
            "1: forward IPv6 packets (replies of masqueraded IPv6 real servers pass through here)",
        ),
    ] {
        out.push(Setting {
            name: name.to_string(),
            value: read_value(&sys.join(path)),
            about: Some(about),
        });
    }
    let dir = sys.join("net/ipv4/vs");
    let mut present: Vec<String> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect(),
        Err(e) => {
            // No IPVS settings at all (the directory is hidden from
            // namespaces of other user namespaces): said once.
            out.push(Setting {
                name: "net.ipv4.vs".to_string(),
                value: Err(reason(&e)),
                about: Some("the IPVS settings of this namespace"),
            });
            return out;
        }
    };
    present.sort();
    for (name, about) in KNOWN {
        let value = match present.iter().position(|p| p == name) {
            Some(i) => {
                present.remove(i);
                read_value(&dir.join(name))
            }
            None => Err(ABSENT.to_string()),
        };
        out.push(Setting {
            name: format!("net.ipv4.vs.{name}"),
            value,
            about: Some(about),
        });
    }
    for name in present {
        out.push(Setting {
            value: read_value(&dir.join(&name)),
            name: format!("net.ipv4.vs.{name}"),
            about: None,
        });
    }
    out
}

/// A sysctl's value, whitespace inside kept (`sync_threshold` is `3\t50`).
fn read_value(path: &Path) -> Read<String> {
    read_text(path).map(|v| v.trim().to_string())
}
