//! Re-exports llguidance so that its C API (`llg_*`, declared in llguidance.h) ends up in this static
//! library. Nothing of dianoia's own is written in Rust.
pub use llguidance::*;
