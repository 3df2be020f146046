// SPDX-License-Identifier: MPL-2.0
//! Time from the frames' timestamps, never from the caps' frame rate.
//!
//! A phone's video has a variable rate, a web clip's caps may say `90000/1` for 30 frames a
//! second, a live source `0/1`: a rate in the caps is a label, the timestamps are the truth.
//! Every duration the elements measure (the tracker's timers, the pose refinement's spacing,
//! the lookahead's latency) comes from here.

use std::collections::VecDeque;

/// The interval assumed before two timestamps have been seen, and between frames that carry
/// none: 30 frames a second, the commonest camera rate.
pub const DEFAULT_INTERVAL_NS: u64 = 1_000_000_000 / 30;
/// How many recent intervals bound the longest one (about two seconds of 30 fps video).
const WINDOW: usize = 64;

/// Seconds for each frame: its timestamp where it has one; else the previous frame's time plus
/// the usual interval, so durations keep running.
#[derive(Debug, Default, Clone)]
pub struct FrameClock {
    last_ns: Option<u64>,
    intervals: VecDeque<u64>,
}

impl FrameClock {
    /// The time of the next frame, given its PTS in nanoseconds (if any).
    pub fn time(&mut self, pts_ns: Option<u64>) -> f64 {
        let ns = match (pts_ns, self.last_ns) {
            (Some(pts), Some(last)) => {
                // A timestamp that goes back (a broken muxer) adds no interval.
                if pts > last {
                    if self.intervals.len() == WINDOW {
                        self.intervals.pop_front();
                    }
                    self.intervals.push_back(pts - last);
                }
                pts.max(last)
            }
            (Some(pts), None) => pts,
            (None, Some(last)) => last + self.usual_interval_ns(),
            (None, None) => 0,
        };
        self.last_ns = Some(ns);
        ns as f64 / 1e9
    }

    /// The median of the recent intervals: what a frame without a timestamp is assumed to add.
    pub fn usual_interval_ns(&self) -> u64 {
        if self.intervals.is_empty() {
            return DEFAULT_INTERVAL_NS;
        }
        let mut sorted: Vec<u64> = self.intervals.iter().copied().collect();
        sorted.sort_unstable();
        sorted[sorted.len() / 2]
    }

    /// The longest of the recent intervals: a bound on how long the next frame takes to come.
    pub fn longest_interval_ns(&self) -> Option<u64> {
        self.intervals.iter().copied().max()
    }

    /// After a seek or a new stream: the next timestamp starts afresh.
    pub fn reset(&mut self) {
        *self = Self::default();
    }
}

/// The interval a caps' frame rate claims, where it is plausible for camera video (1 to 240
/// frames a second); `None` for `0/1` (unknown or variable) and labels like `90000/1`.
pub fn plausible_interval_ns(numer: i32, denom: i32) -> Option<u64> {
    if numer <= 0 || denom <= 0 {
        return None;
    }
    let fps = numer as f64 / denom as f64;
    (1.0..=240.0).contains(&fps).then(|| (1e9 / fps).round() as u64)
}

/// Frame durations shorter than this (over 1000 frames a second) are labels, not durations.
const SHORTEST_PLAUSIBLE_DURATION_NS: u64 = 1_000_000;

/// The duration a frame should carry where its own is missing or implausible, `None` where it
/// is fine. A decoder derives durations from the stream's claimed rate: a clip whose H.264
/// timing says 1000000000/1 gets 1 ns frames, and `mp4mux` then gives the last frame no time
/// on the track (players drop it). `usual_ns` is the clock's usual interval.
pub fn repaired_duration_ns(duration_ns: Option<u64>, usual_ns: u64) -> Option<u64> {
    match duration_ns {
        Some(d) if d >= SHORTEST_PLAUSIBLE_DURATION_NS => None,
        _ => Some(usual_ns),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    #[test]
    fn times_follow_the_timestamps_whatever_their_spacing() {
        let mut clock = FrameClock::default();
        let times: Vec<f64> = [0, 20, 67, 87, 134].iter().map(|ms| clock.time(Some(ms * MS))).collect();
        assert_eq!(times, [0.0, 0.020, 0.067, 0.087, 0.134]);
        assert_eq!(clock.longest_interval_ns(), Some(47 * MS));
    }

    #[test]
    fn frames_without_a_timestamp_advance_by_the_usual_interval() {
        let mut clock = FrameClock::default();
        assert_eq!(clock.time(None), 0.0);
        assert!((clock.time(None) - 1.0 / 30.0).abs() < 1e-9, "30 fps before any interval is known");
        let mut clock = FrameClock::default();
        for ms in [1000, 1040, 1080, 1120] {
            clock.time(Some(ms * MS));
        }
        assert!((clock.time(None) - 1.160).abs() < 1e-9);
    }

    #[test]
    fn a_timestamp_going_back_does_not_turn_time_back() {
        let mut clock = FrameClock::default();
        clock.time(Some(500 * MS));
        assert_eq!(clock.time(Some(400 * MS)), 0.5);
        assert_eq!(clock.longest_interval_ns(), None);
        clock.reset();
        assert_eq!(clock.time(Some(400 * MS)), 0.4);
    }

    #[test]
    fn only_camera_like_rates_are_believed() {
        assert_eq!(plausible_interval_ns(30, 1), Some(33_333_333));
        assert_eq!(plausible_interval_ns(30000, 1001), Some(33_366_667));
        assert_eq!(plausible_interval_ns(90000, 1), None);
        assert_eq!(plausible_interval_ns(0, 1), None);
        assert_eq!(plausible_interval_ns(25, 0), None);
    }

    #[test]
    fn only_missing_or_label_like_durations_are_repaired() {
        assert_eq!(repaired_duration_ns(Some(33 * MS), 40 * MS), None);
        assert_eq!(repaired_duration_ns(Some(1), 40 * MS), Some(40 * MS));
        assert_eq!(repaired_duration_ns(None, 40 * MS), Some(40 * MS));
    }
}
