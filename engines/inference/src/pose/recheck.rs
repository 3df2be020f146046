// SPDX-License-Identifier: MPL-2.0
//! How often the larger body model may look again. MoveNet Thunder finds the body where
//! Lightning and the landmark model disagree far better (a back view whose sides the two read
//! differently, tangled people, an acrobat), but takes four times as long (29 against 7.6 ms on
//! one EPYC core): run on every such frame it cost sports2d 40 % of its frame rate, where one
//! frame in four is one. So its runs come from a budget that refills with stream time
//! ([`RECHECKS_PER_SECOND`]) and holds a few ([`RECHECK_BURST`]): a photo, or the first
//! frames of a stream, get it on every frame; a long disagreement, once in two seconds.
//! openpose/video.avi, five interleaved runs on a 2-core EPYC: 54.6 fps without it, 51.7 with
//! this budget, 49.0 at two runs a second (MediaPipe lite 50.6).

use super::budget::RunBudget;

/// Runs the budget gains per second of stream time.
pub const RECHECKS_PER_SECOND: f64 = 0.5;
/// Runs the budget holds at most (and starts with).
pub const RECHECK_BURST: f64 = 3.0;

pub fn budget() -> RunBudget {
    RunBudget::new(RECHECKS_PER_SECOND, RECHECK_BURST)
}
