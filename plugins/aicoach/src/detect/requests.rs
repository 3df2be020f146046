// SPDX-License-Identifier: MPL-2.0
//! Which frame a tracker's re-detection request runs on. A tracker asks while it handles one
//! frame; with a queue between the two elements, the detector is by then one to a few frames
//! further on, as many as the threads' timing allows, so "the next frame" differs from one run
//! of the same file to the next, and so does the analysis. With a delay of `n` frames the
//! request runs on the `n`-th frame after the one the tracker asked on, whenever the request
//! arrives, as long as the detector is not already past it. No GStreamer types: timestamps
//! are nanoseconds.

use std::collections::VecDeque;

/// Timestamps of the frames the detector handled last, to find the tracker's frame among.
const REMEMBERED: usize = 64;

#[derive(Debug, Default)]
pub struct Requests {
    recent: VecDeque<Option<u64>>,
    /// Frames still to pass before a request falls due; `Some(0)`: the next one.
    countdown: Option<u32>,
}

/// Where a request lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Landing {
    /// On the frame the delay names.
    OnTime,
    /// On the next frame: the detector was past the frame the delay names (or the tracker's
    /// frame had no timestamp, or was too long ago to find).
    Late,
}

impl Requests {
    /// Forgets frames and requests (a flush, a new stream).
    pub fn clear(&mut self) {
        self.recent.clear();
        self.countdown = None;
    }

    /// A tracker asked while handling the frame at `pts`, for the `delay`-th frame after it.
    pub fn request(&mut self, pts: Option<u64>, delay: u32) -> Landing {
        let passed = pts.and_then(|p| self.recent.iter().rev().position(|&r| r == Some(p)));
        let (countdown, landing) = match passed {
            // Classic: the next frame.
            _ if delay <= 1 => (0, Landing::OnTime),
            Some(after) if (after as u32) < delay => (delay - 1 - after as u32, Landing::OnTime),
            _ => (0, Landing::Late),
        };
        // Two requests pending: the earlier frame serves both.
        self.countdown = Some(self.countdown.map_or(countdown, |c| c.min(countdown)));
        landing
    }

    /// A frame at `pts` reaches the detector: whether a request falls due on it.
    pub fn frame(&mut self, pts: Option<u64>) -> bool {
        if self.recent.len() == REMEMBERED {
            self.recent.pop_front();
        }
        self.recent.push_back(pts);
        match self.countdown {
            Some(0) => {
                self.countdown = None;
                true
            }
            Some(c) => {
                self.countdown = Some(c - 1);
                false
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds frames 0..n (timestamps 0, 10, 20...) and returns those a request fell due on.
    fn due(requests: &mut Requests, frames: std::ops::Range<u64>) -> Vec<u64> {
        frames.filter(|&i| requests.frame(Some(10 * i))).collect()
    }

    #[test]
    fn a_delayed_request_lands_on_the_same_frame_however_far_ahead_the_detector_is() {
        for ahead in 0..4u64 {
            let mut r = Requests::default();
            // The tracker asks on frame 5; the detector has handled frames up to 5 + ahead.
            let mut fell = due(&mut r, 0..6 + ahead);
            assert_eq!(r.request(Some(50), 4), Landing::OnTime);
            fell.extend(due(&mut r, 6 + ahead..20));
            assert_eq!(fell, vec![9], "detector {ahead} frames ahead");
        }
    }

    #[test]
    fn a_request_past_its_frame_or_without_a_timestamp_lands_on_the_next_frame() {
        let mut r = Requests::default();
        due(&mut r, 0..10);
        assert_eq!(r.request(Some(50), 2), Landing::Late);
        assert_eq!(due(&mut r, 10..12), vec![10]);
        assert_eq!(r.request(None, 2), Landing::Late);
        assert_eq!(due(&mut r, 12..14), vec![12]);
        // Too long ago to be remembered.
        due(&mut r, 14..14 + REMEMBERED as u64);
        assert_eq!(r.request(Some(0), 2), Landing::Late);
    }

    #[test]
    fn a_delay_of_one_is_the_next_frame_and_two_requests_share_the_earlier_frame() {
        let mut r = Requests::default();
        due(&mut r, 0..3);
        r.request(Some(0), 1);
        assert_eq!(due(&mut r, 3..6), vec![3]);
        r.request(Some(50), 4);
        r.request(Some(40), 4);
        assert_eq!(due(&mut r, 6..12), vec![8]);
        // A flush forgets the pending request.
        r.request(Some(110), 4);
        r.clear();
        assert_eq!(due(&mut r, 12..20), Vec::<u64>::new());
    }
}
