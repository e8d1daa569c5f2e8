//! Link libtorch so that our binaries run without `LD_LIBRARY_PATH` and keep CUDA.
//!
//! rustc links with `--as-needed`, which drops `libtorch_cuda.so` (nothing references it by
//! symbol), so CUDA would be "unavailable" on GPU machines (tch issues 177, 329, 907). We force
//! it in with `--no-as-needed` and add a RUNPATH to libtorch's directory. `DEP_TCH_LIBTORCH_LIB`
//! only reaches crates that depend directly on torch-sys (`links = "tch"`), hence that dependency.
fn main() {
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
