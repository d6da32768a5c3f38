//! Shared machinery for the kernel tests.

#![allow(dead_code)]

pub mod compare;
pub mod demo;
pub mod netns;
pub mod ns;
pub mod runner;
pub mod terminal;

pub use compare::{assert_ok, assert_same_output, assert_text_eq};
pub use libtest_mimic::{Failed, Trial};
pub use ns::Ns;
pub use runner::kernel_test;

/// What a kernel test returns; panics (`assert!`, `assert_eq!`) fail it too.
pub type TestResult = Result<(), Failed>;

/// `kernel_tests![f, g]`: the kernel tests `module::f` and `module::g` of the
/// calling module, for its `pub fn tests() -> Vec<Trial>`.
macro_rules! kernel_tests {
    ($($f:ident),* $(,)?) => {{
        let module = module_path!();
        let module = module.split_once("::").map_or(module, |(_, m)| m);
        vec![$($crate::support::kernel_test(&format!("{module}::{}", stringify!($f)), $f)),*]
    }};
}
