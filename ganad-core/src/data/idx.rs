//! IDX files (the MNIST format): `[0, 0, type, ndim]`, `ndim` big-endian u32 sizes, then the data.
//! Gzip is detected by its magic bytes, not the file name, and decompressed while streaming.

use crate::error::{Error, Result};
use std::io::Read;
use std::path::Path;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const UBYTE: u8 = 0x08;

/// The decompressed bytes of an IDX file (raw or gzip).
pub fn read_decompressed(path: &Path) -> Result<Vec<u8>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader = std::io::BufReader::new(file);
    let mut raw = Vec::new();
    reader.read_to_end(&mut raw).map_err(|e| Error::io(path, e))?;
    if raw.starts_with(&GZIP_MAGIC) {
        let mut out = Vec::with_capacity(raw.len() * 2);
        flate2::read::GzDecoder::new(&raw[..]).read_to_end(&mut out).map_err(|e| Error::Dataset {
            path: path.to_path_buf(),
            what: format!("gzip stream is corrupt ({e})"),
            fix: "delete the file and fetch it again".into(),
        })?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// Images of an idx3-ubyte file: `count` images of `rows × cols` bytes, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct IdxImages {
    pub count: usize,
    pub rows: usize,
    pub cols: usize,
    pub pixels: Vec<u8>,
}

impl IdxImages {
    /// Pixels of image `i`, `rows × cols` bytes.
    pub fn image(&self, i: usize) -> &[u8] {
        let n = self.rows * self.cols;
        &self.pixels[i * n..(i + 1) * n]
    }
}

fn invalid(path: &Path, what: String) -> Error {
    Error::Dataset { path: path.to_path_buf(), what, fix: "delete the file and fetch it again".into() }
}

/// Checks the header and returns the dimension sizes; the data must fill the file exactly.
fn parse_header(bytes: &[u8], ndim: u8, path: &Path) -> Result<Vec<usize>> {
    let header_len = 4 + 4 * ndim as usize;
    let expected_magic = [0, 0, UBYTE, ndim];
    if bytes.len() >= 4 && bytes[..4] != expected_magic {
        return Err(invalid(path, format!("magic number {:02x?} is not {expected_magic:02x?} (ubyte, {ndim} dims)", &bytes[..4])));
    }
    if bytes.len() < header_len {
        return Err(invalid(path, format!("file is {} bytes, shorter than the {header_len}-byte idx header", bytes.len())));
    }
    let dims: Vec<usize> =
        (0..ndim as usize).map(|d| u32::from_be_bytes(bytes[4 + 4 * d..8 + 4 * d].try_into().unwrap()) as usize).collect();
    let data_len = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    match data_len.and_then(|n| n.checked_add(header_len)) {
        Some(total) if total == bytes.len() => Ok(dims),
        Some(total) => {
            Err(invalid(path, format!("header {dims:?} needs {total} bytes, the file has {} (truncated or padded)", bytes.len())))
        }
        None => Err(invalid(path, format!("header dimensions {dims:?} overflow"))),
    }
}

/// Parses decompressed idx3-ubyte bytes.
pub fn parse_images(bytes: &[u8], path: &Path) -> Result<IdxImages> {
    let dims = parse_header(bytes, 3, path)?;
    if dims[1] == 0 || dims[2] == 0 {
        return Err(invalid(path, format!("image size {}×{} is empty", dims[1], dims[2])));
    }
    Ok(IdxImages { count: dims[0], rows: dims[1], cols: dims[2], pixels: bytes[16..].to_vec() })
}

/// Parses decompressed idx1-ubyte bytes into labels.
pub fn parse_labels(bytes: &[u8], path: &Path) -> Result<Vec<u8>> {
    parse_header(bytes, 1, path)?;
    Ok(bytes[8..].to_vec())
}

/// Serialises images as idx3-ubyte (used by tests and tools that write synthetic data).
pub fn encode_images(images: &IdxImages) -> Vec<u8> {
    let mut out = vec![0, 0, UBYTE, 3];
    for d in [images.count, images.rows, images.cols] {
        out.extend_from_slice(&(d as u32).to_be_bytes());
    }
    out.extend_from_slice(&images.pixels);
    out
}

/// Serialises labels as idx1-ubyte.
pub fn encode_labels(labels: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, UBYTE, 1];
    out.extend_from_slice(&(labels.len() as u32).to_be_bytes());
    out.extend_from_slice(labels);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn tiny() -> IdxImages {
        IdxImages { count: 3, rows: 2, cols: 2, pixels: (0..12).collect() }
    }

    fn write(dir: &Path, name: &str, bytes: &[u8], gzip: bool) -> std::path::PathBuf {
        let path = dir.join(name);
        let data = if gzip {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            enc.write_all(bytes).unwrap();
            enc.finish().unwrap()
        } else {
            bytes.to_vec()
        };
        std::fs::write(&path, data).unwrap();
        path
    }

    fn load_images(path: &Path) -> Result<IdxImages> {
        parse_images(&read_decompressed(path)?, path)
    }

    fn message(r: Result<impl std::fmt::Debug>) -> String {
        r.unwrap_err().to_string()
    }

    #[test]
    fn good_files_round_trip_raw_and_gzip() {
        let dir = crate::system::tempdir::TempDir::new("test").unwrap();
        for gzip in [false, true] {
            let p = write(dir.path(), &format!("img{gzip}"), &encode_images(&tiny()), gzip);
            assert_eq!(load_images(&p).unwrap(), tiny());
            let l = write(dir.path(), &format!("lab{gzip}"), &encode_labels(&[3, 1, 4]), gzip);
            assert_eq!(parse_labels(&read_decompressed(&l).unwrap(), &l).unwrap(), vec![3, 1, 4]);
        }
        assert_eq!(tiny().image(1), &[4, 5, 6, 7]);
    }

    #[test]
    fn truncated_file_names_expected_and_actual_length() {
        let dir = crate::system::tempdir::TempDir::new("test").unwrap();
        let bytes = encode_images(&tiny());
        let p = write(dir.path(), "t", &bytes[..bytes.len() - 1], false);
        let msg = message(load_images(&p));
        assert!(msg.contains("needs 28 bytes, the file has 27"), "{msg}");
        assert!(msg.contains(&p.display().to_string()), "{msg}");
    }

    #[test]
    fn wrong_magic_and_wrong_dims_are_rejected() {
        let dir = crate::system::tempdir::TempDir::new("test").unwrap();
        let mut bytes = encode_images(&tiny());
        bytes[2] = 0x0d; // float data, not ubyte
        assert!(message(load_images(&write(dir.path(), "m", &bytes, false))).contains("magic number"));
        // A label file where images are expected: 1 dim instead of 3.
        let labels = encode_labels(&[1, 2, 3]);
        assert!(message(load_images(&write(dir.path(), "d", &labels, false))).contains("magic number"));
        // Right magic, dims that disagree with the data.
        let mut bytes = encode_images(&tiny());
        bytes[11] = 3; // rows 2 -> 3
        assert!(message(load_images(&write(dir.path(), "r", &bytes, false))).contains("needs 34 bytes"));
        let mut zero = encode_images(&tiny());
        zero[11] = 0;
        zero.truncate(16);
        assert!(message(load_images(&write(dir.path(), "z", &zero, false))).contains("empty"));
    }

    #[test]
    fn count_mismatch_between_header_and_data() {
        let dir = crate::system::tempdir::TempDir::new("test").unwrap();
        let mut bytes = encode_labels(&[1, 2, 3]);
        bytes[7] = 5; // header says 5 labels, data holds 3
        let p = write(dir.path(), "c", &bytes, true);
        let msg = message(parse_labels(&read_decompressed(&p).unwrap(), &p));
        assert!(msg.contains("needs 13 bytes, the file has 11"), "{msg}");
    }

    #[test]
    fn gzip_garbage_and_empty_file() {
        let dir = crate::system::tempdir::TempDir::new("test").unwrap();
        let p = write(dir.path(), "g", &[0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7], false);
        assert!(message(read_decompressed(&p)).contains("gzip stream is corrupt"));
        let e = write(dir.path(), "e", &[], false);
        assert!(message(load_images(&e)).contains("shorter than the 16-byte idx header"));
        let missing = dir.path().join("nope");
        assert!(message(read_decompressed(&missing)).contains("nope"));
    }
}
