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
            OptId::Json => self.output.style = OutputStyle::Json,
            OptId::Format => {
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
                }
            }
            OptId::Pretty => self.output.pretty = true,
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
            _ => {}
        }
        Ok(())
    }

    /// Our extensions' legality, checked after ipvsadm's option loop.
    pub(super) fn check_extensions(&self) -> Result<(), UsageError> {
        let seen = |slot: ExtSlot| self.extensions & slot.mask() != 0;
        for slot in [
            ExtSlot::Format,
            ExtSlot::Pretty,
            ExtSlot::Watch,
            ExtSlot::Count,
        ] {
            // `--check` reports as text or as one JSON document.
            let with_check = matches!(slot, ExtSlot::Format | ExtSlot::Pretty)
                && self.cmd == CmdKind::Check;
            if seen(slot) && self.cmd != CmdKind::List && !with_check {
                return Err(fail(format!(
                    "Illegal '{}' option with the '{}' command",
                    slot.name(),
                    self.cmd.name()
                )));
            }
        }
        if seen(ExtSlot::Atomic) && self.cmd != CmdKind::Restore {
            return Err(fail(format!(
                "Illegal 'atomic' option with the '{}' command",
                self.cmd.name()
            )));
        }
        if seen(ExtSlot::Drain) && self.cmd != CmdKind::DelDest {
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
