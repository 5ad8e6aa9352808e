//! The syntax of a swept parameter, `NAME=1,2,3` or `NAME=LO..HI:STEP`,
//! and the limits of a sweep: read here, where a scenario's `tune` lines
//! are read, and used by [`crate::sweep`], which runs them.

use super::{Scenario, ScenarioError};
use serde::{Deserialize, Serialize};

/// One parameter and the values to try, in its base unit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParamRange {
    /// The parameter's name.
    pub name: String,
    /// Values as the parameter stores them.
    pub values: Vec<i64>,
    /// The same values as files write them.
    pub texts: Vec<String>,
}

/// Most points in a sweep, and most units.
pub const MAX_POINTS: usize = 10_000;
/// Most runs in one sweep.
pub const MAX_UNITS: usize = 10_000_000;

fn bad(m: String) -> ScenarioError {
    ScenarioError::Invalid(m)
}

/// Reads `name=a,b,c` or `name=LO..HI:STEP` (values as files write them).
pub fn parse_range(scn: &Scenario, text: &str) -> Result<ParamRange, ScenarioError> {
    let (name, spec_text) = text
        .split_once('=')
        .ok_or_else(|| bad(format!("'{text}': write a swept parameter as NAME=1,2,3 or NAME=LO..HI:STEP")))?;
    let name = name.trim();
    let spec = scn.lab.param(name).ok_or_else(|| {
        let known: Vec<&str> = scn.lab.params().iter().map(|p| p.name).collect();
        bad(format!("unknown parameter '{name}' for the {} lab (known: {})", scn.lab.name(), known.join(", ")))
    })?;
    let spec_text = spec_text.trim();
    let values = if let Some((range, step)) = spec_text.split_once(':').filter(|(r, _)| r.contains("..")) {
        let (lo, hi) = range.split_once("..").unwrap_or((range, range));
        let (lo, hi) = (spec.parse(lo.trim()).map_err(bad)?, spec.parse(hi.trim()).map_err(bad)?);
        // A step is a difference, so it may be below the parameter's minimum.
        let step = crate::scenario::params::ParamSpec { min: 1, ..spec }.parse(step.trim()).map_err(bad)?;
        if step <= 0 || hi < lo {
            return Err(bad(format!("'{text}': the range must run upwards with a positive step")));
        }
        let count = (hi - lo) / step + 1;
        if count as usize > MAX_POINTS {
            return Err(bad(format!("'{text}' has {count} values; at most {MAX_POINTS}")));
        }
        (0..count).map(|i| lo + i * step).collect::<Vec<i64>>()
    } else {
        spec_text.split(',').map(|v| spec.parse(v.trim()).map_err(bad)).collect::<Result<Vec<i64>, _>>()?
    };
    if values.is_empty() {
        return Err(bad(format!("'{text}' gives no values")));
    }
    Ok(ParamRange { name: name.to_string(), texts: values.iter().map(|v| spec.format(*v)).collect(), values })
}
