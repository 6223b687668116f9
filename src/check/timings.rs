//! Where a check's time goes: sums of the time spent in each kind of work, kept by the
//! checker as it goes (a few `Instant` reads per step, nothing measurable), reported in JSON
//! as `timings` and printed by `cargo bench --bench check`.

use std::time::Duration;

use serde::{Serialize, Serializer};

/// Sums of wall-clock time, by kind of work; `other` is what none of them covers (linting,
/// reading files, the history).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Timings {
    /// The whole check (`check::run`).
    #[serde(rename = "total_ms", serialize_with = "ms")]
    pub total: Duration,
    /// Running migrations and rollbacks, view rebuilds included (the runner).
    #[serde(rename = "apply_ms", serialize_with = "ms")]
    pub apply: Duration,
    /// Reading the catalog into a snapshot's model.
    #[serde(rename = "introspect_ms", serialize_with = "ms")]
    pub introspect: Duration,
    /// Turning models into snapshot text.
    #[serde(rename = "render_ms", serialize_with = "ms")]
    pub render: Duration,
    /// Comparing snapshot texts (with the committed files and with each other).
    #[serde(rename = "compare_ms", serialize_with = "ms")]
    pub compare: Duration,
    /// Counting rows (to see whether a rollback left rows behind).
    #[serde(rename = "rows_ms", serialize_with = "ms")]
    pub rows: Duration,
    /// How many snapshots were taken.
    pub snapshots: u32,
}

impl Timings {
    /// The time no other sum covers.
    #[cfg_attr(not(feature = "internals"), allow(dead_code))]
    pub fn other(&self) -> Duration {
        self.total
            .saturating_sub(self.apply + self.introspect + self.render + self.compare + self.rows)
    }
}

fn ms<S: Serializer>(d: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64((d.as_secs_f64() * 1e4).round() / 10.0)
}
