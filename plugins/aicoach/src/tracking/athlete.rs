// SPDX-License-Identifier: MPL-2.0
//! The athlete tracker's state machine, after the paper's detect / track / verify / re-detect
//! scheme:
//!
//! - **Searching**: nobody chosen yet; the first detections choose the athlete by a rule.
//! - **Tracking**: the correlation filter follows the athlete frame to frame; its peak is sharp.
//! - **Verifying**: the peak went soft (occlusion, blur, a crossing bystander). The tracker
//!   coasts on its motion model and asks for a detection; a detection with the athlete's
//!   colours near the prediction confirms the track and re-centres it.
//! - **Lost**: verification failed for `lost_after` frames. The tracker keeps asking for
//!   detections now and then and recovers the same athlete (same id) when a detection matches
//!   the athlete's colours again, near where they were last seen at first and anywhere in the
//!   frame the longer they stay away.

use std::collections::VecDeque;

use aicoach_engines::image::RgbSource;
use aicoach_engines::{Point, Rect};

use super::appearance::ColourModel;
use super::mosse::{self, Mosse};
use super::motion::MotionModel;
use super::patch::grey_patch;

/// Which detection becomes the athlete when the tracker has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SelectRule {
    /// Highest score nearest the image centre (where a filmed athlete usually is).
    #[default]
    Center,
    /// Highest detection score.
    Score,
    /// Largest box (the person nearest the camera).
    Largest,
}

impl std::str::FromStr for SelectRule {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "center" | "centre" => Ok(Self::Center),
            "score" => Ok(Self::Score),
            "largest" => Ok(Self::Largest),
            _ => Err(format!("unknown selection rule '{s}' (expected center, score or largest)")),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackState {
    Searching,
    Tracking,
    Verifying,
    Lost,
}

impl TrackState {
    pub fn name(self) -> &'static str {
        match self {
            Self::Searching => "searching",
            Self::Tracking => "tracking",
            Self::Verifying => "verifying",
            Self::Lost => "lost",
        }
    }
}

#[derive(Debug, Clone)]
pub struct TrackerConfig {
    pub select: SelectRule,
    /// Below this peak-to-sidelobe ratio the tracker asks for verification.
    pub verify_psr: f32,
    /// Frames of failed verification before the athlete is declared lost.
    pub lost_after: u32,
    /// Frames between re-detection requests while searching, verifying or lost.
    pub redetect_interval: u32,
    /// Least colour similarity (Bhattacharyya, 0..1) for a detection to be the athlete.
    pub min_similarity: f32,
    /// Frames between detections that confirm a confident track (0: only when unsure).
    pub verify_interval: u32,
}

impl Default for TrackerConfig {
    fn default() -> Self {
        Self {
            select: SelectRule::Center,
            verify_psr: 7.0,
            lost_after: 10,
            redetect_interval: 5,
            min_similarity: 0.8,
            verify_interval: 15,
        }
    }
}

/// What the tracker says about one frame.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackOutput {
    pub state: TrackState,
    /// The athlete's box; while lost, the last place they were seen.
    pub bbox: Option<Rect>,
    /// 0..1: how sure the tracker is of this frame's box.
    pub confidence: f32,
    /// Stable for one athlete, including after recovery; 0 before anyone was chosen.
    pub track_id: u64,
    /// The tracker wants the detector to run on the next frame.
    pub request_redetect: bool,
}

/// The window the filter searches, relative to the box's longer side.
const WINDOW_SCALE: f32 = 1.5;
/// How fast the filter and colour model adapt while the track is sure.
const FILTER_RATE: f32 = 0.125;
const COLOUR_RATE: f32 = 0.05;
/// How far from the prediction (in box sizes) a detection may be and still confirm the track.
const GATE: f32 = 0.6;
/// Recovering a lost athlete needs more colour agreement than confirming one where expected.
const RECOVERY_MARGIN: f32 = 0.05;
/// While lost, the athlete is looked for within this many box sizes of where they were last
/// seen, growing by `RECOVERY_GROWTH` per lost frame: a lookalike far away right after the loss
/// is more likely a bystander than the athlete, but an athlete who left the frame may come back
/// anywhere.
const RECOVERY_GATE: f32 = 1.0;
const RECOVERY_GROWTH: f32 = 0.05;
/// While verifying, a detection this many box sizes from where the athlete must be is taken
/// for a bystander.
const BYSTANDER_DISTANCE: f32 = 2.0;
/// How many bystanders' colours are remembered (the most recent ones).
const MAX_BYSTANDERS: usize = 16;

struct Track {
    bbox: Rect,
    filter: Mosse,
    motion: MotionModel,
    colour: ColourModel,
    /// Consecutive frames without confirmation while verifying.
    unconfirmed: u32,
    /// Frames since the athlete was declared lost.
    lost_frames: u32,
}

pub struct AthleteTracker {
    config: TrackerConfig,
    state: TrackState,
    track: Option<Track>,
    track_id: u64,
    next_id: u64,
    frames_since_request: u32,
    /// Colours of people seen in the same frame as the confirmed athlete: whoever they are,
    /// they are not the athlete, so a lookalike of theirs is not taken for the athlete.
    bystanders: VecDeque<ColourModel>,
}

impl AthleteTracker {
    pub fn new(config: TrackerConfig) -> Self {
        Self {
            config,
            state: TrackState::Searching,
            track: None,
            track_id: 0,
            next_id: 1,
            // So the very first frame without detections asks at once.
            frames_since_request: u32::MAX / 2,
            bystanders: VecDeque::new(),
        }
    }

    pub fn config_mut(&mut self) -> &mut TrackerConfig {
        &mut self.config
    }

    pub fn state(&self) -> TrackState {
        self.state
    }

    /// Forgets the athlete (after a seek, flush or resolution change); ids keep counting.
    pub fn reset(&mut self) {
        self.state = TrackState::Searching;
        self.track = None;
        self.track_id = 0;
        self.frames_since_request = u32::MAX / 2;
        self.bystanders.clear();
    }

    /// Advances one frame. `detections` is `Some` on frames the detector ran on (possibly
    /// empty: it ran and found nobody), `None` on the others.
    pub fn update<S: RgbSource + ?Sized>(&mut self, frame: &S, detections: Option<&[(Rect, f32)]>) -> TrackOutput {
        self.frames_since_request = self.frames_since_request.saturating_add(1);
        let confidence = match self.state {
            TrackState::Searching => self.search(frame, detections),
            TrackState::Tracking | TrackState::Verifying => self.follow(frame, detections),
            TrackState::Lost => self.recover(frame, detections),
        };
        // Ask at once when verification starts, then every `redetect_interval` frames; while
        // tracking, every `verify_interval` frames, since a filter can follow the background
        // with confidence.
        let interval = match self.state {
            TrackState::Tracking if self.config.verify_interval == 0 => u32::MAX,
            TrackState::Tracking => self.config.verify_interval,
            _ => self.config.redetect_interval.max(1),
        };
        let request_redetect = self.frames_since_request >= interval;
        if request_redetect {
            self.frames_since_request = 0;
        }
        TrackOutput {
            state: self.state,
            bbox: self.track.as_ref().map(|t| t.bbox),
            confidence,
            track_id: self.track_id,
            request_redetect,
        }
    }

    fn search<S: RgbSource + ?Sized>(&mut self, frame: &S, detections: Option<&[(Rect, f32)]>) -> f32 {
        let Some(chosen) = detections.and_then(|d| self.select(frame, d)) else {
            return 0.0;
        };
        let Some(track) = Track::start(frame, chosen.0) else {
            return 0.0;
        };
        remember_bystanders(&mut self.bystanders, frame, detections.unwrap_or_default(), &chosen.0);
        self.track = Some(track);
        self.frames_since_request = 0;
        self.track_id = self.next_id;
        self.next_id += 1;
        self.state = TrackState::Tracking;
        chosen.1
    }

    fn select<S: RgbSource + ?Sized>(&self, frame: &S, detections: &[(Rect, f32)]) -> Option<(Rect, f32)> {
        let centre = Point::new(frame.width() as f32 / 2.0, frame.height() as f32 / 2.0);
        let diagonal = (frame.width() as f32).hypot(frame.height() as f32);
        let key = |(r, s): &(Rect, f32)| match self.config.select {
            // Score minus distance from the centre as a fraction of the half-diagonal.
            SelectRule::Center => s - r.center().distance(centre) / (diagonal / 2.0),
            SelectRule::Score => *s,
            SelectRule::Largest => r.area(),
        };
        detections.iter().filter(|(r, _)| r.w > 1.0 && r.h > 1.0).copied().max_by(|a, b| key(a).total_cmp(&key(b)))
    }

    fn follow<S: RgbSource + ?Sized>(&mut self, frame: &S, detections: Option<&[(Rect, f32)]>) -> f32 {
        let config = &self.config;
        let track = self.track.as_mut().expect("tracking states have a track");
        let predicted = track.motion.predict(1);
        let side = track.window_side();
        let response = track.filter.locate(&grey_patch(frame, predicted.x, predicted.y, side, mosse::SIZE));
        let scale = side / mosse::SIZE as f32;
        let found = Point::new(predicted.x + response.dx * scale, predicted.y + response.dy * scale);
        let sure = response.psr >= config.verify_psr;

        let expected = if sure { found } else { predicted };
        let matched =
            detections.and_then(|d| track.best_match(frame, d, config, &self.bystanders, expected, GATE, 0.0));
        if let Some(det) = matched {
            remember_bystanders(&mut self.bystanders, frame, detections.unwrap_or_default(), &det);
            // A detection with the athlete's colours where we expect them: confirmed. The
            // detector's box is the better size estimate; the filter restarts on it.
            let centre = det.center();
            track.motion.update(centre, 1);
            track.bbox = Rect::from_center(centre.x, centre.y, det.w, det.h);
            track.restart_filter(frame);
            if let Some(seen) = ColourModel::from_frame(frame, &track.bbox) {
                track.colour.blend(&seen, COLOUR_RATE);
            }
            track.unconfirmed = 0;
            self.state = TrackState::Tracking;
            self.frames_since_request = 0;
            return response.psr.min(20.0) / 20.0 * 0.5 + 0.5;
        }

        // No confirming detection this frame. Follow the filter where it is sure, else coast on
        // the motion model; only a sure filter in the Tracking state keeps learning, so a filter
        // that slid onto the background does not teach itself the background.
        let position = if sure { found } else { track.motion.predict(1) };
        track.motion.update(position, 1);
        track.move_to(position);
        let refuted = detections.is_some();
        // People far from where the athlete must be are someone else, even unconfirmed.
        if let Some(d) = detections {
            let size = track.bbox.w.max(track.bbox.h);
            let far: Vec<(Rect, f32)> =
                d.iter().filter(|(r, _)| r.center().distance(expected) > BYSTANDER_DISTANCE * size).copied().collect();
            remember_bystanders(&mut self.bystanders, frame, &far, &track.bbox);
        }
        if sure && !refuted && self.state == TrackState::Tracking {
            track.filter.update(&grey_patch(frame, found.x, found.y, side, mosse::SIZE), FILTER_RATE);
            return response.psr.min(20.0) / 20.0;
        }
        // Unsure, or the detector looked and saw no athlete here: verify.
        if self.state == TrackState::Tracking {
            self.frames_since_request = u32::MAX / 2;
        }
        self.state = TrackState::Verifying;
        track.unconfirmed += 1;
        if track.unconfirmed > config.lost_after {
            self.state = TrackState::Lost;
        }
        0.0
    }

    fn recover<S: RgbSource + ?Sized>(&mut self, frame: &S, detections: Option<&[(Rect, f32)]>) -> f32 {
        let config = &self.config;
        let track = self.track.as_mut().expect("lost state keeps the last track");
        track.lost_frames += 1;
        let gate = RECOVERY_GATE + RECOVERY_GROWTH * track.lost_frames as f32;
        let last_seen = track.bbox.center();
        let Some(det) = detections
            .and_then(|d| track.best_match(frame, d, config, &self.bystanders, last_seen, gate, RECOVERY_MARGIN))
        else {
            return 0.0;
        };
        if let Some(mut restarted) = Track::start(frame, det) {
            // Same athlete, same id; their learnt colours are kept, not the new sample's alone.
            restarted.colour = track.colour.clone();
            *track = restarted;
            self.frames_since_request = 0;
            self.state = TrackState::Tracking;
            return 0.5;
        }
        0.0
    }
}

impl Track {
    fn start<S: RgbSource + ?Sized>(frame: &S, bbox: Rect) -> Option<Track> {
        let colour = ColourModel::from_frame(frame, &bbox)?;
        let c = bbox.center();
        let side = WINDOW_SCALE * bbox.w.max(bbox.h);
        let filter = Mosse::new(&grey_patch(frame, c.x, c.y, side, mosse::SIZE));
        Some(Track { bbox, filter, motion: MotionModel::new(c), colour, unconfirmed: 0, lost_frames: 0 })
    }

    fn window_side(&self) -> f32 {
        WINDOW_SCALE * self.bbox.w.max(self.bbox.h)
    }

    fn move_to(&mut self, centre: Point) {
        self.bbox = Rect::from_center(centre.x, centre.y, self.bbox.w, self.bbox.h);
    }

    fn restart_filter<S: RgbSource + ?Sized>(&mut self, frame: &S) {
        let c = self.bbox.center();
        self.filter = Mosse::new(&grey_patch(frame, c.x, c.y, self.window_side(), mosse::SIZE));
    }

    /// The detection most like the athlete: colours at least `min_similarity + margin` alike,
    /// more like the athlete than like any remembered bystander, and centre within `gate` box
    /// sizes of `near`. Ranked by colour, then closeness.
    #[allow(clippy::too_many_arguments)]
    fn best_match<S: RgbSource + ?Sized>(
        &self,
        frame: &S,
        detections: &[(Rect, f32)],
        config: &TrackerConfig,
        bystanders: &VecDeque<ColourModel>,
        near: Point,
        gate: f32,
        margin: f32,
    ) -> Option<Rect> {
        let size = self.bbox.w.max(self.bbox.h).max(1.0);
        detections
            .iter()
            .filter_map(|(r, _)| {
                let distance = r.center().distance(near) / size;
                if distance > gate {
                    return None;
                }
                let colours = ColourModel::from_frame(frame, r)?;
                let similarity = colours.similarity(&self.colour);
                let like_a_bystander = bystanders.iter().any(|b| colours.similarity(b) >= similarity);
                (similarity >= config.min_similarity + margin && !like_a_bystander)
                    .then_some((*r, similarity - 0.2 * distance))
            })
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(r, _)| r)
    }
}

/// Remembers the colours of every detection that is clearly not `athlete` (no overlap).
fn remember_bystanders<S: RgbSource + ?Sized>(
    bystanders: &mut VecDeque<ColourModel>,
    frame: &S,
    detections: &[(Rect, f32)],
    athlete: &Rect,
) {
    for (r, _) in detections {
        if r.iou(athlete) > 0.0 {
            continue;
        }
        if let Some(colours) = ColourModel::from_frame(frame, r) {
            if bystanders.len() == MAX_BYSTANDERS {
                bystanders.pop_front();
            }
            bystanders.push_back(colours);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aicoach_engines::image::PackedView;

    const W: u32 = 320;
    const H: u32 = 240;

    /// A textured background with rectangular "people" of given colours at given places.
    fn frame(people: &[(Rect, [u8; 3])]) -> Vec<u8> {
        let mut d = Vec::with_capacity((W * H * 3) as usize);
        for y in 0..H {
            for x in 0..W {
                let p = Point::new(x as f32 + 0.5, y as f32 + 0.5);
                let person =
                    people.iter().find(|(r, _)| p.x >= r.x && p.x < r.x + r.w && p.y >= r.y && p.y < r.y + r.h);
                match person {
                    Some((r, c)) => {
                        // Stripes inside the person give the filter something to lock on.
                        let stripe = if ((p.y - r.y) as u32 / 6).is_multiple_of(2) { 0 } else { 40 };
                        d.extend_from_slice(&[c[0].saturating_sub(stripe), c[1].saturating_sub(stripe), c[2]]);
                    }
                    None => {
                        let v = (((x / 8 + y / 8) % 2) * 30 + 100) as u8;
                        d.extend_from_slice(&[v, v, v]);
                    }
                }
            }
        }
        d
    }

    const RED: [u8; 3] = [220, 40, 40];
    const BLUE: [u8; 3] = [40, 60, 220];

    fn run(tracker: &mut AthleteTracker, people: &[(Rect, [u8; 3])], detect: bool) -> TrackOutput {
        let data = frame(people);
        let view = PackedView::rgb(&data, W, H).unwrap();
        let dets: Vec<(Rect, f32)> = people.iter().map(|(r, _)| (*r, 0.9)).collect();
        tracker.update(&view, detect.then_some(dets.as_slice()))
    }

    fn athlete_at(x: f32) -> Rect {
        Rect { x, y: 80.0, w: 30.0, h: 80.0 }
    }

    #[test]
    fn chooses_the_central_person_and_follows_them() {
        let mut t = AthleteTracker::new(TrackerConfig::default());
        let bystander = (Rect { x: 10.0, y: 60.0, w: 30.0, h: 80.0 }, BLUE);
        let out = run(&mut t, &[(athlete_at(140.0), RED), bystander], true);
        assert_eq!((out.state, out.track_id), (TrackState::Tracking, 1));
        // The athlete moves right 4 px a frame; no detections.
        for i in 1..=20 {
            let x = 140.0 + 4.0 * i as f32;
            let out = run(&mut t, &[(athlete_at(x), RED), bystander], false);
            assert_eq!(out.state, TrackState::Tracking, "frame {i}");
            let c = out.bbox.unwrap().center();
            assert!((c.x - (x + 15.0)).abs() < 6.0 && (c.y - 120.0).abs() < 6.0, "frame {i}: {c:?} vs x {x}");
        }
    }

    #[test]
    fn loses_the_athlete_when_they_leave_and_recovers_the_same_id() {
        let mut t = AthleteTracker::new(TrackerConfig { lost_after: 3, ..TrackerConfig::default() });
        let bystander = (Rect { x: 250.0, y: 60.0, w: 30.0, h: 80.0 }, BLUE);
        run(&mut t, &[(athlete_at(140.0), RED), bystander], true);
        for _ in 0..5 {
            run(&mut t, &[(athlete_at(140.0), RED), bystander], false);
        }
        // The athlete leaves: the filter loses its peak, asks for detection, finds only the
        // bystander (wrong colours) and finally declares the athlete lost.
        let mut requested = false;
        let mut states = Vec::new();
        for _ in 0..12 {
            let out = run(&mut t, &[bystander], true);
            requested |= out.request_redetect;
            states.push(out.state);
            assert_ne!(out.bbox.map(|b| b.center().x > 240.0), Some(true), "swapped to the bystander");
        }
        assert!(requested, "no re-detection asked");
        assert_eq!(*states.last().unwrap(), TrackState::Lost, "{states:?}");
        // Back, elsewhere in the frame: same athlete, same id.
        let out = run(&mut t, &[(athlete_at(60.0), RED), bystander], true);
        assert_eq!((out.state, out.track_id), (TrackState::Tracking, 1));
        assert!((out.bbox.unwrap().center().x - 75.0).abs() < 1.0);
    }

    #[test]
    fn a_lookalike_seen_beside_the_athlete_is_never_taken_for_them() {
        let mut t = AthleteTracker::new(TrackerConfig { lost_after: 3, ..TrackerConfig::default() });
        // The bystander dresses like the athlete and stands close by.
        let twin = (Rect { x: 200.0, y: 80.0, w: 30.0, h: 80.0 }, RED);
        run(&mut t, &[(athlete_at(140.0), RED), twin], true);
        for _ in 0..3 {
            run(&mut t, &[(athlete_at(140.0), RED), twin], true);
        }
        // The athlete leaves; the twin stays, detected on every frame.
        for i in 0..20 {
            let out = run(&mut t, &[twin], true);
            let on_twin = out.state != TrackState::Lost && out.bbox.is_some_and(|b| b.center().x > 190.0);
            assert!(!on_twin, "frame {i}: took the twin for the athlete: {out:?}");
        }
        assert_eq!(t.state(), TrackState::Lost);
    }

    #[test]
    fn searching_asks_for_detections_periodically() {
        let mut t = AthleteTracker::new(TrackerConfig { redetect_interval: 3, ..TrackerConfig::default() });
        let asks: Vec<bool> = (0..7).map(|_| run(&mut t, &[], false).request_redetect).collect();
        assert_eq!(asks, [true, false, false, true, false, false, true]);
        assert_eq!(t.state(), TrackState::Searching);
    }

    #[test]
    fn selection_rules() {
        let small_central = (Rect { x: 150.0, y: 110.0, w: 20.0, h: 20.0 }, 0.6);
        let big_corner = (Rect { x: 0.0, y: 0.0, w: 100.0, h: 200.0 }, 0.95);
        let data = frame(&[]);
        let view = PackedView::rgb(&data, W, H).unwrap();
        let pick = |rule| {
            AthleteTracker::new(TrackerConfig { select: rule, ..Default::default() })
                .select(&view, &[small_central, big_corner])
        };
        assert_eq!(pick(SelectRule::Center).unwrap().0, small_central.0);
        assert_eq!(pick(SelectRule::Score).unwrap().0, big_corner.0);
        assert_eq!(pick(SelectRule::Largest).unwrap().0, big_corner.0);
        assert!("diagonal".parse::<SelectRule>().is_err());
    }
}
