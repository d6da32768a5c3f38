//! Kernel tests: ipvsadm-rs against a real IPVS kernel, compared with
//! ipvsadm 1.31.
//!
//! Each test is a plain `fn(&Ns) -> TestResult` that runs in its own fresh
//! network namespace (so its IPVS table starts empty). Without IPVS on the
//! host, this binary re-runs itself inside the lab VM (`tests/lab/lab`); see
//! `support/runner.rs` and `tests/lab/README.md`.
//!
//! To add tests: write a module with `pub fn tests() -> Vec<Trial>`
//! returning `kernel_tests![test_fn, ...]`, and list it below.

#[macro_use]
mod support;

mod attributes;
mod check;
mod cli;
mod connections;
mod declarative;
mod demo;
mod differential;
mod drain;
mod harness;
mod netns;
mod readme;
mod reliability;
mod slice;
mod views;

fn main() {
    let mut tests = Vec::new();
    tests.extend(harness::tests());
    tests.extend(slice::tests());
    tests.extend(cli::tests());
    tests.extend(demo::tests());
    tests.extend(check::tests());
    tests.extend(declarative::tests());
    tests.extend(views::tests());
    tests.extend(connections::tests());
    tests.extend(readme::tests());
    tests.extend(reliability::tests());
    tests.extend(attributes::tests());
    tests.extend(netns::tests());
    tests.extend(differential::tests());
    tests.extend(drain::tests());
    support::runner::main(tests);
}
