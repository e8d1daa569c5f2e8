//! Link libtorch so that our binaries run without `LD_LIBRARY_PATH` and keep CUDA.
//!
//! rustc links with `--as-needed`, which drops `libtorch_cuda.so` (nothing references it by
//! symbol), so CUDA would be "unavailable" on GPU machines (tch issues 177, 329, 907). We force
//! it in with `--no-as-needed` and add a RUNPATH to libtorch's directory. `DEP_TCH_LIBTORCH_LIB`
//! only reaches crates that depend directly on torch-sys (`links = "tch"`), hence that dependency.
fn main() {
    record_source_commit();
    find_tcmalloc();
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") else {
        println!("cargo:warning=DEP_TCH_LIBTORCH_LIB not set: binaries will need LD_LIBRARY_PATH");
        return;
    };
    println!("cargo:rustc-env=GANAD_LIBTORCH_LIB={lib}");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("linux") {
        return;
    }
    println!("cargo:rustc-link-arg=-Wl,-rpath={lib}");
    let has_cuda = std::path::Path::new(&lib).join("libtorch_cuda.so").exists();
    println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
    if has_cuda {
        println!("cargo:rustc-link-arg=-ltorch_cuda");
    }
    println!("cargo:rustc-link-arg=-ltorch");
    println!("cargo:rustc-link-arg=-Wl,--as-needed");
}

/// The commit this build compiles and whether its compiled files (`ganad-core/`, the workspace's
/// `Cargo.toml` and `Cargo.lock`) differ from it, as `GANAD_BUILD_COMMIT` / `GANAD_BUILD_DIRTY`:
/// a run records the code that ran, even when the checkout moves on under a running binary.
fn record_source_commit() {
    use std::path::Path;
    let crate_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it");
    let root = Path::new(&crate_dir).parent().expect("the crate sits in the workspace");
    // Rerun when a compiled file or the checked-out commit changes (not on results or docs).
    for path in [
        Path::new(&crate_dir).to_path_buf(),
        root.join("Cargo.toml"),
        root.join("Cargo.lock"),
        root.join(".git/HEAD"),
        root.join(".git/refs/heads"),
        root.join(".git/packed-refs"),
    ] {
        println!("cargo:rerun-if-changed={}", path.display());
    }
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(root)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let commit = git(&["rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".into());
    let dirty = git(&["status", "--porcelain", "--", "ganad-core", "Cargo.toml", "Cargo.lock"]).is_some_and(|s| !s.is_empty());
    println!("cargo:rustc-env=GANAD_BUILD_COMMIT={commit}");
    println!("cargo:rustc-env=GANAD_BUILD_DIRTY={dirty}");
}

/// Sets `cfg(tcmalloc)` where gperftools' tcmalloc is installed (Debian: `libtcmalloc-minimal4`,
/// which scripts/setup.sh installs); the `ganad` binary then links it (src/main.rs).
fn find_tcmalloc() {
    const LIB: &str = "libtcmalloc_minimal.so.4";
    println!("cargo:rustc-check-cfg=cfg(tcmalloc)");
    println!("cargo:rerun-if-env-changed=GANAD_NO_TCMALLOC");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("linux") || std::env::var_os("GANAD_NO_TCMALLOC").is_some() {
        return;
    }
    let dirs = ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib"];
    match dirs.iter().map(|d| std::path::Path::new(d).join(LIB)).find(|p| p.exists()) {
        Some(path) => {
            // Watching a missing file would rerun this script, and rebuild the crate, every time.
            println!("cargo:rerun-if-changed={}", path.display());
            println!("cargo:rustc-cfg=tcmalloc");
        }
        None => println!(
            "cargo:warning={LIB} not found: `ganad` uses glibc's malloc, slower on small batches; `apt install libtcmalloc-minimal4`, `touch ganad-core/build.rs` and rebuild"
        ),
    }
}
