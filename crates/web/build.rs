//! Embeds every file under `static/` in the binary, with a version derived from their
//! content: assets are served under `/static/<version>/…` and cached for a year. The
//! diagnostic's illustrations and voice (`data/diagnostic/{illustrations,voix}`) are
//! embedded the same way, under `diagnostic/`.
//!
//! Text files (CSS, JS, SVG, …) are also embedded compressed, gzip and brotli, at the
//! highest levels: compressed once here, they cost nothing per request.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The extensions worth compressing; fonts and images are already compressed.
const COMPRESSIBLE: &[&str] = &[
    "css",
    "js",
    "mjs",
    "svg",
    "json",
    "webmanifest",
    "md",
    "txt",
    "ico",
];

fn main() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = manifest.join("static");
    let data = manifest.join("../../data");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let mut files = Vec::new();
    for dir in [
        root.clone(),
        data.join("diagnostic/illustrations"),
        data.join("diagnostic/voix"),
    ] {
        println!("cargo:rerun-if-changed={}", dir.display());
        collect(&dir, &mut files);
    }
    files.sort();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325; // FNV-1a over names and contents
    let mut table = String::from("pub static FILES: &[Asset] = &[\n");
    for (i, file) in files.iter().enumerate() {
        let name = match file.strip_prefix(&root) {
            Ok(name) => name.to_path_buf(),
            Err(_) => file.strip_prefix(&data).unwrap().to_path_buf(),
        };
        let name = name.to_str().unwrap().replace('\\', "/");
        let bytes = std::fs::read(file).unwrap();
        for b in name.bytes().chain(bytes.iter().copied()) {
            hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        let compressible = file
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| COMPRESSIBLE.contains(&e));
        let (gzip, brotli) = if compressible {
            (
                embed(&out, i, "gz", &gzip(&bytes), bytes.len()),
                embed(&out, i, "br", &brotli(&bytes), bytes.len()),
            )
        } else {
            ("None".to_owned(), "None".to_owned())
        };
        writeln!(
            table,
            "    Asset {{ name: {name:?}, bytes: include_bytes!({:?}), gzip: {gzip}, brotli: {brotli} }},",
            file.display().to_string()
        )
        .unwrap();
    }
    table.push_str("];\n");
    writeln!(table, "pub const VERSION: &str = \"{:08x}\";", hash as u32).unwrap();
    std::fs::write(out.join("assets.rs"), table).unwrap();
}

/// Writes a compressed copy into `OUT_DIR` and returns the expression that embeds it,
/// or `None` when compressing does not make the file smaller.
fn embed(out: &Path, index: usize, ext: &str, compressed: &[u8], original: usize) -> String {
    if compressed.len() >= original {
        return "None".to_owned();
    }
    let path = out.join(format!("asset-{index}.{ext}"));
    std::fs::write(&path, compressed).unwrap();
    format!("Some(include_bytes!({:?}))", path.display().to_string())
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn brotli(bytes: &[u8]) -> Vec<u8> {
    let mut compressed = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &bytes[..], &mut compressed, &params).unwrap();
    compressed
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, files);
        } else {
            files.push(path);
        }
    }
}
