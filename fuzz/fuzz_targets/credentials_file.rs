//! The credentials file (`serve --credentials FILE`): any text parses or is refused with a
//! message, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(file) = tidemark_auth::CredentialsFile::parse(&text) {
        assert!(
            !file.is_empty(),
            "a parsed file has at least one credential"
        );
    }
});
