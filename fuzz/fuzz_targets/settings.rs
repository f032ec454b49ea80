//! The settings file: any text parses and validates, or is refused with an error
//! naming the problem; never a panic. Settings that are accepted print (`accord
//! config print`) as text that parses back to the same settings, but for the NATS
//! URL's password, which printing hides; printing those again gives the same text.
#![no_main]

use accord::settings::Settings;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let path = std::path::Path::new("fuzz.toml");
    if let Ok(settings) = Settings::from_toml(text, path) {
        let printed = settings.to_toml();
        let again = Settings::from_toml(&printed, path)
            .unwrap_or_else(|e| panic!("printed settings refused: {e}\n{printed}"));
        let mut shown = settings.clone();
        shown.nats_url = accord_bus::redact(&settings.nats_url);
        assert_eq!(again, shown, "printed settings read back differently");
        assert_eq!(again.to_toml(), printed, "printing is not stable");
    }
});
