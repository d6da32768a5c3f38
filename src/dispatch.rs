//! Runs a parsed [`Invocation`]: picks the module that owns the command.
//! Listings go to [`render`] (or [`watch`]), `-R` to [`restore`],
//! `--check` to [`check`], every
//! table change to the backend as one [`Change`]. Nothing below imports
//! this module.
//!
//! Exit statuses follow ipvsadm 1.31 ([`crate::session`]).

use std::io;

use crate::backend::Change;
use crate::cli::{Command, Invocation};
use crate::listing::OutputStyle;
use crate::session::{EXIT_KERNEL, Session, Streams};
use crate::{check, drain, render, restore, watch};

/// Runs one invocation. `Err` is only returned for output errors (such as
/// a closed pipe), which the caller turns into an exit status.
pub fn execute(
    session: &mut Session,
    inv: &Invocation,
    streams: &mut Streams,
) -> io::Result<i32> {
    match &inv.command {
        Command::Restore => {
            restore::run_with(session, inv.atomic, inv.restore, streams, execute_command)
        }
        cmd => execute_command(session, cmd, inv, streams),
    }
}

/// Runs one command other than `-R` (the lines of `-R` input that are no
/// table change come through here too).
pub fn execute_command(
    session: &mut Session,
    cmd: &Command,
    inv: &Invocation,
    streams: &mut Streams,
) -> io::Result<i32> {
    let change = match cmd {
        // Outside restore input these are handled before a session exists.
        Command::Help => {
            streams
                .stdout
                .write_all(crate::cli::help_text(&session.argv0).as_bytes())?;
            return Ok(0);
        }
        Command::Version => {
            writeln!(streams.stdout, "{}", crate::cli::version_text())?;
            return Ok(0);
        }
        // Refused by the parser inside restore input.
        Command::Restore => return Ok(0),
        Command::List(list) if inv.output.watch.is_some() => {
            return watch::run(session, list, &inv.output, streams);
        }
        Command::List(list) => {
            return render::list(
                session,
                list,
                inv.output.style,
                inv.output.pretty,
                streams,
            );
        }
        Command::Save { numeric } => {
            return render::text::save(session, *numeric, streams);
        }
        Command::Check { service, verbose } => {
            let cmd = check::CheckCmd {
                service: service.as_ref(),
                verbose: *verbose,
                json: inv.output.style == OutputStyle::Json,
                pretty: inv.output.pretty,
            };
            return check::run(session, &cmd, streams);
        }
        Command::AddService(svc) => Change::AddService(svc.clone()),
        Command::EditService(svc) => Change::EditService(svc.clone()),
        Command::DelService(svc) => Change::DelService(svc.clone()),
        Command::Flush => Change::Flush,
        Command::Zero(svc) => Change::Zero(svc.clone()),
        Command::AddDest(svc, d) => Change::AddDest(svc.clone(), d.clone()),
        Command::EditDest(svc, d) => Change::EditDest(svc.clone(), d.clone()),
        Command::DelDest(svc, d) => match inv.drain {
            Some(timeout) => return drain::run(session, svc, d, timeout, streams),
            None => Change::DelDest(svc.clone(), d.clone()),
        },
        Command::SetTimeouts(t) => Change::SetTimeouts(*t),
        Command::StartDaemon(d) => Change::StartDaemon(d.clone()),
        Command::StopDaemon { state, syncid } => Change::StopDaemon {
            state: *state,
            syncid: *syncid,
        },
    };
    match session.ipvs.apply_one(&change) {
        Ok(()) => Ok(0),
        Err(e) => {
            writeln!(streams.stderr, "{e}")?;
            Ok(EXIT_KERNEL)
        }
    }
}
