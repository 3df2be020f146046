// SPDX-License-Identifier: MPL-2.0
//! Per-frame pose of one athlete: picks the landmark model's region (previous keypoints or
//! the athlete's box), runs the model, and decides whether a person is there at all.

use super::budget::RunBudget;
use super::fusion;
use super::recheck;
use super::roi::{self, RoiSource};
use super::turn::{self, BodyTurn};
use crate::PoseLandmarker;
use crate::blazepose::landmarks::Landmarks;
use crate::error::Result;
use crate::movenet::{self, Body, BodyModel};
use aicoach_vision::geometry::{Rect, RotatedRect};
use aicoach_vision::image::RgbSource;
use aicoach_vision::masked::Masked;
use aicoach_vision::pose::PoseFrame;

/// The landmark model's person score below which the crop is taken to hold nobody (MediaPipe's
/// default).
pub const MIN_POSE_SCORE: f32 = 0.5;
/// MoveNet's mean joint score below which its crop is taken to hold nobody, when the landmark
/// model does not see the person either.
pub const MIN_BODY_SCORE: f32 = 0.25;
/// ... and below which it holds nobody even where the landmark model, unsure itself, places the
/// limbs where MoveNet does: two models agreeing on the joints is evidence of a person that
/// neither score shows (three acrobats tangled in one photo: MoveNet 0.25, BlazePose 0.25; a
/// blank frame: 0.09 and no agreement).
pub const MIN_AGREED_BODY_SCORE: f32 = 0.15;
/// Without a box, MoveNet looks around the last body it found, its joints' box grown by this
/// (joints stop short of the head's top and the feet's soles).
const BODY_BOX_GROWTH: f32 = 1.2;
/// The joints' box (short of the head's top and the soles) overlaps the athlete's by at least
/// this when it is their body.
const BODY_BOX_IOU: f32 = 0.3;
/// The second look ([`look_again_in_box`]) keeps this much of the picture around the athlete's
/// box (its width and height times this, about its centre): limbs the box cut off stay in view.
const WINDOW_GROWTH: f32 = 1.25;

/// One frame's result.
#[derive(Debug, Clone)]
pub struct Estimate {
    pub pose: PoseFrame,
    /// The region the model looked at, and where it came from.
    pub roi: RotatedRect,
    pub source: RoiSource,
    /// The body is the larger model's ([`PoseEstimator::set_recheck`]).
    pub rechecked: bool,
}

pub struct PoseEstimator {
    landmarker: PoseLandmarker,
    /// MoveNet, which finds the body in the athlete's box and places the landmark region.
    body: Option<BodyModel>,
    /// A larger MoveNet that looks again where the two models disagree ([`PoseEstimator::set_recheck`]).
    recheck: Option<BodyModel>,
    recheck_budget: RunBudget,
    /// The quarter turn MoveNet's square is given so the athlete stands upright in it
    /// ([`turn`]): the last body's, carried to the next frame.
    turn: BodyTurn,
    /// Blind searches round the quarter turns where MoveNet finds no torso or is unsure of the
    /// body.
    blind_searches: RunBudget,
    /// The region the last pose predicts for the next frame.
    next_roi: Option<RotatedRect>,
    /// Where the last body was (with a body model): where to look when no box is given.
    last_body: Option<Rect>,
    /// With a body model: run it on one analysed frame in this many, the landmark model
    /// following its own keypoints in between (0 or 1: on every frame). See
    /// [`PoseEstimator::set_body_every`].
    body_every: u32,
    /// Frames since the body model last ran.
    since_body: u32,
    /// Whether the landmark model may run on its predicted region in a second thread while the
    /// body model runs ([`PoseEstimator::set_concurrent`]).
    concurrent: bool,
}

impl PoseEstimator {
    /// The landmark model alone, following its own keypoints from frame to frame as MediaPipe does.
    pub fn new(landmarker: PoseLandmarker) -> Self {
        let concurrent = std::thread::available_parallelism().is_ok_and(|n| n.get() > 1);
        Self {
            landmarker,
            body: None,
            recheck: None,
            recheck_budget: recheck::budget(),
            turn: BodyTurn::default(),
            blind_searches: turn::blind_search_budget(),
            next_roi: None,
            last_body: None,
            body_every: 0,
            since_body: 0,
            concurrent,
        }
    }

    /// MoveNet finds the body in the athlete's box on every frame and places the landmark
    /// model's region; the pose is MoveNet's joints with BlazePose's extra points
    /// ([`fusion::fuse`]).
    pub fn with_body_model(landmarker: PoseLandmarker, body: BodyModel) -> Self {
        Self { body: Some(body), ..Self::new(landmarker) }
    }

    /// A larger body model (MoveNet Thunder) run where the body model's joints and the landmark
    /// model's disagree, or the landmark model sees nobody there: its body replaces the first's
    /// on those frames. They are the hard ones (a back view whose sides the two models read
    /// differently, tangled people, an acrobat); elsewhere its four times longer run buys
    /// nothing.
    pub fn set_recheck(&mut self, model: Option<BodyModel>) {
        self.recheck = model;
    }

    pub fn body_model(&self) -> Option<&BodyModel> {
        self.body.as_ref()
    }

    pub fn landmarker(&self) -> &PoseLandmarker {
        &self.landmarker
    }

    pub fn into_landmarker(self) -> PoseLandmarker {
        self.landmarker
    }

    /// Runs the body model on one frame in `every` (0 or 1: on every frame), the landmark model
    /// following its own keypoints in between, as MediaPipe does: half the time per frame, for
    /// a live stream that cannot afford both models on every frame. The landmark model's own
    /// joints stand in for the body model's on those frames, and it may hop to a neighbour in a
    /// crowd until the body model runs again.
    pub fn set_body_every(&mut self, every: u32) {
        self.body_every = every;
    }

    /// With a body model and a region predicted by the last frame's landmarks: run the landmark
    /// model there in a second thread while the body model runs, and keep its result when it
    /// agrees with the body ([`fusion::agrees`]); otherwise it runs again on the region the body
    /// places, as without. The pose's body joints are the body model's either way, and the
    /// frame takes about the longer model's time instead of both models' (default: where the
    /// machine has more than one core).
    pub fn set_concurrent(&mut self, concurrent: bool) {
        self.concurrent = concurrent;
    }

    /// Forgets the previous frame (new athlete, seek, new stream).
    pub fn reset(&mut self) {
        self.next_roi = None;
        self.last_body = None;
        self.since_body = 0;
        self.recheck_budget.reset();
        self.turn = BodyTurn::default();
        self.blind_searches.reset();
    }

    /// The athlete's pose at `time` seconds on `frame`, given their box when a tracker or
    /// detector knows it. Without a box the model follows its own previous keypoints; with
    /// neither there is nothing to look at.
    pub fn estimate<S: RgbSource + Sync + ?Sized>(
        &mut self,
        frame: &S,
        athlete: Option<&Rect>,
        time: f64,
    ) -> Result<Option<Estimate>> {
        if self.body.is_some() {
            return self.estimate_with_body(frame, athlete, time);
        }
        let Some((roi, source)) = roi::choose(self.next_roi.as_ref(), athlete) else {
            return Ok(None);
        };
        let mut landmarks = self.landmarker.estimate(frame, &roi)?;
        let (mut roi, mut source) = (roi, source);
        // The previous keypoints' region lost the person: look once more where the box is.
        if landmarks.pose_score < MIN_POSE_SCORE
            && source == RoiSource::Keypoints
            && let Some(b) = athlete
        {
            roi = roi::from_box(b);
            source = RoiSource::Box;
            landmarks = self.landmarker.estimate(frame, &roi)?;
        }
        if landmarks.pose_score < MIN_POSE_SCORE {
            self.next_roi = None;
            return Ok(None);
        }
        self.next_roi = landmarks.next_roi();
        Ok(Some(Estimate { pose: landmarks.pose_frame(time), roi, source, rechecked: false }))
    }

    fn estimate_with_body<S: RgbSource + Sync + ?Sized>(
        &mut self,
        frame: &S,
        athlete: Option<&Rect>,
        time: f64,
    ) -> Result<Option<Estimate>> {
        if let Some(estimate) = self.follow_landmarks(frame, athlete, time)? {
            return Ok(Some(estimate));
        }
        self.since_body = 0;
        let predicted = self.next_roi.take().filter(|_| self.concurrent);
        let looked_at = athlete.copied().or(self.last_body);
        // A blind search round the quarter turns only for an athlete not seen on the last frame
        // (a photo, a stream's start, after a loss): one seen turns gradually, and MoveNet's
        // reading of which way their body lies turns the square with them.
        let last_turn = self.turn;
        // Where the body was on the last frame: a body found away from it and off the box is a
        // neighbour MoveNet hopped to (`look_again_in_box`).
        let last = self.last_body;
        let unseen = last.is_none();
        let blind_searches = &mut self.blind_searches;
        let blind = || unseen && blind_searches.take(time);
        let (body, early) = match predicted {
            Some(region) => {
                let (landmarker, body_model) = (&mut self.landmarker, self.body.as_mut());
                let (body, early) = std::thread::scope(|s| {
                    // Without a thread to spare (the system refused one), the two run in turn.
                    let beside = std::thread::Builder::new()
                        .name("aicoach-landmarks".into())
                        .spawn_scoped(s, || landmarker.estimate(frame, &region));
                    let body = find_body(body_model, frame, looked_at.as_ref(), last_turn, blind, last.as_ref());
                    let early = beside
                        .ok()
                        .map(|thread| thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
                    (body, early)
                });
                let early = match early {
                    Some(landmarks) => landmarks,
                    None => self.landmarker.estimate(frame, &region),
                };
                (body?, Some((early?, region)))
            }
            None => (find_body(self.body.as_mut(), frame, looked_at.as_ref(), last_turn, blind, last.as_ref())?, None),
        };
        let Some((mut body, mut turn)) = body else {
            self.forget_body();
            return Ok(None);
        };
        let early = early.map(|(landmarks, region)| (landmarks, region, RoiSource::Keypoints));
        let (mut landmarks, mut roi, mut source) = self.landmarks_for(frame, &body, early, looked_at)?;
        let mut rechecked = false;
        // The two models disagree, or the landmark model is unsure: the larger body model
        // looks again where the first did, and its body stands instead (not where the body
        // model runs only now and then: a stream paced for that cannot afford this either).
        if self.body_every <= 1
            && !same_person(&body, &landmarks)
            && self.recheck.is_some()
            && self.recheck_budget.take(time)
            && let Some(second) =
                find_body(self.recheck.as_mut(), frame, looked_at.as_ref(), turn, || false, last.as_ref())?
        {
            (body, turn) = second;
            rechecked = true;
            (landmarks, roi, source) = self.landmarks_for(frame, &body, Some((landmarks, roi, source)), looked_at)?;
        }
        let agreed = fusion::agrees(&body, &landmarks);
        let same_person = landmarks.pose_score >= MIN_POSE_SCORE && agreed;
        if !is_present(body.score(), landmarks.pose_score, agreed) {
            self.forget_body();
            return Ok(None);
        }
        self.turn = turn;
        self.last_body = body.bounding_box().map(|r| r.scaled(BODY_BOX_GROWTH));
        if same_person {
            self.next_roi = landmarks.next_roi();
        }
        let pose = fusion::fuse(&body, same_person.then_some(&landmarks), time);
        Ok(Some(Estimate { pose, roi, source, rechecked }))
    }

    /// Nobody on this frame: the next looks around the athlete's box, upright.
    fn forget_body(&mut self) {
        self.last_body = None;
        self.turn = BodyTurn::default();
    }

    /// The landmarks of `body`: `found` where they agree with it, else the landmark model's on
    /// the region the body places (or, without one, around the box).
    fn landmarks_for<S: RgbSource + ?Sized>(
        &mut self,
        frame: &S,
        body: &Body,
        found: Option<(Landmarks, RotatedRect, RoiSource)>,
        looked_at: Option<Rect>,
    ) -> Result<(Landmarks, RotatedRect, RoiSource)> {
        if let Some(found) = found.filter(|(l, ..)| same_person(body, l)) {
            return Ok(found);
        }
        let (roi, source) = match body.landmark_region() {
            Some(r) => (r, RoiSource::Body),
            None => {
                let whole_frame = || RotatedRect::letterbox(frame.width(), frame.height()).bounding_rect();
                (roi::from_box(&looked_at.unwrap_or_else(whole_frame)), RoiSource::Box)
            }
        };
        Ok((self.landmarker.estimate(frame, &roi)?, roi, source))
    }

    /// Between the body model's frames ([`PoseEstimator::set_body_every`]): the landmark model
    /// alone on the region its last keypoints predict, while that region agrees with the
    /// athlete's box and the model still sees a person there. `None`: the body model's turn.
    fn follow_landmarks<S: RgbSource + ?Sized>(
        &mut self,
        frame: &S,
        athlete: Option<&Rect>,
        time: f64,
    ) -> Result<Option<Estimate>> {
        if self.body_every <= 1 || self.since_body + 1 >= self.body_every {
            return Ok(None);
        }
        let Some((roi, RoiSource::Keypoints)) = roi::choose(self.next_roi.as_ref(), athlete) else {
            return Ok(None);
        };
        let landmarks = self.landmarker.estimate(frame, &roi)?;
        if landmarks.pose_score < MIN_POSE_SCORE {
            return Ok(None);
        }
        self.since_body += 1;
        self.next_roi = landmarks.next_roi();
        Ok(Some(Estimate { pose: landmarks.pose_frame(time), roi, source: RoiSource::Keypoints, rechecked: false }))
    }
}

/// Whether the landmark model sees a person and it is `body`'s.
fn same_person(body: &Body, landmarks: &Landmarks) -> bool {
    landmarks.pose_score >= MIN_POSE_SCORE && fusion::agrees(body, landmarks)
}

/// Whether the crop holds a person, from MoveNet's mean joint score, the landmark model's person
/// score and whether the two place the limbs alike.
fn is_present(body_score: f32, pose_score: f32, agreed: bool) -> bool {
    let min_body = if agreed { MIN_AGREED_BODY_SCORE } else { MIN_BODY_SCORE };
    (agreed && pose_score >= MIN_POSE_SCORE) || body_score >= min_body
}

/// MoveNet's body in `looked_at` (the athlete's box, or where the last body was); with neither,
/// in the whole frame, as it was made to look (a detector misses small or unusual people a
/// single-person model still finds). Its square starts at `turn` and turns with a body that
/// lies another way ([`turn::find_upright`]); the body comes with the turn it stands at.
/// A body found off the box and away from `last` (the last frame's body) gets a second look
/// with only the box in view ([`look_again_in_box`]).
fn find_body<S: RgbSource + ?Sized>(
    model: Option<&mut BodyModel>,
    frame: &S,
    looked_at: Option<&Rect>,
    turn: BodyTurn,
    blind: impl FnOnce() -> bool,
    last: Option<&Rect>,
) -> Result<Option<(Body, BodyTurn)>> {
    let Some(model) = model else { return Ok(None) };
    let Some(b) = looked_at else {
        return turn::find_upright(model, frame, &RotatedRect::letterbox(frame.width(), frame.height()), turn, blind);
    };
    let region = movenet::crop_region(b);
    let first = turn::find_upright(model, frame, &region, turn, blind)?;
    // On the athlete's box, or where the last frame's body was.
    let kept = |body: &Body| on_box(body, b) || last.is_some_and(|l| on_box(body, l));
    if first.as_ref().is_some_and(|(body, _)| kept(body)) {
        return Ok(first);
    }
    look_again_in_box(model, frame, b, &region, first, turn)
}

/// MoveNet takes whoever it likes best in its square, and in a small or crowded picture that is
/// sometimes the athlete's neighbour (a 128 px photo of three women: the one beside the
/// athlete, whose box the detector and the tracker had right, on every frame). A body off the
/// athlete's box and away from the last frame's body (on the first frame, anywhere off the box)
/// is such a hop: MoveNet looks again at the same square with everything outside the box
/// blacked out, and the body that lies on the box stands, else the surer one. A body off the
/// box but where the last one was is the athlete running ahead of a box that lags, which a
/// blacked-out look would cut off.
fn look_again_in_box<S: RgbSource + ?Sized>(
    model: &mut BodyModel,
    frame: &S,
    b: &Rect,
    region: &RotatedRect,
    first: Option<(Body, BodyTurn)>,
    turn: BodyTurn,
) -> Result<Option<(Body, BodyTurn)>> {
    let masked = Masked::new(frame, &b.scaled(WINDOW_GROWTH));
    let start = first.as_ref().map_or(turn, |(_, t)| *t);
    let second = turn::find_upright(model, &masked, region, start, || false)?;
    Ok(match (first, second) {
        (Some(plain), Some(boxed)) => Some(if better_in_box(&boxed.0, &plain.0, b) { boxed } else { plain }),
        (plain, boxed) => plain.or(boxed),
    })
}

/// A body lies on a box (the athlete's, or the last body's) when its joints' box overlaps it.
fn on_box(body: &Body, b: &Rect) -> bool {
    body.bounding_box().is_some_and(|r| r.iou(b) >= BODY_BOX_IOU)
}

/// Whether `boxed` (found with only the box in view) suits the box better than `plain`.
fn better_in_box(boxed: &Body, plain: &Body, b: &Rect) -> bool {
    match (on_box(boxed, b), on_box(plain, b)) {
        (true, false) => true,
        (false, true) => false,
        _ => boxed.score() > plain.score(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::movenet::{BodyPoint, NUM_KEYPOINTS};

    /// A body whose joints spread over `r`, each scored `score`.
    fn body_over(r: Rect, score: f32) -> Body {
        let mut points = [BodyPoint::default(); NUM_KEYPOINTS];
        for (i, p) in points.iter_mut().enumerate() {
            let t = i as f32 / (NUM_KEYPOINTS - 1) as f32;
            *p = BodyPoint { x: r.x + r.w * (i % 2) as f32, y: r.y + r.h * t, score };
        }
        Body { points }
    }

    #[test]
    fn the_body_on_the_athletes_box_beats_a_surer_neighbour() {
        let athlete = Rect { x: 48.0, y: 23.0, w: 37.0, h: 81.0 };
        let neighbour = body_over(Rect { x: 92.0, y: 45.0, w: 30.0, h: 60.0 }, 0.6);
        let on_athlete = body_over(Rect { x: 52.0, y: 30.0, w: 27.0, h: 62.0 }, 0.45);
        assert!(on_box(&on_athlete, &athlete) && !on_box(&neighbour, &athlete));
        assert!(better_in_box(&on_athlete, &neighbour, &athlete));
        // Seen with the box alone, MoveNet found only the neighbour's edge: the first stands.
        assert!(!better_in_box(&neighbour, &on_athlete, &athlete));
        // Both on the box: the surer.
        let weaker = body_over(Rect { x: 50.0, y: 28.0, w: 26.0, h: 60.0 }, 0.24);
        assert!(on_box(&weaker, &athlete));
        assert!(better_in_box(&on_athlete, &weaker, &athlete));
        assert!(!better_in_box(&weaker, &on_athlete, &athlete));
    }

    #[test]
    fn a_person_is_there_when_either_model_is_sure_or_both_agree_on_a_weak_body() {
        // The landmark model sure of the body MoveNet found, however unsure MoveNet is.
        assert!(is_present(0.05, 0.9, true));
        // MoveNet sure on its own.
        assert!(is_present(0.3, 0.0, false));
        // Neither sure, but the two place the limbs alike.
        assert!(is_present(0.2, 0.25, true));
        // The same weak body without the landmark model's agreement, or too weak even with it.
        assert!(!is_present(0.2, 0.25, false));
        assert!(!is_present(0.1, 0.25, true));
        // A landmark model sure of someone else.
        assert!(!is_present(0.2, 0.99, false));
    }
}
