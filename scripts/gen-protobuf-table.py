#!/usr/bin/env python3
"""Generates crates/api/src/protobuf/messages.json, the protobuf field table.

Reads the prost code of the k8s-pb crate (Kubernetes' generated.proto files compiled
by prost) from the cargo registry, keeps the messages reachable from the kinds Skiff
serves (crates/api/src/catalogue.rs RESOURCES) plus the subresource and meta kinds
clients send, and writes one line per message:

    "io.k8s.api.core.v1.ServicePort": [[tag, "prost_name", "kind", "flags"], ...]

kind is a scalar (string, bytes, bool, int32, int64, uint32, uint64, double, float),
"m:<message>" or "map:<key kind>:<value kind>"; flags holds "r" (repeated), "p" (a Go
pointer scalar: its zero value was set on purpose) and "i" (a Go struct embedded with
`json:",inline"`). Message names are the OpenAPI definition names in k8s-openapi's
spelling (prost's `AwsElasticBlockStoreVolumeSource` is `AWSElasticBlockStoreVolumeSource`).
JSON property names are not stored: the decoder takes them from the schemas at run time.

k8s-pb is not a dependency of the workspace; put it in the registry once with a scratch
crate (`k8s-pb = "=0.9.0"`, `cargo fetch`), then run from anywhere:

    python3 scripts/gen-protobuf-table.py
"""

import glob
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "crates/api/src/protobuf/messages.json")
REGISTRY = os.path.expanduser("~/.cargo/registry/src/*/")
K8S_PB = "k8s-pb-0.9.0/src"
K8S_OPENAPI = "k8s-openapi-0.29.*/src/v1_33"

META = "io.k8s.apimachinery.pkg.apis.meta.v1."
# Kinds clients send besides the served resources.
EXTRA_ROOTS = [
    "io.k8s.api.policy.v1.Eviction",
    "io.k8s.api.autoscaling.v1.Scale",
    "io.k8s.api.core.v1.Binding",
    "io.k8s.api.authentication.v1.TokenRequest",
    META + "DeleteOptions",
    META + "Status",
]

# Go pointer scalars (`*int32`, `*bool`, `*string`, …) by message, in JSON spelling,
# from staging/src/k8s.io/api/*/v1/types.go and apimachinery meta/v1/types.go (v1.33).
# Every other optional scalar is a non-pointer `omitempty` field whose zero value gogo
# writes anyway and a JSON client would leave out.
POINTERS = {
    META + "ObjectMeta": "deletionGracePeriodSeconds",
    META + "OwnerReference": "controller blockOwnerDeletion",
    META + "DeleteOptions": "gracePeriodSeconds orphanDependents propagationPolicy"
    " ignoreStoreReadErrorWithClusterBreakingPotential",
    META + "Preconditions": "uid resourceVersion",
    "io.k8s.api.core.v1.PodSpec": "terminationGracePeriodSeconds activeDeadlineSeconds"
    " automountServiceAccountToken shareProcessNamespace priority enableServiceLinks"
    " preemptionPolicy runtimeClassName setHostnameAsFQDN hostUsers hostnameOverride",
    "io.k8s.api.core.v1.PodSecurityContext": "runAsUser runAsGroup runAsNonRoot fsGroup"
    " fsGroupChangePolicy supplementalGroupsPolicy seLinuxChangePolicy",
    "io.k8s.api.core.v1.SecurityContext": "privileged runAsUser runAsGroup runAsNonRoot"
    " readOnlyRootFilesystem allowPrivilegeEscalation procMount",
    "io.k8s.api.core.v1.WindowsSecurityContextOptions": "gmsaCredentialSpecName"
    " gmsaCredentialSpec runAsUserName hostProcess",
    "io.k8s.api.core.v1.SeccompProfile": "localhostProfile",
    "io.k8s.api.core.v1.AppArmorProfile": "localhostProfile",
    "io.k8s.api.core.v1.Container": "restartPolicy",
    "io.k8s.api.core.v1.EphemeralContainerCommon": "restartPolicy",
    "io.k8s.api.core.v1.Lifecycle": "stopSignal",
    "io.k8s.api.core.v1.Probe": "terminationGracePeriodSeconds",
    "io.k8s.api.core.v1.GRPCAction": "service",
    "io.k8s.api.core.v1.VolumeMount": "mountPropagation recursiveReadOnly",
    "io.k8s.api.core.v1.Toleration": "tolerationSeconds",
    "io.k8s.api.core.v1.TopologySpreadConstraint": "minDomains nodeAffinityPolicy"
    " nodeTaintsPolicy",
    "io.k8s.api.core.v1.PodDNSConfigOption": "value",
    "io.k8s.api.core.v1.ConfigMapKeySelector": "optional",
    "io.k8s.api.core.v1.SecretKeySelector": "optional",
    "io.k8s.api.core.v1.ConfigMapEnvSource": "optional",
    "io.k8s.api.core.v1.SecretEnvSource": "optional",
    "io.k8s.api.core.v1.ConfigMapVolumeSource": "defaultMode optional",
    "io.k8s.api.core.v1.SecretVolumeSource": "defaultMode optional",
    "io.k8s.api.core.v1.ConfigMapProjection": "optional",
    "io.k8s.api.core.v1.SecretProjection": "optional",
    "io.k8s.api.core.v1.FileKeySelector": "optional",
    "io.k8s.api.core.v1.KeyToPath": "mode",
    "io.k8s.api.core.v1.ProjectedVolumeSource": "defaultMode",
    "io.k8s.api.core.v1.DownwardAPIVolumeSource": "defaultMode",
    "io.k8s.api.core.v1.DownwardAPIVolumeFile": "mode",
    "io.k8s.api.core.v1.ServiceAccountTokenProjection": "expirationSeconds",
    "io.k8s.api.core.v1.PodCertificateProjection": "maxExpirationSeconds",
    "io.k8s.api.core.v1.AzureFilePersistentVolumeSource": "secretNamespace",
    "io.k8s.api.core.v1.GlusterfsPersistentVolumeSource": "endpointsNamespace",
    "io.k8s.api.core.v1.ClusterTrustBundleProjection": "name signerName optional",
    "io.k8s.api.core.v1.HostPathVolumeSource": "type",
    "io.k8s.api.core.v1.CSIVolumeSource": "readOnly fsType",
    "io.k8s.api.core.v1.AzureDiskVolumeSource": "cachingMode fsType readOnly kind",
    "io.k8s.api.core.v1.FCVolumeSource": "lun",
    "io.k8s.api.core.v1.ISCSIVolumeSource": "initiatorName",
    "io.k8s.api.core.v1.ISCSIPersistentVolumeSource": "initiatorName",
    "io.k8s.api.core.v1.LocalVolumeSource": "fsType",
    "io.k8s.api.core.v1.PersistentVolumeClaimSpec": "storageClassName volumeMode"
    " volumeAttributesClassName",
    "io.k8s.api.core.v1.PersistentVolumeSpec": "volumeMode volumeAttributesClassName",
    "io.k8s.api.core.v1.TypedLocalObjectReference": "apiGroup",
    "io.k8s.api.core.v1.TypedObjectReference": "apiGroup namespace",
    "io.k8s.api.core.v1.ReplicationControllerSpec": "replicas",
    "io.k8s.api.core.v1.ServiceSpec": "allocateLoadBalancerNodePorts ipFamilyPolicy"
    " loadBalancerClass internalTrafficPolicy trafficDistribution",
    "io.k8s.api.core.v1.ServicePort": "appProtocol",
    "io.k8s.api.core.v1.ClientIPConfig": "timeoutSeconds",
    "io.k8s.api.core.v1.ServiceAccount": "automountServiceAccountToken",
    "io.k8s.api.core.v1.Secret": "immutable",
    "io.k8s.api.core.v1.ConfigMap": "immutable",
    "io.k8s.api.core.v1.EndpointPort": "appProtocol",
    "io.k8s.api.core.v1.EndpointAddress": "nodeName",
    "io.k8s.api.core.v1.ContainerStatus": "started stopSignal",
    "io.k8s.api.core.v1.VolumeMountStatus": "recursiveReadOnly",
    "io.k8s.api.core.v1.PersistentVolumeClaimStatus": "currentVolumeAttributesClassName",
    "io.k8s.api.core.v1.PodResourceClaimStatus": "resourceClaimName",
    "io.k8s.api.core.v1.LoadBalancerIngress": "ipMode",
    "io.k8s.api.core.v1.NodeSwapStatus": "capacity",
    "io.k8s.api.core.v1.NodeFeatures": "supplementalGroupsPolicy",
    "io.k8s.api.core.v1.NodeRuntimeHandlerFeatures": "recursiveReadOnlyMounts userNamespaces",
    "io.k8s.api.apps.v1.DeploymentStatus": "terminatingReplicas",
    "io.k8s.api.apps.v1.ReplicaSetStatus": "terminatingReplicas",
    "io.k8s.api.batch.v1.JobStatus": "terminating ready",
    META + "ListMeta": "remainingItemCount",
    "io.k8s.api.core.v1.PodResourceClaim": "resourceClaimName resourceClaimTemplateName",
    "io.k8s.api.apps.v1.DeploymentSpec": "replicas revisionHistoryLimit progressDeadlineSeconds",
    "io.k8s.api.apps.v1.ReplicaSetSpec": "replicas",
    "io.k8s.api.apps.v1.StatefulSetSpec": "replicas revisionHistoryLimit",
    "io.k8s.api.apps.v1.RollingUpdateStatefulSetStrategy": "partition",
    "io.k8s.api.apps.v1.DaemonSetSpec": "revisionHistoryLimit",
    "io.k8s.api.batch.v1.JobSpec": "parallelism completions activeDeadlineSeconds backoffLimit"
    " backoffLimitPerIndex maxFailedIndexes manualSelector ttlSecondsAfterFinished"
    " completionMode suspend podReplacementPolicy managedBy",
    "io.k8s.api.batch.v1.PodFailurePolicyOnExitCodesRequirement": "containerName",
    "io.k8s.api.batch.v1.SuccessPolicyRule": "succeededIndexes succeededCount",
    "io.k8s.api.batch.v1.CronJobSpec": "timeZone startingDeadlineSeconds suspend"
    " successfulJobsHistoryLimit failedJobsHistoryLimit",
    "io.k8s.api.coordination.v1.LeaseSpec": "holderIdentity leaseDurationSeconds"
    " leaseTransitions strategy preferredHolder",
    "io.k8s.api.discovery.v1.Endpoint": "hostname nodeName zone",
    "io.k8s.api.discovery.v1.EndpointConditions": "ready serving terminating",
    "io.k8s.api.discovery.v1.EndpointPort": "name protocol port appProtocol",
    "io.k8s.api.networking.v1.IngressSpec": "ingressClassName",
    "io.k8s.api.networking.v1.HTTPIngressPath": "pathType",
    "io.k8s.api.networking.v1.IngressClassParametersReference": "apiGroup scope namespace",
    "io.k8s.api.networking.v1.NetworkPolicyPort": "protocol endPort",
    "io.k8s.api.policy.v1.PodDisruptionBudgetSpec": "unhealthyPodEvictionPolicy",
    "io.k8s.api.scheduling.v1.PriorityClass": "preemptionPolicy",
    "io.k8s.api.storage.v1.StorageClass": "reclaimPolicy allowVolumeExpansion volumeBindingMode",
    "io.k8s.api.authentication.v1.TokenRequestSpec": "expirationSeconds",
}

# Go structs embedded with `json:",inline"`: their fields belong to the parent object.
INLINE = {
    "io.k8s.api.core.v1.ConfigMapEnvSource": "localObjectReference",
    "io.k8s.api.core.v1.ConfigMapKeySelector": "localObjectReference",
    "io.k8s.api.core.v1.ConfigMapProjection": "localObjectReference",
    "io.k8s.api.core.v1.ConfigMapVolumeSource": "localObjectReference",
    "io.k8s.api.core.v1.SecretEnvSource": "localObjectReference",
    "io.k8s.api.core.v1.SecretKeySelector": "localObjectReference",
    "io.k8s.api.core.v1.SecretProjection": "localObjectReference",
    "io.k8s.api.core.v1.EphemeralContainer": "ephemeralContainerCommon",
    "io.k8s.api.core.v1.PersistentVolumeSpec": "persistentVolumeSource",
    "io.k8s.api.core.v1.Volume": "volumeSource",
    "io.k8s.api.core.v1.Probe": "handler",
    "io.k8s.api.networking.v1.IngressRule": "ingressRuleValue",
}

# OpenAPI definition names by their lowercase form, filled from k8s-openapi.
SPELLED = {}

SCALARS = {"string", "bytes", "bool", "int32", "int64", "uint32", "uint64", "double", "float"}


def registry_dir(pattern):
    found = sorted(glob.glob(os.path.join(REGISTRY, pattern)))
    if not found:
        sys.exit(f"not in the cargo registry: {pattern}")
    return found[-1]


def openapi_names():
    """Every definition name k8s-openapi spells, keyed by its lowercase form."""
    names = {}
    for path in glob.glob(os.path.join(registry_dir(K8S_OPENAPI), "**/*.rs"), recursive=True):
        with open(path) as f:
            for name in re.findall(r'"(io\.k8s\.[A-Za-z0-9_.]+)"', f.read()):
                names[name.lower()] = name
    return names


def resolve(module, path):
    """The definition name of a prost type path seen from a module (list of parts)."""
    parts = path.split("::")
    base = list(module)
    while parts and parts[0] == "super":
        parts.pop(0)
        base.pop()
    name = "io.k8s." + ".".join(base + parts)
    return SPELLED.get(name.lower(), name)


def message_type(ty):
    """The message named last in a Rust field type (`Option<super::…::ObjectMeta>`)."""
    paths = re.findall(r"(?:\w+::)*[A-Z]\w*", ty)
    return [p for p in paths if p.split("::")[-1] not in ("Option", "Vec", "Box", "BTreeMap", "String")][-1]


FIELD = re.compile(r"#\[prost\(([^\]]*)\)\]\s*pub (?:r#)?(\w+):\s*([^;]*?),\n(?=\s*(?:///|#\[|\}))", re.S)


def parse_module(path, module):
    with open(path) as f:
        text = f.read()
    messages = {}
    for m in re.finditer(r"pub struct (\w+) \{\n(.*?)\n\}", text, re.S):
        fields = []
        body = m.group(2) + "\n}"
        for attr, name, ty in FIELD.findall(body):
            tag = int(re.search(r'tag = "(\d+)"', attr).group(1))
            head = attr.split(",")[0].strip()
            flags = "r" if "repeated" in attr else ""
            if head.startswith(("btree_map", "map")):
                key, value = re.search(r'map = "(\w+), (\w+)"', attr).groups()
                if value == "message":
                    value = "m:" + resolve(module, message_type(ty))
                kind = f"map:{key}:{value}"
            elif head == "message":
                kind = "m:" + resolve(module, message_type(ty))
            else:
                kind = head.split("=")[0].strip()
                if kind not in SCALARS:
                    sys.exit(f"unknown prost kind {attr} in {path}")
            fields.append([tag, name, kind, flags])
        messages[resolve(module, m.group(1))] = fields
    return messages


def load_all():
    src = registry_dir(K8S_PB)
    messages = {}
    for path in glob.glob(os.path.join(src, "**/mod.rs"), recursive=True):
        module = os.path.relpath(os.path.dirname(path), src).split(os.sep)
        messages.update(parse_module(path, module))
    return messages


def roots():
    with open(os.path.join(ROOT, "crates/api/src/catalogue.rs")) as f:
        served = re.findall(r'rt!\(\s*"([^"]*)",\s*"(\w+)",\s*"(\w+)"', f.read())
    names = []
    for group, version, kind in served:
        package = group.split(".")[0] or "core"
        names.append(f"io.k8s.api.{package}.{version}.{kind}")
    return names + EXTRA_ROOTS


def mark(messages, names, flag, fits):
    """Adds a flag to the listed fields (JSON spelling), checking each exists and fits."""
    for name, json_names in names.items():
        if name not in messages:
            sys.exit(f"{flag} list names an unreachable message {name}")
        fields = {f[1].replace("_", ""): f for f in messages[name]}
        for json_name in json_names.split():
            field = fields.get(json_name.lower())
            if field is None or not fits(field[2]):
                sys.exit(f"{flag} list names no such field {name}.{json_name}")
            field[3] += flag


def main():
    SPELLED.update(openapi_names())
    messages = load_all()
    keep, todo = {}, roots()
    while todo:
        name = todo.pop()
        if name in keep:
            continue
        if name not in messages:
            sys.exit(f"no prost message for {name}")
        keep[name] = messages[name]
        todo.extend(k[k.index("m:") + 2:] for _, _, k, _ in keep[name] if "m:" in k)
    mark(keep, POINTERS, "p", lambda kind: kind in SCALARS)
    mark(keep, INLINE, "i", lambda kind: kind.startswith("m:"))
    lines = [f"{json.dumps(n)}: {json.dumps(keep[n], separators=(',', ':'))}" for n in sorted(keep)]
    with open(OUT, "w") as f:
        f.write("{\n" + ",\n".join(lines) + "\n}\n")
    print(f"{OUT}: {len(keep)} messages, {sum(len(v) for v in keep.values())} fields, "
          f"{os.path.getsize(OUT)} bytes")


if __name__ == "__main__":
    main()
