//! JSON schemas of every built-in kind from k8s-openapi, with our patch metadata added.
//! OWNER: schema/patch helper.
