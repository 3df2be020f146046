// SPDX-License-Identifier: MPL-2.0
/**
 * element-aicoachdetect:
 *
 * Finds people in raw video with a person detector (NanoDet by default, joined by the pedestrian
 * SSD and by its own look at the frame turned upside down while the athlete is looked for; or
 * BlazePose's) and attaches each
 * as a `GstVideoRegionOfInterestMeta` of type `person`, with an `aicoach/od` parameter
 * structure (`x`, `y`, `w`, `h`, `loc_conf_lvl`, `obj_type`).
 *
 * It runs on the first frame, every `interval` frames (0: never again unless asked), and when a
 * downstream element sends the custom upstream event `aicoach/redetect` (as `aicoachtrack` does
 * when it loses the athlete): on the `request-delay`-th frame after the one it asked on (1: the
 * next). Other frames pass through untouched.
 *
 * ## Example launch line
 * ```bash
 * gst-launch-1.0 -m filesrc location=/usr/share/doc/opencv-doc/examples/data/vtest.avi ! decodebin ! \
 *     videoconvert ! aicoachdetect interval=10 post-messages=true ! fakesink
 * ```
 */
use gst::glib;
use gst::prelude::*;

mod imp;
mod requests;

glib::wrapper! {
    pub struct AiCoachDetect(ObjectSubclass<imp::AiCoachDetect>) @extends gst_video::VideoFilter, gst_base::BaseTransform, gst::Element, gst::Object;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::Element::register(Some(plugin), "aicoachdetect", gst::Rank::NONE, AiCoachDetect::static_type())
}
