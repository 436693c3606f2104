//! Where a value sits in the decoded object, rendered only for errors and reports.

use std::fmt;

/// A position in the object being decoded, as a chain of borrowed segments.
#[derive(Debug, Clone, Copy)]
pub enum Path<'a> {
    /// The object itself.
    Root,
    /// A property of the parent.
    Field(&'a Path<'a>, &'a str),
    /// An element of the parent array.
    Index(&'a Path<'a>, usize),
    /// A value of the parent map.
    Key(&'a Path<'a>, &'a str),
}

impl Path<'_> {
    /// The path as text (`spec.containers[0].env[1]`); `<object>` for the root.
    pub fn render(&self) -> String {
        match self {
            Path::Root => "<object>".into(),
            _ => self.to_string(),
        }
    }
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root => Ok(()),
            Path::Field(Path::Root, name) => f.write_str(name),
            Path::Field(parent, name) => write!(f, "{parent}.{name}"),
            Path::Index(parent, i) => write!(f, "{parent}[{i}]"),
            Path::Key(parent, key) => write!(f, "{parent}[{key:?}]"),
        }
    }
}
