//! Stopping on Ctrl-C, SIGTERM and SIGHUP, for the commands that run until
//! told to stop (`--watch`, `--drain`): [`catch`] installs the handlers,
//! [`sleep_until`] waits in short steps unless a signal came, and the
//! command ends with the status a shell reports for a death by that
//! signal ([`exit_status`]: 130 for SIGINT, 143 for SIGTERM, 129 for
//! SIGHUP), after tidying up (restoring the terminal, saying what is left).

use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

/// The signal that asked to stop (0: none yet).
static CAUGHT: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(sig: libc::c_int) {
    CAUGHT.store(sig, Ordering::SeqCst);
}

/// The longest a sleep goes without looking for a signal.
const STEP: Duration = Duration::from_millis(50);

/// Forgets any signal caught before, then catches SIGINT, SIGTERM and
/// SIGHUP instead of dying of them.
pub fn catch() {
    CAUGHT.store(0, Ordering::SeqCst);
    use nix::sys::signal::{SigHandler, Signal, signal};
    for sig in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        // SAFETY: the handler only stores to an atomic, which is
        // async-signal-safe.
        let _ = unsafe { signal(sig, SigHandler::Handler(on_signal)) };
    }
}

/// The signal caught since [`catch`], if any.
pub fn caught() -> Option<i32> {
    match CAUGHT.load(Ordering::SeqCst) {
        0 => None,
        sig => Some(sig),
    }
}

/// Sleeps until `deadline`; false if a signal came first.
pub fn sleep_until(deadline: Instant) -> bool {
    loop {
        if caught().is_some() {
            return false;
        }
        let now = Instant::now();
        if now >= deadline {
            return true;
        }
        std::thread::sleep((deadline - now).min(STEP));
    }
}

/// The exit status for a command stopped by `sig`, as a shell reports a
/// death by it (128 + its number).
pub fn exit_status(sig: i32) -> i32 {
    128 + sig
}
