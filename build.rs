//! Generates the MetaDefender Core client from the pinned OpenAPI document into `OUT_DIR`.
//!
//! The document named by `openapi/lock.toml` is checked against its sha256, repaired by the
//! rewrite rules of `mdcore-codegen` (see `generated-client/REWRITES.md`), validated, and handed
//! to progenitor. `METADEFENDER_OPENAPI=<file>` generates from another document instead, without
//! the hash check, to try a new API version before pinning it.

use std::path::PathBuf;

fn main() {
    let root = PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    );
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    println!("cargo:rerun-if-env-changed=METADEFENDER_OPENAPI");
    // The folder, not single files: the refreshed copy appearing in it must trigger a rerun, and
    // watching a file that does not exist would rerun the script on every build.
    println!("cargo:rerun-if-changed=openapi");
    let override_path = std::env::var_os("METADEFENDER_OPENAPI").map(PathBuf::from);
    if let Ok(lock) = mdcore_codegen::lock::Lock::load(&root) {
        let doc = override_path
            .clone()
            .unwrap_or_else(|| lock.document_path(&root));
        if doc.is_file() {
            println!("cargo:rerun-if-changed={}", doc.display());
        }
    }
    let generated = match mdcore_codegen::generate_pinned(&root, override_path.as_deref()) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("error: cannot generate the MetaDefender Core client: {e}");
            std::process::exit(1);
        }
    };
    let code = generated.code();
    let target = out.join("client.rs");
    if let Err(e) = std::fs::write(&target, &code) {
        eprintln!("error: cannot write {}: {e}", target.display());
        std::process::exit(1);
    }
    // Conformance tests call every operation by its operationId through a generated dispatcher.
    if std::env::var_os("CARGO_FEATURE_CONFORMANCE").is_some() {
        let dispatch =
            mdcore_codegen::dispatch::generate(generated.document(), &code).and_then(|code| {
                std::fs::write(out.join("dispatch.rs"), code).map_err(|source| {
                    mdcore_codegen::Error::Io {
                        path: out.join("dispatch.rs"),
                        source,
                    }
                })
            });
        if let Err(e) = dispatch {
            eprintln!("error: cannot generate the conformance dispatcher: {e}");
            std::process::exit(1);
        }
    }
    if let Some(p) = &override_path {
        println!(
            "cargo:warning=generated from METADEFENDER_OPENAPI={} (not the pinned document)",
            p.display()
        );
    }
}
