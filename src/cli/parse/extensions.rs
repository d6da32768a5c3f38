//! Our extension options (`--json`, `--format`, `--pretty`, `--watch`,
//! `--count`, `--netns`, `--atomic`, `--drain`, `--verbose`): how each is
//! taken, and their legality, checked after ipvsadm's own option loop.

use super::*;

/// Longest `--watch` interval we accept (a day), in seconds.
const MAX_WATCH_SECONDS: f64 = 86_400.0;

/// How long a bare `--drain` waits for a real server's connections to end.
pub(crate) const DEFAULT_DRAIN_SECONDS: u64 = 300;

impl Entry {
    /// Applies one of our extension options.
    pub(super) fn apply_extension(
        &mut self,
        spec: &OptSpec,
        value: Option<&str>,
        slot: ExtSlot,
    ) -> Result<(), UsageError> {
        if self.mode == Mode::Restore && slot == ExtSlot::Drain {
            return Err(fail("the '--drain' option is not allowed in restore input"));
        }
        if self.mode == Mode::Restore && slot == ExtSlot::Netns {
            return Err(fail(
                "the '--netns' option is not allowed in restore input (give it to -R instead)",
            ));
        }
        if self.extensions & slot.mask() != 0 {
            return Err(fail(format!(
                "multiple '{}' options specified",
                slot.name()
            )));
        }
        self.extensions |= slot.mask();
        if spec.id == OptId::Watch {
            // A bare `--watch` uses the default; `--watch=` must say how long.
            self.output.watch = Some(match value {
                None => WatchInterval::default(),
                Some(text) => parse_watch_interval(text)?,
            });
            return Ok(());
        }
        if spec.id == OptId::Drain {
            // A bare `--drain` waits the default; `--drain=` must say how long.
            let seconds = match value {
                None => DEFAULT_DRAIN_SECONDS,
                Some(text) => parse_drain_seconds(text)?,
            };
            self.drain = Some(std::time::Duration::from_secs(seconds));
            return Ok(());
        }
        let v = value.unwrap_or_default();
        match spec.id {
            OptId::Json => {
                self.output.style = OutputStyle::Json;
                self.restore.json_plan = true;
            }
            OptId::Format => {
                self.restore.json_input = v == "json";
                self.output.style = match v {
                    "text" => OutputStyle::Text,
                    "json" => OutputStyle::Json,
                    "table" => OutputStyle::Table,
                    "prometheus" => OutputStyle::Prometheus,
                    _ => {
                        return Err(fail(format!(
                            "invalid format `{v}' specified (expected text, json, table or prometheus)"
                        )));
                    }
                };
                self.format_style = Some(self.output.style);
            }
            OptId::Pretty => {
                self.output.pretty = true;
                self.restore.pretty = true;
            }
            OptId::Count => {
                let count = v
                    .parse::<u64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| fail(format!("invalid count `{v}' specified (expected an integer greater than zero)")))?;
                self.output.count = Some(count);
            }
            OptId::Netns => {
                if v.is_empty() {
                    return Err(fail("empty network namespace name specified"));
                }
                self.netns = Some(v.to_string());
            }
            OptId::Atomic => self.atomic = true,
            OptId::Verbose => self.verbose = true,
            OptId::Replace => self.restore.replace = true,
            OptId::DryRun => self.restore.dry_run = true,
            _ => {}
        }
        Ok(())
    }

    /// Our extensions' legality, checked after ipvsadm's option loop.
    pub(super) fn check_extensions(&self) -> Result<(), UsageError> {
        let seen = |slot: ExtSlot| self.extensions & slot.mask() != 0;
        if seen(ExtSlot::Json) && seen(ExtSlot::Format) && self.cmd != CmdKind::Restore {
            return Err(fail("multiple 'format' options specified"));
        }
        if self.cmd == CmdKind::Restore {
            self.check_restore_extensions()?;
        }
        for slot in [
            ExtSlot::Format,
            ExtSlot::Json,
            ExtSlot::Pretty,
            ExtSlot::Watch,
            ExtSlot::Count,
        ] {
            // `--check` reports as text or as one JSON document; `-R` takes
            // its input's format, and with `--dry-run` the plan's.
            let with_check =
                matches!(slot, ExtSlot::Format | ExtSlot::Json | ExtSlot::Pretty)
                    && self.cmd == CmdKind::Check;
            let restore_may =
                matches!(slot, ExtSlot::Format | ExtSlot::Json | ExtSlot::Pretty)
                    && self.cmd == CmdKind::Restore;
            if seen(slot) && self.cmd != CmdKind::List && !with_check && !restore_may {
                return Err(fail(format!(
                    "Illegal '{}' option with the '{}' command",
                    slot.name(),
                    self.cmd.name()
                )));
            }
        }
        for slot in [ExtSlot::Atomic, ExtSlot::Replace, ExtSlot::DryRun] {
            if seen(slot) && self.cmd != CmdKind::Restore {
                return Err(fail(format!(
                    "Illegal '{}' option with the '{}' command",
                    slot.name(),
                    self.cmd.name()
                )));
            }
        }
        if seen(ExtSlot::Drain)
            && !matches!(self.cmd, CmdKind::DelDest | CmdKind::Restore)
        {
            return Err(fail(format!(
                "Illegal 'drain' option with the '{}' command",
                self.cmd.name()
            )));
        }
        if self.cmd == CmdKind::Check
            && matches!(
                self.output.style,
                OutputStyle::Table | OutputStyle::Prometheus
            )
        {
            return Err(fail(
                "the '--check' command writes text or JSON (--format text|json)",
            ));
        }
        if seen(ExtSlot::Verbose) && self.cmd != CmdKind::Check {
            return Err(fail(format!(
                "Illegal 'verbose' option with the '{}' command",
                self.cmd.name()
            )));
        }
        if seen(ExtSlot::Count) && !seen(ExtSlot::Watch) {
            return Err(fail("The 'count' option needs the 'watch' option"));
        }
        Ok(())
    }
}

impl Entry {
    /// What `-R` takes of our extensions: `--format text|json` names the
    /// input's format; `--dry-run` and `--drain` need `--replace`; `--json`
    /// and `--pretty` shape the plan `--dry-run` prints.
    fn check_restore_extensions(&self) -> Result<(), UsageError> {
        let seen = |slot: ExtSlot| self.extensions & slot.mask() != 0;
        if self
            .format_style
            .is_some_and(|s| !matches!(s, OutputStyle::Text | OutputStyle::Json))
        {
            return Err(fail(
                "invalid input format specified with -R (expected text or json)",
            ));
        }
        if seen(ExtSlot::DryRun) && !seen(ExtSlot::Replace) {
            return Err(fail("The 'dry-run' option needs the 'replace' option"));
        }
        if seen(ExtSlot::Json) && !seen(ExtSlot::DryRun) {
            return Err(fail(
                "The 'json' option with -R needs the 'dry-run' option (use '--format json' for JSON input)",
            ));
        }
        if seen(ExtSlot::Pretty) && !seen(ExtSlot::Json) {
            return Err(fail("The 'pretty' option with -R needs the 'json' option"));
        }
        if seen(ExtSlot::Drain) && !seen(ExtSlot::Replace) {
            return Err(fail(
                "The 'drain' option with -R needs the 'replace' option",
            ));
        }
        if seen(ExtSlot::Atomic) && seen(ExtSlot::DryRun) {
            return Err(fail(
                "The 'atomic' and 'dry-run' options cannot be combined",
            ));
        }
        Ok(())
    }
}

/// `--watch=SECONDS`: a positive number of seconds, fractions allowed.
fn parse_watch_interval(text: &str) -> Result<WatchInterval, UsageError> {
    let seconds: f64 = text.trim().parse().unwrap_or(f64::NAN);
    if !(seconds.is_finite() && seconds > 0.0 && seconds <= MAX_WATCH_SECONDS) {
        return Err(fail(format!(
            "invalid watch interval `{text}' specified (expected seconds, greater than 0 and at most {MAX_WATCH_SECONDS})"
        )));
    }
    let millis = (seconds * 1000.0).round().max(1.0) as u64;
    Ok(WatchInterval(millis))
}

/// `--drain=SECONDS`: whole seconds, 0 (do not wait) up to `i32::MAX`.
fn parse_drain_seconds(text: &str) -> Result<u64, UsageError> {
    string_to_number(text, 0, i64::from(i32::MAX))
        .map(|n| n as u64)
        .ok_or_else(|| {
            fail(format!(
                "invalid drain timeout `{text}' specified (expected whole seconds, 0 or more)"
            ))
        })
}
