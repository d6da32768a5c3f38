//! The report of `--check`: text for people, or one JSON document
//! (`--json`) whose views follow the rules of the listings' documents
//! ([`crate::render::json`]: snake_case keys, every key always present,
//! addresses as canonical strings with the port apart, a
//! `schema_version`).
//!
//! # The document (schema version 1)
//!
//! `{"schema_version": 1, "summary": {...}, "findings": [...],
//! "settings": [...]}`:
//!
//! * `summary`: `errors`, `warnings` and `notes` (how many findings of
//!   each severity) and `problems_found` (errors or warnings: the exit
//!   status is 1).
//! * `findings`: [`JsonFinding`]s, the namespace's first, then each
//!   service's in listing order.
//! * `settings`: [`JsonSetting`]s, every setting `--check --verbose`
//!   lists (always included: options do not change the document).

use std::io::{self, Write};

use serde::Serialize;

use super::rules::{Finding, Severity};
use super::settings::Setting;
use crate::render::json::{self, Addr};
use crate::render::table;

/// How many findings of each severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub errors: usize,
    pub warnings: usize,
    pub notes: usize,
    /// Errors or warnings were found (the exit status is 1).
    pub problems_found: bool,
}

impl Summary {
    pub fn of(findings: &[Finding]) -> Summary {
        let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
        let (errors, warnings, notes) = (
            count(Severity::Error),
            count(Severity::Warning),
            count(Severity::Note),
        );
        Summary {
            errors,
            warnings,
            notes,
            problems_found: errors + warnings > 0,
        }
    }
}

/// The document of `--check --json`.
#[derive(Serialize)]
pub struct CheckDoc<'a> {
    pub schema_version: u32,
    pub summary: Summary,
    pub findings: Vec<JsonFinding<'a>>,
    pub settings: Vec<JsonSetting<'a>>,
}

/// One finding.
#[derive(Serialize)]
pub struct JsonFinding<'a> {
    /// `"error"`, `"warning"` or `"note"`.
    pub severity: &'static str,
    /// The kind of problem (`"vip-not-local"`, ...; see the README).
    pub code: &'static str,
    /// The service as the text listing names it (`"TCP 10.0.0.1:80"`),
    /// `null` for findings about the whole namespace.
    pub service: Option<String>,
    /// The real server concerned, or `null`.
    pub real_server: Option<JsonServer>,
    /// What is wrong and what happens because of it.
    pub message: &'a str,
    /// The command that fixes it, or `null`.
    pub fix: Option<&'a str>,
}

/// A real server's address and port.
#[derive(Serialize)]
pub struct JsonServer {
    pub addr: Addr,
    pub port: u16,
}

/// One setting of the namespace.
#[derive(Serialize)]
pub struct JsonSetting<'a> {
    /// Its sysctl name (`"net.ipv4.vs.run_estimation"`).
    pub name: &'a str,
    /// Its value as the kernel writes it, or `null` when it cannot be read.
    pub value: Option<&'a str>,
    /// Why it cannot be read, or `null`.
    pub error: Option<&'a str>,
    /// What it does, or `null` for a setting this program does not know.
    pub description: Option<&'static str>,
}

impl<'a> From<&'a Finding> for JsonFinding<'a> {
    fn from(f: &'a Finding) -> Self {
        JsonFinding {
            severity: f.severity.name(),
            code: f.code,
            service: f.service.as_ref().map(table::service_id_label),
            real_server: f.real_server.map(|(addr, port)| JsonServer {
                addr: Addr(addr),
                port,
            }),
            message: &f.message,
            fix: f.fix.as_deref(),
        }
    }
}

impl<'a> From<&'a Setting> for JsonSetting<'a> {
    fn from(s: &'a Setting) -> Self {
        JsonSetting {
            name: &s.name,
            value: s.value.as_deref().ok(),
            error: s.value.as_ref().err().map(String::as_str),
            description: s.about,
        }
    }
}

/// Writes the report as JSON.
pub fn write_json(
    out: &mut dyn Write,
    findings: &[Finding],
    settings: &[Setting],
    pretty: bool,
) -> io::Result<()> {
    let doc = CheckDoc {
        schema_version: json::SCHEMA_VERSION,
        summary: Summary::of(findings),
        findings: findings.iter().map(JsonFinding::from).collect(),
        settings: settings.iter().map(JsonSetting::from).collect(),
    };
    json::write(out, &doc, pretty)
}

/// Writes the report as text: one finding a paragraph, then the summary
/// line; with `verbose`, the settings after it.
pub fn write_text(
    out: &mut dyn Write,
    findings: &[Finding],
    settings: &[Setting],
    verbose: bool,
) -> io::Result<()> {
    for f in findings {
        writeln!(out, "{}: {}: {}", f.severity.name(), subject(f), f.message)?;
        if let Some(fix) = &f.fix {
            writeln!(out, "  fix: {fix}")?;
        }
    }
    writeln!(out, "{}", summary_line(&Summary::of(findings)))?;
    if verbose {
        out.write_all(b"\nIPVS settings of this network namespace:\n")?;
        let width = settings.iter().map(|s| s.name.len()).max().unwrap_or(0);
        for s in settings {
            match &s.value {
                Ok(v) => writeln!(out, "  {:width$} = {}", s.name, v.replace('\t', " "))?,
                Err(why) => {
                    writeln!(out, "  {:width$} = cannot be read ({why})", s.name)?
                }
            }
            if let Some(about) = s.about {
                writeln!(out, "      {about}")?;
            }
        }
    }
    Ok(())
}

/// What a finding is about: `TCP 10.0.0.1:80`, `TCP 10.0.0.1:80 ->
/// 10.0.1.1:80`, or the namespace.
fn subject(f: &Finding) -> String {
    let Some(svc) = &f.service else {
        return "this network namespace".to_string();
    };
    let mut text = table::service_id_label(svc);
    if let Some((addr, port)) = f.real_server {
        text.push_str(" -> ");
        text.push_str(&match addr {
            std::net::IpAddr::V4(a) => format!("{a}:{port}"),
            std::net::IpAddr::V6(a) => format!("[{a}]:{port}"),
        });
    }
    text
}

/// `no problems found`, or how many of each severity.
pub fn summary_line(s: &Summary) -> String {
    let n = |count: usize, what: &str| {
        format!("{count} {what}{}", if count == 1 { "" } else { "s" })
    };
    if !s.problems_found {
        return match s.notes {
            0 => "no problems found".to_string(),
            notes => format!("no problems found ({})", n(notes, "note")),
        };
    }
    format!(
        "problems found: {}, {}, {}",
        n(s.errors, "error"),
        n(s.warnings, "warning"),
        n(s.notes, "note")
    )
}
