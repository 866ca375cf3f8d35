//! The global allocator of every binary that links this crate: the `dinghuo` server and CLI, and
//! the tests and benchmarks that run the product's code (so that they measure what ships).
//!
//! mimalloc instead of the system's (glibc) malloc: a request allocates and frees many small
//! objects across the runtime's threads (GraphQL documents and values, JSON, rows, events), and
//! glibc's arenas made `malloc`/`free` one of the largest items of the server's profile. In the
//! HTTP benchmark it cut the process's CPU per order by about a sixth (`docs/performance.md`).

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
