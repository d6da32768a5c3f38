//! When the kernel's rate estimator does not run (`run_estimation = 0`),
//! its rates, and on kernels before 6.2 the counters of every service and
//! real server, are no longer updated: the watch says so on every tick
//! and shows the namespace's own rates, from the per-CPU counters of
//! `/proc/net/ip_vs_stats_percpu`, which the kernel keeps counting.

use std::time::Instant;

use crate::render::table;

/// Where the per-CPU counters are (this thread's namespace).
const PERCPU: &str = "/proc/thread-self/net/ip_vs_stats_percpu";

/// The namespace's counters: connections, packets in and out, bytes in
/// and out.
type Counters = [u64; 5];

/// The notice of a watch whose kernel estimator is off.
pub(super) struct EstimatorOff {
    why: String,
    prev: Option<(Instant, Counters)>,
}

impl EstimatorOff {
    /// `None` while the estimator runs (or that cannot be read).
    pub(super) fn detect() -> Option<EstimatorOff> {
        crate::check::estimator_off().map(|why| EstimatorOff { why, prev: None })
    }

    /// The notice for a tick taken at `now`, with the rates since the
    /// previous tick.
    pub(super) fn line(&mut self, now: Instant) -> String {
        let counters = std::fs::read_to_string(PERCPU)
            .ok()
            .and_then(|t| sum_percpu(&t));
        let rates = match (self.prev, counters) {
            (Some((then, before)), Some(after)) => {
                let ms = now.saturating_duration_since(then).as_millis().max(1);
                let per_sec = |i: usize| {
                    let d = u128::from(after[i].saturating_sub(before[i]));
                    table::human(u64::try_from(d * 1000 / ms).unwrap_or(u64::MAX))
                };
                format!(
                    "this namespace: {} conn/s, {} pkt/s in, {} pkt/s out, {} B/s in, {} B/s out \
                     (from the per-CPU counters)",
                    per_sec(0),
                    per_sec(1),
                    per_sec(2),
                    per_sec(3),
                    per_sec(4)
                )
            }
            (None, Some(_)) => {
                "this namespace's rates follow from the next tick".to_string()
            }
            (_, None) => format!("{PERCPU} cannot be read"),
        };
        self.prev = counters.map(|c| (now, c));
        format!(
            "the kernel's rate estimator does not run ({}): its rates (and before 6.2 its \
             counters) are not updated; {rates}",
            self.why
        )
    }
}

/// The sum of the per-CPU lines (`CPU  Conns InPkts OutPkts InBytes
/// OutBytes`, in hex) of `/proc/net/ip_vs_stats_percpu`. Its `~` line is
/// the total the estimator last made, frozen with it: not used.
pub(super) fn sum_percpu(text: &str) -> Option<Counters> {
    let mut sum = [0u64; 5];
    let mut cpus = 0;
    for line in text.lines() {
        let mut words = line.split_whitespace();
        let Some(cpu) = words.next() else { continue };
        if cpu == "~" {
            // The total, then the rates: no more CPUs.
            break;
        }
        if cpu.parse::<u32>().is_err() {
            continue;
        }
        let values: Vec<u64> = words
            .map(|w| u64::from_str_radix(w, 16))
            .collect::<Result<_, _>>()
            .ok()?;
        if values.len() != 5 {
            return None;
        }
        for (s, v) in sum.iter_mut().zip(values) {
            *s = s.wrapping_add(v);
        }
        cpus += 1;
    }
    (cpus > 0).then_some(sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Captured from the lab kernel (6.1) with `run_estimation = 0`: 30
    /// connections made, the `~` total frozen at the 10 made before.
    const PERCPU_TEXT: &str =
        "       Total Incoming Outgoing         Incoming         Outgoing
CPU    Conns  Packets  Packets            Bytes            Bytes
  0       15       6D       60             1CA9             2092
  1        9       4E       4F             1385             1E84
  ~        A       41       38             109A             148E

     Conns/s   Pkts/s   Pkts/s          Bytes/s          Bytes/s
           1        6        5              18E              1ED
";

    #[test]
    fn the_per_cpu_lines_are_summed_and_the_frozen_total_left_out() {
        assert_eq!(
            sum_percpu(PERCPU_TEXT),
            Some([0x1e, 0xbb, 0xaf, 0x302e, 0x3f16])
        );
        assert_eq!(sum_percpu(""), None);
        assert_eq!(sum_percpu("  0  1 2 3\n"), None);
    }
}
