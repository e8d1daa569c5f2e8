//! The downloader against a real HTTP server on 127.0.0.1 that serves the Debian copy of the
//! dataset, or corrupted bytes: bad downloads are rejected and never replace a good cached file.

use ganad_core::data::source::{self, download_missing, download_one, fashion_mnist_files, FileSpec};
use ganad_core::data::FashionMnist;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Serves `/good/<file>` from the Debian directory and `/corrupt/<file>` with one byte flipped.
/// Returns the base URL and a counter of requests served.
fn serve() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let served = Arc::new(AtomicUsize::new(0));
    let counter = served.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let mut stream = stream.unwrap();
            let mut request = String::new();
            BufReader::new(&stream).read_line(&mut request).unwrap();
            let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
            let (mode, name) = path.trim_start_matches('/').split_once('/').unwrap_or(("", ""));
            let file = Path::new(source::DEBIAN_DIR).join(name);
            let response = match std::fs::read(&file) {
                Ok(mut body) => {
                    if mode == "corrupt" {
                        let mid = body.len() / 2;
                        body[mid] ^= 0xff;
                    }
                    let mut r = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len()).into_bytes();
                    r.extend_from_slice(&body);
                    r
                }
                Err(_) => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(),
            };
            counter.fetch_add(1, Ordering::SeqCst);
            let _ = stream.write_all(&response);
        }
    });
    (url, served)
}

fn debian_files_present() -> Vec<FileSpec> {
    let specs = fashion_mnist_files();
    for s in &specs {
        let p = PathBuf::from(source::DEBIAN_DIR).join(format!("{}.gz", s.name));
        assert!(
            p.is_file(),
            "{} missing: these tests serve the Debian copy; run `make setup` (apt-get install dataset-fashion-mnist)",
            p.display()
        );
    }
    specs
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

#[test]
fn downloads_verify_and_never_replace_a_good_copy() {
    let specs = debian_files_present();
    let (url, served) = serve();
    let cache = ganad_core::tempdir::TempDir::new("test").unwrap();

    // 1. A server sending corrupted bytes: rejected, nothing left in the cache.
    let err = download_missing(&format!("{url}/corrupt"), cache.path(), &specs).unwrap_err().to_string();
    assert!(err.contains("download of") && err.contains("/corrupt/"), "{err}");
    assert!(files_in(cache.path()).is_empty(), "{:?}", files_in(cache.path()));

    // 2. A good server: all four verified and loadable.
    download_missing(&format!("{url}/good"), cache.path(), &specs).unwrap();
    assert_eq!(files_in(cache.path()).len(), 4);
    let ds = FashionMnist::from_dir(cache.path()).unwrap();
    assert_eq!((ds.train.len(), ds.test.len()), (60_000, 10_000));

    // 3. A corrupt re-download of a good file fails and leaves the good file as it was.
    let labels = cache.path().join("train-labels-idx1-ubyte.gz");
    let before = std::fs::read(&labels).unwrap();
    assert!(download_one(&format!("{url}/corrupt"), cache.path(), &specs[1]).is_err());
    assert_eq!(std::fs::read(&labels).unwrap(), before);

    // 4. Resume: with one file missing only that file is fetched again.
    std::fs::remove_file(cache.path().join("t10k-labels-idx1-ubyte.gz")).unwrap();
    let n = served.load(Ordering::SeqCst);
    download_missing(&format!("{url}/good"), cache.path(), &specs).unwrap();
    assert_eq!(served.load(Ordering::SeqCst) - n, 1);
    assert_eq!(files_in(cache.path()).len(), 4);
}

#[test]
fn a_corrupt_local_file_is_named_with_its_fix() {
    let specs = debian_files_present();
    let dir = ganad_core::tempdir::TempDir::new("test").unwrap();
    for s in &specs {
        std::fs::copy(Path::new(source::DEBIAN_DIR).join(format!("{}.gz", s.name)), dir.path().join(format!("{}.gz", s.name))).unwrap();
    }
    // Replace the test labels by a valid gzip of the wrong content.
    let bad = dir.path().join("t10k-labels-idx1-ubyte.gz");
    let mut enc = flate2::write::GzEncoder::new(std::fs::File::create(&bad).unwrap(), flate2::Compression::fast());
    enc.write_all(&[0u8; 10_008]).unwrap();
    enc.finish().unwrap();
    let err = FashionMnist::from_dir(dir.path()).unwrap_err().to_string();
    assert!(err.contains("t10k-labels-idx1-ubyte.gz") && err.contains("sha256") && err.contains("fix:"), "{err}");
}

#[test]
fn a_named_directory_without_the_files_is_an_error() {
    let dir = ganad_core::tempdir::TempDir::new("test").unwrap();
    let opts = source::SourceOptions { explicit: Some(dir.path().to_path_buf()), allow_download: false, mirror: None };
    let err = source::locate(&opts).unwrap_err().to_string();
    assert!(err.contains("lacks train-images-idx3-ubyte") && err.contains("fix:"), "{err}");
}
