//! Prometheus text exposition (`--format prometheus`) of per-service and
//! per-real-server counters, rates and connection gauges, for
//! node_exporter's textfile collector or any scraper.
//!
//! Label names follow node_exporter's `ipvs` collector (`local_address`,
//! `local_port`, `local_mark`, `remote_address`, `remote_port`, `proto`)
//! so dashboards can join the two; unlike it, every counter is per service
//! and per real server, 64-bit, and SCTP and fwmark services are included.

use std::fmt::Write as _;

use crate::model::{Dest, Service, ServiceAddr, ServiceEntry, Stats};

struct Metric {
    name: &'static str,
    kind: &'static str,
    help: &'static str,
    value: fn(&Stats) -> u64,
}

const STAT_METRICS: &[Metric] = &[
    Metric {
        name: "connections_total",
        kind: "counter",
        help: "Connections scheduled",
        value: |s| s.conns,
    },
    Metric {
        name: "incoming_packets_total",
        kind: "counter",
        help: "Packets received from clients",
        value: |s| s.inpkts,
    },
    Metric {
        name: "outgoing_packets_total",
        kind: "counter",
        help: "Packets sent to clients",
        value: |s| s.outpkts,
    },
    Metric {
        name: "incoming_bytes_total",
        kind: "counter",
        help: "Bytes received from clients",
        value: |s| s.inbytes,
    },
    Metric {
        name: "outgoing_bytes_total",
        kind: "counter",
        help: "Bytes sent to clients",
        value: |s| s.outbytes,
    },
    Metric {
        name: "connections_per_second",
        kind: "gauge",
        help: "Kernel estimate of new connections per second",
        value: |s| s.cps,
    },
    Metric {
        name: "incoming_packets_per_second",
        kind: "gauge",
        help: "Kernel estimate of incoming packets per second",
        value: |s| s.inpps,
    },
    Metric {
        name: "outgoing_packets_per_second",
        kind: "gauge",
        help: "Kernel estimate of outgoing packets per second",
        value: |s| s.outpps,
    },
    Metric {
        name: "incoming_bytes_per_second",
        kind: "gauge",
        help: "Kernel estimate of incoming bytes per second",
        value: |s| s.inbps,
    },
    Metric {
        name: "outgoing_bytes_per_second",
        kind: "gauge",
        help: "Kernel estimate of outgoing bytes per second",
        value: |s| s.outbps,
    },
];

struct DestGauge {
    name: &'static str,
    help: &'static str,
    value: fn(&Dest) -> i64,
}

const DEST_GAUGES: &[DestGauge] = &[
    DestGauge {
        name: "weight",
        help: "Scheduling weight of the real server",
        value: |d| i64::from(d.weight),
    },
    DestGauge {
        name: "connections_active",
        help: "Active connections to the real server",
        value: |d| i64::from(d.active_conns),
    },
    DestGauge {
        name: "connections_inactive",
        help: "Inactive connections to the real server",
        value: |d| i64::from(d.inact_conns),
    },
    DestGauge {
        name: "connections_persistent",
        help: "Persistence templates pointing to the real server",
        value: |d| i64::from(d.persist_conns),
    },
];

/// Escapes a label value (backslash, double quote, newline).
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn service_labels(s: &Service) -> String {
    let (proto, addr, port, mark) = match s.id.addr {
        ServiceAddr::Inet {
            protocol,
            addr,
            port,
        } => {
            let proto = crate::name_table::protocol(protocol).map_or_else(
                || protocol.raw().to_string(),
                |names| names.upper.to_string(),
            );
            (proto, addr.to_string(), port.to_string(), String::new())
        }
        ServiceAddr::Fwmark(m) => (
            "FWM".to_string(),
            String::new(),
            String::new(),
            m.to_string(),
        ),
    };
    let family = crate::name_table::family(s.id.family);
    format!(
        "family=\"{family}\",proto=\"{}\",local_address=\"{}\",local_port=\"{}\",local_mark=\"{}\"",
        escape(&proto),
        escape(&addr),
        port,
        mark
    )
}

fn dest_labels(svc_labels: &str, d: &Dest) -> String {
    format!(
        "{svc_labels},remote_address=\"{}\",remote_port=\"{}\"",
        d.addr, d.port
    )
}

/// Renders the whole table as Prometheus text exposition format 0.0.4.
pub fn render(entries: &[ServiceEntry]) -> String {
    let mut out = String::with_capacity(256 + entries.len() * 2048);
    let labels: Vec<String> =
        entries.iter().map(|e| service_labels(&e.service)).collect();
    for m in STAT_METRICS {
        let name = format!("ipvs_service_{}", m.name);
        let _ = writeln!(out, "# HELP {name} {} by the virtual service.", m.help);
        let _ = writeln!(out, "# TYPE {name} {}", m.kind);
        for (e, l) in entries.iter().zip(&labels) {
            let _ = writeln!(out, "{name}{{{l}}} {}", (m.value)(&e.service.stats));
        }
    }
    for m in STAT_METRICS {
        let name = format!("ipvs_backend_{}", m.name);
        let _ = writeln!(out, "# HELP {name} {} by the real server.", m.help);
        let _ = writeln!(out, "# TYPE {name} {}", m.kind);
        for (e, l) in entries.iter().zip(&labels) {
            for d in &e.dests {
                let _ = writeln!(
                    out,
                    "{name}{{{}}} {}",
                    dest_labels(l, d),
                    (m.value)(&d.stats)
                );
            }
        }
    }
    for g in DEST_GAUGES {
        let name = format!("ipvs_backend_{}", g.name);
        let _ = writeln!(out, "# HELP {name} {}.", g.help);
        let _ = writeln!(out, "# TYPE {name} gauge");
        for (e, l) in entries.iter().zip(&labels) {
            for d in &e.dests {
                let _ = writeln!(out, "{name}{{{}}} {}", dest_labels(l, d), (g.value)(d));
            }
        }
    }
    let _ = writeln!(out, "# HELP ipvs_services Number of virtual services.");
    let _ = writeln!(out, "# TYPE ipvs_services gauge");
    let _ = writeln!(out, "ipvs_services {}", entries.len());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        Dest, Family, FwdMethod, Netmask, Protocol, Service, ServiceFlags, ServiceId,
        ShortName, TunnelFlags, TunnelType,
    };
    use std::net::{IpAddr, Ipv4Addr};

    fn service(addr: ServiceAddr, conns: u64) -> Service {
        Service {
            id: ServiceId {
                family: Family::Inet,
                addr,
            },
            scheduler: ShortName::literal("rr"),
            pe_name: None,
            flags: ServiceFlags::HASHED,
            timeout: 0,
            netmask: Netmask::V4(Ipv4Addr::BROADCAST),
            stats: Stats {
                conns,
                inbytes: u64::from(u32::MAX) + 7,
                ..Stats::default()
            },
        }
    }

    fn dest(last: u8, conns: u64) -> Dest {
        Dest {
            family: Family::Inet,
            addr: IpAddr::V4(Ipv4Addr::new(10, 10, last, 2)),
            port: 80,
            fwd: FwdMethod::Masq,
            weight: 1,
            u_threshold: 0,
            l_threshold: 0,
            active_conns: 2,
            inact_conns: u32::from(last),
            persist_conns: 0,
            tun_type: TunnelType::Ipip,
            tun_port: 0,
            tun_flags: TunnelFlags::empty(),
            stats: Stats {
                conns,
                ..Stats::default()
            },
        }
    }

    fn parse(text: &str) -> prometheus_parse::Scrape {
        let lines = text.lines().map(|l| Ok(l.to_string()));
        prometheus_parse::Scrape::parse(lines).expect("valid exposition format")
    }

    fn value(s: &prometheus_parse::Sample) -> f64 {
        match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            _ => f64::NAN,
        }
    }

    #[test]
    fn a_parser_reads_every_service_and_real_server() {
        let tcp = ServiceAddr::Inet {
            protocol: Protocol::Tcp,
            addr: IpAddr::V4(Ipv4Addr::new(10, 200, 1, 76)),
            port: 9000,
        };
        let sctp = ServiceAddr::Inet {
            protocol: Protocol::Sctp,
            addr: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            port: 5000,
        };
        let entries = vec![
            ServiceEntry {
                service: service(tcp, 100),
                dests: vec![dest(1, 34), dest(2, 33), dest(3, 33)],
            },
            ServiceEntry {
                service: service(sctp, 0),
                dests: vec![],
            },
            ServiceEntry {
                service: service(ServiceAddr::Fwmark(u32::MAX), 5),
                dests: vec![dest(4, 5)],
            },
        ];
        let scrape = parse(&render(&entries));

        let svc_conns: Vec<_> = scrape
            .samples
            .iter()
            .filter(|s| s.metric == "ipvs_service_connections_total")
            .collect();
        assert_eq!(svc_conns.len(), 3);
        assert_eq!(
            svc_conns[0].labels.get("local_address"),
            Some("10.200.1.76")
        );
        assert_eq!(svc_conns[0].labels.get("local_port"), Some("9000"));
        assert_eq!(svc_conns[1].labels.get("proto"), Some("SCTP"));
        assert_eq!(svc_conns[2].labels.get("proto"), Some("FWM"));
        assert_eq!(svc_conns[2].labels.get("local_mark"), Some("4294967295"));
        assert_eq!(value(svc_conns[0]), 100.0);
        assert!(matches!(
            svc_conns[0].value,
            prometheus_parse::Value::Counter(_)
        ));

        // 64-bit: a byte counter above 2^32 is not truncated.
        let bytes = scrape
            .samples
            .iter()
            .find(|s| s.metric == "ipvs_service_incoming_bytes_total")
            .expect("bytes sample");
        assert_eq!(value(bytes), (u64::from(u32::MAX) + 7) as f64);

        let backend: Vec<(String, f64)> = scrape
            .samples
            .iter()
            .filter(|s| s.metric == "ipvs_backend_connections_total")
            .map(|s| {
                (
                    s.labels.get("remote_address").unwrap_or("").to_string(),
                    value(s),
                )
            })
            .collect();
        assert_eq!(
            backend,
            vec![
                ("10.10.1.2".to_string(), 34.0),
                ("10.10.2.2".to_string(), 33.0),
                ("10.10.3.2".to_string(), 33.0),
                ("10.10.4.2".to_string(), 5.0),
            ]
        );
        let inactive = scrape
            .samples
            .iter()
            .find(|s| {
                s.metric == "ipvs_backend_connections_inactive"
                    && s.labels.get("remote_address") == Some("10.10.3.2")
            })
            .expect("inactive gauge");
        assert!(matches!(
            inactive.value,
            prometheus_parse::Value::Gauge(3.0)
        ));
        let count = scrape
            .samples
            .iter()
            .find(|s| s.metric == "ipvs_services")
            .expect("service count");
        assert_eq!(value(count), 3.0);
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
