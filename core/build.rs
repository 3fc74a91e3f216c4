//! The one switch between the code a host runs and the code a microcontroller runs.
//!
//! Where the smallest image and the fastest host code differ (table-driven UTF-8 and
//! character-class checks, the decoders' per-message fast paths, inlining), the core reads
//! `cfg(konaplate_compact)`, set here for every bare-metal target (`target_os = "none"`) and by
//! the `compact` feature on any target: so the host tests, proptests, the simulator and the
//! fuzzers run the microcontroller's decoder too (`--features compact`), and CI runs them both
//! ways.
fn main() {
    println!("cargo::rustc-check-cfg=cfg(konaplate_compact)");
    println!("cargo::rerun-if-changed=build.rs");
    let bare_metal = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "none");
    let feature = std::env::var_os("CARGO_FEATURE_COMPACT").is_some();
    if bare_metal || feature {
        println!("cargo::rustc-cfg=konaplate_compact");
    }
}
