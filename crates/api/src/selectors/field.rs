//! Field selectors (`metadata.name=x,status.phase!=Running`) with upstream's escaping rules.

use super::SelectorError;
use std::fmt;

/// A parsed field selector (`metadata.name=x,status.phase!=Running`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldSelector {
    /// (field, operator-is-equality, value)
    pub requirements: Vec<(String, bool, String)>,
}

/// The operators in the order upstream tries them at each position.
const OPERATORS: [(&str, bool); 3] = [("!=", false), ("==", true), ("=", true)];

impl FieldSelector {
    /// Parses the `fieldSelector` query syntax.
    pub fn parse(s: &str) -> Result<Self, SelectorError> {
        let mut parts = split_terms(s);
        parts.sort_unstable();
        let mut requirements = Vec::new();
        for part in parts.into_iter().filter(|p| !p.is_empty()) {
            let Some((field, equality, raw)) = split_term(part) else {
                let msg = format!("invalid selector: '{s}'; can't understand '{part}'");
                return Err(SelectorError(msg));
            };
            requirements.push((field.to_string(), equality, unescape_value(raw)?));
        }
        Ok(FieldSelector { requirements })
    }

    /// Whether the selector has no terms (matches everything).
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// The value an equality term requires for `field`, if any.
    pub fn requires_exact_match(&self, field: &str) -> Option<&str> {
        self.requirements
            .iter()
            .find(|(f, equality, _)| *equality && f == field)
            .map(|(_, _, v)| v.as_str())
    }

    /// Whether every term holds, reading each field's value through `value_of`.
    pub fn matches_with(&self, value_of: impl Fn(&str) -> String) -> bool {
        self.requirements
            .iter()
            .all(|(field, equality, value)| (value_of(field) == *value) == *equality)
    }
}

impl fmt::Display for FieldSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (field, equality, value)) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            let op = if *equality { "=" } else { "!=" };
            write!(f, "{field}{op}{}", escape_value(value))?;
        }
        Ok(())
    }
}

/// Splits on commas not preceded by a backslash, keeping escapes in place.
fn split_terms(s: &str) -> Vec<&str> {
    if s.is_empty() {
        return Vec::new();
    }
    let mut terms = Vec::new();
    let mut start = 0;
    let mut in_slash = false;
    for (i, c) in s.char_indices() {
        if in_slash {
            in_slash = false;
        } else if c == '\\' {
            in_slash = true;
        } else if c == ',' {
            terms.push(&s[start..i]);
            start = i + 1;
        }
    }
    terms.push(&s[start..]);
    terms
}

/// Splits a term at its first operator into (field, is-equality, raw value).
fn split_term(term: &str) -> Option<(&str, bool, &str)> {
    for (i, _) in term.char_indices() {
        let rest = &term[i..];
        for (op, equality) in OPERATORS {
            if let Some(value) = rest.strip_prefix(op) {
                return Some((&term[..i], equality, value));
            }
        }
    }
    None
}

/// Escapes `\`, `,` and `=` in a value with a backslash.
pub fn escape_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | ',' | '=') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Reverses [`escape_value`], rejecting bare `,`/`=` and unknown escapes like upstream.
pub fn unescape_value(s: &str) -> Result<String, SelectorError> {
    let mut out = String::with_capacity(s.len());
    let mut in_slash = false;
    for c in s.chars() {
        if in_slash {
            if !matches!(c, '\\' | ',' | '=') {
                let msg = format!("invalid field selector: invalid escape sequence: \\{c}");
                return Err(SelectorError(msg));
            }
            out.push(c);
            in_slash = false;
            continue;
        }
        match c {
            '\\' => in_slash = true,
            ',' | '=' => {
                let msg = format!(
                    "invalid field selector: unescaped character in value: {}",
                    u32::from(c)
                );
                return Err(SelectorError(msg));
            }
            _ => out.push(c),
        }
    }
    if in_slash {
        let msg = "invalid field selector: invalid escape sequence: \\".to_string();
        return Err(SelectorError(msg));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reqs(s: &str) -> Vec<(String, bool, String)> {
        FieldSelector::parse(s).unwrap().requirements
    }

    fn req(f: &str, eq: bool, v: &str) -> (String, bool, String) {
        (f.to_string(), eq, v.to_string())
    }

    #[test]
    fn parses_operators_and_sorts_terms() {
        assert_eq!(
            reqs("status.phase!=Running,metadata.name==web,spec.nodeName=n1"),
            vec![
                req("metadata.name", true, "web"),
                req("spec.nodeName", true, "n1"),
                req("status.phase", false, "Running"),
            ]
        );
        assert!(reqs("").is_empty());
        assert_eq!(
            reqs("a=,,b!="),
            vec![req("a", true, ""), req("b", false, "")]
        );
    }

    #[test]
    fn unescapes_commas_equals_and_backslashes() {
        assert_eq!(reqs(r"a=x\,y\=z\\w"), vec![req("a", true, r"x,y=z\w")]);
        let sel = FieldSelector {
            requirements: vec![req("a", true, r"x,y=z\w")],
        };
        assert_eq!(sel.to_string(), r"a=x\,y\=z\\w");
    }

    #[test]
    fn rejects_bad_terms_and_escapes() {
        let err = FieldSelector::parse("metadata.name").unwrap_err();
        assert_eq!(
            err.0,
            "invalid selector: 'metadata.name'; can't understand 'metadata.name'"
        );
        let err = FieldSelector::parse(r"a=b\x").unwrap_err();
        assert_eq!(
            err.0,
            r"invalid field selector: invalid escape sequence: \x"
        );
        let err = FieldSelector::parse("a=b=c").unwrap_err();
        assert_eq!(
            err.0,
            "invalid field selector: unescaped character in value: 61"
        );
        assert!(FieldSelector::parse(r"a=b\").is_err());
    }

    #[test]
    fn matches_equality_and_inequality() {
        let sel = FieldSelector::parse("spec.nodeName=n1,status.phase!=Failed").unwrap();
        assert!(sel.matches_with(|f| if f == "spec.nodeName" {
            "n1".into()
        } else {
            "Running".into()
        }));
        assert!(!sel.matches_with(|f| if f == "spec.nodeName" {
            "n1".into()
        } else {
            "Failed".into()
        }));
        assert_eq!(sel.requires_exact_match("spec.nodeName"), Some("n1"));
        assert_eq!(sel.requires_exact_match("status.phase"), None);
    }
}
