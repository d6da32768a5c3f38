//! The netlink codec: encoding batches of requests (what a large `-R`
//! sends; through the typed messages and straight into the buffer, as the
//! pipeline does) and decoding dumps (what `-L` receives), without a kernel.
//!
//! `cargo bench --bench codec`

mod common;

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ipvsadm_rs::backend::Change;
use ipvsadm_rs::model::{Family, ServiceEntry};
use ipvsadm_rs::netlink::attrs::DestAttr;
use ipvsadm_rs::netlink::attrs::{
    IPVS_CMD_ATTR_DEST, IPVS_CMD_ATTR_SERVICE, IpvsAttr, ServiceAttr, Stats64Attr,
};
use ipvsadm_rs::netlink::convert::{
    dest_attrs, dest_in, each_nested_in_reply, service_attrs, service_id_attrs,
    service_in,
};
use ipvsadm_rs::netlink::encode;
use ipvsadm_rs::netlink::message::{IpvsCmd, IpvsMessage};
use ipvsadm_rs::netlink::socket::encode;
use netlink_packet_core::{Emitable, NLM_F_ACK, NLM_F_REQUEST};

const SERVICES: u32 = 1_000;
const DESTS_PER_SERVICE: u32 = 10;
const FAMILY_ID: u16 = 0x20;

fn stats64(stats: &ipvsadm_rs::model::Stats) -> Vec<Stats64Attr> {
    vec![
        Stats64Attr::Conns(stats.conns),
        Stats64Attr::InPkts(stats.inpkts),
        Stats64Attr::OutPkts(stats.outpkts),
        Stats64Attr::InBytes(stats.inbytes),
        Stats64Attr::OutBytes(stats.outbytes),
        Stats64Attr::Cps(stats.cps),
        Stats64Attr::InPps(stats.inpps),
        Stats64Attr::OutPps(stats.outpps),
        Stats64Attr::InBps(stats.inbps),
        Stats64Attr::OutBps(stats.outbps),
    ]
}

/// One dump reply as the kernel sends it: genl header, then one nested
/// service or destination with its 64-bit counters.
fn reply(cmd: IpvsCmd, attr: IpvsAttr) -> Vec<u8> {
    let message = IpvsMessage::new(cmd, vec![attr]);
    let mut payload = vec![0u8; 4 + message.buffer_len()];
    payload[0] = u8::from(cmd);
    payload[1] = 1;
    message.emit(&mut payload[4..]);
    payload
}

fn service_replies(table: &[ServiceEntry]) -> Vec<Vec<u8>> {
    table
        .iter()
        .map(|entry| {
            let mut attrs = service_attrs(&entry.service);
            attrs.push(ServiceAttr::Stats64(stats64(&entry.service.stats)));
            reply(IpvsCmd::NewService, IpvsAttr::Service(attrs))
        })
        .collect()
}

fn dest_replies(table: &[ServiceEntry]) -> Vec<Vec<u8>> {
    table
        .iter()
        .flat_map(|entry| &entry.dests)
        .map(|dest| {
            let mut attrs = dest_attrs(dest);
            attrs.push(DestAttr::ActiveConns(dest.active_conns));
            attrs.push(DestAttr::InactConns(dest.inact_conns));
            attrs.push(DestAttr::PersistConns(dest.persist_conns));
            attrs.push(DestAttr::Stats64(stats64(&dest.stats)));
            reply(IpvsCmd::NewDest, IpvsAttr::Dest(attrs))
        })
        .collect()
}

fn encode_requests(c: &mut Criterion) {
    let table = common::table(SERVICES, DESTS_PER_SERVICE);
    let requests = u64::from(SERVICES * (1 + DESTS_PER_SERVICE));
    let mut group = c.benchmark_group("encode");
    group.throughput(Throughput::Elements(requests));
    group.bench_function("1k services + 10k real servers", |b| {
        let mut buf = Vec::with_capacity(4 << 20);
        b.iter(|| {
            buf.clear();
            let mut seq = 1;
            for entry in &table {
                let request = IpvsMessage::new(
                    IpvsCmd::NewService,
                    vec![IpvsAttr::Service(service_attrs(&entry.service))],
                );
                encode(&mut buf, FAMILY_ID, request, NLM_F_REQUEST | NLM_F_ACK, seq);
                seq += 1;
                for dest in &entry.dests {
                    let request = IpvsMessage::new(
                        IpvsCmd::NewDest,
                        vec![
                            IpvsAttr::Service(service_id_attrs(&entry.service.id)),
                            IpvsAttr::Dest(dest_attrs(dest)),
                        ],
                    );
                    encode(&mut buf, FAMILY_ID, request, NLM_F_REQUEST | NLM_F_ACK, seq);
                    seq += 1;
                }
            }
            black_box(buf.len())
        });
    });
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
