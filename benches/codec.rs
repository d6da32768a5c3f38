//! The netlink codec: encoding batches of requests (what a large `-R`
//! sends, straight into the buffer) and decoding dumps (what `-L`
//! receives, in place), without a kernel.
//!
//! `cargo bench --bench codec`

mod common;

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ipvsadm_rs::backend::Change;
use ipvsadm_rs::model::{Family, ServiceEntry, Stats};
use ipvsadm_rs::netlink::consts::*;
use ipvsadm_rs::netlink::decode::{dest_in, each_nested_in_reply, service_in};
use ipvsadm_rs::netlink::encode;
use netlink_packet_core::{NLM_F_ACK, NLM_F_REQUEST};

const SERVICES: u32 = 1_000;
const DESTS_PER_SERVICE: u32 = 10;
const FAMILY_ID: u16 = 0x20;
/// `struct nlmsghdr` and `struct genlmsghdr`.
const HEADERS: usize = 16 + 4;

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

/// One dump reply as the kernel sends it: the genl header, then the last
/// container of the request for `change` (the attributes of a service or
/// real server) with `reply_only` appended to it.
fn reply(change: &Change, cmd: u8, reply_only: &[u8]) -> Vec<u8> {
    let mut request = Vec::new();
    encode::change(&mut request, FAMILY_ID, change, NLM_F_REQUEST, 1);
    let mut at = HEADERS;
    let mut last = at;
    while at < request.len() {
        last = at;
        at += usize::from(u16::from_ne_bytes([request[at], request[at + 1]]));
    }
    let mut payload = vec![cmd, 1, 0, 0];
    payload.extend_from_slice(&request[last..]);
    payload.extend_from_slice(reply_only);
    let len = (payload.len() - 4) as u16;
    payload[4..6].copy_from_slice(&len.to_ne_bytes());
    payload
}

fn service_replies(table: &[ServiceEntry]) -> Vec<Vec<u8>> {
    table
        .iter()
        .map(|entry| {
            let mut counters = Vec::new();
            nla(
                &mut counters,
                IPVS_SVC_ATTR_STATS64,
                &stats64(&entry.service.stats),
            );
            let add = Change::AddService(entry.service.clone());
            reply(&add, IPVS_CMD_NEW_SERVICE, &counters)
        })
        .collect()
}

fn dest_replies(table: &[ServiceEntry]) -> Vec<Vec<u8>> {
    table
        .iter()
        .flat_map(|entry| entry.dests.iter().map(move |dest| (entry, dest)))
        .map(|(entry, dest)| {
            let mut reply_only = Vec::new();
            for (kind, count) in [
                (IPVS_DEST_ATTR_ACTIVE_CONNS, dest.active_conns),
                (IPVS_DEST_ATTR_INACT_CONNS, dest.inact_conns),
                (IPVS_DEST_ATTR_PERSIST_CONNS, dest.persist_conns),
            ] {
                nla(&mut reply_only, kind, &count.to_ne_bytes());
            }
            nla(
                &mut reply_only,
                IPVS_DEST_ATTR_STATS64,
                &stats64(&dest.stats),
            );
            let add = Change::AddDest(entry.service.clone(), dest.clone());
            reply(&add, IPVS_CMD_NEW_DEST, &reply_only)
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

fn decode_dumps(c: &mut Criterion) {
    let table = common::table(SERVICES, DESTS_PER_SERVICE);
    let services = service_replies(&table);
    let dests = dest_replies(&table);
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
