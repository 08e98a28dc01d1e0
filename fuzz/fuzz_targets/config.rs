#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| vestibule::server::config::fuzz_config_file(data));
