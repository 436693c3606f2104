//! Patch metadata of built-in kinds (`x-kubernetes-patch-merge-key`, `-patch-strategy`,
//! `-list-type`, `-list-map-keys`), as upstream's published OpenAPI states them.
//! OWNER: schema/patch helper.
