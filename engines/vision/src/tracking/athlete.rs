// SPDX-License-Identifier: MPL-2.0
//! The athlete tracker's state machine, after the paper's detect / track / verify / re-detect
//! scheme:
//!
//! - **Searching**: nobody chosen yet; the first detections choose the athlete by a rule.
//! - **Tracking**: the correlation filter follows the athlete frame to frame; its peak is sharp.
//! - **Verifying**: the peak went soft (occlusion, blur, a crossing bystander). The tracker
//!   coasts on its motion model and asks for a detection; a detection with the athlete's
//!   colours near the prediction confirms the track and re-centres it. So does the pose
//!   estimator still seeing a body where the athlete should be (a [`PoseCue`]), for a while
//!   and only while it has seen the athlete on every frame since a detection last confirmed
//!   them: it sees through flips and back light that defeat the filter and the detector, but
//!   cannot tell who it sees. While it sees the body on every frame the track goes with it,
//!   not with a filter that may be sure of the background. Once the pose estimator has been
//!   seeing the athlete, its seeing nobody makes the tracker unsure however sharp the filter's
//!   peak: a filter left at the frame's edge after the athlete walked out of it is sure of the
//!   background.
//! - **Lost**: verification failed for `lost_after` frames. The tracker keeps asking for
//!   detections now and then and recovers the same athlete (same id) when a detection matches
//!   the athlete's colours again, near where they were last seen at first and anywhere in the
//!   frame the longer they stay away. Shortly after the loss, the one stranger near where the
//!   athlete vanished is taken for them whatever their colours (a flip out of back light into
//!   sunlight changes every colour): everyone else seen is a known bystander, so it must be
//!   the athlete; that stranger is looked for up to three box sizes away (a flip or a dive
//!   carries the athlete far while nothing sees them). After `forget_after` seconds away the
//!   athlete is forgotten and the tracker searches afresh: whoever it chooses then gets a new
//!   id, since after so long a colour match is no proof of identity.
//!
//! Nobody the tracker has seen beside the athlete is ever taken for them (see [`Bystanders`]),
//! and nobody who keeps their place in the world while the camera moves is taken for the one
//! it follows (see `pan.rs`): a track that does so for a second is dropped and the
//! athlete chosen afresh.

use crate::image::RgbSource;
use crate::{Detection, Point, Rect};

use super::appearance::ColourModel;
use super::bystanders::Bystanders;
use super::camera::CameraMotion;
use super::mosse::{self, Mosse};
use super::motion::MotionModel;
use super::pan::PanHistory;
use super::patch::grey_patch;

/// `frames_since_request` that makes the next frame ask for a detection at once (large, with
/// room to count on without overflowing).
const ASK_NOW: u32 = u32::MAX / 2;
/// How much a box's size (the square root of its share of the frame) counts when choosing the
/// athlete by `center`: a person filling the frame gains 0.3, as much as a score 0.3 higher.
const SIZE_WEIGHT: f32 = 0.3;

/// Which detection becomes the athlete when the tracker has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SelectRule {
    /// Highest score nearest the image centre (where a filmed athlete usually is), larger
    /// people preferred a little.
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
    pub const ALL: [Self; 4] = [Self::Searching, Self::Tracking, Self::Verifying, Self::Lost];

    pub fn name(self) -> &'static str {
        match self {
            Self::Searching => "searching",
            Self::Tracking => "tracking",
            Self::Verifying => "verifying",
            Self::Lost => "lost",
        }
    }
}

impl std::fmt::Display for TrackState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The state's name back (as metadata and reports carry it).
impl std::str::FromStr for TrackState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|state| state.name() == s)
            .ok_or_else(|| format!("unknown track state '{s}' (expected searching, tracking, verifying or lost)"))
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
    /// Seconds lost after which the athlete is forgotten and a new one chosen (0: never).
    pub forget_after: f32,
    /// The camera follows the athlete: whoever keeps their place in the world while it moves
    /// is someone else (see `pan.rs`). Off for a camera that pans over a still athlete.
    pub camera_follows: bool,
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
            forget_after: 3.0,
            camera_follows: true,
        }
    }
}

/// The pose estimator's sighting of a body on the athlete's crop, `frames_ago` frames back.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PoseCue {
    pub bbox: Rect,
    pub frames_ago: u32,
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
    /// On this frame the tracker gave up the person it followed: they kept their place in the
    /// world while the camera moved, so the camera follows someone else.
    pub left_behind: bool,
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
/// For this many seconds after the loss, a lone stranger is the athlete; later, strangers may
/// just be people arriving...
const STRANGER_WINDOW: f64 = 2.0;
/// ...when within this many box sizes of where the athlete was last seen (or the recovery
/// gate, if wider by then).
const STRANGER_GATE: f32 = 3.0;
/// A box within this many pixels of the frame's edge is cut by it: someone partly out of view.
const EDGE_PIXELS: f32 = 2.0;
/// A detection whose longer side is not within this factor of the lost athlete's is not them
/// come back: a face, a hand or a child found beside two dancers who hugged is no 360 px
/// dancer, however lone (openpose, one-thread chain: a 31x43 box recovered as the athlete).
const RECOVERY_SIZE_RATIO: f32 = 3.0;
/// A body the pose estimator saw within this many box sizes of where the athlete should be
/// verifies the track...
const POSE_GATE: f32 = 0.5;
/// ...for at most this many seconds since a detection last confirmed it: the pose model follows
/// whoever is in its crop, and a detector that keeps disagreeing is right in the end.
const POSE_ONLY_SECONDS: f64 = 3.0;
/// Timestamps are whole nanoseconds: a frame exactly at a time limit may land a hair past it.
const TIMESTAMP_SLACK: f64 = 1e-6;
/// The filter keeps learning only while its peak is within this many box sizes of where the
/// tracker puts the athlete.
const FILTER_AGREEMENT: f32 = 0.1;
/// A bystander expected within this many box sizes of the athlete makes the tracker check with
/// the detector as often as when unsure.
const CROWDED: f32 = 1.5;
/// While verifying, a detection this many box sizes from where the athlete must be is taken
/// for a bystander.
const BYSTANDER_DISTANCE: f32 = 2.0;

struct Track {
    bbox: Rect,
    filter: Mosse,
    motion: MotionModel,
    colour: ColourModel,
    /// Consecutive frames without confirmation while verifying.
    unconfirmed: u32,
    /// Frames since the athlete was declared lost.
    lost_frames: u32,
    /// When (seconds, from the frames' timestamps) the athlete was declared lost.
    lost_at: Option<f64>,
    /// When a detection last confirmed the track (or it started), and its box then.
    confirmed_at: f64,
    confirmed: Rect,
    /// The pose estimator has reported on this athlete (there is one downstream).
    pose_reporting: bool,
    /// It has seen them on every frame since a detection last confirmed them.
    pose_unbroken: bool,
}

pub struct AthleteTracker {
    config: TrackerConfig,
    state: TrackState,
    track: Option<Track>,
    track_id: u64,
    next_id: u64,
    frames_since_request: u32,
    /// People seen in the same frame as the athlete: whoever they are, they are not the athlete.
    bystanders: Bystanders,
    /// Frames since the stream started, for the bystanders' tracks.
    frame_index: u64,
    /// The current frame's time in seconds: every duration is measured on the frames'
    /// timestamps, never on a nominal frame rate (variable-rate and mislabelled video).
    now: f64,
    /// How the camera moves, against which the athlete's motion is checked.
    camera: CameraMotion,
    pan: PanHistory,
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
            frames_since_request: ASK_NOW,
            bystanders: Bystanders::default(),
            frame_index: 0,
            now: 0.0,
            camera: CameraMotion::default(),
            pan: PanHistory::default(),
        }
    }

    /// Whether an athlete is being followed (tracking or verifying: not searching, not lost).
    fn following(&self) -> bool {
        matches!(self.state, TrackState::Tracking | TrackState::Verifying)
    }

    pub fn config_mut(&mut self) -> &mut TrackerConfig {
        &mut self.config
    }

    pub fn state(&self) -> TrackState {
        self.state
    }

    /// Forgets the athlete (after a seek, flush or resolution change); ids keep counting.
    pub fn reset(&mut self) {
        self.forget_athlete();
        self.bystanders.clear();
        self.frame_index = 0;
        self.camera.reset();
        self.pan.clear();
    }

    /// Back to searching: the next person chosen gets a new id.
    fn forget_athlete(&mut self) {
        self.state = TrackState::Searching;
        self.track = None;
        self.track_id = 0;
        // So the next frame without detections asks at once.
        self.frames_since_request = ASK_NOW;
    }

    /// Advances one frame, shown at `time` seconds (its timestamp). `detections` is `Some` on
    /// frames the detector ran on (possibly empty: it ran and found nobody), `None` on the
    /// others. `pose` is the pose estimator's latest sighting on this athlete's crop, if any.
    pub fn update<S: RgbSource + ?Sized>(
        &mut self,
        frame: &S,
        time: f64,
        detections: Option<&[Detection]>,
        pose: Option<&PoseCue>,
    ) -> TrackOutput {
        self.frames_since_request = self.frames_since_request.saturating_add(1);
        self.frame_index += 1;
        self.now = time;
        // The athlete's box as the last frame left it: where to leave them out of the camera's
        // motion (with the people the detector last found), and (one frame late, as is the
        // camera's motion from the frame before) where they were.
        let followed = self.track.as_ref().filter(|_| self.following()).map(|t| t.bbox);
        let people: Vec<Rect> = followed.iter().chain(self.pan.people()).copied().collect();
        let shift = self.camera.observe(frame, &people);
        self.pan.record(time, shift, followed.map(|b| b.center()));
        let mut confidence = match self.state {
            TrackState::Searching => self.search(frame, detections),
            TrackState::Tracking | TrackState::Verifying => self.follow(frame, detections, pose),
            TrackState::Lost => self.recover(frame, detections),
        };
        if let Some(d) = detections {
            self.pan.detector_ran(d);
        }
        // The camera moved for a second and the athlete kept their place in the world: the
        // track sits on a spectator or on the background, not on whom the camera follows.
        let left_behind = self
            .track
            .as_ref()
            .filter(|_| self.config.camera_follows && self.following())
            .is_some_and(|track| self.pan.athlete_left_behind(track.bbox.w.max(track.bbox.h)));
        if left_behind {
            self.forget_athlete();
            confidence = 0.0;
        }
        // Ask at once when verification starts, then every `redetect_interval` frames; while
        // tracking, every `verify_interval` frames, since a filter can follow the background
        // with confidence.
        let crowded = self.track.as_ref().is_some_and(|t| self.bystanders.near(&t.bbox, CROWDED, self.frame_index));
        let interval = match self.state {
            // Someone close by: the filter or the landmark model may slide onto them.
            TrackState::Tracking if crowded => self.config.redetect_interval.max(1),
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
            left_behind,
        }
    }

    fn search<S: RgbSource + ?Sized>(&mut self, frame: &S, detections: Option<&[Detection]>) -> f32 {
        let Some(chosen) = self.followable(detections).and_then(|d| self.select(frame, &d)) else {
            return 0.0;
        };
        let Some(track) = Track::start(frame, chosen.bbox, self.now) else {
            return 0.0;
        };
        self.bystanders.release(&chosen.bbox, self.frame_index);
        self.bystanders.observe(frame, detections.unwrap_or_default(), Some(&chosen.bbox), self.frame_index, |_| true);
        self.track = Some(track);
        self.frames_since_request = 0;
        self.track_id = self.next_id;
        self.next_id += 1;
        self.state = TrackState::Tracking;
        chosen.score
    }

    /// The detections that may be whom the camera follows: not people who slid with the
    /// background since the last detector run.
    fn followable(&self, detections: Option<&[Detection]>) -> Option<Vec<Detection>> {
        let follows = self.config.camera_follows;
        detections.map(|d| d.iter().filter(|d| !(follows && self.pan.slid_with_background(&d.bbox))).cloned().collect())
    }

    fn select<S: RgbSource + ?Sized>(&self, frame: &S, detections: &[Detection]) -> Option<Detection> {
        let centre = Point::new(frame.width() as f32 / 2.0, frame.height() as f32 / 2.0);
        let diagonal = (frame.width() as f32).hypot(frame.height() as f32);
        let key = |Detection { bbox: r, score: s, .. }: &Detection| match self.config.select {
            // Score minus distance from the centre as a fraction of the half-diagonal, plus a
            // little for size: the camera frames its athlete centred and large, a spectator
            // standing behind them small.
            SelectRule::Center => {
                let frame_area = frame.width() as f32 * frame.height() as f32;
                s - r.center().distance(centre) / (diagonal / 2.0)
                    + SIZE_WEIGHT * (r.area() / frame_area.max(1.0)).min(1.0).sqrt()
            }
            SelectRule::Score => *s,
            SelectRule::Largest => r.area(),
        };
        detections
            .iter()
            .filter(|Detection { bbox: r, .. }| r.w > 1.0 && r.h > 1.0)
            .max_by(|a, b| key(a).total_cmp(&key(b)))
            .cloned()
    }

    fn follow<S: RgbSource + ?Sized>(
        &mut self,
        frame: &S,
        detections: Option<&[Detection]>,
        pose: Option<&PoseCue>,
    ) -> f32 {
        let config = &self.config;
        let track = self.track.as_mut().expect("tracking states have a track");
        let predicted = track.motion.predict(1);
        let side = track.window_side();
        let response = track.filter.locate(&grey_patch(frame, predicted.x, predicted.y, side, mosse::SIZE));
        let scale = side / mosse::SIZE as f32;
        let found = Point::new(predicted.x + response.dx * scale, predicted.y + response.dy * scale);
        if pose.is_some() {
            track.pose_reporting = true;
        } else if track.pose_reporting {
            track.pose_unbroken = false;
        }
        let pose_sees_nobody = track.pose_reporting && pose.is_none();
        let sure = response.psr >= config.verify_psr && !pose_sees_nobody;

        let expected = if sure { found } else { predicted };
        let candidates = Crowd { bystanders: &self.bystanders, frame_index: self.frame_index, recovering: false };
        let eligible = detections.map(|d| track.eligible(frame, d, &candidates, expected, GATE)).unwrap_or_default();
        let near_expected = best_by_colour(&eligible, config.min_similarity).map(|c| (c.rect, false));
        // Since the last confirmation the pose estimator (or the filter) has placed the track, and
        // the landmark or body model may have hopped onto a neighbour and carried it along. The
        // athlete found again where a detection last confirmed them, looking as they did then (by a
        // recovery's colour bar), brings it back (openpose filmed following the pair at 480 px: the
        // pose slid onto a spectator beside them in two frames; the next three detector runs found
        // the pair, in the place and at the size last confirmed, too far from the spectator to
        // count). With each match: whether it brought the track back.
        let matched = near_expected.or_else(|| {
            let (d, confirmed) = (detections?, track.confirmed.center());
            let moved_away = confirmed.distance(expected) > GATE * track.bbox.w.max(track.bbox.h);
            if !moved_away || !track.within_pose_only_time(self.now) {
                return None;
            }
            let there = track.eligible(frame, d, &candidates, confirmed, GATE);
            best_by_colour(&there, config.min_similarity + RECOVERY_MARGIN).map(|c| (c.rect, true))
        });
        if let Some((det, returned)) = matched {
            self.bystanders.observe(frame, detections.unwrap_or_default(), Some(&det), self.frame_index, |_| true);
            // A detection with the athlete's colours where we expect them: confirmed. The
            // detector's box is the better size estimate; the filter restarts on it.
            let centre = det.center();
            if returned {
                // Not a move the athlete made: the speed the hop gave the track goes.
                track.motion = MotionModel::new(centre);
            } else {
                track.motion.update(centre, 1);
            }
            track.bbox = Rect::from_center(centre.x, centre.y, det.w, det.h);
            track.restart_filter(frame);
            if let Some(seen) = ColourModel::from_frame(frame, &track.bbox) {
                track.colour.blend(&seen, COLOUR_RATE);
            }
            track.unconfirmed = 0;
            track.confirmed_at = self.now;
            track.confirmed = track.bbox;
            track.pose_unbroken = true;
            self.state = TrackState::Tracking;
            self.frames_since_request = 0;
            return response.psr.min(20.0) / 20.0 * 0.5 + 0.5;
        }

        // No confirming detection this frame. A detector run that finds someone else where the
        // athlete should be (other colours, or a bystander) says the body the pose estimator
        // sees there may be theirs: it verifies nothing until a detection confirms the athlete.
        let size = track.bbox.w.max(track.bbox.h);
        if let Some(d) = detections
            && d.iter().any(|Detection { bbox: r, .. }| r.center().distance(expected) <= GATE * size)
        {
            track.pose_unbroken = false;
        }
        // A body the pose estimator saw on the last frame where the athlete should be is where
        // they are, however sure the filter: a filter can be sure of a lamp post the athlete
        // passed or of background it slid onto, while the body is found afresh every frame.
        // The landmark model hopping to a neighbour is what the detector's check and the
        // time limit above are for. Else the filter where it is sure, else an older sighting of
        // the body, else coast on the motion model.
        let seen = pose
            .filter(|_| track.pose_unbroken && track.within_pose_only_time(self.now))
            .and_then(|p| track.pose_agrees(p, &[expected, predicted]).map(|body| (body, p.frames_ago)));
        let position = match seen {
            Some((body, 1)) => body,
            _ if sure => found,
            Some((body, _)) => body,
            None => predicted,
        };
        // The athlete is followed inside the picture: coasting on a flip's speed carried the
        // box out of it (a followed 320 px sports2d: 80 px above the top), and the lost
        // athlete was then looked for there, too far from where they landed.
        let position =
            Point::new(position.x.clamp(0.0, frame.width() as f32), position.y.clamp(0.0, frame.height() as f32));
        // Only a sure filter at the place the tracker settles on, in the Tracking state, keeps
        // learning, so a filter that slid onto the background does not teach itself it.
        let filter_agrees = sure && position.distance(found) <= FILTER_AGREEMENT * size;
        // Seen by the filter or the pose estimator this frame, or a guess.
        let located = sure || seen.is_some();
        if located {
            track.motion.update(position, 1);
        } else {
            track.motion.coast(position);
        }
        track.move_to(position);
        let refuted = detections.is_some();
        // People far from where the athlete must be are someone else, even unconfirmed; but
        // only where the filter or the pose estimator saw the athlete this frame: a box coasting
        // on a guess says nothing of where they are (a followed 320 px sports2d: the athlete,
        // landing after the flip two boxes from the guess, became a bystander, and no detection
        // of him could recover the track).
        if let Some(d) = detections {
            let far = |r: &Rect| located && r.center().distance(expected) > BYSTANDER_DISTANCE * size;
            self.bystanders.observe(frame, d, Some(&track.bbox), self.frame_index, far);
        }
        if filter_agrees && !refuted && self.state == TrackState::Tracking {
            track.filter.update(&grey_patch(frame, found.x, found.y, side, mosse::SIZE), FILTER_RATE);
            return response.psr.min(20.0) / 20.0;
        }
        if seen.is_some() {
            // Verified by the pose estimator. The filter lost its peak or found it elsewhere:
            // it starts again on how the athlete looks now, where they are.
            track.restart_filter(frame);
            track.unconfirmed = 0;
            self.state = TrackState::Tracking;
            return 0.5;
        }
        // Unsure, or the detector looked and saw no athlete here: verify.
        if self.state == TrackState::Tracking {
            self.frames_since_request = ASK_NOW;
        }
        self.state = TrackState::Verifying;
        track.unconfirmed += 1;
        if track.unconfirmed > config.lost_after {
            self.state = TrackState::Lost;
            track.lost_at = Some(self.now);
        }
        0.0
    }

    fn recover<S: RgbSource + ?Sized>(&mut self, frame: &S, detections: Option<&[Detection]>) -> f32 {
        let followable = self.followable(detections);
        let config = &self.config;
        let track = self.track.as_mut().expect("lost state keeps the last track");
        track.lost_frames += 1;
        let lost_for = self.now - track.lost_at.unwrap_or(self.now);
        if config.forget_after > 0.0 && lost_for > config.forget_after as f64 {
            // Away too long to be recognised with confidence: choose afresh, under a new id.
            self.forget_athlete();
            return 0.0;
        }
        let gate = RECOVERY_GATE + RECOVERY_GROWTH * track.lost_frames as f32;
        let last_seen = track.bbox.center();
        let candidates = Crowd { bystanders: &self.bystanders, frame_index: self.frame_index, recovering: true };
        // Right after the loss, a lone stranger is looked for further out: the athlete may have
        // travelled far while neither filter nor detector saw them (a flip, a dive).
        let stranger_time = lost_for <= STRANGER_WINDOW;
        let reach = if stranger_time { gate.max(STRANGER_GATE) } else { gate };
        let eligible = followable.map(|d| track.eligible(frame, &d, &candidates, last_seen, reach)).unwrap_or_default();
        // Colours alone recover the athlete only within the recovery gate.
        let near = eligible.iter().filter(|c| c.distance <= gate);
        let by_colour = best_by_colour(near, config.min_similarity + RECOVERY_MARGIN);
        let lone_stranger = match eligible.as_slice() {
            [only] if stranger_time && !entering(&only.rect, &track.bbox, frame.width(), frame.height()) => Some(only),
            _ => None,
        };
        let recovered = by_colour.or(lone_stranger).map(|c| (c.rect, c.similarity));
        if let Some(d) = detections {
            // Bystanders keep being followed; strangers join them only beside the recovered
            // athlete (while the athlete is away, a stranger may be the athlete come back).
            let beside = recovered.is_some();
            self.bystanders.observe(frame, d, recovered.as_ref().map(|r| &r.0), self.frame_index, |_| beside);
        }
        let Some((det, similarity)) = recovered else {
            return 0.0;
        };
        if let Some(mut restarted) = Track::start(frame, det, self.now) {
            // Same athlete, same id; their learnt colours are kept, not the new sample's alone,
            // unless they were recognised by elimination: then they look different now.
            if similarity >= config.min_similarity {
                restarted.colour = track.colour.clone();
            }
            *track = restarted;
            self.frames_since_request = 0;
            self.state = TrackState::Tracking;
            return 0.5;
        }
        0.0
    }
}

impl Track {
    fn start<S: RgbSource + ?Sized>(frame: &S, bbox: Rect, now: f64) -> Option<Track> {
        let colour = ColourModel::from_frame(frame, &bbox)?;
        let c = bbox.center();
        let side = WINDOW_SCALE * bbox.w.max(bbox.h);
        let filter = Mosse::new(&grey_patch(frame, c.x, c.y, side, mosse::SIZE));
        Some(Track {
            bbox,
            filter,
            motion: MotionModel::new(c),
            colour,
            unconfirmed: 0,
            lost_frames: 0,
            lost_at: None,
            confirmed_at: now,
            confirmed: bbox,
            pose_reporting: false,
            pose_unbroken: true,
        })
    }

    /// Where the body in `cue` is now, when it is where the athlete should be (near one of
    /// `expected`).
    fn pose_agrees(&self, cue: &PoseCue, expected: &[Point]) -> Option<Point> {
        let seen = cue.bbox.center();
        let n = cue.frames_ago as f32;
        let now = Point::new(seen.x + self.motion.velocity.x * n, seen.y + self.motion.velocity.y * n);
        let size = self.bbox.w.max(self.bbox.h).max(1.0);
        expected.iter().any(|e| now.distance(*e) <= POSE_GATE * size).then_some(now)
    }

    /// Whether a detection confirmed the track at most [`POSE_ONLY_SECONDS`] before `now`: the
    /// time the pose estimator's word alone is trusted for.
    fn within_pose_only_time(&self, now: f64) -> bool {
        now - self.confirmed_at <= POSE_ONLY_SECONDS + TIMESTAMP_SLACK
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

    /// The detections that may be the athlete: centre within `gate` box sizes of `near`, not
    /// where a bystander's track says that bystander is, and, when recovering, more like the
    /// athlete than like any absent bystander (where the athlete should be, a lookalike is the
    /// athlete: in a crowd in dark coats everyone looks like someone).
    fn eligible<S: RgbSource + ?Sized>(
        &self,
        frame: &S,
        detections: &[Detection],
        candidates: &Crowd,
        near: Point,
        gate: f32,
    ) -> Vec<Candidate> {
        let size = self.bbox.w.max(self.bbox.h).max(1.0);
        let boxes: Vec<Rect> = detections.iter().map(|d| d.bbox).collect();
        let bystanders = candidates.bystanders.assign(&boxes, candidates.frame_index);
        boxes
            .iter()
            .zip(&bystanders)
            .filter_map(|(r, &bystander)| {
                let distance = r.center().distance(near) / size;
                let ratio = r.w.max(r.h) / size;
                let other_size =
                    candidates.recovering && !(1.0 / RECOVERY_SIZE_RATIO..=RECOVERY_SIZE_RATIO).contains(&ratio);
                if distance > gate || other_size || candidates.bystander_there(bystander, distance) {
                    return None;
                }
                let colours = ColourModel::from_frame(frame, r)?;
                let similarity = colours.similarity(&self.colour);
                let lookalike =
                    candidates.recovering && candidates.bystanders.lookalike(&colours, similarity, &bystanders);
                (!lookalike).then_some(Candidate { rect: *r, distance, similarity })
            })
            .collect()
    }
}

/// Whether `r` is cut by an edge of the `width` x `height` frame that the athlete, last at
/// `last`, was more than a box size from: someone stepping into the picture or leaving it, not
/// the athlete come back (sports2d at 12 fps: a 57 px sliver of a walker at the left edge, two
/// and a half boxes from where the athlete was lost mid-flip, was taken for him).
fn entering(r: &Rect, last: &Rect, width: u32, height: u32) -> bool {
    let (w, h) = (width as f32, height as f32);
    let size = last.w.max(last.h);
    let cut_far = |cut: bool, athlete_to_edge: f32| cut && athlete_to_edge > size;
    cut_far(r.x <= EDGE_PIXELS, last.x)
        || cut_far(r.x + r.w >= w - EDGE_PIXELS, w - (last.x + last.w))
        || cut_far(r.y <= EDGE_PIXELS, last.y)
        || cut_far(r.y + r.h >= h - EDGE_PIXELS, h - (last.y + last.h))
}

/// A detection that may be the athlete.
struct Candidate {
    rect: Rect,
    /// From where the athlete should be, in box sizes.
    distance: f32,
    /// Colour likeness to the athlete, 0..1.
    similarity: f32,
}

/// The candidate with the athlete's colours (at least `min_similarity` alike), ranked by
/// colour, then closeness.
fn best_by_colour<'a>(eligible: impl IntoIterator<Item = &'a Candidate>, min_similarity: f32) -> Option<&'a Candidate> {
    let score = |c: &&Candidate| c.similarity - 0.2 * c.distance;
    eligible.into_iter().filter(|c| c.similarity >= min_similarity).max_by(|a, b| score(a).total_cmp(&score(b)))
}

/// The people around the athlete: what rules detections out as the athlete besides their
/// colours.
struct Crowd<'a> {
    bystanders: &'a Bystanders,
    frame_index: u64,
    /// The athlete was lost: any detection a bystander's track continues in is that bystander. While
    /// following, the athlete's own prediction competes: the nearer claim wins.
    recovering: bool,
}

impl Crowd<'_> {
    /// Whether a box is the bystander it was assigned to (`Bystanders::assign`: which one, how
    /// many of their box sizes from where they should be), `athlete_distance` athlete box
    /// sizes from where the athlete should be.
    fn bystander_there(&self, assigned: Option<(usize, f32)>, athlete_distance: f32) -> bool {
        assigned.is_some_and(|(_, d)| self.recovering || d < athlete_distance)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::PackedView;

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
        let dets: Vec<Detection> = people.iter().map(|(r, _)| Detection::boxed(*r, 0.9)).collect();
        tracker.update(&view, next_time(tracker), detect.then_some(dets.as_slice()), None)
    }

    /// The next frame's time in a 30 fps video.
    fn next_time(tracker: &AthleteTracker) -> f64 {
        tracker.frame_index as f64 / 30.0
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
    fn a_bystander_who_comes_to_look_like_the_athlete_is_not_taken_for_them() {
        let mut t = AthleteTracker::new(TrackerConfig { lost_after: 3, ..TrackerConfig::default() });
        // A walker in blue heads towards the athlete, 2 px a frame.
        let walker = |i: u32, colour| (Rect { x: 20.0 + 2.0 * i as f32, y: 80.0, w: 30.0, h: 80.0 }, colour);
        for i in 0..5 {
            run(&mut t, &[(athlete_at(140.0), RED), walker(i, BLUE)], true);
        }
        // The athlete leaves, and the walker steps into light that makes them look red-orange:
        // colours alone would take them for the athlete, near where the athlete was last seen.
        let orange = [220, 70, 40];
        for i in 5..60 {
            let out = run(&mut t, &[walker(i, orange)], true);
            let near = |b: Rect| b.center().distance(walker(i, orange).0.center()) < 20.0;
            let on_walker = out.state != TrackState::Lost && out.bbox.is_some_and(near);
            assert!(!on_walker, "frame {i}: took the walker for the athlete: {out:?}");
        }
        // The athlete comes back, away from the walker: recovered.
        let out = run(&mut t, &[(athlete_at(250.0), RED), walker(60, orange)], true);
        assert_eq!((out.state, out.track_id), (TrackState::Tracking, 1), "{out:?}");
    }

    #[test]
    fn an_athlete_away_too_long_is_forgotten_and_the_next_one_gets_a_new_id() {
        // 30 frames at 30 fps.
        let config = TrackerConfig { lost_after: 3, forget_after: 1.0, ..TrackerConfig::default() };
        let mut t = AthleteTracker::new(config);
        for _ in 0..3 {
            run(&mut t, &[(athlete_at(140.0), RED)], true);
        }
        let states: Vec<TrackState> = (0..40).map(|_| run(&mut t, &[], true).state).collect();
        assert!(states.contains(&TrackState::Lost), "{states:?}");
        assert_eq!(*states.last().unwrap(), TrackState::Searching, "{states:?}");
        let out = run(&mut t, &[(athlete_at(140.0), RED)], true);
        assert_eq!((out.state, out.track_id), (TrackState::Tracking, 2));
    }

    /// A tracker (lost after 3 frames) that has followed the red athlete at x=140 for 3 frames,
    /// and the pose estimator's sighting of their body there.
    fn tracking_the_red_athlete() -> (AthleteTracker, PoseCue) {
        let mut t = AthleteTracker::new(TrackerConfig { lost_after: 3, ..TrackerConfig::default() });
        for _ in 0..3 {
            run(&mut t, &[(athlete_at(140.0), RED)], true);
        }
        (t, PoseCue { bbox: Rect { x: 142.0, y: 84.0, w: 26.0, h: 74.0 }, frames_ago: 1 })
    }

    #[test]
    fn the_pose_estimator_verifies_an_athlete_the_filter_and_detector_miss_for_a_while() {
        let (mut t, body) = tracking_the_red_athlete();
        // The athlete turns into something neither the filter nor the detector recognises
        // (here: vanishes from the picture), but the pose estimator still sees a body there.
        let data = frame(&[]);
        let view = PackedView::rgb(&data, W, H).unwrap();
        let mut states = Vec::new();
        let limit = (POSE_ONLY_SECONDS * 30.0) as usize;
        for _ in 0..limit + 20 {
            states.push(t.update(&view, next_time(&t), Some(&[]), Some(&body)).state);
        }
        let verified = states.iter().take_while(|s| **s == TrackState::Tracking).count();
        assert_eq!(verified, limit, "{states:?}");
        assert_eq!(*states.last().unwrap(), TrackState::Lost, "the detector is right in the end");

        // A body the pose estimator saw far from the athlete verifies nothing.
        let mut t = AthleteTracker::new(TrackerConfig { lost_after: 3, ..TrackerConfig::default() });
        run(&mut t, &[(athlete_at(140.0), RED)], true);
        let elsewhere = PoseCue { bbox: Rect { x: 240.0, y: 84.0, w: 26.0, h: 74.0 }, frames_ago: 1 };
        let states: Vec<TrackState> =
            (0..10).map(|_| t.update(&view, next_time(&t), Some(&[]), Some(&elsewhere)).state).collect();
        assert_eq!(*states.last().unwrap(), TrackState::Lost, "{states:?}");
    }

    #[test]
    fn the_track_goes_with_the_body_the_pose_estimator_sees_not_a_filter_sure_of_the_background() {
        let (mut t, body) = tracking_the_red_athlete();
        // The filter stays sure of what it locked on (it stays put, like a lamp post the
        // athlete passed) while the pose estimator sees the body move away, 3 px a frame.
        let data = frame(&[(athlete_at(140.0), RED)]);
        let view = PackedView::rgb(&data, W, H).unwrap();
        let mut out = None;
        for i in 1..=20 {
            let seen = PoseCue { bbox: Rect { x: body.bbox.x + 3.0 * i as f32, ..body.bbox }, frames_ago: 1 };
            out = Some(t.update(&view, next_time(&t), None, Some(&seen)));
        }
        let out = out.unwrap();
        let body_now = body.bbox.center().x + 60.0;
        assert_eq!(out.state, TrackState::Tracking, "{out:?}");
        assert!((out.bbox.unwrap().center().x - body_now).abs() < 8.0, "{out:?} vs the body at x {body_now}");
    }

    #[test]
    fn a_track_the_pose_estimator_carried_onto_a_neighbour_returns_where_a_detection_finds_the_athlete() {
        let (mut t, body) = tracking_the_red_athlete();
        // A blue-clad neighbour stands 60 px to the right; the pose estimator's sightings slide
        // onto them in three steps, each close enough to where the athlete should be to verify.
        let people = [(athlete_at(140.0), RED), (athlete_at(200.0), BLUE)];
        let data = frame(&people);
        let view = PackedView::rgb(&data, W, H).unwrap();
        for step in 1..=3 {
            let seen = PoseCue { bbox: Rect { x: body.bbox.x + 20.0 * step as f32, ..body.bbox }, frames_ago: 1 };
            let out = t.update(&view, next_time(&t), None, Some(&seen));
            assert_eq!(out.state, TrackState::Tracking, "{out:?}");
        }
        let on_neighbour =
            t.update(&view, next_time(&t), None, Some(&PoseCue { bbox: athlete_at(200.0), frames_ago: 1 }));
        assert!(on_neighbour.bbox.unwrap().center().x > 200.0, "the pose carried the track: {on_neighbour:?}");
        // The detector runs: the neighbour where the track is, the athlete where a detection
        // last confirmed them, in their colours.
        let dets: Vec<Detection> = people.iter().map(|(r, _)| Detection::boxed(*r, 0.9)).collect();
        let out =
            t.update(&view, next_time(&t), Some(&dets), Some(&PoseCue { bbox: athlete_at(200.0), frames_ago: 1 }));
        assert_eq!((out.state, out.track_id), (TrackState::Tracking, 1), "{out:?}");
        assert!((out.bbox.unwrap().center().x - 155.0).abs() < 2.0, "back on the athlete: {out:?}");
    }

    #[test]
    fn right_after_the_loss_a_lone_stranger_far_off_is_the_athlete() {
        // The athlete vanishes into a flip; the detector finds them again soon after, three
        // box widths on and in other colours (out of back light), beside a known bystander.
        let recovered_from = |landing_x: f32, away_frames: usize| {
            let mut t = AthleteTracker::new(TrackerConfig { lost_after: 3, ..TrackerConfig::default() });
            let bystander = (Rect { x: 280.0, y: 60.0, w: 30.0, h: 80.0 }, [40, 200, 40]);
            for _ in 0..3 {
                run(&mut t, &[(athlete_at(20.0), RED), bystander], true);
            }
            for _ in 0..away_frames {
                run(&mut t, &[bystander], true);
            }
            assert_eq!(t.state(), TrackState::Lost);
            run(&mut t, &[(athlete_at(landing_x), BLUE), bystander], true)
        };
        // About 2.4 box heights from where they vanished, 0.3 s and 1.5 s after the loss (a
        // diver under water).
        for away in [10, 45] {
            let out = recovered_from(215.0, away);
            assert_eq!((out.state, out.track_id), (TrackState::Tracking, 1), "{away} frames away: {out:?}");
        }
        // Later, a stranger there is just someone arriving.
        let out = recovered_from(215.0, 75);
        assert_ne!(out.state, TrackState::Tracking, "{out:?}");
    }

    /// A tracker that followed the red athlete at x = 100 for three frames, then lost them
    /// (ten frames without a detection).
    fn lost_mid_frame() -> AthleteTracker {
        let mut t = AthleteTracker::new(TrackerConfig { lost_after: 3, ..TrackerConfig::default() });
        for _ in 0..3 {
            run(&mut t, &[(athlete_at(100.0), RED)], true);
        }
        for _ in 0..10 {
            run(&mut t, &[], true);
        }
        assert_eq!(t.state(), TrackState::Lost);
        t
    }

    #[test]
    fn a_lone_stranger_cut_by_an_edge_far_from_the_athlete_is_someone_arriving() {
        // Lost mid-frame; soon after, the only person found is 2.4 box heights away, at the
        // athlete's height.
        let recovered = |stranger: Rect| run(&mut lost_mid_frame(), &[(stranger, BLUE)], true);
        // Inside the picture: the athlete come back.
        let out = recovered(Rect { x: 280.0, y: 60.0, w: 30.0, h: 80.0 });
        assert_eq!((out.state, out.track_id), (TrackState::Tracking, 1), "{out:?}");
        // Cut by the right edge, which the athlete was far from: someone stepping in.
        let out = recovered(Rect { x: 298.0, y: 60.0, w: 22.0, h: 80.0 });
        assert_eq!(out.state, TrackState::Lost, "{out:?}");
    }

    #[test]
    fn an_athlete_nobody_sees_is_looked_for_inside_the_picture() {
        // Fast towards the right edge (12 px a frame, last seen 23 px from it), then gone: the
        // guess slows and stops at the edge instead of flying on out of the picture.
        let mut t = AthleteTracker::new(TrackerConfig { lost_after: 30, ..TrackerConfig::default() });
        for i in 0..12 {
            run(&mut t, &[(athlete_at(150.0 + 12.0 * i as f32), RED)], true);
        }
        let last = t.track.as_ref().unwrap().bbox.center().x;
        let mut centre = last;
        for _ in 0..20 {
            centre = run(&mut t, &[], false).bbox.unwrap().center().x;
        }
        assert!(centre > last && centre <= W as f32, "from {last} to {centre}");
    }

    #[test]
    fn someone_found_far_from_a_guess_is_no_bystander_and_may_be_the_athlete_back() {
        // The athlete vanishes into a flip; nothing sees them while the tracker verifies on its
        // guess, and the detector finds them landing 2.4 box heights on, in other colours (out
        // of back light), before the track is declared lost.
        let mut t = AthleteTracker::new(TrackerConfig { lost_after: 3, ..TrackerConfig::default() });
        for _ in 0..3 {
            run(&mut t, &[(athlete_at(20.0), RED)], true);
        }
        assert_eq!(run(&mut t, &[], true).state, TrackState::Verifying);
        let landed = [(athlete_at(215.0), BLUE)];
        let mut out = run(&mut t, &landed, true);
        for _ in 0..5 {
            out = run(&mut t, &landed, true);
        }
        // Not made a bystander on a guess: the lone stranger right after the loss is them.
        assert_eq!((out.state, out.track_id), (TrackState::Tracking, 1), "{out:?}");
        assert!((out.bbox.unwrap().center().x - 230.0).abs() < 2.0, "{out:?}");
    }

    #[test]
    fn right_after_the_loss_a_lone_stranger_of_another_size_is_not_the_athlete() {
        let mut t = lost_mid_frame();
        // Alone and near, but a quarter of the athlete's height: not them.
        let small = Rect { x: 120.0, y: 100.0, w: 20.0, h: 25.0 };
        let out = run(&mut t, &[(small, RED)], true);
        assert_eq!(out.state, TrackState::Lost, "{out:?}");
        // The athlete's size there: them.
        let out = run(&mut t, &[(athlete_at(120.0), RED)], true);
        assert_eq!((out.state, out.track_id), (TrackState::Tracking, 1), "{out:?}");
    }

    #[test]
    fn someone_else_detected_where_the_athlete_should_be_stops_the_pose_estimator_verifying() {
        let (mut t, body) = tracking_the_red_athlete();
        // A blue-clad person now stands where the athlete was, and the pose estimator sees a
        // body there: theirs, for all it knows.
        let people = [(athlete_at(140.0), BLUE)];
        let data = frame(&people);
        let view = PackedView::rgb(&data, W, H).unwrap();
        let other = [Detection::boxed(athlete_at(140.0), 0.9)];
        let mut states = vec![t.update(&view, next_time(&t), Some(&other), Some(&body)).state];
        states.extend((0..6).map(|_| t.update(&view, next_time(&t), None, Some(&body)).state));
        assert_eq!(states[0], TrackState::Verifying, "{states:?}");
        assert_eq!(*states.last().unwrap(), TrackState::Lost, "{states:?}");
    }

    #[test]
    fn once_the_pose_estimator_loses_the_athlete_a_body_it_finds_again_verifies_nothing() {
        let mut t = AthleteTracker::new(TrackerConfig { lost_after: 3, ..TrackerConfig::default() });
        let body = PoseCue { bbox: Rect { x: 142.0, y: 84.0, w: 26.0, h: 74.0 }, frames_ago: 1 };
        let people = [(athlete_at(140.0), RED)];
        let data = frame(&people);
        let view = PackedView::rgb(&data, W, H).unwrap();
        t.update(&view, next_time(&t), Some(&[Detection::boxed(athlete_at(140.0), 0.9)]), None);
        for _ in 0..5 {
            assert_eq!(t.update(&view, next_time(&t), None, Some(&body)).state, TrackState::Tracking);
        }
        // The pose estimator sees nobody: however sure the filter is of what it sees (here the
        // athlete has not moved), the tracker is not.
        assert_eq!(t.update(&view, next_time(&t), None, None).state, TrackState::Verifying);
        // A body again where the athlete was: someone walking in, for all the pose estimator
        // knows. Only a detection with the athlete's colours confirms them now.
        let empty = frame(&[]);
        let gone = PackedView::rgb(&empty, W, H).unwrap();
        let states: Vec<TrackState> =
            (0..6).map(|_| t.update(&gone, next_time(&t), Some(&[]), Some(&body)).state).collect();
        assert!(!states.contains(&TrackState::Tracking), "{states:?}");
        assert_eq!(*states.last().unwrap(), TrackState::Lost, "{states:?}");
    }

    #[test]
    fn a_bystander_close_by_makes_the_tracker_check_with_the_detector_often() {
        let requests = |bystander_x: f32| {
            let mut t = AthleteTracker::new(TrackerConfig::default());
            let people = [(athlete_at(140.0), RED), (athlete_at(bystander_x), BLUE)];
            run(&mut t, &people, true);
            (0..30).filter(|_| run(&mut t, &people, false).request_redetect).count()
        };
        // 15 frames between checks when alone; 5 with someone a box width away.
        assert_eq!(requests(280.0), 2);
        assert_eq!(requests(180.0), 6);
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
        let small_central = Detection::boxed(Rect { x: 150.0, y: 110.0, w: 20.0, h: 20.0 }, 0.6);
        let big_corner = Detection::boxed(Rect { x: 0.0, y: 0.0, w: 100.0, h: 200.0 }, 0.95);
        let data = frame(&[]);
        let view = PackedView::rgb(&data, W, H).unwrap();
        let pick = |rule| {
            AthleteTracker::new(TrackerConfig { select: rule, ..Default::default() })
                .select(&view, &[small_central.clone(), big_corner.clone()])
        };
        assert_eq!(pick(SelectRule::Center).unwrap().bbox, small_central.bbox);
        assert_eq!(pick(SelectRule::Score).unwrap().bbox, big_corner.bbox);
        assert_eq!(pick(SelectRule::Largest).unwrap().bbox, big_corner.bbox);
        assert!("diagonal".parse::<SelectRule>().is_err());
    }

    #[test]
    fn track_states_read_back_from_their_names() {
        for state in TrackState::ALL {
            assert_eq!(state.name().parse::<TrackState>(), Ok(state));
        }
        assert!("gone".parse::<TrackState>().is_err());
    }

    #[test]
    fn a_track_that_keeps_its_place_in_the_world_while_the_camera_pans_is_dropped() {
        let (dropped_at, last) = pan_after_a_diver(TrackerConfig::default());
        // Dropped after about a second of sliding (the comparison needs most of a second)...
        let dropped_at = dropped_at.expect("the spectator is dropped");
        assert!((24..=40).contains(&dropped_at), "dropped at frame {dropped_at}");
        // ...and the diver, whom the camera follows, is the athlete at the end.
        assert_eq!(last.state, TrackState::Tracking);
        let diver = Rect::from_center(160.0, 120.0, 30.0, 60.0);
        assert!(last.bbox.unwrap().center().distance(diver.center()) < 10.0, "{last:?}");
        // Told that the camera does not follow the athlete, the tracker keeps the spectator.
        let (dropped_at, last) = pan_after_a_diver(TrackerConfig { camera_follows: false, ..TrackerConfig::default() });
        assert_eq!((dropped_at, last.track_id), (None, 1));
    }

    /// A camera that pans right 3 px a frame after a diver who stays in the middle of the
    /// picture, while a spectator, found alone on the first frame, slides left with the stands.
    /// Returns the frame the spectator's track was dropped on, if it was, and the last output.
    fn pan_after_a_diver(config: TrackerConfig) -> (Option<u32>, TrackOutput) {
        use crate::tracking::test_world;
        let mut t = AthleteTracker::new(config);
        let diver = Rect::from_center(160.0, 120.0, 30.0, 60.0);
        let spectator_at = |i: u32| Rect::from_center(280.0 - 3.0 * i as f32, 55.0, 30.0, 60.0);
        let mut dropped_at = None;
        let mut last = None;
        for i in 0..60u32 {
            let spectator = spectator_at(i);
            let data = test_world::frame(3.0 * i as f32, 0.0, &[diver, spectator]);
            let view = PackedView::rgb(&data, test_world::W, test_world::H).unwrap();
            // The detector runs when asked; it sees the diver only from the second run on.
            let seen: Vec<Detection> = if i == 0 { vec![spectator] } else { vec![spectator, diver] }
                .into_iter()
                .map(|r| Detection::boxed(r, 0.9))
                .collect();
            let asked = i == 0 || last.as_ref().is_some_and(|o: &TrackOutput| o.request_redetect);
            let out = t.update(&view, i as f64 / 30.0, asked.then_some(seen.as_slice()), None);
            if i == 0 {
                assert_eq!(out.bbox, Some(spectator), "the only person found is chosen first");
            }
            if out.left_behind {
                assert!(dropped_at.is_none() && out.track_id == 0 && out.state == TrackState::Searching, "{out:?}");
                dropped_at = Some(i);
            }
            last = Some(out);
        }
        (dropped_at, last.expect("frames ran"))
    }
}
