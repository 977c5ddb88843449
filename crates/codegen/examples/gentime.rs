//! Times what `build.rs` does: `cargo run -p mdcore-codegen --example gentime`.
use std::time::Instant;
fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for _ in 0..3 {
        let t = Instant::now();
        let g = mdcore_codegen::generate_pinned(&root, None).unwrap();
        let gen = t.elapsed();
        let code = g.code();
        println!(
            "generate {gen:?} + render {:?} = {:?} ({} bytes)",
            t.elapsed() - gen,
            t.elapsed(),
            code.len()
        );
    }
}
