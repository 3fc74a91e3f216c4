//! The write-ahead journal on disk: the core's [`JournalRecord`]s appended to one file, each
//! write followed by `fsync`, shared safely by concurrent processes of one machine.
//!
//! * **Locking.** Every read-modify-append takes an exclusive lock on the journal file for a
//!   few milliseconds, so concurrent processes never interleave or tear each other's records.
//!   A process *driving* a call (sending it, polling its inquiry for an hour) holds a lock on
//!   that call's own lock file (`<journal>.locks/<sequenceId>.lock`) instead, so it never
//!   blocks a new charge, and `recover` skips an entry that a live process is driving
//!   ([`FileJournal::try_lock_entry`]). The operating system drops both locks when a process
//!   dies.
//! * **Torn tails.** A power loss can cut the last write anywhere. On open (and before every
//!   append) a torn tail is cut back to the last whole record and the cut is fsynced, so a
//!   new record never lands after a fragment. Damage elsewhere is reported
//!   ([`FileJournal::take_warnings`]), never skipped in silence, and the records after it are still
//!   read.
//! * **Final is final.** A record that would replace a final state (completed, declined,
//!   failed, not processed) by a different one is refused.
//! * **Private.** The file is created `0600`, new directories `0700` (the records hold
//!   member IDs, amounts and transaction numbers, never a token, DCVV or key), and the parent
//!   directory is fsynced after the file or a directory is created.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use konaplate_core::field::SequenceId;
use konaplate_core::flow::{Item, JournalRecord, Repair, repair_len, scan};

/// An append-only journal file shared by processes.
#[derive(Debug)]
pub struct FileJournal {
    path: PathBuf,
    file: File,
    /// Bytes of the file already read into `latest`; always at the end of a whole record.
    seen: u64,
    latest: HashMap<SequenceId, JournalRecord>,
    /// First appearance of every sequenceId, for a stable listing order.
    order: Vec<SequenceId>,
    warnings: Vec<String>,
}

/// Holds the exclusive journal lock until dropped.
struct Locked<'a>(&'a File);

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

fn lock(file: &File) -> io::Result<Locked<'_>> {
    file.lock()?;
    Ok(Locked(file))
}

#[cfg(unix)]
fn private_file(o: &mut OpenOptions) -> &mut OpenOptions {
    use std::os::unix::fs::OpenOptionsExt;
    o.mode(0o600)
}
#[cfg(not(unix))]
fn private_file(o: &mut OpenOptions) -> &mut OpenOptions {
    o
}

/// Creates `dir` and its missing parents as private directories, fsyncing each parent.
fn create_private_dirs(dir: &Path) -> io::Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        create_private_dirs(parent)?;
    }
    let mut b = fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    match b.create(dir) {
        Ok(()) => sync_parent(dir),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Makes the directory entry of `path` durable.
fn sync_parent(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        File::open(parent)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

fn journal_error(path: &Path, what: impl std::fmt::Display) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("journal {}: {what}", path.display()),
    )
}

impl FileJournal {
    /// Opens (creating it and its directory when missing) the journal at `path`, cuts a torn
    /// tail and reads every record. Damaged regions are listed in [`FileJournal::take_warnings`].
    /// A file that holds no record and does not start like one is refused (it is not a
    /// journal, and is never cut).
    pub fn open(path: impl AsRef<Path>) -> io::Result<Self> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent() {
            create_private_dirs(dir)?;
        }
        let existed = path.exists();
        let file =
            private_file(OpenOptions::new().read(true).append(true).create(true)).open(&path)?;
        if !existed {
            file.sync_all()?;
            sync_parent(&path)?;
        }
        let mut j = Self {
            path,
            file,
            seen: 0,
            latest: HashMap::new(),
            order: Vec::new(),
            warnings: Vec::new(),
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = j.file.metadata()?.permissions().mode();
            if mode & 0o077 != 0 {
                j.file.set_permissions(fs::Permissions::from_mode(0o600))?;
                j.warnings.push(format!(
                    "journal {}: was readable by others (mode {:o}); now 0600",
                    j.path.display(),
                    mode & 0o777
                ));
            }
        }
        j.reload()?;
        Ok(j)
    }

    /// Reads what other processes appended since the last read, cutting a torn tail. Call
    /// with the journal lock held.
    fn refresh(&mut self, file: &File) -> io::Result<()> {
        let len = file.metadata()?.len();
        if len < self.seen {
            // cut by another process (a torn tail): read everything again
            self.seen = 0;
            self.latest.clear();
            self.order.clear();
        }
        if len == self.seen {
            return Ok(());
        }
        let mut bytes = Vec::with_capacity((len - self.seen) as usize);
        let mut f = file;
        f.seek(SeekFrom::Start(self.seen))?;
        f.take(len - self.seen).read_to_end(&mut bytes)?;
        match repair_len(&bytes) {
            Repair::Whole => {}
            Repair::CutTo(n) => {
                let cut = bytes.len() - n;
                file.set_len(self.seen + n as u64)?;
                file.sync_all()?;
                bytes.truncate(n);
                self.warnings.push(format!(
                    "journal {}: cut {cut} bytes of a torn write at offset {} (a write interrupted by a crash or power loss; the records before it are intact)",
                    self.path.display(),
                    self.seen + n as u64
                ));
            }
            Repair::NotAJournal if self.seen == 0 => {
                return Err(journal_error(
                    &self.path,
                    "is not a konaplate journal (no record, and it does not start like one); refusing to touch it",
                ));
            }
            Repair::NotAJournal => {
                // garbage after whole records: only a torn write can put it there
                file.set_len(self.seen)?;
                file.sync_all()?;
                self.warnings.push(format!(
                    "journal {}: cut {} unreadable bytes at its end",
                    self.path.display(),
                    bytes.len()
                ));
                bytes.clear();
            }
            // a repair this version does not know: touch nothing
            _ => {
                return Err(journal_error(
                    &self.path,
                    "needs a repair this version of konaplate does not know; refusing to touch it",
                ));
            }
        }
        for item in scan(&bytes) {
            match item {
                Item::Record { record, .. } => self.learn(record),
                Item::Damaged { offset, len } => self.warnings.push(format!(
                    "journal {}: {len} damaged bytes at offset {} skipped; the records after them are read",
                    self.path.display(),
                    self.seen + offset as u64
                )),
                _ => self.warnings.push(format!("journal {}: an item this version does not know was skipped", self.path.display())),
            }
        }
        self.seen += bytes.len() as u64;
        Ok(())
    }

    fn learn(&mut self, record: JournalRecord) {
        let seq = record.sequence_id;
        if self.latest.insert(seq, record).is_none() {
            self.order.push(seq);
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What opening or reading the journal found wrong (torn tails cut, damaged regions
    /// skipped, loose permissions tightened), once each; print them to the operator.
    pub fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    /// Re-reads what other processes appended.
    pub fn reload(&mut self) -> io::Result<()> {
        let file = self.file.try_clone()?;
        let _guard = lock(&file)?;
        self.refresh(&file)
    }

    /// The latest record of `sequence_id`, as of the last read.
    pub fn latest_of(&self, sequence_id: &SequenceId) -> Option<&JournalRecord> {
        self.latest.get(sequence_id)
    }

    /// The latest record of every sequenceId, in the order they first appeared.
    pub fn latest(&self) -> Vec<JournalRecord> {
        self.order
            .iter()
            .filter_map(|s| self.latest.get(s))
            .cloned()
            .collect()
    }

    /// The entries `recover` resolves with the platform (sending, in doubt, pending).
    pub fn unfinished(&self) -> Vec<JournalRecord> {
        self.latest()
            .into_iter()
            .filter(|r| r.state.awaits_platform())
            .collect()
    }

    /// Every record whole and readable, in the order written (the full history).
    pub fn records(&self) -> io::Result<Vec<JournalRecord>> {
        let mut bytes = Vec::new();
        File::open(&self.path)?.read_to_end(&mut bytes)?;
        Ok(scan(&bytes)
            .filter_map(|i| match i {
                Item::Record { record, .. } => Some(record),
                _ => None,
            })
            .collect())
    }

    /// Durably appends `record`: under the journal lock, after reading what others appended,
    /// refusing a record that would replace a final state by a different one.
    pub fn append(&mut self, record: &JournalRecord) -> io::Result<()> {
        let file = self.file.try_clone()?;
        let _guard = lock(&file)?;
        self.refresh(&file)?;
        if let Some(prev) = self.latest.get(&record.sequence_id)
            && !record.may_follow(prev)
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "journal: sequenceId {} is recorded as {:?} ({:?}); refusing to record {:?} {:?} over it",
                    record.sequence_id, prev.state, prev.op, record.state, record.op
                ),
            ));
        }
        let mut f = &file;
        f.write_all(&record.encode())?;
        file.sync_data()?;
        self.seen += JournalRecord::LEN as u64;
        self.learn(record.clone());
        Ok(())
    }

    /// The lock file of `sequence_id`'s entry.
    fn entry_lock_path(&self, sequence_id: &SequenceId) -> PathBuf {
        let mut dir = self.path.clone().into_os_string();
        dir.push(".locks");
        PathBuf::from(dir).join(format!("{}.lock", sequence_id.as_str()))
    }

    /// Takes the entry lock of `sequence_id` without waiting: `None` when another live
    /// process drives that call. Hold it while driving the call; the OS releases it if the
    /// process dies.
    pub fn try_lock_entry(&self, sequence_id: &SequenceId) -> io::Result<Option<EntryLock>> {
        let path = self.entry_lock_path(sequence_id);
        if let Some(dir) = path.parent() {
            create_private_dirs(dir)?;
        }
        // opened and tried under the journal lock, so that a lock file is never removed
        // between another process opening it and locking it
        let _guard = lock(&self.file)?;
        let file =
            private_file(OpenOptions::new().read(true).write(true).create(true)).open(&path)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(EntryLock {
                file,
                path,
                sequence_id: *sequence_id,
            })),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(e)) => Err(e),
        }
    }

    /// Releases an entry lock and removes its file when the entry no longer needs one (it
    /// is final, or awaits an operator).
    pub fn release_entry(&self, entry: EntryLock) -> io::Result<()> {
        let open = self
            .latest
            .get(&entry.sequence_id)
            .is_some_and(|r| r.state.awaits_platform());
        if !open {
            let _guard = lock(&self.file)?;
            let _ = fs::remove_file(&entry.path);
        }
        drop(entry);
        Ok(())
    }

    /// `true` when a live process holds the entry lock of `sequence_id`.
    pub fn is_driven_elsewhere(&self, sequence_id: &SequenceId) -> io::Result<bool> {
        let path = self.entry_lock_path(sequence_id);
        if !path.exists() {
            return Ok(false);
        }
        Ok(self.try_lock_entry(sequence_id)?.is_none())
    }
}

/// The lock on one journal entry: while held, no other process drives that call.
#[derive(Debug)]
pub struct EntryLock {
    file: File,
    path: PathBuf,
    sequence_id: SequenceId,
}

impl Drop for EntryLock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}
