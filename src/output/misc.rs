//! `--timeout` and `--daemon` listings.

use std::io::{self, Write};

use crate::model::{Daemon, Timeouts};

use super::common::ntop;

/// `Timeout (tcp tcpfin udp): 900 120 300`
pub fn write_timeouts(out: &mut dyn Write, t: &Timeouts) -> io::Result<()> {
    // 1.31 prints the timeouts with %d.
    writeln!(
        out,
        "Timeout (tcp tcpfin udp): {} {} {}",
        t.tcp as i32, t.tcp_fin as i32, t.udp as i32
    )
}

/// One line per sync daemon (1.31 shows at most two: master, backup).
/// Optional fields are shown when reported and non-zero.
pub fn write_daemons(out: &mut dyn Write, daemons: &[Daemon]) -> io::Result<()> {
    let mut text = String::new();
    for daemon in daemons.iter().take(2) {
        text.push_str(&format!(
            "{} sync daemon (mcast={}, syncid={}",
            daemon.state.name(),
            daemon.mcast_ifn,
            daemon.syncid as i32
        ));
        if let Some(maxlen) = daemon.sync_maxlen.filter(|m| *m != 0) {
            text.push_str(&format!(", maxlen={maxlen}"));
        }
        if let Some(group) = &daemon.mcast_group {
            text.push_str(&format!(", group={}", ntop(group)));
        }
        if let Some(port) = daemon.mcast_port.filter(|p| *p != 0) {
            text.push_str(&format!(", port={port}"));
        }
        if let Some(ttl) = daemon.mcast_ttl.filter(|t| *t != 0) {
            text.push_str(&format!(", ttl={ttl}"));
        }
        text.push_str(")\n");
    }
    out.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::DaemonState;
    use crate::output::fixtures::ip;

    fn daemon(
        state: DaemonState,
        ifn: &str,
        syncid: u32,
        maxlen: u16,
        group: &str,
    ) -> Daemon {
        Daemon {
            state,
            mcast_ifn: ifn.to_owned(),
            syncid,
            sync_maxlen: Some(maxlen),
            mcast_group: Some(ip(group)),
            mcast_port: Some(8848),
            mcast_ttl: Some(1),
        }
    }

    fn render(daemons: &[Daemon]) -> String {
        let mut out = Vec::new();
        assert!(write_daemons(&mut out, daemons).is_ok());
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn timeouts_line() {
        let mut out = Vec::new();
        let t = Timeouts {
            tcp: 900,
            tcp_fin: 120,
            udp: 300,
        };
        assert!(write_timeouts(&mut out, &t).is_ok());
        assert_eq!(out, b"Timeout (tcp tcpfin udp): 900 120 300\n");
    }

    #[test]
    fn daemons_as_captured() {
        let master = daemon(DaemonState::Master, "tap0", 0, 1472, "224.0.0.81");
        let mut backup = daemon(DaemonState::Backup, "tap1", 7, 1024, "239.1.2.3");
        backup.mcast_port = Some(9000);
        backup.mcast_ttl = Some(5);
        assert_eq!(
            render(&[master.clone(), backup.clone()]),
            "master sync daemon (mcast=tap0, syncid=0, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n\
             backup sync daemon (mcast=tap1, syncid=7, maxlen=1024, group=239.1.2.3, port=9000, ttl=5)\n"
        );
        assert_eq!(
            render(&[backup]),
            "backup sync daemon (mcast=tap1, syncid=7, maxlen=1024, group=239.1.2.3, port=9000, ttl=5)\n"
        );
        let wide = daemon(DaemonState::Master, "tap1", 201, 65507, "224.0.0.81");
        assert_eq!(
            render(&[wide]),
            "master sync daemon (mcast=tap1, syncid=201, maxlen=65507, group=224.0.0.81, port=8848, ttl=1)\n"
        );
        assert_eq!(render(&[]), "");
    }

    #[test]
    fn daemons_without_optional_fields() {
        let old_kernel = Daemon {
            state: DaemonState::Master,
            mcast_ifn: "eth0".to_owned(),
            syncid: 255,
            sync_maxlen: None,
            mcast_group: Some(ip("ff02::1")),
            mcast_port: Some(0),
            mcast_ttl: None,
        };
        assert_eq!(
            render(&[old_kernel]),
            "master sync daemon (mcast=eth0, syncid=255, group=ff02::1)\n"
        );
    }
}
