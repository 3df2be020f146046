// SPDX-License-Identifier: MPL-2.0
//! Athletes sideways or upside down: a flip, a handstand, a dive, a fall. MoveNet was trained on
//! people mostly upright, and shown one upside down it often finds no body at all (the
//! development photos turned half round: PCK@0.2 89.6 -> 36.7 through the default chain). It
//! still reads which way a body lies from a crop that shows it sideways or upside down, so its
//! square is turned by the quarter turn that shows the athlete upright, and the athlete's turn
//! carries over to the next frame: through a flip, MoveNet keeps seeing them within 45 degrees
//! of upright, at the cost of a second look on the frames where the quarter changes.

use super::budget::RunBudget;
use crate::error::Result;
use crate::movenet::{Body, BodyModel};
use aicoach_vision::geometry::{RotatedRect, normalize_angle};
use aicoach_vision::image::RgbSource;
use std::f32::consts::{FRAC_PI_2, FRAC_PI_4, PI};

/// Blind searches (MoveNet found no torso, so no way the body lies, or is unsure of the body:
/// up to three more looks, half a turn round and a quarter either way) gained per second of
/// stream time...
pub const BLIND_SEARCHES_PER_SECOND: f64 = 0.5;
/// ...and held at most: a photo gets one on each of its first frames, a stream whose athlete
/// MoveNet keeps missing one in two seconds.
pub const BLIND_SEARCH_BURST: f64 = 3.0;

/// The second look stands only where MoveNet is surer of its body by this much (mean joint
/// score): a body that lies between two quarter turns would otherwise swap from frame to frame,
/// and an acrobat upside down in a handstand MoveNet read well upright scored 0.36 there
/// and 0.40 turned half round, with 6 joints fewer right.
const TURN_MARGIN: f32 = 0.05;
/// ... and by this much after a blind search: MoveNet finds a body of a kind in most squares, and
/// a jumping jack it lost at 320 px scored 0.23 upright and 0.30 upside down (the development
/// photos turned half round gained 0.1 to 0.4).
const BLIND_MARGIN: f32 = 0.1;
/// MoveNet's mean joint score under which a body it reads upright may still be an athlete upside
/// down whose limbs it took for someone standing (a footballer turned half round: 0.24, his
/// body read 15 degrees from upright).
const SURE_SCORE: f32 = 0.3;

pub fn blind_search_budget() -> RunBudget {
    RunBudget::new(BLIND_SEARCHES_PER_SECOND, BLIND_SEARCH_BURST)
}

/// The quarter turn nearest `rotation`, in (-PI, PI].
pub fn nearest_quarter(rotation: f32) -> f32 {
    let quarter = normalize_angle((normalize_angle(rotation) / FRAC_PI_2).round() * FRAC_PI_2);
    if quarter <= -PI + 1e-3 { PI } else { quarter }
}

fn same_turn(a: f32, b: f32) -> bool {
    normalize_angle(a - b).abs() < 1e-3
}

/// Whether `body`, found in a square turned by `turn`, stands within 45 degrees of upright in it.
fn upright_in(body: &Body, turn: f32) -> bool {
    body.orientation().is_some_and(|r| normalize_angle(r - turn).abs() <= FRAC_PI_4)
}

/// Which way MoveNet's square is turned for the athlete, carried from frame to frame.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BodyTurn {
    /// The quarter turn the athlete stood upright in on the last frame (0: upright).
    pub turn: f32,
    /// A quarter turn looked at and not taken on the last frame, while the body still lies that
    /// way: not looked at again (each look is a model run, and a body MoveNet reads two ways,
    /// an acrobat in a handstand, would swap with every small change of the crop).
    pub declined: Option<f32>,
}

/// The body MoveNet finds in `region` turned the athlete's way (`last`), and the way it stands
/// now. Where the body it finds lies another way, it looks again at the quarter turn that shows
/// it upright (unless it declined that turn on the last frame); where it finds no torso or is
/// unsure of the body, and `blind` allows, at the other three quarter turns. Another look
/// stands where the body is upright in it and MoveNet is surer of it by a margin.
pub fn find_upright<S: RgbSource + ?Sized>(
    model: &mut BodyModel,
    frame: &S,
    region: &RotatedRect,
    last: BodyTurn,
    blind: impl FnOnce() -> bool,
) -> Result<Option<(Body, BodyTurn)>> {
    let look = |turn: f32| model.estimate_in(frame, &RotatedRect { rotation: turn, ..*region });
    choose_turn(look, last, blind)
}

/// [`find_upright`]'s choice, `look` being MoveNet on the square turned by its argument.
fn choose_turn(
    mut look: impl FnMut(f32) -> Result<Option<Body>>,
    last: BodyTurn,
    blind: impl FnOnce() -> bool,
) -> Result<Option<(Body, BodyTurn)>> {
    let Some(first) = look(last.turn)? else { return Ok(None) };
    let stay = BodyTurn { turn: last.turn, declined: None };
    let lies = first.orientation().map(nearest_quarter);
    // No torso, or a body MoveNet is unsure of (upside down, it may see an upright stranger in
    // the limbs): the other three quarter turns, the surest body upright in its own.
    if (lies.is_none() || first.score() < SURE_SCORE) && blind() {
        let mut best = None;
        for quarters in [2.0, 1.0, -1.0] {
            let turn = nearest_quarter(last.turn + quarters * FRAC_PI_2);
            if let Some(body) = look(turn)?
                && upright_in(&body, turn)
                && body.score() >= best.as_ref().map_or(first.score() + BLIND_MARGIN, |(b, _): &(Body, f32)| b.score())
            {
                best = Some((body, turn));
            }
        }
        return Ok(Some(match best {
            Some((body, turn)) => (body, BodyTurn { turn, declined: None }),
            None => (first, stay),
        }));
    }
    let Some(again) = lies.filter(|q| !same_turn(*q, last.turn)) else { return Ok(Some((first, stay))) };
    if last.declined.is_some_and(|d| same_turn(d, again)) {
        return Ok(Some((first, last)));
    }
    Ok(Some(match look(again)? {
        Some(second) if upright_in(&second, again) && second.score() >= first.score() + TURN_MARGIN => {
            (second, BodyTurn { turn: again, declined: None })
        }
        _ => (first, BodyTurn { declined: Some(again), ..stay }),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::movenet::{BodyPoint, NUM_KEYPOINTS};

    #[test]
    fn rotations_round_to_the_nearest_quarter_turn() {
        for (rotation, quarter) in
            [(0.3, 0.0), (-0.7, 0.0), (1.0, FRAC_PI_2), (-2.0, -FRAC_PI_2), (3.0, PI), (-3.0, PI)]
        {
            assert!(same_turn(nearest_quarter(rotation), quarter), "{rotation} -> {}", nearest_quarter(rotation));
        }
        assert_eq!(nearest_quarter(-PI), PI, "one name for the half turn");
    }

    /// A body lying `rotation` radians from upright in the frame (hips at the origin), each joint
    /// scored `score`.
    fn lying(rotation: f32, score: f32) -> Body {
        let mut points = [BodyPoint { score, ..Default::default() }; NUM_KEYPOINTS];
        // Shoulders 100 px from the hips along the body's axis (up when upright).
        let (sx, sy) = (100.0 * rotation.sin(), -100.0 * rotation.cos());
        points[5] = BodyPoint { x: sx - 10.0, y: sy, score };
        points[6] = BodyPoint { x: sx + 10.0, y: sy, score };
        points[11] = BodyPoint { x: -10.0, y: 0.0, score };
        points[12] = BodyPoint { x: 10.0, y: 0.0, score };
        Body { points }
    }

    /// MoveNet on an athlete lying `athlete` radians from upright: sure of them (0.6) in a
    /// square within 45 degrees of their way, reading their way less surely (0.35) from a
    /// square a quarter off, and seeing an upright stranger (0.2) upside down. Counts the looks.
    fn movenet(athlete: f32, looks: &mut Vec<f32>) -> impl FnMut(f32) -> Result<Option<Body>> + '_ {
        move |turn| {
            looks.push(turn);
            let off = normalize_angle(athlete - turn).abs();
            Ok(Some(if off <= FRAC_PI_4 {
                lying(athlete, 0.6)
            } else if off <= 3.0 * FRAC_PI_4 {
                lying(athlete, 0.35)
            } else {
                lying(turn, 0.2)
            }))
        }
    }

    #[test]
    fn the_square_turns_the_way_the_body_lies_and_stays_there() {
        // Lying on their side, looked at upright: MoveNet reads their way, the second look at
        // a quarter turn is surer and stands.
        let mut looks = Vec::new();
        let (body, turn) = choose_turn(movenet(1.4, &mut looks), BodyTurn::default(), || false).unwrap().unwrap();
        assert!(same_turn(turn.turn, FRAC_PI_2) && turn.declined.is_none(), "{turn:?}");
        assert!((body.score() - 0.6).abs() < 1e-5 && looks.len() == 2);
        // The next frame starts there: one look.
        let mut looks = Vec::new();
        let (_, next) = choose_turn(movenet(1.5, &mut looks), turn, || false).unwrap().unwrap();
        assert_eq!((next, looks.len()), (turn, 1));
    }

    #[test]
    fn a_turn_declined_is_not_looked_at_again_while_the_body_lies_that_way() {
        // A body read as lying a quarter round, no surer there: declined, and the next frame
        // does not look again.
        fn unsure_there(looks: &mut Vec<f32>) -> impl FnMut(f32) -> Result<Option<Body>> + '_ {
            let mut inner = movenet(0.0, looks);
            move |turn| {
                let body = inner(turn)?;
                Ok(if same_turn(turn, 0.0) { Some(lying(1.2, 0.5)) } else { body })
            }
        }
        let mut looks = Vec::new();
        let (_, turn) = choose_turn(unsure_there(&mut looks), BodyTurn::default(), || false).unwrap().unwrap();
        assert!(same_turn(turn.turn, 0.0) && turn.declined.is_some_and(|d| same_turn(d, FRAC_PI_2)), "{turn:?}");
        assert_eq!(looks.len(), 2);
        let mut looks = Vec::new();
        let (_, next) = choose_turn(unsure_there(&mut looks), turn, || false).unwrap().unwrap();
        assert_eq!((next, looks.len()), (turn, 1));
    }

    #[test]
    fn an_athlete_upside_down_is_found_by_a_blind_search_only_where_one_is_allowed() {
        // Upside down and looked at upright: MoveNet sees an unsure upright stranger.
        let mut looks = Vec::new();
        let (body, turn) = choose_turn(movenet(PI, &mut looks), BodyTurn::default(), || true).unwrap().unwrap();
        assert!(same_turn(turn.turn, PI) && (body.score() - 0.6).abs() < 1e-5, "{turn:?}");
        assert_eq!(looks.len(), 4, "the three other quarter turns");
        // Without the budget's leave (an athlete seen on the last frame turns gradually), the
        // stranger stands.
        let mut looks = Vec::new();
        let (body, turn) = choose_turn(movenet(PI, &mut looks), BodyTurn::default(), || false).unwrap().unwrap();
        assert!(same_turn(turn.turn, 0.0) && (body.score() - 0.2).abs() < 1e-5 && looks.len() == 1);
        // A blind search that finds nobody surer keeps the first look.
        let mut looks = Vec::new();
        let nobody = |turn: f32| -> Result<Option<Body>> {
            looks.push(turn);
            Ok(Some(lying(turn, 0.25)))
        };
        let (body, turn) = choose_turn(nobody, BodyTurn::default(), || true).unwrap().unwrap();
        assert!(same_turn(turn.turn, 0.0) && (body.score() - 0.25).abs() < 1e-5 && looks.len() == 4);
    }

    #[test]
    fn a_body_is_upright_in_a_square_turned_its_way() {
        // Shoulders below the hips: upside down in the frame, upright in a square turned half round.
        let mut points = [BodyPoint::default(); NUM_KEYPOINTS];
        for (i, x, y) in [(5, 90.0, 200.0), (6, 110.0, 200.0), (11, 90.0, 100.0), (12, 110.0, 100.0)] {
            points[i] = BodyPoint { x, y, score: 0.9 };
        }
        let body = Body { points };
        assert!(upright_in(&body, PI) && upright_in(&body, -PI) && !upright_in(&body, 0.0));
        assert!(!upright_in(&body, FRAC_PI_2));
        points[11].score = 0.1;
        assert!(!upright_in(&Body { points }, PI), "no torso, no way it lies");
    }
}
