// SPDX-License-Identifier: MPL-2.0
//! Which frame a tracker's re-detection request runs on. A tracker asks while it handles one
//! frame; with a queue between the two elements, the detector is by then one to a few frames
//! further on, as many as the threads' timing allows, so "the next frame" differs from one run
//! of the same file to the next, and so does the analysis. With a delay of `n` frames the
//! request runs on the `n`-th frame after the one the tracker asked on, whenever the request
//! arrives, as long as the detector is not already past it. Each request keeps its own frame
//! and what it asks for (`T`): two requests a frame apart run on two frames, since whether the
//! second arrived before the first fell due is the threads' timing again (it made one blurred
//! clip's analysis differ from run to run). No GStreamer types: timestamps are nanoseconds.

use std::collections::VecDeque;

/// Timestamps of the frames the detector handled last, to find the tracker's frame among.
const REMEMBERED: usize = 64;

#[derive(Debug)]
pub struct Requests<T> {
    recent: VecDeque<Option<u64>>,
    /// Each pending request: frames still to pass before it falls due (0: the next one), and
    /// what it asks for.
    pending: Vec<(u32, T)>,
}

impl<T> Default for Requests<T> {
    fn default() -> Self {
        Self { recent: VecDeque::new(), pending: Vec::new() }
    }
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

impl<T> Requests<T> {
    /// Forgets frames and requests (a flush, a new stream).
    pub fn clear(&mut self) {
        self.recent.clear();
        self.pending.clear();
    }

    /// A tracker asked for `what` while handling the frame at `pts`, for the `delay`-th frame
    /// after it.
    pub fn request(&mut self, pts: Option<u64>, delay: u32, what: T) -> Landing {
        let passed = pts.and_then(|p| self.recent.iter().rev().position(|&r| r == Some(p)));
        let (countdown, landing) = match passed {
            // Classic: the next frame.
            _ if delay <= 1 => (0, Landing::OnTime),
            Some(after) if (after as u32) < delay => (delay - 1 - after as u32, Landing::OnTime),
            _ => (0, Landing::Late),
        };
        self.pending.push((countdown, what));
        landing
    }

    /// A frame at `pts` reaches the detector: the requests that fall due on it, in the order
    /// they came.
    pub fn frame(&mut self, pts: Option<u64>) -> Vec<T> {
        if self.recent.len() == REMEMBERED {
            self.recent.pop_front();
        }
        self.recent.push_back(pts);
        let due = self.pending.extract_if(.., |(c, _)| *c == 0).map(|(_, what)| what).collect();
        for (c, _) in &mut self.pending {
            *c -= 1;
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds frames 0..n (timestamps 0, 10, 20...) and returns those a request fell due on.
    fn due(requests: &mut Requests<u64>, frames: std::ops::Range<u64>) -> Vec<u64> {
        frames.filter(|&i| !requests.frame(Some(10 * i)).is_empty()).collect()
    }

    #[test]
    fn a_delayed_request_lands_on_the_same_frame_however_far_ahead_the_detector_is() {
        for ahead in 0..4u64 {
            let mut r = Requests::default();
            // The tracker asks on frame 5; the detector has handled frames up to 5 + ahead.
            let mut fell = due(&mut r, 0..6 + ahead);
            assert_eq!(r.request(Some(50), 4, 50), Landing::OnTime);
            fell.extend(due(&mut r, 6 + ahead..20));
            assert_eq!(fell, vec![9], "detector {ahead} frames ahead");
        }
    }

    #[test]
    fn a_request_past_its_frame_or_without_a_timestamp_lands_on_the_next_frame() {
        let mut r = Requests::default();
        due(&mut r, 0..10);
        assert_eq!(r.request(Some(50), 2, 50), Landing::Late);
        assert_eq!(due(&mut r, 10..12), vec![10]);
        assert_eq!(r.request(None, 2, 0), Landing::Late);
        assert_eq!(due(&mut r, 12..14), vec![12]);
        // Too long ago to be remembered.
        due(&mut r, 14..14 + REMEMBERED as u64);
        assert_eq!(r.request(Some(0), 2, 0), Landing::Late);
    }

    #[test]
    fn a_delay_of_one_is_the_next_frame_and_two_requests_keep_their_own_frames() {
        let mut r = Requests::default();
        due(&mut r, 0..3);
        r.request(Some(0), 1, 0);
        assert_eq!(due(&mut r, 3..6), vec![3]);
        // Asked on frames 5 and 4: due on 9 and 8, whichever came first, each with its own ask.
        r.request(Some(50), 4, 50);
        r.request(Some(40), 4, 40);
        let asks: Vec<(u64, Vec<u64>)> =
            (6..12).map(|i| (i, r.frame(Some(10 * i)))).filter(|(_, a)| !a.is_empty()).collect();
        assert_eq!(asks, vec![(8, vec![40]), (9, vec![50])]);
        // Two on one frame come together, in the order asked.
        r.request(Some(110), 2, 1);
        r.request(Some(110), 2, 2);
        assert_eq!(r.frame(Some(120)), Vec::<u64>::new());
        assert_eq!(r.frame(Some(130)), vec![1, 2]);
        // A flush forgets the pending requests.
        r.request(Some(130), 4, 3);
        r.clear();
        assert_eq!(due(&mut r, 14..20), Vec::<u64>::new());
    }
}
