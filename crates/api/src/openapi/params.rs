//! Request parameters of the served operations, with upstream's names, types and meanings.

/// Where a parameter travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum In {
    /// A path segment (`{name}`, `{namespace}`).
    Path,
    /// A query parameter.
    Query,
}

/// The JSON type of a parameter's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Type {
    String,
    Boolean,
    Integer,
}

impl Type {
    pub(super) const fn as_str(self) -> &'static str {
        match self {
            Type::String => "string",
            Type::Boolean => "boolean",
            Type::Integer => "integer",
        }
    }
}

/// One parameter.
#[derive(Debug, Clone)]
pub(super) struct Param {
    pub name: &'static str,
    pub location: In,
    pub kind: Type,
    pub description: String,
}

const fn query(
    name: &'static str,
    kind: Type,
    description: &'static str,
) -> (&'static str, Type, &'static str) {
    (name, kind, description)
}

const QUERY: &[(&str, Type, &str)] = &[
    query("allowWatchBookmarks", Type::Boolean, "allowWatchBookmarks requests watch events with type \"BOOKMARK\". Servers that do not implement bookmarks may ignore this flag and bookmarks are sent at the server's discretion. If this is not a watch, this field is ignored."),
    query("continue", Type::String, "The continue option should be set when retrieving more results from the server. Since this value is server defined, clients may only use the continue value from a previous query result with identical query parameters (except for the value of continue)."),
    query("dryRun", Type::String, "When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed"),
    query("fieldManager", Type::String, "fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint."),
    query("fieldSelector", Type::String, "A selector to restrict the list of returned objects by their fields. Defaults to everything."),
    query("fieldValidation", Type::String, "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown fields that are silently dropped from the object, and will ignore all but the last duplicate field that the decoder encounters. This is the default behavior prior to v1.23. - Warn: This will send a warning via the standard warning response header for each unknown field that is dropped from the object, and for each duplicate field that is encountered. The request will still succeed if there are no other errors, and will only persist the last of any duplicate fields. This is the default in v1.23+ - Strict: This will fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any duplicate fields are present. The error returned from the server will contain all unknown and duplicate fields encountered."),
    query("force", Type::Boolean, "Force is going to \"force\" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests."),
    query("gracePeriodSeconds", Type::Integer, "The duration in seconds before the object should be deleted. Value must be non-negative integer. The value zero indicates delete immediately. If this value is nil, the default grace period for the specified type will be used. Defaults to a per object value if not specified. zero means delete immediately."),
    query("ignoreStoreReadErrorWithClusterBreakingPotential", Type::Boolean, "if set to true, it will trigger an unsafe deletion of the resource in case the normal deletion flow fails with a corrupt object error. A resource is considered corrupt if it can not be retrieved from the underlying storage successfully because of a) its data can not be transformed e.g. decryption failure, or b) it fails to decode into an object. NOTE: unsafe deletion ignores finalizer constraints, skips precondition checks, and removes the object from the storage. WARNING: This may potentially break the cluster if the workload associated with the resource being unsafe-deleted relies on normal deletion flow. Use only if you REALLY know what you are doing. The default value is false, and the user must opt in to enable it"),
    query("labelSelector", Type::String, "A selector to restrict the list of returned objects by their labels. Defaults to everything."),
    query("limit", Type::Integer, "limit is a maximum number of responses to return for a list call. If more items exist, the server will set the `continue` field on the list metadata to a value that can be used with the same initial query to retrieve the next set of results."),
    query("orphanDependents", Type::Boolean, "Deprecated: please use the PropagationPolicy, this field will be deprecated in 1.7. Should the dependent objects be orphaned. If true/false, the \"orphan\" finalizer will be added to/removed from the object's finalizers list. Either this field or PropagationPolicy may be set, but not both."),
    query("pretty", Type::String, "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent indicates a browser or command-line HTTP tool (curl and wget)."),
    query("propagationPolicy", Type::String, "Whether and how garbage collection will be performed. Either this field or OrphanDependents may be set, but not both. The default policy is decided by the existing finalizer set in the metadata.finalizers and the resource-specific default policy. Acceptable values are: 'Orphan' - orphan the dependents; 'Background' - allow the garbage collector to delete the dependents in the background; 'Foreground' - a cascading policy that deletes all dependents in the foreground."),
    query("resourceVersion", Type::String, "resourceVersion sets a constraint on what resource versions a request may be served from. See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset"),
    query("resourceVersionMatch", Type::String, "resourceVersionMatch determines how resourceVersion is applied to list calls. It is highly recommended that resourceVersionMatch be set for list calls where resourceVersion is set See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset"),
    query("sendInitialEvents", Type::Boolean, "`sendInitialEvents=true` may be set together with `watch=true`. In that case, the watch stream will begin with synthetic events to produce the current state of objects in the collection. Once all such events have been sent, a synthetic \"Bookmark\" event will be sent."),
    query("timeoutSeconds", Type::Integer, "Timeout for the list/watch call. This limits the duration of the call, regardless of any activity or inactivity."),
    query("watch", Type::Boolean, "Watch for changes to the described resources and return them as a stream of add, update, and remove notifications. Specify resourceVersion."),
    query("container", Type::String, "The container for which to stream logs or run the command. Defaults to only container if there is one container in the pod."),
    query("follow", Type::Boolean, "Follow the log stream of the pod. Defaults to false."),
    query("limitBytes", Type::Integer, "If set, the number of bytes to read from the server before terminating the log output."),
    query("previous", Type::Boolean, "Return previous terminated container logs. Defaults to false."),
    query("sinceSeconds", Type::Integer, "A relative time in seconds before the current time from which to show logs."),
    query("tailLines", Type::Integer, "If set, the number of lines from the end of the logs to show."),
    query("timestamps", Type::Boolean, "If true, add an RFC3339 or RFC3339Nano timestamp at the beginning of every line of log output. Defaults to false."),
    query("command", Type::String, "Command is the remote command to execute. argv array. Not executed within a shell."),
    query("stdin", Type::Boolean, "Redirect the standard input stream of the pod for this call. Defaults to false."),
    query("stdout", Type::Boolean, "Redirect the standard output stream of the pod for this call."),
    query("stderr", Type::Boolean, "Redirect the standard error stream of the pod for this call."),
    query("tty", Type::Boolean, "TTY if true indicates that a tty will be allocated for the call. Defaults to false."),
    query("ports", Type::Integer, "List of ports to forward."),
];

/// A query parameter by name.
pub(super) fn query_param(name: &'static str) -> Param {
    let (kind, description) = QUERY
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, k, d)| (*k, *d))
        .unwrap_or((Type::String, ""));
    Param {
        name,
        location: In::Query,
        kind,
        description: description.to_string(),
    }
}

/// Query parameters by name, in order.
pub(super) fn query_params(names: &[&'static str]) -> Vec<Param> {
    names.iter().map(|n| query_param(n)).collect()
}

/// The `{name}` path parameter of a kind's objects.
pub(super) fn name_param(kind: &str) -> Param {
    Param {
        name: "name",
        location: In::Path,
        kind: Type::String,
        description: format!("name of the {kind}"),
    }
}

/// The `{namespace}` path parameter.
pub(super) fn namespace_param() -> Param {
    Param {
        name: "namespace",
        location: In::Path,
        kind: Type::String,
        description: "object name and auth scope, such as for teams and projects".into(),
    }
}

/// Parameters of list (and watch) operations.
pub(super) const LIST: &[&str] = &[
    "allowWatchBookmarks",
    "continue",
    "fieldSelector",
    "labelSelector",
    "limit",
    "pretty",
    "resourceVersion",
    "resourceVersionMatch",
    "sendInitialEvents",
    "timeoutSeconds",
    "watch",
];
/// Parameters of create and replace operations.
pub(super) const WRITE: &[&str] = &["dryRun", "fieldManager", "fieldValidation", "pretty"];
/// Parameters of patch operations.
pub(super) const PATCH: &[&str] = &[
    "dryRun",
    "fieldManager",
    "fieldValidation",
    "force",
    "pretty",
];
/// Parameters of delete operations.
pub(super) const DELETE: &[&str] = &[
    "dryRun",
    "gracePeriodSeconds",
    "ignoreStoreReadErrorWithClusterBreakingPotential",
    "orphanDependents",
    "pretty",
    "propagationPolicy",
];
/// Parameters of delete-collection operations.
pub(super) const DELETE_COLLECTION: &[&str] = &[
    "continue",
    "dryRun",
    "fieldSelector",
    "gracePeriodSeconds",
    "ignoreStoreReadErrorWithClusterBreakingPotential",
    "labelSelector",
    "limit",
    "orphanDependents",
    "pretty",
    "propagationPolicy",
    "resourceVersion",
    "resourceVersionMatch",
    "sendInitialEvents",
    "timeoutSeconds",
];
/// Parameters of read operations.
pub(super) const READ: &[&str] = &["pretty"];
/// Parameters of `pods/log`.
pub(super) const LOG: &[&str] = &[
    "container",
    "follow",
    "limitBytes",
    "pretty",
    "previous",
    "sinceSeconds",
    "tailLines",
    "timestamps",
];
/// Parameters of `pods/exec`.
pub(super) const EXEC: &[&str] = &["command", "container", "stderr", "stdin", "stdout", "tty"];
/// Parameters of `pods/attach`.
pub(super) const ATTACH: &[&str] = &["container", "stderr", "stdin", "stdout", "tty"];
/// Parameters of `pods/portforward`.
pub(super) const PORT_FORWARD: &[&str] = &["ports"];
