//! Accord's benchmark harness. Every case is measured beside a baseline in the same
//! run, because absolute numbers on shared machines drift by tens of percent between
//! runs while ratios hold. A [`Report`] collects rows (median, min and max of the
//! runs) and writes them as a markdown table on stdout and, for a full run, as
//! `target/accord-bench/<name>.md` and `.json` with the machine, the versions of the
//! parts under test and the parameters.
//!
//! A benchmark binary runs full size under `cargo bench` (which passes `--bench`)
//! and at smoke size under `cargo test --all-targets`, so the harness never rots.

use std::path::PathBuf;

mod cpu;
mod machine;
mod stats;

pub use cpu::{CpuTimes, Spent};
pub use machine::{peak_rss_bytes, peak_rss_of, Machine};
pub use stats::{percentile, Summary};

/// Whether this is a full run (`cargo bench`) rather than a smoke run (`cargo test`).
pub fn full_run() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// Runs per case: 5 for a full run, one for a smoke run. `ACCORD_BENCH_RUNS` sets
/// another count for a full run (e.g. 2 while trying a change; results recorded in
/// BENCHMARKS.md are of 5).
pub fn runs(full: bool) -> usize {
    if !full {
        return 1;
    }
    match env_setting("ACCORD_BENCH_RUNS") {
        Some(0) => panic!("ACCORD_BENCH_RUNS=0: a bench needs at least one run"),
        Some(runs) => runs,
        None => 5,
    }
}

/// The number the environment variable `name` sets for a bench, if it is set; a value
/// that does not parse stops the bench, naming the variable, rather than being
/// silently ignored.
pub fn env_setting<T: std::str::FromStr>(name: &str) -> Option<T> {
    let value = std::env::var(name).ok()?;
    match value.trim().parse() {
        Ok(parsed) => Some(parsed),
        Err(_) => panic!("{name}={value:?} is not a number"),
    }
}

/// The name of [`runtime`]'s worker threads, for [`CpuTimes::threads`].
pub const RUNTIME_THREAD: &str = "bench-worker";

/// The runtime every case runs its async work on: two workers, like the machines
/// the figures are for.
pub fn runtime() -> tokio::runtime::Runtime {
    #[allow(clippy::expect_used)]
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(RUNTIME_THREAD)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// A target from the benchmark issue and whether this run met it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Target {
    pub text: String,
    pub met: bool,
}

/// One line of results: a measured case, optionally beside its baseline.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Row {
    pub case: String,
    /// What the numbers are, e.g. `events/s` or `p50 ms`.
    pub metric: String,
    pub accord: Summary,
    pub baseline_name: Option<String>,
    pub baseline: Option<Summary>,
    /// Median over median, when a baseline was measured.
    pub ratio: Option<f64>,
    pub target: Option<Target>,
    /// Whether zero is a measurement here (a wait, a difference) rather than a sign
    /// that the case did no work; see [`Report::finish`].
    #[serde(skip)]
    pub zero_is_a_result: bool,
}

impl Row {
    /// A measured case without a baseline of its own (e.g. a baseline's latency).
    pub fn single(case: impl Into<String>, metric: impl Into<String>, accord: Summary) -> Row {
        Row {
            case: case.into(),
            metric: metric.into(),
            accord,
            baseline_name: None,
            baseline: None,
            ratio: None,
            target: None,
            zero_is_a_result: false,
        }
    }

    /// A case beside its baseline; the ratio is accord's median over the baseline's,
    /// and there is none when the baseline's median is zero.
    pub fn versus(
        case: impl Into<String>,
        metric: impl Into<String>,
        accord: Summary,
        baseline_name: impl Into<String>,
        baseline: Summary,
    ) -> Row {
        let ratio = accord.median / baseline.median;
        Row {
            ratio: ratio.is_finite().then_some(ratio),
            baseline_name: Some(baseline_name.into()),
            baseline: Some(baseline),
            ..Row::single(case, metric, accord)
        }
    }

    fn measured_something(&self) -> bool {
        let median = self.accord.median;
        median.is_finite() && (median > 0.0 || (self.zero_is_a_result && median == 0.0))
    }

    /// Adds the target this row is judged by.
    pub fn target(mut self, text: impl Into<String>, met: bool) -> Row {
        self.target = Some(Target {
            text: text.into(),
            met,
        });
        self
    }

    /// Marks a row whose value may rightly be zero: a time spent waiting, or what one
    /// case holds beyond another, which noise can put at or below nothing.
    pub fn zero_is_a_result(mut self) -> Row {
        self.zero_is_a_result = true;
        self
    }

    /// The target that the ratio must reach at least `minimum`.
    pub fn ratio_at_least(self, minimum: f64) -> Row {
        let met = self.ratio.is_some_and(|r| r >= minimum);
        self.target(format!("ratio ≥ {minimum}"), met)
    }
}

/// The results of one benchmark binary.
#[derive(Debug, serde::Serialize)]
pub struct Report {
    pub name: String,
    pub full: bool,
    pub machine: Machine,
    pub parameters: Vec<(String, String)>,
    pub rows: Vec<Row>,
}

impl Report {
    /// A report of `name`; its parameters start with the runs per case.
    pub fn new(name: &str, full: bool) -> Report {
        Report {
            name: name.to_owned(),
            full,
            machine: Machine::detect(),
            parameters: vec![("runs".to_owned(), runs(full).to_string())],
            rows: Vec::new(),
        }
    }

    pub fn parameter(&mut self, name: &str, value: impl ToString) {
        self.parameters.push((name.to_owned(), value.to_string()));
    }

    /// Adds a row and prints it on stderr at once, so a long run shows progress.
    pub fn push(&mut self, row: Row) {
        eprintln!("{}", markdown_row(&row));
        self.rows.push(row);
    }

    pub fn markdown(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!("Machine: {}\n\n", self.machine));
        if !self.parameters.is_empty() {
            let parameters: Vec<String> = self
                .parameters
                .iter()
                .map(|(k, v)| format!("{k} = {v}"))
                .collect();
            out.push_str(&format!("Parameters: {}\n\n", parameters.join("; ")));
        }
        out.push_str(
            "| case | metric | accord median [min–max] | baseline | baseline median [min–max] | ratio | target | met |\n",
        );
        out.push_str("|---|---|---:|---|---:|---:|---|---|\n");
        for row in &self.rows {
            out.push_str(&markdown_row(row));
            out.push('\n');
        }
        out
    }

    /// Prints the table; for a full run also writes it and the JSON under
    /// `target/accord-bench/`. Panics when a row measured nothing, so a broken case
    /// cannot pass as a result; a row marked [`Row::zero_is_a_result`] may be zero.
    pub fn finish(self) {
        for row in &self.rows {
            assert!(row.measured_something(), "{}: measured nothing", row.case);
        }
        let markdown = self.markdown();
        println!("{markdown}");
        if self.full {
            let dir = results_dir();
            let written = std::fs::create_dir_all(&dir)
                .and_then(|()| std::fs::write(dir.join(format!("{}.md", self.name)), &markdown))
                .and_then(|()| {
                    let json = serde_json::to_string_pretty(&self).unwrap_or_default();
                    std::fs::write(dir.join(format!("{}.json", self.name)), json)
                });
            match written {
                Ok(()) => eprintln!("results in {}", dir.display()),
                Err(error) => eprintln!("could not write results to {}: {error}", dir.display()),
            }
        }
    }
}

fn markdown_row(row: &Row) -> String {
    let baseline = match &row.baseline {
        Some(b) => b.to_string(),
        None => "—".into(),
    };
    let ratio = row.ratio.map_or("—".into(), |r| format!("{r:.2}"));
    let (target, met) = match &row.target {
        Some(t) => (t.text.clone(), if t.met { "yes" } else { "**no**" }),
        None => ("—".into(), "—"),
    };
    format!(
        "| {} | {} | {} | {} | {} | {} | {} | {} |",
        row.case,
        row.metric,
        row.accord,
        row.baseline_name.as_deref().unwrap_or("—"),
        baseline,
        ratio,
        target,
        met
    )
}

/// `$CARGO_TARGET_DIR/accord-bench`, else the workspace's `target/accord-bench`.
pub fn results_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("accord-bench")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_a_row_beside_its_baseline_then_the_table_and_json_carry_ratio_target_and_machine() {
        let mut report = Report::new("case", true);
        report.parameter("events", 100);
        let accord = Summary::of(&[40.0, 50.0, 60.0, 45.0, 55.0]);
        let baseline = Summary::of(&[100.0; 5]);
        report.push(
            Row::versus("append", "events/s", accord, "raw sled", baseline).ratio_at_least(0.7),
        );

        let markdown = report.markdown();
        assert!(markdown.contains("runs = 5; events = 100"), "{markdown}");
        assert!(
            markdown.contains("| append | events/s | 50.000 [40.000–60.000] | raw sled | 100 [100–100] | 0.50 | ratio ≥ 0.7 | **no** |"),
            "{markdown}"
        );
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["rows"][0]["ratio"], 0.5);
        assert_eq!(json["rows"][0]["target"]["met"], false);
        assert_eq!(json["rows"][0]["accord"]["runs"], 5);
        let crates = json["machine"]["crates"].as_array().unwrap();
        assert!(
            crates
                .iter()
                .any(|c| c[0] == "sled" && c[1] == "0.34.7 (vendored, patched)"),
            "{crates:?}"
        );
    }

    #[test]
    fn given_a_zero_measurement_then_only_a_row_marked_for_it_counts_as_measured() {
        let zero = Summary::of(&[0.0; 3]);
        let work = Row::single("append", "events/s", zero);
        let wait = Row::single("append", "µs waiting", zero).zero_is_a_result();
        let broken =
            Row::single("append", "µs waiting", Summary::of(&[f64::NAN])).zero_is_a_result();

        assert!(!work.measured_something());
        assert!(wait.measured_something());
        assert!(!broken.measured_something());
    }

    #[test]
    fn given_a_baseline_of_zero_then_the_row_has_no_ratio_rather_than_nan() {
        let zero = Summary::of(&[0.0; 3]);
        let row = Row::versus("held beyond", "MiB", zero, "at 1000", zero).zero_is_a_result();

        assert_eq!(row.ratio, None);
        assert!(
            markdown_row(&row).contains("| — |"),
            "{}",
            markdown_row(&row)
        );
    }
}
