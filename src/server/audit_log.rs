//! The text log's writer for the audit records (target [`AUDIT_TARGET`]): one record per login
//! attempt (issue 13), printed exactly as tracing-subscriber's default text format prints it,
//! but in one pass into a reused buffer.
//!
//! Formatting the record's sixteen fields through tracing-subscriber's visitor was about a
//! quarter of a plain fast-path login's instructions (callgrind; benches/README.md, "Side-by-side
//! storm"). The binary puts [`AuditTextLayer`] beside the ordinary `fmt` layer, which then skips
//! the audit target; `--log-format=json` keeps tracing-subscriber's JSON for everything. The
//! log-level filter (`--log-level`, e.g. `info,vestibule::audit=off`) decides for both.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::io::Write as _;

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, Layer};

/// The tracing target of the audit records.
pub const AUDIT_TARGET: &str = "vestibule::audit";

/// A [`Layer`] that writes each event as tracing-subscriber's `Full` text format does, without
/// colours: `2026-12-05T23:47:26.503429Z  INFO vestibule::audit: login attempt event="login" …`.
/// Meant for the audit target (give it a per-layer filter); any event prints the same way.
#[derive(Debug, Clone)]
pub struct AuditTextLayer<W> {
    writer: W,
}

impl<W> AuditTextLayer<W> {
    /// A layer writing through `writer` (each line in one `write_all`).
    pub fn new(writer: W) -> Self {
        AuditTextLayer { writer }
    }
}

impl<S, W> Layer<S> for AuditTextLayer<W>
where
    S: Subscriber,
    W: for<'w> MakeWriter<'w> + 'static,
{
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        thread_local! {
            static LINE: RefCell<String> = const { RefCell::new(String::new()) };
        }
        LINE.with_borrow_mut(|line| {
            line.clear();
            format_line(line, event, std::time::SystemTime::now());
            let _ = self.writer.make_writer().write_all(line.as_bytes());
            // A very long record does not keep its buffer.
            if line.capacity() > 4096 {
                *line = String::new();
            }
        });
    }
}

/// One line: time, level, target, message, then ` name=value` per field, and a newline.
fn format_line(line: &mut String, event: &Event<'_>, now: std::time::SystemTime) {
    let meta = event.metadata();
    write_time(line, now);
    let _ = write!(line, " {:>5} {}: ", meta.level(), meta.target());
    let mut visitor = Fields { line, first: true };
    event.record(&mut visitor);
    line.push('\n');
}

/// RFC 3339 UTC with microseconds, as tracing-subscriber's `SystemTime` timer prints it.
fn write_time(line: &mut String, now: std::time::SystemTime) {
    let since = now
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = since.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days);
    digits(line, y, 4);
    line.push('-');
    digits(line, m, 2);
    line.push('-');
    digits(line, d, 2);
    line.push('T');
    digits(line, rem / 3600, 2);
    line.push(':');
    digits(line, rem / 60 % 60, 2);
    line.push(':');
    digits(line, rem % 60, 2);
    line.push('.');
    digits(line, u64::from(since.subsec_micros()), 6);
    line.push('Z');
}

/// `n` in decimal, zero-padded to `width` digits (more when it needs them).
fn digits(line: &mut String, n: u64, width: usize) {
    let mut buf = [b'0'; 20];
    let mut i = buf.len();
    let mut n = n;
    loop {
        i -= 1;
        if let Some(b) = buf.get_mut(i) {
            *b = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let start = i.min(buf.len().saturating_sub(width));
    if let Some(text) = buf.get(start..).and_then(|b| std::str::from_utf8(b).ok()) {
        line.push_str(text);
    }
}

/// `value` quoted as `Debug` quotes a string; plain printable ASCII (the usual case) is copied
/// as it is, anything else goes through `Debug` itself.
fn quoted(line: &mut String, value: &str) {
    if value
        .bytes()
        .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
    {
        line.push('"');
        line.push_str(value);
        line.push('"');
    } else {
        let _ = write!(line, "{value:?}");
    }
}

/// Days since 1970-01-01 to the proleptic Gregorian (year, month, day): Howard Hinnant's
/// `civil_from_days` (<https://howardhinnant.github.io/date_algorithms.html>), for days ≥ 0.
pub(crate) fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

/// Writes the message as it is and each other field as ` name=value`: strings quoted and
/// escaped (`Debug`), so a client-chosen user name can forge neither a field nor a line.
struct Fields<'a> {
    line: &'a mut String,
    first: bool,
}

impl Fields<'_> {
    fn name(&mut self, field: &Field) {
        if !std::mem::take(&mut self.first) {
            self.line.push(' ');
        }
        self.line.push_str(field.name());
        self.line.push('=');
    }
}

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.record_debug(field, &value);
            return;
        }
        self.name(field);
        quoted(self.line, value);
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.name(field);
        digits(self.line, value, 1);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.name(field);
        let _ = write!(self.line, "{value}");
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.name(field);
        self.line.push_str(if value { "true" } else { "false" });
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            if !std::mem::take(&mut self.first) {
                self.line.push(' ');
            }
            let _ = write!(self.line, "{value:?}");
            return;
        }
        self.name(field);
        let _ = write!(self.line, "{value:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use tracing_subscriber::layer::SubscriberExt;

    /// A writer into a shared buffer, for both layers under test.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'w> MakeWriter<'w> for Captured {
        type Writer = Captured;
        fn make_writer(&'w self) -> Captured {
            self.clone()
        }
    }

    impl Captured {
        /// The lines, each without its timestamp (the first word).
        fn lines(&self) -> Vec<String> {
            String::from_utf8(self.0.lock().unwrap().clone())
                .unwrap()
                .lines()
                .map(|l| l.split_once(' ').unwrap().1.to_string())
                .collect()
        }
    }

    fn emit() {
        let account = "'app'@'%'";
        tracing::info!(
            target: "vestibule::audit",
            event = "login",
            id = 7u32,
            user = "we\"ird\nname\u{1b}[31m",
            account = %account,
            host = %"127.0.0.1",
            port = 5000u16,
            transport = "tcp+tls",
            tls_version = %"TLSv1.3",
            tls_cipher = %"",
            result = "failure",
            secondary_password = false,
            delay_ms = 0u64,
            "login attempt"
        );
        tracing::warn!(target: "vestibule::audit", n = -3i64, "no {} here", "fields");
    }

    /// The layer prints what tracing-subscriber's default text format (without colours)
    /// prints, timestamp aside, and escapes what a client sends.
    #[test]
    fn lines_match_tracing_subscribers_text_format() {
        let ours = Captured::default();
        let theirs = Captured::default();
        let subscriber = tracing_subscriber::registry()
            .with(AuditTextLayer::new(ours.clone()))
            .with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(false)
                    .with_writer(theirs.clone()),
            );
        tracing::subscriber::with_default(subscriber, emit);
        let (ours, theirs) = (ours.lines(), theirs.lines());
        assert_eq!(ours.len(), 2);
        assert_eq!(ours, theirs);
        assert!(
            ours[0].contains(r#"user="we\"ird\nname\u{1b}[31m""#),
            "{}",
            ours[0]
        );
        assert!(ours[0].starts_with(" INFO vestibule::audit: login attempt event=\"login\""));
    }

    #[test]
    fn digits_and_quotes_match_the_standard_formatting() {
        for (n, w) in [
            (0, 1),
            (7, 2),
            (42, 2),
            (123, 2),
            (5, 6),
            (u64::MAX, 1),
            (2026, 4),
        ] {
            let mut s = String::new();
            digits(&mut s, n, w);
            assert_eq!(s, format!("{n:0w$}"));
        }
        for v in [
            "",
            "root",
            "a b",
            "we\"ird",
            "back\\slash",
            "tab\t",
            "é",
            "\u{1b}[31m",
        ] {
            let mut s = String::new();
            quoted(&mut s, v);
            assert_eq!(s, format!("{v:?}"), "{v:?}");
        }
    }

    #[test]
    fn timestamps_are_rfc3339_utc_with_microseconds() {
        let at = |secs: u64, micros: u32| {
            let mut s = String::new();
            write_time(
                &mut s,
                std::time::UNIX_EPOCH
                    + std::time::Duration::from_secs(secs)
                    + std::time::Duration::from_micros(u64::from(micros)),
            );
            s
        };
        assert_eq!(at(0, 0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(at(951_782_400, 1), "2000-02-29T00:00:00.000001Z");
        assert_eq!(at(1_796_514_446, 503_429), "2026-12-05T23:47:26.503429Z");
        assert_eq!(at(4_102_444_799, 999_999), "2099-12-31T23:59:59.999999Z");
    }
}
