//! The program: parse arguments, enter the requested network namespace,
//! open IPVS, execute, and map every outcome to ipvsadm's exit statuses.

use std::ffi::OsString;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use crate::backend::IpvsBackend;
use crate::cli::{self, Command};
use crate::dispatch;
use crate::error::{IpvsError, Op, kernel_message};
use crate::netlink::NetlinkIpvs;
use crate::resolve::SystemResolver;
use crate::session::{CONN_PROC_FILE, EXIT_USAGE, Session, Streams};

/// Runs the program with `argv` (including `argv[0]`) and returns the exit
/// status.
pub fn main_with(argv: Vec<OsString>) -> i32 {
    let mut argv = argv.into_iter();
    let argv0 = argv
        .next()
        .map(|a| a.to_string_lossy().into_owned())
        .unwrap_or_else(|| "ipvsadm".to_string());
    let args: Vec<OsString> = argv.collect();

    let inv = match cli::parse_args(&argv0, &args) {
        Ok(inv) => inv,
        Err(e) => {
            eprintln!("{}", e.message);
            return e.exit_code;
        }
    };

    // Unlike ipvsadm 1.31, help and version need neither root nor IPVS.
    match inv.command {
        Command::Help => return print_quietly(&cli::help_text(&argv0)),
        Command::Version => return print_quietly(&format!("{}\n", cli::version_text())),
        _ => {}
    }

    if let Some(ns) = &inv.netns {
        if let Err(e) = crate::netns::enter(ns) {
            eprintln!("{e}");
            return EXIT_USAGE;
        }
    }

    let (mut ipvs, info) = match open_ipvs() {
        Ok(v) => v,
        Err(e) => {
            let reason = match &e {
                IpvsError::Kernel { errno, .. } => kernel_message(Op::Init, *errno),
                other => other.to_string(),
            };
            eprintln!(
                "Can't initialize ipvs: {reason}\n\
                 Are you sure that IP Virtual Server is built in the kernel or as module?"
            );
            return EXIT_USAGE;
        }
    };

    let names = SystemResolver::new();
    let mut session = Session {
        ipvs: &mut ipvs,
        info,
        names: &names,
        conn_file: PathBuf::from(CONN_PROC_FILE),
        argv0,
    };
    let stdin = io::stdin();
    let mut stdin = stdin.lock();
    let mut stdout = BufWriter::with_capacity(64 * 1024, UnbufferedStdout(io::stdout()));
    let mut stderr = io::stderr().lock();
    let mut streams = Streams {
        stdin: &mut stdin,
        stdout: &mut stdout,
        stderr: &mut stderr,
    };
    let result = dispatch::execute(&mut session, &inv, &mut streams);
    let flushed = stdout.flush();
    match (result, flushed) {
        (Ok(rc), Ok(())) => rc,
        // The command ran to its end and only the rest of its output was
        // lost to a closed pipe: its status stands (a `--drain` that timed
        // out in `| head -1` still says 1).
        (Ok(rc), Err(e)) if e.kind() == io::ErrorKind::BrokenPipe => rc,
        (Ok(_), Err(e)) | (Err(e), _) => output_failed(&e),
    }
}

/// Standard output written with `write(2)` as it comes: everything goes
/// through the `BufWriter` above, so the line buffering of Rust's `Stdout`
/// would only add a search for the last newline in every write (all 39 MB
/// of a JSON document of 10,000 services, whose one newline is at its end:
/// 4% of the run), and split each text write in two. (A closed standard
/// output is never seen here: Rust's runtime opens `/dev/null` in its
/// place before `main`.)
struct UnbufferedStdout(io::Stdout);

impl Write for UnbufferedStdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        use std::os::fd::AsFd;
        Ok(nix::unistd::write(self.0.as_fd(), buf)?)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn open_ipvs() -> Result<(NetlinkIpvs, crate::model::Info), IpvsError> {
    let mut ipvs = NetlinkIpvs::new()?;
    let info = ipvs.info()?;
    Ok((ipvs, info))
}

fn print_quietly(text: &str) -> i32 {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => 0,
        Err(e) => output_failed(&e),
    }
}

/// A closed pipe (`ipvsadm -Ln | head`) ends the program quietly with
/// status 0; any other output error is reported.
fn output_failed(e: &io::Error) -> i32 {
    if e.kind() == io::ErrorKind::BrokenPipe {
        return 0;
    }
    eprintln!("ipvsadm: cannot write output: {e}");
    1
}
