//! Quota arithmetic on resource quantities: exact sums in units of 10^-9 and upstream's
//! canonical text (`500m`, `2`, `1Gi`, `2k`).

/// A quantity in units of 10^-9.
pub type Nanos = i128;

const NANO: i128 = 1_000_000_000;

/// Parses a quantity string; `None` when malformed.
pub fn parse(s: &str) -> Option<Nanos> {
    let s = s.trim();
    let split = s
        .char_indices()
        .find(|(i, c)| !(c.is_ascii_digit() || *c == '.' || (*i == 0 && (*c == '+' || *c == '-'))))
        .map_or(s.len(), |(i, _)| i);
    let (num, suffix) = s.split_at(split);
    let (neg, digits) = match num.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, num.strip_prefix('+').unwrap_or(num)),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty() && frac.is_empty() || frac.contains('.') || frac.len() > 9 {
        return None;
    }
    let (mul, div): (i128, i128) = match suffix {
        "" => (NANO, 1),
        "n" => (1, 1),
        "u" => (1_000, 1),
        "m" => (1_000_000, 1),
        "k" => (NANO * 1_000, 1),
        "M" => (NANO * 1_000_000, 1),
        "G" => (NANO * 1_000_000_000, 1),
        "T" => (NANO * 1_000_000_000_000, 1),
        "P" => (NANO * 1_000_000_000_000_000, 1),
        "Ki" => (NANO << 10, 1),
        "Mi" => (NANO << 20, 1),
        "Gi" => (NANO << 30, 1),
        "Ti" => (NANO << 40, 1),
        "Pi" => (NANO << 50, 1),
        _ => return None,
    };
    let whole: i128 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let frac_val: i128 = if frac.is_empty() {
        0
    } else {
        frac.parse().ok()?
    };
    let scale = 10i128.pow(frac.len() as u32);
    let v = whole
        .checked_mul(mul)?
        .checked_add(frac_val.checked_mul(mul)? / scale)?
        / div;
    Some(if neg { -v } else { v })
}

/// Whether a quantity's text uses binary suffixes (Ki, Mi, …).
pub fn is_binary(s: &str) -> bool {
    s.ends_with('i')
}

/// Canonical text of `v`; binary suffixes when `binary` and `v` is a multiple of 1Ki.
pub fn format(v: Nanos, binary: bool) -> String {
    let sign = if v < 0 { "-" } else { "" };
    let a = v.abs();
    if a % NANO != 0 {
        for (unit, suffix) in [(1_000_000i128, "m"), (1_000, "u"), (1, "n")] {
            if a % unit == 0 {
                return format!("{sign}{}{suffix}", a / unit);
            }
        }
    }
    let n = a / NANO;
    if n == 0 {
        return "0".into();
    }
    if binary {
        for (shift, suffix) in [(50, "Pi"), (40, "Ti"), (30, "Gi"), (20, "Mi"), (10, "Ki")] {
            if n % (1i128 << shift) == 0 {
                return format!("{sign}{}{suffix}", n >> shift);
            }
        }
    }
    for (unit, suffix) in [
        (1_000_000_000_000_000i128, "P"),
        (1_000_000_000_000, "T"),
        (1_000_000_000, "G"),
        (1_000_000, "M"),
        (1_000, "k"),
    ] {
        if n % unit == 0 {
            return format!("{sign}{}{suffix}", n / unit);
        }
    }
    format!("{sign}{n}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_keep_their_canonical_text() {
        let cpu = parse("500m").unwrap() + parse("0.5").unwrap();
        assert_eq!(format(cpu, false), "1");
        assert_eq!(format(parse("250m").unwrap(), false), "250m");
        let mem = parse("512Mi").unwrap() * 2;
        assert_eq!(format(mem, true), "1Gi");
        assert_eq!(format(parse("2000").unwrap(), false), "2k");
        assert_eq!(format(0, true), "0");
        assert_eq!(parse("1.5Gi"), Some((3i128 << 29) * NANO));
        assert_eq!(parse("x"), None);
        assert_eq!(parse("1e3"), None);
    }
}
