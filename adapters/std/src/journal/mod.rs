//! The write-ahead journal of money-moving calls: where each call's [`JournalRecord`] is kept
//! before every send, so that a crash, a kill or a lost machine never loses or doubles one.
//!
//! Two backends behind one interface, [`Journal`]:
//!
//! * [`FileJournal`] (the default): one file on this machine, shared by its processes
//!   (`flock`), each write `fsync`ed;
//! * [`PgJournal`] (feature `postgres`): a PostgreSQL database shared by the replicas of a back
//!   office, each entry driven under a lease with a fencing token, each write one commit.
//!
//! [`open`] picks one from a location: a `postgres://` or `postgresql://` URL (libpq's form;
//! `?host=/dir` for a Unix socket) is a database, anything else a file path.
//!
//! Driving a call takes its entry's [`Lease`] first ([`Journal::try_lease`]): `None` means
//! another live process drives it (it is left alone). Every write and every renewal names the
//! lease; a process whose lease was taken over (it was paused, or cut off, for longer than the
//! lease) is *fenced*: its writes fail with [`fenced`] and it stops.

use std::io;
use std::path::PathBuf;

use konaplate_core::field::SequenceId;
use konaplate_core::flow::JournalRecord;

mod file;
#[cfg(feature = "postgres")]
mod pg;

pub use file::{EntryLock, FileJournal};
#[cfg(feature = "postgres")]
pub use pg::PgJournal;

/// A journal backend. Methods take `&mut self`: a database backend talks to its server.
pub trait Journal: std::fmt::Debug {
    /// Where it is, for messages: a path, or a URL without its password.
    fn location(&self) -> String;

    /// What opening or reading found wrong (torn tails cut, damage skipped), once each.
    fn take_warnings(&mut self) -> Vec<String>;

    /// The latest record of `sequence_id`, read now.
    fn latest_of(&mut self, sequence_id: &SequenceId) -> io::Result<Option<JournalRecord>>;

    /// The latest record of every sequenceId, in the order they first appeared.
    fn latest(&mut self) -> io::Result<Vec<JournalRecord>>;

    /// The entries `recover` resolves with the platform (sending, in doubt, pending).
    fn unfinished(&mut self) -> io::Result<Vec<JournalRecord>> {
        Ok(self
            .latest()?
            .into_iter()
            .filter(|r| r.state.awaits_platform())
            .collect())
    }

    /// Every record written, in order (the full history).
    fn records(&mut self) -> io::Result<Vec<JournalRecord>>;

    /// Durably writes `record` (on disk, or committed, before `Ok`), refusing one that would
    /// replace a final state by a different one. With a lease, only while it is still this
    /// process's (else [`fenced`]); without one (an operator's record), only while no live
    /// process drives the entry.
    fn append(&mut self, record: &JournalRecord, lease: Option<&Lease>) -> io::Result<()>;

    /// Takes the lease of `sequence_id`'s entry without waiting: `None` when another live
    /// process drives that call.
    fn try_lease(&mut self, sequence_id: &SequenceId) -> io::Result<Option<Lease>>;

    /// Extends the lease (a driver calls it while it waits on the platform); [`fenced`] when
    /// it was taken over.
    fn renew(&mut self, lease: &Lease) -> io::Result<()>;

    /// Gives the lease up.
    fn release(&mut self, lease: Lease) -> io::Result<()>;

    /// `true` when a live process holds the lease of `sequence_id`.
    fn is_driven_elsewhere(&mut self, sequence_id: &SequenceId) -> io::Result<bool>;
}

/// The right to drive one entry: while held (and not expired), no other process drives it.
#[derive(Debug)]
pub struct Lease {
    sequence_id: SequenceId,
    kind: LeaseKind,
}

#[derive(Debug)]
enum LeaseKind {
    /// The entry's lock file, held by this process (the OS drops it when the process dies).
    File(EntryLock),
    /// A database lease: the fencing token it was granted with.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    Token(i64),
}

impl Lease {
    /// The entry's sequenceId.
    pub fn sequence_id(&self) -> &SequenceId {
        &self.sequence_id
    }

    /// The fencing token (a database lease; 0 for a file lock): every take-over of the entry
    /// grants a larger one, and a write under a smaller one is refused.
    pub fn token(&self) -> i64 {
        match self.kind {
            LeaseKind::File(_) => 0,
            LeaseKind::Token(t) => t,
        }
    }
}

/// A write or renewal under a lease that another process has taken over.
#[derive(Debug)]
struct Fenced {
    sequence_id: SequenceId,
    token: i64,
}

impl std::fmt::Display for Fenced {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "journal: the lease of sequenceId {} (token {}) was taken over by another process; this one stops and writes nothing more",
            self.sequence_id, self.token
        )
    }
}

impl std::error::Error for Fenced {}

/// The error of a write or renewal under a lease that another process has taken over.
pub fn fenced(sequence_id: &SequenceId, token: i64) -> io::Error {
    io::Error::new(
        io::ErrorKind::PermissionDenied,
        Fenced {
            sequence_id: *sequence_id,
            token,
        },
    )
}

/// `true` for the error [`fenced`] makes.
pub fn is_fenced(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<Fenced>())
}

impl Journal for FileJournal {
    fn location(&self) -> String {
        self.path().display().to_string()
    }
    fn take_warnings(&mut self) -> Vec<String> {
        FileJournal::take_warnings(self)
    }
    fn latest_of(&mut self, sequence_id: &SequenceId) -> io::Result<Option<JournalRecord>> {
        self.reload()?;
        Ok(FileJournal::latest_of(self, sequence_id).cloned())
    }
    fn latest(&mut self) -> io::Result<Vec<JournalRecord>> {
        self.reload()?;
        Ok(FileJournal::latest(self))
    }
    fn records(&mut self) -> io::Result<Vec<JournalRecord>> {
        FileJournal::records(self)
    }
    fn append(&mut self, record: &JournalRecord, _lease: Option<&Lease>) -> io::Result<()> {
        // the entry lock is held by the OS for this process until it dies: no take-over
        FileJournal::append(self, record)
    }
    fn try_lease(&mut self, sequence_id: &SequenceId) -> io::Result<Option<Lease>> {
        Ok(self.try_lock_entry(sequence_id)?.map(|lock| Lease {
            sequence_id: *sequence_id,
            kind: LeaseKind::File(lock),
        }))
    }
    fn renew(&mut self, _lease: &Lease) -> io::Result<()> {
        Ok(())
    }
    fn release(&mut self, lease: Lease) -> io::Result<()> {
        match lease.kind {
            LeaseKind::File(lock) => self.release_entry(lock),
            LeaseKind::Token(_) => Ok(()),
        }
    }
    fn is_driven_elsewhere(&mut self, sequence_id: &SequenceId) -> io::Result<bool> {
        FileJournal::is_driven_elsewhere(self, sequence_id)
    }
}

/// `true` when `location` names a PostgreSQL database (`postgres://` or `postgresql://`).
pub fn is_database_url(location: &str) -> bool {
    let l = location.trim_start();
    l.starts_with("postgres://") || l.starts_with("postgresql://")
}

/// Why `location`, not a PostgreSQL URL, must not be taken for a file path either: another
/// URL scheme, or libpq's `key=value` connection string (both would silently become a file
/// of that name, and the replicas would not share their journal).
fn not_a_path(location: &str) -> Option<String> {
    let l = location.trim_start();
    if let Some((scheme, _)) = l.split_once("://")
        && !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    {
        return Some(format!(
            "`{scheme}://` is not a journal this version opens: a file path, or a postgres:// or postgresql:// URL"
        ));
    }
    const LIBPQ_KEYS: [&str; 8] = [
        "host",
        "hostaddr",
        "port",
        "dbname",
        "user",
        "password",
        "sslmode",
        "application_name",
    ];
    let key_value = l.split_whitespace().any(|word| {
        word.split_once('=')
            .is_some_and(|(k, _)| LIBPQ_KEYS.contains(&k))
    });
    key_value.then(|| {
        "this looks like libpq's key=value connection string: give the database as a URL, postgresql://user@host/dbname (?host=/dir for a Unix socket)".to_string()
    })
}

/// Opens the journal at `location`: a PostgreSQL URL (see [`is_database_url`]; `lease` is how
/// long an entry stays this process's without a renewal), or a file path. Another URL scheme,
/// or libpq's `key=value` form, is refused rather than taken for a file name.
pub fn open(location: &str, lease: std::time::Duration) -> io::Result<Box<dyn Journal>> {
    if is_database_url(location) {
        #[cfg(feature = "postgres")]
        return Ok(Box::new(PgJournal::connect(location, lease)?));
        #[cfg(not(feature = "postgres"))]
        {
            let _ = lease;
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "a PostgreSQL journal needs konaplate's feature `postgres`",
            ));
        }
    }
    let _ = lease;
    if let Some(why) = not_a_path(location) {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, why));
    }
    Ok(Box::new(FileJournal::open(location)?))
}

/// The default journal location: `$KONAPLATE_JOURNAL`, else
/// `$XDG_STATE_HOME/konaplate/journal.kpj`, else `~/.local/state/konaplate/journal.kpj`.
pub fn default_path() -> PathBuf {
    if let Some(p) = std::env::var_os("KONAPLATE_JOURNAL") {
        return PathBuf::from(p);
    }
    let base = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("."))
                .join(".local/state")
        });
    base.join("konaplate").join("journal.kpj")
}

#[cfg(test)]
mod tests {
    use super::not_a_path;

    #[test]
    fn other_urls_and_key_value_strings_are_not_file_paths() {
        for refused in [
            "mysql://kp@db/ledger",
            "file:///var/lib/konaplate/journal.kpj",
            "host=/run/postgresql dbname=ledger",
            "  dbname=ledger user=kp",
        ] {
            assert!(not_a_path(refused).is_some(), "{refused}");
        }
        for path in [
            "journal.kpj",
            "/var/lib/konaplate/journal.kpj",
            "./a=b.kpj",
            "C:\\konaplate\\journal.kpj",
            "tills/host-7.kpj",
        ] {
            assert_eq!(not_a_path(path), None, "{path}");
        }
    }
}
