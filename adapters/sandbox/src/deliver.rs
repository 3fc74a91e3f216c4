//! How an answer goes out over the connection, with the fault armed for it, if any.

use std::io;
use std::net::{Shutdown, TcpStream};
use std::thread;

use crate::faults::Fault;
use crate::http::write_response;
use crate::routes::Answer;

pub(crate) fn deliver(
    stream: &mut TcpStream,
    a: &Answer,
    extra: &[(&str, String)],
    fault: Option<Fault>,
) -> io::Result<()> {
    match fault {
        Some(Fault::DropAfterCommit) => stream.shutdown(Shutdown::Both),
        Some(Fault::Delay(d)) => {
            thread::sleep(d);
            write_response(stream, a.status, extra, &a.body, None, None)
        }
        Some(Fault::Status(s)) => {
            write_response(stream, s, extra, b"Internal Server Error", None, None)
        }
        Some(Fault::TruncatedBody) => {
            let half = a.body.get(..a.body.len() / 2).unwrap_or_default();
            write_response(stream, a.status, extra, half, None, Some(a.body.len()))?;
            stream.shutdown(Shutdown::Both)
        }
        Some(Fault::InvalidJson) => write_response(
            stream,
            200,
            extra,
            b"{\"response\":{\"code\":\"000_000\",\"descr",
            None,
            None,
        ),
        Some(Fault::WrongContentLength) => {
            write_response(
                stream,
                a.status,
                extra,
                &a.body,
                None,
                Some(a.body.len() + 7),
            )?;
            stream.shutdown(Shutdown::Both)
        }
        Some(Fault::OversizedBody) => {
            let mut big = a.body.clone();
            if big.last() == Some(&b'}') {
                big.pop();
                big.extend_from_slice(b",\"padding\":\"");
                big.resize(big.len() + 100 * 1024, b'x');
                big.extend_from_slice(b"\"}");
            }
            write_response(stream, a.status, extra, &big, None, None)
        }
        Some(Fault::SlowDrip(d)) => write_response(stream, a.status, extra, &a.body, Some(d), None),
        _ => write_response(stream, a.status, extra, &a.body, None, None),
    }
}
