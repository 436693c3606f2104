//! Field errors, shaped like upstream's `field.Error`, that become `Invalid` status causes.

use serde_json::Value;

/// What is wrong with a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    /// A required field is missing.
    Required,
    /// The value is malformed or out of range.
    Invalid,
    /// The value is not one of the allowed values.
    NotSupported,
    /// The value duplicates another in a set.
    Duplicate,
    /// The field may not be set or changed.
    Forbidden,
    /// The value is too long.
    TooLong,
    /// A list has too many items.
    TooMany,
    /// A referenced value does not exist.
    NotFound,
}

impl ErrorType {
    /// The `reason` of a status cause (`FieldValueRequired`, …).
    pub const fn reason(self) -> &'static str {
        match self {
            ErrorType::Required => "FieldValueRequired",
            ErrorType::Invalid => "FieldValueInvalid",
            ErrorType::NotSupported => "FieldValueNotSupported",
            ErrorType::Duplicate => "FieldValueDuplicate",
            ErrorType::Forbidden => "FieldValueForbidden",
            ErrorType::TooLong => "FieldValueTooLong",
            ErrorType::TooMany => "FieldValueTooMany",
            ErrorType::NotFound => "FieldValueNotFound",
        }
    }

    /// The leading words of the message (`Required value`, `Invalid value`, …).
    pub const fn label(self) -> &'static str {
        match self {
            ErrorType::Required => "Required value",
            ErrorType::Invalid => "Invalid value",
            ErrorType::NotSupported => "Unsupported value",
            ErrorType::Duplicate => "Duplicate value",
            ErrorType::Forbidden => "Forbidden",
            ErrorType::TooLong => "Too long",
            ErrorType::TooMany => "Too many",
            ErrorType::NotFound => "Not found",
        }
    }
}

/// One invalid field, with its path (`spec.template.spec.containers[0].name`).
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    /// What is wrong.
    pub kind: ErrorType,
    /// The field path, dotted with `[i]` and `[key]` subscripts.
    pub field: String,
    /// The offending value, when the message shows it.
    pub value: Option<Value>,
    /// Free-text explanation.
    pub detail: String,
}

impl FieldError {
    /// A missing required field.
    pub fn required(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(ErrorType::Required, field, None, detail)
    }

    /// A malformed value.
    pub fn invalid(field: impl Into<String>, value: Value, detail: impl Into<String>) -> Self {
        Self::new(ErrorType::Invalid, field, Some(value), detail)
    }

    /// A value outside the supported set.
    pub fn not_supported(field: impl Into<String>, value: Value, supported: &[&str]) -> Self {
        let list: Vec<String> = supported.iter().map(|s| format!("{s:?}")).collect();
        let detail = if list.is_empty() {
            String::new()
        } else {
            format!("supported values: {}", list.join(", "))
        };
        Self::new(ErrorType::NotSupported, field, Some(value), detail)
    }

    /// A duplicate in a set.
    pub fn duplicate(field: impl Into<String>, value: Value) -> Self {
        Self::new(ErrorType::Duplicate, field, Some(value), "")
    }

    /// A field that may not be set or changed.
    pub fn forbidden(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(ErrorType::Forbidden, field, None, detail)
    }

    /// A value that is too long (`max` bytes or items).
    pub fn too_long(field: impl Into<String>, max: usize) -> Self {
        Self::new(
            ErrorType::TooLong,
            field,
            None,
            format!("may not be more than {max} bytes"),
        )
    }

    /// Any kind of field error.
    pub fn new(
        kind: ErrorType,
        field: impl Into<String>,
        value: Option<Value>,
        detail: impl Into<String>,
    ) -> Self {
        FieldError {
            kind,
            field: field.into(),
            value,
            detail: detail.into(),
        }
    }

    /// The message without the field path, as in a status cause's `message`.
    pub fn body(&self) -> String {
        let mut s = self.kind.label().to_string();
        let shows_value = !matches!(
            self.kind,
            ErrorType::Required | ErrorType::Forbidden | ErrorType::TooLong
        );
        if shows_value {
            if let Some(v) = &self.value {
                s.push_str(": ");
                s.push_str(&go_value(v));
            }
        }
        if !self.detail.is_empty() {
            s.push_str(": ");
            s.push_str(&self.detail);
        }
        s
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.body())
    }
}

/// Renders a value the way upstream's messages print it: strings quoted, numbers bare.
fn go_value(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Object(m) => {
            let items: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{k:?}:{}", go_value(v)))
                .collect();
            format!("map[string]string{{{}}}", items.join(", "))
        }
        Value::Array(a) => {
            let items: Vec<String> = a.iter().map(go_value).collect();
            format!("[]string{{{}}}", items.join(", "))
        }
    }
}

/// The `Kind.group "name" is invalid: …` message upstream gives for a list of field errors.
pub fn invalid_message(group_kind: &str, name: &str, errors: &[FieldError]) -> String {
    let joined = if errors.len() == 1 {
        errors[0].to_string()
    } else {
        let parts: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        format!("[{}]", parts.join(", "))
    };
    format!("{group_kind} {name:?} is invalid: {joined}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn required_shows_no_value() {
        let e = FieldError::required("spec.selector", "");
        assert_eq!(e.to_string(), "spec.selector: Required value");
        assert_eq!(e.kind.reason(), "FieldValueRequired");
    }

    #[test]
    fn invalid_quotes_strings_and_appends_detail() {
        let e = FieldError::invalid(
            "metadata.name",
            json!("A_b"),
            "a lowercase RFC 1123 subdomain",
        );
        assert_eq!(
            e.body(),
            "Invalid value: \"A_b\": a lowercase RFC 1123 subdomain"
        );
    }

    #[test]
    fn one_error_is_not_bracketed_and_many_are() {
        let a = FieldError::required("spec.a", "");
        let b = FieldError::required("spec.b", "");
        assert_eq!(
            invalid_message("Deployment.apps", "x", std::slice::from_ref(&a)),
            "Deployment.apps \"x\" is invalid: spec.a: Required value"
        );
        assert_eq!(
            invalid_message("Pod", "x", &[a, b]),
            "Pod \"x\" is invalid: [spec.a: Required value, spec.b: Required value]"
        );
    }
}
