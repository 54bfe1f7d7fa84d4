//! A peer's own test suite: the lines rustrict's authors wrote to test their filter
//! (`test_positive.txt`: should be flagged; `test_negative.txt`, `test_safe.txt` and
//! `safe.txt`: should not), read from the rustrict crate's source in the local cargo
//! registry (it is a dev-dependency). Skipped, with a printed reason, when the source is not
//! there.

use std::path::PathBuf;

mod chat;

use chat::Poster;

use steward::rules;

/// The rustrict crate's `src` folder in the cargo registry.
fn rustrict_source() -> Option<PathBuf> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))?;
    let registry = std::fs::read_dir(home.join("registry").join("src")).ok()?;
    registry
        .filter_map(Result::ok)
        .map(|index| index.path().join("rustrict-0.7.39").join("src"))
        .find(|src| src.join("test_positive.txt").exists())
}

fn lines(src: &std::path::Path, file: &str) -> Vec<String> {
    let text = std::fs::read_to_string(src.join(file)).unwrap_or_default();
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn the_peer_suite_is_flagged_as_its_authors_expect() {
    let Some(src) = rustrict_source() else {
        println!("skipped: the rustrict 0.7.39 source is not in the cargo registry");
        return;
    };
    let rules = rules::example().expect("example rules load");
    let mut poster = Poster::new(&rules);
    let mut rate = |texts: &[String]| {
        let mut hits = Vec::new();
        let mut misses = Vec::new();
        for text in texts {
            if poster.flags(text) {
                hits.push(text.clone());
            } else {
                misses.push(text.clone());
            }
        }
        (hits, misses)
    };
    let positive = lines(&src, "test_positive.txt");
    let mut negative = lines(&src, "test_negative.txt");
    negative.extend(lines(&src, "test_safe.txt"));
    negative.extend(lines(&src, "safe.txt"));
    let (caught, missed) = rate(&positive);
    let (wrong, _) = rate(&negative);
    let recall = caught.len() as f64 / positive.len() as f64;
    let false_rate = wrong.len() as f64 / negative.len() as f64;
    println!(
        "positives flagged: {}/{} = {:.1}%",
        caught.len(),
        positive.len(),
        recall * 100.0
    );
    println!(
        "negatives flagged: {}/{} = {:.2}%: {wrong:?}",
        wrong.len(),
        negative.len(),
        false_rate * 100.0
    );
    for m in missed.iter().step_by(25) {
        println!("  missed {m:?}");
    }
    // Floors at what steward reaches today, so that a change that loses ground fails.
    assert!(recall >= 0.73, "positives flagged {recall:.3}");
    assert!(false_rate <= 0.005, "negatives flagged {false_rate:.4}");
}
