// SPDX-License-Identifier: MPL-2.0
//! Live video on time: every element measures how long its work on a frame takes and adds a
//! bound of it to the latency it reports, so a live sink waits for it; and when downstream
//! says frames arrive late (a QoS event), the elements that analyse skip their analysis on the
//! late frames (never the frames themselves) until they are on time again. Live, they also pace
//! their analysis so that it never takes more than a share of the stream's time: a streaming
//! thread that spends every frame's interval on inference has nothing left for the frames
//! themselves, and they fall behind before any QoS event can say so.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use gst::prelude::*;

/// How many recent frames' processing times bound the next one.
const WINDOW: usize = 150;
/// The bound is the longest recent time with this much headroom: one frame slower than any
/// before it must not make the sink drop it.
const HEADROOM: f64 = 1.5;
/// A bound that grew past the reported latency by more than this share is reported anew.
const REPORT_GROWTH: f64 = 1.2;
/// A live frame this far behind the clock, beyond the latency upstream reports, is late even
/// when no sink says so (a recorder's file sink sends no QoS): analysis is shed rather than let
/// the backlog grow.
const LIVE_LAG_LIMIT_NS: u64 = 200_000_000;
/// However late the frames, at most this many in a row go without analysis: the picture a
/// viewer sees keeps getting fresh results, and a stalled upstream cannot starve them.
pub const MAX_SKIPPED_IN_A_ROW: u32 = 3;
/// Live, an element's analysis takes at most this share of the stream's time unless it says
/// otherwise ([`Realtime::set_analysis_share`]): the rest of the streaming thread's frame
/// interval is for the other elements and the frames themselves (at 1080p50 a 19 ms pose runs
/// on every second frame; at 720p30 on every frame).
const LIVE_ANALYSIS_SHARE: f64 = 0.8;
/// How fast the analysis' time estimate follows the latest analysed frames.
const ANALYSIS_COST_RATE: f64 = 0.2;

#[derive(Debug)]
struct Inner {
    /// Frames whose running time is before this are late downstream (from QoS).
    earliest_ns: Option<u64>,
    recent: VecDeque<Duration>,
    /// The bound before any frame was measured (a warm-up run, or a guess).
    initial: Duration,
    /// The latency last reported in a query.
    reported: Option<Duration>,
    /// Upstream is live (from the latency query).
    live: bool,
    /// A latency query has said whether upstream is live.
    live_known: bool,
    /// Upstream's answer when asked directly ([`Realtime::upstream_live`]).
    asked_live: Option<bool>,
    /// Upstream's minimum latency (from the latency query): how far behind the clock a live
    /// frame arrives by design (an RTP jitter buffer alone holds 200 ms).
    upstream_latency_ns: u64,
    skipped_in_a_row: u32,
    /// Running time of the last frame analysed, and what analysing a frame takes (a moving
    /// average of the analysed frames' times): live, they pace the analysis.
    analysed_at_ns: Option<u64>,
    analysis_cost: Option<Duration>,
    /// The frame being processed is analysed (its time, when recorded, is an analysis' time).
    analysing: bool,
    /// The share of the stream's time the analysis may take, live.
    analysis_share: f64,
}

/// One element's processing-time bound and lateness, shared by its streaming thread (which
/// measures) and the threads that query latency or send QoS events.
#[derive(Debug)]
pub struct Realtime {
    inner: Mutex<Inner>,
}

impl Realtime {
    pub fn new(initial: Duration) -> Self {
        Self {
            inner: Mutex::new(Inner {
                earliest_ns: None,
                recent: VecDeque::with_capacity(WINDOW),
                initial,
                reported: None,
                live: false,
                live_known: false,
                asked_live: None,
                upstream_latency_ns: 0,
                skipped_in_a_row: 0,
                analysed_at_ns: None,
                analysis_cost: None,
                analysing: false,
                analysis_share: LIVE_ANALYSIS_SHARE,
            }),
        }
    }

    /// Whether upstream is live (as the last latency query said).
    pub fn is_live(&self) -> bool {
        self.inner.lock().unwrap().live
    }

    /// Whether upstream is live: as a latency query through the element said, or else as
    /// upstream answers when asked (once). The first frames of a live stream can come before
    /// the sink's latency query reaches the element, and some decisions (running a second
    /// model) must not take them for a file's. Only the answer is kept: the pacing waits for
    /// the pipeline's own query, so a test harness (which says it is live) paces nothing.
    pub fn upstream_live(&self, sink_pad: &gst::Pad) -> bool {
        {
            let inner = self.inner.lock().unwrap();
            if inner.live_known {
                return inner.live;
            }
            if let Some(live) = inner.asked_live {
                return live;
            }
        }
        let mut query = gst::query::Latency::new();
        let live = sink_pad.peer_query(&mut query) && query.result().0;
        self.inner.lock().unwrap().asked_live = Some(live);
        live
    }

    /// The share of a live stream's time this element's analysis may take (0..1].
    pub fn set_analysis_share(&self, share: f64) {
        self.inner.lock().unwrap().analysis_share = share.clamp(0.01, 1.0);
    }

    /// The bound to use before any frame is measured (e.g. after timing a warm-up run).
    pub fn set_initial(&self, initial: Duration) {
        self.inner.lock().unwrap().initial = initial;
    }

    /// A QoS event from downstream: the frame at running time `timestamp_ns` was `diff_ns` late
    /// (negative: early). Frames up to that time plus the lateness are late too.
    pub fn observe_qos(&self, timestamp_ns: u64, diff_ns: i64) {
        let earliest = if diff_ns > 0 { timestamp_ns.saturating_add(diff_ns as u64) } else { 0 };
        self.inner.lock().unwrap().earliest_ns = Some(earliest);
    }

    /// Whether the analysis of a frame at `running_time_ns` should be skipped, the clock being
    /// at `clock_ns` (running time): downstream is late past it, or the source is live and the
    /// frame far behind the clock or too soon after the last one analysed (see
    /// [`Realtime::set_analysis_share`]); and not too many frames in a row were skipped already.
    /// Counts the skip. A file (not live) is never behind: it is analysed whole.
    pub fn skip_analysis(&self, running_time_ns: Option<u64>, clock_ns: Option<u64>) -> bool {
        let mut inner = self.inner.lock().unwrap();
        let late_downstream = match (running_time_ns, inner.earliest_ns) {
            (Some(t), Some(earliest)) => t <= earliest,
            _ => false,
        };
        let behind_the_clock = match (running_time_ns, clock_ns) {
            (Some(t), Some(now)) => inner.live && now.saturating_sub(t) > inner.upstream_latency_ns + LIVE_LAG_LIMIT_NS,
            _ => false,
        };
        let too_soon = match (running_time_ns, inner.analysed_at_ns, inner.analysis_cost) {
            (Some(t), Some(last), Some(cost)) if inner.live => {
                (t.saturating_sub(last) as f64) < cost.as_nanos() as f64 / inner.analysis_share
            }
            _ => false,
        };
        let skip = (late_downstream || behind_the_clock || too_soon) && inner.skipped_in_a_row < MAX_SKIPPED_IN_A_ROW;
        if skip {
            inner.skipped_in_a_row += 1;
        } else {
            inner.skipped_in_a_row = 0;
            inner.analysed_at_ns = running_time_ns.or(inner.analysed_at_ns);
        }
        inner.analysing = !skip;
        skip
    }

    /// Records how long one frame took. Returns whether the bound has outgrown the latency
    /// last reported (or asked for): the element should post a latency message.
    pub fn record(&self, took: Duration) -> bool {
        let mut inner = self.inner.lock().unwrap();
        if inner.recent.len() == WINDOW {
            inner.recent.pop_front();
        }
        inner.recent.push_back(took);
        if std::mem::take(&mut inner.analysing) {
            inner.analysis_cost = Some(match inner.analysis_cost {
                Some(cost) => cost.mul_f64(1.0 - ANALYSIS_COST_RATE) + took.mul_f64(ANALYSIS_COST_RATE),
                None => took,
            });
        }
        let bound = bound(&inner);
        let outgrown =
            inner.reported.is_some_and(|reported| bound.as_secs_f64() > reported.as_secs_f64() * REPORT_GROWTH);
        // Asked once per growth: an application that never recalculates latency must not get
        // a latency message on every frame (they flood its bus).
        if outgrown {
            inner.reported = Some(bound);
        }
        outgrown
    }

    /// The latency to add in a latency query (marked as reported).
    pub fn latency(&self) -> Duration {
        let mut inner = self.inner.lock().unwrap();
        let bound = bound(&inner);
        inner.reported = Some(bound);
        bound
    }

    /// Notes a flush (downstream's lateness no longer applies) from `element`'s sink events.
    pub fn on_sink_event(&self, event: &gst::Event) {
        if let gst::EventView::FlushStop(_) = event.view() {
            self.reset_qos();
        }
    }

    /// After a flush: downstream's lateness no longer applies.
    pub fn reset_qos(&self) {
        let mut inner = self.inner.lock().unwrap();
        inner.earliest_ns = None;
        inner.skipped_in_a_row = 0;
        inner.analysed_at_ns = None;
    }
}

/// What an element's work on a frame is assumed to take before it has done any.
const DEFAULT_INITIAL: Duration = Duration::from_millis(10);

impl Default for Realtime {
    fn default() -> Self {
        Self::new(DEFAULT_INITIAL)
    }
}

/// The glue every element uses.
impl Realtime {
    /// Times the work on one frame until the returned guard is dropped; then, where the bound
    /// outgrew the latency reported, asks the pipeline to query latency again.
    pub fn measure<'a>(&'a self, element: &'a gst::Element) -> FrameTimer<'a> {
        FrameTimer { realtime: self, element, started: Instant::now() }
    }

    /// Notes QoS events passing upstream through `element`'s src pad.
    pub fn on_src_event(&self, event: &gst::Event) {
        if let gst::EventView::Qos(qos) = event.view() {
            let (_, _, diff, timestamp) = qos.get();
            if let Some(timestamp) = timestamp {
                self.observe_qos(timestamp.nseconds(), diff);
            }
        }
    }

    /// Answers a latency query reaching the element's src pad: upstream's latency plus `extra()`
    /// (a lookahead) plus this element's processing bound. `None` for every other query: the
    /// element's parent class answers those.
    pub fn answer_query(
        &self,
        sink_pad: &gst::Pad,
        direction: gst::PadDirection,
        query: &mut gst::QueryRef,
        extra: impl FnOnce() -> gst::ClockTime,
    ) -> Option<bool> {
        if direction != gst::PadDirection::Src {
            return None;
        }
        let gst::QueryViewMut::Latency(query) = query.view_mut() else { return None };
        let extra = extra();
        if !sink_pad.peer_query(query.query_mut()) {
            return Some(false);
        }
        let (live, min, max) = query.result();
        {
            let mut inner = self.inner.lock().unwrap();
            inner.live = live;
            inner.live_known = true;
            inner.upstream_latency_ns = min.nseconds();
        }
        let added = extra + gst::ClockTime::from_nseconds(self.latency().as_nanos() as u64);
        query.set(live, min + added, max.map(|m| m + added));
        Some(true)
    }

    /// Runs `run` once on a blank grey frame of `size` (a runtime's first inference sets itself
    /// up) and takes its time as the bound reported before real frames are measured.
    pub fn warm_up<E>(
        &self,
        size: (u32, u32),
        run: impl FnOnce(&aicoach_vision::image::PackedView) -> Result<(), E>,
    ) -> Result<(), E> {
        let started = Instant::now();
        on_blank_frame(size, run)?;
        self.set_initial(started.elapsed());
        Ok(())
    }
}

/// Runs `run` on a blank grey RGB frame of `size`: a model's first inference, which sets its
/// runtime up, done before real frames arrive.
pub fn on_blank_frame<R>(size: (u32, u32), run: impl FnOnce(&aicoach_vision::image::PackedView) -> R) -> R {
    let (w, h) = size;
    let blank = vec![128u8; (w * h * 3) as usize];
    run(&aicoach_vision::image::PackedView::rgb(&blank, w, h).expect("a packed RGB frame"))
}

/// Turns off `GstBaseTransform`'s own QoS, which `GstVideoFilter` turns on: it drops the late
/// frames themselves, and a live graph must lose no video frame. The elements answer QoS by
/// shedding analysis instead ([`Realtime::skip_analysis`]).
pub fn keep_late_frames(element: &gst_base::BaseTransform) {
    use gst_base::prelude::*;
    element.set_qos(false);
}

/// A buffer's running time in the element's segment (for comparing with QoS timestamps), and
/// the clock's running time now.
pub fn running_times(element: &gst_base::BaseTransform, pts: Option<gst::ClockTime>) -> (Option<u64>, Option<u64>) {
    use gst_base::prelude::*;
    let segment = element.segment();
    let buffer = segment.downcast_ref::<gst::ClockTime>().zip(pts).and_then(|(s, pts)| s.to_running_time(pts));
    (buffer.map(|t| t.nseconds()), element.current_running_time().map(|t| t.nseconds()))
}

/// See [`Realtime::measure`].
pub struct FrameTimer<'a> {
    realtime: &'a Realtime,
    element: &'a gst::Element,
    started: Instant,
}

impl Drop for FrameTimer<'_> {
    fn drop(&mut self) {
        if self.realtime.record(self.started.elapsed()) {
            let _ = self.element.post_message(gst::message::Latency::builder().src(self.element).build());
        }
    }
}

fn bound(inner: &Inner) -> Duration {
    let longest = inner.recent.iter().max().copied().unwrap_or(inner.initial);
    // Rounded up to a millisecond: latency figures are read by people.
    let ms = (longest.as_secs_f64() * HEADROOM * 1000.0).ceil();
    Duration::from_millis(ms as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    #[test]
    fn the_latency_bounds_the_slowest_recent_frame_with_headroom() {
        let rt = Realtime::new(Duration::from_millis(40));
        assert_eq!(rt.latency(), Duration::from_millis(60), "the initial guess before any frame");
        assert!(!rt.record(Duration::from_millis(10)));
        assert_eq!(rt.latency(), Duration::from_millis(15));
        // A frame far slower than what was reported: report again.
        assert!(rt.record(Duration::from_millis(30)));
        assert!(!rt.record(Duration::from_millis(31)), "asked once, though nobody queried since");
        assert_eq!(rt.latency(), Duration::from_millis(47));
        assert!(!rt.record(Duration::from_millis(32)), "within the growth allowed");
    }

    #[test]
    fn late_frames_skip_analysis_but_never_more_than_a_few_in_a_row() {
        let rt = Realtime::new(Duration::ZERO);
        assert!(!rt.skip_analysis(Some(100 * MS), None), "no QoS yet");
        // The frame at 100 ms reached the sink 50 ms late.
        rt.observe_qos(100 * MS, 50 * MS as i64);
        let skips: Vec<bool> = (0..6).map(|i| rt.skip_analysis(Some((120 + 5 * i) * MS), None)).collect();
        assert_eq!(skips, [true, true, true, false, true, true]);
        assert!(!rt.skip_analysis(Some(151 * MS), None), "past the lateness: on time");
        // Early frames: nothing is skipped.
        rt.observe_qos(200 * MS, -(5 * MS as i64));
        assert!(!rt.skip_analysis(Some(210 * MS), None));
        rt.observe_qos(300 * MS, 50 * MS as i64);
        rt.reset_qos();
        assert!(!rt.skip_analysis(Some(310 * MS), None), "a flush forgets the lateness");
    }

    #[test]
    fn live_analysis_is_paced_to_its_share_of_the_streams_time_a_files_never() {
        let rt = Realtime::new(Duration::ZERO);
        let analysed = |rt: &Realtime, frames: u64, interval_ms: u64, took_ms: u64| -> Vec<bool> {
            (0..frames)
                .map(|i| {
                    let skip = rt.skip_analysis(Some(i * interval_ms * MS), None);
                    rt.record(Duration::from_millis(if skip { 1 } else { took_ms }));
                    !skip
                })
                .collect()
        };
        assert!(analysed(&rt, 6, 20, 19).iter().all(|&a| a), "a file: every frame");
        let rt = Realtime::new(Duration::ZERO);
        rt.inner.lock().unwrap().live = true;
        // 19 ms of analysis at 50 fps: every second frame (19 / 0.8 = 24 ms between them).
        assert_eq!(analysed(&rt, 6, 20, 19), [true, false, true, false, true, false]);
        // The same analysis at 30 fps: every frame.
        let rt = Realtime::new(Duration::ZERO);
        rt.inner.lock().unwrap().live = true;
        assert!(analysed(&rt, 6, 33, 19).iter().all(|&a| a));
        // However slow the analysis, a few frames in a row at most go without.
        let rt = Realtime::new(Duration::ZERO);
        rt.inner.lock().unwrap().live = true;
        assert_eq!(analysed(&rt, 6, 20, 200), [true, false, false, false, true, false]);
    }

    #[test]
    fn a_live_frame_far_behind_the_clock_is_late_a_file_never() {
        let rt = Realtime::new(Duration::ZERO);
        assert!(!rt.skip_analysis(Some(0), Some(900 * MS)), "not live: a file is analysed whole");
        rt.inner.lock().unwrap().live = true;
        assert!(!rt.skip_analysis(Some(800 * MS), Some(900 * MS)));
        assert!(rt.skip_analysis(Some(600 * MS), Some(900 * MS)));
        // Behind by what upstream's latency says (a jitter buffer's 200 ms) is on time.
        rt.inner.lock().unwrap().upstream_latency_ns = 200 * MS;
        assert!(!rt.skip_analysis(Some(600 * MS), Some(900 * MS)));
        assert!(rt.skip_analysis(Some(400 * MS), Some(900 * MS)));
    }
}
