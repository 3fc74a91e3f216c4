//! The chunked transfer coding, decoded in place.

use core::ops::Range;

use super::HttpError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
enum ChunkState {
    Size { val: u64, digits: u8 },
    Ext { val: u64 },
    SizeLf { val: u64 },
    Data { left: u64 },
    DataCr,
    DataLf,
    TrailerStart,
    TrailerLine,
    TrailerLf,
    FinalLf,
    Done,
}

/// Incremental decoder of a chunked body. It works in place: body bytes are moved down over
/// the framing bytes, so input and output share one buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ChunkedDecoder {
    state: ChunkState,
}

impl Default for ChunkedDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl ChunkedDecoder {
    /// A decoder at the start of a chunked body.
    pub const fn new() -> Self {
        Self {
            state: ChunkState::Size { val: 0, digits: 0 },
        }
    }

    /// `true` after the last chunk and the trailer were consumed.
    pub fn is_done(&self) -> bool {
        self.state == ChunkState::Done
    }

    /// Decodes the encoded bytes `buf[read.clone()]`, writing decoded body bytes at
    /// `buf[*write..]` (`*write <= read.start`). Returns how many encoded bytes were consumed
    /// (all of them unless the body ended). `*write` advances by the bytes produced.
    pub fn decode(
        &mut self,
        buf: &mut [u8],
        read: Range<usize>,
        write: &mut usize,
    ) -> Result<usize, HttpError> {
        self.run(&mut InPlace { buf, write }, read)
    }

    /// Follows the framing of `bytes` without changing them: how many were consumed and how
    /// many of those are body bytes. Used to learn whether a chunked body is complete before
    /// decoding it in place.
    pub fn scan(&mut self, bytes: &[u8]) -> Result<(usize, usize), HttpError> {
        let mut s = ReadOnly {
            buf: bytes,
            data: 0,
        };
        let used = self.run(&mut s, 0..bytes.len())?;
        Ok((used, s.data))
    }

    #[inline(never)]
    fn run<B: Bytes>(&mut self, buf: &mut B, read: Range<usize>) -> Result<usize, HttpError> {
        let mut i = read.start;
        let end = read.end.min(buf.len());
        while i < end && self.state != ChunkState::Done {
            if let ChunkState::Data { left } = self.state {
                let n = usize::try_from(left).unwrap_or(usize::MAX).min(end - i);
                buf.data(i, n);
                i += n;
                let left = left - n as u64;
                self.state = if left == 0 {
                    ChunkState::DataCr
                } else {
                    ChunkState::Data { left }
                };
                continue;
            }
            let b = buf.byte(i).ok_or(HttpError::InvalidChunk)?;
            i += 1;
            self.state = match self.state {
                ChunkState::Size { val, digits } => match b {
                    b'0'..=b'9' | b'a'..=b'f' | b'A'..=b'F' => {
                        if digits >= 15 {
                            return Err(HttpError::InvalidChunk);
                        }
                        let d = u64::from((b as char).to_digit(16).unwrap_or(0));
                        ChunkState::Size {
                            val: val * 16 + d,
                            digits: digits + 1,
                        }
                    }
                    b';' | b' ' | b'\t' if digits > 0 => ChunkState::Ext { val },
                    b'\r' if digits > 0 => ChunkState::SizeLf { val },
                    _ => return Err(HttpError::InvalidChunk),
                },
                ChunkState::Ext { val } => match b {
                    b'\r' => ChunkState::SizeLf { val },
                    b'\n' => return Err(HttpError::InvalidChunk),
                    _ => ChunkState::Ext { val },
                },
                ChunkState::SizeLf { val } => match (b, val) {
                    (b'\n', 0) => ChunkState::TrailerStart,
                    (b'\n', left) => ChunkState::Data { left },
                    _ => return Err(HttpError::InvalidChunk),
                },
                ChunkState::DataCr if b == b'\r' => ChunkState::DataLf,
                ChunkState::DataLf if b == b'\n' => ChunkState::Size { val: 0, digits: 0 },
                ChunkState::TrailerStart if b == b'\r' => ChunkState::FinalLf,
                ChunkState::TrailerStart | ChunkState::TrailerLine if b != b'\r' => {
                    if b == b'\n' {
                        return Err(HttpError::InvalidChunk);
                    }
                    ChunkState::TrailerLine
                }
                ChunkState::TrailerLine => ChunkState::TrailerLf,
                ChunkState::TrailerLf if b == b'\n' => ChunkState::TrailerStart,
                ChunkState::FinalLf if b == b'\n' => ChunkState::Done,
                _ => return Err(HttpError::InvalidChunk),
            };
        }
        Ok(i - read.start)
    }
}

/// What the decoder reads from and does with body bytes.
trait Bytes {
    fn len(&self) -> usize;
    fn byte(&self, i: usize) -> Option<u8>;
    /// `n` body bytes at `from`.
    fn data(&mut self, from: usize, n: usize);
}

/// Decoding in place: body bytes move down over the framing.
struct InPlace<'a> {
    buf: &'a mut [u8],
    write: &'a mut usize,
}

impl Bytes for InPlace<'_> {
    fn len(&self) -> usize {
        self.buf.len()
    }
    fn byte(&self, i: usize) -> Option<u8> {
        self.buf.get(i).copied()
    }
    fn data(&mut self, from: usize, n: usize) {
        // the destination always precedes the source: a forward byte copy, which needs no
        // memmove routine
        for k in 0..n {
            let b = self.buf.get(from + k).copied().unwrap_or(0);
            if let Some(d) = self.buf.get_mut(*self.write + k) {
                *d = b;
            }
        }
        *self.write += n;
    }
}

/// Scanning only: body bytes are counted.
struct ReadOnly<'a> {
    buf: &'a [u8],
    data: usize,
}

impl Bytes for ReadOnly<'_> {
    fn len(&self) -> usize {
        self.buf.len()
    }
    fn byte(&self, i: usize) -> Option<u8> {
        self.buf.get(i).copied()
    }
    fn data(&mut self, _from: usize, n: usize) {
        self.data += n;
    }
}
