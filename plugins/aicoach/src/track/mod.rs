// SPDX-License-Identifier: MPL-2.0
/**
 * element-aicoachtrack:
 *
 * Follows one athlete through the video. It picks the athlete among the `person` boxes an
 * upstream `aicoachdetect` attaches (property `select`), then tracks them frame to frame with a
 * correlation filter and a motion model. When the filter's confidence falls below
 * `verify-threshold` it sends the custom upstream event `aicoach/redetect`, so the detector
 * runs on the next frame, and accepts a detection as the athlete only if its colours match.
 * After `lost-after` frames without confirmation the athlete is `lost`; the tracker keeps
 * asking for detections every `redetect-interval` frames and recovers the same athlete (same
 * `tracking_id`) when they reappear.
 *
 * Each frame with a track gets a `GstVideoRegionOfInterestMeta` of type `athlete` with two
 * parameter structures: `aicoach/od` (`x`, `y`, `w`, `h`, `loc_conf_lvl`, `obj_type`) and
 * `aicoach/tracking` (`tracking_id`, `tracking_first_seen`, `tracking_last_seen` (PTS),
 * `tracking_lost`, `state`: tracking, verifying or lost).
 *
 * ## Example launch line
 * ```bash
 * gst-launch-1.0 -m filesrc location=/usr/share/doc/opencv-doc/examples/data/vtest.avi ! decodebin ! \
 *     videoconvert ! aicoachdetect model=nanodet ! aicoachtrack post-messages=true ! fakesink
 * ```
 */
use gst::glib;
use gst::prelude::*;

mod imp;

glib::wrapper! {
    pub struct AiCoachTrack(ObjectSubclass<imp::AiCoachTrack>) @extends gst_video::VideoFilter, gst_base::BaseTransform, gst::Element, gst::Object;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::Element::register(Some(plugin), "aicoachtrack", gst::Rank::NONE, AiCoachTrack::static_type())
}
