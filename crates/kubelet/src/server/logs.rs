//! Container logs as the runtime writes them (CRI format: `<RFC 3339 time> <stream> <P|F>
//! <text>` per line, `P` for a partial line) turned back into the container's output, with
//! upstream's options: tail, since, timestamps, byte limit and follow.

use k8s_openapi::jiff::Timestamp;

/// What to return from a log.
#[derive(Clone, Debug, Default)]
pub struct LogOptions {
    /// Keep streaming as the container writes.
    pub follow: bool,
    /// Only the last N lines.
    pub tail_lines: Option<usize>,
    /// Only lines written at or after this time.
    pub since: Option<Timestamp>,
    /// Prefix every line with its time.
    pub timestamps: bool,
    /// Stop after this many bytes.
    pub limit_bytes: Option<usize>,
}

impl LogOptions {
    /// Options from a `containerLogs` query.
    pub fn parse(query: &[(String, String)], now: Timestamp) -> Result<LogOptions, String> {
        let mut o = LogOptions::default();
        let flag = |v: &str| v == "true" || v == "1";
        for (k, v) in query {
            match k.as_str() {
                "follow" => o.follow = flag(v),
                "timestamps" => o.timestamps = flag(v),
                "tailLines" => {
                    let n: i64 = v
                        .parse()
                        .map_err(|_| format!("tailLines: {v:?} is not a number"))?;
                    o.tail_lines = Some(n.max(0) as usize);
                }
                "limitBytes" => {
                    let n: i64 = v
                        .parse()
                        .map_err(|_| format!("limitBytes: {v:?} is not a number"))?;
                    if n < 1 {
                        return Err("limitBytes: must be greater than 0".to_string());
                    }
                    o.limit_bytes = Some(n as usize);
                }
                "sinceSeconds" => {
                    let n: i64 = v
                        .parse()
                        .map_err(|_| format!("sinceSeconds: {v:?} is not a number"))?;
                    if n < 1 {
                        return Err("sinceSeconds: must be greater than 0".to_string());
                    }
                    o.since = now
                        .checked_sub(k8s_openapi::jiff::SignedDuration::from_secs(n))
                        .ok();
                }
                "sinceTime" => {
                    o.since = Some(
                        v.parse()
                            .map_err(|_| format!("sinceTime: {v:?} is not an RFC 3339 time"))?,
                    );
                }
                _ => {}
            }
        }
        Ok(o)
    }
}

/// One parsed log record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record<'a> {
    /// When it was written (as written).
    pub time: &'a str,
    /// The text, without the line end.
    pub text: &'a [u8],
    /// Whether the line ends here (`F`) or continues in the next record (`P`).
    pub full: bool,
}

/// Parses one CRI log line (without its `\n`).
pub fn parse(line: &[u8]) -> Option<Record<'_>> {
    let mut parts = line.splitn(4, |b| *b == b' ');
    let time = std::str::from_utf8(parts.next()?).ok()?;
    let _stream = parts.next()?;
    let tag = parts.next()?;
    let text = parts.next().unwrap_or(b"");
    Some(Record {
        time,
        text,
        full: tag.first() != Some(&b'P'),
    })
}

/// Renders records from `data` (whole lines) to output per the options, without tail and
/// limit handling (done by the caller over the whole output).
pub fn render(data: &[u8], opts: &LogOptions, out: &mut Vec<u8>) {
    for line in data.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let Some(r) = parse(line) else { continue };
        if let Some(since) = opts.since {
            if r.time.parse::<Timestamp>().is_ok_and(|t| t < since) {
                continue;
            }
        }
        if opts.timestamps {
            out.extend_from_slice(r.time.as_bytes());
            out.push(b' ');
        }
        out.extend_from_slice(r.text);
        if r.full {
            out.push(b'\n');
        }
    }
}

/// The last `n` lines of `out`.
pub fn tail(out: &[u8], n: usize) -> &[u8] {
    if n == 0 {
        return &[];
    }
    let body = out.strip_suffix(b"\n").unwrap_or(out);
    let mut seen = 0;
    for (i, b) in body.iter().enumerate().rev() {
        if *b == b'\n' {
            seen += 1;
            if seen == n {
                return &out[i + 1..];
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &[u8] = b"2026-01-01T00:00:01.000000001Z stdout F one\n\
2026-01-01T00:00:02Z stderr P tw\n\
2026-01-01T00:00:02.5Z stderr F o\n\
2026-01-01T00:00:03Z stdout F three\n";

    #[test]
    fn partial_records_join_into_one_line() {
        let mut out = Vec::new();
        render(LOG, &LogOptions::default(), &mut out);
        assert_eq!(out, b"one\ntwo\nthree\n");
    }

    #[test]
    fn since_timestamps_and_tail_follow_upstream() {
        let now: Timestamp = "2026-01-01T00:00:04Z".parse().unwrap();
        let query = vec![
            ("sinceSeconds".to_string(), "2".to_string()),
            ("timestamps".to_string(), "true".to_string()),
        ];
        let opts = LogOptions::parse(&query, now).unwrap();
        let mut out = Vec::new();
        render(LOG, &opts, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "2026-01-01T00:00:02Z tw2026-01-01T00:00:02.5Z o\n2026-01-01T00:00:03Z three\n"
        );
        assert_eq!(tail(b"a\nb\nc\n", 2), b"b\nc\n");
        assert_eq!(tail(b"a\nb\nc\n", 5), b"a\nb\nc\n");
        assert_eq!(tail(b"a\nb\nc\n", 0), b"");
        assert!(LogOptions::parse(&[("sinceSeconds".into(), "0".into())], now).is_err());
        assert!(LogOptions::parse(&[("tailLines".into(), "x".into())], now).is_err());
    }
}
