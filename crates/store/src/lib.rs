//! Revisioned key-value store with watch. OWNER: store helper.
