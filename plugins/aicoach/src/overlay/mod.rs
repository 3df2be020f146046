// SPDX-License-Identifier: MPL-2.0
/**
 * element-aicoachoverlay:
 *
 * Draws the analysis onto the video, in place, in the frame's own format (packed RGB
 * variants, I420, NV12; no conversion): the athlete's box and track state (from
 * `aicoachtrack`), the skeleton (from `aicoachpose`) with each limb green, or red when an error
 * flagged by `aicoachclassify` is measured on it, the error labels, the profile's angles at
 * their joints and the attempt's running form score. Anti-aliased text in DejaVu Sans Bold,
 * sized by the frame height. Each layer has a property; a frame without any of the metadata
 * passes through untouched.
 *
 * ## Example launch line
 * ```bash
 * gst-launch-1.0 filesrc location=/usr/share/doc/opencv-doc/examples/data/vtest.avi ! decodebin ! \
 *     videoconvert ! aicoachdetect model=nanodet ! aicoachtrack ! aicoachpose ! aicoachclassify ! \
 *     aicoachoverlay ! videoconvert ! autovideosink
 * ```
 */
use gst::glib;
use gst::prelude::*;

mod imp;

glib::wrapper! {
    pub struct AiCoachOverlay(ObjectSubclass<imp::AiCoachOverlay>) @extends gst_video::VideoFilter, gst_base::BaseTransform, gst::Element, gst::Object;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::Element::register(Some(plugin), "aicoachoverlay", gst::Rank::NONE, AiCoachOverlay::static_type())
}
