//! Puts memory.x where cortex-m-rt's link.x finds it, and the sandbox's test keys (PEM) as
//! DER where the software-RSA image (feature `rsa`) includes them.
use std::{env, fs, path::PathBuf};

/// The DER inside a PEM text (standard base64 between the armour lines).
fn pem_to_der(pem: &str) -> Vec<u8> {
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .flat_map(|l| l.bytes())
    {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => continue, // padding and whitespace
        };
        bits = (bits << 6) | u32::from(v);
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    out
}

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").unwrap());
    fs::copy("memory.x", out.join("memory.x")).unwrap();
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory.x");
    for name in ["server_public", "client_private"] {
        let pem = format!("../sandbox/keys/{name}.pem");
        println!("cargo:rerun-if-changed={pem}");
        let der = pem_to_der(&fs::read_to_string(&pem).unwrap());
        fs::write(out.join(format!("{name}.der")), der).unwrap();
    }
}
