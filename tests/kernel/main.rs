//! Kernel tests: ipvsadm-rs against a real IPVS kernel, compared with
//! ipvsadm 1.31.
//!
//! Each test is a plain `fn(&Ns) -> TestResult` that runs in its own fresh
//! network namespace (so its IPVS table starts empty). Without IPVS on the
//! host, this binary re-runs itself inside the lab VM (`tests/lab/lab`); see
//! `support/runner.rs` and `tests/lab/README.md`.
//!
//! To add tests: write a module with `pub fn tests() -> Vec<Trial>` built
//! with `support::kernel_test`, and list it below.

mod demo;
mod harness;
mod slice;
mod support;
mod views;

fn main() {
    let mut tests = Vec::new();
    tests.extend(harness::tests());
    tests.extend(slice::tests());
    tests.extend(demo::tests());
    tests.extend(views::tests());
    support::runner::main(tests);
}
