// SPDX-License-Identifier: MPL-2.0
//! Everyone the tracker has seen who is not the athlete. Two memories, because a bystander
//! can fool the athlete's colour model two ways:
//!
//! - **Tracks**: where each person seen beside the athlete is and where they are heading,
//!   followed from one detector run to the next. A walker who steps from shade into sunlight
//!   changes colour, but not identity: a detection that continues a bystander's track is that
//!   bystander, however much it now looks like the athlete.
//! - **Colours**: each bystander's colours, kept after their track ends, so a lookalike of
//!   someone who was never the athlete is not taken for them either. A bystander whose track
//!   accounts for another detection of the same run is there, not here: their colours rule
//!   out nobody else.

use std::collections::VecDeque;

use crate::image::RgbSource;
use crate::{Detection, Rect};

use super::appearance::ColourModel;
use super::motion::MotionModel;

/// How far (in the bystander's box sizes) a detection may be from where the bystander should
/// be now: half a box, plus a little for every frame since they were last seen, since a walker
/// can turn or stop between detector runs.
const GATE: f32 = 0.5;
const GATE_GROWTH: f32 = 0.03;
const MAX_GATE: f32 = 1.5;
/// A bystander unseen for this many frames has left (or their track can no longer say where
/// they are); only their colours are remembered then.
const FORGET_AFTER: u64 = 90;
/// A detection continues a bystander's track only at a similar size.
const SIZE_RATIO: f32 = 1.6;
/// How many departed bystanders' colours are remembered (the most recent ones).
const MAX_DEPARTED: usize = 16;
const COLOUR_RATE: f32 = 0.3;

#[derive(Debug, Clone)]
struct Bystander {
    motion: MotionModel,
    size: (f32, f32),
    last_seen: u64,
    colour: ColourModel,
}

impl Bystander {
    /// How many of this bystander's box sizes `r` lies from where they should be at `frame`,
    /// when `r` could be them; `None` when it cannot.
    fn claim(&self, r: &Rect, frame_index: u64) -> Option<f32> {
        let elapsed = frame_index.saturating_sub(self.last_seen);
        let side = self.size.0.max(self.size.1).max(1.0);
        let ratio = r.w.max(r.h) / side;
        if !(1.0 / SIZE_RATIO..=SIZE_RATIO).contains(&ratio) {
            return None;
        }
        let distance = r.center().distance(self.motion.predict(elapsed as u32)) / side;
        let gate = (GATE + GATE_GROWTH * elapsed as f32).min(MAX_GATE);
        (distance <= gate).then_some(distance)
    }
}

#[derive(Debug, Default)]
pub struct Bystanders {
    tracks: Vec<Bystander>,
    /// Colours of bystanders whose tracks ended.
    departed: VecDeque<ColourModel>,
}

impl Bystanders {
    pub fn clear(&mut self) {
        self.tracks.clear();
        self.departed.clear();
    }

    /// How closely (in box sizes) the nearest bystander's track claims `r` at `frame`; `None`
    /// when no bystander could be there.
    pub fn claim(&self, r: &Rect, frame_index: u64) -> Option<f32> {
        self.tracks.iter().filter_map(|b| b.claim(r, frame_index)).min_by(f32::total_cmp)
    }

    /// Which bystander continues in each of one detector run's `boxes`, and how closely (in
    /// their box sizes): the closest pairs first, each bystander and each box at most once.
    /// Box by box, the nearest bystander took the first box they could be (openpose at
    /// 320 px, blurred: a spectator's track, 0.5 box sizes from the dancers and 0.15 from
    /// the spectator, took the dancers and followed them from then on, so the lost athlete
    /// was a bystander wherever they were found).
    pub fn assign(&self, boxes: &[Rect], frame_index: u64) -> Vec<Option<(usize, f32)>> {
        let mut pairs: Vec<(usize, usize, f32)> = boxes
            .iter()
            .enumerate()
            .flat_map(|(i, r)| {
                self.tracks.iter().enumerate().filter_map(move |(t, b)| Some((i, t, b.claim(r, frame_index)?)))
            })
            .collect();
        pairs.sort_by(|a, b| a.2.total_cmp(&b.2));
        let mut assigned = vec![None; boxes.len()];
        let mut taken = vec![false; self.tracks.len()];
        for (i, t, distance) in pairs {
            if assigned[i].is_none() && !taken[t] {
                assigned[i] = Some((t, distance));
                taken[t] = true;
            }
        }
        assigned
    }

    /// Forgets the bystander whose track claims `r`: they were chosen as the athlete (after the
    /// one followed before was forgotten), and the athlete is nobody's lookalike.
    pub fn release(&mut self, r: &Rect, frame_index: u64) {
        let nearest = self
            .tracks
            .iter()
            .enumerate()
            .filter_map(|(i, b)| b.claim(r, frame_index).map(|d| (i, d)))
            .min_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((i, _)) = nearest {
            self.tracks.swap_remove(i);
        }
    }

    /// Whether a bystander should be within `distance` box sizes of `athlete` at `frame`.
    pub fn near(&self, athlete: &Rect, distance: f32, frame_index: u64) -> bool {
        let size = athlete.w.max(athlete.h).max(1.0);
        self.tracks.iter().any(|b| {
            let elapsed = frame_index.saturating_sub(b.last_seen) as u32;
            b.motion.predict(elapsed).distance(athlete.center()) <= distance * size
        })
    }

    /// Whether `colours` are at least as like some bystander's as `similarity`, their likeness
    /// to the athlete. Bystanders who continue in one of this run's detections (`assigned`,
    /// from [`Self::assign`]) are accounted for and not compared.
    pub fn lookalike(&self, colours: &ColourModel, similarity: f32, assigned: &[Option<(usize, f32)>]) -> bool {
        let seen = |t: usize| assigned.iter().flatten().any(|&(s, _)| s == t);
        let absent = self.tracks.iter().enumerate().filter(|&(t, _)| !seen(t)).map(|(_, b)| &b.colour);
        absent.chain(&self.departed).any(|b| colours.similarity(b) >= similarity)
    }

    /// Folds in a detector run at `frame`. Detections that continue a bystander's track move
    /// it; the others start new tracks where `admit` says they are bystanders (people beside a
    /// confirmed athlete are; a stranger while the athlete is lost may be the athlete back).
    /// Detections overlapping `athlete` are the athlete and are skipped.
    pub fn observe<S: RgbSource + ?Sized>(
        &mut self,
        src: &S,
        detections: &[Detection],
        athlete: Option<&Rect>,
        frame_index: u64,
        admit: impl Fn(&Rect) -> bool,
    ) {
        let (staying, departing) = std::mem::take(&mut self.tracks)
            .into_iter()
            .partition(|b| frame_index.saturating_sub(b.last_seen) <= FORGET_AFTER);
        self.tracks = staying;
        for b in departing {
            if self.departed.len() == MAX_DEPARTED {
                self.departed.pop_front();
            }
            self.departed.push_back(b.colour);
        }
        let others: Vec<Rect> =
            detections.iter().map(|d| d.bbox).filter(|r| !athlete.is_some_and(|a| a.iou(r) > 0.0)).collect();
        let assigned = self.assign(&others, frame_index);
        for (r, continues) in others.iter().zip(assigned) {
            let Some(seen) = ColourModel::from_frame(src, r) else { continue };
            match continues {
                Some((t, _)) => {
                    let b = &mut self.tracks[t];
                    let elapsed = frame_index.saturating_sub(b.last_seen).max(1) as u32;
                    b.motion.update(r.center(), elapsed);
                    b.size = (r.w, r.h);
                    b.last_seen = frame_index;
                    b.colour.blend(&seen, COLOUR_RATE);
                }
                None if admit(r) => {
                    let motion = MotionModel::new(r.center());
                    self.tracks.push(Bystander { motion, size: (r.w, r.h), last_seen: frame_index, colour: seen });
                }
                None => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::PackedView;

    fn grey_frame() -> Vec<u8> {
        vec![128; 320 * 240 * 3]
    }

    fn red_frame() -> Vec<u8> {
        [200, 30, 30].repeat(320 * 240)
    }

    fn person(x: f32) -> Detection {
        Detection::boxed(Rect { x, y: 80.0, w: 30.0, h: 80.0 }, 0.9)
    }

    #[test]
    fn a_walker_is_followed_between_detector_runs() {
        let data = grey_frame();
        let view = PackedView::rgb(&data, 320, 240).unwrap();
        let mut b = Bystanders::default();
        // Walking right 2 px a frame, detected every 15 frames.
        for run in 0..4u64 {
            let frame = run * 15;
            b.observe(&view, &[person(20.0 + 2.0 * frame as f32)], None, frame, |_| true);
        }
        assert_eq!(b.tracks.len(), 1);
        // 15 frames on, 30 px further: still them. Far away: someone else.
        assert!(b.claim(&person(20.0 + 2.0 * 60.0).bbox, 60).is_some());
        assert!(b.claim(&person(20.0 + 2.0 * 60.0 + 90.0).bbox, 60).is_none());
        // Half the size at the same place: not them either.
        let small = Rect { x: 140.0, y: 100.0, w: 15.0, h: 40.0 };
        assert!(b.claim(&small, 60).is_none());
    }

    #[test]
    fn a_bystander_continues_in_the_nearest_box_whatever_the_order_of_the_run() {
        let data = grey_frame();
        let view = PackedView::rgb(&data, 320, 240).unwrap();
        let mut b = Bystanders::default();
        b.observe(&view, &[person(20.0)], None, 0, |_| true);
        // Ten frames on, someone else half a box from them comes first in the run, the
        // bystander (2 px on) second: both are within the bystander's reach.
        let run = [person(60.0), person(22.0)];
        let boxes: Vec<Rect> = run.iter().map(|d| d.bbox).collect();
        assert!(b.claim(&boxes[0], 10).is_some(), "the other box must be within reach for the test to mean anything");
        let assigned = b.assign(&boxes, 10);
        assert!(assigned[0].is_none(), "{assigned:?}");
        assert_eq!(assigned[1].map(|(t, _)| t), Some(0));
        // Their track moves to the box that continues it; the other box starts its own.
        b.observe(&view, &run, None, 10, |_| true);
        assert_eq!(b.tracks.len(), 2);
        assert!((b.tracks[0].motion.position.x - 37.0).abs() < 1.0, "{:?}", b.tracks[0].motion.position);
    }

    #[test]
    fn a_bystander_chosen_as_the_athlete_is_released_and_the_others_stay() {
        let data = grey_frame();
        let view = PackedView::rgb(&data, 320, 240).unwrap();
        let mut b = Bystanders::default();
        b.observe(&view, &[person(20.0), person(200.0)], None, 0, |_| true);
        b.release(&person(22.0).bbox, 1);
        assert!(b.claim(&person(22.0).bbox, 1).is_none());
        assert!(b.claim(&person(200.0).bbox, 1).is_some());
        // Nobody there: nothing changes.
        b.release(&person(100.0).bbox, 1);
        assert_eq!(b.tracks.len(), 1);
    }

    #[test]
    fn strangers_start_tracks_only_when_admitted_and_old_tracks_end() {
        let data = grey_frame();
        let view = PackedView::rgb(&data, 320, 240).unwrap();
        let mut b = Bystanders::default();
        b.observe(&view, &[person(20.0)], None, 0, |_| false);
        assert!(b.tracks.is_empty());
        b.observe(&view, &[person(20.0), person(200.0)], Some(&person(200.0).bbox), 0, |_| true);
        assert_eq!(b.tracks.len(), 1, "the athlete is no bystander");
        b.observe(&view, &[], None, FORGET_AFTER + 1, |_| true);
        assert!(b.tracks.is_empty());
        // Their colours stay.
        assert_eq!(b.departed.len(), 1);
    }

    #[test]
    fn a_bystander_seen_elsewhere_in_the_same_run_rules_out_no_lookalike() {
        let data = red_frame();
        let view = PackedView::rgb(&data, 320, 240).unwrap();
        let colours = ColourModel::from_frame(&view, &person(20.0).bbox).unwrap();
        let mut b = Bystanders::default();
        b.observe(&view, &[person(20.0)], None, 0, |_| true);
        let run = |xs: &[f32]| b.assign(&xs.iter().map(|&x| person(x).bbox).collect::<Vec<_>>(), 1);
        // Someone dressed like them far away: the bystander, if they are not seen elsewhere...
        assert!(b.lookalike(&colours, 0.9, &run(&[250.0])));
        // ...but not while the bystander is seen where they were.
        assert!(!b.lookalike(&colours, 0.9, &run(&[250.0, 21.0])));
    }
}
