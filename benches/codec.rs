//! The netlink codec: encoding batches of requests (what a large `-R`
//! sends, straight into the buffer) and decoding dumps (what `-L`
//! receives, in place), without a kernel.
//!
//! `cargo bench --bench codec`

mod common;

use std::hint::black_box;
use std::net::IpAddr;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ipvsadm_rs::backend::Change;
use ipvsadm_rs::model::{Family, Netmask, ServiceAddr, ServiceEntry, Stats};
use ipvsadm_rs::netlink::consts::*;
use ipvsadm_rs::netlink::decode::{dest_in, each_nested_in_reply, service_in};
use ipvsadm_rs::netlink::encode;
use netlink_packet_core::{NLM_F_ACK, NLM_F_REQUEST};

const SERVICES: u32 = 1_000;
const DESTS_PER_SERVICE: u32 = 10;
const FAMILY_ID: u16 = 0x20;

/// Appends one attribute, padded to 4 bytes.
fn nla(buf: &mut Vec<u8>, kind: u16, value: &[u8]) {
    let len = 4 + value.len();
    buf.extend_from_slice(&(len as u16).to_ne_bytes());
    buf.extend_from_slice(&kind.to_ne_bytes());
    buf.extend_from_slice(value);
    buf.resize(buf.len() + (4 - len % 4) % 4, 0);
}

fn stats64(stats: &Stats) -> Vec<u8> {
    let mut nest = Vec::with_capacity(120);
    for (kind, value) in [
        (IPVS_STATS_ATTR_CONNS, stats.conns),
        (IPVS_STATS_ATTR_INPKTS, stats.inpkts),
        (IPVS_STATS_ATTR_OUTPKTS, stats.outpkts),
        (IPVS_STATS_ATTR_INBYTES, stats.inbytes),
        (IPVS_STATS_ATTR_OUTBYTES, stats.outbytes),
        (IPVS_STATS_ATTR_CPS, stats.cps),
        (IPVS_STATS_ATTR_INPPS, stats.inpps),
        (IPVS_STATS_ATTR_OUTPPS, stats.outpps),
        (IPVS_STATS_ATTR_INBPS, stats.inbps),
        (IPVS_STATS_ATTR_OUTBPS, stats.outbps),
    ] {
        nla(&mut nest, kind, &value.to_ne_bytes());
    }
    nest
}

/// One dump reply as the kernel sends it: the genl header, then one
/// container with `attrs`.
fn reply(cmd: u8, container: u16, attrs: &[u8]) -> Vec<u8> {
    // Exactly sized, so that replies lie about as close together as the
    // messages of a datagram do.
    let mut payload = Vec::with_capacity(8 + attrs.len());
    payload.extend_from_slice(&[cmd, 1, 0, 0]);
    nla(&mut payload, container, attrs);
    payload
}

/// The kernel's `union nf_inet_addr`.
fn raw_addr(addr: &IpAddr) -> [u8; 16] {
    let mut raw = [0; 16];
    match addr {
        IpAddr::V4(a) => raw[..4].copy_from_slice(&a.octets()),
        IpAddr::V6(a) => raw = a.octets(),
    }
    raw
}

// The replies are written here rather than with the encoder: a second
// call site of `encode::change` in this binary would change how it is
// inlined into the benchmark loop, and with it what the encoding numbers
// measure.
fn service_replies(table: &[ServiceEntry]) -> Vec<Vec<u8>> {
    table
        .iter()
        .map(|entry| {
            let svc = &entry.service;
            let mut attrs = Vec::new();
            nla(
                &mut attrs,
                IPVS_SVC_ATTR_AF,
                &svc.id.family.raw().to_ne_bytes(),
            );
            match svc.id.addr {
                ServiceAddr::Fwmark(mark) => {
                    nla(&mut attrs, IPVS_SVC_ATTR_FWMARK, &mark.to_ne_bytes())
                }
                ServiceAddr::Inet {
                    protocol,
                    addr,
                    port,
                } => {
                    nla(
                        &mut attrs,
                        IPVS_SVC_ATTR_PROTOCOL,
                        &protocol.raw().to_ne_bytes(),
                    );
                    nla(&mut attrs, IPVS_SVC_ATTR_ADDR, &raw_addr(&addr));
                    nla(&mut attrs, IPVS_SVC_ATTR_PORT, &port.to_be_bytes());
                }
            }
            let sched = [svc.scheduler.as_bytes(), &[0]].concat();
            nla(&mut attrs, IPVS_SVC_ATTR_SCHED_NAME, &sched);
            let flags = [svc.flags.bits().to_ne_bytes(), u32::MAX.to_ne_bytes()].concat();
            nla(&mut attrs, IPVS_SVC_ATTR_FLAGS, &flags);
            nla(
                &mut attrs,
                IPVS_SVC_ATTR_TIMEOUT,
                &svc.timeout.to_ne_bytes(),
            );
            let netmask = match svc.netmask {
                Netmask::V4(mask) => mask.octets(),
                Netmask::V6(prefix) => prefix.to_ne_bytes(),
            };
            nla(&mut attrs, IPVS_SVC_ATTR_NETMASK, &netmask);
            nla(&mut attrs, IPVS_SVC_ATTR_STATS64, &stats64(&svc.stats));
            reply(IPVS_CMD_NEW_SERVICE, IPVS_CMD_ATTR_SERVICE, &attrs)
        })
        .collect()
}

fn dest_replies(table: &[ServiceEntry]) -> Vec<Vec<u8>> {
    table
        .iter()
        .flat_map(|entry| &entry.dests)
        .map(|dest| {
            let mut attrs = Vec::new();
            nla(
                &mut attrs,
                IPVS_DEST_ATTR_ADDR_FAMILY,
                &dest.family.raw().to_ne_bytes(),
            );
            nla(&mut attrs, IPVS_DEST_ATTR_ADDR, &raw_addr(&dest.addr));
            nla(&mut attrs, IPVS_DEST_ATTR_PORT, &dest.port.to_be_bytes());
            for (kind, value) in [
                (IPVS_DEST_ATTR_FWD_METHOD, dest.fwd.raw() & 0x7),
                (IPVS_DEST_ATTR_WEIGHT, dest.weight as u32),
            ] {
                nla(&mut attrs, kind, &value.to_ne_bytes());
            }
            nla(&mut attrs, IPVS_DEST_ATTR_TUN_TYPE, &[dest.tun_type.raw()]);
            nla(
                &mut attrs,
                IPVS_DEST_ATTR_TUN_PORT,
                &dest.tun_port.to_be_bytes(),
            );
            nla(
                &mut attrs,
                IPVS_DEST_ATTR_TUN_FLAGS,
                &dest.tun_flags.bits().to_ne_bytes(),
            );
            for (kind, value) in [
                (IPVS_DEST_ATTR_U_THRESH, dest.u_threshold),
                (IPVS_DEST_ATTR_L_THRESH, dest.l_threshold),
                (IPVS_DEST_ATTR_ACTIVE_CONNS, dest.active_conns),
                (IPVS_DEST_ATTR_INACT_CONNS, dest.inact_conns),
                (IPVS_DEST_ATTR_PERSIST_CONNS, dest.persist_conns),
            ] {
                nla(&mut attrs, kind, &value.to_ne_bytes());
            }
            nla(&mut attrs, IPVS_DEST_ATTR_STATS64, &stats64(&dest.stats));
            reply(IPVS_CMD_NEW_DEST, IPVS_CMD_ATTR_DEST, &attrs)
        })
        .collect()
}

fn encode_requests(c: &mut Criterion) {
    let table = common::table(SERVICES, DESTS_PER_SERVICE);
    let requests = u64::from(SERVICES * (1 + DESTS_PER_SERVICE));
    let mut group = c.benchmark_group("encode");
    group.throughput(Throughput::Elements(requests));
    let changes: Vec<Change> = table
        .iter()
        .flat_map(|entry| {
            std::iter::once(Change::AddService(entry.service.clone())).chain(
                entry
                    .dests
                    .iter()
                    .map(|dest| Change::AddDest(entry.service.clone(), dest.clone())),
            )
        })
        .collect();
    group.bench_function("1k services + 10k real servers, direct", |b| {
        let mut buf = Vec::with_capacity(4 << 20);
        b.iter(|| {
            buf.clear();
            for (seq, change) in (1..).zip(&changes) {
                encode::change(
                    &mut buf,
                    FAMILY_ID,
                    change,
                    NLM_F_REQUEST | NLM_F_ACK,
                    seq,
                );
            }
            black_box(buf.len())
        });
    });
    group.finish();
}

/// The replies hold the table: what is timed decodes what it should.
fn assert_decode_to(table: &[ServiceEntry], services: &[Vec<u8>], dests: &[Vec<u8>]) {
    let mut decoded = Vec::new();
    for payload in services {
        each_nested_in_reply(payload, IPVS_CMD_ATTR_SERVICE, |svc| {
            decoded.push(service_in(svc)?);
            Ok(())
        })
        .expect("a valid reply");
    }
    assert!(decoded.iter().eq(table.iter().map(|entry| &entry.service)));
    let mut decoded = Vec::new();
    for payload in dests {
        each_nested_in_reply(payload, IPVS_CMD_ATTR_DEST, |dest| {
            decoded.push(dest_in(dest, Family::Inet)?);
            Ok(())
        })
        .expect("a valid reply");
    }
    assert!(
        decoded
            .iter()
            .eq(table.iter().flat_map(|entry| &entry.dests))
    );
}

fn decode_dumps(c: &mut Criterion) {
    let table = common::table(SERVICES, DESTS_PER_SERVICE);
    let services = service_replies(&table);
    let dests = dest_replies(&table);
    assert_decode_to(&table, &services, &dests);
    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Elements(services.len() as u64));
    group.bench_function("1k services", |b| {
        b.iter(|| {
            let mut decoded = Vec::with_capacity(services.len());
            for payload in &services {
                each_nested_in_reply(payload, IPVS_CMD_ATTR_SERVICE, |svc| {
                    decoded.push(service_in(svc)?);
                    Ok(())
                })
                .expect("a valid reply");
            }
            black_box(decoded)
        });
    });
    group.throughput(Throughput::Elements(dests.len() as u64));
    group.bench_function("10k real servers", |b| {
        b.iter(|| {
            let mut decoded = Vec::with_capacity(dests.len());
            for payload in &dests {
                each_nested_in_reply(payload, IPVS_CMD_ATTR_DEST, |dest| {
                    decoded.push(dest_in(dest, Family::Inet)?);
                    Ok(())
                })
                .expect("a valid reply");
            }
            black_box(decoded)
        });
    });
    group.finish();
}

criterion_group!(benches, encode_requests, decode_dumps);
criterion_main!(benches);
