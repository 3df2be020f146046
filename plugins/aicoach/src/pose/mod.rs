// SPDX-License-Identifier: MPL-2.0
/**
 * element-aicoachpose:
 *
 * Estimates the athlete's 2D keypoints on every frame with a BlazePose landmark model
 * (`model`: lite, full, or a path), looking at the region its own keypoints predicted on the
 * previous frame, or, when that drifts off the athlete, at the box an upstream `aicoachtrack`
 * (or `aicoachdetect`) attached. A frame whose athlete is `lost` gets no pose.
 *
 * The keypoints are refined over a window of `window` frames (`refine`): joints the model is
 * unsure of are corrected by their neighbours (bone lengths over the window, rigid motion of
 * each bone), then every joint is filtered over time with a filter that opens up with speed.
 * Refinement is causal unless `lookahead` is set; then each frame waits for that many later
 * frames and the element adds that many frame durations to the latency it reports.
 *
 * Results go into the buffer's `AICoachMeta` as the structure `aicoach/pose` (field `pose`):
 * one field per keypoint named as BlazePose names them (`left_shoulder`, `left_heel`, ...)
 * holding `<x, y, confidence>` in frame pixels, for keypoints at or above `min-confidence`,
 * plus `tracking_id`, `score`, `model`, `refine` and `roi_source`.
 *
 * ## Example launch line
 * ```bash
 * gst-launch-1.0 -m filesrc location=/usr/share/doc/opencv-doc/examples/data/vtest.avi ! decodebin ! \
 *     videoconvert ! aicoachdetect model=nanodet ! aicoachtrack ! aicoachpose post-messages=true ! fakesink
 * ```
 */
use gst::glib;
use gst::prelude::*;

mod imp;

glib::wrapper! {
    pub struct AiCoachPose(ObjectSubclass<imp::AiCoachPose>) @extends gst_video::VideoFilter, gst_base::BaseTransform, gst::Element, gst::Object;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::Element::register(Some(plugin), "aicoachpose", gst::Rank::NONE, AiCoachPose::static_type())
}
