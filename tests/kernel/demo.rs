//! The kube-proxy demo (`tests/lab/scenarios/kube-demo.sh`, as `tests/lab/demo`
//! runs it) as a test: round-robin spread and `--stats` of real traffic.

use crate::support::demo::{KubeDemo, SERVICE};
use crate::support::{Ns, TestResult, Trial, compare::render};

pub fn tests() -> Vec<Trial> {
    // The scenario needs busybox (httpd, wget) and iproute2: the runner
    // checks that they are there before any test runs (never ignored).
    kernel_tests![kube_proxy_rr_spread_and_stats]
}

fn kube_proxy_rr_spread_and_stats(ns: &Ns) -> TestResult {
    let scenario = KubeDemo::setup(ns, "k")?;
    let traffic = scenario.step("traffic");
    assert!(
        traffic.status.success(),
        "scenario traffic failed:\n{}",
        render(&traffic)
    );

    // "     34 Hostname: webpod1" lines from `sort | uniq -c`.
    let mut counts: Vec<(String, u32)> = String::from_utf8_lossy(&traffic.stdout)
        .lines()
        .filter_map(|line| {
            let (count, what) = line.trim().split_once(' ')?;
            Some((what.trim().to_string(), count.parse().ok()?))
        })
        .collect();
    counts.sort();
    let mut spread: Vec<u32> = counts.iter().map(|(_, n)| *n).collect();
    spread.sort();
    assert!(
        counts
            .iter()
            .all(|(what, _)| what.starts_with("Hostname: webpod")),
        "unexpected responses: {counts:?}\n{}",
        render(&traffic)
    );
    assert_eq!(
        spread,
        [33, 33, 34],
        "100 requests spread over 3 pods: {counts:?}"
    );

    // Counters are published by the kernel's estimator every 2 s.
    ns.await_stats("the service's 100 connections", |text| {
        text.lines().any(|l| {
            l.starts_with("TCP  10.200.1.76:9000")
                && l.split_whitespace().nth(2) == Some("100")
        })
    });
    ns.await_settled_counters();
    let reference = ns.reference_read(&["-Ln", "--stats", "--exact"]);
    let text = String::from_utf8_lossy(&reference.stdout).into_owned();
    let conns = |prefix: &str| -> Vec<u64> {
        text.lines()
            .filter(|l| l.trim_start().starts_with(prefix))
            .filter_map(|l| l.split_whitespace().nth(2))
            .filter_map(|n| n.parse().ok())
            .collect()
    };
    assert_eq!(conns("TCP"), [100], "service connections\n{text}");
    let mut per_pod = conns("->");
    per_pod.sort();
    assert_eq!(per_pod, [33, 33, 34], "real server connections\n{text}");

    let ours = ns.ours(&["-Ln", "--stats", "--exact"]);
    crate::support::assert_same_output("ipvsadm -Ln --stats --exact", &ours, &reference);
    let service = ["-Ln", "-t", SERVICE, "--stats", "--exact"];
    ns.assert_same(&service);
    Ok(())
}
