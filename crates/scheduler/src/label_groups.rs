//! Ids for distinct (namespace, labels) sets, so a selector is matched once per set per cycle
//! instead of once per pod.

use crate::selector::{LabelSelector, Labels};
use std::collections::HashMap;

/// The id of a group that was not interned (matched directly, never memoised).
pub const NO_GROUP: u32 = u32::MAX;

/// Reference-counted ids of (namespace, labels) sets.
#[derive(Debug, Default)]
pub struct LabelInterner {
    ids: HashMap<(String, Labels), u32>,
    refs: Vec<u32>,
    free: Vec<u32>,
}

impl LabelInterner {
    /// The id of a set, taking a reference.
    pub fn acquire(&mut self, ns: &str, labels: &Labels) -> u32 {
        if let Some(&id) = self.ids.get(&(ns.to_string(), labels.clone())) {
            self.refs[id as usize] += 1;
            return id;
        }
        let id = match self.free.pop() {
            Some(id) => {
                self.refs[id as usize] = 1;
                id
            }
            None => {
                self.refs.push(1);
                (self.refs.len() - 1) as u32
            }
        };
        self.ids.insert((ns.to_string(), labels.clone()), id);
        id
    }

    /// Drops a reference to a set; its id is reused once unreferenced.
    pub fn release(&mut self, ns: &str, labels: &Labels) {
        let key = (ns.to_string(), labels.clone());
        let Some(&id) = self.ids.get(&key) else {
            return;
        };
        let r = &mut self.refs[id as usize];
        *r -= 1;
        if *r == 0 {
            self.ids.remove(&key);
            self.free.push(id);
        }
    }

    /// How many sets are interned.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether no set is interned.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// Per-cycle memo of whether each interned set matches one (namespace, selector).
#[derive(Debug, Default)]
pub struct GroupMemo(Vec<u8>);

impl GroupMemo {
    /// Whether the set `id` (namespace `g_ns`, labels `g_labels`) is in `ns` and matches.
    pub fn matches(
        &mut self,
        id: u32,
        g_ns: &str,
        g_labels: &Labels,
        ns: &str,
        sel: &LabelSelector,
    ) -> bool {
        let compute = || g_ns == ns && sel.matches(g_labels);
        if id == NO_GROUP {
            return compute();
        }
        let i = id as usize;
        if i >= self.0.len() {
            self.0.resize(i + 1, 0);
        }
        match self.0[i] {
            1 => true,
            2 => false,
            _ => {
                let m = compute();
                self.0[i] = if m { 1 } else { 2 };
                m
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(v: &str) -> Labels {
        [("app".to_string(), v.to_string())].into()
    }

    #[test]
    fn ids_are_shared_counted_and_reused() {
        let mut i = LabelInterner::default();
        let a = i.acquire("ns", &labels("a"));
        assert_eq!(i.acquire("ns", &labels("a")), a);
        let b = i.acquire("other", &labels("a"));
        assert_ne!(a, b, "the namespace is part of the set");
        i.release("ns", &labels("a"));
        assert_eq!(i.len(), 2);
        i.release("ns", &labels("a"));
        assert_eq!(i.len(), 1);
        assert_eq!(i.acquire("ns", &labels("c")), a, "freed ids are reused");
    }

    #[test]
    fn memo_answers_like_the_selector() {
        let sel = LabelSelector::from_map(&labels("a"));
        let mut m = GroupMemo::default();
        assert!(m.matches(3, "ns", &labels("a"), "ns", &sel));
        assert!(m.matches(3, "ns", &labels("a"), "ns", &sel));
        assert!(!m.matches(4, "ns", &labels("b"), "ns", &sel));
        assert!(!m.matches(NO_GROUP, "x", &labels("a"), "ns", &sel));
    }
}
