//! Replays every committed fuzz corpus and crash artifact through the same fuzz bodies the
//! cargo-fuzz targets call, so `cargo test --features fuzzing` on stable checks them all (the
//! bodies exist only with that feature; Cargo.toml gives this test `required-features`).

use std::path::Path;

#[test]
fn every_corpus_file_passes_its_fuzz_body() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut replayed = 0usize;
    for (name, body) in vestibule::fuzzing::all() {
        let mut files_for_target = 0usize;
        for dir in ["corpus", "artifacts"] {
            let Ok(entries) = std::fs::read_dir(root.join(dir).join(name)) else {
                continue;
            };
            for entry in entries {
                let path = entry.unwrap().path();
                if path.is_file() {
                    let data = std::fs::read(&path).unwrap();
                    let result = std::panic::catch_unwind(|| body(&data));
                    assert!(
                        result.is_ok(),
                        "fuzz target {name} fails on {}",
                        path.display()
                    );
                    files_for_target += 1;
                }
            }
        }
        assert!(
            files_for_target > 0,
            "fuzz target {name} has no committed corpus"
        );
        replayed += files_for_target;
    }
    eprintln!("replayed {replayed} corpus files");
}

#[test]
fn every_fuzz_target_has_a_cargo_fuzz_binary() {
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/Cargo.toml"))
            .unwrap();
    for (name, _) in vestibule::fuzzing::all() {
        assert!(
            manifest.contains(&format!("name = \"{name}\"")),
            "fuzz/Cargo.toml lacks target {name}"
        );
        assert!(Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("fuzz/fuzz_targets/{name}.rs"))
            .exists());
    }
}
