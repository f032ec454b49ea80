/// The median, minimum and maximum of a case's runs.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Summary {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub runs: usize,
}

impl Summary {
    /// Summarises the runs' values. Panics on no values: a case that never ran is a
    /// bug in the benchmark, not a result.
    pub fn of(values: &[f64]) -> Summary {
        assert!(!values.is_empty(), "no runs to summarise");
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        Summary {
            median: percentile(&sorted, 50.0),
            min: sorted[0],
            max: sorted[sorted.len() - 1],
            runs: sorted.len(),
        }
    }
}

/// Summarises values as they come: `runs.iter().map(...).collect::<Summary>()`.
impl FromIterator<f64> for Summary {
    fn from_iter<I: IntoIterator<Item = f64>>(values: I) -> Summary {
        Summary::of(&values.into_iter().collect::<Vec<_>>())
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Rates are large, latencies in milliseconds small: keep 3 significant digits
        // for the small ones.
        let digits = if self.median.abs() >= 100.0 { 0 } else { 3 };
        write!(
            f,
            "{:.*} [{:.*}–{:.*}]",
            digits, self.median, digits, self.min, digits, self.max
        )
    }
}

/// The `p`th percentile (0–100) of sorted values, nearest rank.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    assert!(!sorted.is_empty(), "percentile of nothing");
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_runs_when_summarised_then_median_min_and_max_are_theirs() {
        let summary = Summary::of(&[5.0, 1.0, 3.0, 4.0, 2.0]);
        assert_eq!((summary.median, summary.min, summary.max), (3.0, 1.0, 5.0));
        assert_eq!(summary.runs, 5);
        let collected: Summary = [5.0, 1.0, 3.0, 4.0, 2.0].into_iter().collect();
        assert_eq!(collected, summary);
    }

    #[test]
    fn given_a_hundred_values_when_p99_is_taken_then_it_is_the_99th() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&values, 50.0), 50.0);
        assert_eq!(percentile(&values, 99.0), 99.0);
        assert_eq!(percentile(&values, 100.0), 100.0);
        assert_eq!(percentile(&[7.0], 99.0), 7.0);
    }
}
