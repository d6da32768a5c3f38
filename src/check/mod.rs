//! `--check [SERVICE]`: why a virtual service does not answer. Reads the
//! table through [`crate::listing`] (as `-Ln` does, a service at a time)
//! and the host's facts ([`facts`]: local addresses, routes, forwarding
//! and the IPVS settings of the namespace), applies the [`rules`] and
//! writes the [`report`] as text or JSON.
//!
//! Exit status: 0 when nothing but notes was found, 1 for errors or
//! warnings (and for a table that cannot be read, as listings).

pub mod facts;
pub mod report;
pub mod rules;
pub mod settings;

use std::io;

use crate::listing::{self, ListingError};
use crate::model::Service;
use crate::session::{Session, Streams};

pub use facts::HostFacts;
pub use rules::{Finding, Severity};

/// A value read from `/proc`, or why it could not be.
pub type Read<T> = Result<T, String>;

/// A file's text, or why it cannot be read.
fn read_text(path: &std::path::Path) -> Read<String> {
    std::fs::read_to_string(path).map_err(|e| reason(&e))
}

/// An I/O error as a reason (`No such file or directory`).
fn reason(e: &io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(end) => text[..end].to_string(),
        None => text,
    }
}

/// Exit status when errors or warnings were found.
pub const EXIT_PROBLEMS: i32 = 1;

/// What `--check` was asked for.
#[derive(Debug, Clone, Copy)]
pub struct CheckCmd<'a> {
    /// Only this service.
    pub service: Option<&'a Service>,
    /// `--verbose`: the settings too (text; JSON always has them).
    pub verbose: bool,
    /// `--json`.
    pub json: bool,
    /// `--pretty`.
    pub pretty: bool,
}

/// Runs `--check` on the table of `session` and the host it runs on.
pub fn run(
    session: &mut Session,
    cmd: &CheckCmd,
    streams: &mut Streams,
) -> io::Result<i32> {
    let facts = HostFacts::read();
    let findings = match inspect(session, cmd.service, &facts) {
        Ok(findings) => findings,
        Err(e) => return listing::listing_failed(streams.stderr, &e),
    };
    if cmd.json {
        report::write_json(streams.stdout, &findings, &facts.settings, cmd.pretty)?;
    } else {
        report::write_text(streams.stdout, &findings, &facts.settings, cmd.verbose)?;
    }
    Ok(status(&findings))
}

/// The findings for the table (or one service) and `facts`: the
/// namespace's first, then each service's in listing order.
pub fn inspect(
    session: &mut Session,
    service: Option<&Service>,
    facts: &HostFacts,
) -> Result<Vec<Finding>, crate::error::IpvsError> {
    let mut findings = Vec::new();
    rules::host_findings(facts, &mut findings);
    match service {
        Some(svc) => {
            let entry = listing::read_service(session.ipvs, &svc.id)?;
            rules::service_findings(&entry, facts, &mut findings);
        }
        None => {
            let services = listing::read_services(session.ipvs, false)?;
            let read = listing::for_each_entry(session.ipvs, services, |entry| {
                rules::service_findings(entry, facts, &mut findings);
                Ok(())
            });
            match read {
                Ok(()) | Err(ListingError::Output(_)) => {}
                Err(ListingError::Kernel(e)) => return Err(e),
            }
        }
    }
    Ok(findings)
}

/// 1 when errors or warnings were found, else 0.
pub fn status(findings: &[Finding]) -> i32 {
    if report::Summary::of(findings).problems_found {
        EXIT_PROBLEMS
    } else {
        0
    }
}

/// Why the kernel's rate estimator of this namespace does not run
/// (`net.ipv4.vs.run_estimation = 0`), for the watch; `None` when it
/// runs or that cannot be read.
pub fn estimator_off() -> Option<String> {
    let facts = HostFacts {
        settings: settings::read_all(std::path::Path::new("/proc/sys")),
        ..HostFacts::unknown()
    };
    rules::estimator_off(&facts).map(|(_, why)| why)
}

#[cfg(test)]
mod tests;
