//! ipvsadm's listing order, reproduced exactly.
//!
//! 1.31 sorts with glibc `qsort`, which is a stable top-down merge sort
//! (`msort_with_tmp`), and with libipvs comparators that subtract 32-bit
//! values in unsigned arithmetic and read the result as a signed `int`.
//! That comparator is not a total order (`192.168.100.100` sorts before
//! `1.2.3.4`, fwmark `0xffffffff` before non-fwmark services), so the result
//! depends on the algorithm and on the kernel's dump order: both are
//! emulated here step for step.

use std::cell::Cell;
use std::cmp::Ordering;
use std::net::IpAddr;

use crate::model::{Dest, Family, Service, ServiceAddr, ServiceEntry};

/// Sorts services as `list_all` does (`ipvs_cmp_services`).
pub fn sort_services(services: &mut [Service]) {
    glibc_msort(services, compare_services);
}

/// Sorts services together with their dests, by service, exactly as
/// [`sort_services`] (the dests themselves are left in kernel order).
pub fn sort_entries(entries: &mut [ServiceEntry]) {
    glibc_msort(entries, |a, b| compare_services(&a.service, &b.service));
}

/// The order [`sort_services`] would give, as positions into `entries`
/// (for callers that must not move their entries).
pub fn service_order(entries: &[ServiceEntry]) -> Vec<usize> {
    sorted_order(entries, |a, b| compare_services(&a.service, &b.service))
}

/// Sorts one service's dests as `print_service_entry` does
/// (`ipvs_cmp_dests`).
pub fn sort_dests(dests: &mut [Dest]) {
    glibc_msort(dests, compare_dests);
}

/// Runs `f` with the order [`sort_dests`] would give, as positions into
/// `dests` (for writers that must not move them), made in the thread's
/// sort buffers: a listing sorts every service's real servers without an
/// allocation.
pub fn with_dest_order<R>(dests: &[Dest], f: impl FnOnce(&[usize]) -> R) -> R {
    let (mut order, mut scratch) = SORT_BUFFERS.take();
    sorted_order_into(dests, compare_dests, &mut order, &mut scratch);
    let result = f(&order);
    SORT_BUFFERS.set((order, scratch));
    result
}

thread_local! {
    /// The positions being sorted and the merge's scratch space, kept
    /// between sorts. Taken out while in use: a sort inside `f` of
    /// [`with_dest_order`] gets buffers of its own.
    static SORT_BUFFERS: Cell<(Vec<usize>, Vec<usize>)> =
        const { Cell::new((Vec::new(), Vec::new())) };
}

/// The address as libipvs' `union nf_inet_addr` seen as four host-order
/// 32-bit words: an IPv4 address fills the first word, the rest are zero.
fn addr_words(addr: &IpAddr) -> [u32; 4] {
    match addr {
        IpAddr::V4(v4) => [u32::from(*v4), 0, 0, 0],
        IpAddr::V6(v6) => {
            let o = v6.octets();
            let word =
                |i: usize| u32::from_be_bytes([o[i], o[i + 1], o[i + 2], o[i + 3]]);
            [word(0), word(4), word(8), word(12)]
        }
    }
}

/// C's `int r = a - b` on two unsigned 32-bit values.
fn wrapping_diff(a: u32, b: u32) -> i32 {
    a.wrapping_sub(b) as i32
}

/// The fields `ipvs_cmp_services` reads. Fwmark services carry protocol,
/// address and port 0, as libipvs leaves them.
struct ServiceKey {
    fwmark: u32,
    af: u16,
    protocol: u16,
    words: [u32; 4],
    port: u16,
}

fn service_key(svc: &Service) -> ServiceKey {
    let af = svc.id.family.raw();
    match svc.id.addr {
        ServiceAddr::Fwmark(mark) => ServiceKey {
            fwmark: mark,
            af,
            protocol: 0,
            words: [0; 4],
            port: 0,
        },
        ServiceAddr::Inet {
            protocol,
            addr,
            port,
        } => ServiceKey {
            fwmark: 0,
            af,
            protocol: protocol.raw(),
            words: addr_words(&addr),
            port,
        },
    }
}

/// Compares the address words: all four when `ipv6`, else only the first
/// (the IPv4 address).
fn compare_words(ipv6: bool, w1: &[u32; 4], w2: &[u32; 4]) -> i32 {
    let count = if ipv6 { 4 } else { 1 };
    w1.iter()
        .zip(w2)
        .take(count)
        .map(|(a, b)| wrapping_diff(*a, *b))
        .find(|r| *r != 0)
        .unwrap_or(0)
}

/// `ipvs_cmp_services`: negative when `s1` sorts first.
fn compare_services(s1: &Service, s2: &Service) -> i32 {
    let (k1, k2) = (service_key(s1), service_key(s2));
    let steps = [
        wrapping_diff(k1.fwmark, k2.fwmark),
        i32::from(k1.af) - i32::from(k2.af),
        i32::from(k1.protocol) - i32::from(k2.protocol),
        compare_words(k1.af == Family::AF_INET6, &k1.words, &k2.words),
        i32::from(k1.port) - i32::from(k2.port),
    ];
    steps.into_iter().find(|r| *r != 0).unwrap_or(0)
}

/// `ipvs_cmp_dests`: the IPv6 branch is chosen by `d1`'s family alone.
fn compare_dests(d1: &Dest, d2: &Dest) -> i32 {
    let r = compare_words(
        d1.family == Family::Inet6,
        &addr_words(&d1.addr),
        &addr_words(&d2.addr),
    );
    if r != 0 {
        return r;
    }
    i32::from(d1.port) - i32::from(d2.port)
}

/// glibc's `msort_with_tmp` on a vector, with a C-style comparator.
fn glibc_msort<T>(items: &mut [T], compare: fn(&T, &T) -> i32) {
    let (mut order, mut scratch) = SORT_BUFFERS.take();
    sorted_order_into(items, compare, &mut order, &mut scratch);
    put_in_order(items, &mut order);
    SORT_BUFFERS.set((order, scratch));
}

/// Moves `items[order[k]]` to position `k`, in place: a copy of the items
/// would double the memory a listing of 10,000 services peaks at.
fn put_in_order<T>(items: &mut [T], order: &mut [usize]) {
    for start in 0..items.len() {
        // Follow the cycle through `start`: each swap puts one item where
        // it belongs and carries the item from `start` along, to the last
        // position of the cycle, which is where it belongs. Done positions
        // are marked by `order[k] == k`.
        let mut k = start;
        while order[k] != k {
            let from = order[k];
            order[k] = k;
            if from == start {
                break;
            }
            items.swap(k, from);
            k = from;
        }
    }
}

/// Up to this many items, [`sorted_order`] first checks every pair for
/// input already in order or in reverse order.
const PAIR_CHECK_MAX: usize = 24;

/// The positions of `items` in glibc `qsort` order.
///
/// A merge sort leaves items alone when every earlier one compares `<= 0`
/// with every later one, and reverses them when every earlier one compares
/// `> 0` (each merge then takes the whole right half first). Checking all
/// pairs keeps that exact with a comparator that is not transitive. Real
/// servers come from the kernel newest first, so usually in one of the two.
fn sorted_order<T>(items: &[T], compare: fn(&T, &T) -> i32) -> Vec<usize> {
    let mut order = Vec::with_capacity(items.len());
    sorted_order_into(items, compare, &mut order, &mut Vec::new());
    order
}

/// [`sorted_order`] into `order` (emptied first), with `scratch` as the
/// merge's scratch space.
fn sorted_order_into<T>(
    items: &[T],
    compare: fn(&T, &T) -> i32,
    order: &mut Vec<usize>,
    scratch: &mut Vec<usize>,
) {
    let n = items.len();
    order.clear();
    if n <= PAIR_CHECK_MAX {
        let every_pair = |pred: &dyn Fn(i32) -> bool| {
            (0..n).all(|i| (i + 1..n).all(|j| pred(compare(&items[i], &items[j]))))
        };
        if every_pair(&|r| r <= 0) {
            order.extend(0..n);
            return;
        }
        if every_pair(&|r| r > 0) {
            order.extend((0..n).rev());
            return;
        }
    }
    order.extend(0..n);
    msort_indices(order, scratch, &|a, b| {
        compare(&items[a], &items[b]).cmp(&0)
    });
}

/// Top-down merge sort: left half `n / 2`, right half the rest; on a tie
/// (`cmp <= 0`) the left element is taken first.
fn msort_indices(
    block: &mut [usize],
    scratch: &mut Vec<usize>,
    compare: &dyn Fn(usize, usize) -> Ordering,
) {
    let n = block.len();
    if n <= 1 {
        return;
    }
    let (left, right) = block.split_at_mut(n / 2);
    msort_indices(left, scratch, compare);
    msort_indices(right, scratch, compare);

    scratch.clear();
    let (mut i, mut j) = (0, 0);
    while i < left.len() && j < right.len() {
        if compare(left[i], right[j]) != Ordering::Greater {
            scratch.push(left[i]);
            i += 1;
        } else {
            scratch.push(right[j]);
            j += 1;
        }
    }
    scratch.extend_from_slice(&left[i..]);
    scratch.extend_from_slice(&right[j..]);
    block.copy_from_slice(scratch);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        FwdMethod, Netmask, Protocol, ServiceFlags, ServiceId, ShortName, Stats,
        TunnelFlags, TunnelType,
    };

    fn inet(protocol: Protocol, addr: &str, port: u16) -> Service {
        let addr: IpAddr = addr.parse().expect("test address");
        let family = Family::of(&addr);
        Service {
            id: ServiceId {
                family,
                addr: ServiceAddr::Inet {
                    protocol,
                    addr,
                    port,
                },
            },
            scheduler: ShortName::literal("rr"),
            pe_name: None,
            flags: ServiceFlags::empty(),
            timeout: 0,
            netmask: Netmask::default_for(family),
            stats: Stats::default(),
        }
    }

    fn fwmark(mark: u32, family: Family) -> Service {
        Service {
            id: ServiceId {
                family,
                addr: ServiceAddr::Fwmark(mark),
            },
            ..inet(Protocol::Tcp, "0.0.0.0", 0)
        }
    }

    fn dest(addr: &str, port: u16) -> Dest {
        let addr: IpAddr = addr.parse().expect("test address");
        Dest {
            family: Family::of(&addr),
            addr,
            port,
            fwd: FwdMethod::Masq,
            weight: 1,
            u_threshold: 0,
            l_threshold: 0,
            active_conns: 0,
            inact_conns: 0,
            persist_conns: 0,
            tun_type: TunnelType::Ipip,
            tun_port: 0,
            tun_flags: TunnelFlags::empty(),
            stats: Stats::default(),
        }
    }

    fn label(svc: &Service) -> String {
        match svc.id.addr {
            ServiceAddr::Fwmark(m) => format!("FWM {} {:?}", m as i32, svc.id.family),
            ServiceAddr::Inet {
                protocol,
                addr,
                port,
            } => format!("{protocol:?} {addr} {port}"),
        }
    }

    use Protocol::{Sctp, Tcp, Udp};

    /// The kernel dump order of the spec's reference table (`-Ln --nosort`).
    fn reference_kernel_order() -> Vec<Service> {
        vec![
            inet(Sctp, "10.200.1.76", 3868),
            inet(Tcp, "10.200.1.76", 443),
            inet(Tcp, "2001:db8::1", 80),
            inet(Udp, "2001:db8::1", 53),
            inet(Udp, "10.200.1.76", 5060),
            inet(Tcp, "1.2.3.4", 80),
            inet(Tcp, "127.0.0.1", 80),
            inet(Tcp, "200.1.1.1", 80),
            inet(Tcp, "10.200.1.76", 9000),
            inet(Tcp, "10.200.1.76", 0),
            inet(Udp, "10.200.1.76", 53),
            inet(Tcp, "10.200.1.76", 8001),
            inet(Tcp, "10.200.1.76", 8000),
            inet(Tcp, "10.200.1.76", 8002),
            inet(Tcp, "10.200.1.76", 80),
            inet(Tcp, "192.168.100.100", 80),
            fwmark(u32::MAX, Family::Inet),
            fwmark(1, Family::Inet),
            fwmark(2, Family::Inet6),
        ]
    }

    #[test]
    fn reference_table_sorts_like_ipvsadm() {
        let mut services = reference_kernel_order();
        sort_services(&mut services);
        let got: Vec<String> = services.iter().map(label).collect();
        let expected = [
            "FWM -1 Inet",
            "Tcp 192.168.100.100 80",
            "Tcp 1.2.3.4 80",
            "Tcp 10.200.1.76 0",
            "Tcp 10.200.1.76 80",
            "Tcp 10.200.1.76 443",
            "Tcp 10.200.1.76 8000",
            "Tcp 10.200.1.76 8001",
            "Tcp 10.200.1.76 8002",
            "Tcp 127.0.0.1 80",
            "Tcp 200.1.1.1 80",
            "Tcp 10.200.1.76 9000",
            "Udp 10.200.1.76 53",
            "Udp 10.200.1.76 5060",
            "Sctp 10.200.1.76 3868",
            "Tcp 2001:db8::1 80",
            "Udp 2001:db8::1 53",
            "FWM 1 Inet",
            "FWM 2 Inet6",
        ];
        assert_eq!(got, expected);
    }

    #[test]
    fn a_correct_total_order_would_differ() {
        // Guard against "fixing" the comparator: a plain unsigned sort puts
        // 1.2.3.4 first and the 0xffffffff fwmark last.
        let mut services = reference_kernel_order();
        sort_services(&mut services);
        assert_eq!(label(&services[0]), "FWM -1 Inet");
        assert_ne!(label(&services[1]), "Tcp 1.2.3.4 80");
    }

    #[test]
    fn non_total_order_depends_on_input_order() {
        // Each address is 2^31 - ish away from the next: a < b, b < c, and
        // yet c < a (0xC0000001 - 0x00000001 is negative as int).
        let a = inet(Tcp, "0.0.0.1", 80);
        let b = inet(Tcp, "96.0.0.1", 80);
        let c = inet(Tcp, "192.0.0.1", 80);
        assert!(compare_services(&a, &b) < 0);
        assert!(compare_services(&b, &c) < 0);
        assert!(compare_services(&c, &a) < 0);

        // Every rotation is "sorted": the result is whatever the merge
        // steps produce. [x] + sort([y, z]), then one merge.
        for input in [
            vec![a.clone(), b.clone(), c.clone()],
            vec![c.clone(), a.clone(), b.clone()],
            vec![b.clone(), c.clone(), a.clone()],
        ] {
            let mut sorted = input.clone();
            sort_services(&mut sorted);
            assert_eq!(sorted, input);
        }

        // The spec's example: 192.168.100.100 < 1.2.3.4 < 10.200.1.76.
        let x = inet(Tcp, "192.168.100.100", 80);
        let y = inet(Tcp, "1.2.3.4", 80);
        let z = inet(Tcp, "10.200.1.76", 80);
        assert!(compare_services(&x, &y) < 0);
        assert!(compare_services(&y, &z) < 0);
        let mut shuffled = vec![z.clone(), y.clone(), x.clone()];
        sort_services(&mut shuffled);
        assert_eq!(shuffled, vec![x, y, z]);
    }

    #[test]
    fn entries_sort_like_services() {
        let services = reference_kernel_order();
        let mut entries: Vec<ServiceEntry> = services
            .iter()
            .map(|s| ServiceEntry {
                service: s.clone(),
                dests: vec![],
            })
            .collect();
        let order = service_order(&entries);
        sort_entries(&mut entries);
        let mut sorted = services.clone();
        sort_services(&mut sorted);
        let by_entries: Vec<Service> = entries.into_iter().map(|e| e.service).collect();
        assert_eq!(by_entries, sorted);
        let by_order: Vec<Service> = order.iter().map(|&i| services[i].clone()).collect();
        assert_eq!(by_order, sorted);
    }

    #[test]
    fn fwmark_above_2_pow_31_sorts_before_address_services() {
        let mut services =
            vec![inet(Tcp, "10.0.0.1", 80), fwmark(u32::MAX, Family::Inet)];
        sort_services(&mut services);
        assert_eq!(services[0].id.fwmark(), Some(u32::MAX));
    }

    #[test]
    fn reference_dests_sort_like_ipvsadm() {
        let mut dests = vec![
            dest("10.10.3.2", 9000),
            dest("10.10.2.2", 80),
            dest("10.10.1.2", 80),
        ];
        sort_dests(&mut dests);
        let got: Vec<String> = dests
            .iter()
            .map(|d| format!("{}:{}", d.addr, d.port))
            .collect();
        assert_eq!(got, ["10.10.1.2:80", "10.10.2.2:80", "10.10.3.2:9000"]);

        let mut dests = vec![
            dest("192.168.100.100", 80),
            dest("10.10.2.2", 80),
            dest("10.10.1.2", 80),
        ];
        sort_dests(&mut dests);
        let got: Vec<String> = dests
            .iter()
            .map(|d| format!("{}:{}", d.addr, d.port))
            .collect();
        assert_eq!(got, ["192.168.100.100:80", "10.10.1.2:80", "10.10.2.2:80"]);

        let mut dests = vec![dest("10.10.2.2", 0), dest("10.10.1.2", 80)];
        sort_dests(&mut dests);
        assert_eq!(dests[0].addr.to_string(), "10.10.1.2");

        // IPv6 words: 2001:db8:ffff:... sorts before 2001:db8::10 because
        // 0xffffffff - 0 is -1 as int (the spec's captured order).
        let mut dests = vec![
            dest("2001:db8::10", 5353),
            dest("2001:db8:ffff:ffff:ffff:ffff:ffff:fffe", 53),
        ];
        sort_dests(&mut dests);
        assert_eq!(dests[0].port, 53);
    }

    #[test]
    fn dest_branch_follows_first_family() {
        // d1 IPv4: only the first word is compared, so an IPv6 dest whose
        // first word equals the IPv4 address ties on the address.
        let v4 = dest("32.1.13.184", 80); // 0x2001_0db8
        let v6 = dest("2001:db8::1", 80);
        assert_eq!(compare_dests(&v4, &v6), 0);
        assert!(compare_dests(&v6, &v4) > 0);
    }

    #[test]
    fn msort_is_stable_and_handles_small_inputs() {
        let mut empty: Vec<Dest> = Vec::new();
        sort_dests(&mut empty);
        assert!(empty.is_empty());
        let mut same = vec![dest("10.0.0.1", 80), dest("10.0.0.1", 80)];
        same[1].weight = 7;
        sort_dests(&mut same);
        assert_eq!(same[1].weight, 7);
    }

    /// The merge sort itself, without the in-order and reverse-order
    /// shortcuts of `sorted_order`.
    fn plain_msort_order(dests: &[Dest]) -> Vec<usize> {
        let mut order: Vec<usize> = (0..dests.len()).collect();
        let mut scratch = Vec::new();
        msort_indices(&mut order, &mut scratch, &|a, b| {
            compare_dests(&dests[a], &dests[b]).cmp(&0)
        });
        order
    }

    use proptest::strategy::Strategy;

    fn any_dest() -> impl proptest::strategy::Strategy<Value = Dest> {
        use proptest::prelude::*;
        // Few distinct addresses (ties), some across the 2^31 boundary
        // where the comparator is not transitive, and some IPv6.
        let addrs = prop::sample::select(vec![
            "1.2.3.4",
            "10.0.0.1",
            "10.0.0.2",
            "127.0.0.1",
            "128.0.0.1",
            "192.168.100.100",
            "200.1.1.1",
            "255.255.255.255",
            "2001:db8::1",
            "::1",
        ]);
        (
            addrs,
            prop::sample::select(vec![0u16, 80, 443, 8080]),
            0..4i32,
        )
            .prop_map(|(addr, port, weight)| {
                let mut d = dest(addr, port);
                d.weight = weight;
                d
            })
    }

    proptest::proptest! {
        /// In place, any order gives what building a new vector would.
        #[test]
        fn put_in_order_applies_any_permutation(
            order in (0..200usize).prop_flat_map(|n| {
                proptest::strategy::Just((0..n).collect::<Vec<usize>>()).prop_shuffle()
            })
        ) {
            let items: Vec<String> = (0..order.len()).map(|i| format!("item {i}")).collect();
            let expected: Vec<String> = order.iter().map(|&i| items[i].clone()).collect();
            let mut moved = items.clone();
            put_in_order(&mut moved, &mut order.clone());
            proptest::prop_assert_eq!(moved, expected);
        }

        /// The shortcuts change nothing: for any list, and for lists that
        /// are already in order or reversed, the order is the merge sort's.
        #[test]
        fn shortcuts_give_the_merge_sorts_order(
            dests in proptest::collection::vec(any_dest(), 0..30)
        ) {
            let sorted: Vec<Dest> =
                plain_msort_order(&dests).into_iter().map(|i| dests[i].clone()).collect();
            let reversed: Vec<Dest> = sorted.iter().rev().cloned().collect();
            for list in [&dests, &sorted, &reversed] {
                let order = with_dest_order(list, <[usize]>::to_vec);
                proptest::prop_assert_eq!(order, plain_msort_order(list));
                let mut moved = list.clone();
                sort_dests(&mut moved);
                let expected: Vec<Dest> =
                    plain_msort_order(list).into_iter().map(|i| list[i].clone()).collect();
                proptest::prop_assert_eq!(moved, expected);
            }
        }
    }
}
