//! The write-ahead journal on disk: fixed-size records (the core's [`JournalRecord`], 256
//! bytes with a CRC-32) appended to one file, each write followed by `fsync`.
//!
//! The latest record of a sequenceId is its state. A torn record at the end (power lost
//! mid-write) fails its checksum and is ignored, as is any corrupted record; records are
//! fixed-size, so one bad record never hides the ones after it.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use konaplate_core::flow::{Journal, JournalRecord};

/// An append-only journal file.
#[derive(Debug)]
pub struct FileJournal {
    path: PathBuf,
    file: File,
}

impl FileJournal {
    /// Opens (creating it and its directory when missing) the journal at `path`.
    pub fn open(path: impl AsRef<Path>) -> io::Result<Self> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new().create(true).append(true).read(true).open(&path)?;
        Ok(Self { path, file })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every readable record, in the order written.
    pub fn records(&self) -> io::Result<Vec<JournalRecord>> {
        let mut bytes = Vec::new();
        File::open(&self.path)?.read_to_end(&mut bytes)?;
        Ok(bytes.chunks(JournalRecord::LEN).filter_map(|c| JournalRecord::decode(c).ok()).collect())
    }

    /// The latest record of every sequenceId, in the order they first appeared.
    pub fn latest(&self) -> io::Result<Vec<JournalRecord>> {
        let mut out: Vec<JournalRecord> = Vec::new();
        for r in self.records()? {
            match out.iter_mut().find(|x| x.sequence_id == r.sequence_id && x.op == r.op) {
                Some(x) => *x = r,
                None => out.push(r),
            }
        }
        Ok(out)
    }

    /// The entries `recover` must resolve.
    pub fn unfinished(&self) -> io::Result<Vec<JournalRecord>> {
        Ok(self.latest()?.into_iter().filter(|r| r.state.is_unfinished()).collect())
    }
}

impl Journal for FileJournal {
    type Error = io::Error;

    fn record(&mut self, record: &JournalRecord) -> io::Result<()> {
        self.file.write_all(&record.encode())?;
        self.file.sync_data()
    }
}

/// The default journal location: `$KONAPLATE_JOURNAL`, else
/// `$XDG_STATE_HOME/konaplate/journal.kpj`, else `~/.local/state/konaplate/journal.kpj`.
pub fn default_path() -> PathBuf {
    if let Some(p) = std::env::var_os("KONAPLATE_JOURNAL") {
        return PathBuf::from(p);
    }
    let base = std::env::var_os("XDG_STATE_HOME").map(PathBuf::from).unwrap_or_else(|| {
        std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(".")).join(".local/state")
    });
    base.join("konaplate").join("journal.kpj")
}
