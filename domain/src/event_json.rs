//! Pinned JSON of every event: written below.
