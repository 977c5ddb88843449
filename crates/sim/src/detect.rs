//! Content verdicts: the EICAR test string, suspicious patterns, hashes and
//! file-type sniffing, computed while bytes stream past.

use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// Threat name reported for the EICAR test string.
pub const EICAR_THREAT: &str = "EICAR-Test-File";
/// Threat name reported for a suspicious pattern.
pub const SUSPICIOUS_THREAT: &str = "Suspicious.Pattern";

/// The 68-byte EICAR anti-virus test string, assembled at run time so that
/// neither the sources nor the binary hold it in one piece.
pub fn eicar_test_bytes() -> Vec<u8> {
    let head = ["X5O!P%@AP", "[4\\PZX54(P^)7CC)7}$"];
    let middle = ["EICAR", "-STANDARD-", "ANTIVIRUS", "-TEST-FILE!"];
    let tail = ["$H+", "H*"];
    head.iter()
        .chain(middle.iter())
        .chain(tail.iter())
        .flat_map(|s| s.bytes())
        .collect()
}

/// What the content alone says about a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Finding {
    #[default]
    Clean,
    Suspicious,
    Infected,
}

impl Finding {
    pub(crate) fn code(self) -> u8 {
        match self {
            Finding::Clean => 0,
            Finding::Infected => 1,
            Finding::Suspicious => 2,
        }
    }
}

/// The patterns a scan looks for.
#[derive(Debug, Clone)]
pub(crate) struct Patterns {
    eicar: Vec<u8>,
    suspicious: Vec<Vec<u8>>,
    longest: usize,
}

impl Patterns {
    pub(crate) fn new(suspicious: &[Vec<u8>]) -> Self {
        let eicar = eicar_test_bytes();
        let suspicious: Vec<Vec<u8>> = suspicious
            .iter()
            .filter(|p| !p.is_empty())
            .cloned()
            .collect();
        let longest = suspicious
            .iter()
            .map(Vec::len)
            .chain([eicar.len()])
            .max()
            .unwrap_or(1);
        Self {
            eicar,
            suspicious,
            longest,
        }
    }

    fn all(&self) -> impl Iterator<Item = &[u8]> {
        std::iter::once(self.eicar.as_slice()).chain(self.suspicious.iter().map(Vec::as_slice))
    }
}

/// Incremental scanner: feed chunks, then `finish`. Keeps only a short carry
/// between chunks so that matches across chunk borders are found.
pub(crate) struct Scanner<'p> {
    patterns: &'p Patterns,
    carry: Vec<u8>,
    infected: bool,
    suspicious: bool,
    md5: Md5,
    sha1: Sha1,
    sha256: Sha256,
    head: Vec<u8>,
    size: u64,
    text_like: bool,
}

/// Result of a finished scan.
#[derive(Debug, Clone)]
pub(crate) struct Scanned {
    pub finding: Finding,
    pub md5: String,
    pub sha1: String,
    pub sha256: String,
    pub size: u64,
    pub kind: FileKind,
}

impl<'p> Scanner<'p> {
    pub(crate) fn new(patterns: &'p Patterns) -> Self {
        Self {
            patterns,
            carry: Vec::new(),
            infected: false,
            suspicious: false,
            md5: Md5::new(),
            sha1: Sha1::new(),
            sha256: Sha256::new(),
            head: Vec::new(),
            size: 0,
            text_like: true,
        }
    }

    pub(crate) fn update(&mut self, chunk: &[u8]) {
        if chunk.is_empty() {
            return;
        }
        self.md5.update(chunk);
        self.sha1.update(chunk);
        self.sha256.update(chunk);
        self.size += chunk.len() as u64;
        if self.head.len() < 512 {
            let take = (512 - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
        if self.text_like {
            self.text_like = chunk
                .iter()
                .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace() || *b >= 0x80);
        }
        let keep = self.patterns.longest.saturating_sub(1);
        let mut buf = std::mem::take(&mut self.carry);
        buf.extend_from_slice(chunk);
        self.check(&buf);
        let start = buf.len().saturating_sub(keep);
        buf.drain(..start);
        self.carry = buf;
    }

    fn check(&mut self, buf: &[u8]) {
        if !self.infected && memchr::memmem::find(buf, &self.patterns.eicar).is_some() {
            self.infected = true;
        }
        if !self.suspicious
            && self
                .patterns
                .suspicious
                .iter()
                .any(|p| memchr::memmem::find(buf, p).is_some())
        {
            self.suspicious = true;
        }
    }

    pub(crate) fn finish(self) -> Scanned {
        let finding = if self.infected {
            Finding::Infected
        } else if self.suspicious {
            Finding::Suspicious
        } else {
            Finding::Clean
        };
        Scanned {
            finding,
            md5: hex::encode_upper(self.md5.finalize()),
            sha1: hex::encode_upper(self.sha1.finalize()),
            sha256: hex::encode_upper(self.sha256.finalize()),
            size: self.size,
            kind: FileKind::sniff(&self.head, self.text_like),
        }
    }
}

/// A coarse file type from magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileKind {
    Zip,
    Pdf,
    Text,
    Binary,
}

impl FileKind {
    fn sniff(head: &[u8], text_like: bool) -> Self {
        if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
            FileKind::Zip
        } else if head.starts_with(b"%PDF") {
            FileKind::Pdf
        } else if text_like {
            FileKind::Text
        } else {
            FileKind::Binary
        }
    }
    pub(crate) fn mime(self) -> &'static str {
        match self {
            FileKind::Zip => "application/zip",
            FileKind::Pdf => "application/pdf",
            FileKind::Text => "text/plain",
            FileKind::Binary => "application/octet-stream",
        }
    }
    pub(crate) fn description(self) -> &'static str {
        match self {
            FileKind::Zip => "Zip archive data",
            FileKind::Pdf => "Adobe Portable Document Format",
            FileKind::Text => "ASCII text",
            FileKind::Binary => "data",
        }
    }
    pub(crate) fn category(self) -> &'static str {
        match self {
            FileKind::Zip => "Z",
            FileKind::Pdf => "D",
            FileKind::Text => "T",
            FileKind::Binary => "O",
        }
    }
    pub(crate) fn extension(self) -> &'static str {
        match self {
            FileKind::Zip => "zip",
            FileKind::Pdf => "pdf",
            FileKind::Text => "txt",
            FileKind::Binary => "bin",
        }
    }
}

/// Copies `input` to `output` with every pattern occurrence overwritten by
/// `_` (the simulator's stand-in for Deep CDR). Returns the number of
/// occurrences removed. Works in bounded memory.
pub(crate) fn sanitize_copy(
    patterns: &Patterns,
    mut input: impl std::io::Read,
    mut output: impl std::io::Write,
) -> std::io::Result<u64> {
    let keep = patterns.longest.saturating_sub(1);
    let mut buf: Vec<u8> = Vec::with_capacity(1 << 20);
    let mut chunk = vec![0u8; 1 << 20];
    let mut removed = 0u64;
    loop {
        let n = input.read(&mut chunk)?;
        buf.extend_from_slice(&chunk[..n]);
        for p in patterns.all() {
            let mut from = 0;
            while let Some(i) = memchr::memmem::find(&buf[from..], p) {
                let at = from + i;
                buf[at..at + p.len()].fill(b'_');
                removed += 1;
                from = at + p.len();
            }
        }
        if n == 0 {
            output.write_all(&buf)?;
            output.flush()?;
            return Ok(removed);
        }
        let cut = buf.len().saturating_sub(keep);
        output.write_all(&buf[..cut])?;
        buf.drain(..cut);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eicar_has_the_standard_length_and_shape() {
        let e = eicar_test_bytes();
        assert_eq!(e.len(), 68);
        assert!(e.starts_with(b"X5O!"));
        assert!(e.ends_with(b"H*"));
    }

    fn scan_in_chunks(data: &[u8], chunk: usize) -> Scanned {
        let p = Patterns::new(&[b"BADNESS".to_vec()]);
        let mut s = Scanner::new(&p);
        for c in data.chunks(chunk) {
            s.update(c);
        }
        s.finish()
    }

    #[test]
    fn finds_patterns_across_chunk_borders() {
        let mut data = vec![b'a'; 1000];
        data.extend(eicar_test_bytes());
        data.extend(vec![b'b'; 1000]);
        for chunk in [1, 7, 64, 5000] {
            assert_eq!(
                scan_in_chunks(&data, chunk).finding,
                Finding::Infected,
                "chunk {chunk}"
            );
        }
        let mut sus = b"xxBADNxx".to_vec();
        assert_eq!(scan_in_chunks(&sus, 3).finding, Finding::Clean);
        sus.extend(b"BADNESS");
        assert_eq!(scan_in_chunks(&sus, 3).finding, Finding::Suspicious);
    }

    #[test]
    fn hashes_and_sniffs() {
        let s = scan_in_chunks(b"hello", 2);
        assert_eq!(s.md5, "5D41402ABC4B2A76B9719D911017C592");
        assert_eq!(s.size, 5);
        assert_eq!(s.kind, FileKind::Text);
        assert_eq!(scan_in_chunks(b"PK\x03\x04zz", 1).kind, FileKind::Zip);
        assert_eq!(scan_in_chunks(&[0u8, 1, 2], 1).kind, FileKind::Binary);
    }

    #[test]
    fn sanitizing_removes_every_occurrence() {
        let p = Patterns::new(&[b"BADNESS".to_vec()]);
        let mut data = b"BADNESS and ".to_vec();
        data.extend(eicar_test_bytes());
        data.extend(b" end");
        let mut out = Vec::new();
        let n = sanitize_copy(&p, &data[..], &mut out).unwrap();
        assert_eq!(n, 2);
        assert_eq!(out.len(), data.len());
        let rescanned = {
            let mut s = Scanner::new(&p);
            s.update(&out);
            s.finish()
        };
        assert_eq!(rescanned.finding, Finding::Clean);
    }
}
