//! Where the Fashion-MNIST files come from, and proof that they are the right ones.
//!
//! Search order: explicit path → `GANAD_DATA_DIR` → Debian's `dataset-fashion-mnist` →
//! the user cache → (only when allowed) a download of the official files into that cache.
//! Every file is checked against the sha256 of its *decompressed* content, since Debian's
//! `.gz` files differ byte-wise from upstream's while their contents do not.

use crate::error::{Error, Result};
use crate::system::atomic;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

/// One of the four dataset files and the checksum of its decompressed bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct FileSpec {
    pub name: String,
    pub bytes: usize,
    pub sha256: String,
}

impl FileSpec {
    fn new(name: &str, bytes: usize, sha256: &str) -> Self {
        FileSpec { name: name.into(), bytes, sha256: sha256.into() }
    }
}

/// The official Fashion-MNIST files (docs/method.md, "Data").
pub fn fashion_mnist_files() -> Vec<FileSpec> {
    vec![
        FileSpec::new("train-images-idx3-ubyte", 47_040_016, "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
        FileSpec::new("train-labels-idx1-ubyte", 60_008, "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
        FileSpec::new("t10k-images-idx3-ubyte", 7_840_016, "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
        FileSpec::new("t10k-labels-idx1-ubyte", 10_008, "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
    ]
}

pub const DEBIAN_DIR: &str = "/usr/share/datasets/fashion-mnist";
pub const OFFICIAL_URL: &str = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/";
const APT_FIX: &str = "apt-get install dataset-fashion-mnist (as root)";

/// How to look for the dataset.
#[derive(Debug, Clone, Default)]
pub struct SourceOptions {
    /// A directory given by the user (`--data-dir`); wins over everything else.
    pub explicit: Option<PathBuf>,
    /// Whether a missing dataset may be downloaded into the cache (`--download`, `GANAD_DOWNLOAD=1`).
    pub allow_download: bool,
    /// Base URL of the files (tests point it at a local server); default [`OFFICIAL_URL`].
    pub mirror: Option<String>,
}

impl SourceOptions {
    /// Options from the environment: `GANAD_DOWNLOAD=1` allows a download, `GANAD_MIRROR` sets the URL.
    pub fn from_env(explicit: Option<PathBuf>) -> Self {
        SourceOptions {
            explicit,
            allow_download: std::env::var("GANAD_DOWNLOAD").is_ok_and(|v| v == "1"),
            mirror: std::env::var("GANAD_MIRROR").ok(),
        }
    }
}

/// `$GANAD_CACHE/fashion-mnist`, else `$XDG_CACHE_HOME/ganad/…`, else `~/.cache/ganad/…`.
pub fn cache_dir() -> PathBuf {
    let base = std::env::var_os("GANAD_CACHE").map(PathBuf::from).unwrap_or_else(|| {
        std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))
            .unwrap_or_else(std::env::temp_dir)
            .join("ganad")
    });
    base.join("fashion-mnist")
}

/// The file for `spec` in `dir`: raw or `.gz`.
pub fn find_file(dir: &Path, spec: &FileSpec) -> Option<PathBuf> {
    [spec.name.clone(), format!("{}.gz", spec.name)].into_iter().map(|n| dir.join(n)).find(|p| p.is_file())
}

fn has_all(dir: &Path, specs: &[FileSpec]) -> bool {
    specs.iter().all(|s| find_file(dir, s).is_some())
}

/// How to repair a bad file found in `dir`.
pub fn fix_hint(dir: &Path) -> String {
    if dir == Path::new(DEBIAN_DIR) {
        "apt-get install --reinstall dataset-fashion-mnist (as root)".into()
    } else {
        format!(
            "replace the file with the official one, or delete it and run `ganad data check --download` \
             to fetch it into {}",
            cache_dir().display()
        )
    }
}

/// Decompressed bytes of `path`, checked against `spec` (size, then sha256).
pub fn read_verified(path: &Path, spec: &FileSpec) -> Result<Vec<u8>> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let bytes = super::idx::read_decompressed(path).map_err(|e| match e {
        Error::Dataset { path, what, .. } => Error::Dataset { path, what, fix: fix_hint(dir) },
        other => other,
    })?;
    let bad = |what: String| Error::Dataset { path: path.to_path_buf(), what, fix: fix_hint(dir) };
    if bytes.len() != spec.bytes {
        return Err(bad(format!("decompressed size is {} bytes, expected {}", bytes.len(), spec.bytes)));
    }
    let digest = sha256_hex(&bytes);
    if digest != spec.sha256 {
        return Err(bad(format!("sha256 of the decompressed content is {digest}, expected {}", spec.sha256)));
    }
    Ok(bytes)
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The directory to load from, downloading into the cache when that is allowed and needed.
pub fn locate(opts: &SourceOptions) -> Result<PathBuf> {
    locate_with(opts, &fashion_mnist_files(), &cache_dir())
}

/// [`locate`] with the file list and cache directory given (tests use synthetic files).
pub fn locate_with(opts: &SourceOptions, specs: &[FileSpec], cache: &Path) -> Result<PathBuf> {
    let from_env = std::env::var_os("GANAD_DATA_DIR").map(PathBuf::from);
    // A directory the user named must hold the files: falling back silently would hide a typo.
    for (what, dir) in [("--data-dir", &opts.explicit), ("GANAD_DATA_DIR", &from_env)] {
        if let Some(dir) = dir {
            if !has_all(dir, specs) {
                return Err(Error::DatasetMissing {
                    searched: format!("{what} {} lacks {}", dir.display(), missing_names(dir, specs)),
                    fix: format!("put the four Fashion-MNIST files (raw or .gz) there, or drop {what} to use {DEBIAN_DIR}"),
                });
            }
            return Ok(dir.clone());
        }
    }
    for dir in [Path::new(DEBIAN_DIR), cache] {
        if has_all(dir, specs) {
            return Ok(dir.to_path_buf());
        }
    }
    if opts.allow_download {
        let url = opts.mirror.as_deref().unwrap_or(OFFICIAL_URL);
        download_missing(url, cache, specs)?;
        return Ok(cache.to_path_buf());
    }
    Err(Error::DatasetMissing {
        searched: format!("no complete copy in {DEBIAN_DIR} or {}", cache.display()),
        fix: format!(
            "{APT_FIX}; or run with --download (GANAD_DOWNLOAD=1) to fetch the official files into the cache; or set GANAD_DATA_DIR"
        ),
    })
}

fn missing_names(dir: &Path, specs: &[FileSpec]) -> String {
    let missing: Vec<_> = specs.iter().filter(|s| find_file(dir, s).is_none()).map(|s| s.name.as_str()).collect();
    missing.join(", ")
}

/// Fetches `<base_url><name>.gz` for every file that is missing or fails its checksum in `cache`.
/// Each download is verified before it is renamed into place, so a corrupt or interrupted
/// transfer never replaces a good copy, and a rerun picks up where the last one stopped.
pub fn download_missing(base_url: &str, cache: &Path, specs: &[FileSpec]) -> Result<()> {
    std::fs::create_dir_all(cache).map_err(|e| Error::io(cache, e))?;
    for spec in specs {
        if let Some(existing) = find_file(cache, spec) {
            if read_verified(&existing, spec).is_ok() {
                continue;
            }
        }
        download_one(base_url, cache, spec)?;
    }
    Ok(())
}

/// Fetches `<base_url><name>.gz` into `cache`, verifying it before the rename: on any failure
/// the file already there, good or not, is left exactly as it was.
pub fn download_one(base_url: &str, cache: &Path, spec: &FileSpec) -> Result<PathBuf> {
    let url = format!("{}/{}.gz", base_url.trim_end_matches('/'), spec.name);
    let body = fetch(&url)?;
    let target = cache.join(format!("{}.gz", spec.name));
    atomic::write_with(&target, |tmp| {
        std::fs::write(tmp, &body).map_err(|e| Error::io(tmp, e))?;
        read_verified(tmp, spec).map(|_| ()).map_err(|e| Error::Download { url: url.clone(), what: e.to_string() })
    })?;
    // A raw copy beside the new .gz would be found first; drop it if it is bad.
    let raw = cache.join(&spec.name);
    if raw.is_file() && read_verified(&raw, spec).is_err() {
        std::fs::remove_file(&raw).map_err(|e| Error::io(&raw, e))?;
    }
    Ok(target)
}

fn fetch(url: &str) -> Result<Vec<u8>> {
    let fail = |what: String| Error::Download { url: url.to_string(), what };
    let response = ureq::get(url).timeout(std::time::Duration::from_secs(120)).call().map_err(|e| fail(e.to_string()))?;
    let mut body = Vec::new();
    response.into_reader().take(200 << 20).read_to_end(&mut body).map_err(|e| fail(e.to_string()))?;
    Ok(body)
}
