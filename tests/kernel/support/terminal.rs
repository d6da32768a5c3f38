//! Running a command (a full-screen watch) on a pseudo-terminal, and
//! waiting for children with a time limit.

use std::io::Read;
use std::os::fd::OwnedFd;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

/// Enters the alternate screen.
pub const ENTER: &[u8] = b"\x1b[?1049h";
/// Shows the cursor and leaves the alternate screen (`watch::LEAVE`).
pub const LEAVE: &[u8] = b"\x1b[?25h\x1b[?1049l";
/// Starts a frame of the full-screen watch.
pub const FRAME: &str = "\x1b[H\x1b[2J";

/// A command on a pseudo-terminal of 40 x 160; what it writes is collected.
pub struct PtyChild {
    child: Child,
    output: Arc<Mutex<Vec<u8>>>,
    reader: Option<JoinHandle<()>>,
}

impl PtyChild {
    /// Runs `program ARGS` (argv[0] `ipvsadm`) with the terminal as its
    /// stdin, stdout and stderr.
    pub fn spawn(program: &Path, args: &[&str]) -> PtyChild {
        let size = nix::pty::Winsize {
            ws_row: 40,
            ws_col: 160,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        let pty = nix::pty::openpty(Some(&size), None).expect("openpty");
        let slave: OwnedFd = pty.slave;
        let mut cmd = Command::new(program);
        cmd.arg0("ipvsadm")
            .args(args)
            .stdin(Stdio::from(slave.try_clone().expect("dup")))
            .stdout(Stdio::from(slave.try_clone().expect("dup")))
            .stderr(Stdio::from(slave));
        let child = cmd.spawn().expect("runs on the pty");
        // Only the child holds the slave now: reads end (EIO) when it exits.
        drop(cmd);
        let output = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&output);
        let mut master = std::fs::File::from(pty.master);
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            loop {
                match master.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => match sink.lock() {
                        Ok(mut out) => out.extend_from_slice(&buf[..n]),
                        Err(_) => return,
                    },
                }
            }
        });
        PtyChild {
            child,
            output,
            reader: Some(reader),
        }
    }

    /// What the command wrote on the terminal so far.
    pub fn output(&self) -> Vec<u8> {
        self.output.lock().map(|o| o.clone()).unwrap_or_default()
    }

    /// Sends `signal` to the command.
    pub fn signal(&self, signal: Signal) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, signal).expect("signal the command on the pty");
    }

    /// Waits for the command to end (killing it and failing after `limit`);
    /// its exit status and everything it wrote on the terminal.
    pub fn finish(&mut self, limit: Duration) -> (ExitStatus, Vec<u8>) {
        let status = wait_timeout(&mut self.child, limit);
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        let screen = self.output.lock().map(|o| o.clone()).unwrap_or_default();
        (status, screen)
    }
}

impl Drop for PtyChild {
    /// A failed test must not leave the command running.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Waits for `child`; kills it and fails the test after `limit`.
#[track_caller]
pub fn wait_timeout(child: &mut Child, limit: Duration) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("did not end within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
