//! Format checks for names and keys, returning upstream's messages.

pub use crate::selectors::{
    is_dns1123_subdomain as dns1123_subdomain, is_label_value as label_value,
    is_qualified_name as qualified_name,
};
use crate::selectors::{length_and_format, max_len_error, regex_error};
use regex::Regex;
use std::sync::LazyLock;

const DNS1123_LABEL_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_SUBDOMAIN_FMT: &str =
    r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const DNS1123_SUBDOMAIN_UNDERSCORE_FMT: &str =
    r"_?[a-z0-9]([-_a-z0-9]*[a-z0-9])?(\._?[a-z0-9]([-_a-z0-9]*[a-z0-9])?)*";
const DNS1035_LABEL_FMT: &str = "[a-z]([-a-z0-9]*[a-z0-9])?";
const CONFIG_KEY_FMT: &str = "[-._a-zA-Z0-9]+";
const WILDCARD_FMT: &str = r"\*\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const HTTP_HEADER_FMT: &str = "[-A-Za-z0-9]+";
const PERCENT_FMT: &str = "[0-9]+%";

fn anchored(fmt: &str) -> Regex {
    Regex::new(&format!("^(?:{fmt})$")).expect("static regex")
}

static DNS1123_LABEL: LazyLock<Regex> = LazyLock::new(|| anchored(DNS1123_LABEL_FMT));
static DNS1123_SUBDOMAIN: LazyLock<Regex> = LazyLock::new(|| anchored(DNS1123_SUBDOMAIN_FMT));
static DNS1123_SUBDOMAIN_UNDERSCORE: LazyLock<Regex> =
    LazyLock::new(|| anchored(DNS1123_SUBDOMAIN_UNDERSCORE_FMT));
static DNS1035_LABEL: LazyLock<Regex> = LazyLock::new(|| anchored(DNS1035_LABEL_FMT));
static CONFIG_KEY: LazyLock<Regex> = LazyLock::new(|| anchored(CONFIG_KEY_FMT));
static WILDCARD: LazyLock<Regex> = LazyLock::new(|| anchored(WILDCARD_FMT));
static HTTP_HEADER: LazyLock<Regex> = LazyLock::new(|| anchored(HTTP_HEADER_FMT));
static PERCENT: LazyLock<Regex> = LazyLock::new(|| anchored(PERCENT_FMT));
static PORT_NAME_CHARS: LazyLock<Regex> = LazyLock::new(|| anchored("[-a-z0-9]+"));

/// `must be between LO and HI, inclusive`.
pub fn inclusive_range_error(lo: i64, hi: i64) -> String {
    format!("must be between {lo} and {hi}, inclusive")
}

/// RFC 1123 label (63 characters, lower-case alphanumerics and '-').
pub fn dns1123_label(v: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if v.len() > 63 {
        errs.push(max_len_error(63));
    }
    if !DNS1123_LABEL.is_match(v) {
        if DNS1123_SUBDOMAIN.is_match(v) {
            errs.push("must not contain dots".to_string());
        } else {
            errs.push(regex_error(
                "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
                DNS1123_LABEL_FMT,
                &["my-name", "123-abc"],
            ));
        }
    }
    errs
}

/// RFC 1123 subdomain that may also carry underscores (DNS search domains).
pub fn dns1123_subdomain_with_underscore(v: &str) -> Vec<String> {
    length_and_format(
        v,
        253,
        &DNS1123_SUBDOMAIN_UNDERSCORE,
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '_', '-' or '.', and must start and end with an alphanumeric character",
        DNS1123_SUBDOMAIN_UNDERSCORE_FMT,
        &["example.com"],
    )
}

/// RFC 1035 label (starts with a letter), used for Service names.
pub fn dns1035_label(v: &str) -> Vec<String> {
    length_and_format(
        v,
        63,
        &DNS1035_LABEL,
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character",
        DNS1035_LABEL_FMT,
        &["my-name", "abc-123"],
    )
}

/// Wildcard subdomain such as `*.example.com`.
pub fn wildcard_dns1123_subdomain(v: &str) -> Vec<String> {
    length_and_format(
        v,
        253,
        &WILDCARD,
        "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character",
        WILDCARD_FMT,
        &["*.example.com"],
    )
}

/// Key of a ConfigMap or Secret.
pub fn config_map_key(v: &str) -> Vec<String> {
    let mut errs = length_and_format(
        v,
        253,
        &CONFIG_KEY,
        "a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
        CONFIG_KEY_FMT,
        &["key.name", "KEY_NAME", "key-name"],
    );
    match v {
        "." => errs.push("must not be '.'".to_string()),
        ".." => errs.push("must not be '..'".to_string()),
        _ if v.starts_with("..") => errs.push("must not start with '..'".to_string()),
        _ => {}
    }
    errs
}

/// IANA service name used for port names (15 characters, at least one letter).
pub fn port_name(v: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if v.len() > 15 {
        errs.push(max_len_error(15));
    }
    if !PORT_NAME_CHARS.is_match(v) {
        errs.push(
            "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".to_string(),
        );
    }
    if !v.bytes().any(|b| b.is_ascii_lowercase()) {
        errs.push("must contain at least one letter (a-z)".to_string());
    }
    if v.contains("--") {
        errs.push("must not contain consecutive hyphens".to_string());
    }
    if v.starts_with('-') || v.ends_with('-') {
        errs.push("must not begin or end with a hyphen".to_string());
    }
    errs
}

/// Port number 1–65535.
pub fn port_num(p: i64) -> Vec<String> {
    if (1..=65535).contains(&p) {
        Vec::new()
    } else {
        vec![inclusive_range_error(1, 65535)]
    }
}

/// Environment variable name under the relaxed (v1.32+) rules.
pub fn env_var_name(v: &str) -> Vec<String> {
    if v.is_empty() {
        return vec!["environment variable name must be non-empty".to_string()];
    }
    if v.chars().any(|c| !(' '..='~').contains(&c) || c == '=') {
        return vec!["a valid environment variable name must consist only of printable ASCII characters other than '='".to_string()];
    }
    Vec::new()
}

/// Name usable as a single URL path segment (RBAC objects).
pub fn path_segment_name(v: &str) -> Vec<String> {
    if v == "." || v == ".." {
        return vec![format!("may not be '{v}'")];
    }
    ["/", "%"]
        .iter()
        .filter(|c| v.contains(**c))
        .map(|c| format!("may not contain '{c}'"))
        .collect()
}

/// HTTP header field name.
pub fn http_header_name(v: &str) -> Vec<String> {
    if HTTP_HEADER.is_match(v) {
        return Vec::new();
    }
    vec![regex_error(
        "a valid HTTP header must consist of alphanumeric characters or '-'",
        HTTP_HEADER_FMT,
        &["X-Header-Name"],
    )]
}

/// Percentage string such as `25%`.
pub fn percent(v: &str) -> Vec<String> {
    if PERCENT.is_match(v) {
        return Vec::new();
    }
    vec![regex_error(
        "a valid percent string must be a numeric string followed by an ending '%'",
        PERCENT_FMT,
        &["1%", "93%"],
    )]
}

/// How a kind's `metadata.name` is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameRule {
    /// RFC 1123 subdomain (most kinds).
    Subdomain,
    /// RFC 1123 label (Namespace, StatefulSet).
    Label,
    /// RFC 1035 label (Service).
    Dns1035,
    /// Path segment (RBAC kinds).
    PathSegment,
}

impl NameRule {
    /// The messages for an invalid name; `prefix` is for `generateName`, which may end in '-'.
    pub fn check(self, name: &str, prefix: bool) -> Vec<String> {
        let masked;
        let name = if prefix && name.len() > 1 && name.ends_with('-') {
            masked = format!("{}a", &name[..name.len() - 2]);
            masked.as_str()
        } else {
            name
        };
        match self {
            NameRule::Subdomain => dns1123_subdomain(name),
            NameRule::Label => dns1123_label(name),
            NameRule::Dns1035 => dns1035_label(name),
            NameRule::PathSegment => path_segment_name(name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subdomain_message_matches_upstream() {
        assert!(dns1123_subdomain("example.com").is_empty());
        assert_eq!(
            dns1123_subdomain("Bad_Name"),
            vec!["a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"]
        );
        assert_eq!(
            dns1123_subdomain(&"a".repeat(254))[0],
            "must be no more than 253 characters"
        );
    }

    #[test]
    fn label_rejects_dots_with_its_own_message() {
        assert_eq!(dns1123_label("a.b"), vec!["must not contain dots"]);
        assert!(dns1123_label("my-name").is_empty());
        assert!(dns1123_label("-x")[0].starts_with("a lowercase RFC 1123 label must consist"));
        assert!(dns1123_label("-x")[0].contains("(e.g. 'my-name',  or '123-abc', regex used"));
        assert!(dns1035_label("1abc")[0].starts_with("a DNS-1035 label"));
    }

    #[test]
    fn qualified_names_check_prefix_and_name() {
        assert!(qualified_name("app.kubernetes.io/name").is_empty());
        assert_eq!(qualified_name("/x"), vec!["prefix part must be non-empty"]);
        assert!(qualified_name("a/b/c")[0].starts_with("a qualified name must consist"));
        assert!(qualified_name("x/-bad")[0].starts_with("name part must consist"));
        assert_eq!(qualified_name("x/"), vec!["name part must be non-empty", "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"]);
    }

    #[test]
    fn label_values_and_keys() {
        assert!(label_value("").is_empty());
        assert!(label_value("a_b.c").is_empty());
        assert_eq!(
            label_value(&"a".repeat(64))[0],
            "must be no more than 63 characters"
        );
        assert!(config_map_key("a.b").is_empty());
        assert_eq!(config_map_key("..a"), vec!["must not start with '..'"]);
        assert!(config_map_key("a b")[0].starts_with("a valid config key"));
    }

    #[test]
    fn port_names_follow_iana_rules() {
        assert!(port_name("http").is_empty());
        assert_eq!(
            port_name("123"),
            vec!["must contain at least one letter (a-z)"]
        );
        assert_eq!(
            port_name("a--b"),
            vec!["must not contain consecutive hyphens"]
        );
        assert_eq!(
            port_name("abcdefghijklmnop"),
            vec!["must be no more than 15 characters"]
        );
        assert_eq!(port_num(0), vec!["must be between 1 and 65535, inclusive"]);
    }

    #[test]
    fn search_domains_may_carry_underscores() {
        assert!(dns1123_subdomain_with_underscore("_srv.example.com").is_empty());
        assert!(!dns1123_subdomain_with_underscore("Example.com").is_empty());
    }

    #[test]
    fn env_names_are_printable_ascii_without_equals() {
        assert!(env_var_name("MY VAR").is_empty());
        assert!(!env_var_name("A=B").is_empty());
        assert!(!env_var_name("").is_empty());
    }

    #[test]
    fn generate_name_may_end_with_dash() {
        assert!(NameRule::Subdomain.check("web-", true).is_empty());
        assert!(!NameRule::Subdomain.check("web-", false).is_empty());
        assert_eq!(
            NameRule::PathSegment.check("a/b", false),
            vec!["may not contain '/'"]
        );
    }
}
