//! The demo files of `mdcore quickstart`. The EICAR test string comes from the simulator, which
//! assembles it at run time: the repository never holds it in one piece.

use std::io::Write;
use std::path::{Path, PathBuf};

use mdcore_sim::eicar_test_bytes;

/// The files made, with what each one shows.
#[derive(Debug, Clone)]
pub struct DemoFiles {
    pub clean: PathBuf,
    pub eicar: PathBuf,
    pub archive: PathBuf,
    /// Scanned with the sanitizing rule.
    pub document: PathBuf,
}

/// Names of the entries of the demo archive; the last one holds the test string.
pub const ARCHIVE_ENTRIES: [&str; 3] = ["readme.txt", "data/numbers.csv", "eicar.com"];

impl DemoFiles {
    /// Writes the demo files into `dir` (created if missing). A file of the same name that
    /// holds something else is left alone and the call fails: `dir` may be the user's.
    pub fn create(dir: &Path) -> std::io::Result<DemoFiles> {
        std::fs::create_dir_all(dir)?;
        let eicar = eicar_test_bytes();
        let files = DemoFiles {
            clean: dir.join("clean.txt"),
            eicar: dir.join("eicar.com"),
            archive: dir.join("bundle.zip"),
            document: dir.join("invoice.txt"),
        };
        let zip = zip_bytes(&[
            (
                ARCHIVE_ENTRIES[0],
                b"A clean file inside the archive.\n".as_slice(),
            ),
            (ARCHIVE_ENTRIES[1], b"1,2,3\n4,5,6\n".as_slice()),
            (ARCHIVE_ENTRIES[2], eicar.as_slice()),
        ])?;
        let mut doc = b"INVOICE 2026-0042\nAmount due: 120.00 EUR\nAttachment: ".to_vec();
        doc.extend_from_slice(&eicar);
        doc.extend_from_slice(b"\nThank you for your business.\n");
        write_new(
            &files.clean,
            b"Hello from the mdcore quickstart.\nThis file holds nothing harmful.\n",
        )?;
        write_new(&files.eicar, &eicar)?;
        write_new(&files.archive, &zip)?;
        write_new(&files.document, &doc)?;
        Ok(files)
    }

    /// All four, in the order they are shown.
    pub fn all(&self) -> [(&Path, &'static str); 4] {
        [
            (&self.clean, "plain text, nothing harmful"),
            (
                &self.eicar,
                "the EICAR anti-malware test string (harmless, detected by design)",
            ),
            (&self.archive, "a zip: two clean files and eicar.com"),
            (
                &self.document,
                "text with the test string inside, for the sanitizing rule",
            ),
        ]
    }
}

/// Whether `bytes` hold the test string.
pub fn holds_eicar(bytes: &[u8]) -> bool {
    let e = eicar_test_bytes();
    bytes.windows(e.len()).any(|w| w == e.as_slice())
}

/// Writes `bytes` to `path` unless a different file is there already (the same content, from
/// an earlier run, is fine).
fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    match std::fs::read(path) {
        Ok(existing) if existing == bytes => Ok(()),
        Ok(_) => Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!(
                "{} exists and is not a demo file; choose a new or empty directory",
                path.display()
            ),
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => std::fs::write(path, bytes),
        Err(e) => Err(e),
    }
}

/// A zip of the entries (deflated; fixed timestamps, so the same bytes every run).
fn zip_bytes(entries: &[(&str, &[u8])]) -> std::io::Result<Vec<u8>> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in entries {
        zip.start_file(*name, opts).map_err(std::io::Error::other)?;
        zip.write_all(data)?;
    }
    Ok(zip.finish().map_err(std::io::Error::other)?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_files_hold_what_they_claim() {
        let dir = tempfile::tempdir().unwrap();
        let f = DemoFiles::create(dir.path()).unwrap();
        assert!(!holds_eicar(&std::fs::read(&f.clean).unwrap()));
        assert!(holds_eicar(&std::fs::read(&f.eicar).unwrap()));
        assert!(holds_eicar(&std::fs::read(&f.document).unwrap()));
        let mut z = zip::ZipArchive::new(std::fs::File::open(&f.archive).unwrap()).unwrap();
        assert_eq!(z.len(), 3);
        let mut inner = Vec::new();
        std::io::Read::read_to_end(&mut z.by_name("eicar.com").unwrap(), &mut inner).unwrap();
        assert!(holds_eicar(&inner));

        // Again into the same directory: the same bytes, accepted.
        DemoFiles::create(dir.path()).unwrap();
        // A user's file of the same name is not overwritten.
        std::fs::write(&f.clean, "mine").unwrap();
        let e = DemoFiles::create(dir.path()).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&f.clean).unwrap(), b"mine");
    }
}
