//! Shared machinery for the kernel tests.

#![allow(dead_code)]

pub mod compare;
pub mod ns;
pub mod runner;

pub use compare::{assert_ok, assert_same_output, assert_text_eq};
pub use libtest_mimic::{Failed, Trial};
pub use ns::Ns;
pub use runner::kernel_test;

/// What a kernel test returns; panics (`assert!`, `assert_eq!`) fail it too.
pub type TestResult = Result<(), Failed>;
