//! The `ipvsadm` binary: everything lives in the library.

fn main() -> std::process::ExitCode {
    let status = ipvsadm_rs::app::main_with(std::env::args_os().collect());
    // Exit statuses are 0..=255 (ipvsadm's -1 is 255).
    std::process::ExitCode::from((status & 0xff) as u8)
}
