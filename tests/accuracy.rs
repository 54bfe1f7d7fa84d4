//! Accuracy of the example rules on the labelled development corpus in
//! `../shared/eval/dev-corpus.jsonl` (skipped, with a printed reason, when it is absent).
//!
//! Each line is posted as a fresh message by an established member into a fresh engine, so
//! only content rules (words, links, scams, message shape) can fire.

use std::path::{Path, PathBuf};

mod chat;

use chat::Poster;

use steward::rules;

fn shared(path: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("shared")
        .join(path);
    p.exists().then_some(p)
}

struct Line {
    text: String,
    label: String,
    note: String,
}

fn corpus() -> Option<Vec<Line>> {
    let path = shared("eval/dev-corpus.jsonl")?;
    let text = std::fs::read_to_string(path).ok()?;
    Some(
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).expect("corpus lines are JSON");
                let field = |k: &str| v[k].as_str().unwrap_or_default().to_string();
                Line {
                    text: field("text"),
                    label: field("label"),
                    note: field("note"),
                }
            })
            .collect(),
    )
}

fn rate(lines: &[&Line], judge: &mut Poster) -> (usize, usize, Vec<String>) {
    let mut hits = 0;
    let mut misses = Vec::new();
    for line in lines {
        if judge.rules_fired(&line.text).is_empty() {
            misses.push(format!("{:?} ({})", line.text, line.note));
        } else {
            hits += 1;
        }
    }
    (hits, lines.len(), misses)
}

fn evaluate(judge: &mut Poster, corpus: &[Line]) -> Vec<String> {
    let mut failures = Vec::new();
    for (label, target) in [("slur", 0.98), ("profanity", 0.95), ("scam", 0.90)] {
        let lines: Vec<&Line> = corpus.iter().filter(|l| l.label == label).collect();
        let (hits, total, misses) = rate(&lines, judge);
        let recall = hits as f64 / total as f64;
        println!("{label} recall: {hits}/{total} = {recall:.3} (target {target})");
        for m in misses.iter().take(10) {
            println!("  missed {m}");
        }
        if recall < target {
            failures.push(format!("{label} recall {recall:.3} < {target}"));
        }
    }
    let clean: Vec<&Line> = corpus.iter().filter(|l| l.label == "clean").collect();
    let mut wrong = Vec::new();
    for line in &clean {
        let rules_hit = judge.rules_fired(&line.text);
        if !rules_hit.is_empty() {
            wrong.push(format!(
                "{:?} ({}) by {}",
                line.text,
                line.note,
                rules_hit.join(",")
            ));
        }
    }
    let share = wrong.len() as f64 / clean.len() as f64;
    println!(
        "clean flagged: {}/{} = {:.2}% (limit 1%)",
        wrong.len(),
        clean.len(),
        share * 100.0
    );
    for w in &wrong {
        println!("  flagged {w}");
    }
    if share > 0.01 {
        failures.push(format!("{:.2}% of clean lines flagged", share * 100.0));
    }
    let traps: Vec<&String> = wrong.iter().filter(|w| w.contains("trap|")).collect();
    if !traps.is_empty() {
        failures.push(format!("Scunthorpe traps flagged: {traps:?}"));
    }
    let spam: Vec<&Line> = corpus.iter().filter(|l| l.label == "spam").collect();
    let (hits, total, _) = rate(&spam, judge);
    println!("spam flagged (informational, single messages only): {hits}/{total}");
    failures
}

#[test]
fn example_rules_meet_the_accuracy_targets() {
    let Some(corpus) = corpus() else {
        println!("skipped: ../shared/eval/dev-corpus.jsonl is not present");
        return;
    };
    let rules = rules::example().expect("example rules load");
    let failures = evaluate(&mut Poster::new(&rules), &corpus);
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn probes_are_classified_as_labelled() {
    let Some(path) = shared("eval/probes.jsonl") else {
        println!("skipped: ../shared/eval/probes.jsonl is not present");
        return;
    };
    let mut judge = Poster::new(&rules::example().expect("example rules load"));
    let text = std::fs::read_to_string(path).expect("readable");
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).expect("JSON");
        let text = v["text"].as_str().unwrap_or_default();
        let clean = v["label"] == "clean";
        assert_eq!(judge.rules_fired(text).is_empty(), clean, "{text:?}");
    }
}

#[test]
fn scam_recall_with_the_shared_phishing_list() {
    let (Some(corpus), Some(list)) = (corpus(), shared("data/phishing-domains/domain-list.json"))
    else {
        println!("skipped: the corpus or ../shared/data/phishing-domains is not present");
        return;
    };
    let source = rules::EXAMPLE_RULES.replacen(
        "deny_domains: []           # known scam domains",
        "deny_domains_file: domain-list.json # known scam domains",
        1,
    );
    assert_ne!(
        source,
        rules::EXAMPLE_RULES,
        "the scam rule's deny list line moved"
    );
    // List files are read from the rules file's directory: put the rules beside the list.
    let base = list.parent().expect("the list is in a directory");
    let rules = rules::parse(&source, Path::new("rules.yaml"), base)
        .expect("rules with the phishing list load");
    let scams: Vec<&Line> = corpus.iter().filter(|l| l.label == "scam").collect();
    let mut judge = Poster::new(&rules);
    let (hits, total, misses) = rate(&scams, &mut judge);
    let recall = hits as f64 / total as f64;
    println!("scam recall with the phishing list: {hits}/{total} = {recall:.3}");
    for m in &misses {
        println!("  missed {m}");
    }
    assert!(recall >= 0.90, "scam recall {recall:.3} < 0.90");
    let clean: Vec<&Line> = corpus.iter().filter(|l| l.label == "clean").collect();
    let (flagged_clean, _, _) = rate(&clean, &mut judge);
    println!(
        "clean flagged with the phishing list: {flagged_clean}/{}",
        clean.len()
    );
    assert!(
        flagged_clean * 100 <= clean.len(),
        "too many clean lines flagged"
    );
}
