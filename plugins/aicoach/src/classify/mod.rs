// SPDX-License-Identifier: MPL-2.0
/**
 * element-aicoachclassify:
 *
 * Turns the athlete's keypoints (from `aicoachpose`) into coaching. Each frame's joint angles
 * (the paper's eight, plus knee and hip flexion, trunk lean, leg separation and ski crossing)
 * are judged against a sport profile (`profile`): per error a geometric rule with hysteresis
 * or a trained SVM, optionally only in a phase an SVM recognises (a ski jump's flight). The
 * video is split into attempts (`attempt-gap` seconds without the athlete end one); each
 * attempt gets its bad-pose segments, a form score and, where the profile has a model, an
 * estimated score, and each segment the nearest error-free clip of an exemplar library
 * (`exemplars`).
 *
 * The verdict goes into the buffer's `AICoachMeta` as the structure `aicoach/verdict` (field
 * `verdict`) for `aicoachoverlay` and applications. With `report-location` the element writes a
 * JSON Lines report as frames arrive: a header, one line per frame, one per attempt, and a
 * summary at the end of the stream (or when stopped before it).
 *
 * ## Example launch line
 * ```bash
 * gst-launch-1.0 filesrc location=clip.mp4 ! decodebin ! videoconvert ! aicoachdetect ! aicoachtrack ! \
 *     aicoachpose ! aicoachclassify profile=ski-jumping report-location=report.jsonl ! fakesink
 * ```
 */
use gst::glib;
use gst::prelude::*;

mod imp;

glib::wrapper! {
    pub struct AiCoachClassify(ObjectSubclass<imp::AiCoachClassify>) @extends gst_video::VideoFilter, gst_base::BaseTransform, gst::Element, gst::Object;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::Element::register(Some(plugin), "aicoachclassify", gst::Rank::NONE, AiCoachClassify::static_type())
}
