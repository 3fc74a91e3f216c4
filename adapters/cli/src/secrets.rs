//! The one-time token and DCVV: from an option, the environment (`KONAPLATE_ONE_TIME_TOKEN`,
//! `KONAPLATE_DCVV`) or standard input (`-`), so that they need not sit on a command line that
//! every local user can read in `ps` for the hour a charge may poll.

use std::io::Read;

use konaplate::core::field::*;
use zeroize::Zeroizing;

use crate::output::{Done, exit, field};

/// Validates the token and (when asked) the DCVV. A value `-` is read from standard input:
/// whitespace-separated, the token first, then the DCVV, in that order for those given as `-`.
pub fn token_and_dcvv(
    token: &str,
    dcvv: Option<&str>,
) -> Result<(OneTimeToken, Option<Dcvv>), Done> {
    let wanted = usize::from(token == "-") + usize::from(dcvv == Some("-"));
    let input = if wanted > 0 {
        read_stdin()?
    } else {
        Zeroizing::new(String::new())
    };
    let mut words = input.split_whitespace();
    let mut take = |v: &str, what: &str| -> Result<Zeroizing<String>, Done> {
        if v != "-" {
            return Ok(Zeroizing::new(v.to_string()));
        }
        words
            .next()
            .map(|w| Zeroizing::new(w.to_string()))
            .ok_or_else(|| {
                Done::fail(
                    exit::INPUT,
                    format!("{what} `-`: standard input ended before it; nothing was sent"),
                )
            })
    };
    let t = take(token, "--one-time-token")?;
    let d = dcvv.map(|d| take(d, "--dcvv")).transpose()?;
    let token = field(OneTimeToken::new(&t))?;
    let dcvv = d.map(|d| field(Dcvv::new(&d))).transpose()?;
    Ok((token, dcvv))
}

fn read_stdin() -> Result<Zeroizing<String>, Done> {
    let mut buf = Zeroizing::new(Vec::with_capacity(64));
    std::io::stdin()
        .take(4096)
        .read_to_end(&mut buf)
        .map_err(|e| Done::fail(exit::INPUT, format!("cannot read standard input: {e}")))?;
    let text = String::from_utf8(buf.to_vec())
        .map_err(|_| Done::fail(exit::INPUT, "standard input is not UTF-8 text"))?;
    Ok(Zeroizing::new(text))
}
